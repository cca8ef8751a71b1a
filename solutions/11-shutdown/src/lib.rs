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
    match stream.shutdown() {
        Ok(_) => Ok(()),
        Err(e) => Err(e.into_io_error().unwrap_or_else(io::Error::other)),
    }
    // END EXERCISE
}

/// Ends the connection both ways: sends close_notify, then waits for the peer's
/// close_notify (a second `shutdown()`, which returns `Received`). Afterwards
/// `get_shutdown()` holds both `SENT` and `RECEIVED`. A peer that closes TCP instead of
/// answering, or does not answer in time, is an error.
pub fn close_two_way(stream: &mut SslStream<TcpStream>) -> io::Result<()> {
    // BEGIN EXERCISE
    let io_err = |e: openssl::ssl::Error| e.into_io_error().unwrap_or_else(io::Error::other);
    if stream.shutdown().map_err(io_err)? == ShutdownResult::Received {
        return Ok(());
    }
    match stream.shutdown().map_err(io_err)? {
        ShutdownResult::Received => Ok(()),
        ShutdownResult::Sent => Err(io::Error::other("the peer's close_notify did not arrive")),
    }
    // END EXERCISE
}

/// Reads everything the peer sends, through `Read`, and says how it ended: `Clean` only if
/// the peer's close_notify arrived, `Truncated` if TCP closed without one. Every byte read
/// is returned either way; other failures (a reset, a timeout) are errors.
pub fn read_to_close(stream: &mut SslStream<TcpStream>) -> io::Result<Received> {
    // BEGIN EXERCISE
    let mut data = Vec::new();
    stream.read_to_end(&mut data)?;
    // Ok(0) came both for a close_notify and for a bare TCP close: only the shutdown
    // state (SSL_get_shutdown) tells them apart.
    let ending = if stream.get_shutdown().contains(ShutdownState::RECEIVED) {
        Ending::Clean
    } else {
        Ending::Truncated
    };
    Ok(Received { data, ending })
    // END EXERCISE
}
