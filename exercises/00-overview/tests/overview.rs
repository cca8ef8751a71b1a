//! Chapter 00: your first client, graded against the real `openssl s_server`, a Python
//! server that never speaks, and the chapter's own example server.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::time::Duration;

use certs::Files;
use ch00_overview::{first_handshake, serve_one, FirstContact};
use testkit::peers::{Misbehaviour, PyServer, SServer};

// No verdict here depends on the CAs this machine trusts (see the macro).
testkit::no_system_trust!();

/// Runs the learner's client against `addr`, trusting `ca`; the error comes back as a
/// sentence.
fn client(addr: SocketAddr, ca: PathBuf, timeout: Duration) -> Result<FirstContact, String> {
    testkit::call("first_handshake", move || {
        first_handshake(addr, &ca, timeout).map_err(|e| testkit::explain::boxed(&*e))
    })
}

/// Runs the learner's client against an `openssl s_server -www` serving `identity`.
fn handshake_with(identity: &str, extra: &[&str]) -> (Result<FirstContact, String>, SServer) {
    let files = Files::new().unwrap();
    let mut args = vec!["-www"];
    args.extend_from_slice(extra);
    let server = SServer::with_identity(&files, identity, &args);
    let result = client(server.addr, files.path("ca.crt"), testkit::IO_TIMEOUT);
    (result, server)
}

// ---------------------------------------------------------------------------------------
// What the client trusts and what it refuses
// ---------------------------------------------------------------------------------------

#[test]
fn refuses_a_server_signed_by_a_stranger() {
    let (result, server) = handshake_with("untrusted", &[]);
    if let Ok(contact) = result {
        panic!(
            "your client finished a handshake with a server whose certificate was signed by a CA \
             you never trusted ({}). Anyone on the path could pose as that server. The context \
             must verify the server against the CA file, and nothing else.\n{}",
            contact.server_subject,
            server.transcript()
        );
    }
}

#[test]
fn refuses_a_certificate_for_another_host() {
    let (result, server) = handshake_with("wrong-host", &[]);
    if let Ok(contact) = result {
        panic!(
            "your client accepted a certificate for {:?} while connecting to \"localhost\". A \
             trusted CA signs certificates for many sites; only the host name check tells yours \
             from someone else's. Name the host in `connect(\"localhost\", ...)` and do not turn \
             the check off.\n{}",
            contact.server_subject,
            server.transcript()
        );
    }
}

/// Set in the child process of [`refuses_a_server_signed_only_by_the_system_store`].
const PROBE_ADDR: &str = "WORKBOOK_CH00_PROBE_ADDR";
const PROBE_CA: &str = "WORKBOOK_CH00_PROBE_CA";

#[test]
fn refuses_a_server_signed_only_by_the_system_store() {
    // The child: run the learner's client once, in a process whose OpenSSL default trust
    // store (SSL_CERT_FILE, SSL_CERT_DIR) holds only the stand-in system CA. Environment
    // variables belong to the whole process, so the parent never sets them on itself.
    if let Ok(addr) = std::env::var(PROBE_ADDR) {
        let ca = PathBuf::from(std::env::var(PROBE_CA).expect("the probe's CA file"));
        match client(
            addr.parse().expect("the probe's address"),
            ca,
            testkit::IO_TIMEOUT,
        ) {
            Ok(contact) => println!("PROBE ACCEPTED {}", contact.server_subject),
            Err(e) => println!("PROBE REFUSED {e}"),
        }
        return;
    }
    // The parent: a server whose certificate only the "system" CA signed.
    let files = Files::new().unwrap();
    let server = SServer::with_identity(&files, "system-server", &["-www"]);
    let system_dir = files.dir().join("system-certs");
    std::fs::create_dir_all(&system_dir).unwrap();
    let system_ca = &certs::pki().system_ca.cert;
    std::fs::write(
        system_dir.join(format!("{:08x}.0", system_ca.subject_name_hash())),
        system_ca.to_pem().unwrap(),
    )
    .unwrap();
    let child = testkit::probe::run_test_in_child(
        "refuses_a_server_signed_only_by_the_system_store",
        &[
            (
                "SSL_CERT_FILE",
                files.path("system-ca.crt").display().to_string(),
            ),
            ("SSL_CERT_DIR", system_dir.display().to_string()),
            (PROBE_ADDR, server.addr.to_string()),
            (PROBE_CA, files.path("ca.crt").display().to_string()),
        ],
        Duration::from_secs(20),
    );
    let out = &child.stdout;
    if out.contains("PROBE ACCEPTED") {
        panic!(
            "your client accepted a server whose certificate is signed only by a CA in \
             OpenSSL's default trust store (here a stand-in \"system\" CA, named by \
             SSL_CERT_FILE), not by the CA in `ca_file`. SslConnector::builder loads those \
             default paths (on Debian, 144 public roots): any \
             of them could then vouch for \"localhost\". Give the context a store that holds \
             your CA only.\n{}",
            server.transcript()
        );
    }
    if !out.contains("PROBE REFUSED") {
        // The learner's code panicked in the child (a todo!(), say): pass its words on.
        if let Some(todo) = testkit::probe::todo_line(&child) {
            panic!("{todo}");
        }
        let why = child
            .stderr
            .lines()
            .find(|l| l.contains("panicked"))
            .unwrap_or("(no panic message)");
        panic!(
            "the probe (this test, run again in a child process with SSL_CERT_FILE pointing \
             at a stand-in system CA) did not finish ({}): {why}\n{}",
            match child.status {
                Some(s) => format!("{s}"),
                None => "still running after 20 s".to_string(),
            },
            child.transcript
        );
    }
}

#[test]
fn refuses_a_server_that_speaks_only_tls10_and_tls11() {
    // Static RSA key exchange signs nothing, so OpenSSL 3.0's security level has nothing
    // to refuse: only the client's minimum version keeps TLS 1.0 and 1.1 out.
    let files = Files::new().unwrap();
    let (cert, key) = (files.path("server-rsa.crt"), files.path("server-rsa.key"));
    let server = SServer::start(&[
        "-www",
        "-cert",
        &cert.display().to_string(),
        "-key",
        &key.display().to_string(),
        "-no_tls1_2",
        "-no_tls1_3",
        "-cipher",
        "AES128-SHA:@SECLEVEL=0",
    ]);
    if let Ok(contact) = client(server.addr, files.path("ca.crt"), testkit::IO_TIMEOUT) {
        panic!(
            "your client agreed to {} with {} against a server that allows nothing newer. TLS \
             1.0 and 1.1 are retired (RFC 8996), and the security level of OpenSSL 3.0 does not \
             refuse them with this cipher: set a minimum of TLS 1.2 on the context.\n{}",
            contact.version,
            contact.cipher,
            server.transcript()
        );
    }
}

#[test]
fn a_silent_server_is_a_timeout_not_a_hang() {
    let files = Files::new().unwrap();
    let py = PyServer::start(&files, Misbehaviour::Stall);
    let (addr, ca) = (py.addr, files.path("ca.crt"));
    // The server accepts and then never says a word. With a quarter-second timeout on the
    // socket the handshake must give up well within two seconds.
    let result = testkit::within(Duration::from_secs(2), "first_handshake", move || {
        first_handshake(addr, &ca, Duration::from_millis(250))
            .map_err(|e| testkit::explain::boxed(&*e))
    });
    if let Ok(contact) = result {
        panic!("a server that never speaks cannot complete a handshake, yet your client reported {contact:?}");
    }
}

// ---------------------------------------------------------------------------------------
// What the client does with a good server
// ---------------------------------------------------------------------------------------

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
    let contact = result.unwrap_or_else(|e| {
        panic!(
            "your client could not talk to a server that speaks only TLS 1.2: {e}\nA minimum of \
             TLS 1.2 is right; a minimum of 1.3 shuts out servers that are still fine.\n{}",
            server.transcript()
        )
    });
    assert_eq!(
        contact.version, "TLSv1.2",
        "the server allows only TLS 1.2; a client built on SslMethod::tls_client() negotiates \
         down to it"
    );
}

#[test]
fn says_goodbye_with_close_notify() {
    let files = Files::new().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (chain, key) = (files.path("server.chain.crt"), files.path("server.key"));
    // The chapter's example server, on its own thread: it waits for the goodbye.
    let server = std::thread::spawn(move || {
        serve_one(&listener, &chain, &key, testkit::IO_TIMEOUT).map_err(|e| e.to_string())
    });
    let contact = client(addr, files.path("ca.crt"), testkit::IO_TIMEOUT).unwrap_or_else(|e| {
        panic!("your client could not talk to the chapter's example server: {e}")
    });
    let saw = server
        .join()
        .expect("the example server panicked")
        .unwrap_or_else(|e| panic!("the example server failed: {e}"));
    assert_eq!(
        saw.request, "GET / HTTP/1.0",
        "the example server should have received the client's request line"
    );
    assert!(
        contact.reply.starts_with("HTTP/1.0 200"),
        "the example server answers \"HTTP/1.0 200 ok\"; your client read {:?}",
        contact.reply
    );
    assert!(
        saw.close_notify,
        "your client hung up without a close_notify alert: the server saw the TCP connection \
         end and cannot tell a deliberate goodbye from an attacker cutting the line. End with \
         the stream's shutdown()."
    );
}
