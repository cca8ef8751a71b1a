//! Chapter 14: what outlives a connection, graded by real peers (`openssl s_server -www`,
//! which says on its status page whether it resumed a session, and `openssl s_client
//! -sess_out` / `-sess_in`) and by in-process clients where eight must talk at once; and
//! hundreds of connections in a row in bounded memory (`memory/`, measured in a child).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::panic::resume_unwind;
use std::sync::{Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use certs::Files;
mod example;
mod memory;

use ch14_ownership::{open, serve, visit, Visit};
use example::{same_object, serve_and_keep};
use openssl::nid::Nid;
use openssl::ssl::{ShutdownState, SslConnector, SslMethod, SslSession, SslVersion};
use openssl::x509::X509Ref;
use testkit::peers::{self, SServer};
use testkit::IO_TIMEOUT;

// No verdict here depends on the CAs this machine trusts (see the macro).
testkit::no_system_trust!();

/// How long the learner's server may take for the few connections of a test.
const SERVE_LIMIT: Duration = Duration::from_secs(10);
/// How long eight clients wait for each other after their handshakes.
const GATHER: Duration = Duration::from_secs(3);
/// How long s_client may take to end by itself.
const PEER_EXIT: Duration = Duration::from_secs(5);
/// What s_server -www is asked for.
const GET: &[u8] = b"GET / HTTP/1.0\r\n\r\n";

fn connector(files: &Files, max: SslVersion) -> SslConnector {
    let mut b = SslConnector::builder(SslMethod::tls_client()).expect("connector");
    b.set_ca_file(files.path("ca.crt")).expect("CA file");
    b.set_max_proto_version(Some(max)).expect("version");
    b.build()
}

/// The learner's `serve` on its own thread, with a listener of its own.
struct Serving(JoinHandle<io::Result<usize>>);

fn start_serving(files: &Files, threads: usize, connections: usize) -> (SocketAddr, Serving) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    let (chain, key) = (files.path("server.chain.crt"), files.path("server.key"));
    let handle = thread::spawn(move || {
        testkit::within(SERVE_LIMIT, "serve", move || {
            serve(listener, &chain, &key, threads, connections)
        })
    });
    (addr, Serving(handle))
}

impl Serving {
    /// Waits for `serve` to return; a panic in it (a todo!(), a hang) is this test's panic.
    fn finish(self) -> io::Result<usize> {
        match self.0.join() {
            Ok(r) => r,
            Err(payload) => resume_unwind(payload),
        }
    }
}

/// What a test client saw of one connection to the learner's server.
struct Saw {
    handshake_at_once: bool,
    reply: Vec<u8>,
    close_notify: bool,
    resumed: bool,
    session: Option<SslSession>,
}

/// One test client: handshake (offering `offer`), wait at `gate` if there is one, send a
/// line, read to the end, and close.
fn client(
    c: &SslConnector,
    addr: SocketAddr,
    offer: Option<&SslSession>,
    gate: Option<&Gate>,
) -> Result<Saw, String> {
    let mut s = open(c, addr, offer).map_err(|e| format!("the handshake failed: {e}"))?;
    let handshake_at_once = gate.is_none_or(|g| g.arrive_and_wait());
    s.write_all(b"hello\n")
        .map_err(|e| format!("cannot send: {e}"))?;
    let mut reply = Vec::new();
    s.read_to_end(&mut reply)
        .map_err(|e| format!("cannot read the reply: {e}"))?;
    let close_notify = s.get_shutdown().contains(ShutdownState::RECEIVED);
    let _ = s.shutdown();
    Ok(Saw {
        handshake_at_once,
        reply,
        close_notify,
        resumed: s.ssl().session_reused(),
        session: s.ssl().session().map(|x| x.to_owned()),
    })
}

/// Where eight clients meet after their handshakes: each waits until all have arrived, or
/// until a common deadline has passed.
struct Gate {
    arrived: Mutex<usize>,
    cv: Condvar,
    all: usize,
    deadline: Instant,
}

impl Gate {
    fn new(all: usize) -> Gate {
        Gate {
            arrived: Mutex::new(0),
            cv: Condvar::new(),
            all,
            deadline: Instant::now() + GATHER,
        }
    }
    /// True if every client arrived before the deadline.
    fn arrive_and_wait(&self) -> bool {
        let mut n = self.arrived.lock().unwrap();
        *n += 1;
        self.cv.notify_all();
        while *n < self.all {
            let now = Instant::now();
            if now >= self.deadline {
                return false;
            }
            n = self.cv.wait_timeout(n, self.deadline - now).unwrap().0;
        }
        true
    }
}

/// Eight clients at once against `addr`, all offering `offer`.
fn eight_at_once(
    c: &SslConnector,
    addr: SocketAddr,
    offer: Option<&SslSession>,
) -> Vec<Result<Saw, String>> {
    let gate = Gate::new(8);
    thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| client(c, addr, offer, Some(&gate))))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("the client panicked".into()))
            })
            .collect()
    })
}

fn common_name(cert: &X509Ref) -> String {
    cert.subject_name()
        .entries_by_nid(Nid::COMMONNAME)
        .next()
        .map(|e| String::from_utf8_lossy(e.data().as_slice()).into_owned())
        .unwrap_or_default()
}

fn www_server(files: &Files, identity: &str, version: &str) -> SServer {
    SServer::with_identity(files, identity, &["-www", version])
}

/// The learner's visit, called through testkit so that a todo!() is the test's message.
fn learner_visit(
    c: &SslConnector,
    addr: SocketAddr,
    offer: Option<&SslSession>,
    server: &SServer,
) -> Visit {
    let (c, offer) = (c.clone(), offer.cloned());
    let result = testkit::call("visit", move || visit(&c, addr, GET, offer.as_ref()));
    result.unwrap_or_else(|e| {
        panic!(
            "visit failed against openssl s_server -www: {e}\n{}",
            server.transcript()
        )
    })
}

/// The chapter's longest test, named so that it starts first (libtest starts its tests in
/// the order of their names), and the others run beside it. It is in `memory/`.
#[test]
fn a_run_of_connections_keeps_memory_bounded() {
    memory::connections_in_a_row_keep_memory_bounded("a_run_of_connections_keeps_memory_bounded");
}

#[test]
fn a_session_kept_from_a_visit_resumes_at_s_server() {
    let files = Files::new().expect("certificates");
    // Both versions first, then the verdict: which of them resumed tells the two usual
    // mistakes apart (a session taken too early spoils TLS 1.3 only).
    let mut outcomes = Vec::new();
    for (flag, max) in [
        ("-tls1_3", SslVersion::TLS1_3),
        ("-tls1_2", SslVersion::TLS1_2),
    ] {
        let server = www_server(&files, "server", flag);
        let c = connector(&files, max);
        let first = learner_visit(&c, server.addr, None, &server);
        let second = learner_visit(&c, server.addr, Some(&first.session), &server);
        assert!(
            !first.resumed,
            "the first visit offered no session, yet reports resumed = true: report \
             session_reused() of the connection itself"
        );
        let page = String::from_utf8_lossy(&second.reply).to_string();
        let status = page
            .lines()
            .find(|l| l.contains("Cipher is"))
            .unwrap_or("(no status line)")
            .to_string();
        let resumed = second.resumed && page.contains("Reused, ");
        outcomes.push((flag, resumed, second.resumed, status, server.transcript()));
    }
    let (tls13, tls12) = (&outcomes[0], &outcomes[1]);
    let why = match (tls13.1, tls12.1) {
        (true, true) => return,
        (false, true) => {
            "It resumed under TLS 1.2 and not under TLS 1.3: the session was taken too \
             early. A TLS 1.3 server sends its ticket after the handshake, and the client \
             reads it with the data, into a new session object; the one on the connection \
             before that read has no ticket. Take the session after the reply was read."
        }
        _ => {
            "A connection dropped without close_notify marks its session not resumable \
             when it is freed, under TLS 1.2 and 1.3, and the copy you took with \
             to_owned() is that same object: call shutdown() before the stream goes, and \
             take the session after the reply was read."
        }
    };
    let (flag, _, said, status, transcript) = if tls13.1 { tls12 } else { tls13 };
    panic!(
        "the session your first visit kept did not resume on the second ({flag}): the \
         second visit reports resumed = {said}, and s_server's page says {status:?}. \
         {why}\n{transcript}"
    );
}

#[test]
fn a_kept_server_certificate_reads_after_the_connection_is_gone() {
    let files = Files::new().expect("certificates");
    let server = www_server(&files, "server-chain", "-tls1_3");
    let c = connector(&files, SslVersion::TLS1_3);
    let first = learner_visit(&c, server.addr, None, &server);
    let second = learner_visit(&c, server.addr, Some(&first.session), &server);
    let leaf = certs::pki().server_chain.cert.to_der().expect("DER");
    for (which, v) in [("first", &first), ("second (resumed)", &second)] {
        let cn = common_name(&v.server_cert);
        assert!(
            v.server_cert.to_der().ok().as_deref() == Some(&leaf[..]),
            "the certificate your {which} visit kept is not the server's own: its common \
             name is {cn:?}, the server's is \"localhost\". The chain a server sends starts \
             with its own certificate; the intermediates that follow are its issuers.\n{}",
            server.transcript()
        );
        assert_eq!(cn, "localhost", "the kept certificate still reads");
    }
}

#[test]
fn s_client_resumes_its_session_at_your_server() {
    let files = Files::new().expect("certificates");
    let (addr, serving) = start_serving(&files, 1, 2);
    let sess = files.dir().join("s_client.session");
    let mut args = peers::verifying_client_args(&files);
    args.extend([
        "-ign_eof".to_string(),
        "-sess_out".into(),
        peers::arg(&sess),
    ]);
    let first = peers::run_s_client(addr, &args, b"hello\n", PEER_EXIT);
    let mut args = peers::verifying_client_args(&files);
    args.extend(["-ign_eof".to_string(), "-sess_in".into(), peers::arg(&sess)]);
    let second = peers::run_s_client(addr, &args, b"hello\n", PEER_EXIT);
    let served = serving.finish();
    assert!(
        first.stdout.contains("New, TLSv1.3") && first.stdout.contains("hello"),
        "openssl s_client did not get a TLS 1.3 connection and its echo from your server \
         (serve returned {served:?}).\n{}",
        first.transcript
    );
    assert!(
        second.stdout.contains("Reused, TLSv1.3"),
        "openssl s_client offered the session your server gave it one connection earlier, \
         and your server did not resume it: s_client says \"New\", not \"Reused\". A TLS 1.3 \
         session ticket is encrypted with keys of the context that issued it; a context \
         built again for the next connection has new keys and must refuse it. Build the \
         context once and share it.\n{}",
        second.transcript
    );
    assert_eq!(
        served.ok(),
        Some(2),
        "serve reports the two connections served"
    );
}

#[test]
fn eight_clients_are_served_at_once() {
    let files = Files::new().expect("certificates");
    let (addr, serving) = start_serving(&files, 8, 8);
    let c = connector(&files, SslVersion::TLS1_3);
    let saw = eight_at_once(&c, addr, None);
    let served = serving.finish();
    let failed: Vec<&String> = saw.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        failed.is_empty(),
        "{} of 8 clients failed against your server: {failed:?}",
        failed.len()
    );
    let saw: Vec<Saw> = saw.into_iter().map(|r| r.unwrap()).collect();
    let together = saw.iter().filter(|s| s.handshake_at_once).count();
    assert_eq!(
        together,
        8,
        "8 clients connected at once, each waiting after its handshake for the others, and \
         after {} s not all of them had a handshake done: your server served them one after \
         another. With 8 threads sharing one context, 8 connections proceed together; a lock \
         held for a whole connection (or a single thread) makes every client wait for all \
         the ones before it.",
        GATHER.as_secs()
    );
    assert!(
        saw.iter().all(|s| s.reply == b"hello\n"),
        "every client should get its line back"
    );
    assert!(
        saw.iter().all(|s| s.close_notify),
        "{} of 8 clients saw your server close without a close_notify: the stream was \
         dropped before shutdown(). Dropping (SSL_free) sends nothing; the client cannot \
         tell your end of the reply from a cut connection.",
        saw.iter().filter(|s| !s.close_notify).count()
    );
    assert_eq!(
        served.ok(),
        Some(8),
        "serve reports the 8 connections served"
    );
}

#[test]
fn a_session_resumes_on_every_thread() {
    let files = Files::new().expect("certificates");
    let (addr, serving) = start_serving(&files, 8, 9);
    let c = connector(&files, SslVersion::TLS1_3);
    let first = client(&c, addr, None, None);
    let session = first.as_ref().ok().and_then(|s| s.session.clone());
    let saw = if session.is_some() {
        eight_at_once(&c, addr, session.as_ref())
    } else {
        Vec::new()
    };
    let served = serving.finish();
    let first = first.unwrap_or_else(|e| panic!("the first client failed: {e}"));
    assert!(
        first.reply == b"hello\n",
        "the first client gets its line back"
    );
    let together = saw
        .iter()
        .filter(|r| r.as_ref().is_ok_and(|s| s.handshake_at_once))
        .count();
    assert_eq!(
        together, 8,
        "8 clients connected at once and only {together} got through the handshake while \
         the others waited: your server serves one connection at a time, so the eight were \
         not served by eight threads. Threads that share a context need no lock around it \
         (SslAcceptor is Sync); a lock held for a whole connection serialises them."
    );
    let resumed = saw
        .iter()
        .filter(|r| r.as_ref().is_ok_and(|s| s.resumed))
        .count();
    assert_eq!(
        resumed,
        8,
        "8 clients at once offered the session of an earlier connection, each to its own \
         thread of your server, and only {resumed} resumed it. Every thread must use the \
         same context: a ticket is encrypted with the keys of the context that issued it, \
         and a context built per thread (or per connection) has keys of its own. Results: \
         {:?}",
        saw.iter()
            .map(|r| r.as_ref().map(|s| s.resumed).map_err(|e| e.clone()))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        served.ok(),
        Some(9),
        "serve reports the 9 connections served"
    );
}

#[test]
fn a_connection_leaves_its_context_and_certificate() {
    let files = Files::new().expect("certificates");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    let (chain, key) = (
        files.path("server-chain.chain.crt"),
        files.path("server-chain.key"),
    );
    let acceptor = ch14_ownership::build_acceptor(&chain, &key).expect("a server context");
    // The server: the page's serve_and_keep, on its own thread.
    let server = {
        let acceptor = acceptor.clone();
        thread::spawn(move || {
            let (tcp, _) = listener.accept().expect("accept");
            tcp.set_read_timeout(Some(IO_TIMEOUT)).ok();
            tcp.set_write_timeout(Some(IO_TIMEOUT)).ok();
            serve_and_keep(&acceptor, tcp)
        })
    };
    // The client: your visit.
    let c = connector(&files, SslVersion::TLS1_3);
    let visited = testkit::call("visit", move || visit(&c, addr, b"hello\n", None));
    let left = server
        .join()
        .expect("the server thread")
        .expect("the page's serve_and_keep");
    let visited = visited.unwrap_or_else(|e| panic!("visit failed: {e}"));

    // Both ends kept a certificate; the server's own, seen from either side.
    assert!(
        visited.server_cert.to_der().ok() == left.own_cert.to_der().ok(),
        "the certificate your visit kept ({:?}) is not the one the server presented ({:?}): \
         keep the first of the chain the server sent, its own; the rest are its issuers",
        common_name(&visited.server_cert),
        common_name(&left.own_cert)
    );
    // The page's claims: counted references, not copies.
    let mine = acceptor.context();
    assert!(
        same_object(&*left.context, mine),
        "the page says to_owned() of the connection's context is the acceptor's own context"
    );
    let cert = mine.certificate().expect("the context's certificate");
    assert!(
        same_object(&*left.own_cert, cert),
        "the page says the kept certificate is the context's own object, counted again"
    );
    let copy = left.own_cert.clone();
    assert!(
        same_object(&*copy, &*left.own_cert),
        "X509::clone is X509_up_ref"
    );
    // The kept context outlives the acceptor it came from: it is a count, not a borrow. So
    // does a connection's: SSL_new counts its SSL_CTX (Ssl::new borrows nothing).
    let ssl = openssl::ssl::Ssl::new(acceptor.context()).expect("an SSL");
    drop(acceptor);
    let kept = left.context.certificate().map(common_name);
    assert_eq!(
        kept.as_deref(),
        Some("localhost"),
        "the kept context still reads after the acceptor is dropped"
    );
    let of_ssl = ssl.ssl_context().certificate().map(common_name);
    assert_eq!(
        of_ssl.as_deref(),
        Some("localhost"),
        "an SSL's context still reads after the acceptor is dropped"
    );
    drop(ssl);
    drop(left);
    assert_eq!(
        common_name(&copy),
        "localhost",
        "the clone outlives the original"
    );
}
