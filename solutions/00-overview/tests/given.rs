//! Tests of the code we ship outside the learner's regions (here `serve_one` and its
//! `received_close_notify`). They live in the solution crate, not in the shared
//! `exercises/00-overview/tests/overview.rs`, because every test of that shared file must
//! fail on the unsolved exercise, and these pass on it.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use certs::{pki, Files};
use ch00_overview::{serve_one, ServerSaw};
use testkit::reference;

// No verdict here depends on the CAs this machine trusts (see the macro).
testkit::no_system_trust!();

/// Runs the chapter's example server on its own thread and talks to it with a client of our
/// own, which sends one request, reads the first reply line, and then says goodbye with
/// close_notify or just drops the connection.
fn serve_a_client(close_notify: bool) -> ServerSaw {
    let files = Files::new().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (chain, key) = (files.path("server.chain.crt"), files.path("server.key"));
    let server = std::thread::spawn(move || {
        serve_one(&listener, &chain, &key, testkit::IO_TIMEOUT).map_err(|e| e.to_string())
    });

    let connector = reference::connector(&pki().ca);
    let mut tls = reference::connect(&connector, addr, certs::HOST)
        .unwrap_or_else(|e| panic!("our client could not reach the example server: {e}"));
    tls.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    tls.flush().unwrap();
    let mut reply = String::new();
    BufReader::new(&mut tls).read_line(&mut reply).unwrap();
    assert!(
        reply.starts_with("HTTP/1.0 200"),
        "serve_one answers a request with \"HTTP/1.0 200 ok\"; our client read {reply:?}"
    );
    if close_notify {
        tls.shutdown().unwrap();
    }
    // Dropping the stream closes the socket; it never sends a close_notify by itself.
    drop(tls);

    server
        .join()
        .expect("the example server panicked")
        .unwrap_or_else(|e| panic!("the example server failed: {e}"))
}

#[test]
fn serve_one_reports_a_client_that_hangs_up_without_close_notify() {
    let saw = serve_a_client(false);
    assert_eq!(saw.request, "GET / HTTP/1.0");
    assert!(
        !saw.close_notify,
        "serve_one's close_notify says whether the client's close_notify arrived: a client \
         that only closed its TCP connection sent none, yet serve_one reported {saw:?}"
    );
}

#[test]
fn serve_one_reports_a_client_that_says_goodbye_with_close_notify() {
    let saw = serve_a_client(true);
    assert_eq!(saw.request, "GET / HTTP/1.0");
    assert!(
        saw.close_notify,
        "serve_one's close_notify says whether the client's close_notify arrived: this \
         client sent one with shutdown(), yet serve_one reported {saw:?}"
    );
}
