//! Chapter 11: shutdown.
//!
//! A TLS connection ends with a close_notify alert in each direction. Sending yours says "I
//! have nothing more to send, and everything I sent arrived whole". Receiving the peer's is
//! the only proof that the data you read is all the data there was: a TCP close alone can be
//! forged by anyone on the path.
//!
//! Given: [`Ending`], [`Received`], the passive side of a close ([`answer_close`]) and a
//! connector that writes a key log ([`keylog_connector`]). You write: a one-way close, a
//! two-way close, and a reader that tells a clean end from a truncated one.

use std::fs::OpenOptions;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Mutex;

use openssl::error::ErrorStack;
use openssl::ssl::{
    ErrorCode, ShutdownResult, ShutdownState, SslConnector, SslMethod, SslStream,
};

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

/// The passive side of a close: read until the peer's close_notify arrives, then answer it
/// with ours. Returns what was read. A peer that closes TCP without close_notify is an
/// error of kind `UnexpectedEof`: there is nothing to answer.
///
/// This is the worked example of the page: it uses `ssl_read`, whose error code tells the
/// two ends apart, while the reader you write uses `Read` and the shutdown state.
// ANCHOR: answer_close
pub fn answer_close(stream: &mut SslStream<TcpStream>) -> io::Result<Vec<u8>> {
    let mut data = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match stream.ssl_read(&mut buf) {
            Ok(n) => data.extend_from_slice(&buf[..n]),
            // SSL_ERROR_ZERO_RETURN: the peer's close_notify. Ours goes back in one call:
            // it returns Received at once, since theirs is already in.
            Err(e) if e.code() == ErrorCode::ZERO_RETURN => {
                return match stream.shutdown() {
                    Ok(_) => Ok(data),
                    Err(e) => Err(e.into_io_error().unwrap_or_else(io::Error::other)),
                };
            }
            // SSL_ERROR_SYSCALL and no I/O error: TCP ended, no close_notify came.
            Err(e) if e.code() == ErrorCode::SYSCALL && e.io_error().is_none() => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the peer closed TCP without close_notify",
                ));
            }
            Err(e) => return Err(e.into_io_error().unwrap_or_else(io::Error::other)),
        }
    }
}
// ANCHOR_END: answer_close

/// A client context that trusts `ca_file` and appends every TLS secret of its connections
/// to `keylog` in the NSS key log format (what `SSLKEYLOGFILE` means to browsers), so that
/// Wireshark can decrypt a capture of the traffic. For debugging on your own machine only:
/// the file is the key to every recorded connection.
// ANCHOR: keylog
pub fn keylog_connector(ca_file: &Path, keylog: &Path) -> Result<SslConnector, ErrorStack> {
    let mut builder = SslConnector::builder(SslMethod::tls_client())?;
    builder.set_ca_file(ca_file)?;
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(keylog)
        .map_err(|_| ErrorStack::get())?;
    let file = Mutex::new(file);
    // OpenSSL calls this with one line, without its newline, for each secret.
    builder.set_keylog_callback(move |_ssl, line| {
        if let Ok(mut f) = file.lock() {
            let _ = writeln!(f, "{line}");
        }
    });
    Ok(builder.build())
}
// ANCHOR_END: keylog

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
