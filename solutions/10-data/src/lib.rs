//! Chapter 10: data.
//!
//! After the handshake, `ssl_read` and `ssl_write` (the tutorial's `SSL_read` and
//! `SSL_write`) move the data. Each can fail in ways that are not failures: the peer ended
//! cleanly, or nothing has arrived yet. Telling those apart is the job of the error code,
//! `SSL_get_error` in C, `ssl::Error::code()` in Rust.
//!
//! Given: [`Verdict`], [`into_io`], the line protocol's [`answer`] and [`BufStream`] (the
//! tutorial's `BIO_f_buffer`). You write: [`classify`], [`send_all`], [`receive_all`] and
//! the line server [`serve_lines`]. The page's worked example, the client of the line
//! protocol, lives with the tests in `tests/example/mod.rs`.

mod buffered;

use std::io::{self, BufRead, Write};
use std::net::TcpStream;

use openssl::ssl::{self, ErrorCode, SslStream};

pub use buffered::BufStream;

/// What an `ssl_read` or `ssl_write` error means for the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// `WANT_READ` / `WANT_WRITE`: nothing moved this time. On a non-blocking socket: wait
    /// until it is ready and call again. On our blocking sockets with a timeout: the
    /// timeout expired.
    Again,
    /// `ZERO_RETURN`: the peer's close_notify. Everything it sent has arrived.
    CleanEnd,
    /// `SYSCALL` with no I/O error and nothing on OpenSSL's error stack: TCP ended without
    /// close_notify. What arrived may be cut short.
    Truncated,
    /// `SYSCALL` with an I/O error or a system error on the error stack (a reset, a broken
    /// pipe), `SSL` (a protocol error) or anything else: the connection is broken.
    Broken,
}

/// The `io::Error` for a failed `ssl_read` or `ssl_write` judged `verdict`: `Again` becomes
/// `TimedOut`, both ends become `UnexpectedEof` (an end where data was still expected), and
/// `Broken` keeps the I/O error underneath when there is one.
pub fn into_io(e: ssl::Error, verdict: Verdict) -> io::Error {
    match verdict {
        Verdict::Again => {
            io::Error::new(io::ErrorKind::TimedOut, "the peer did not answer in time")
        }
        Verdict::CleanEnd => io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the peer ended the connection (close_notify)",
        ),
        Verdict::Truncated => io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the peer closed TCP without close_notify: the data may be cut short",
        ),
        Verdict::Broken => e.into_io_error().unwrap_or_else(io::Error::other),
    }
}

/// The line protocol: the answer to one request line (given without its newline). `BYE`
/// is answered with `BYE` and ends the conversation; any other line with its length in
/// bytes and the line in capitals.
pub fn answer(request: &str) -> String {
    if request == "BYE" {
        "BYE\n".to_string()
    } else {
        format!("{} {}\n", request.len(), request.to_uppercase())
    }
}

/// Says what an error of `ssl_read` or `ssl_write` means, from its code (and, for
/// `SYSCALL`, from whether an I/O error or a system error came with it: OpenSSL 3.0 and 3.1
/// hand a failed socket call back as the I/O error, 3.2 and later put it on the error stack).
pub fn classify(e: &ssl::Error) -> Verdict {
    // BEGIN EXERCISE
    match e.code() {
        ErrorCode::WANT_READ | ErrorCode::WANT_WRITE => Verdict::Again,
        ErrorCode::ZERO_RETURN => Verdict::CleanEnd,
        ErrorCode::SYSCALL if e.io_error().is_none() && e.ssl_error().is_none() => {
            Verdict::Truncated
        }
        _ => Verdict::Broken,
    }
    // END EXERCISE
}

/// Sends all of `data` with `ssl_write`. One call writes at most one TLS record (16 KiB),
/// so it loops until every byte is written; any error, judged by [`classify`], comes back
/// as an `io::Error` (see [`into_io`]), never as `Ok`.
pub fn send_all(stream: &mut SslStream<TcpStream>, data: &[u8]) -> io::Result<()> {
    // BEGIN EXERCISE
    let mut sent = 0;
    while sent < data.len() {
        match stream.ssl_write(&data[sent..]) {
            Ok(n) => sent += n,
            Err(e) => {
                let verdict = classify(&e);
                return Err(into_io(e, verdict));
            }
        }
    }
    Ok(())
    // END EXERCISE
}

/// Reads with `ssl_read` until the peer's close_notify and returns everything read. Any
/// other end, judged by [`classify`], is an `io::Error` (see [`into_io`]): a truncated
/// transfer is never reported as delivered, and a silent peer ends in a timeout.
pub fn receive_all(stream: &mut SslStream<TcpStream>) -> io::Result<Vec<u8>> {
    // BEGIN EXERCISE
    let mut data = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match stream.ssl_read(&mut buf) {
            Ok(n) => data.extend_from_slice(&buf[..n]),
            Err(e) => match classify(&e) {
                Verdict::CleanEnd => return Ok(data),
                verdict => return Err(into_io(e, verdict)),
            },
        }
    }
    // END EXERCISE
}

/// Serves the line protocol on `stream` through a [`BufStream`]: answers each request line
/// with [`answer`], flushes before it waits for the next line, and after `BYE` flushes,
/// sends close_notify and returns how many lines it answered (`BYE` included). A client
/// that leaves without `BYE` is an `UnexpectedEof` error.
pub fn serve_lines(stream: SslStream<TcpStream>) -> io::Result<usize> {
    // BEGIN EXERCISE
    let mut conn = BufStream::new(stream);
    let mut line = String::new();
    let mut answered = 0;
    loop {
        line.clear();
        if conn.read_line(&mut line)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the client left without BYE",
            ));
        }
        let request = line.trim_end_matches(['\r', '\n']);
        conn.write_all(answer(request).as_bytes())?;
        answered += 1;
        if request == "BYE" {
            conn.flush()?;
            conn.get_mut()
                .shutdown()
                .map_err(|e| into_io(e, Verdict::Broken))?;
            return Ok(answered);
        }
        // The next read_line waits for the client only when nothing is buffered: flush
        // first, or the client waits for answers stuck in our buffer.
        if conn.buffered_input().is_empty() {
            conn.flush()?;
        }
    }
    // END EXERCISE
}
