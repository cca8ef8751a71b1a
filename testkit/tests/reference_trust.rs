//! `reference::connector` trusts the CA it is given and nothing else: not OpenSSL's default
//! verify paths (checked with `SSL_CERT_FILE` and `SSL_CERT_DIR` pointed at a stand-in
//! system CA, in a child process), and not TLS 1.0 or 1.1.

use std::time::Duration;

use certs::{pki, Files};
use testkit::peers::SServer;
use testkit::reference;

const PROBE_ADDR: &str = "TESTKIT_TRUST_PROBE_ADDR";

#[test]
fn the_reference_connector_ignores_the_default_trust_store() {
    if let Ok(addr) = std::env::var(PROBE_ADDR) {
        let addr = addr.parse().expect("the probe's address");
        match reference::connect(&reference::connector(&pki().ca), addr, "localhost") {
            Ok(_) => println!("PROBE ACCEPTED"),
            Err(e) => println!("PROBE REFUSED {e}"),
        }
        return;
    }
    let files = Files::new().unwrap();
    let server = SServer::with_identity(&files, "system-server", &["-www"]);
    let child = testkit::probe::run_test_in_child(
        "the_reference_connector_ignores_the_default_trust_store",
        &[
            (
                "SSL_CERT_FILE",
                files.path("system-ca.crt").display().to_string(),
            ),
            ("SSL_CERT_DIR", files.dir().display().to_string()),
            (PROBE_ADDR, server.addr.to_string()),
        ],
        Duration::from_secs(20),
    );
    assert!(
        child.stdout.contains("PROBE REFUSED"),
        "reference::connector must refuse a server signed only by the default-paths CA\n{}\n{}",
        child.transcript,
        server.transcript()
    );
    // The child made its own certificates, so the refusal above could also mean "a CA it
    // never heard of": check the same server is accepted when the system CA is the one given.
    let mut b = openssl::ssl::SslConnector::builder(openssl::ssl::SslMethod::tls_client()).unwrap();
    b.set_ca_file(files.path("system-ca.crt")).unwrap();
    reference::connect(&b.build(), server.addr, "localhost")
        .unwrap_or_else(|e| panic!("control: trusting system-ca.crt directly fails: {e}"));
}

#[test]
fn the_reference_connector_refuses_tls10_and_tls11() {
    let files = Files::new().unwrap();
    let server = SServer::start(&[
        "-www".to_string(),
        "-cert".into(),
        files.path("server-rsa.crt").display().to_string(),
        "-key".into(),
        files.path("server-rsa.key").display().to_string(),
        "-no_tls1_2".into(),
        "-no_tls1_3".into(),
        "-cipher".into(),
        "AES128-SHA:@SECLEVEL=0".into(),
    ]);
    let e = reference::connect(&reference::connector(&pki().ca), server.addr, "localhost")
        .err()
        .unwrap_or_else(|| {
            panic!(
                "reference::connector agreed to TLS 1.1\n{}",
                server.transcript()
            )
        });
    assert!(!e.contains("verify"), "refused for the wrong reason: {e}");
}
