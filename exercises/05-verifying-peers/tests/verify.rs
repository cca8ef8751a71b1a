//! Chapter 05: your client meets every bad server of the workbook (played by the real
//! `openssl s_server`), your server meets good and bad clients (played by the real
//! `openssl s_client`), and both must refuse what they should, for the reason they should.
//! When a check fails, the message shows what crossed the wire, as OpenSSL's message
//! callback recorded it on your side and as the real peer printed it with `-msg`.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::{mpsc, Arc, Mutex, Weak};
use std::thread;
use std::time::Duration;

use certs::{pki, Files};
use ch05_verifying_peers::{
    authenticated_peer, client, connection, record_failure, server, Failure, Failures,
};
use openssl::ssl::{Ssl, SslAcceptor, SslMethod, SslStream, SslVerifyMode};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::{X509StoreContext, X509VerifyResult, X509};
use testkit::explain;
use testkit::peers::{self, identity_args, SServer};
use testkit::wire::{self, Wire};
use testkit::IO_TIMEOUT;

mod probe;
use probe::probe;

// No verdict here depends on the CAs this machine trusts (see the macro).
testkit::no_system_trust!();

const PEER_TIMEOUT: Duration = Duration::from_secs(10);

/// The workbook's certificate files, written once for all the tests that run at the same
/// time (writing the set costs more than a handshake) and removed when the last one is done.
fn shared_files() -> Arc<Files> {
    static SHARED: Mutex<Weak<Files>> = Mutex::new(Weak::new());
    let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(files) = shared.upgrade() {
        return files;
    }
    let files = Arc::new(Files::new().expect("write the certificate files"));
    *shared = Arc::downgrade(&files);
    files
}

fn arg(files: &Files, name: &str) -> String {
    peers::arg(&files.path(name))
}

/// A peer's transcript without the hex dumps and record headers that `-msg` adds, and
/// without the certificate in PEM (its subject and issuer lines stay).
fn brief(transcript: &str) -> String {
    let mut in_pem = false;
    let mut out = Vec::new();
    for l in transcript.lines() {
        if l.starts_with("-----BEGIN ") {
            in_pem = true;
            out.push("(certificate in PEM left out)");
            continue;
        }
        if l.starts_with("-----END ") {
            in_pem = false;
            continue;
        }
        let noise = l.starts_with("    ")
            || l.starts_with(">>> ")
            || l.starts_with("<<< ")
            || l.contains("RecordHeader")
            || l.contains("InnerContent");
        if !in_pem && !noise {
            out.push(l);
        }
    }
    out.join("\n")
}

fn shown(failures: &[Failure]) -> String {
    if failures.is_empty() {
        return "nothing".into();
    }
    failures
        .iter()
        .map(|f| {
            format!(
                "error {} at depth {} ({})",
                f.error.as_raw(),
                f.depth,
                f.error.error_string()
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Verifies `cert` (with `chain`) against a store holding `ca`, and hands the failed context
/// to the learner's callback, in plain Rust. Returns what the callback returned and recorded.
fn callback_on(
    cert: &X509,
    chain: &[X509],
    ca: &X509,
    verdict: Option<bool>,
) -> (bool, Vec<Failure>) {
    let (cert, chain, ca) = (cert.clone(), chain.to_vec(), ca.clone());
    testkit::call("record_failure (your verify callback)", move || {
        let mut store = X509StoreBuilder::new().unwrap();
        store.add_cert(ca).unwrap();
        let store = store.build();
        let mut untrusted = Stack::new().unwrap();
        for c in chain {
            untrusted.push(c).unwrap();
        }
        let failures = Failures::default();
        let mut ctx = X509StoreContext::new().unwrap();
        let returned = ctx
            .init(&store, &cert, &untrusted, |ctx| {
                let ok = ctx.verify_cert()?;
                Ok(record_failure(&failures, verdict.unwrap_or(ok), ctx))
            })
            .unwrap();
        let recorded = failures.lock().unwrap().clone();
        (returned, recorded)
    })
}

/// Runs the learner's callback once in plain Rust before any handshake: an unfinished
/// callback then fails the test with its `todo!()` message instead of panicking inside
/// OpenSSL, which would abort every test at once.
fn callback_first() {
    let p = pki();
    callback_on(&p.server.cert, &[], &p.ca.cert, None);
}

// ---------------------------------------------------------------------------------------
// Your client against `openssl s_server`

struct ClientRun {
    refused: Option<String>,
    failures: Vec<Failure>,
    wire: Wire,
    authenticated: Option<String>,
    server: SServer,
}

impl ClientRun {
    fn story(&self) -> String {
        format!(
            "What crossed the wire, as your client's message callback saw it:\n  {}\n\
             What s_server saw (-msg):\n  {}\nYour verify callback recorded: {}.\n{}",
            self.wire,
            wire::from_msg_output(&self.server.process.stdout()),
            shown(&self.failures),
            brief(&self.server.transcript())
        )
    }
}

/// Your client (its own certificate: `client`; trusting `ca.crt`), connecting as
/// "localhost" to `openssl s_server` serving identity `name`.
fn learner_client_against(files: &Files, name: &str, crl: bool, s_server: &[&str]) -> ClientRun {
    callback_first();
    let failures = Failures::default();
    let (cert, key, ca) = (
        files.path("client.chain.crt"),
        files.path("client.key"),
        files.path("ca.crt"),
    );
    let crl_path = crl.then(|| files.path("ca.crl"));
    let f = failures.clone();
    let connector = testkit::call("client", move || {
        client(&cert, &key, &ca, crl_path.as_deref(), &f)
    })
    .unwrap_or_else(|e| {
        panic!(
            "client() failed on the workbook's good files: {}",
            explain::stack(&e)
        )
    });
    let mut ssl = testkit::call("connection", move || connection(&connector, certs::HOST))
        .unwrap_or_else(|e| panic!("connection() failed: {}", explain::stack(&e)));

    let mut args: Vec<String> = vec!["-msg".into()];
    args.extend(s_server.iter().map(|s| s.to_string()));
    let server = SServer::with_identity(files, name, &args);
    let wire = Wire::record_ssl(&mut ssl);
    let tcp = TcpStream::connect(server.addr).expect("connect to s_server");
    tcp.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    tcp.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    let (refused, authenticated) = match ssl.connect(tcp) {
        Ok(s) => {
            let (who, mut s) = testkit::call("authenticated_peer", move || {
                (authenticated_peer(s.ssl()), s)
            });
            let _ = s.shutdown();
            (None, who)
        }
        Err(e) => (Some(explain::handshake(&e)), None),
    };
    let failures = failures.lock().unwrap().clone();
    ClientRun {
        refused,
        failures,
        wire,
        authenticated,
        server,
    }
}

/// Your client must refuse `name`, with OpenSSL's `error` at `depth` recorded by the callback.
fn assert_client_refuses(
    files: &Files,
    name: &str,
    crl: bool,
    error: i32,
    depth: u32,
    what: &str,
    story: &str,
) {
    let run = learner_client_against(files, name, crl, &[]);
    if run.refused.is_none() {
        panic!(
            "Your client accepted a server whose certificate {what}. {story}\n{}",
            run.story()
        );
    }
    assert!(
        run.failures
            .iter()
            .any(|f| f.error.as_raw() == error && f.depth == depth),
        "Your client refused the server whose certificate {what}, as it should, but your verify \
         callback did not record why: expected error {error} ({}) at depth {depth}. A refusal \
         that says nothing is hard to fix and impossible to audit.\nYour client said: {}\n{}",
        explain::verify(unsafe { X509VerifyResult::from_raw(error) }),
        run.refused.as_deref().unwrap_or(""),
        run.story()
    );
    assert!(
        run.wire.fatal_alert().is_some(),
        "Your client refused the server but no alert was sent: {}",
        run.story()
    );
}

/// Your client must complete the handshake with `name` and call it authenticated.
fn assert_client_accepts(files: &Files, name: &str, s_server: &[&str], what: &str) -> ClientRun {
    let run = learner_client_against(files, name, false, s_server);
    if let Some(why) = &run.refused {
        panic!(
            "Your client refused {what}, which it must accept: {why}\n{}",
            run.story()
        );
    }
    run
}

#[test]
fn client_accepts_a_good_server_and_shows_it_its_certificate() {
    let files = shared_files();
    let require = [
        "-Verify".to_string(),
        "1".into(),
        "-verify_return_error".into(),
        "-CAfile".into(),
        arg(&files, "ca.crt"),
    ];
    let require: Vec<&str> = require.iter().map(|s| s.as_str()).collect();
    let mut run = assert_client_accepts(
        &files,
        "server",
        &require,
        "a good server (leaf signed by the CA)",
    );
    // In TLS 1.3 the client finishes before the server has read its certificate: give
    // s_server a moment to print what it received (stdout and stderr, read apart).
    for needle in ["CN = workbook client", "verify return:1"] {
        let _ = run.server.process.wait_for(needle, Duration::from_secs(2));
    }
    let out = run.server.transcript();
    assert!(
        out.contains("CN = workbook client") && out.contains("verify return:1"),
        "openssl s_server asked for a client certificate and did not get yours: the client of \
         Example 2 must present its own certificate and key.\n{}",
        run.story()
    );
    assert_eq!(
        run.authenticated.as_deref(),
        Some("O=TLS Workbook, CN=localhost"),
        "authenticated_peer on your client's connection to a good server should name it.\n{}",
        run.story()
    );
}

#[test]
fn client_accepts_one_intermediate_ca_between_server_and_root() {
    let files = shared_files();
    let run = assert_client_accepts(
        &files,
        "server-chain",
        &[],
        "a server whose certificate an intermediate CA signed (leaf + intermediate + root): \
         verify depth 1 allows exactly one intermediate",
    );
    assert!(run.failures.is_empty(), "{}", run.story());
}

#[test]
fn an_expired_server_certificate_is_refused() {
    let files = shared_files();
    assert_client_refuses(
        &files,
        "expired",
        false,
        10,
        0,
        "expired 30 days ago",
        "The key of an expired certificate may have leaked long ago, and its CA no longer \
         answers for it: whoever holds that old key can pose as the server.",
    );
}

#[test]
fn a_server_certificate_not_yet_valid_is_refused() {
    let files = shared_files();
    assert_client_refuses(
        &files,
        "not-yet-valid",
        false,
        9,
        0,
        "only becomes valid in 30 days",
        "Dates are part of what the CA signed: a client that ignores them accepts certificates \
         the CA has not vouched for yet, or no longer.",
    );
}

#[test]
fn a_certificate_for_another_host_is_refused() {
    let files = shared_files();
    assert_client_refuses(
        &files,
        "wrong-host",
        false,
        62,
        0,
        "is issued for wrong.example while you connected to localhost",
        "Without the host-name check, anyone who holds any certificate from your CA, for any \
         name, can pose as this server.",
    );
}

#[test]
fn a_self_signed_server_is_refused() {
    let files = shared_files();
    assert_client_refuses(
        &files,
        "self-signed",
        false,
        18,
        0,
        "is self-signed",
        "Anyone can make a self-signed certificate for any name in a second: accepting one \
         lets anyone on the path pose as the server.",
    );
}

#[test]
fn a_server_under_an_untrusted_ca_is_refused() {
    let files = shared_files();
    assert_client_refuses(
        &files,
        "untrusted",
        false,
        20,
        0,
        "was signed by a CA you do not trust",
        "A CA you never chose, perhaps the attacker's own, would speak for your server.",
    );
}

// The machine's trust store, as the default verify paths see it, can only be changed for a
// whole process: this test runs again in a child whose SSL_CERT_FILE names a stand-in
// "system" CA, with the parent's certificate files (a child would make a set of its own).
const SYSTEM_PROBE: &str = "a_server_under_a_system_ca_is_refused";
const SYSTEM_FILES: &str = "CH05_SYSTEM_STORE_FILES";

#[test]
fn a_server_under_a_system_ca_is_refused() {
    if let Ok(dir) = std::env::var(SYSTEM_FILES) {
        return system_probe(Path::new(&dir));
    }
    let files = shared_files();
    let system_ca = files.path("system-ca.crt");
    let child = testkit::probe::run_test_in_child(
        SYSTEM_PROBE,
        &[
            (SYSTEM_FILES, files.dir().display().to_string()),
            ("SSL_CERT_FILE", system_ca.display().to_string()),
            ("SSL_CERT_DIR", "/dev/null".to_string()),
        ],
        testkit::CALL_TIMEOUT,
    );
    if let Some(todo) = testkit::probe::todo_line(&child) {
        panic!("{todo}");
    }
    assert!(
        child.status.is_some_and(|s| s.success()) && child.stdout.contains("1 passed"),
        "with SSL_CERT_FILE naming a stand-in \"system\" CA:\n{}",
        child.transcript
    );
}

/// The child's half: the default verify paths hold the "system" CA, and a server it signed
/// must still be refused, with error 20 at depth 0 recorded.
fn system_probe(dir: &Path) {
    callback_first();
    let path = |n: &str| dir.join(n);
    let failures = Failures::default();
    let (cert, key, ca) = (path("client.chain.crt"), path("client.key"), path("ca.crt"));
    let f = failures.clone();
    let connector = testkit::call("client", move || client(&cert, &key, &ca, None, &f))
        .unwrap_or_else(|e| panic!("client() failed on good files: {}", explain::stack(&e)));
    let ssl = testkit::call("connection", move || connection(&connector, certs::HOST))
        .unwrap_or_else(|e| panic!("connection() failed: {}", explain::stack(&e)));
    let server = SServer::start(&[
        "-cert".to_string(),
        peers::arg(&path("system-server.crt")),
        "-key".into(),
        peers::arg(&path("system-server.key")),
    ]);
    let tcp = TcpStream::connect(server.addr).expect("connect to s_server");
    tcp.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    if ssl.connect(tcp).is_ok() {
        panic!(
            "Your client accepted a server signed by a CA this machine trusts (SSL_CERT_FILE \
             names it here) but you were not given. The code before your part replaced the \
             store SslConnector::builder filled from the default verify paths with an empty \
             one, so that `ca` is the only CA trusted; loading the defaults again \
             (set_default_verify_paths) lets any of the machine's CAs vouch for any name.\n{}",
            brief(&server.transcript())
        );
    }
    let recorded = failures.lock().unwrap().clone();
    assert!(
        recorded
            .iter()
            .any(|f| f.error.as_raw() == 20 && f.depth == 0),
        "Your client refused the server under the \"system\" CA, but your verify callback \
         did not record error 20 at depth 0: {}",
        shown(&recorded)
    );
}

#[test]
fn a_server_that_omits_its_intermediate_is_refused() {
    let files = shared_files();
    assert_client_refuses(
        &files,
        "missing-intermediate",
        false,
        20,
        0,
        "was signed by an intermediate CA that the server did not send",
        "Without the intermediate the chain does not reach the root you trust, so nobody you \
         trust has vouched for this certificate.",
    );
}

#[test]
fn a_chain_deeper_than_the_client_allows_is_refused() {
    let files = shared_files();
    assert_client_refuses(
        &files,
        "too-deep",
        false,
        22,
        2,
        "hangs under two intermediate CAs while your client allows one",
        "The depth limit keeps chains to the shape you expect: a longer one means a CA you did \
         not plan for signed this server.",
    );
}

#[test]
fn a_revoked_server_certificate_is_refused() {
    let files = shared_files();
    assert_client_refuses(
        &files,
        "revoked",
        true,
        23,
        0,
        "was revoked by its CA (the CRL you were given lists it)",
        "A CA revokes a certificate when its key is stolen: accepting it lets the thief pose as \
         the server.",
    );
}

// ---------------------------------------------------------------------------------------
// Your server against `openssl s_client`

struct ServerRun {
    accepted: Result<SslStream<TcpStream>, String>,
    failures: Vec<Failure>,
    wire: Wire,
    peer: peers::Finished,
}

impl ServerRun {
    fn story(&self) -> String {
        format!(
            "What crossed the wire, as your server's message callback saw it:\n  {}\n\
             What openssl s_client saw (-msg):\n  {}\nYour verify callback recorded: {}.\n{}",
            self.wire,
            wire::from_msg_output(&self.peer.stdout),
            shown(&self.failures),
            brief(&self.peer.transcript)
        )
    }
}

/// Accepts one connection on `acceptor` with a message recorder on it; `openssl s_client`
/// connects with `client_args` added and sends a line.
fn serve_once(
    acceptor: SslAcceptor,
    files: &Files,
    client_args: Vec<String>,
) -> (Result<SslStream<TcpStream>, String>, Wire, peers::Finished) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr: SocketAddr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let (tcp, _) = match listener.accept() {
            Ok(c) => c,
            Err(e) => {
                let _ = tx.send((Err(format!("accept failed: {e}")), Wire::default()));
                return;
            }
        };
        tcp.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        tcp.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        let mut ssl = Ssl::new(acceptor.context()).unwrap();
        let wire = Wire::record_ssl(&mut ssl);
        let result = match ssl.accept(tcp) {
            Ok(mut s) => {
                let mut buf = [0u8; 64];
                // Read the client's line: in TLS 1.3 a client learns only now whether the
                // server took its certificate.
                let _ = s.ssl_read(&mut buf);
                let _ = s.ssl_write(b"welcome\n");
                // Read on to the client's close_notify, answer it and close the TCP
                // connection (the stream is kept for what it knows of the peer): s_client,
                // once its input ends, waits up to 500 ms for the server to close.
                while matches!(s.ssl_read(&mut buf), Ok(n) if n > 0) {}
                let _ = s.shutdown();
                let _ = s.get_ref().shutdown(std::net::Shutdown::Both);
                Ok(s)
            }
            Err(e) => Err(explain::handshake(&e)),
        };
        let _ = tx.send((result, wire));
    });
    let mut args = peers::verifying_client_args(files);
    args.push("-msg".into());
    args.extend(client_args);
    let peer = peers::run_s_client(addr, &args, b"hello\n", PEER_TIMEOUT);
    let (accepted, wire) = rx.recv_timeout(PEER_TIMEOUT).unwrap_or_else(|_| {
        panic!(
            "your server did not finish the handshake in time\n{}",
            peer.transcript
        )
    });
    (accepted, wire, peer)
}

/// Your server (identity `server`, trusting `ca.crt`) against `openssl s_client` presenting
/// the identity `client` (or none).
fn learner_server_with(files: &Files, client: Option<&str>) -> ServerRun {
    callback_first();
    let failures = Failures::default();
    let (cert, key, ca) = (
        files.path("server.chain.crt"),
        files.path("server.key"),
        files.path("ca.crt"),
    );
    let f = failures.clone();
    let acceptor =
        testkit::call("server", move || server(&cert, &key, &ca, &f)).unwrap_or_else(|e| {
            panic!(
                "server() failed on the workbook's good files: {}",
                explain::stack(&e)
            )
        });
    let args = client
        .map(|c| identity_args(files, c, "-cert", "-key", "-cert_chain"))
        .unwrap_or_default();
    let (accepted, wire, peer) = serve_once(acceptor, files, args);
    let failures = failures.lock().unwrap().clone();
    ServerRun {
        accepted,
        failures,
        wire,
        peer,
    }
}

fn authenticated(stream: SslStream<TcpStream>) -> Option<String> {
    testkit::call("authenticated_peer", move || {
        authenticated_peer(stream.ssl())
    })
}

#[test]
fn server_accepts_a_client_signed_by_its_ca_and_knows_its_name() {
    let files = shared_files();
    let run = learner_server_with(&files, Some("client"));
    let story = run.story();
    let stream = run.accepted.unwrap_or_else(|e| {
        panic!("Your server refused a client whose certificate its CA signed: {e}\n{story}")
    });
    assert_eq!(
        authenticated(stream).as_deref(),
        Some("O=TLS Workbook, CN=workbook client"),
        "authenticated_peer should name the client that presented a good certificate.\n{story}"
    );
}

#[test]
fn a_client_without_a_certificate_is_refused() {
    let files = shared_files();
    let run = learner_server_with(&files, None);
    if run.accepted.is_ok() {
        panic!(
            "Your server let in a client that sent no certificate at all. A server that must \
             know its clients needs FAIL_IF_NO_PEER_CERT beside PEER: with PEER alone, OpenSSL \
             asks for a certificate and carries on without one.\n{}",
            run.story()
        );
    }
    assert_eq!(
        run.wire.fatal_alert(),
        Some(116),
        "Your server refused the anonymous client, but TLS 1.3 says why with the alert \
         certificate_required (116).\n{}",
        run.story()
    );
}

#[test]
fn a_client_from_another_ca_is_refused() {
    let files = shared_files();
    let run = learner_server_with(&files, Some("client-other-ca"));
    let story = run.story();
    if run.accepted.is_ok() {
        panic!(
            "Your server let in a client whose certificate a CA it does not trust signed: \
             anyone can buy or make such a certificate, so your server would let anyone in \
             under any name.\n{story}"
        );
    }
    assert!(
        run.failures.iter().any(|f| f.error.as_raw() == 20 && f.depth == 0),
        "Your server refused the stranger, as it should, but your verify callback did not \
         record why (expected error 20, unable to get local issuer certificate, at depth 0).\n{story}"
    );
    assert_eq!(
        run.wire.fatal_alert(),
        Some(48),
        "the alert for a client from an unknown CA is unknown_ca (48).\n{story}"
    );
}

#[test]
fn a_client_certificate_not_signed_by_the_ca_itself_is_refused() {
    let files = shared_files();
    let run = learner_server_with(&files, Some("client-chain"));
    let story = run.story();
    if run.accepted.is_ok() {
        panic!(
            "Your server let in a client whose certificate an intermediate CA signed (leaf + \
             intermediate + root), while Example 1 wants client certificates signed by the CA \
             itself. The verify depth counts intermediates: 0 allows none, 1 allows one. Every \
             intermediate the CA ever made could otherwise issue your users' certificates.\n{story}"
        );
    }
    assert!(
        run.failures
            .iter()
            .any(|f| f.error.as_raw() == 22 && f.depth == 1),
        "Your server refused the client under an intermediate, as it should, but your verify \
         callback did not record error 22 (certificate chain too long) at depth 1.\n{story}"
    );
}

/// A server with `PEER` alone: it asks for a client certificate and goes on without one.
fn server_asking_politely(files: &Files) -> SslAcceptor {
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
    b.set_certificate_chain_file(files.path("server.chain.crt"))
        .unwrap();
    b.set_private_key_file(files.path("server.key"), openssl::ssl::SslFiletype::PEM)
        .unwrap();
    b.set_ca_file(files.path("ca.crt")).unwrap();
    b.set_verify(SslVerifyMode::PEER);
    b.build()
}

#[test]
fn an_anonymous_client_is_not_authenticated() {
    let files = shared_files();
    let (accepted, wire, peer) = serve_once(server_asking_politely(&files), &files, vec![]);
    let stream = accepted.unwrap_or_else(|e| {
        panic!(
            "the test's server (PEER alone) should let an anonymous client in: {e}\n{}",
            peer.transcript
        )
    });
    let result = stream.ssl().verify_result();
    let who = authenticated(stream);
    assert_eq!(
        who,
        None,
        "The client sent no certificate, and verify_result() is {:?} (\"{}\") all the same: \
         OpenSSL had nothing to verify, so nothing failed. authenticated_peer called it \
         {who:?}. Code that takes X509_V_OK for \"authenticated\" lets in anyone who simply \
         sends no certificate.\nWire: {wire}",
        result.as_raw(),
        result.error_string()
    );
}

#[test]
fn an_unverified_certificate_is_not_authenticated() {
    let files = shared_files();
    callback_first();
    let failures = Failures::default();
    let connector = probe(&files.path("ca.crt"), &failures).unwrap();
    let server = SServer::with_identity(&files, "untrusted", &["-msg"]);
    let tcp = TcpStream::connect(server.addr).unwrap();
    tcp.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let stream = connector.connect(certs::HOST, tcp).unwrap_or_else(|e| {
        panic!(
            "the probe finishes every handshake: {}",
            explain::handshake(&e)
        )
    });
    let result = stream.ssl().verify_result();
    let who = authenticated(stream);
    assert_eq!(
        who,
        None,
        "The server presented a certificate that did not verify ({}), and authenticated_peer \
         still called it {who:?}. Having a certificate proves nothing: anyone can make one. \
         Only a certificate that verified names the peer.\n{}",
        explain::verify(result),
        server.transcript()
    );
    assert!(
        failures
            .lock()
            .unwrap()
            .iter()
            .any(|f| f.error.as_raw() == 20),
        "the probe should have recorded error 20"
    );
}

// ---------------------------------------------------------------------------------------
// The callback itself

#[test]
fn the_callback_records_the_error_and_its_depth_and_keeps_openssls_verdict() {
    let p = pki();
    let (returned, recorded) = callback_on(&p.expired.cert, &[], &p.ca.cert, None);
    assert!(
        !returned,
        "Your verify callback returned true for an expired certificate: a callback that \
         overrules OpenSSL's \"no\" turns verification off, whatever the mode says."
    );
    assert_eq!(
        recorded
            .iter()
            .map(|f| (f.error.as_raw(), f.depth))
            .collect::<Vec<_>>(),
        vec![(10, 0)],
        "Your verify callback should record exactly what failed: error 10 (expired) at depth 0."
    );
    let (returned, recorded) = callback_on(&p.server.cert, &[], &p.ca.cert, Some(true));
    assert!(
        returned,
        "Your verify callback turned OpenSSL's \"yes\" into a \"no\"."
    );
    assert!(
        recorded.is_empty(),
        "Your verify callback recorded a failure for a certificate that verified: {}",
        shown(&recorded)
    );
}
