//! Chapter 13: renegotiation, post-handshake authentication and key update, graded by peers
//! nobody here wrote. `openssl s_client -msg` and `s_server -msg` print every handshake
//! message they send (`>>>`) and receive (`<<<`), so a test can see a second handshake, a
//! certificate request after the handshake, or a KeyUpdate, on the wire.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use certs::Files;
mod example;

use ch13_renegotiation::{
    renegotiate_as_client, require_client_certificate, update_keys, upgradable_acceptor,
    upgradable_connector, Upgrade, MAX_RECEIVED,
};
use example::HandshakeMark;
use openssl::nid::Nid;
use openssl::ssl::{SslAcceptor, SslConnector, SslMethod, SslStream, SslVersion};
use openssl::x509::X509Ref;
use testkit::peers::{self, SServer};
use testkit::process::Process;
use testkit::{explain, panic_text, wire, IO_TIMEOUT};

testkit::no_system_trust!();

/// What the client sends to ask for the private part.
const UPGRADE: &[u8] = b"upgrade\n";
/// What the client sends right behind its request, before the server asks anything: the
/// server's first read after asking returns it, and no certificate is in yet.
const EARLY: &[u8] = b"early data\n";
/// What the client sends once its certificate is on its way.
const AFTER: &[u8] = b"data after the upgrade\n";
/// The common name of the workbook's client certificate.
const CLIENT_CN: &str = "workbook client";
/// How long a test waits for a message it expects a peer to print.
const SEEN: Duration = Duration::from_secs(5);

/// One message line of `-msg` output: `>>>` sent or `<<<` received, named `name` (the
/// text after the last comma), e.g. `>>> TLS 1.2, Handshake [length 038f], Certificate`.
fn lines<'a>(out: &'a str, dir: &'a str, name: &'a str) -> impl Iterator<Item = &'a str> {
    out.lines()
        .filter(move |l| l.starts_with(dir) && l.rsplit(", ").next() == Some(name))
}

fn count(out: &str, dir: &str, name: &str) -> usize {
    lines(out, dir, name).count()
}

/// The length `-msg` printed for a message line.
fn length(line: &str) -> usize {
    line.split("[length ")
        .nth(1)
        .and_then(|r| r.split(']').next())
        .and_then(|h| usize::from_str_radix(h, 16).ok())
        .unwrap_or(0)
}

/// Whether `out` shows a Certificate message received that holds a certificate. An empty
/// one, "I have none", is 7 bytes long, or 40 in answer to a TLS 1.3 request after the
/// handshake (it repeats the request's 32-byte context); the workbook's certificates are
/// hundreds of bytes.
fn received_a_certificate(out: &str) -> bool {
    lines(out, "<<<", "Certificate").any(|l| length(l) > 128)
}

/// Waits until `p` printed at least `n` lines of `dir` `name`.
fn wait_count(p: &Process, dir: &str, name: &str, n: usize, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if count(&p.stdout(), dir, name) >= n {
            return true;
        }
        thread::sleep(Duration::from_millis(10));
    }
    false
}

/// One line per message, as a peer's `-msg` output shows them.
fn wire_of(p: &Process) -> String {
    wire::from_msg_output(&p.stdout())
}

fn common_name(cert: &X509Ref) -> String {
    cert.subject_name()
        .entries_by_nid(Nid::COMMONNAME)
        .next()
        .map(|e| String::from_utf8_lossy(e.data().as_slice()).into_owned())
        .unwrap_or_default()
}

fn learner_acceptor(files: &Files) -> SslAcceptor {
    let chain = files.path("server.chain.crt");
    let key = files.path("server.key");
    let ca = files.path("ca.crt");
    testkit::call("upgradable_acceptor", move || {
        upgradable_acceptor(&chain, &key, &ca)
    })
    .unwrap_or_else(|e| panic!("upgradable_acceptor failed: {}", explain::stack(&e)))
}

/// What the test server saw of one connection: the learner's verdict, as text.
type Served = Result<(String, Vec<u8>), String>;

/// A server on the learner's acceptor: for one connection, reads the client's first line,
/// calls `require_client_certificate`, answers "hello CN" and closes.
fn learner_server(acceptor: SslAcceptor) -> (SocketAddr, mpsc::Receiver<Served>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("address");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let Ok((tcp, _)) = listener.accept() else {
            return;
        };
        tcp.set_read_timeout(Some(IO_TIMEOUT)).ok();
        tcp.set_write_timeout(Some(IO_TIMEOUT)).ok();
        let mut tls = match acceptor.accept(tcp) {
            Ok(tls) => tls,
            Err(e) => {
                let _ = tx.send(Err(format!(
                    "the first handshake failed, before any certificate was asked for: {}",
                    explain::handshake(&e)
                )));
                return;
            }
        };
        // One byte at a time: what follows the first line stays in OpenSSL's buffer.
        let mut byte = [0u8; 1];
        while tls.read(&mut byte).is_ok_and(|n| n == 1) && byte[0] != b'\n' {}
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            require_client_certificate(&mut tls)
        }));
        let served = match result {
            Ok(Ok(Upgrade {
                certificate,
                received,
            })) => {
                let cn = common_name(&certificate);
                let _ = tls.write_all(format!("hello {cn}\n").as_bytes());
                let _ = tls.shutdown();
                Ok((cn, received))
            }
            Ok(Err(e)) => Err(e.to_string()),
            Err(panic) => Err(panic_text(&*panic)),
        };
        let _ = tx.send(served);
    });
    (addr, rx)
}

/// s_client to the learner's server: `version`, with the client certificate `identity`
/// (or none), offering post-handshake auth under TLS 1.3.
fn s_client(
    files: &Files,
    addr: SocketAddr,
    version: SslVersion,
    identity: Option<&str>,
) -> Process {
    let mut args = peers::verifying_client_args(files);
    args.push("-msg".into());
    if version == SslVersion::TLS1_3 {
        args.extend(["-tls1_3".into(), "-enable_pha".into()]);
    } else {
        args.push("-tls1_2".into());
    }
    if let Some(name) = identity {
        args.extend(peers::identity_args(
            files,
            name,
            "-cert",
            "-key",
            "-cert_chain",
        ));
    }
    peers::s_client(addr, &args)
}

/// Drives one upgrade: the client asks, the learner's server requests the certificate,
/// s_client answers it (inside its reads), then sends more data, which the server's read
/// loop must be waiting for. Returns what the server said, and s_client for its wire.
fn upgrade(files: &Files, version: SslVersion, identity: Option<&str>) -> (Served, Process) {
    let (addr, rx) = learner_server(learner_acceptor(files));
    let mut c = s_client(files, addr, version, identity);
    if let Err(e) = c.wait_for("\n---\n", IO_TIMEOUT) {
        panic!("s_client could not make the first handshake with your server: {e}");
    }
    let _ = c.send(&[UPGRADE, EARLY].concat());
    let deadline = Instant::now() + testkit::CALL_TIMEOUT;
    let mut sent_after = false;
    loop {
        if let Ok(served) = rx.try_recv() {
            // Let s_client print the server's last words (an alert, the hello line).
            let until = Instant::now() + Duration::from_millis(500);
            while Instant::now() < until {
                let out = c.stdout();
                if out.contains(", fatal ") || out.contains("hello ") {
                    break;
                }
                thread::sleep(Duration::from_millis(5));
            }
            return (served, c);
        }
        // s_client's second Finished: its answer to the request is all on the wire.
        if !sent_after && count(&c.stdout(), ">>>", "Finished") >= 2 {
            let _ = c.send(AFTER);
            sent_after = true;
        }
        if Instant::now() > deadline {
            return (
                Err(format!(
                    "require_client_certificate did not return within {} s",
                    testkit::CALL_TIMEOUT.as_secs()
                )),
                c,
            );
        }
        thread::sleep(Duration::from_millis(10));
    }
}

fn version_name(v: SslVersion) -> &'static str {
    if v == SslVersion::TLS1_3 {
        "TLS 1.3"
    } else {
        "TLS 1.2"
    }
}

/// Why the certificate did not arrive, judged from what s_client saw.
fn why_no_certificate(c: &Process, version: SslVersion, err: &str) -> String {
    let out = c.stdout();
    let asked = if version == SslVersion::TLS1_3 {
        count(&out, "<<<", "CertificateRequest") >= 1
    } else {
        count(&out, "<<<", "HelloRequest") >= 1
    };
    let second_hello = count(&out, "<<<", "ServerHello") >= 2;
    if err.contains("not yet implemented") {
        return String::new();
    }
    if !asked {
        return format!(
            "s_client never received the request ({}). Asking only marks the connection; a \
             handshake step puts the request on the wire.",
            if version == SslVersion::TLS1_3 {
                "a CertificateRequest after the handshake"
            } else {
                "a HelloRequest"
            }
        );
    }
    if version == SslVersion::TLS1_2
        && second_hello
        && count(&out, "<<<", "CertificateRequest") == 0
    {
        return "The second handshake resumed the first session: a resumed handshake asks for \
                no certificate, so none came. Make every renegotiation a full handshake."
            .into();
    }
    if version == SslVersion::TLS1_2 && err.contains("session id context") {
        return "The second handshake tried to resume the first session, which asks for no \
                certificate, and OpenSSL refused to resume without a session id context. \
                Make every renegotiation a full handshake."
            .into();
    }
    if received_a_certificate_sent(&out) && err.contains("did not verify") {
        return "s_client sent the workbook's client certificate, and your server could not \
                verify it: the server needs the client CA to check it against."
            .into();
    }
    if err.contains("within") {
        return "s_client answered and sent more data, and your read loop kept waiting: stop \
                reading once the client's certificate is in."
            .into();
    }
    String::new()
}

fn received_a_certificate_sent(out: &str) -> bool {
    lines(out, ">>>", "Certificate").any(|l| length(l) > 128)
}

fn certificate_arrives(version: SslVersion, how: &str) {
    let files = Files::new().expect("certificates");
    let (served, c) = upgrade(&files, version, Some("client"));
    match served {
        Ok((cn, received)) => {
            assert_eq!(
                cn, CLIENT_CN,
                "require_client_certificate returned a certificate for {cn:?}, not the \
                 client's ({CLIENT_CN:?})"
            );
            assert!(
                received == [EARLY, AFTER].concat(),
                "require_client_certificate returned {:?} as the data that came while it \
                 waited; the client sent {:?} before its certificate and {:?} after it. Keep \
                 reading until the certificate is in, and keep all that came meanwhile.",
                String::from_utf8_lossy(&received),
                String::from_utf8_lossy(EARLY),
                String::from_utf8_lossy(AFTER)
            );
            assert!(
                c.stdout().contains("hello workbook client"),
                "s_client did not get the server's answer.\n  wire: {}",
                wire_of(&c)
            );
        }
        Err(e) => panic!(
            "under {how}, your server asked a client that has a good certificate for it, \
             and require_client_certificate failed: {e}. {}\n  s_client's wire: {}",
            why_no_certificate(&c, version, &e),
            wire_of(&c)
        ),
    }
}

#[test]
fn tls12_renegotiation_brings_the_client_certificate() {
    certificate_arrives(SslVersion::TLS1_2, "TLS 1.2 (renegotiation)");
}

#[test]
fn tls13_post_handshake_auth_brings_the_client_certificate() {
    certificate_arrives(
        SslVersion::TLS1_3,
        "TLS 1.3 (post-handshake authentication)",
    );
}

/// The upgrade of a client that must be refused: an error, and the refusal on the wire.
fn refused(identity: Option<&str>, what: &str, alert_hint: &str) {
    let files = Files::new().expect("certificates");
    for version in [SslVersion::TLS1_2, SslVersion::TLS1_3] {
        let (served, c) = upgrade(&files, version, identity);
        let alerts = c
            .stdout()
            .lines()
            .filter(|l| l.starts_with("<<<") && l.contains(", fatal "))
            .count();
        match served {
            Ok((cn, _)) => panic!(
                "your server accepted {what} under {} (require_client_certificate \
                 returned a certificate for {cn:?}). {alert_hint}\n  s_client's wire: {}",
                version_name(version),
                wire_of(&c)
            ),
            Err(e) if e.contains("not yet implemented") => panic!("{e}"),
            Err(_) if alerts > 0 => {}
            Err(e) => panic!(
                "your server gave up on {what} under {} ({e}), but did not refuse \
                 it during the exchange: s_client received no fatal alert. {alert_hint}\n  \
                 s_client's wire: {}",
                version_name(version),
                wire_of(&c)
            ),
        }
    }
}

#[test]
fn a_client_without_a_certificate_is_refused() {
    refused(
        None,
        "a client that has no certificate",
        "Asking is not requiring: the request must also fail a client that answers with \
         none, with an alert, so that it knows why.",
    );
}

#[test]
fn a_client_certificate_nobody_trusts_is_refused() {
    refused(
        Some("client-other-ca"),
        "a client certificate from a CA it does not trust (\"Somebody Else's Root CA\")",
        "A certificate counts only if it verifies against the client CA.",
    );
}

/// A TLS 1.2 client of the test's own (certificate `client`) on the learner's server: it
/// sends its request and then `data` in writes of `chunk` bytes without reading, so the
/// server's HelloRequest waits unanswered until the client reads.
fn writing_client(
    files: &Files,
    chunk: usize,
    data: usize,
) -> (SslStream<TcpStream>, mpsc::Receiver<Served>) {
    let (addr, rx) = learner_server(learner_acceptor(files));
    let mut b = SslConnector::builder(SslMethod::tls_client()).expect("connector");
    b.set_ca_file(files.path("ca.crt")).expect("CA file");
    b.set_certificate_chain_file(files.path("client.crt"))
        .expect("client certificate");
    b.set_private_key_file(files.path("client.key"), openssl::ssl::SslFiletype::PEM)
        .expect("client key");
    let mut tls = connect(&b.build(), addr, SslVersion::TLS1_2);
    tls.write_all(UPGRADE).expect("the request");
    let mut sent = 0;
    while sent < data {
        let n = chunk.min(data - sent);
        if tls.write_all(&vec![b'x'; n]).is_err() {
            break; // the server gave up and closed: what it said is in `rx`
        }
        sent += n;
    }
    (tls, rx)
}

#[test]
fn a_client_that_sends_data_instead_of_a_certificate_is_cut_off() {
    let files = Files::new().expect("certificates");
    // Writes of 1,000 bytes: the server's reads never add up to exactly 64 KiB.
    let (_tls, rx) = writing_client(&files, 1000, 4 * MAX_RECEIVED);
    match rx.recv_timeout(SEEN) {
        Ok(Ok((cn, received))) => panic!(
            "require_client_certificate returned a certificate for {cn:?} from a client that \
             never answered the request, with {} bytes of its data",
            received.len()
        ),
        Ok(Err(e)) if e.contains("not yet implemented") => panic!("{e}"),
        Ok(Err(_)) => {}
        Err(_) => panic!(
            "a client sent {} bytes instead of answering the certificate request, and \
             require_client_certificate was still reading {} s after the last of them. It \
             keeps at most MAX_RECEIVED ({MAX_RECEIVED}) bytes while it waits: past that, a \
             client that never answers would make your server hold all it sends.",
            4 * MAX_RECEIVED,
            SEEN.as_secs()
        ),
    }
}

#[test]
fn exactly_max_received_bytes_before_the_certificate_are_kept() {
    let files = Files::new().expect("certificates");
    let (mut tls, rx) = writing_client(&files, 4096, MAX_RECEIVED);
    // Reads answer the HelloRequest (the second handshake, with the certificate), then wait
    // for data that is not coming: short reads until the handshake is done.
    tls.get_ref()
        .set_read_timeout(Some(Duration::from_millis(20)))
        .ok();
    let before = HandshakeMark::of(tls.ssl());
    let deadline = Instant::now() + SEEN;
    let mut buf = [0u8; 64];
    while !before.renewed_by(&HandshakeMark::of(tls.ssl())) && Instant::now() < deadline {
        let _ = tls.read(&mut buf);
    }
    let _ = tls.write_all(AFTER);
    match rx.recv_timeout(testkit::CALL_TIMEOUT) {
        Ok(Ok((_, received))) => assert_eq!(
            received.len(),
            MAX_RECEIVED + AFTER.len(),
            "require_client_certificate kept {} bytes; the client sent {MAX_RECEIVED} before \
             its certificate and {} after",
            received.len(),
            AFTER.len()
        ),
        Ok(Err(e)) => panic!(
            "a client sent exactly MAX_RECEIVED ({MAX_RECEIVED}) bytes before its certificate, \
             and require_client_certificate refused it: {e}. MAX_RECEIVED is the most it \
             keeps, so that much is still allowed."
        ),
        Err(_) => panic!(
            "require_client_certificate did not return within {} s",
            testkit::CALL_TIMEOUT.as_secs()
        ),
    }
}

/// `openssl s_server` for the learner's client: `version`, verifying client certificates
/// against the workbook's CA when it asks for them, printing every message.
fn s_server(files: &Files, extra: &[&str]) -> SServer {
    let mut args: Vec<String> = vec![
        "-msg".into(),
        "-CAfile".into(),
        files.path("ca.crt").display().to_string(),
        "-verify_return_error".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    SServer::with_identity(files, "server", &args)
}

fn learner_connector(files: &Files) -> SslConnector {
    let ca = files.path("ca.crt");
    let cert = files.path("client.crt");
    let key = files.path("client.key");
    testkit::call("upgradable_connector", move || {
        upgradable_connector(&ca, &cert, &key)
    })
    .unwrap_or_else(|e| panic!("upgradable_connector failed: {}", explain::stack(&e)))
}

fn connect(c: &SslConnector, addr: SocketAddr, version: SslVersion) -> SslStream<TcpStream> {
    let tcp = TcpStream::connect(addr).unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
    tcp.set_read_timeout(Some(IO_TIMEOUT)).ok();
    tcp.set_write_timeout(Some(IO_TIMEOUT)).ok();
    let mut ssl = c
        .configure()
        .and_then(|c| c.into_ssl(certs::HOST))
        .expect("an Ssl");
    ssl.set_min_proto_version(Some(version)).expect("version");
    ssl.set_max_proto_version(Some(version)).expect("version");
    ssl.connect(tcp)
        .unwrap_or_else(|e| panic!("the first handshake failed: {}", explain::handshake(&e)))
}

/// Reads one line the server sends, answering whatever handshake comes before it.
fn read_line(tls: &mut SslStream<TcpStream>) -> Result<String, String> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\n") {
        match tls.read(&mut byte) {
            Ok(0) => return Err("the server closed the connection".into()),
            Ok(_) => line.push(byte[0]),
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(String::from_utf8_lossy(&line).into_owned())
}

/// The learner's client, told by s_server's `command` to show its certificate: the test
/// client reads while s_server asks, then s_server sends a line.
fn client_is_asked(version: SslVersion, extra: &[&str], command: &[u8], how: &str) {
    let files = Files::new().expect("certificates");
    let mut server = s_server(&files, extra);
    let c = learner_connector(&files);
    let mut tls = connect(&c, server.addr, version);
    tls.write_all(b"hi\n").expect("write");
    server
        .process
        .wait_for("hi\n", IO_TIMEOUT)
        .unwrap_or_else(|e| panic!("s_server did not get the first line: {e}"));
    let _ = server.process.send(command);
    let reader = thread::spawn(move || {
        let line = read_line(&mut tls);
        (line, tls)
    });
    // The client's answer is on the wire when s_server received its Finished.
    let _ = wait_count(&server.process, "<<<", "Finished", 2, SEEN);
    let _ = server.process.send(b"after\n");
    let (line, _tls) = reader.join().expect("the reading thread");
    let out = server.process.stdout();
    // s_server says on stderr when it could not ask at all.
    let err = server.process.stderr();
    let could_not_ask = [
        "SSL_verify_client_post_handshake",
        "Failed to initiate request",
    ]
    .iter()
    .any(|w| out.contains(w) || err.contains(w));
    assert!(
        received_a_certificate(&out),
        "openssl s_server asked your client for its certificate ({how}) and got none: \
         {}.\n  s_server's wire: {}",
        if version == SslVersion::TLS1_3 && could_not_ask {
            "s_server could not even ask: a TLS 1.3 client must offer post-handshake \
             authentication in its hello, or no server may ask after the handshake"
                .to_string()
        } else if lines(&out, "<<<", "Certificate").next().is_some() {
            "your client answered with an empty certificate message: it has no \
             certificate to show"
                .to_string()
        } else {
            match line {
                Err(e) => format!("your client did not answer ({e})"),
                Ok(_) => {
                    "your client did not answer, and read on as if nothing was asked".to_string()
                }
            }
        },
        wire::from_msg_output(&out)
    );
}

#[test]
fn your_client_answers_a_tls12_renegotiation_with_its_certificate() {
    client_is_asked(
        SslVersion::TLS1_2,
        &["-no_resumption_on_reneg"],
        b"R\n",
        "a renegotiation that requests a certificate, TLS 1.2",
    );
}

#[test]
fn your_client_answers_post_handshake_auth_with_its_certificate() {
    client_is_asked(
        SslVersion::TLS1_3,
        &[],
        b"c\n",
        "a certificate request after the handshake, TLS 1.3",
    );
}

fn reference_connector(files: &Files) -> SslConnector {
    let mut b = SslConnector::builder(SslMethod::tls_client()).expect("connector");
    b.set_ca_file(files.path("ca.crt")).expect("CA file");
    b.build()
}

/// Calls the learner's `renegotiate_as_client` on a TLS 1.2 connection to s_server.
fn client_renegotiation(
    extra: &[&str],
) -> (std::io::Result<()>, HandshakeMark, HandshakeMark, SServer) {
    let files = Files::new().expect("certificates");
    let mut args = vec!["-tls1_2"];
    args.extend(extra);
    let server = s_server(&files, &args);
    let c = reference_connector(&files);
    let tls = connect(&c, server.addr, SslVersion::TLS1_2);
    let before = HandshakeMark::of(tls.ssl());
    let (result, after) = testkit::call("renegotiate_as_client", move || {
        let mut tls = tls;
        let r = renegotiate_as_client(&mut tls);
        (r, HandshakeMark::of(tls.ssl()))
    });
    (result, before, after, server)
}

#[test]
fn a_refused_client_renegotiation_is_an_error() {
    let (result, _, _, server) = client_renegotiation(&[]);
    let wire = wire::from_msg_output(&server.process.stdout());
    match result {
        Ok(()) => panic!(
            "renegotiate_as_client returned Ok, but openssl s_server (OpenSSL 3's default) \
             refuses a renegotiation a client starts{}. The caller must hear of it: a \
             refusal is an error.\n  s_server's wire: {wire}",
            if count(&server.process.stdout(), "<<<", "ClientHello") < 2 {
                "; and your client never even sent the second ClientHello: asking only marks \
                 the connection, a handshake step sends it"
            } else {
                ""
            }
        ),
        Err(e) if e.to_string().contains("not yet implemented") => panic!("{e}"),
        Err(e) => assert!(
            e.to_string().contains("refused"),
            "renegotiate_as_client failed as it should, but its error does not say that the \
             server refused: {e}"
        ),
    }
}

#[test]
fn an_allowed_client_renegotiation_completes() {
    let (result, before, after, server) = client_renegotiation(&["-client_renegotiation"]);
    let out = server.process.stdout();
    if let Err(e) = &result {
        panic!(
            "renegotiate_as_client failed against a server that allows client renegotiation \
             (s_server -client_renegotiation): {e}\n  s_server's wire: {}",
            wire::from_msg_output(&out)
        );
    }
    assert!(
        count(&out, "<<<", "ClientHello") >= 2 && before.renewed_by(&after),
        "renegotiate_as_client returned Ok, but no second handshake finished before it \
         returned (s_server received {} ClientHello; the Finished messages {} changed). Asking \
         only marks the connection; the handshake must run before you return.\n  s_server's \
         wire: {}",
        count(&out, "<<<", "ClientHello"),
        if before.renewed_by(&after) {
            ""
        } else {
            "have not"
        },
        wire::from_msg_output(&out)
    );
}

/// A TLS 1.3 connection to s_server on which the learner's `update_keys` runs.
#[test]
fn a_key_update_is_sent_and_answered() {
    let files = Files::new().expect("certificates");
    let mut server = s_server(&files, &["-tls1_3"]);
    let c = reference_connector(&files);
    let mut tls = connect(&c, server.addr, SslVersion::TLS1_3);
    tls.write_all(b"hi\n").expect("write");
    server
        .process
        .wait_for("hi\n", IO_TIMEOUT)
        .unwrap_or_else(|e| panic!("s_server did not get the first line: {e}"));
    let (result, mut tls) = testkit::call("update_keys", move || {
        let r = update_keys(&mut tls);
        (r, tls)
    });
    if let Err(e) = result {
        panic!("update_keys failed on a TLS 1.3 connection: {e}");
    }
    // Sent before update_keys returned: s_server sees it without any more data from us.
    let seen = wait_count(&server.process, "<<<", "KeyUpdate", 1, SEEN);
    assert!(
        seen,
        "update_keys returned, but no KeyUpdate reached openssl s_server within {} s. \
         Scheduling one only marks the connection; it goes out with the next handshake step \
         or write, and update_keys must send it itself.\n  s_server's wire: {}",
        SEEN.as_secs(),
        wire::from_msg_output(&server.process.stdout())
    );
    // s_server answers with its own KeyUpdate, sent before its next data.
    let _ = server.process.send(b"after\n");
    let line = read_line(&mut tls);
    // s_server's output may trail the data it sent: wait for it.
    let answered = wait_count(&server.process, ">>>", "KeyUpdate", 1, SEEN);
    let out = server.process.stdout();
    assert!(
        answered,
        "your KeyUpdate reached s_server, which did not answer with its own: it was not asked \
         to. A key update can ask the peer to renew its keys too.\n  s_server's wire: {}",
        wire::from_msg_output(&out)
    );
    assert_eq!(
        line.as_deref(),
        Ok("after\n"),
        "the data s_server sent after the key updates did not arrive"
    );
}

#[test]
fn a_key_update_on_tls12_is_an_error() {
    let files = Files::new().expect("certificates");
    let server = s_server(&files, &["-tls1_2"]);
    let c = reference_connector(&files);
    let tls = connect(&c, server.addr, SslVersion::TLS1_2);
    let result = testkit::call("update_keys", move || {
        let mut tls = tls;
        update_keys(&mut tls)
    });
    match result {
        Ok(()) => panic!(
            "update_keys returned Ok on a TLS 1.2 connection, which has no key update: the \
             caller believes its keys were renewed and they were not. OpenSSL said no; pass \
             that on."
        ),
        Err(e) if e.to_string().contains("not yet implemented") => panic!("{e}"),
        Err(_) => {}
    }
}

#[test]
fn the_worked_example_tells_a_second_handshake_from_none() {
    let (result, before, after, _server) = client_renegotiation(&["-client_renegotiation"]);
    result.unwrap_or_else(|e| panic!("renegotiate_as_client failed: {e}"));
    assert_eq!(before.renegotiations, 0);
    assert_eq!(after.renegotiations, 1, "OpenSSL counts one renegotiation");
    assert!(
        before.renewed_by(&after),
        "a second handshake gives new Finished messages"
    );
    assert!(!after.renewed_by(&after));
    assert!(!before.finished.is_empty() && !before.peer_finished.is_empty());
}
