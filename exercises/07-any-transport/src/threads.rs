//! The worked example of chapter 07: the everyday way, with blocking sockets and a thread
//! per side. It is the same in the exercise and the solution.

use std::os::unix::net::UnixStream;
use std::thread;

use openssl::ssl::{Ssl, SslStream};

use crate::Error;

/// The everyday way, for comparison: blocking sockets and one thread per side. Each
/// `connect` or `accept` waits inside its read for the other thread to write, so there are
/// no turns to count and no `WouldBlock` to handle.
pub fn handshake_on_threads(
    client: Ssl,
    server: Ssl,
) -> Result<(SslStream<UnixStream>, SslStream<UnixStream>), Error> {
    let (near, far) = UnixStream::pair()?;
    thread::scope(|scope| {
        let serving = scope.spawn(move || server.accept(far).map_err(|e| e.to_string()));
        let connected = client.connect(near).map_err(|e| e.to_string());
        let served = serving.join().map_err(|_| "the server thread panicked")?;
        Ok((connected?, served?))
    })
}
