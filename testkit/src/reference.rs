//! In-process reference peers: a server thread and client helpers built the right way,
//! for tests where a real program cannot show what the test needs to see.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use certs::Identity;
use openssl::ssl::{
    SslAcceptor, SslConnector, SslConnectorBuilder, SslFiletype, SslMethod, SslStream,
    SslVerifyMode, SslVersion,
};
use openssl::x509::store::X509StoreBuilder;

use crate::{explain, IO_TIMEOUT};

/// A server-side context for `id` (certificate, key, intermediates), Mozilla's
/// "intermediate" settings (TLS 1.2 and 1.3).
pub fn acceptor(id: &Identity) -> SslAcceptor {
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).expect("acceptor");
    b.set_certificate(&id.cert).expect("certificate");
    for c in &id.intermediates {
        b.add_extra_chain_cert(c.clone()).expect("intermediate");
    }
    b.set_private_key(&id.key).expect("key");
    b.check_private_key().expect("key matches certificate");
    b.build()
}

/// Like [`acceptor`], and requires a client certificate that chains to `trust`.
pub fn acceptor_requiring_client(id: &Identity, trust: &Identity) -> SslAcceptor {
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).expect("acceptor");
    b.set_certificate(&id.cert).expect("certificate");
    b.set_private_key(&id.key).expect("key");
    b.cert_store_mut()
        .add_cert(trust.cert.clone())
        .expect("trust");
    b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
    b.build()
}

/// A client-side context that trusts `ca` and nothing else, refuses anything older than
/// TLS 1.2, and checks host names (`SslConnector` does that by default).
///
/// `SslConnector::builder` fills the context's store with OpenSSL's default verify paths
/// (the system's roots, or whatever `SSL_CERT_FILE` and `SSL_CERT_DIR` name); adding `ca`
/// to that store would trust it *as well*. So the store is replaced by one of our own.
pub fn connector(ca: &Identity) -> SslConnector {
    let mut b = SslConnector::builder(SslMethod::tls_client()).expect("connector");
    trust_only(&mut b, ca);
    b.build()
}

/// Replaces the store of `b` with one that holds only `ca`, and sets a minimum of TLS 1.2.
fn trust_only(b: &mut SslConnectorBuilder, ca: &Identity) {
    // ANCHOR: trust_only
    let mut store = X509StoreBuilder::new().expect("an empty store");
    store.add_cert(ca.cert.clone()).expect("trust the CA");
    b.set_cert_store(store.build());
    // ANCHOR_END: trust_only
    b.set_min_proto_version(Some(SslVersion::TLS1_2))
        .expect("minimum version");
}

/// A client context presenting `client` and trusting `ca` only.
pub fn connector_with_client_cert(ca: &Identity, client: &Identity) -> SslConnector {
    let mut b = SslConnector::builder(SslMethod::tls_client()).expect("connector");
    trust_only(&mut b, ca);
    b.set_certificate(&client.cert).expect("certificate");
    b.set_private_key(&client.key).expect("key");
    b.build()
}

/// Connects to `addr` as `host` with timeouts set; the error is a sentence.
pub fn connect(
    connector: &SslConnector,
    addr: SocketAddr,
    host: &str,
) -> Result<SslStream<TcpStream>, String> {
    let tcp = TcpStream::connect(addr).map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    tcp.set_read_timeout(Some(IO_TIMEOUT)).ok();
    tcp.set_write_timeout(Some(IO_TIMEOUT)).ok();
    connector
        .connect(host, tcp)
        .map_err(|e| explain::handshake(&e))
}

/// What the reference server saw of one connection.
pub type Log = Arc<Mutex<Vec<String>>>;

/// A TLS server on a thread, serving connections one after another until dropped.
pub struct ReferenceServer {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    log: Log,
    thread: Option<JoinHandle<()>>,
}

impl ReferenceServer {
    /// Serves each connection with `handler` after a successful handshake, then sends
    /// close_notify. Every outcome ("ok" or the reason it failed) goes into the log.
    pub fn start<F>(acceptor: SslAcceptor, handler: F) -> ReferenceServer
    where
        F: Fn(&mut SslStream<TcpStream>) -> io::Result<()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let stop = Arc::new(AtomicBool::new(false));
        let log: Log = Arc::default();
        let (stop2, log2) = (stop.clone(), log.clone());
        let thread = thread::spawn(move || {
            for tcp in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(tcp) = tcp else { continue };
                tcp.set_read_timeout(Some(IO_TIMEOUT)).ok();
                tcp.set_write_timeout(Some(IO_TIMEOUT)).ok();
                let entry = match acceptor.accept(tcp) {
                    Ok(mut s) => match handler(&mut s) {
                        Ok(()) => {
                            let _ = s.shutdown();
                            "ok".to_string()
                        }
                        Err(e) => format!("handler failed: {e}"),
                    },
                    Err(e) => explain::handshake(&e),
                };
                log2.lock().unwrap().push(entry);
            }
        });
        ReferenceServer {
            addr,
            stop,
            log,
            thread: Some(thread),
        }
    }

    /// A server that echoes every line back until the client closes.
    pub fn echo(acceptor: SslAcceptor) -> ReferenceServer {
        ReferenceServer::start(acceptor, |s| {
            let mut reader = BufReader::new(s);
            let mut line = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                reader.get_mut().write_all(line.as_bytes())?;
                reader.get_mut().flush()?;
            }
        })
    }

    /// What happened to each connection so far, in order.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for ReferenceServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept() so the thread sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, std::time::Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Loads a context's identity from files, the way a real server is configured; for tests
/// of code that takes a ready context.
pub fn acceptor_from_files(cert_chain: &std::path::Path, key: &std::path::Path) -> SslAcceptor {
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).expect("acceptor");
    b.set_certificate_chain_file(cert_chain)
        .expect("certificate chain file");
    b.set_private_key_file(key, SslFiletype::PEM)
        .expect("key file");
    b.build()
}
