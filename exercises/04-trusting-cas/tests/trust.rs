//! Chapter 04: a hashed folder of CA certificates, compared with what `openssl rehash` makes,
//! and the clients that trust it, graded against `openssl s_server`.

use std::collections::BTreeSet;
use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;

use certs::Files;
use ch04_trusting_cas::{ca_file_connector, dir_connector, hash_name, rehash, Link};
use openssl::ssl::{SslConnector, SslMethod};
use openssl::x509::{X509VerifyResult, X509};
use tempfile::TempDir;
use testkit::peers::{self, SServer};
use testkit::{explain, IO_TIMEOUT};

// No verdict here depends on the CAs this machine trusts (see the macro).
testkit::no_system_trust!();

/// OpenSSL's verify error for "the issuer of a certificate is not in the store".
const UNABLE_TO_GET_LOCAL_ISSUER: i32 = 20;
/// ... and for "the chain ends in a root that is not in the store".
const SELF_SIGNED_IN_CHAIN: i32 = 19;
/// ... and for "the certificate is not issued for the host name asked for".
const HOSTNAME_MISMATCH: i32 = 62;

/// A fresh folder holding copies of certificates of the set: `(file in the set, name in the
/// folder)`.
fn folder(files: &Files, certs: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::Builder::new()
        .prefix("ch04-cas-")
        .tempdir()
        .expect("make a temporary folder");
    for (from, to) in certs {
        fs::copy(files.path(from), dir.path().join(to)).expect("copy a certificate");
    }
    dir
}

/// The learner's rehash of `dir`, which must succeed.
fn learner_rehash(dir: &Path) -> Vec<Link> {
    let d = dir.to_path_buf();
    testkit::call("rehash", move || rehash(&d)).unwrap_or_else(|e| {
        panic!(
            "rehash({}) failed: {e}. Every file there holds one CA certificate, so hashing the \
             folder should work.",
            dir.display()
        )
    })
}

/// The learner's client for the hashed folder `dir`.
fn learner_dir_connector(dir: &Path) -> SslConnector {
    let d = dir.to_path_buf();
    testkit::call("dir_connector", move || dir_connector(&d))
        .unwrap_or_else(|e| panic!("dir_connector failed: {}", explain::stack(&e)))
}

/// Why a handshake failed: the verify result and a sentence.
struct Refused {
    verify: X509VerifyResult,
    why: String,
}

/// A handshake of `connector` with `addr` as "localhost".
fn handshake(connector: SslConnector, addr: SocketAddr) -> Result<(), Refused> {
    testkit::call("the client handshake", move || {
        let tcp = TcpStream::connect(addr).expect("connect to the peer");
        tcp.set_read_timeout(Some(IO_TIMEOUT)).ok();
        tcp.set_write_timeout(Some(IO_TIMEOUT)).ok();
        match connector.connect(certs::HOST, tcp) {
            Ok(_) => Ok(()),
            Err(e) => Err(Refused {
                verify: match &e {
                    openssl::ssl::HandshakeError::Failure(mid) => mid.ssl().verify_result(),
                    _ => X509VerifyResult::OK,
                },
                why: explain::handshake(&e),
            }),
        }
    })
}

/// `openssl s_server` with identity `name`, printing the handshake messages and alerts it
/// sees (`-msg`), so a failure message shows where the handshake ended.
fn server(files: &Files, name: &str) -> SServer {
    SServer::with_identity(files, name, &["-msg"])
}

/// The folder's links as `ls -l` would show them, for messages.
fn listing(dir: &Path) -> String {
    let mut lines: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    match fs::read_link(e.path()) {
                        Ok(t) => format!("  {name} -> {}", t.display()),
                        Err(_) => format!("  {name}"),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    lines.sort();
    lines.join("\n")
}

/// The links a folder holds: every symbolic link, or (where rehash makes copies) every
/// file whose name looks like `HASH.N`.
fn links_in(dir: &Path) -> BTreeSet<Link> {
    fs::read_dir(dir)
        .expect("read the folder")
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let target = fs::read_link(e.path()).ok()?;
            Some(Link {
                name,
                target: target.to_string_lossy().into_owned(),
            })
        })
        .collect()
}

fn shown(links: &BTreeSet<Link>) -> String {
    if links.is_empty() {
        return "  (none)".to_string();
    }
    links
        .iter()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs `openssl rehash` on `dir`.
fn openssl_rehash(dir: &Path) {
    let out = Command::new("openssl")
        .arg("rehash")
        .arg(dir)
        .output()
        .expect("run `openssl rehash`: the tests need the openssl program");
    assert!(
        out.status.success(),
        "`openssl rehash {}` failed:\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every certificate the tests put in a folder, with the two roots whose subject names are
/// the same, an intermediate whose issuer differs from its subject, and a file that is not
/// a certificate (openssl rehash leaves it alone).
const MIXED: [(&str, &str); 6] = [
    ("ca.crt", "workbook-root.crt"),
    ("ca-twin.crt", "twin-root.pem"),
    ("other-ca.crt", "other.cer"),
    ("intermediate.crt", "intermediate.crt"),
    ("system-ca.crt", "system.pem"),
    ("README.txt", "README.txt"),
];

#[test]
fn a_server_signed_by_the_ca_verifies_through_the_folder() {
    let files = Files::new().unwrap();
    let dir = folder(&files, &[("ca.crt", "ca.crt")]);
    let links = learner_rehash(dir.path());
    let connector = learner_dir_connector(dir.path());
    let server = server(&files, "server");
    if let Err(r) = handshake(connector, server.addr) {
        panic!(
            "your client, trusting the hashed folder, refused a server whose certificate the \
             folder's CA signed: {}.\nOpenSSL looks in the folder for a file named after the \
             subject-name hash of the issuer: 8 lowercase hex digits, a dot, and 0 for the first \
             certificate with that hash. Your rehash made: {}\nThe folder holds:\n{}\n{}",
            r.why,
            links
                .iter()
                .map(|l| l.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            listing(dir.path()),
            server.transcript()
        );
    }
}

/// A self-signed CA whose subject-name hash starts with a 0, written into the certificate
/// set's folder; returns its file name. The names are tried in turn until one hashes so
/// (one in sixteen does): a hash printed without its leading zeros names another file.
fn zero_hash_ca(files: &Files) -> String {
    use openssl::asn1::Asn1Time;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::hash::MessageDigest;
    use openssl::nid::Nid;
    use openssl::pkey::PKey;
    use openssl::x509::{X509Builder, X509NameBuilder};
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    let key = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
    for n in 0..4096 {
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", &format!("TLS Workbook CA number {n}"))
            .unwrap();
        let name = name.build();
        let mut b = X509Builder::new().unwrap();
        b.set_version(2).unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(&name).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        b.set_not_after(&Asn1Time::days_from_now(2).unwrap())
            .unwrap();
        b.sign(&key, MessageDigest::sha256()).unwrap();
        let cert = b.build();
        if cert.subject_name_hash() < 0x1000_0000 {
            let file = "zero-hash-ca.crt".to_string();
            fs::write(files.dir().join(&file), cert.to_pem().unwrap()).unwrap();
            return file;
        }
    }
    panic!("no name of 4096 hashed to a leading zero")
}

#[test]
fn hash_names_match_openssl_x509_hash() {
    let files = Files::new().unwrap();
    let ca = X509::from_pem(&fs::read(files.path("ca.crt")).unwrap()).unwrap();
    let first = testkit::call("hash_name", move || hash_name(&ca));
    let zero = zero_hash_ca(&files);
    for name in [
        "ca.crt",
        "intermediate.crt",
        "server.crt",
        "client-chain.crt",
        zero.as_str(),
    ] {
        let cert = X509::from_pem(&fs::read(files.path(name)).unwrap()).unwrap();
        let ours = if name == "ca.crt" {
            first.clone()
        } else {
            testkit::call("hash_name", move || hash_name(&cert))
        };
        let out = Command::new("openssl")
            .args(["x509", "-hash", "-noout", "-in"])
            .arg(files.path(name))
            .output()
            .expect("run openssl x509");
        let theirs = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert_eq!(
            ours, theirs,
            "hash_name of {name} is {ours:?}, but `openssl x509 -hash` prints {theirs:?}. The \
             folder lookup opens exactly the name OpenSSL computes: the hash of the certificate's \
             SUBJECT name (the lookup searches by the subject of the issuer it needs), as 8 \
             lowercase hex digits with leading zeros. Any other name is never opened."
        );
    }
}

#[test]
fn links_match_openssl_rehash() {
    let files = Files::new().unwrap();
    let ours_dir = folder(&files, &MIXED);
    let learner = learner_rehash(ours_dir.path());
    let theirs_dir = folder(&files, &MIXED);
    openssl_rehash(theirs_dir.path());

    let ours = links_in(ours_dir.path());
    let theirs = links_in(theirs_dir.path());
    // The message shows both sets; no Debug dump of them after it.
    assert!(
        ours == theirs,
        "your rehash and `openssl rehash` made different links for the same five CA \
         certificates.\nyours:\n{}\nopenssl rehash:\n{}\nThe name is the subject-name hash in 8 \
         lowercase hex digits, a dot, and a counter: certificates are taken in name order, and \
         two with the same hash (the two roots here share their subject) get .0 and .1. The \
         link points at the file by its bare name, so the folder can move.",
        shown(&ours),
        shown(&theirs)
    );
    let returned: BTreeSet<Link> = learner.iter().cloned().collect();
    assert!(
        returned == ours,
        "rehash should return the links it made; it returned:\n{}\nbut the folder holds:\n{}",
        shown(&returned),
        shown(&ours)
    );
    assert_eq!(
        learner.len(),
        returned.len(),
        "rehash returned one link twice: {learner:?}"
    );
}

#[test]
fn twins_with_one_hash_both_verify_through_the_folder() {
    let files = Files::new().unwrap();
    let dir = folder(
        &files,
        &[("ca.crt", "a-root.crt"), ("ca-twin.crt", "b-twin.crt")],
    );
    let links = learner_rehash(dir.path());
    let connector = learner_dir_connector(dir.path());
    for name in ["server", "server-twin"] {
        let server = server(&files, name);
        if let Err(r) = handshake(connector.clone(), server.addr) {
            panic!(
                "your client refused the server `{name}`: {}.\nThe folder holds two roots with \
                 the same subject name, so the same hash: one must be HASH.0 and the other HASH.1. \
                 OpenSSL tries .0, .1, .2, ... in turn and stops at the first name that is \
                 missing, so a root without its own link, or a counter that starts at 1, hides \
                 a CA. Your rehash made: {links:?}\nThe folder holds:\n{}\n{}",
                r.why,
                listing(dir.path()),
                server.transcript()
            );
        }
    }
}

#[test]
fn the_folder_is_read_when_a_chain_is_verified() {
    let files = Files::new().unwrap();
    // The client is built on an empty folder; the CA and its link arrive afterwards.
    let dir = folder(&files, &[]);
    let connector = learner_dir_connector(dir.path());
    fs::copy(files.path("ca.crt"), dir.path().join("ca.crt")).expect("copy the CA");
    let links = learner_rehash(dir.path());
    let server = server(&files, "server");
    if let Err(r) = handshake(connector, server.addr) {
        panic!(
            "your client was built while the folder was still empty, then the CA was copied in \
             and hashed, and the client refused the server: {}. A CApath folder is not read \
             when the context is built: OpenSSL opens HASH.N when it needs an issuer, during the \
             handshake. Use the folder lookup (load_verify_locations(None, Some(dir))), not a \
             copy of what the folder held at build time. Your rehash made: {links:?}\n{}",
            r.why,
            server.transcript()
        );
    }
}

#[test]
fn an_unhashed_folder_trusts_nothing() {
    let files = Files::new().unwrap();
    let dir = folder(&files, &[("ca.crt", "ca.crt")]);
    // No rehash: the CA is in the folder, but under no name the lookup would open.
    let connector = learner_dir_connector(dir.path());
    let server = server(&files, "server");
    match handshake(connector, server.addr) {
        Ok(()) => panic!(
            "your client accepted a server although the folder it trusts was never hashed. \
             OpenSSL's folder lookup (CApath) only opens files named HASH.N; a client that \
             reads every file itself is not what the tutorial's CApath is, and it hides the \
             mistake of a folder nobody rehashed.\nThe folder holds:\n{}\n{}",
            listing(dir.path()),
            server.transcript()
        ),
        Err(r) => assert_eq!(
            r.verify.as_raw(),
            UNABLE_TO_GET_LOCAL_ISSUER,
            "the client refused, but for another reason than the missing issuer: {}\n{}",
            r.why,
            server.transcript()
        ),
    }
}

#[test]
fn a_server_from_an_unknown_ca_is_refused() {
    let files = Files::new().unwrap();
    let dir = folder(&files, &[("ca.crt", "ca.crt")]);
    learner_rehash(dir.path());
    let connector = learner_dir_connector(dir.path());
    let server = server(&files, "untrusted");
    match handshake(connector, server.addr) {
        Ok(()) => panic!(
            "your client accepted a server whose certificate was signed by a CA that is not in \
             the folder (\"Somebody Else's Root CA\"). Anyone can make a CA; a client that \
             accepts any of them lets anyone on the path pose as the server. Keep \
             verification on (SslConnector does it) and trust only the folder.\n{}",
            server.transcript()
        ),
        Err(r) => assert_eq!(
            r.verify.as_raw(),
            UNABLE_TO_GET_LOCAL_ISSUER,
            "the client refused, but not because the issuer is unknown: {}\n{}",
            r.why,
            server.transcript()
        ),
    }
}

#[test]
fn a_server_for_another_name_is_refused() {
    let files = Files::new().unwrap();
    let dir = folder(&files, &[("ca.crt", "ca.crt")]);
    learner_rehash(dir.path());
    let connector = learner_dir_connector(dir.path());
    // Signed by the folder's CA, but issued for wrong.example.
    let server = server(&files, "wrong-host");
    match handshake(connector, server.addr) {
        Ok(()) => panic!(
            "your client accepted a certificate for wrong.example while connecting to localhost. \
             A trusted CA signed it, but for another name: anyone with any certificate from that \
             CA could pose as your server. SslConnector checks the name on connect; keep its \
             verification on.\n{}",
            server.transcript()
        ),
        Err(r) => assert_eq!(
            r.verify.as_raw(),
            HOSTNAME_MISMATCH,
            "the client refused, but not because of the name: {}\n{}",
            r.why,
            server.transcript()
        ),
    }
}

#[test]
fn the_cafile_client_of_the_book_trusts_its_file_only() {
    let files = Files::new().unwrap();
    // The learner's code first, so an unsolved exercise fails with its own message.
    let dir = folder(&files, &[("ca.crt", "ca.crt")]);
    learner_rehash(dir.path());
    let connector = ca_file_connector(&files.path("ca.crt")).expect("the book's CAfile client");
    let good = server(&files, "server");
    if let Err(r) = handshake(connector.clone(), good.addr) {
        panic!("the book's CAfile client refused a good server: {}", r.why);
    }
    let bad = server(&files, "untrusted");
    assert!(
        handshake(connector, bad.addr).is_err(),
        "the book's CAfile client accepted a server from another CA"
    );
}

// --- Default verify paths, probed in a child process -------------------------------------
//
// SSL_CERT_FILE and SSL_CERT_DIR are read by the whole process, and tests run on parallel
// threads, so the probe runs in a fresh copy of this test binary, started with those
// variables set and told (by CHILD) to run only this test.

const CHILD: &str = "CH04_DEFAULT_PATHS_PROBE";
const CHILD_FILES: &str = "CH04_DEFAULT_PATHS_FILES";
const PROBE: &str = "default_verify_paths_are_not_trusted";

#[test]
fn default_verify_paths_are_not_trusted() {
    if let (Ok(folder), Ok(files)) = (std::env::var(CHILD), std::env::var(CHILD_FILES)) {
        return probe(Path::new(&folder), Path::new(&files));
    }
    let files = Files::new().unwrap();
    let dir = folder(&files, &[("ca.crt", "ca.crt")]);
    learner_rehash(dir.path());
    // A stand-in for the system's trust store: a file and a hashed folder holding the
    // "system" root, where OpenSSL's default verify paths look when told so.
    let system = folder(&files, &[("system-ca.crt", "system-ca.crt")]);
    openssl_rehash(system.path());

    let child = testkit::probe::run_test_in_child(
        PROBE,
        &[
            (CHILD, dir.path().display().to_string()),
            (CHILD_FILES, files.dir().display().to_string()),
            (
                "SSL_CERT_FILE",
                system.path().join("system-ca.crt").display().to_string(),
            ),
            ("SSL_CERT_DIR", system.path().display().to_string()),
        ],
        testkit::CALL_TIMEOUT,
    );
    let status = child.status;
    let out = &child.stdout;
    let ran = out.contains("1 passed") || out.contains("1 failed");
    assert!(
        ran,
        "the probe in a child process did not run (the test binary was started with the filter \
         {PROBE:?}).\n{}",
        child.transcript
    );
    assert!(
        status.is_some_and(|s| s.success()),
        "with SSL_CERT_FILE and SSL_CERT_DIR pointing at a stand-in \"system\" CA:\n{}",
        child.transcript
    );
}

/// The child's half: SSL_CERT_FILE and SSL_CERT_DIR point at the "system" root.
fn probe(folder: &Path, files: &Path) {
    let path = |n: &str| -> PathBuf { files.join(n) };
    let connector = learner_dir_connector(folder);
    let system_server = SServer::start(&[
        "-msg".to_string(),
        "-cert".into(),
        peers::arg(&path("system-server.crt")),
        "-key".into(),
        peers::arg(&path("system-server.key")),
    ]);

    // First, the premise: a client built by SslConnector::builder alone trusts the
    // "system" root through the default verify paths.
    let default = SslConnector::builder(SslMethod::tls_client())
        .expect("a default connector")
        .build();
    if let Err(r) = handshake(default, system_server.addr) {
        panic!(
            "the test's premise failed: a plain SslConnector::builder client should trust the \
             stand-in system CA through SSL_CERT_FILE, but it refused: {}",
            r.why
        );
    }

    match handshake(connector.clone(), system_server.addr) {
        Ok(()) => panic!(
            "your client was asked to trust one folder, yet it accepted a server signed by a \
             \"system\" CA that is not in that folder. SslConnector::builder also loads OpenSSL's \
             default verify paths (SSL_CERT_FILE, SSL_CERT_DIR, the system's bundle): every CA \
             the machine trusts, and anyone who can get a certificate from one of them can pose \
             as your server. Give the context a store of its own (set_cert_store) before you \
             add the folder.\n{}",
            system_server.transcript()
        ),
        // 20; or 19 where s_server completes its chain with the root (testkit starts it with
        // no default store, but a peer that reads one sends it): an issuer we do not trust.
        Err(r) => assert!(
            [SELF_SIGNED_IN_CHAIN, UNABLE_TO_GET_LOCAL_ISSUER].contains(&r.verify.as_raw()),
            "your client refused the \"system\" server, but not because its CA is unknown: {}",
            r.why
        ),
    }

    // And the folder still works in this environment.
    let own = SServer::start(&[
        "-cert".to_string(),
        peers::arg(&path("server.crt")),
        "-key".into(),
        peers::arg(&path("server.key")),
    ]);
    if let Err(r) = handshake(connector, own.addr) {
        panic!(
            "your client refused the server its folder's CA signed: {}",
            r.why
        );
    }
}
