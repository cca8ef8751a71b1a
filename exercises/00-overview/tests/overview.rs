//! Chapter 00: your first handshake, graded against the real `openssl s_server`.

use certs::Files;
use ch00_overview::first_handshake;
use testkit::peers::SServer;

/// Runs the learner's client against an `openssl s_server -www` serving `identity`.
fn handshake_with(
    identity: &str,
    extra: &[&str],
) -> (Result<ch00_overview::FirstContact, String>, SServer) {
    let files = Files::new().unwrap();
    let mut args = vec!["-www"];
    args.extend_from_slice(extra);
    let server = SServer::with_identity(&files, identity, &args);
    let (addr, ca) = (server.addr, files.path("ca.crt"));
    let result = testkit::call("first_handshake", move || {
        first_handshake(addr, &ca).map_err(|e| e.to_string())
    });
    (result, server)
}

#[test]
fn talks_to_openssl_s_server() {
    let (result, server) = handshake_with("server", &[]);
    let contact = result.unwrap_or_else(|e| {
        panic!(
            "your client could not complete a handshake with a correctly configured server: {e}\n\
             Check that the context trusts the CA file you were given and that you connect as \
             \"localhost\", the name in the server's certificate.\n{}",
            server.transcript()
        )
    });
    assert_eq!(
        contact.version, "TLSv1.3",
        "both sides speak TLS 1.3, so that is what they should agree on"
    );
    assert!(
        contact.server_subject.contains("CN=localhost"),
        "the server's certificate should be the one for localhost, got {:?}",
        contact.server_subject
    );
    assert!(
        contact.reply.starts_with("HTTP/1.0 200"),
        "s_server -www answers a GET with \"HTTP/1.0 200 ok\"; your client read {:?}",
        contact.reply
    );
}

#[test]
fn talks_tls12_when_the_server_only_speaks_tls12() {
    let (result, server) = handshake_with("server", &["-tls1_2"]);
    let contact =
        result.unwrap_or_else(|e| panic!("handshake failed: {e}\n{}", server.transcript()));
    assert_eq!(
        contact.version, "TLSv1.2",
        "the server allows only TLS 1.2; a client built on SslMethod::tls_client() negotiates \
         down to it"
    );
}

#[test]
fn refuses_a_server_signed_by_a_stranger() {
    let (result, _server) = handshake_with("untrusted", &[]);
    if let Ok(contact) = result {
        panic!(
            "your client finished a handshake with a server whose certificate was signed by a CA \
             you never trusted ({}). Anyone on the path could pose as that server. The context \
             must verify the server against the CA file, and nothing else.",
            contact.server_subject
        );
    }
}

#[test]
fn refuses_a_certificate_for_another_host() {
    let (result, _server) = handshake_with("wrong-host", &[]);
    if let Ok(contact) = result {
        panic!(
            "your client accepted a certificate for {:?} while connecting to \"localhost\". A \
             trusted CA signs certificates for many sites; only the host name check tells yours \
             from someone else's. Keep the name in `connect(\"localhost\", ...)` and do not turn \
             the check off.",
            contact.server_subject
        );
    }
}
