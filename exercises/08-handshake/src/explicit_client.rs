//! The worked example of chapter 08: an explicit client, the tutorial's `SSL_connect`. It is
//! the same in the exercise and the solution.

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use openssl::ssl::{HandshakeError, SslConnector, SslStream};

use crate::Error;

/// An explicit client, the tutorial's `SSL_connect`: when this returns `Ok`, the handshake
/// is over, the server's certificate and name are checked, and the stream is ready for
/// data. A server that says nothing within `limit` is a timeout; every other failure is a
/// handshake error.
pub fn connect(
    connector: &SslConnector,
    addr: SocketAddr,
    host: &str,
    limit: Duration,
) -> Result<SslStream<TcpStream>, Error> {
    let socket = TcpStream::connect_timeout(&addr, limit)?;
    socket.set_read_timeout(Some(limit))?;
    socket.set_write_timeout(Some(limit))?;
    connector
        .connect(host, socket)
        .map_err(|failed| match failed {
            // A read timeout in the middle of the handshake: OpenSSL says "would block".
            HandshakeError::WouldBlock(_) => Error::Timeout,
            HandshakeError::SetupFailure(stack) => Error::Setup(stack),
            HandshakeError::Failure(mid) => Error::Handshake(mid.into_error().to_string()),
        })
}
