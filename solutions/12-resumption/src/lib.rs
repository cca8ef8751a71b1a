//! Chapter 12: resumption.
//!
//! A full handshake costs a key exchange and a certificate check on both sides. A resumed
//! one skips both: the client offers a session it kept from an earlier connection, and a
//! server that still accepts it goes straight to the shared secret.
//!
//! Given: [`Visit`], [`SessionCache`], [`read_request`], [`SESSION_ID_CONTEXT`]. You write:
//! a client visit that offers a saved session and keeps the new one, a server context that
//! can resume even when it verifies clients, a server that reports resumption truthfully,
//! and a client-side session cache keyed by host name. The page's worked example (sessions
//! in the PEM files of `openssl s_client -sess_out`) lives with the tests, in
//! `tests/example/mod.rs`.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use openssl::error::ErrorStack;
use openssl::ssl::{
    HandshakeError, NameType, SslAcceptor, SslConnector, SslFiletype, SslMethod, SslSession,
    SslSessionCacheMode, SslStream, SslVerifyMode,
};

/// Names this application to OpenSSL's session handling: a server resumes only sessions
/// made under the same id context.
pub const SESSION_ID_CONTEXT: &[u8] = b"tls-workbook ch12";

/// How long a socket of this chapter waits for its peer.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The most [`read_request`] reads.
pub const MAX_REQUEST: usize = 16 * 1024;

/// What one visit to a server got.
pub struct Visit {
    /// The server's whole reply.
    pub reply: Vec<u8>,
    /// The session to offer next time.
    pub session: SslSession,
    /// Whether this connection's handshake resumed the session it offered.
    pub resumed: bool,
}

/// Sessions by host name, shared by every connection of a connector (clones share one map).
#[derive(Clone, Default)]
pub struct SessionCache {
    sessions: Arc<Mutex<HashMap<String, SslSession>>>,
}

impl SessionCache {
    pub fn new() -> SessionCache {
        SessionCache::default()
    }

    /// The newest session kept for `host`.
    pub fn get(&self, host: &str) -> Option<SslSession> {
        self.lock().get(host).cloned()
    }

    /// Keeps `session` for `host`, in place of an older one.
    pub fn insert(&self, host: &str, session: SslSession) {
        self.lock().insert(host.to_string(), session);
    }

    /// How many hosts have a session.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, SslSession>> {
        // A panic elsewhere cannot leave a map of sessions half-written: keep using it.
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Reads a request up to and including its blank line (`\r\n\r\n`), or to the end of the
/// data, at most [`MAX_REQUEST`] bytes.
pub fn read_request(stream: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        request.extend_from_slice(&buf[..n]);
        if request.len() > MAX_REQUEST {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the request is longer than {MAX_REQUEST} bytes"),
            ));
        }
    }
    Ok(request)
}

/// A TCP connection to `addr` whose reads and writes time out after [`TIMEOUT`].
pub fn connect_tcp(addr: SocketAddr) -> io::Result<TcpStream> {
    let tcp = TcpStream::connect(addr)?;
    set_timeouts(&tcp)?;
    Ok(tcp)
}

fn set_timeouts(tcp: &TcpStream) -> io::Result<()> {
    tcp.set_read_timeout(Some(TIMEOUT))?;
    tcp.set_write_timeout(Some(TIMEOUT))
}

fn handshake_error<S>(e: HandshakeError<S>) -> io::Error {
    match e {
        HandshakeError::SetupFailure(e) => io::Error::other(e),
        HandshakeError::Failure(m) | HandshakeError::WouldBlock(m) => {
            let verify = m.ssl().verify_result();
            let why = if verify == openssl::x509::X509VerifyResult::OK {
                String::new()
            } else {
                format!(" (certificate: {})", verify.error_string())
            };
            io::Error::other(format!("the handshake failed: {}{why}", m.error()))
        }
    }
}

fn ssl_error(e: openssl::ssl::Error) -> io::Error {
    e.into_io_error().unwrap_or_else(io::Error::other)
}

/// Visits the server at `addr` as `host`: offers `saved` if there is one, sends `request`,
/// reads the whole reply and ends with close_notify. Returns the reply, the session to
/// offer next time (one that really resumes, under TLS 1.2 and TLS 1.3), and whether this
/// handshake resumed: the server's answer, not the client's hope.
///
/// `saved` comes from an earlier visit with the same `connector`, or from a file.
pub fn visit(
    connector: &SslConnector,
    host: &str,
    addr: SocketAddr,
    saved: Option<&SslSession>,
    request: &[u8],
) -> io::Result<Visit> {
    let tcp = connect_tcp(addr)?;
    // BEGIN EXERCISE
    let mut ssl = connector
        .configure()
        .and_then(|c| c.into_ssl(host))
        .map_err(io::Error::other)?;
    if let Some(session) = saved {
        // SAFETY: OpenSSL's session cache and callbacks take a session to belong to the
        // context of the connection it is offered on. `saved` was made by this connector's
        // context, or read from a file (then it belongs to none).
        unsafe { ssl.set_session(session) }.map_err(io::Error::other)?;
    }
    let mut tls = ssl.connect(tcp).map_err(handshake_error)?;
    tls.write_all(request)?;
    let mut reply = Vec::new();
    tls.read_to_end(&mut reply)?;
    let resumed = tls.ssl().session_reused();
    // The reply is complete; if the peer is gone already, close_notify cannot reach it,
    // but the call still marks the connection as closed, so the session stays resumable.
    let _ = tls.shutdown();
    // Taken last: under TLS 1.3 the server's ticket came after the handshake, with the data.
    let session = tls
        .ssl()
        .session()
        .map(|s| s.to_owned())
        .ok_or_else(|| io::Error::other("the connection has no session"))?;
    Ok(Visit {
        reply,
        session,
        resumed,
    })
    // END EXERCISE
}

/// A server context for the certificate chain and key in `chain` and `key`, TLS 1.2 and
/// 1.3. With `client_ca`, it requires a client certificate that chains to it. Either way
/// its sessions can be resumed: a client that offers one gets a resumed handshake, not an
/// error.
pub fn acceptor(
    chain: &Path,
    key: &Path,
    client_ca: Option<&Path>,
) -> Result<SslAcceptor, ErrorStack> {
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())?;
    b.set_certificate_chain_file(chain)?;
    b.set_private_key_file(key, SslFiletype::PEM)?;
    if let Some(ca) = client_ca {
        b.set_ca_file(ca)?;
        b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
    }
    // BEGIN EXERCISE
    b.set_session_id_context(SESSION_ID_CONTEXT)?;
    // END EXERCISE
    Ok(b.build())
}

/// Serves one connection on `tcp`: the handshake, one request ([`read_request`]), `reply`,
/// then close_notify. Returns whether the client resumed a session.
pub fn serve_one(acceptor: &SslAcceptor, tcp: TcpStream, reply: &[u8]) -> io::Result<bool> {
    set_timeouts(&tcp)?;
    // BEGIN EXERCISE
    let mut tls = acceptor.accept(tcp).map_err(handshake_error)?;
    read_request(&mut tls)?;
    tls.write_all(reply)?;
    let resumed = tls.ssl().session_reused();
    tls.shutdown().map_err(ssl_error)?;
    Ok(resumed)
    // END EXERCISE
}

/// A client context that trusts `ca` and keeps every new session the server sends in
/// `cache`, under the host name its connection was made for.
pub fn caching_connector(ca: &Path, cache: &SessionCache) -> Result<SslConnector, ErrorStack> {
    let mut b = SslConnector::builder(SslMethod::tls_client())?;
    b.set_ca_file(ca)?;
    // BEGIN EXERCISE
    b.set_session_cache_mode(SslSessionCacheMode::CLIENT);
    let cache = cache.clone();
    b.set_new_session_callback(move |ssl, session| {
        if let Some(host) = ssl.servername(NameType::HOST_NAME) {
            cache.insert(host, session);
        }
    });
    // END EXERCISE
    Ok(b.build())
}

/// Connects to `addr` as `host` with a connector from [`caching_connector`], offering the
/// session `cache` holds for `host`, if any. Returns the stream after the handshake.
pub fn connect_cached(
    connector: &SslConnector,
    cache: &SessionCache,
    host: &str,
    addr: SocketAddr,
) -> io::Result<SslStream<TcpStream>> {
    let tcp = connect_tcp(addr)?;
    // BEGIN EXERCISE
    let mut ssl = connector
        .configure()
        .and_then(|c| c.into_ssl(host))
        .map_err(io::Error::other)?;
    if let Some(session) = cache.get(host) {
        // SAFETY: the cache is filled by this connector's own callback, so the session
        // belongs to the context it is offered on.
        unsafe { ssl.set_session(&session) }.map_err(io::Error::other)?;
    }
    ssl.connect(tcp).map_err(handshake_error)
    // END EXERCISE
}
