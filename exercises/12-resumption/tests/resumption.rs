//! Chapter 12: resumption, graded by peers nobody here wrote. `openssl s_server -www`
//! remembers sessions and resumes them; `openssl s_client -sess_out` / `-sess_in` keeps a
//! session in a file and says `Reused` when the server took it back.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread;

use certs::Files;
mod example;

use ch12_resumption::{
    acceptor, caching_connector, connect_cached, serve_one, visit, SessionCache, Visit,
};
use example::{session_from_pem, session_to_pem};
use foreign_types::{ForeignType, ForeignTypeRef};
use openssl::ssl::{
    ShutdownState, Ssl, SslAcceptor, SslConnector, SslFiletype, SslMethod, SslSession,
    SslSessionRef, SslVersion,
};
use testkit::peers::{self, SServer};
use testkit::{explain, IO_TIMEOUT};

testkit::no_system_trust!();

const REQUEST: &[u8] = b"GET / HTTP/1.0\r\n\r\n";
const REPLY: &[u8] = b"HTTP/1.0 200 ok\r\n\r\nthe page\n";
const VERSIONS: [(SslVersion, &str); 2] = [
    (SslVersion::TLS1_2, "-tls1_2"),
    (SslVersion::TLS1_3, "-tls1_3"),
];

extern "C" {
    // Not bound by openssl-sys; in libssl since 1.1.1.
    fn SSL_SESSION_is_resumable(s: *const openssl_sys::SSL_SESSION) -> std::os::raw::c_int;
    fn SSL_set_session_id_context(
        s: *mut openssl_sys::SSL,
        ctx: *const u8,
        len: std::os::raw::c_uint,
    ) -> std::os::raw::c_int;
}

fn resumable(s: &SslSessionRef) -> bool {
    // SAFETY: a valid session pointer; the call only reads it.
    unsafe { SSL_SESSION_is_resumable(s.as_ptr()) == 1 }
}

/// A client context that trusts the workbook's CA and speaks only `version`.
fn connector(files: &Files, version: SslVersion) -> SslConnector {
    let mut b = SslConnector::builder(SslMethod::tls_client()).expect("connector");
    b.set_ca_file(files.path("ca.crt")).expect("CA file");
    b.set_min_proto_version(Some(version)).expect("min version");
    b.set_max_proto_version(Some(version)).expect("max version");
    b.build()
}

/// `openssl s_server -www` for `version`, with the workbook's server certificate.
fn s_server(files: &Files, flag: &str) -> SServer {
    SServer::with_identity(files, "server", &["-www", flag])
}

fn learner_visit(
    c: &SslConnector,
    addr: SocketAddr,
    saved: Option<SslSession>,
) -> std::io::Result<Visit> {
    let c = c.clone();
    testkit::call("visit", move || {
        visit(&c, certs::HOST, addr, saved.as_ref(), REQUEST)
    })
}

/// Why a session did not resume, judged from the session itself.
fn why_not_resumed(s: &SslSessionRef, tls13: bool) -> &'static str {
    if resumable(s) {
        "The session you returned is resumable, so the second visit did not offer it, or \
         reported the server's answer wrongly: session_reused() after the handshake says \
         what the server decided."
    } else if tls13 && s.id().is_empty() {
        "The session you returned has no ticket: it was taken right after the handshake. \
         Under TLS 1.3 the server sends its ticket after the handshake, and it arrives when \
         you read; a session taken before the first read can never resume."
    } else {
        "The session you returned is marked not resumable: its connection was dropped \
         without shutdown(). OpenSSL takes a connection that ends without close_notify as \
         a failure, and spoils its session, even the copy you hold."
    }
}

fn second_visit_resumes(version: SslVersion, flag: &str) {
    let files = Files::new().expect("certificates");
    let server = s_server(&files, flag);
    let c = connector(&files, version);
    let first = learner_visit(&c, server.addr, None).unwrap_or_else(|e| {
        panic!(
            "your first visit to openssl s_server ({flag}) failed: {e}\n{}",
            server.transcript()
        )
    });
    assert!(
        !first.resumed,
        "your first visit says it resumed, but it offered no session: resumed must be the \
         server's answer (session_reused()), and a first connection is always a full \
         handshake"
    );
    assert!(
        String::from_utf8_lossy(&first.reply).contains("New, TLS"),
        "the first visit did not return s_server's whole page (it says \"New, TLS...\"): {:?}",
        String::from_utf8_lossy(&first.reply[..first.reply.len().min(200)])
    );
    let kept = first.session.clone();
    let second = learner_visit(&c, server.addr, Some(first.session)).unwrap_or_else(|e| {
        panic!(
            "your second visit to openssl s_server ({flag}), offering the saved session, \
             failed: {e}\n{}",
            server.transcript()
        )
    });
    let page = String::from_utf8_lossy(&second.reply).to_string();
    let s_server_says_reused = page.contains("Reused, TLS");
    assert!(
        second.resumed && s_server_says_reused,
        "the second visit ({flag}) did not resume: your visit reports resumed = {}, and \
         s_server's page says {:?}. {}",
        second.resumed,
        page.lines()
            .find(|l| l.contains(", TLS"))
            .unwrap_or("(no line)"),
        why_not_resumed(&kept, version == SslVersion::TLS1_3)
    );
}

#[test]
fn the_second_visit_resumes_under_tls12() {
    second_visit_resumes(SslVersion::TLS1_2, "-tls1_2");
}

#[test]
fn the_second_visit_resumes_under_tls13() {
    second_visit_resumes(SslVersion::TLS1_3, "-tls1_3");
}

/// The DER form of `s` with one byte of its session ticket changed. The ticket is the
/// OCTET STRING inside the `[10]` field of the ASN.1 SSL_SESSION; we find it by its
/// first bytes as `openssl sess_id -text` would show them.
fn with_ticket_corrupted(s: &SslSessionRef) -> Option<SslSession> {
    let der = s.to_der().ok()?;
    // [10] (0xAA), long length (0x81/0x82), then OCTET STRING (0x04), long length.
    let at = (0..der.len().saturating_sub(8)).rev().find(|&i| {
        der[i] == 0xAA
            && (der[i + 1] == 0x81 && der[i + 3] == 0x04
                || der[i + 1] == 0x82 && der[i + 4] == 0x04)
    })?;
    let start = if der[at + 1] == 0x81 { at + 3 } else { at + 4 };
    let body = start + if der[start + 1] == 0x81 { 3 } else { 4 };
    let mut bad = der.clone();
    let i = body + 20;
    if i >= bad.len() {
        return None;
    }
    bad[i] ^= 0x5A;
    SslSession::from_der(&bad).ok()
}

#[test]
fn a_session_the_server_refuses_is_reported_as_a_full_handshake() {
    let files = Files::new().expect("certificates");
    for (version, flag) in VERSIONS {
        let c = connector(&files, version);
        let server = s_server(&files, flag);
        let first = learner_visit(&c, server.addr, None)
            .unwrap_or_else(|e| panic!("your first visit to s_server ({flag}) failed: {e}"));
        let kept = first.session;

        // A ticket changed in transit or on disk: the server cannot decrypt it.
        let corrupted = with_ticket_corrupted(&kept).unwrap_or_else(|| {
            panic!(
                "the session your first visit returned ({flag}) has no ticket: {}",
                why_not_resumed(&kept, version == SslVersion::TLS1_3)
            )
        });
        let v = learner_visit(&c, server.addr, Some(corrupted)).unwrap_or_else(|e| {
            panic!(
                "offering a corrupted session made your visit fail ({flag}): {e}. A server \
                 that cannot use a session does a full handshake instead; the connection \
                 must still work."
            )
        });
        assert!(
            !v.resumed,
            "your visit reports resumed = true ({flag}) for a session whose ticket was \
             corrupted: s_server could not read it and did a full handshake. Report what \
             the server decided (session_reused()), not that you offered a session."
        );

        // Another server (its own ticket keys) cannot use this server's session either.
        let other = s_server(&files, flag);
        let v = learner_visit(&c, other.addr, Some(kept.clone()))
            .unwrap_or_else(|e| panic!("offering a session to another s_server failed: {e}"));
        assert!(
            !v.resumed,
            "your visit reports resumed = true ({flag}) for a session offered to another \
             s_server, which never made it and did a full handshake. Report the server's \
             answer (session_reused()), not that you offered a session."
        );
    }
}

/// Serves `n` connections on one context with the learner's `serve_one`, returning what
/// it said of each connection.
fn learner_server(
    acceptor: SslAcceptor,
    n: usize,
) -> (SocketAddr, mpsc::Receiver<std::io::Result<bool>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("address");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for _ in 0..n {
            let Ok((tcp, _)) = listener.accept() else {
                return;
            };
            let a = acceptor.clone();
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                serve_one(&a, tcp, REPLY)
            }));
            match result {
                Ok(r) => {
                    let _ = tx.send(r);
                }
                Err(panic) => {
                    let _ = tx.send(Err(std::io::Error::other(format!(
                        "serve_one panicked: {}",
                        testkit::panic_text(&*panic)
                    ))));
                    return;
                }
            }
        }
    });
    (addr, rx)
}

fn served(rx: &mpsc::Receiver<std::io::Result<bool>>, what: &str) -> bool {
    match rx.recv_timeout(testkit::CALL_TIMEOUT) {
        Ok(Ok(resumed)) => resumed,
        Ok(Err(e)) if e.to_string().contains("not yet implemented") => panic!("{e}"),
        Ok(Err(e)) => panic!("serve_one failed on {what}: {e}"),
        Err(_) => panic!("serve_one did not finish {what} in time"),
    }
}

fn learner_acceptor(files: &Files, client_ca: bool) -> SslAcceptor {
    let chain = files.path("server.chain.crt");
    let key = files.path("server.key");
    let ca = client_ca.then(|| files.path("ca.crt"));
    testkit::call("acceptor", move || acceptor(&chain, &key, ca.as_deref()))
        .unwrap_or_else(|e| panic!("acceptor failed: {}", explain::stack(&e)))
}

fn sess_file(files: &Files, name: &str) -> PathBuf {
    files.dir().join(name)
}

#[test]
fn s_client_resumes_at_your_server() {
    let files = Files::new().expect("certificates");
    let acc = learner_acceptor(&files, false);
    for (_, flag) in VERSIONS {
        let (addr, rx) = learner_server(acc.clone(), 2);
        let sess = sess_file(&files, &format!("s_client{flag}.pem"));
        let mut args = peers::verifying_client_args(&files);
        args.extend([flag.to_string(), "-ign_eof".into()]);
        let mut first = args.clone();
        first.extend(["-sess_out".to_string(), peers::arg(&sess)]);
        let one = peers::run_s_client(addr, &first, REQUEST, IO_TIMEOUT);
        let resumed_first = served(&rx, "s_client's first connection");
        let mut second = args.clone();
        second.extend(["-sess_in".to_string(), peers::arg(&sess)]);
        let two = peers::run_s_client(addr, &second, REQUEST, IO_TIMEOUT);
        let resumed_second = served(&rx, "s_client's second connection");
        assert!(
            two.stdout.contains("\nReused, TLS"),
            "openssl s_client {flag} offered the session your server gave it (-sess_in) and \
             your server did a full handshake: s_client printed no \"Reused\" line.\n{}\n{}",
            one.transcript,
            two.transcript
        );
        assert!(
            !resumed_first && resumed_second,
            "serve_one reported resumed = {resumed_first} for s_client's first connection and \
             {resumed_second} for its second ({flag}), and s_client says the second was \
             reused. Ask the connection whether it reused a session (session_reused()), after \
             the handshake: that a session exists says nothing."
        );
    }
}

/// A client visit done the right way, to grade the learner's server: returns whether it
/// resumed, the session, and whether the server's close_notify came.
fn reference_visit(
    c: &SslConnector,
    addr: SocketAddr,
    saved: Option<&SslSession>,
) -> Result<(bool, SslSession, bool), String> {
    let tcp = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(IO_TIMEOUT)).ok();
    tcp.set_write_timeout(Some(IO_TIMEOUT)).ok();
    let mut ssl = c
        .configure()
        .and_then(|c| c.into_ssl(certs::HOST))
        .map_err(|e| e.to_string())?;
    if let Some(s) = saved {
        // SAFETY: the session came from this same connector.
        unsafe { ssl.set_session(s) }.map_err(|e| e.to_string())?;
    }
    let mut tls = ssl.connect(tcp).map_err(|e| explain::handshake(&e))?;
    tls.write_all(REQUEST).map_err(|e| e.to_string())?;
    let mut reply = Vec::new();
    tls.read_to_end(&mut reply).map_err(|e| e.to_string())?;
    let clean = tls.get_shutdown().contains(ShutdownState::RECEIVED);
    let resumed = tls.ssl().session_reused();
    let _ = tls.shutdown();
    let s = tls.ssl().session().expect("a session").to_owned();
    Ok((resumed, s, clean))
}

fn client_with_cert(files: &Files, version: SslVersion) -> SslConnector {
    let mut b = SslConnector::builder(SslMethod::tls_client()).expect("connector");
    b.set_ca_file(files.path("ca.crt")).expect("CA file");
    b.set_certificate_file(files.path("client.crt"), SslFiletype::PEM)
        .expect("client certificate");
    b.set_private_key_file(files.path("client.key"), SslFiletype::PEM)
        .expect("client key");
    b.set_min_proto_version(Some(version)).expect("min version");
    b.set_max_proto_version(Some(version)).expect("max version");
    b.build()
}

#[test]
fn a_server_that_verifies_clients_still_resumes() {
    let files = Files::new().expect("certificates");
    let acc = learner_acceptor(&files, true);
    for (version, flag) in VERSIONS {
        let (addr, rx) = learner_server(acc.clone(), 2);
        let c = client_with_cert(&files, version);
        let (_, session, _) = reference_visit(&c, addr, None).unwrap_or_else(|e| {
            panic!("a client with a good certificate could not visit your server ({flag}): {e}")
        });
        let _ = served(&rx, "the first connection");
        let second = reference_visit(&c, addr, Some(&session));
        let server_said = rx.recv_timeout(IO_TIMEOUT);
        match second {
            Ok((true, _, _)) => {}
            Ok((false, _, _)) => panic!(
                "a client with a certificate offered its session and your server ({flag}) did \
                 a full handshake instead of resuming"
            ),
            Err(e) => panic!(
                "a client with a certificate offered its session and the handshake failed \
                 ({flag}): {e}. Your server said: {:?}. A server that verifies client \
                 certificates refuses to resume until it has a session id context, a name \
                 for the application its sessions belong to (\"session id context \
                 uninitialized\"), and it fails the handshake with an internal_error alert.",
                server_said.map(|r| r.map_err(|e| e.to_string()))
            ),
        }
    }
}

#[test]
fn a_server_with_another_session_id_context_does_a_full_handshake() {
    let files = Files::new().expect("certificates");
    let c = connector(&files, SslVersion::TLS1_3);
    // One context (one set of ticket keys), its second connection under another id context:
    // only the id context differs.
    let acc = learner_acceptor(&files, false);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    let server = thread::spawn(move || {
        let mut out = Vec::new();
        for i in 0..2 {
            let (tcp, _) = listener.accept().expect("accept");
            tcp.set_read_timeout(Some(IO_TIMEOUT)).ok();
            let ssl = Ssl::new(acc.context()).expect("ssl");
            if i == 1 {
                let other = b"another application";
                // SAFETY: a valid SSL pointer and a buffer of the given length.
                unsafe {
                    SSL_set_session_id_context(ssl.as_ptr(), other.as_ptr(), other.len() as _)
                };
            }
            if let Ok(mut tls) = ssl.accept(tcp) {
                let _ = ch12_resumption::read_request(&mut tls);
                let _ = tls.write_all(REPLY);
                out.push(tls.ssl().session_reused());
                let _ = tls.shutdown();
            }
        }
        out
    });
    let first = learner_visit(&c, addr, None).expect("the first visit");
    let second = learner_visit(&c, addr, Some(first.session)).unwrap_or_else(|e| {
        panic!("offering a session to a server with another session id context failed: {e}")
    });
    let server_saw = server.join().expect("the server thread");
    assert_eq!(
        server_saw,
        [false, false],
        "the server resumed a session of another id context"
    );
    assert!(
        !second.resumed,
        "your visit reports resumed = true for a session the server refused (another session \
         id context: a session of one application is never resumed by another). Report the \
         server's answer, session_reused(), not that you offered a session."
    );
}

#[test]
fn your_server_ends_each_connection_with_close_notify() {
    let files = Files::new().expect("certificates");
    let acc = learner_acceptor(&files, false);
    let (addr, rx) = learner_server(acc, 1);
    let c = connector(&files, SslVersion::TLS1_3);
    let visited = reference_visit(&c, addr, None);
    let _ = served(&rx, "the connection");
    let (_, _, clean) =
        visited.unwrap_or_else(|e| panic!("a client could not visit your server: {e}"));
    assert!(
        clean,
        "your server ended the connection without close_notify: the client's read ended at a \
         bare TCP close, which it cannot tell from an attacker cutting the reply short. Send \
         close_notify (shutdown()) before the stream goes."
    );
}

#[test]
fn the_cache_keeps_sessions_by_host_and_offers_them() {
    let files = Files::new().expect("certificates");
    let cache = SessionCache::new();
    let ca = files.path("ca.crt");
    let c2 = cache.clone();
    let connector = testkit::call("caching_connector", move || caching_connector(&ca, &c2))
        .unwrap_or_else(|e| panic!("caching_connector failed: {}", explain::stack(&e)));
    for (_, flag) in VERSIONS {
        let server = s_server(&files, flag);
        let mut reused = Vec::new();
        for _ in 0..3 {
            let (c, k) = (connector.clone(), cache.clone());
            let addr = server.addr;
            let mut tls = testkit::call("connect_cached", move || {
                connect_cached(&c, &k, certs::HOST, addr)
            })
            .unwrap_or_else(|e| panic!("connect_cached to s_server ({flag}) failed: {e}"));
            tls.write_all(REQUEST).expect("send the request");
            let mut page = Vec::new();
            let _ = tls.read_to_end(&mut page);
            reused.push(tls.ssl().session_reused());
            let _ = tls.shutdown();
            assert!(
                cache.get(certs::HOST).is_some(),
                "after a whole connection to s_server ({flag}) the cache has no session for \
                 {:?} ({} entries): the new-session callback never ran, or kept the session \
                 under another name. OpenSSL calls it only when the client side of the \
                 session cache is switched on.",
                certs::HOST,
                cache.len()
            );
        }
        assert_eq!(
            reused,
            [false, true, true],
            "three connections to s_server ({flag}) through your cache: only the first should \
             be a full handshake. A connection that does not resume did not offer the session \
             the cache holds for its host."
        );
    }
}

#[test]
fn the_cache_keeps_a_session_for_each_host() {
    let files = Files::new().expect("certificates");
    let cache = SessionCache::new();
    let ca = files.path("ca.crt");
    let c2 = cache.clone();
    let connector = testkit::call("caching_connector", move || caching_connector(&ca, &c2))
        .unwrap_or_else(|e| panic!("caching_connector failed: {}", explain::stack(&e)));
    // Two servers, each with its own certificate and its own tickets: localhost, and
    // wrong.example (a certificate from the same root for that name). A session of one
    // is worth nothing to the other.
    let a = SServer::with_identity(&files, "server", &["-www", "-tls1_3"]);
    let b = SServer::with_identity(&files, "wrong-host", &["-www", "-tls1_3"]);
    let visits = [
        (certs::HOST, a.addr),
        ("wrong.example", b.addr),
        (certs::HOST, a.addr),
        ("wrong.example", b.addr),
    ];
    let mut reused = Vec::new();
    for (host, addr) in visits {
        let (c, k) = (connector.clone(), cache.clone());
        let mut tls = testkit::call("connect_cached", move || connect_cached(&c, &k, host, addr))
            .unwrap_or_else(|e| {
                panic!(
                    "connect_cached to s_server as {host} failed: {e}\n{}",
                    if host == certs::HOST {
                        a.transcript()
                    } else {
                        b.transcript()
                    }
                )
            });
        tls.write_all(REQUEST).expect("send the request");
        let mut page = Vec::new();
        let _ = tls.read_to_end(&mut page);
        reused.push(tls.ssl().session_reused());
        let _ = tls.shutdown();
    }
    let sequence: Vec<String> = visits
        .iter()
        .zip(&reused)
        .map(|((host, _), r)| format!("{host}: {}", if *r { "resumed" } else { "full" }))
        .collect();
    let why = match cache.len() {
        0 => "Your cache is empty: the new-session callback never ran (OpenSSL calls it only \
              when the client side of the session cache is on)."
            .to_string(),
        1 => "Your cache holds one session for the two hosts: it keeps every session under one \
              name, so each host is offered the other's, which its server cannot use. Keep \
              each session under the name its connection was made for \
              (ssl.servername(NameType::HOST_NAME))."
            .to_string(),
        n => format!(
            "Your cache holds {n} sessions, yet a visit that did not resume was not offered \
             its own host's session: look it up by the `host` connect_cached was given."
        ),
    };
    assert_eq!(
        reused,
        [false, false, true, true],
        "a client that visits two hosts in turn (localhost, wrong.example, localhost, \
         wrong.example) should resume each on its second visit, but through your cache the \
         four handshakes were: {}. {why}",
        sequence.join(", ")
    );
}

#[test]
fn a_session_travels_to_s_client_and_back_as_pem() {
    let files = Files::new().expect("certificates");
    let server = s_server(&files, "-tls1_3");
    let c = connector(&files, SslVersion::TLS1_3);
    let v = learner_visit(&c, server.addr, None)
        .unwrap_or_else(|e| panic!("your visit to s_server failed: {e}"));
    // Ours, to s_client.
    let file = sess_file(&files, "ours.pem");
    std::fs::write(&file, session_to_pem(&v.session).expect("PEM")).expect("write");
    let mut args = peers::verifying_client_args(&files);
    args.extend(["-ign_eof".to_string(), "-sess_in".into(), peers::arg(&file)]);
    let run = peers::run_s_client(server.addr, &args, REQUEST, IO_TIMEOUT);
    assert!(
        run.stdout.contains("\nReused, TLS"),
        "s_client -sess_in did not resume the session your visit kept, written as PEM.\n{}",
        run.transcript
    );
    // s_client's, to us.
    let theirs = sess_file(&files, "theirs.pem");
    let mut args = peers::verifying_client_args(&files);
    args.extend([
        "-ign_eof".to_string(),
        "-sess_out".into(),
        peers::arg(&theirs),
    ]);
    let _ = peers::run_s_client(server.addr, &args, REQUEST, IO_TIMEOUT);
    let pem = std::fs::read_to_string(&theirs).expect("s_client wrote its session");
    let session = session_from_pem(&pem).expect("s_client's session");
    let again =
        learner_visit(&c, server.addr, Some(session)).expect("a visit with s_client's session");
    assert!(
        again.resumed,
        "your visit offered the session s_client saved (-sess_out) and did not resume"
    );
}
