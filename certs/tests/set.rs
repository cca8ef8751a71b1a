//! The certificate set is what the chapters say it is: each bad certificate fails for its
//! own reason, and only for it.

use certs::{pki, Files, Identity};
use openssl::stack::Stack;
use openssl::x509::store::{X509Lookup, X509StoreBuilder};
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509StoreContext, X509VerifyResult, X509};

/// Verifies `id` (with its intermediates) against `roots`, as a client connecting to
/// `localhost` would; returns OpenSSL's verify code.
fn verify(id: &Identity, roots: &[&X509], crl_file: Option<&std::path::Path>) -> i32 {
    let mut store = X509StoreBuilder::new().unwrap();
    for r in roots {
        store.add_cert((*r).clone()).unwrap();
    }
    if let Some(crl) = crl_file {
        let lookup = store.add_lookup(X509Lookup::file()).unwrap();
        lookup
            .load_crl_file(crl, openssl::ssl::SslFiletype::PEM)
            .unwrap();
        store.set_flags(X509VerifyFlags::CRL_CHECK).unwrap();
    }
    let mut param = openssl::x509::verify::X509VerifyParam::new().unwrap();
    param.set_host("localhost").unwrap();
    store.set_param(&param).unwrap();
    let store = store.build();
    let mut chain = Stack::new().unwrap();
    for c in &id.intermediates {
        chain.push(c.clone()).unwrap();
    }
    let mut ctx = X509StoreContext::new().unwrap();
    ctx.init(&store, &id.cert, &chain, |c| {
        c.verify_cert()?;
        Ok(c.error())
    })
    .unwrap()
    .as_raw()
}

#[test]
fn good_identities_verify_against_the_root() {
    let p = pki();
    for id in [&p.server, p.server_rsa(), &p.server_chain, &p.too_deep] {
        assert_eq!(verify(id, &[&p.ca.cert], None), 0, "{}", id.name);
    }
    assert_eq!(p.server_chain.intermediates.len(), 1);
    assert_eq!(p.too_deep.intermediates.len(), 2);
    assert!(
        p.server_rsa().key.rsa().is_ok(),
        "server-rsa has an RSA key"
    );
    assert_eq!(p.server_rsa().key.bits(), 2048);
}

#[test]
fn each_bad_certificate_fails_for_its_own_reason() {
    let p = pki();
    let files = Files::new().unwrap();
    let crl = files.path("ca.crl");
    let cases: [(&Identity, i32); 6] = [
        (&p.expired, 10),
        (&p.not_yet_valid, 9),
        (&p.wrong_host, 62),
        (&p.self_signed, 18),
        (&p.untrusted, 20),
        (&p.missing_intermediate, 20),
    ];
    for (id, code) in cases {
        let got = verify(id, &[&p.ca.cert], None);
        assert_eq!(
            got,
            code,
            "{}: expected {code}, got {got} ({})",
            id.name,
            // SAFETY: `got` is a code OpenSSL itself returned.
            unsafe { X509VerifyResult::from_raw(got) }.error_string()
        );
    }
    assert_eq!(
        verify(&p.revoked, &[&p.ca.cert], None),
        0,
        "valid without the CRL"
    );
    assert_eq!(
        verify(&p.revoked, &[&p.ca.cert], Some(&crl)),
        23,
        "revoked with it"
    );
    assert_eq!(
        verify(&p.server, &[&p.ca.cert], Some(&crl)),
        0,
        "the CRL revokes only one"
    );
    // Client certificates name no host; the name check is the only thing that fails here.
    assert_eq!(verify(&p.client_other_ca, &[&p.other_ca.cert], None), 62);
    assert_eq!(verify(&p.client_other_ca, &[&p.ca.cert], None), 20);
}

#[test]
fn every_format_is_written_and_reads_back() {
    let files = Files::new().unwrap();
    let p = pki();
    let pem = std::fs::read(files.path("server.crt")).unwrap();
    assert_eq!(X509::from_pem(&pem).unwrap(), p.server.cert);
    let der = std::fs::read(files.path("server.crt.der")).unwrap();
    assert_eq!(X509::from_der(&der).unwrap(), p.server.cert);
    let chain = std::fs::read(files.path("server-chain.chain.crt")).unwrap();
    assert_eq!(X509::stack_from_pem(&chain).unwrap().len(), 2);
    for (file, start) in [
        ("server.key", "-----BEGIN PRIVATE KEY-----"),
        ("server.legacy.key", "-----BEGIN EC PRIVATE KEY-----"),
        ("server-rsa.legacy.key", "-----BEGIN RSA PRIVATE KEY-----"),
        ("server.enc.key", "-----BEGIN ENCRYPTED PRIVATE KEY-----"),
    ] {
        let text = std::fs::read_to_string(files.path(file)).unwrap();
        assert!(text.starts_with(start), "{file} starts {:?}", &text[..30]);
    }
    let enc = std::fs::read(files.path("server.enc.key")).unwrap();
    let key =
        openssl::pkey::PKey::private_key_from_pem_passphrase(&enc, certs::PASSPHRASE.as_bytes())
            .unwrap();
    assert!(key.public_eq(&p.server.key));
}

#[test]
fn files_are_removed_with_their_guard() {
    let files = Files::new().unwrap();
    let dir = files.dir().to_path_buf();
    assert!(dir.join("ca.crt").exists());
    drop(files);
    assert!(!dir.exists());
}

#[test]
fn the_writer_command_refuses_bad_arguments() {
    let bin = env!("CARGO_BIN_EXE_certs");
    let out = std::process::Command::new(bin).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage"));
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("set");
    let out = std::process::Command::new(bin)
        .arg(&target)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(target.join("README.txt").exists() && target.join("ca.crl").exists());
}

#[test]
fn the_added_identities_chain_where_their_docs_say() {
    let p = pki();
    // A client certificate names no host, so check the issuer link instead of verifying.
    assert_eq!(
        p.intermediate.cert.issued(&p.client_chain.cert),
        X509VerifyResult::OK
    );
    assert_eq!(p.client_chain.intermediates.len(), 1);
    assert_eq!(verify(&p.system_server, &[&p.system_ca.cert], None), 0);
    assert_eq!(verify(&p.system_server, &[&p.ca.cert], None), 20);
    assert_eq!(verify(&p.server_twin, &[&p.ca_twin.cert], None), 0);
    // The twin shares the root's subject name, and so its subject-name hash.
    assert_eq!(
        p.ca_twin.cert.subject_name_hash(),
        p.ca.cert.subject_name_hash()
    );
    assert_ne!(p.ca_twin.fingerprint(), p.ca.fingerprint());
}
