//! The message callback records what really crossed the wire, on both sides.

use std::net::{TcpListener, TcpStream};
use std::thread;

use certs::pki;
use openssl::ssl::{SslAcceptor, SslConnector, SslMethod, SslVerifyMode, SslVersion};
use testkit::reference;
use testkit::wire::{Message, Record, Wire};
use testkit::IO_TIMEOUT;

/// Runs one handshake between a server built from `server` (recorded through its context)
/// and a client built from `client` (recorded on its connection); returns both recordings
/// and whether the client's handshake succeeded.
fn handshake(server: openssl::ssl::SslAcceptorBuilder, client: SslConnector) -> (Wire, Wire, bool) {
    let mut server = server;
    let server_wire = Wire::record_context(&mut server);
    let acceptor: SslAcceptor = server.build();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let t = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        if let Ok(mut s) = acceptor.accept(tcp) {
            let _ = s.ssl_read(&mut [0u8; 1]);
        }
    });
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let mut ssl = client.configure().unwrap().into_ssl(certs::HOST).unwrap();
    let client_wire = Wire::record_ssl(&mut ssl);
    let ok = match ssl.connect(tcp) {
        Ok(mut s) => {
            let _ = s.shutdown();
            true
        }
        Err(_) => false,
    };
    t.join().unwrap();
    (server_wire, client_wire, ok)
}

fn server_builder() -> openssl::ssl::SslAcceptorBuilder {
    let id = &pki().server;
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
    b.set_certificate(&id.cert).unwrap();
    b.set_private_key(&id.key).unwrap();
    b
}

#[test]
fn a_good_tls13_handshake_is_recorded_in_order_on_both_sides() {
    let (server, client, ok) = handshake(server_builder(), reference::connector(&pki().ca));
    assert!(ok, "the handshake should succeed; client saw {client}");
    let c = client.transcript();
    assert!(
        c.starts_with("→ ClientHello, ← ServerHello, "),
        "client transcript: {c}"
    );
    for m in [
        "← EncryptedExtensions",
        "← Certificate",
        "← CertificateVerify",
        "← Finished",
        "→ Finished",
        "→ warning alert: close_notify (0)",
    ] {
        assert!(c.contains(m), "client transcript lacks {m:?}: {c}");
    }
    let s = server.transcript();
    assert!(
        s.starts_with("← ClientHello, → ServerHello, "),
        "server transcript: {s}"
    );
    assert!(s.contains("← Finished"), "server transcript: {s}");
    assert!(
        client.records().iter().all(|r| r.version == 0x0304
            || !matches!(r.message, Message::Handshake(_))
            || r.message == Message::Handshake(1)),
        "every handshake message after the ClientHello should be TLS 1.3: {:?}",
        client.records()
    );
}

#[test]
fn a_refused_server_shows_the_alert_the_client_sent() {
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
    let id = &pki().untrusted;
    b.set_certificate(&id.cert).unwrap();
    b.set_private_key(&id.key).unwrap();
    let (server, client, ok) = handshake(b, reference::connector(&pki().ca));
    assert!(!ok, "a server signed by an untrusted CA must be refused");
    assert!(
        client.transcript().ends_with("→ alert: unknown_ca (48)"),
        "client: {client}"
    );
    assert_eq!(client.fatal_alert(), Some(48));
    assert!(
        server.transcript().ends_with("← alert: unknown_ca (48)"),
        "server: {server}"
    );
    assert_eq!(server.alerts(), vec![(false, 2, 48)]);
}

#[test]
fn a_missing_client_certificate_shows_certificate_required_in_tls13() {
    let mut b = server_builder();
    b.cert_store_mut().add_cert(pki().ca.cert.clone()).unwrap();
    b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
    let (server, client, _) = handshake(b, reference::connector(&pki().ca));
    let s = server.transcript();
    assert!(
        s.contains("→ CertificateRequest") && s.ends_with("→ alert: certificate_required (116)"),
        "server: {s}"
    );
    // The client sent an empty Certificate message and finished before the server judged it.
    assert!(
        client.transcript().contains("→ Certificate, → Finished"),
        "client: {client}"
    );
}

#[test]
fn tls12_shows_its_own_messages() {
    let mut b = server_builder();
    b.set_max_proto_version(Some(SslVersion::TLS1_2)).unwrap();
    let (_, client, ok) = handshake(b, reference::connector(&pki().ca));
    assert!(ok, "client: {client}");
    let c = client.transcript();
    assert!(
        c.contains("← ServerKeyExchange, ← ServerHelloDone, → ClientKeyExchange, → ChangeCipherSpec, → Finished"),
        "client: {c}"
    );
}

#[test]
fn records_render_as_arrows_and_names() {
    let r = |sent, message| Record {
        sent,
        version: 0x0304,
        message,
    };
    assert_eq!(r(true, Message::Handshake(1)).to_string(), "→ ClientHello");
    assert_eq!(
        r(false, Message::Handshake(99)).to_string(),
        "← handshake message 99"
    );
    assert_eq!(
        r(
            false,
            Message::Alert {
                level: 2,
                description: 116
            }
        )
        .to_string(),
        "← alert: certificate_required (116)"
    );
    assert_eq!(
        r(
            true,
            Message::Alert {
                level: 1,
                description: 0
            }
        )
        .to_string(),
        "→ warning alert: close_notify (0)"
    );
    assert_eq!(Wire::default().transcript(), "(nothing)");
}

#[test]
fn s_client_msg_output_reads_as_the_same_kind_of_transcript() {
    let out = "CONNECTED(00000003)\n\
>>> TLS 1.0, RecordHeader [length 0005]\n\
>>> TLS 1.3, Handshake [length 0124], ClientHello\n\
<<< TLS 1.3, Handshake [length 007a], ServerHello\n\
<<< TLS 1.3, ChangeCipherSpec [length 0001]\n\
<<< TLS 1.3, InnerContent [length 0001]\n\
<<< TLS 1.3, Handshake [length 006d], CertificateRequest\n\
>>> TLS 1.3, Alert [length 0002], warning close_notify\n\
<<< TLS 1.3, Alert [length 0002], fatal certificate_required\n\
depth=0 O = TLS Workbook\n";
    assert_eq!(
        testkit::wire::from_msg_output(out),
        "→ ClientHello, ← ServerHello, ← ChangeCipherSpec, ← CertificateRequest, \
         → warning alert: close_notify, ← alert: certificate_required"
    );
    assert_eq!(testkit::wire::from_msg_output("no messages"), "(nothing)");
}
