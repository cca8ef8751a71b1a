//! Chapter 08: the handshake, two ways. Explicitly, with a call that returns when the
//! handshake is over (`SSL_accept` / `SSL_connect`; `Ssl::accept` / `Ssl::connect` here).
//! Lazily, by telling a connection which side it is (`SSL_set_accept_state` /
//! `SSL_set_connect_state`) and letting the first read or write do the handshake. And the
//! part the tutorial leaves out: a peer that never speaks, or speaks something that is not
//! TLS, must cost the server a bounded time and an error, and the next client is served.
//!
//! Fill in the marked places.

use std::fmt;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use openssl::error::ErrorStack;
use openssl::ssl::{HandshakeError, Ssl, SslAcceptor, SslConnector, SslStream};

mod explicit_client;
pub use explicit_client::connect;

/// What a handshake can end in, besides success.
#[derive(Debug)]
pub enum Error {
    /// The peer did not say enough within the timeout: the socket's read timeout expired
    /// in the middle of the handshake.
    Timeout,
    /// The handshake failed: the peer sent something that is not TLS, refused our
    /// certificate, closed the connection, ... The text says which.
    Handshake(String),
    /// The connection could not even be set up.
    Setup(ErrorStack),
    /// The socket failed outside the handshake.
    Io(io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Timeout => write!(f, "the peer did not complete the handshake in time"),
            Error::Handshake(why) => write!(f, "the handshake failed: {why}"),
            Error::Setup(e) => write!(f, "could not set up the connection: {e}"),
            Error::Io(e) => write!(f, "the connection failed: {e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        Error::Io(e)
    }
}

impl From<ErrorStack> for Error {
    fn from(e: ErrorStack) -> Error {
        Error::Setup(e)
    }
}

/// The line the server of [`serve`] sends to every client whose handshake succeeded.
pub const GREETING: &[u8] = b"hello from the chapter 08 server\n";

/// An explicit handshake on the server side: returns once the handshake is over.
///
/// The socket gets `timeout` for reads and writes first. A client that says nothing then
/// makes the handshake stop with `HandshakeError::WouldBlock` (that is how a read timeout
/// looks to OpenSSL: "no data yet"); that must come back as [`Error::Timeout`], not as a
/// failure and never as a hang. Any other failed handshake (HTTP instead of a ClientHello,
/// random bytes, a refused certificate) is [`Error::Handshake`] with the reason; nothing
/// panics.
///
/// C: `SSL_new`, `SSL_set_fd`, `SSL_accept`.
pub fn accept(
    acceptor: &SslAcceptor,
    tcp: TcpStream,
    timeout: Duration,
) -> Result<SslStream<TcpStream>, Error> {
    // BEGIN EXERCISE
    todo!(
        "ch08: give `tcp` the read and write `timeout` before anything else, so that a client \
         who says nothing cannot hold the server; make one connection from the acceptor's \
         settings and run the server handshake to the end. A read timeout is reported by \
         OpenSSL as \"would block\", not as a timeout: make it Error::Timeout; a failed \
         handshake is Error::Handshake with the reason in words, a failure before it began \
         Error::Setup; never unwrap"
    )
    // END EXERCISE
}

/// A lazy server: a TLS stream that has NOT handshaken yet. It only knows it is the server
/// side; its first read (or write) runs the handshake, and a failed handshake then comes
/// back as that read's error. The socket gets `timeout` for reads and writes, so that first
/// read cannot wait forever either.
///
/// C: `SSL_new`, `SSL_set_fd`, `SSL_set_accept_state`, and then simply `SSL_read`.
pub fn accept_lazily(
    acceptor: &SslAcceptor,
    tcp: TcpStream,
    timeout: Duration,
) -> Result<SslStream<TcpStream>, Error> {
    // BEGIN EXERCISE
    todo!(
        "ch08: give `tcp` the read and write `timeout`, make one connection from the \
         acceptor's settings, tell it it is the server and wrap it in a stream, WITHOUT a \
         handshake: the first read runs it"
    )
    // END EXERCISE
}

/// A lazy client for the server `host` at `addr`: connected by TCP, not yet by TLS. Its
/// first write (or read) runs the handshake. It checks the server's certificate and name
/// exactly as an explicit client of `connector` would, and sends the name (SNI); the socket
/// gets `timeout` for reads and writes, so a server that never answers makes that first
/// write fail instead of hang.
///
/// C: `connect`, `SSL_new`, `SSL_set_tlsext_host_name`, `SSL_set1_host`, `SSL_set_fd`,
/// `SSL_set_connect_state`, and then simply `SSL_write`.
pub fn connect_lazily(
    connector: &SslConnector,
    addr: SocketAddr,
    host: &str,
    timeout: Duration,
) -> Result<SslStream<TcpStream>, Error> {
    // BEGIN EXERCISE
    todo!(
        "ch08: connect to `addr` within `timeout` and give the socket the same read and write \
         timeout; make a connection for `host` from the connector's settings, so that the \
         name is sent and checked; tell it it is the client and wrap it in a stream, WITHOUT \
         a handshake: the first read or write runs it"
    )
    // END EXERCISE
}

/// Serves `clients` connections from `listener`, one after the other: an explicit
/// handshake with [`accept`] and `timeout`, then [`GREETING`] and a close_notify. Returns
/// what happened to each, in order. A client that stalls or sends garbage gets its error in
/// the list, and the server goes on with the next one: one bad client must not stop the
/// server.
pub fn serve(
    listener: &TcpListener,
    acceptor: &SslAcceptor,
    clients: usize,
    timeout: Duration,
) -> Vec<Result<(), Error>> {
    let mut outcomes = Vec::new();
    // BEGIN EXERCISE
    todo!(
        "ch08: serve `clients` connections one after the other: accept each, run your \
         accept() with `timeout`, then send GREETING so that it has left the buffer and say \
         goodbye with close_notify. Push each outcome, Ok or the error, and go on with the \
         next client even when one fails: one bad client must not stop the others"
    );
    // END EXERCISE
    outcomes
}
