//! Chapter 14: ownership, or finishing the program.
//!
//! In C every `_new` has its `_free`, and the program must call each one once, in the right
//! order, after the last use. In Rust the `_free` is `Drop`: it runs when the owner goes
//! away. What is left to you is the shape of the program: which value owns what, and so
//! what outlives what. A context is built once and shared by every thread; a connection is
//! closed (close_notify) before it is dropped; a session and a peer certificate that must
//! outlive their connection are taken as counted references of their own.
//!
//! Given: [`build_acceptor`], [`echo_line`], [`open`] and [`Visit`]. You write: a server
//! that shares one context among its threads ([`serve`]), the life of one server connection
//! ([`serve_connection`]), and a client visit that keeps what the next visit needs
//! ([`visit`]). The page's worked example (what a server connection leaves behind when it
//! is dropped) lives with the tests, in `tests/example/mod.rs`.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use openssl::error::ErrorStack;
use openssl::ssl::{SslAcceptor, SslConnector, SslFiletype, SslMethod, SslSession, SslStream};
use openssl::x509::X509;

/// The host name the client asks for and checks in the server's certificate.
pub const HOST: &str = "localhost";

/// How long a socket may wait for its peer, in either direction.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Builds a server context from a certificate chain file and its key, with Mozilla's
/// "intermediate" settings (TLS 1.2 and 1.3). This is the costly part of a server's
/// start: it reads and parses both files, checks that the key matches, and makes fresh
/// keys for the session tickets it will issue. A session ticket is encrypted with this
/// context's keys, so only this context can accept it back.
pub fn build_acceptor(cert_chain: &Path, key: &Path) -> Result<SslAcceptor, ErrorStack> {
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())?;
    b.set_certificate_chain_file(cert_chain)?;
    b.set_private_key_file(key, SslFiletype::PEM)?;
    b.check_private_key()?;
    Ok(b.build())
}

/// The work of one server connection: reads one line from the client and writes it back.
pub fn echo_line(stream: &mut SslStream<TcpStream>) -> io::Result<()> {
    let mut line = Vec::new();
    BufReader::new(&mut *stream).read_until(b'\n', &mut line)?;
    stream.write_all(&line)?;
    stream.flush()
}

/// Opens a client connection to `addr` as [`HOST`], with read and write timeouts, and
/// offers `offer` for resumption when there is one (the tutorial's `SSL_set_session`;
/// chapter 12 is about it). Returns the stream after the handshake.
pub fn open(
    connector: &SslConnector,
    addr: SocketAddr,
    offer: Option<&SslSession>,
) -> io::Result<SslStream<TcpStream>> {
    let tcp = TcpStream::connect(addr)?;
    tcp.set_read_timeout(Some(IO_TIMEOUT))?;
    tcp.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut config = connector.configure().map_err(io::Error::other)?;
    if let Some(session) = offer {
        // SAFETY: set_session is unsafe because a session must be offered only through the
        // context it came from (or one with the same settings). Every session here comes
        // from a connection made with this same connector.
        unsafe { config.set_session(session) }.map_err(io::Error::other)?;
    }
    config.connect(HOST, tcp).map_err(|e| match e {
        openssl::ssl::HandshakeError::Failure(m) => io::Error::other(m.into_error()),
        other => io::Error::other(other.to_string()),
    })
}

/// What a client keeps of one finished visit. Every field owns what it holds: the
/// connection it came from is gone.
pub struct Visit {
    /// What the server sent back.
    pub reply: Vec<u8>,
    /// Whether this visit resumed the session it offered.
    pub resumed: bool,
    /// The session to offer on the next visit.
    pub session: SslSession,
    /// The server's own certificate (the first of the chain it sent).
    pub server_cert: X509,
}

fn to_io(e: openssl::ssl::Error) -> io::Error {
    e.into_io_error().unwrap_or_else(io::Error::other)
}

/// Serves `connections` connections from `listener` on `threads` threads at once, every
/// thread with the same context, built once from `cert_chain` and `key` with
/// [`build_acceptor`]. Each connection goes through [`serve_connection`]; one that fails
/// does not stop the others. Returns, once all have been taken, how many were served
/// completely.
pub fn serve(
    listener: TcpListener,
    cert_chain: &Path,
    key: &Path,
    threads: usize,
    connections: usize,
) -> io::Result<usize> {
    // BEGIN EXERCISE
    // One context for the whole server. The scoped threads borrow it: an SslAcceptor is
    // Sync, so &SslAcceptor may cross to other threads, and the scope ends before it drops.
    let acceptor = build_acceptor(cert_chain, key).map_err(io::Error::other)?;
    let taken = AtomicUsize::new(0);
    let served = AtomicUsize::new(0);
    thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while taken.fetch_add(1, Ordering::SeqCst) < connections {
                    let Ok((tcp, _)) = listener.accept() else {
                        continue;
                    };
                    if serve_connection(&acceptor, tcp).is_ok() {
                        served.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
        }
    });
    Ok(served.into_inner())
    // END EXERCISE
}

/// The life of one server connection: timeouts on the socket, the handshake with
/// `acceptor`, [`echo_line`], then close_notify (`shutdown()`) before the stream is
/// dropped, so the client knows the reply is complete. Nothing of the connection is kept
/// once this returns.
pub fn serve_connection(acceptor: &SslAcceptor, tcp: TcpStream) -> io::Result<()> {
    // BEGIN EXERCISE
    tcp.set_read_timeout(Some(IO_TIMEOUT))?;
    tcp.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut stream = acceptor
        .accept(tcp)
        .map_err(|e| io::Error::other(e.to_string()))?;
    echo_line(&mut stream)?;
    stream.shutdown().map_err(to_io)?;
    Ok(())
    // END EXERCISE
}

/// One client visit: [`open`] a connection (offering `offer`), send `line`, read the reply
/// until the server's close_notify, close our side (close_notify), and keep what outlives
/// the connection: the session, resumable on the next visit, and the server's certificate.
pub fn visit(
    connector: &SslConnector,
    addr: SocketAddr,
    line: &[u8],
    offer: Option<&SslSession>,
) -> io::Result<Visit> {
    // BEGIN EXERCISE
    let mut stream = open(connector, addr, offer)?;
    stream.write_all(line)?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply)?;
    // Under TLS 1.3 the session ticket came in with the data just read; and shutdown()
    // before the drop keeps the session resumable.
    stream.shutdown().map_err(to_io)?;
    let ssl = stream.ssl();
    let session = ssl
        .session()
        .map(|s| s.to_owned())
        .ok_or_else(|| io::Error::other("the connection has no session"))?;
    let server_cert = ssl
        .peer_cert_chain()
        .and_then(|chain| chain.get(0))
        .map(|c| c.to_owned())
        .ok_or_else(|| io::Error::other("the server sent no certificate"))?;
    Ok(Visit {
        reply,
        resumed: ssl.session_reused(),
        session,
        server_cert,
    })
    // END EXERCISE
}
