//! Chapter 03: every loader's server is shown to the real `openssl s_client`, which must
//! receive the expected certificate (with its intermediates) and verify it. Keys that do not
//! belong to their certificate, wrong passphrases and missing files must be errors.

use std::net::{SocketAddr, TcpListener};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::{mpsc, OnceLock};
use std::thread;
use std::time::Duration;

use certs::{pki, Files, Identity};
use ch03_certificates_and_keys::{
    key_from_encrypted_pem, key_from_legacy_rsa_pem, key_from_pkcs8_der, server_builder,
    server_from_der_files, server_from_memory, server_from_pem_files, use_for_this_connection,
};
use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::ssl::{Ssl, SslAcceptor};
use openssl::x509::extension::{ExtendedKeyUsage, KeyUsage, SubjectAlternativeName};
use openssl::x509::X509NameBuilder;
use openssl::x509::X509;
use testkit::explain;
use testkit::peers::{self, Finished};
use testkit::reference::{self, ReferenceServer};

// No verdict here depends on the CAs this machine trusts (see the macro).
testkit::no_system_trust!();

const S_CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

fn read(files: &Files, name: &str) -> Vec<u8> {
    std::fs::read(files.path(name)).unwrap()
}

/// Runs a verifying `openssl s_client` (trusts the root CA, checks "localhost") against
/// `addr`, with `extra` options added.
fn s_client(files: &Files, addr: SocketAddr, extra: &[&str]) -> Finished {
    let mut args = peers::verifying_client_args(files);
    args.extend(extra.iter().map(|a| a.to_string()));
    peers::run_s_client(addr, &args, b"", S_CLIENT_TIMEOUT)
}

/// The certificate s_client printed after "Server certificate": the leaf the server sent.
fn certificate_seen(run: &Finished) -> Option<X509> {
    let pem = run.stdout.split("Server certificate\n").nth(1)?;
    X509::from_pem(pem.as_bytes()).ok()
}

/// How many certificates s_client listed under "Certificate chain".
fn certificates_sent(run: &Finished) -> usize {
    run.stdout
        .lines()
        .filter(|l| {
            let l = l.trim_start();
            l.split_once(" s:")
                .is_some_and(|(n, _)| n.parse::<u32>().is_ok())
        })
        .count()
}

/// Which identity of the workbook a certificate is, for messages.
fn who(cert: &X509) -> String {
    let fp = certs::fingerprint(cert);
    pki()
        .identities()
        .into_iter()
        .find(|id| id.fingerprint() == fp)
        .map_or_else(
            || "a certificate not in the workbook's set".into(),
            |id| format!("`{}`", id.name),
        )
}

/// Proves that `s_client` received `expected` and verified it.
fn assert_peer_saw(run: &Finished, expected: &Identity, what: &str, server_log: &[String]) {
    if !run.success() || !run.stdout.contains("Verify return code: 0 (ok)") {
        let missing_intermediate = run
            .stdout
            .contains("unable to get local issuer certificate");
        panic!(
            "openssl s_client could not verify the server built by {what}.{}\n\
             The server said: {server_log:?}\n{}",
            if missing_intermediate {
                format!(
                    " The server sent {} certificate(s): its own, but not the intermediate CA \
                     that signed it, so the client cannot reach the root it trusts. A server \
                     must send its intermediates: a chain file (leaf first, then \
                     intermediates) read whole, or each intermediate added to the context or \
                     the connection.",
                    certificates_sent(run)
                )
            } else {
                String::new()
            },
            run.transcript
        );
    }
    let seen = certificate_seen(run).unwrap_or_else(|| {
        panic!(
            "cannot find the server certificate in s_client's output\n{}",
            run.transcript
        )
    });
    assert_eq!(
        certs::fingerprint(&seen),
        expected.fingerprint(),
        "the server built by {what} should present `{}`, but s_client received {}.\n{}",
        expected.name,
        who(&seen),
        run.transcript
    );
}

/// What the reference server logged, once it has logged something (at most a second).
fn log_of(server: &ReferenceServer) -> Vec<String> {
    for _ in 0..100 {
        let log = server.log();
        if !log.is_empty() {
            return log;
        }
        thread::sleep(Duration::from_millis(10));
    }
    server.log()
}

/// Serves `acceptor` on a reference server and shows it to s_client.
fn assert_serves(acceptor: SslAcceptor, expected: &Identity, what: &str, files: &Files) {
    let server = ReferenceServer::echo(acceptor);
    let run = s_client(files, server.addr, &[]);
    assert_peer_saw(&run, expected, what, &log_of(&server));
}

/// A server built the test's way around a key the learner's loader produced, to show that
/// the key really signs a handshake for `id`'s certificate.
fn serve_with_key(key: &PKey<Private>, id: &Identity, what: &str, files: &Files) {
    assert!(
        key.public_eq(&id.key),
        "{what} returned a key, but not the private key of `{}`",
        id.name
    );
    let mut b = server_builder().unwrap();
    b.set_certificate(&id.cert).unwrap();
    for c in &id.intermediates {
        b.add_extra_chain_cert(c.clone()).unwrap();
    }
    b.set_private_key(key).unwrap();
    b.check_private_key().unwrap();
    assert_serves(b.build(), id, what, files);
}

fn built(result: Result<SslAcceptor, ErrorStack>, what: &str) -> SslAcceptor {
    result.unwrap_or_else(|e| {
        let raw = explain::stack(&e);
        let why = if raw.contains("no start line") {
            "OpenSSL looked for PEM text (a \"-----BEGIN\" line) and found none. Is the file \
             DER, and did you say so (SslFiletype::ASN1)? Or is it PEM read as DER?"
        } else if raw.contains("wrong tag") || raw.contains("nested asn1 error") {
            "OpenSSL could not read the bytes as DER. Is the file PEM text read as DER?"
        } else {
            "A server that cannot load its own identity cannot start."
        };
        panic!("{what} failed on a certificate and the key that belongs to it. {why} (OpenSSL said: {raw})")
    })
}

/// If a server was built from a key that does not belong to its certificate, shows what a
/// client would get from it, and fails.
fn refuse_mismatch(result: Result<SslAcceptor, ErrorStack>, what: &str, pair: &str, files: &Files) {
    if let Ok(acceptor) = result {
        let server = ReferenceServer::echo(acceptor);
        let run = s_client(files, server.addr, &[]);
        panic!(
            "{what} accepted {pair}: a key that does not belong to the certificate. OpenSSL \
             does not always notice by itself (it keeps one slot per key type, so a key of \
             another type is stored without complaint); only check_private_key() asks whether \
             the certificate in use has its key. Without it the server starts and every client \
             fails in the middle of the handshake. The server, when s_client connected: {:?}\n{}",
            log_of(&server),
            run.transcript
        );
    }
}

/// Like `testkit::call`, and a panic of the learner's code (other than an unfinished
/// `todo!()` or a hang) fails with a sentence: a missing file is an error, not a crash.
fn no_panic<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    match catch_unwind(AssertUnwindSafe(|| testkit::call(what, f))) {
        Ok(v) => v,
        Err(payload) => {
            let text = testkit::panic_text(&*payload);
            if text.contains("not yet implemented") || text.contains("did not return within") {
                resume_unwind(payload)
            }
            panic!(
                "{what} panicked: {text}. A missing or unreadable file is an ordinary error: \
                 return it with `?` so the program can say which file and stop cleanly."
            )
        }
    }
}

#[test]
fn pem_chain_file_sends_the_intermediate() {
    let files = Files::new().unwrap();
    let (chain, key) = (
        files.path("server-chain.chain.crt"),
        files.path("server-chain.key"),
    );
    let acceptor = testkit::call("server_from_pem_files", move || {
        server_from_pem_files(&chain, &key)
    });
    let acceptor = built(
        acceptor,
        "server_from_pem_files(server-chain.chain.crt, server-chain.key)",
    );
    assert_serves(
        acceptor,
        &pki().server_chain,
        "server_from_pem_files(server-chain.chain.crt, server-chain.key)",
        &files,
    );
}

#[test]
fn pem_files_take_pkcs8_and_traditional_keys() {
    let files = Files::new().unwrap();
    for (id, cert, key) in [
        (&pki().server, "server.crt", "server.key"),
        (&pki().server, "server.crt", "server.legacy.key"),
        (
            pki().server_rsa(),
            "server-rsa.crt",
            "server-rsa.legacy.key",
        ),
    ] {
        let what = format!("server_from_pem_files({cert}, {key})");
        let (c, k) = (files.path(cert), files.path(key));
        let acceptor = testkit::call(&what, move || server_from_pem_files(&c, &k));
        assert_serves(built(acceptor, &what), id, &what, &files);
    }
}

#[test]
fn der_files_serve_their_certificate() {
    let files = Files::new().unwrap();
    for (id, cert, key) in [
        (&pki().server, "server.crt.der", "server.key.der"),
        (
            pki().server_rsa(),
            "server-rsa.crt.der",
            "server-rsa.key.der",
        ),
    ] {
        let what = format!("server_from_der_files({cert}, {key})");
        let (c, k) = (files.path(cert), files.path(key));
        let acceptor = testkit::call(&what, move || server_from_der_files(&c, &k));
        assert_serves(built(acceptor, &what), id, &what, &files);
    }
}

#[test]
fn pkcs8_der_key_signs_a_handshake() {
    let files = Files::new().unwrap();
    let der = read(&files, "server.key.der");
    let key =
        testkit::call("key_from_pkcs8_der", move || key_from_pkcs8_der(&der)).unwrap_or_else(|e| {
            panic!(
                "key_from_pkcs8_der(server.key.der) failed: {}",
                explain::stack(&e)
            )
        });
    serve_with_key(
        &key,
        &pki().server,
        "key_from_pkcs8_der(server.key.der)",
        &files,
    );

    let pem = read(&files, "server.key");
    let r = testkit::call("key_from_pkcs8_der", move || key_from_pkcs8_der(&pem));
    assert!(
        r.is_err(),
        "key_from_pkcs8_der accepted PEM text. DER is the binary form; PEM is that binary in \
         base64 between BEGIN/END lines. A loader for one format must refuse the other, or a \
         file of the wrong kind goes unnoticed."
    );
}

/// How long an encrypted key may take to open: decrypting costs milliseconds, so anything
/// longer is OpenSSL waiting for someone to type a passphrase.
const PASSPHRASE_LIMIT: Duration = Duration::from_secs(3);

const PROMPT_HANG: &str =
    "key_from_encrypted_pem (OpenSSL is waiting for a passphrase typed on the \
     terminal or on standard input: it was not given the one you hold. Pass it in with \
     private_key_from_pem_passphrase)";

/// A failure to open an encrypted key, in a sentence: OpenSSL's "bad password read" means
/// it had no passphrase and tried to ask for one.
fn why_the_key_did_not_open(e: &ErrorStack) -> String {
    let raw = explain::stack(e);
    if raw.contains("bad password read") || raw.contains("processing error") {
        format!(
            "OpenSSL was given no passphrase, so it tried to ask for one: on the terminal, or \
             else on standard input, which had nothing to read. A server started from a terminal \
             would sit at the prompt \"Enter PEM pass phrase:\" instead of starting. Hand the \
             passphrase you hold to private_key_from_pem_passphrase. (OpenSSL said: {raw})"
        )
    } else if raw.contains("bad decrypt") {
        format!(
            "the key did not decrypt with the right passphrase (\"bad decrypt\"): is the \
             passphrase passed as given, with nothing added or cut? (OpenSSL said: {raw})"
        )
    } else {
        format!("OpenSSL said: {raw}")
    }
}

#[test]
fn encrypted_pem_key_opens_with_its_passphrase() {
    let files = Files::new().unwrap();
    let pem = read(&files, "server.enc.key");
    let key = testkit::within(PASSPHRASE_LIMIT, PROMPT_HANG, move || {
        key_from_encrypted_pem(&pem, certs::PASSPHRASE)
    })
    .unwrap_or_else(|e| {
        panic!(
            "key_from_encrypted_pem(server.enc.key, the right passphrase) failed: {}",
            why_the_key_did_not_open(&e)
        )
    });
    serve_with_key(
        &key,
        &pki().server,
        "key_from_encrypted_pem(server.enc.key)",
        &files,
    );
}

#[test]
fn a_wrong_passphrase_is_an_error() {
    let files = Files::new().unwrap();
    for wrong in ["not the passphrase", ""] {
        let pem = read(&files, "server.enc.key");
        let r = testkit::within(PASSPHRASE_LIMIT, PROMPT_HANG, move || {
            key_from_encrypted_pem(&pem, wrong)
        });
        match r {
            Ok(_) => panic!(
                "key_from_encrypted_pem returned a key for the passphrase {wrong:?}, which is not \
                 the one the key was encrypted with. A wrong passphrase must be an error (OpenSSL \
                 says \"bad decrypt\"); the key must come from the passphrase it was given, \
                 nowhere else."
            ),
            Err(e) => {
                let raw = explain::stack(&e);
                assert!(
                    !raw.contains("bad password read"),
                    "key_from_encrypted_pem, given the wrong passphrase {wrong:?}, went on to ask \
                     for another one on the terminal or standard input (OpenSSL: \"bad password \
                     read\"). A server must fail at once on a wrong passphrase, not wait at a \
                     prompt: try only the passphrase you were given. (OpenSSL said: {raw})"
                );
            }
        }
    }
}

#[test]
fn legacy_rsa_key_signs_a_handshake() {
    let files = Files::new().unwrap();
    let pem = read(&files, "server-rsa.legacy.key");
    let key = testkit::call("key_from_legacy_rsa_pem", move || {
        key_from_legacy_rsa_pem(&pem)
    })
    .unwrap_or_else(|e| {
        panic!(
            "key_from_legacy_rsa_pem(server-rsa.legacy.key, a \"BEGIN RSA PRIVATE KEY\" file) \
                 failed: {}",
            explain::stack(&e)
        )
    });
    serve_with_key(
        &key,
        pki().server_rsa(),
        "key_from_legacy_rsa_pem(server-rsa.legacy.key)",
        &files,
    );
}

#[test]
fn the_rsa_loader_refuses_an_ec_key() {
    let files = Files::new().unwrap();
    let pem = read(&files, "server.legacy.key");
    let r = testkit::call("key_from_legacy_rsa_pem", move || {
        key_from_legacy_rsa_pem(&pem)
    });
    assert!(
        r.is_err(),
        "key_from_legacy_rsa_pem accepted server.legacy.key, a \"BEGIN EC PRIVATE KEY\". The \
         RSA loaders of the tutorial (SSL_CTX_use_RSAPrivateKey and friends) read RSA keys only: \
         use the RSA-only reader, Rsa::private_key_from_pem, then wrap it with PKey::from_rsa."
    );
}

#[test]
fn memory_identity_sends_its_intermediates() {
    let id = &pki().server_chain;
    let acceptor = testkit::call("server_from_memory", move || {
        server_from_memory(&id.cert, &id.intermediates, &id.key)
    });
    let files = Files::new().unwrap();
    let what = "server_from_memory(server-chain's certificate, its intermediate, its key)";
    assert_serves(built(acceptor, what), id, what, &files);
}

#[test]
fn a_key_of_the_same_type_that_does_not_match_is_refused() {
    let files = Files::new().unwrap();
    let (c, k) = (files.path("server.crt"), files.path("client.key"));
    let r = testkit::call("server_from_pem_files", move || {
        server_from_pem_files(&c, &k)
    });
    let pair = "server.crt with client.key (both P-256)";
    refuse_mismatch(r, "server_from_pem_files", pair, &files);

    let (c, k) = (files.path("server.crt.der"), files.path("client.key.der"));
    let r = testkit::call("server_from_der_files", move || {
        server_from_der_files(&c, &k)
    });
    refuse_mismatch(r, "server_from_der_files", pair, &files);

    let p = pki();
    let r = testkit::call("server_from_memory", move || {
        server_from_memory(&p.server.cert, &[], &p.client.key)
    });
    refuse_mismatch(r, "server_from_memory", pair, &files);
}

#[test]
fn a_key_of_another_type_is_caught_by_check_private_key() {
    let files = Files::new().unwrap();
    let pair = "server.crt (an EC certificate) with server-rsa.key (an RSA key)";
    let (c, k) = (files.path("server.crt"), files.path("server-rsa.key"));
    let r = testkit::call("server_from_pem_files", move || {
        server_from_pem_files(&c, &k)
    });
    refuse_mismatch(r, "server_from_pem_files", pair, &files);

    let (c, k) = (
        files.path("server.crt.der"),
        files.path("server-rsa.key.der"),
    );
    let r = testkit::call("server_from_der_files", move || {
        server_from_der_files(&c, &k)
    });
    refuse_mismatch(r, "server_from_der_files", pair, &files);

    let p = pki();
    let r = testkit::call("server_from_memory", move || {
        server_from_memory(&p.server.cert, &[], &p.server_rsa().key)
    });
    refuse_mismatch(r, "server_from_memory", pair, &files);
}

#[test]
fn missing_and_broken_files_are_errors_not_panics() {
    let files = Files::new().unwrap();
    let missing = files.dir().join("no-such-file.crt");
    let garbage = files.dir().join("garbage.key");
    std::fs::write(&garbage, "this is not a key\n").unwrap();
    let cases: [(&str, PathBuf, PathBuf, bool); 5] = [
        (
            "a missing chain file",
            missing.clone(),
            files.path("server.key"),
            true,
        ),
        (
            "a missing key file",
            files.path("server.crt"),
            missing.clone(),
            true,
        ),
        (
            "a key file holding no key",
            files.path("server.crt"),
            garbage.clone(),
            true,
        ),
        (
            "a missing DER certificate",
            missing.clone(),
            files.path("server.key.der"),
            false,
        ),
        (
            "a missing DER key",
            files.path("server.crt.der"),
            missing.clone(),
            false,
        ),
    ];
    for (case, cert, key, pem) in cases {
        let what = if pem {
            "server_from_pem_files"
        } else {
            "server_from_der_files"
        };
        let r = no_panic(what, move || {
            let r = if pem {
                server_from_pem_files(&cert, &key)
            } else {
                server_from_der_files(&cert, &key)
            };
            r.map(|_| ())
        });
        assert!(
            r.is_err(),
            "{what} built a server from {case}. A server without its certificate or key cannot \
             do a single handshake; it must stop at start-up with an error."
        );
    }
}

/// Accepts one connection per `Ssl` (in order) and reports how each handshake ended.
fn serve_each(ssls: Vec<Ssl>) -> (SocketAddr, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for ssl in ssls {
            let Ok((tcp, _)) = listener.accept() else {
                return;
            };
            tcp.set_read_timeout(Some(testkit::IO_TIMEOUT)).ok();
            tcp.set_write_timeout(Some(testkit::IO_TIMEOUT)).ok();
            let entry = match ssl.accept(tcp) {
                Ok(mut s) => {
                    let _ = s.shutdown();
                    "ok".to_string()
                }
                Err(e) => explain::handshake(&e),
            };
            if tx.send(entry).is_err() {
                return;
            }
        }
    });
    (addr, rx)
}

fn server_said(rx: &mpsc::Receiver<String>) -> Vec<String> {
    rx.recv_timeout(testkit::IO_TIMEOUT).into_iter().collect()
}

/// A connection of a context that holds `server`, given `id` by the learner's code.
fn overridden(ctx: &SslAcceptor, id: &'static Identity) -> Ssl {
    let ssl = Ssl::new(ctx.context()).unwrap();
    let (ssl, r) = testkit::call("use_for_this_connection", move || {
        let mut ssl = ssl;
        let r = use_for_this_connection(&mut ssl, &id.cert, &id.intermediates, &id.key);
        (ssl, r.map_err(|e| e.to_string()))
    });
    if let Err(e) = r {
        panic!(
            "use_for_this_connection refused `{}`'s certificate with its own key: {e}",
            id.name
        );
    }
    ssl
}

#[test]
fn one_connection_gets_another_certificate() {
    let p = pki();
    let ctx = reference::acceptor(&p.server);
    let special = overridden(&ctx, &p.server_chain);
    let usual = Ssl::new(ctx.context()).unwrap();
    let (addr, rx) = serve_each(vec![special, usual]);
    let files = Files::new().unwrap();

    let run = s_client(&files, addr, &[]);
    assert_peer_saw(
        &run,
        &p.server_chain,
        "a context holding `server` whose first connection was given `server-chain` by \
         use_for_this_connection (its intermediate must go on the connection too)",
        &server_said(&rx),
    );
    let run = s_client(&files, addr, &[]);
    assert_peer_saw(
        &run,
        &p.server,
        "the same context's second connection, which nobody changed (what is set on one \
         connection must not leak into the context)",
        &server_said(&rx),
    );
}

#[test]
fn an_rsa_identity_for_one_connection_sits_beside_the_contexts_ec_one() {
    // OpenSSL keeps one certificate slot per key type. Giving an EC context's connection an
    // RSA identity fills its RSA slot and leaves the EC one in place, and the handshake picks
    // by the client's signature algorithms: a client that asks for RSA gets the RSA one.
    let p = pki();
    let ctx = reference::acceptor(&p.server);
    let special = overridden(&ctx, p.server_rsa());
    let (addr, rx) = serve_each(vec![special]);
    let files = Files::new().unwrap();
    let run = s_client(
        &files,
        addr,
        &[
            "-sigalgs",
            "rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:rsa_pss_rsae_sha512",
        ],
    );
    assert_peer_saw(
        &run,
        p.server_rsa(),
        "a context holding the EC `server` whose connection was given `server-rsa` by \
         use_for_this_connection, asked for by a client that accepts only RSA signatures",
        &server_said(&rx),
    );
}

#[test]
fn a_mismatched_key_for_one_connection_is_refused() {
    let p = pki();
    let ctx = reference::acceptor(&p.server);
    for (cert, key, pair) in [
        (
            &p.server_chain,
            p.server_rsa(),
            "server-chain's EC certificate with server-rsa's RSA key",
        ),
        (
            &p.server,
            &p.client,
            "server's certificate with client's key (both P-256)",
        ),
    ] {
        let ssl = Ssl::new(ctx.context()).unwrap();
        let r = testkit::call("use_for_this_connection", move || {
            let mut ssl = ssl;
            use_for_this_connection(&mut ssl, &cert.cert, &cert.intermediates, &key.key)
                .map_err(|e| e.to_string())
        });
        assert!(
            r.is_err(),
            "use_for_this_connection accepted {pair}. A key of another type goes into another \
             slot without a word from OpenSSL, and the connection would then fail in the middle \
             of its handshake. The crate has no SSL_check_private_key, so compare the \
             certificate's public key with the key (public_eq) and return an error."
        );
    }
}

/// An RSA leaf for localhost signed by the intermediate CA (the workbook's RSA key, a
/// certificate of its own), with that intermediate: an identity of another key type than
/// the EC context's, that needs its chain.
fn rsa_under_the_intermediate() -> &'static Identity {
    static ID: OnceLock<Identity> = OnceLock::new();
    ID.get_or_init(|| {
        let p = pki();
        let issuer = &p.intermediate;
        let key = p.server_rsa().key.clone();
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_text("O", "TLS Workbook").unwrap();
        name.append_entry_by_text("CN", "localhost (RSA, via the intermediate)")
            .unwrap();
        let name = name.build();
        let mut b = X509::builder().unwrap();
        b.set_version(2).unwrap();
        let serial = BigNum::from_u32(0x5eed_0003).unwrap();
        b.set_serial_number(&serial.to_asn1_integer().unwrap())
            .unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(issuer.cert.subject_name()).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        b.set_not_after(&Asn1Time::days_from_now(365).unwrap())
            .unwrap();
        b.append_extension(KeyUsage::new().digital_signature().build().unwrap())
            .unwrap();
        b.append_extension(ExtendedKeyUsage::new().server_auth().build().unwrap())
            .unwrap();
        let san = SubjectAlternativeName::new()
            .dns(certs::HOST)
            .ip("127.0.0.1")
            .build(&b.x509v3_context(Some(&issuer.cert), None))
            .unwrap();
        b.append_extension(san).unwrap();
        b.sign(&issuer.key, MessageDigest::sha256()).unwrap();
        Identity {
            name: "server-rsa-chain",
            cert: b.build(),
            key,
            intermediates: vec![issuer.cert.clone()],
        }
    })
}

#[test]
fn an_rsa_identity_with_an_intermediate_for_one_connection_sends_its_chain() {
    // An EC context; one connection gets an RSA leaf signed by the intermediate. The
    // connection then holds two identities, one per key-type slot, and the intermediate
    // must sit in the RSA one: the slot of the certificate it belongs to.
    let p = pki();
    let id = rsa_under_the_intermediate();
    let ctx = reference::acceptor(&p.server);
    let special = overridden(&ctx, id);
    let (addr, rx) = serve_each(vec![special]);
    let files = Files::new().unwrap();
    let run = s_client(
        &files,
        addr,
        &[
            "-sigalgs",
            "rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:rsa_pss_rsae_sha512",
        ],
    );
    if run
        .transcript
        .contains("unable to get local issuer certificate")
    {
        panic!(
            "the connection sent its RSA certificate without the intermediate CA that signed \
             it, so a client that trusts only the root cannot verify it. OpenSSL keeps one \
             certificate slot per key type, and SSL_add0_chain_cert (add_chain_cert) adds to \
             the slot in use at that moment: the EC one of the context until set_certificate \
             or set_private_key switches to the RSA one. Set the certificate first, then its \
             chain.\n{}",
            run.transcript
        );
    }
    assert_peer_saw(
        &run,
        id,
        "a context holding the EC `server` whose connection was given an RSA leaf signed by \
         the intermediate, with that intermediate, by use_for_this_connection; asked for by a \
         client that accepts only RSA signatures",
        &server_said(&rx),
    );
}
