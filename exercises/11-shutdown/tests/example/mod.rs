//! The worked examples of the chapter's page: the passive side of a close, and a client
//! context that writes a key log. They sit here, beside the tests that use them, so that
//! every snippet of the book runs; the learner's own code is in `src/lib.rs`.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Mutex;

use openssl::error::ErrorStack;
use openssl::ssl::{ErrorCode, SslConnector, SslMethod, SslStream};

/// The passive side of a close: read until the peer's close_notify arrives, then answer it
/// with ours. Returns what was read. A peer that closes TCP without close_notify is an
/// error of kind `UnexpectedEof`: there is nothing to answer.
///
/// This is the worked example of the page: it uses `ssl_read`, whose error code tells the
/// two ends apart, while the reader you write uses `Read` and the shutdown state.
// ANCHOR: answer_close
pub fn answer_close(tls: &mut SslStream<TcpStream>) -> io::Result<Vec<u8>> {
    let mut received = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match tls.ssl_read(&mut buf) {
            Ok(n) => received.extend(&buf[..n]),
            // SSL_ERROR_ZERO_RETURN: the peer's close_notify. Ours goes
            // back in one call: it returns Received at once, since theirs
            // is already in.
            Err(e) if e.code() == ErrorCode::ZERO_RETURN => {
                tls.shutdown().map_err(to_io)?;
                return Ok(received);
            }
            Err(e) if tcp_just_ended(&e) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the peer closed TCP without close_notify",
                ));
            }
            Err(e) => return Err(to_io(e)),
        }
    }
}

/// SSL_ERROR_SYSCALL with nothing behind it: no I/O error, and nothing on
/// the error stack (where OpenSSL 3.2 and later put a failed socket call).
fn tcp_just_ended(e: &openssl::ssl::Error) -> bool {
    let syscall = e.code() == ErrorCode::SYSCALL;
    syscall && e.io_error().is_none() && e.ssl_error().is_none()
}

fn to_io(e: openssl::ssl::Error) -> io::Error {
    e.into_io_error().unwrap_or_else(io::Error::other)
}
// ANCHOR_END: answer_close

/// A client context that trusts `ca` and appends every TLS secret of its connections
/// to `log` in the NSS key log format (what `SSLKEYLOGFILE` means to browsers), so that
/// Wireshark can decrypt a capture of the traffic. For debugging on your own machine only:
/// the file is the key to every recorded connection.
// ANCHOR: keylog
pub fn keylog_connector(ca: &Path, log: &Path) -> Result<SslConnector, ErrorStack> {
    let mut builder = SslConnector::builder(SslMethod::tls_client())?;
    builder.set_ca_file(ca)?;
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
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
