//! The code chapter 12 gives the learner, outside the regions: the request reader, the
//! session cache's bookkeeping, the acceptor's client check and the handshake error text.
//! These run against the solution only (the shared tests must fail on the unsolved
//! exercise).

use std::io::Cursor;
use std::net::TcpListener;
use std::thread;

use ch12_resumption::{acceptor, read_request, visit, SessionCache, MAX_REQUEST};
use openssl::ssl::{SslConnector, SslMethod, SslVersion};

testkit::no_system_trust!();

const REQUEST: &[u8] = b"GET / HTTP/1.0\r\n\r\n";

fn connector(files: &certs::Files, max: Option<SslVersion>) -> SslConnector {
    let mut b = SslConnector::builder(SslMethod::tls_client()).expect("connector");
    b.set_ca_file(files.path("ca.crt")).expect("CA");
    b.set_max_proto_version(max).expect("version");
    b.build()
}

#[test]
fn read_request_stops_at_the_blank_line_or_the_end() {
    let mut r = Cursor::new(b"GET / HTTP/1.0\r\n\r\nthe body".to_vec());
    let got = read_request(&mut r).expect("a request");
    assert!(got.starts_with(REQUEST), "{got:?}");
    let mut r = Cursor::new(b"no blank line".to_vec());
    assert_eq!(read_request(&mut r).expect("to the end"), b"no blank line");
    let mut r = Cursor::new(vec![b'x'; MAX_REQUEST + 1]);
    let e = read_request(&mut r).expect_err("too long");
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
    let mut r = Cursor::new(vec![b'x'; MAX_REQUEST]);
    assert_eq!(read_request(&mut r).expect("just fits").len(), MAX_REQUEST);
}

#[test]
fn the_cache_counts_hosts_and_keeps_the_newest_session() {
    let files = certs::Files::new().expect("certificates");
    let cache = SessionCache::new();
    assert!(cache.is_empty());
    assert_eq!(cache.len(), 0);
    let server = testkit::peers::SServer::with_identity(&files, "server", &["-www", "-tls1_2"]);
    let c = connector(&files, Some(SslVersion::TLS1_2));
    let one = visit(&c, certs::HOST, server.addr, None, REQUEST)
        .expect("visit")
        .session;
    let two = visit(&c, certs::HOST, server.addr, None, REQUEST)
        .expect("visit")
        .session;
    assert_ne!(one.id(), two.id(), "two full handshakes, two sessions");
    cache.insert("a", one.clone());
    cache.insert("a", two.clone());
    assert_eq!(cache.len(), 1);
    assert!(!cache.is_empty());
    assert_eq!(
        cache.get("a").expect("kept").id(),
        two.id(),
        "the newest session wins"
    );
    cache.insert("b", one);
    assert_eq!(cache.len(), 2);
}

#[test]
fn a_client_without_a_certificate_is_refused_by_the_mutual_tls_acceptor() {
    let files = certs::Files::new().expect("certificates");
    let ca = files.path("ca.crt");
    let acc = acceptor(
        &files.path("server.chain.crt"),
        &files.path("server.key"),
        Some(&ca),
    )
    .expect("acceptor");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    let server = thread::spawn(move || {
        let (tcp, _) = listener.accept().expect("accept");
        tcp.set_read_timeout(Some(testkit::IO_TIMEOUT)).ok();
        acc.accept(tcp).is_ok()
    });
    let r = visit(&connector(&files, None), certs::HOST, addr, None, REQUEST);
    assert!(
        !server.join().expect("server"),
        "the server accepted a client without a certificate"
    );
    assert!(
        r.is_err(),
        "the visit succeeded without a client certificate"
    );
}

#[test]
fn a_handshake_error_names_the_certificate_problem() {
    let files = certs::Files::new().expect("certificates");
    let server = testkit::peers::SServer::with_identity(&files, "untrusted", &["-www"]);
    let e = visit(
        &connector(&files, None),
        certs::HOST,
        server.addr,
        None,
        REQUEST,
    )
    .err()
    .expect("an untrusted server is refused");
    let text = e.to_string();
    assert!(
        text.contains("the handshake failed") && text.contains("(certificate: "),
        "{text}"
    );
    // A failure that is not about the certificate has no such part: a server that closes
    // at once.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    let closer = thread::spawn(move || drop(listener.accept()));
    let e = visit(&connector(&files, None), certs::HOST, addr, None, REQUEST)
        .err()
        .expect("a server that closes is an error");
    closer.join().expect("closer");
    assert!(!e.to_string().contains("(certificate: "), "{e}");
}
