//! `no_system_trust!` takes effect before the first test runs, in a test program of its own
//! like each chapter's: whatever store the environment names, a connector built the usual
//! way trusts nothing by default.

use std::net::TcpStream;

use openssl::ssl::{SslConnector, SslMethod};
use testkit::peers::SServer;
use testkit::process::Process;

testkit::no_system_trust!();

/// In the child: the address of a server whose CA the child's environment trusted.
const CHILD: &str = "NO_SYSTEM_TRUST_SERVER";

#[test]
fn the_default_trust_store_is_empty_from_the_start() {
    for var in ["SSL_CERT_FILE", "SSL_CERT_DIR"] {
        assert_eq!(
            std::env::var(var).as_deref(),
            Ok("/dev/null"),
            "{var} was not set before main"
        );
    }
}

#[test]
fn a_store_the_environment_names_is_not_trusted() {
    if let Ok(addr) = std::env::var(CHILD) {
        let tcp = TcpStream::connect(addr.as_str()).unwrap();
        tcp.set_read_timeout(Some(testkit::IO_TIMEOUT)).unwrap();
        let connector = SslConnector::builder(SslMethod::tls_client())
            .unwrap()
            .build();
        assert!(
            connector.connect(certs::HOST, tcp).is_err(),
            "a default connector trusted the CA that SSL_CERT_FILE named"
        );
        return;
    }
    // The parent: a server, and this test again in a child whose SSL_CERT_FILE names the
    // server's CA (set directly, not through testkit::probe, which would keep it).
    let files = certs::Files::new().unwrap();
    let server = SServer::with_identity(&files, "server", &["-www"]);
    let exe = std::env::current_exe().unwrap();
    let ca = files.path("ca.crt").display().to_string();
    let addr = server.addr.to_string();
    let mut child = Process::try_spawn(
        exe.to_str().unwrap(),
        [
            "a_store_the_environment_names_is_not_trusted",
            "--exact",
            "--test-threads=1",
        ],
        &[("SSL_CERT_FILE", ca.as_str()), (CHILD, addr.as_str())],
    )
    .unwrap();
    let status = child.wait_exit(testkit::CALL_TIMEOUT);
    assert!(
        status.is_some_and(|s| s.success()) && child.stdout().contains("1 passed"),
        "{}",
        child.transcript()
    );
}

/// A chapter that forgets the macro is as right, but slower, and its verdicts hang on what
/// the machine trusts.
#[test]
fn every_chapter_test_program_names_it() {
    let exercises = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../exercises");
    let mut missing = Vec::new();
    for chapter in std::fs::read_dir(&exercises).unwrap() {
        let tests = chapter.unwrap().path().join("tests");
        for file in std::fs::read_dir(&tests).into_iter().flatten() {
            let path = file.unwrap().path();
            if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                if !text.contains("\ntestkit::no_system_trust!();\n") {
                    missing.push(path.display().to_string());
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "these test programs do not say `testkit::no_system_trust!();`: {missing:?}"
    );
}
