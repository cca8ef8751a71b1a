//! Chapter 09: the summary of the peer's certificate, compared with what `certs` made and
//! with what `openssl x509` prints for the same file, on connections to real
//! `openssl s_server` and from real `openssl s_client` peers.

use std::fs;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::thread;
use std::time::{SystemTime, UNIX_EPOCH};

use certs::Files;
use ch09_peer_certificate::{
    common_name, days_left, describe_own, fingerprint, peer_summary, PeerError, Summary,
};
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::ssl::{
    HandshakeError, SslAcceptor, SslConnector, SslFiletype, SslMethod, SslStream, SslVerifyMode,
};
use openssl::x509::extension::{ExtendedKeyUsage, SubjectAlternativeName};
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509Builder, X509NameBuilder, X509};
use tempfile::TempDir;
use testkit::peers::{self, SServer};
use testkit::process::Process;
use testkit::{explain, IO_TIMEOUT};

// No verdict here depends on the CAs this machine trusts (see the macro).
testkit::no_system_trust!();

// --- What openssl x509 says -----------------------------------------------------------------

/// The fields of `openssl x509 -noout -subject -ext subjectAltName -fingerprint -sha256
/// -issuer -enddate`, as the program printed them.
#[derive(Debug)]
struct X509Print {
    text: String,
    common_name: Option<String>,
    dns_names: Vec<String>,
    ip_addresses: Vec<IpAddr>,
    issuer: String,
    sha256_fingerprint: String,
    /// `Nov 27 17:14:40 2027 GMT`, as printed after `notAfter=`.
    not_after: String,
}

fn openssl_x509(cert: &Path) -> X509Print {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-subject", "-ext", "subjectAltName"])
        .args(["-fingerprint", "-sha256", "-issuer", "-enddate", "-in"])
        .arg(cert)
        .output()
        .expect("run `openssl x509`: the tests need the openssl program");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "openssl x509 failed:\n{text}");
    let field = |prefix: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .map(|s| s.trim().to_string())
    };
    let subject = field("subject=").expect("a subject line");
    let common_name = subject
        .split(", ")
        .find_map(|part| part.strip_prefix("CN = "))
        .map(str::to_string);
    let mut dns_names = Vec::new();
    let mut ip_addresses = Vec::new();
    let mut lines = text.lines();
    if lines.any(|l| l.starts_with("X509v3 Subject Alternative Name")) {
        for part in lines.next().unwrap_or("").trim().split(", ") {
            if let Some(d) = part.strip_prefix("DNS:") {
                dns_names.push(d.to_string());
            } else if let Some(ip) = part.strip_prefix("IP Address:") {
                ip_addresses.push(ip.parse().expect("an IP address"));
            }
        }
    }
    let sha256_fingerprint = text
        .lines()
        .find_map(|l| {
            l.split_once("Fingerprint=")
                .map(|(_, f)| f.trim().to_string())
        })
        .expect("a fingerprint line");
    let issuer = field("issuer=").expect("an issuer line");
    let not_after = field("notAfter=").expect("a notAfter line");
    X509Print {
        text,
        common_name,
        dns_names,
        ip_addresses,
        issuer,
        sha256_fingerprint,
        not_after,
    }
}

/// `Nov 27 17:14:40 2027 GMT` (what `openssl x509 -enddate` prints) as an ASN.1 time.
fn asn1_from_openssl(s: &str) -> Asn1Time {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == parts[0])
    .expect("a month")
        + 1;
    let day: u32 = parts[1].parse().expect("a day");
    let hms = parts[2].replace(':', "");
    let year = parts[3];
    Asn1Time::from_str(&format!("{year}{month:02}{day:02}{hms}Z")).expect("a time")
}

/// Whole days from now to `t`, rounded down, from seconds (not from the learner's way).
fn floor_days(t: &Asn1Time) -> i64 {
    let d = Asn1Time::days_from_now(0).unwrap().diff(t).unwrap();
    (i64::from(d.days) * 86_400 + i64::from(d.secs)).div_euclid(86_400)
}

/// Calls the learner's code between two readings of the expected days, so a second that
/// ticks over between them cannot make the test flaky.
fn with_days<T>(not_after: &Asn1Time, f: impl FnOnce() -> T) -> (T, [i64; 2]) {
    let before = floor_days(not_after);
    let got = f();
    (got, [before, floor_days(not_after)])
}

// --- Certificates made here, signed by the workbook's root ------------------------------------

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A leaf signed by `certs`' root CA, valid from `from` to `until` seconds from now, with
/// the subject `O = TLS Workbook, CN = cn` (no CN when `cn` is None) and the subject
/// alternative names given; written into `dir` as NAME.crt and NAME.key.
fn make_leaf(
    dir: &Path,
    name: &str,
    cn: Option<&str>,
    dns: &[&str],
    ips: &[&str],
    validity: (i64, i64),
) -> (X509, PathBuf) {
    let mut subject = vec![("O", "TLS Workbook")];
    subject.extend(cn.map(|cn| ("CN", cn)));
    make_leaf_with_subject(dir, name, &subject, dns, ips, validity)
}

/// [`make_leaf`] with the subject's entries given, in order, as (short name, value).
fn make_leaf_with_subject(
    dir: &Path,
    name: &str,
    entries: &[(&str, &str)],
    dns: &[&str],
    ips: &[&str],
    (from, until): (i64, i64),
) -> (X509, PathBuf) {
    let ca = &certs::pki().ca;
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    let key: PKey<Private> = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
    let mut subject = X509NameBuilder::new().unwrap();
    for (field, value) in entries {
        subject.append_entry_by_text(field, value).unwrap();
    }
    let subject = subject.build();
    let mut b = X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    let mut serial = BigNum::new().unwrap();
    serial.rand(120, MsbOption::MAYBE_ZERO, false).unwrap();
    b.set_serial_number(&serial.to_asn1_integer().unwrap())
        .unwrap();
    b.set_subject_name(&subject).unwrap();
    b.set_issuer_name(ca.cert.subject_name()).unwrap();
    b.set_pubkey(&key).unwrap();
    let now = unix_now();
    b.set_not_before(&Asn1Time::from_unix(now + from).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::from_unix(now + until).unwrap())
        .unwrap();
    if !dns.is_empty() || !ips.is_empty() {
        let mut san = SubjectAlternativeName::new();
        for d in dns {
            san.dns(d);
        }
        for ip in ips {
            san.ip(ip);
        }
        let ext = san.build(&b.x509v3_context(Some(&ca.cert), None)).unwrap();
        b.append_extension(ext).unwrap();
    }
    b.append_extension(ExtendedKeyUsage::new().server_auth().build().unwrap())
        .unwrap();
    b.sign(&ca.key, MessageDigest::sha256()).unwrap();
    let cert = b.build();
    let crt = dir.join(format!("{name}.crt"));
    fs::write(&crt, cert.to_pem().unwrap()).unwrap();
    fs::write(
        dir.join(format!("{name}.key")),
        key.private_key_to_pem_pkcs8().unwrap(),
    )
    .unwrap();
    (cert, crt)
}

fn scratch() -> TempDir {
    tempfile::Builder::new()
        .prefix("ch09-")
        .tempdir()
        .expect("a temporary folder")
}

/// `openssl s_server` with `crt` and the key beside it (`NAME.key`).
fn s_server_with(crt: &Path) -> SServer {
    let key = crt.with_extension("key");
    SServer::start(&[
        "-msg".to_string(),
        "-cert".into(),
        peers::arg(crt),
        "-key".into(),
        peers::arg(&key),
    ])
}

// --- Connections ------------------------------------------------------------------------------

/// A client that trusts the workbook's root and checks the name "localhost"; `relax` lets
/// it change the connection before the handshake.
fn client_to(
    files: &Files,
    addr: SocketAddr,
    relax: impl FnOnce(&mut openssl::ssl::ConnectConfiguration),
) -> Result<SslStream<TcpStream>, HandshakeError<TcpStream>> {
    let mut b = SslConnector::builder(SslMethod::tls_client()).unwrap();
    b.set_ca_file(files.path("ca.crt")).unwrap();
    connect(b.build(), addr, relax)
}

fn connect(
    connector: SslConnector,
    addr: SocketAddr,
    relax: impl FnOnce(&mut openssl::ssl::ConnectConfiguration),
) -> Result<SslStream<TcpStream>, HandshakeError<TcpStream>> {
    let tcp = TcpStream::connect(addr).expect("connect to the peer");
    tcp.set_read_timeout(Some(IO_TIMEOUT)).ok();
    tcp.set_write_timeout(Some(IO_TIMEOUT)).ok();
    let mut config = connector.configure().unwrap();
    relax(&mut config);
    config.connect(certs::HOST, tcp)
}

/// A verified connection to `server`, or a panic that shows its transcript.
fn verified(
    files: &Files,
    server: &SServer,
    relax: impl FnOnce(&mut openssl::ssl::ConnectConfiguration),
) -> SslStream<TcpStream> {
    client_to(files, server.addr, relax).unwrap_or_else(|e| {
        panic!(
            "the test's own client could not connect: {}\n{}",
            explain::handshake(&e),
            server.transcript()
        )
    })
}

/// The learner's summary of the peer on `stream`.
fn learner_summary(stream: SslStream<TcpStream>) -> Result<Summary, PeerError> {
    testkit::call("peer_summary", move || peer_summary(stream.ssl()))
}

/// Compares every field of the learner's summary with what `openssl x509` printed for the
/// certificate the peer sent, and with the certificate itself.
fn compare(who: &str, got: &Summary, expected_days: [i64; 2], print: &X509Print, cert: &X509) {
    let context = format!(
        "(the peer is {who}; `openssl x509` printed:\n{})",
        print.text.trim_end()
    );
    assert_eq!(
        got.sha256_fingerprint, print.sha256_fingerprint,
        "the fingerprint of your summary is not the one `openssl x509 -fingerprint -sha256` \
         prints for the peer's certificate. People compare fingerprints by eye and by tool, so \
         the format matters as much as the bytes: the SHA-256 digest of the certificate's DER, \
         uppercase hex pairs joined by colons. A SHA-1 fingerprint (40 digits) is what \
         openssl prints without -sha256, and SHA-1 is no longer safe for this. {context}"
    );
    assert_eq!(
        got.sha256_fingerprint,
        certs::fingerprint(cert).to_uppercase(),
        "the fingerprint differs from the SHA-256 of the certificate certs made. {context}"
    );
    assert_eq!(
        got.common_name, print.common_name,
        "the common name of your summary is not the CN of the peer's subject. {context}"
    );
    assert_eq!(
        got.issuer, print.issuer,
        "the issuer of your summary is not what `openssl x509 -issuer` prints: the ISSUER's \
         name (who signed the certificate), each entry as `SHORT = value`, joined by \", \". \
         {context}"
    );
    assert_eq!(
        got.dns_names, print.dns_names,
        "the DNS names of your summary are not the peer's subject alternative names: every \
         DNS entry of the extension, in order. Hostname checks use this list, not the CN, so a \
         summary that misses one misleads whoever reads it. {context}"
    );
    assert_eq!(
        got.ip_addresses, print.ip_addresses,
        "the IP addresses of your summary are not the IP entries of the peer's subject \
         alternative names (GeneralName::ipaddress gives 4 bytes for IPv4, 16 for IPv6). \
         {context}"
    );
    assert!(
        expected_days.contains(&got.days_left),
        "days_left is {}, but the peer's certificate ends on {} (`-enddate`), which is {} whole \
         days from now, rounded down. Count from now to notAfter; a certificate that has \
         expired has negative days. {context}",
        got.days_left,
        print.not_after,
        expected_days[0]
    );
}

// --- Tests --------------------------------------------------------------------------------------

#[test]
fn the_summary_of_a_verified_server_matches_openssl_x509() {
    let files = Files::new().unwrap();
    let server = SServer::with_identity(&files, "server", &["-msg"]);
    let stream = verified(&files, &server, |_| {});
    let print = openssl_x509(&files.path("server.crt"));
    let (got, days) = with_days(&asn1_from_openssl(&print.not_after), || {
        learner_summary(stream)
    });
    let got = got.unwrap_or_else(|e| {
        panic!(
            "your peer_summary refused a peer that sent a certificate that verified: {e}\n{}",
            server.transcript()
        )
    });
    compare(
        "openssl s_server with server.crt",
        &got,
        days,
        &print,
        &certs::pki().server.cert,
    );
    assert_eq!(
        got.ip_addresses,
        vec![IpAddr::from([127, 0, 0, 1])],
        "server.crt names 127.0.0.1"
    );
}

#[test]
fn every_dns_name_and_ip_address_is_listed() {
    let files = Files::new().unwrap();
    let dir = scratch();
    let (cert, crt) = make_leaf(
        dir.path(),
        "many-names",
        None,
        &["www.example.test", "api.example.test", "localhost"],
        &["127.0.0.1", "::1"],
        (-86_400, 90 * 86_400),
    );
    let server = s_server_with(&crt);
    let stream = verified(&files, &server, |_| {});
    let print = openssl_x509(&crt);
    let (got, days) = with_days(&asn1_from_openssl(&print.not_after), || {
        learner_summary(stream)
    });
    let got = got.unwrap_or_else(|e| panic!("your peer_summary refused a verified peer: {e}"));
    compare(
        "a server whose certificate has three DNS names, two IP addresses and no CN",
        &got,
        days,
        &print,
        &cert,
    );
}

#[test]
fn a_client_certificate_without_alternative_names_is_summarised_by_the_server() {
    let files = Files::new().unwrap();
    // Our side is the server; the peer is openssl s_client with the client certificate.
    let mut acceptor = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
    acceptor
        .set_certificate_chain_file(files.path("server.chain.crt"))
        .unwrap();
    acceptor
        .set_private_key_file(files.path("server.key"), SslFiletype::PEM)
        .unwrap();
    acceptor.set_ca_file(files.path("ca.crt")).unwrap();
    acceptor.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
    let (stream, client) = accept_from_s_client(
        acceptor.build(),
        &[
            "-cert".to_string(),
            peers::arg(&files.path("client.crt")),
            "-key".into(),
            peers::arg(&files.path("client.key")),
        ],
    );
    let print = openssl_x509(&files.path("client.crt"));
    let (got, days) = with_days(&asn1_from_openssl(&print.not_after), || {
        learner_summary(stream)
    });
    let got = got.unwrap_or_else(|e| {
        panic!(
            "your peer_summary, on the server side, refused a client whose certificate \
             verified: {e}\n{}",
            client.transcript()
        )
    });
    assert_eq!(
        got.common_name.as_deref(),
        Some("workbook client"),
        "on the server side, the peer is the client: its certificate says CN = workbook client. \
         Yours says {:?}: SslRef::certificate() is this side's own certificate (the server's); \
         the peer's is peer_certificate().",
        got.common_name
    );
    compare(
        "openssl s_client with client.crt (no subject alternative names)",
        &got,
        days,
        &print,
        &certs::pki().client.cert,
    );
}

/// Accepts one connection from `openssl s_client` started with `args`; the finished stream
/// and the client process (kept alive until the test ends).
fn accept_from_s_client(acceptor: SslAcceptor, args: &[String]) -> (SslStream<TcpStream>, Process) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let result = listener
            .accept()
            .map_err(|e| e.to_string())
            .and_then(|(tcp, _)| {
                tcp.set_read_timeout(Some(IO_TIMEOUT)).ok();
                tcp.set_write_timeout(Some(IO_TIMEOUT)).ok();
                acceptor.accept(tcp).map_err(|e| explain::handshake(&e))
            });
        let _ = tx.send(result);
    });
    let mut all = vec!["-msg".to_string()];
    all.extend_from_slice(args);
    let client = peers::s_client(addr, &all);
    let stream = rx
        .recv_timeout(IO_TIMEOUT)
        .unwrap_or_else(|_| {
            panic!(
                "s_client never finished its handshake\n{}",
                client.transcript()
            )
        })
        .unwrap_or_else(|e| {
            panic!(
                "the test's server refused s_client: {e}\n{}",
                client.transcript()
            )
        });
    (stream, client)
}

#[test]
fn no_certificate_from_the_peer_means_no_summary() {
    let files = Files::new().unwrap();
    // A server that never asks for a client certificate: verify_result() is still OK.
    let mut acceptor = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
    acceptor
        .set_certificate_chain_file(files.path("server.chain.crt"))
        .unwrap();
    acceptor
        .set_private_key_file(files.path("server.key"), SslFiletype::PEM)
        .unwrap();
    let (stream, client) = accept_from_s_client(acceptor.build(), &[]);
    match learner_summary(stream) {
        Err(PeerError::NoCertificate) => {}
        Ok(s) => panic!(
            "the client sent no certificate, yet your peer_summary returned a summary ({s:?}). \
             verify_result() says OK when there was nothing to verify, and \
             SslRef::certificate() is this side's own certificate: ask peer_certificate(), and \
             report NoCertificate when it is None.\n{}",
            client.transcript()
        ),
        Err(e) => panic!(
            "the client sent no certificate; peer_summary should say NoCertificate, not: {e}"
        ),
    }
}

#[test]
fn an_unverified_peer_is_not_summarised() {
    let files = Files::new().unwrap();
    for (name, expect) in [("untrusted", 20), ("self-signed", 18)] {
        let server = SServer::with_identity(&files, name, &["-msg"]);
        // A client that does not stop at a bad certificate: the handshake finishes, and
        // verify_result() keeps OpenSSL's verdict.
        let stream = client_to(&files, server.addr, |c| c.set_verify(SslVerifyMode::NONE))
            .unwrap_or_else(|e| panic!("the test's client failed: {}", explain::handshake(&e)));
        match learner_summary(stream) {
            Err(PeerError::NotVerified(v)) => assert_eq!(
                v.as_raw(),
                expect,
                "peer_summary refused the `{name}` peer, but with another reason than \
                 OpenSSL's: {}",
                explain::verify(v)
            ),
            Ok(s) => panic!(
                "your peer_summary described the `{name}` peer ({s:?}) although its certificate \
                 did not verify ({}). With verification off the handshake still finishes, and the \
                 certificate is whatever the other side chose to send: anyone can write \
                 CN = localhost into one. Check verify_result() before you trust a word of it.\n{}",
                if expect == 18 {
                    "a self-signed certificate nobody trusts"
                } else {
                    "a certificate from a CA nobody trusts"
                },
                server.transcript()
            ),
            Err(e) => panic!("peer_summary should say NotVerified for `{name}`, not: {e}"),
        }
    }
}

#[test]
fn a_failed_handshake_is_not_summarised() {
    let files = Files::new().unwrap();
    // TLS 1.2: the server's certificate arrives and verifies, then the server asks for a
    // client certificate, gets none, and ends the handshake with an alert.
    let server = SServer::with_identity(&files, "server", &["-msg", "-tls1_2", "-Verify", "1"]);
    let mid = match client_to(&files, server.addr, |_| {}) {
        Err(HandshakeError::Failure(mid)) => mid,
        Ok(_) => panic!(
            "the test expected s_server -Verify to refuse a client without a certificate\n{}",
            server.transcript()
        ),
        Err(e) => panic!("unexpected: {}", explain::handshake(&e)),
    };
    let got = testkit::call("peer_summary", move || peer_summary(mid.ssl()));
    match got {
        Err(PeerError::HandshakeNotFinished) => {}
        Ok(s) => panic!(
            "your peer_summary described the server of a handshake that FAILED ({s:?}). Its \
             certificate had verified, but the connection never came to be: there is no peer \
             to describe, and a log line saying \"connected to localhost\" would be false. \
             Check is_init_finished() first.\n{}",
            server.transcript()
        ),
        Err(e) => panic!("peer_summary should say HandshakeNotFinished, not: {e}"),
    }
}

#[test]
fn an_expired_peer_has_negative_days() {
    let files = Files::new().unwrap();
    let server = SServer::with_identity(&files, "expired", &["-msg"]);
    // Verify everything but the dates, as an expiry monitor would.
    let stream = verified(&files, &server, |c| {
        c.param_mut()
            .set_flags(X509VerifyFlags::NO_CHECK_TIME)
            .unwrap()
    });
    let print = openssl_x509(&files.path("expired.crt"));
    let (got, days) = with_days(&asn1_from_openssl(&print.not_after), || {
        learner_summary(stream)
    });
    let got = got.unwrap_or_else(|e| panic!("your peer_summary refused a verified peer: {e}"));
    assert!(
        got.days_left < 0,
        "the peer's certificate expired 30 days ago, so days_left must be negative, but it is \
         {}. Count from now to notAfter.",
        got.days_left
    );
    compare(
        "openssl s_server with expired.crt",
        &got,
        days,
        &print,
        &certs::pki().expired.cert,
    );
}

#[test]
fn a_not_yet_valid_peer_counts_the_days_to_its_end() {
    let files = Files::new().unwrap();
    let server = SServer::with_identity(&files, "not-yet-valid", &["-msg"]);
    let stream = verified(&files, &server, |c| {
        c.param_mut()
            .set_flags(X509VerifyFlags::NO_CHECK_TIME)
            .unwrap()
    });
    let print = openssl_x509(&files.path("not-yet-valid.crt"));
    let (got, days) = with_days(&asn1_from_openssl(&print.not_after), || {
        learner_summary(stream)
    });
    let got = got.unwrap_or_else(|e| panic!("your peer_summary refused a verified peer: {e}"));
    compare(
        "openssl s_server with not-yet-valid.crt (valid from 30 days from now for 370 days)",
        &got,
        days,
        &print,
        &certs::pki().not_yet_valid.cert,
    );
}

#[test]
fn days_left_rounds_down() {
    let dir = scratch();
    let (ended, _) = make_leaf(
        dir.path(),
        "ended",
        Some("ended"),
        &[],
        &[],
        (-86_400, -3_600),
    );
    let (ending, _) = make_leaf(
        dir.path(),
        "ending",
        Some("ending"),
        &[],
        &[],
        (-86_400, 3_600),
    );
    let e = ended.clone();
    let ended_days = testkit::call("days_left", move || days_left(&e)).unwrap();
    let ending_days = testkit::call("days_left", move || days_left(&ending)).unwrap();
    assert_eq!(
        ended_days, -1,
        "a certificate that expired an hour ago has days_left -1, not {ended_days}. Rounding \
         toward zero gives 0, and 0 reads as \"still valid today\": round down, so that \
         negative means expired."
    );
    assert_eq!(
        ending_days, 0,
        "a certificate that expires in an hour has days_left 0 (its last day), not {ending_days}."
    );
}

#[test]
fn the_first_common_name_is_the_one_reported() {
    // A subject with two CNs, and other entries before each: the organisation first, as in
    // every workbook certificate, and an organisational unit between the two CNs.
    let dir = scratch();
    let (cert, crt) = make_leaf_with_subject(
        dir.path(),
        "two-cns",
        &[
            ("O", "TLS Workbook"),
            ("CN", "first.example"),
            ("OU", "Servers"),
            ("CN", "localhost"),
        ],
        &["localhost"],
        &[],
        (-86_400, 90 * 86_400),
    );
    let subject = cert.clone();
    let got = testkit::call("common_name", move || common_name(subject.subject_name()));
    let print = openssl_x509(&crt);
    assert_eq!(
        got.as_deref(),
        Some("first.example"),
        "common_name should be the FIRST CN of the subject, as its doc comment says, but it \
         returned {got:?}. This subject holds two CNs, each after another field ({}): the \
         summary's name is the first CN, the one a reader of that line meets first. The last \
         CN is another name, and the first entry may be no CN at all (here the organisation): \
         take the first entry whose field is CN (entries_by_nid(Nid::COMMONNAME)).",
        print
            .text
            .lines()
            .find(|l| l.starts_with("subject="))
            .unwrap_or("?")
    );
}

#[test]
fn the_fingerprint_is_what_openssl_prints() {
    let files = Files::new().unwrap();
    let cert = certs::pki().ca.cert.clone();
    let got = testkit::call("fingerprint", move || fingerprint(&cert)).unwrap();
    let print = openssl_x509(&files.path("ca.crt"));
    assert_eq!(
        got, print.sha256_fingerprint,
        "fingerprint(ca.crt) should read exactly as `openssl x509 -fingerprint -sha256` prints \
         it after \"Fingerprint=\": uppercase hex pairs of the SHA-256 digest, joined by colons."
    );
}

#[test]
fn the_book_describes_its_own_certificate() {
    let files = Files::new().unwrap();
    // The learner's code first, so an unsolved exercise fails with its own message.
    let cert = certs::pki().server.cert.clone();
    testkit::call("fingerprint", move || fingerprint(&cert)).unwrap();
    let mut acceptor = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
    acceptor
        .set_certificate_chain_file(files.path("server.chain.crt"))
        .unwrap();
    acceptor
        .set_private_key_file(files.path("server.key"), SslFiletype::PEM)
        .unwrap();
    let (stream, _client) = accept_from_s_client(acceptor.build(), &[]);
    let line = describe_own(stream.ssl()).expect("the server has a certificate");
    assert!(
        line.starts_with("/O=TLS Workbook/CN=localhost, serial ")
            && line.ends_with(", valid from 1 days ago"),
        "the book's describe_own said: {line}"
    );
}
