//! The kit's own checks: every peer starts, talks, and is gone after its guard drops.

use std::io::{Read, Write};
use std::time::Duration;

use certs::{pki, Files};
use testkit::peers::{self, Misbehaviour, PyServer, SServer};
use testkit::reference::{self, ReferenceServer};

#[test]
fn s_server_serves_the_reference_client_and_dies_with_its_guard() {
    let files = Files::new().unwrap();
    let server = SServer::with_identity(&files, "server-chain", &["-www"]);
    let mut s = reference::connect(&reference::connector(&pki().ca), server.addr, "localhost")
        .unwrap_or_else(|e| panic!("{e}\n{}", server.transcript()));
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut body = String::new();
    let _ = s.read_to_string(&mut body);
    assert!(body.contains("HTTP/1.0 200"), "{body}");
    let pid = server.process.id();
    drop(server);
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .map_or(true, |s| s.contains(") Z")),
        "s_server {pid} outlived its guard"
    );
}

#[test]
fn bad_certificates_fail_with_their_reasons() {
    let files = Files::new().unwrap();
    for (name, needle) in [
        ("expired", "expired"),
        ("wrong-host", "host name"),
        ("self-signed", "self-signed"),
        ("untrusted", "issuer"),
        ("missing-intermediate", "issuer"),
    ] {
        let server = SServer::with_identity(&files, name, &["-www"]);
        let err = reference::connect(&reference::connector(&pki().ca), server.addr, "localhost")
            .err()
            .unwrap_or_else(|| panic!("{name} was accepted"));
        assert!(err.contains(needle), "{name}: {err}");
    }
}

#[test]
fn s_client_verifies_the_reference_server() {
    let files = Files::new().unwrap();
    let server = ReferenceServer::echo(reference::acceptor(&pki().server_chain));
    let run = peers::run_s_client(
        server.addr,
        &peers::verifying_client_args(&files),
        b"ping\n",
        Duration::from_secs(10),
    );
    assert!(run.success(), "{}", run.transcript);
    assert!(
        run.stdout.contains("Verify return code: 0 (ok)"),
        "{}",
        run.transcript
    );
}

#[test]
fn python_peer_closes_without_close_notify() {
    let files = Files::new().unwrap();
    let py = PyServer::start(&files, Misbehaviour::NoCloseNotify);
    // Twice: the peer must survive its own misbehaviour and serve the next client.
    for _ in 0..2 {
        let mut s =
            reference::connect(&reference::connector(&pki().ca), py.addr, "localhost").unwrap();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        assert_eq!(buf, b"hello\n", "{}", py.process.transcript());
        assert!(
            !s.get_shutdown()
                .contains(openssl::ssl::ShutdownState::RECEIVED),
            "no close_notify was sent, yet RECEIVED is set"
        );
    }
}

#[test]
fn curl_refuses_an_untrusted_server() {
    let files = Files::new().unwrap();
    let server = SServer::with_identity(&files, "untrusted", &["-www"]);
    let run = peers::curl(&files, server.addr, &[] as &[&str], Duration::from_secs(10));
    assert_eq!(run.code(), Some(60), "{}", run.transcript);
}

#[test]
fn within_reraises_the_learners_panic() {
    let r = std::panic::catch_unwind(|| {
        testkit::within(Duration::from_secs(5), "a todo", || -> u8 {
            todo!("fill me")
        })
    });
    let text = testkit::panic_text(&*r.unwrap_err());
    assert!(text.contains("fill me"), "{text}");
}

#[test]
fn within_turns_a_hang_into_a_failure() {
    let r = std::panic::catch_unwind(|| {
        testkit::within(Duration::from_millis(200), "a sleeper", || {
            std::thread::sleep(Duration::from_secs(3))
        })
    });
    assert!(testkit::panic_text(&*r.unwrap_err()).contains("did not return"));
}

/// The Python reader tells a close_notify from a bare TCP close, whichever Python runs it:
/// Debian's 3.11.2 creates its contexts with OP_IGNORE_UNEXPECTED_EOF (both alike, then)
/// and raises the unexpected EOF as a plain SSLError.
#[test]
fn the_python_reader_tells_a_truncation_from_a_clean_end() {
    let files = Files::new().unwrap();
    for (close_notify, want) in [(true, "GOT 6 CLEAN"), (false, "GOT 6 TRUNCATED")] {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut reader = testkit::py_extra::py_reader(&files, addr, true);
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(testkit::IO_TIMEOUT)).unwrap();
        let mut tls = reference::acceptor(&pki().server_chain)
            .accept(tcp)
            .unwrap_or_else(|e| panic!("{e}\n{}", reader.transcript()));
        tls.write_all(b"hello\n").unwrap();
        if close_notify {
            let _ = tls.shutdown();
        }
        drop(tls);
        let said = reader
            .wait_for("DONE", Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            said.contains(want),
            "expected {want:?}:\n{}",
            reader.transcript()
        );
    }
}
