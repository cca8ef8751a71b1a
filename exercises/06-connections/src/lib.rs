//! Chapter 06: from a socket to a TLS connection. A server that binds, accepts, writes down
//! who connected and hands each socket to TLS; a client that connects. Both make one
//! connection object (`SSL_new` in C, `Ssl::new` here) from a context and then change
//! settings on that one connection only: the context, and every other connection made from
//! it, keep theirs.
//!
//! Fill in the marked places.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use openssl::error::ErrorStack;
use openssl::pkey::{PKey, Private};
use openssl::ssl::{
    Ssl, SslAcceptor, SslAcceptorBuilder, SslContext, SslContextBuilder, SslMethod, SslRef,
    SslStream, SslVerifyMode, SslVersion,
};
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::X509;

mod connector_client;
pub use connector_client::connect_with_connector;

/// Any error, boxed: socket errors, OpenSSL errors and failed handshakes alike.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// How long a server waits for a client to speak, and a client for a server, unless told.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// What one special connection gets that the others do not: an identity of its own (a
/// certificate, its intermediates, its key) and a demand for a client certificate issued by
/// `client_ca`.
pub struct Special {
    pub cert: X509,
    pub chain: Vec<X509>,
    pub key: PKey<Private>,
    /// The only root the special connection trusts for client certificates.
    pub client_ca: X509,
}

/// One accepted connection: who it came from, and the TLS stream after the handshake.
pub struct Accepted {
    pub peer: SocketAddr,
    pub stream: SslStream<TcpStream>,
}

/// A TLS server: a listening socket, one context for every connection, and a log.
pub struct Server {
    listener: TcpListener,
    acceptor: SslAcceptor,
    special: Special,
    log: Mutex<Vec<String>>,
    /// How long [`Server::accept`] waits for a client that says nothing.
    pub timeout: Duration,
}

impl Server {
    /// Binds a listening socket to `addr` (the tests use `"127.0.0.1:0"`: loopback, and a
    /// port the kernel picks) and makes the context every connection starts from out of
    /// `builder`. `special` is kept for the connections that [`Server::accept`] is asked to
    /// make special; it must not change any other connection.
    ///
    /// C: `socket`, `bind`, `listen` (Rust's `TcpListener::bind` does all three), and
    /// `SSL_CTX_new` with its settings, which `builder` already holds.
    pub fn bind(addr: &str, builder: SslAcceptorBuilder, special: Special) -> io::Result<Server> {
        // BEGIN EXERCISE
        let (listener, acceptor): (TcpListener, SslAcceptor) = todo!(
            "ch06: listen on `addr` and build, out of `builder`, the context every connection \
             starts from; `special` is for one connection at a time, so it does not go into \
             the context"
        );
        // END EXERCISE
        Ok(Server {
            listener,
            acceptor,
            special,
            log: Mutex::default(),
            timeout: TIMEOUT,
        })
    }

    /// The address the server listens on, for clients.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Writes one line into the server's log.
    pub fn note(&self, line: String) {
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line);
    }

    /// Every line logged so far, oldest first.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Accepts the next client and hands its socket to TLS.
    ///
    /// Before anything else, logs `connection from ADDRESS` with the client's address (the
    /// other end of the socket, not our own), so that a client whose handshake fails is in
    /// the log too. The socket gets [`Server::timeout`] for reads and writes: a client that
    /// says nothing must not hold the server forever. Then one connection object is made from
    /// the server's context; when `special` is true, [`make_special`] changes that connection
    /// (and only that one) before the handshake. A failed handshake is an `Err`, never a panic.
    ///
    /// C: `accept`, `SSL_new`, `SSL_set_fd`, `SSL_accept`.
    pub fn accept(&self, special: bool) -> Result<Accepted, Error> {
        // BEGIN EXERCISE
        todo!(
            "ch06: accept the next client and log `connection from ADDRESS` before the \
             handshake, so that clients who fail it are seen; give the socket self.timeout \
             for reads and writes, so that a client who says nothing cannot hold the server; \
             make one connection from the server's shared context, make it special when \
             `special` is true, and run the server handshake; a failed handshake is an Err, \
             never a panic"
        )
        // END EXERCISE
    }
}

/// Makes one server-side connection special, before its handshake: it presents
/// `special`'s certificate with its intermediates and key instead of the context's, and it
/// requires a client certificate that chains to `special.client_ca`: a client without one,
/// or with one from another CA, is refused.
///
/// C: `SSL_use_certificate`, `SSL_use_PrivateKey`, `SSL_add0_chain_cert`,
/// `SSL_set0_verify_cert_store`, `SSL_set_verify(ssl, SSL_VERIFY_PEER |
/// SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL)`.
pub fn make_special(ssl: &mut SslRef, special: &Special) -> Result<(), ErrorStack> {
    // BEGIN EXERCISE
    todo!(
        "ch06: give this one connection its own identity (certificate, key, intermediates) \
         and demand a client certificate signed by `special.client_ca`, refusing a client \
         that sends none. Set it on the connection, not on the context: every other \
         connection must keep the usual identity and ask for nothing"
    );
    // END EXERCISE
    Ok(())
}

/// The client context every connection of [`connect`] starts from: TLS 1.2 or newer, and
/// the one root in `ca_file` as its trust store (no system roots). It verifies servers
/// (`SSL_VERIFY_PEER`), but it names no host: a context serves every host the client talks
/// to, so the name is a setting of each connection.
pub fn client_context(ca_file: &Path) -> Result<SslContext, ErrorStack> {
    let mut builder = SslContextBuilder::new(SslMethod::tls_client())?;
    builder.set_min_proto_version(Some(SslVersion::TLS1_2))?;
    builder.set_ca_file(ca_file)?;
    builder.set_verify(SslVerifyMode::PEER);
    Ok(builder.build())
}

/// Connects to `addr` and makes a TLS connection to the server `host`, from the shared
/// context `ctx`.
///
/// The socket gets `timeout` for connecting, reading and writing. The connection object is
/// made from `ctx` and given the host name twice, as two different settings of this one
/// connection: in the ClientHello (SNI), so that the server can pick the certificate for
/// that name, and as the name the server's certificate must carry. A certificate for another
/// name, or one the context's root did not sign, is refused.
///
/// C: `socket`, `connect`, `SSL_new`, `SSL_set_tlsext_host_name`, `SSL_set1_host`,
/// `SSL_set_fd`, `SSL_connect`.
pub fn connect(
    ctx: &SslContext,
    addr: SocketAddr,
    host: &str,
    timeout: Duration,
) -> Result<SslStream<TcpStream>, Error> {
    // BEGIN EXERCISE
    todo!(
        "ch06: connect to `addr` with `timeout` for connecting, reading and writing, so that \
         a silent server ends in an error; make one connection from `ctx` and give it the \
         host name twice: once to send it (SNI, so the server can pick its certificate) and \
         once to check the server's certificate against it; then run the client handshake"
    )
    // END EXERCISE
}
