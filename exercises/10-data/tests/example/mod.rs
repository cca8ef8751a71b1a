//! The worked example of the chapter's page: the client side of the line protocol. It sits
//! here, beside the tests that use it, so that every snippet of the book runs; the
//! learner's own code is in `src/lib.rs`.

use std::io::{self, BufRead, Write};
use std::net::TcpStream;

use ch10_data::BufStream;
use openssl::ssl::SslStream;

/// Asks one question of a line server and returns its answer line (without the newline).
// ANCHOR: ask
pub fn ask(conn: &mut BufStream<SslStream<TcpStream>>, question: &str) -> io::Result<String> {
    // Into the write buffer: nothing is sent yet (BIO_puts on a buffer BIO).
    conn.write_all(question.as_bytes())?;
    conn.write_all(b"\n")?;
    // Now it goes out, as one TLS record (BIO_flush). Forget this, and both sides wait.
    conn.flush()?;
    // One line back (BIO_gets). Ok(0) bytes means the server ended the connection.
    let mut answer = String::new();
    if conn.read_line(&mut answer)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the server ended the connection before it answered",
        ));
    }
    Ok(answer.trim_end_matches('\n').to_string())
}
// ANCHOR_END: ask
