//! Chapter 11: shutdown.
//!
//! A TLS connection ends with a close_notify alert in each direction. Sending yours says "I
//! have nothing more to send, and everything I sent arrived whole". Receiving the peer's is
//! the only proof that the data you read is all the data there was: a TCP close alone can be
//! forged by anyone on the path.
//!
//! Given: [`Ending`] and [`Received`]. You write: a one-way close, a two-way close, and a
//! reader that tells a clean end from a truncated one. The page's worked examples (the
//! passive side of a close, and a connector that writes a key log) live with the tests, in
//! `tests/example/mod.rs`, and the tests use them.

use std::io::{self, Read};
use std::net::TcpStream;

use openssl::ssl::{ShutdownResult, ShutdownState, SslStream};

/// How the peer's data ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The peer sent close_notify: everything it sent has arrived.
    Clean,
    /// The TCP connection closed without a close_notify: the data may be cut short, by the
    /// peer crashing or by someone on the path.
    Truncated,
}

/// What a reader got, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub data: Vec<u8>,
    pub ending: Ending,
}

/// Ends our side of the connection: sends close_notify (one `shutdown()`, which returns
/// `Sent`) and drops the stream without waiting for the peer's answer. The peer sees the
/// close_notify, so it knows our data is complete.
pub fn close_one_way(mut stream: SslStream<TcpStream>) -> io::Result<()> {
    // BEGIN EXERCISE
    todo!("ch11: send close_notify once, then let the stream go without waiting for the peer's answer. Dropping the stream alone closes TCP and sends nothing, so the peer cannot tell your end from a cut connection")
    // END EXERCISE
}

/// Ends the connection both ways: sends close_notify, then waits for the peer's
/// close_notify (a second `shutdown()`, which returns `Received`). Afterwards
/// `get_shutdown()` holds both `SENT` and `RECEIVED`. A peer that closes TCP instead of
/// answering, or does not answer in time, is an error.
pub fn close_two_way(stream: &mut SslStream<TcpStream>) -> io::Result<()> {
    // BEGIN EXERCISE
    todo!("ch11: send your close_notify, then wait for the peer's: the connection is closed both ways only once the peer's close_notify has arrived. A peer that never answers, or closes TCP instead, must come back as an error, never as Ok")
    // END EXERCISE
}

/// Reads everything the peer sends, through `Read`, and says how it ended: `Clean` only if
/// the peer's close_notify arrived, `Truncated` if TCP closed without one. Every byte read
/// is returned either way; other failures (a reset, a timeout) are errors.
pub fn read_to_close(stream: &mut SslStream<TcpStream>) -> io::Result<Received> {
    // BEGIN EXERCISE
    todo!("ch11: read everything the peer sends, then find out how it ended: the end of the stream looks the same after the peer's close_notify and after a bare TCP close, which is a truncation. Ask the connection whether the peer's close_notify arrived")
    // END EXERCISE
}
