//! Chapter 06: the learner's server is shown to the real `openssl s_client`, and the learner's
//! client to the real `openssl s_server`. Two connections of one server context must differ
//! when only one of them is made special; a bad client must be logged and refused, not
//! crash or hang the server.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use certs::{pki, Files, Identity};
use ch06_connections::{client_context, connect, Accepted, Server, Special};
use openssl::ssl::{SslAcceptor, SslAcceptorBuilder, SslMethod, SslStream};
use openssl::x509::X509;
use testkit::peers::{self, Finished, Misbehaviour, SServer};
use testkit::{explain, panic_text, reference, IO_TIMEOUT};

// No verdict here depends on the CAs this machine trusts (see the macro).
testkit::no_system_trust!();

const S_CLIENT_TIMEOUT: Duration = Duration::from_secs(10);
/// The timeout the tests give a server or client facing a peer that never speaks.
const SHORT: Duration = Duration::from_millis(250);
/// How long a call facing a silent peer may take before the test calls it hung.
const BOUND: Duration = Duration::from_secs(3);

/// The context every connection of the learner's server starts from: the `server` identity.
fn ordinary_builder() -> SslAcceptorBuilder {
    let id = &pki().server;
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
    b.set_certificate(&id.cert).unwrap();
    b.set_private_key(&id.key).unwrap();
    b.check_private_key().unwrap();
    b
}

/// What the special connection gets: `server-chain` (leaf under the intermediate) and a
/// demand for a client certificate from the workbook's root.
fn special() -> Special {
    let id = &pki().server_chain;
    Special {
        cert: id.cert.clone(),
        chain: id.intermediates.clone(),
        key: id.key.clone(),
        client_ca: pki().ca.cert.clone(),
    }
}

/// The learner's `Server::bind` on loopback, with `timeout` for silent clients.
fn bind(timeout: Duration) -> Arc<Server> {
    let mut server = testkit::call("Server::bind", || {
        Server::bind("127.0.0.1:0", ordinary_builder(), special())
    })
    .unwrap_or_else(|e| panic!("Server::bind(\"127.0.0.1:0\", ..) failed: {e}"));
    server.timeout = timeout;
    Arc::new(server)
}

fn addr_of(server: &Server) -> SocketAddr {
    server
        .local_addr()
        .expect("the listening socket has an address")
}

/// Runs `f` (which calls learner code through `testkit::within`) and turns a panic that is
/// not a `todo!()` or a hang into a sentence: a server must survive a bad client.
fn no_panic<T>(what: &str, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(payload) => {
            let text = panic_text(payload.as_ref());
            if text.contains("not yet implemented") || text.contains("did not return within") {
                resume_unwind(payload);
            }
            panic!(
                "{what} panicked instead of returning an error: {text}\nA server must survive a \
                 bad client: a failed handshake is an Err to log and drop, and the next client \
                 is still served. An unwrap() on the handshake turns any stranger's bytes into \
                 a crash."
            )
        }
    }
}

/// The learner's `Server::accept`, on its own thread, at most `limit`.
fn accept(server: &Arc<Server>, special: bool, limit: Duration) -> Result<Accepted, String> {
    let s = server.clone();
    no_panic("Server::accept", move || {
        testkit::within(limit, "Server::accept", move || {
            s.accept(special).map_err(|e| explain::boxed(&*e))
        })
    })
}

fn verifying_s_client(
    files: &Files,
    addr: SocketAddr,
    extra: &[String],
) -> testkit::process::Process {
    let mut args = peers::verifying_client_args(files);
    args.extend(extra.iter().cloned());
    peers::s_client(addr, &args)
}

fn client_cert_args(files: &Files, name: &str) -> Vec<String> {
    peers::identity_args(files, name, "-cert", "-key", "-cert_chain")
}

/// The certificate s_client printed after "Server certificate": the leaf the server sent.
fn certificate_seen(run: &Finished) -> Option<X509> {
    let pem = run.stdout.split("Server certificate\n").nth(1)?;
    X509::from_pem(pem.as_bytes()).ok()
}

fn assert_saw(run: &Finished, expected: &Identity, which: &str) {
    assert!(
        run.stdout.contains("Verify return code: 0 (ok)"),
        "openssl s_client could not verify the {which} connection. {}\n{}",
        if run
            .stdout
            .contains("unable to get local issuer certificate")
        {
            "The server sent its certificate without the intermediate CA that signed it, so the \
             client cannot reach the root it trusts: the special identity's chain must go on \
             the connection too (add_chain_cert)."
        } else {
            ""
        },
        run.transcript
    );
    let seen = certificate_seen(run).unwrap_or_else(|| {
        panic!(
            "no server certificate in s_client's output\n{}",
            run.transcript
        )
    });
    assert_eq!(
        certs::fingerprint(&seen),
        expected.fingerprint(),
        "the {which} connection should present `{}`, but s_client received another \
         certificate.\n{}",
        expected.name,
        run.transcript
    );
}

fn finish(mut client: testkit::process::Process) -> Finished {
    client.close_stdin();
    peers::finish(client, S_CLIENT_TIMEOUT)
}

// ---------- the server: what it refuses ----------

#[test]
fn the_special_connection_refuses_a_client_without_a_certificate() {
    let server = bind(IO_TIMEOUT);
    let files = Files::new().unwrap();
    let client = verifying_s_client(&files, addr_of(&server), &[]);
    let result = accept(&server, true, testkit::CALL_TIMEOUT);
    let run = finish(client);
    if let Ok(a) = &result {
        panic!(
            "the special connection completed its handshake with a client that sent no \
             certificate (the server holds a client certificate: {}). It must require one: \
             SslVerifyMode::PEER alone asks for a certificate but lets a client without one \
             in; FAIL_IF_NO_PEER_CERT is what refuses it.\n{}",
            a.stream.ssl().peer_certificate().is_some(),
            run.transcript
        );
    }
}

#[test]
fn the_special_connection_refuses_a_client_from_another_ca() {
    let server = bind(IO_TIMEOUT);
    let files = Files::new().unwrap();
    let client = verifying_s_client(
        &files,
        addr_of(&server),
        &client_cert_args(&files, "client-other-ca"),
    );
    let result = accept(&server, true, testkit::CALL_TIMEOUT);
    let run = finish(client);
    assert!(
        result.is_err(),
        "the special connection accepted a client certificate issued by another CA. It must \
         trust only `special.client_ca` for client certificates: put a store holding that one \
         root on the connection (set_verify_cert_store).\n{}",
        run.transcript
    );
}

// ---------- the server: two connections of one context ----------

#[test]
fn two_connections_of_one_context_differ() {
    let server = bind(IO_TIMEOUT);
    let files = Files::new().unwrap();
    let addr = addr_of(&server);

    // First the special connection: its own certificate, and a client certificate required.
    let client = verifying_s_client(&files, addr, &client_cert_args(&files, "client"));
    let first = accept(&server, true, testkit::CALL_TIMEOUT);
    // Close our end before waiting for s_client: it waits up to 500 ms for a server that stays.
    let first = first.map(|a| a.stream.ssl().peer_certificate().is_some());
    let run = finish(client);
    let first_saw_a_client_certificate = first.unwrap_or_else(|e| {
        panic!(
            "the special connection failed with a client that has a good certificate: {e}\n{}",
            run.transcript
        )
    });
    assert_saw(&run, &pki().server_chain, "special");
    assert!(
        first_saw_a_client_certificate,
        "the special connection completed without the client's certificate"
    );

    // Then an ordinary one from the same context: the context's certificate, no demand.
    let client = verifying_s_client(&files, addr, &[]);
    let second = accept(&server, false, testkit::CALL_TIMEOUT);
    let second = second.map(|a| a.stream.ssl().peer_certificate().is_none());
    let run = finish(client);
    let second_saw_no_client_certificate = second.unwrap_or_else(|e| {
        panic!(
            "the ordinary connection after a special one was refused: {e}. The special \
             settings leaked into the context (or into every connection): a setting on \
             SslRef changes one connection, a setting on the builder changes them all.\n{}",
            run.transcript
        )
    });
    assert_saw(&run, &pki().server, "ordinary");
    assert!(
        second_saw_no_client_certificate,
        "the ordinary connection asked the client for a certificate, like the special one"
    );
}

// ---------- the server: the socket and the log ----------

#[test]
fn the_server_listens_on_the_address_it_was_given() {
    let server = bind(IO_TIMEOUT);
    let addr = addr_of(&server);
    assert!(
        addr.ip().is_loopback() && addr.port() != 0,
        "Server::bind(\"127.0.0.1:0\", ..) listens on {addr}. It must bind the address it is \
         given: 127.0.0.1 is reachable from this machine only, and port 0 asks the kernel for \
         a free port. A test server on every interface is open to the whole network."
    );
}

#[test]
fn the_log_names_each_clients_address() {
    let server = bind(IO_TIMEOUT);
    let addr = addr_of(&server);
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    tcp.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    let mine = tcp.local_addr().unwrap();
    let client = thread::spawn(move || {
        reference::connector(&pki().ca)
            .connect(certs::HOST, tcp)
            .map(|mut s: SslStream<TcpStream>| {
                let _ = s.shutdown();
            })
            .map_err(|e| explain::handshake(&e))
    });
    let accepted = accept(&server, false, testkit::CALL_TIMEOUT);
    let _ = client.join();
    let accepted = accepted.unwrap_or_else(|e| panic!("a good client was refused: {e}"));
    let log = server.log();
    assert!(
        log.iter().any(|l| l.contains(&mine.to_string())),
        "the client connected from {mine}, but the server's log says {log:?}. Log the address \
         accept() returns for the other end (the peer), not the server's own address: the \
         log is how an operator finds out who connected."
    );
    assert_eq!(
        accepted.peer, mine,
        "Accepted::peer should be the client's address"
    );
}

#[test]
fn a_client_that_is_not_tls_is_logged_and_refused() {
    let server = bind(IO_TIMEOUT);
    let files = Files::new().unwrap();
    let http = peers::py_client(&files, addr_of(&server), Misbehaviour::Garbage);
    let result = accept(&server, false, testkit::CALL_TIMEOUT);
    let log = server.log();
    assert!(
        result.is_err(),
        "the server reported a TLS connection with a client that sent an HTTP request"
    );
    assert!(
        log.iter()
            .any(|l| l.starts_with("connection from 127.0.0.1:")),
        "a client that sent an HTTP request instead of a ClientHello is missing from the log \
         ({log:?}). Log `connection from ADDRESS` right after accept(), before the handshake: \
         the clients whose handshake fails are the ones an operator most wants to see.\n{}",
        http.transcript()
    );
}

#[test]
fn a_silent_client_times_out() {
    let server = bind(SHORT);
    // A client that connects and never sends a byte.
    let _silent = TcpStream::connect(addr_of(&server)).unwrap();
    let start = Instant::now();
    let result = accept(&server, false, BOUND);
    assert!(
        result.is_err(),
        "the server reported a TLS connection with a client that never sent a byte"
    );
    assert!(
        start.elapsed() < BOUND,
        "accept took {:?} to give up on a silent client with a timeout of {SHORT:?}",
        start.elapsed()
    );
}

// ---------- the client ----------

fn learner_connect(
    addr: SocketAddr,
    files: &Files,
    host: &str,
    timeout: Duration,
) -> Result<SslStream<TcpStream>, String> {
    let ca = files.path("ca.crt");
    let host = host.to_string();
    testkit::within(BOUND.max(timeout * 4), "connect", move || {
        let ctx = client_context(&ca).expect("client context");
        connect(&ctx, addr, &host, timeout).map_err(|e| explain::boxed(&*e))
    })
}

#[test]
fn the_client_refuses_a_certificate_for_another_host() {
    let files = Files::new().unwrap();
    let server = SServer::with_identity(&files, "wrong-host", &[] as &[&str]);
    let result = learner_connect(server.addr, &files, certs::HOST, IO_TIMEOUT);
    assert!(
        result.is_err(),
        "your client accepted a certificate for wrong.example while connecting to localhost: \
         anyone on the path could pose as the server. The context names no host; each \
         connection must (param_mut().set_host).\n{}",
        server.transcript()
    );
}

#[test]
fn the_client_refuses_an_untrusted_server() {
    let files = Files::new().unwrap();
    let server = SServer::with_identity(&files, "untrusted", &[] as &[&str]);
    let result = learner_connect(server.addr, &files, certs::HOST, IO_TIMEOUT);
    assert!(
        result.is_err(),
        "your client accepted a server whose certificate comes from a CA it does not trust: \
         the connection must keep the context's SslVerifyMode::PEER.\n{}",
        server.transcript()
    );
}

#[test]
fn the_client_names_the_host_to_the_server() {
    let files = Files::new().unwrap();
    let mut args = vec!["-servername".to_string(), certs::HOST.into()];
    args.extend(peers::identity_args(
        &files,
        "server",
        "-cert2",
        "-key2",
        "-cert_chain",
    ));
    let mut server = SServer::with_identity(&files, "server", &args);
    let mut stream =
        learner_connect(server.addr, &files, certs::HOST, IO_TIMEOUT).unwrap_or_else(|e| {
            panic!(
                "your client could not connect: {e}\n{}",
                server.transcript()
            )
        });
    stream.write_all(b"hello from chapter 06\n").unwrap();
    stream.flush().unwrap();
    let seen = server.process.wait_for("hello from chapter 06", IO_TIMEOUT);
    let _ = stream.shutdown();
    seen.unwrap_or_else(|e| panic!("s_server did not receive the client's line: {e}"));
    assert!(
        server
            .transcript()
            .contains(&format!("Hostname in TLS extension: \"{}\"", certs::HOST)),
        "s_server received no host name in the ClientHello (SNI). A server with several \
         certificates picks one by that name; set it on the connection (set_hostname).\n{}",
        server.transcript()
    );
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
}

#[test]
fn the_client_uses_the_host_name_it_was_given() {
    // wrong.example: a certificate from the workbook's root for another name than
    // localhost. Connecting as wrong.example, the client must send that name and check it.
    // s_server prints the name it received only when it has a second certificate to choose
    // (-servername with -cert2), so it gets the same one twice.
    let files = Files::new().unwrap();
    let host = "wrong.example";
    let mut args = vec!["-servername".to_string(), host.into()];
    args.extend(peers::identity_args(
        &files,
        "wrong-host",
        "-cert2",
        "-key2",
        "-cert_chain",
    ));
    let mut server = SServer::with_identity(&files, "wrong-host", &args);
    let mut stream = learner_connect(server.addr, &files, host, IO_TIMEOUT).unwrap_or_else(|e| {
        panic!(
            "your client, asked to connect to {host}, refused a good certificate for {host}: \
             {e}. It checks a name of its own instead of the `host` it was given: a client \
             that only ever accepts localhost can reach no other server. Give the connection \
             `host`, both as SNI (set_hostname) and as the name to check \
             (param_mut().set_host).\n{}",
            server.transcript()
        )
    });
    stream.write_all(b"hello from chapter 06\n").unwrap();
    stream.flush().unwrap();
    let seen = server.process.wait_for("hello from chapter 06", IO_TIMEOUT);
    let _ = stream.shutdown();
    seen.unwrap_or_else(|e| panic!("s_server did not receive the client's line: {e}"));
    let transcript = server.transcript();
    let wanted = format!("Hostname in TLS extension: \"{host}\"");
    assert!(
        transcript.contains(&wanted),
        "your client was asked to connect to {host}, but its ClientHello did not name {host} \
         (s_server prints `{wanted}` when it does). A server with several certificates picks \
         one by that name (SNI), so it must be the `host` given, not a fixed one.\n{transcript}"
    );
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
}

#[test]
fn a_silent_server_times_out() {
    let files = Files::new().unwrap();
    // A listening socket that nobody serves: the kernel completes the TCP handshake, and
    // then no byte ever comes back.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let start = Instant::now();
    let result = learner_connect(silent.local_addr().unwrap(), &files, certs::HOST, SHORT);
    assert!(
        result.is_err(),
        "connect reported a TLS connection with a server that never answered"
    );
    assert!(
        start.elapsed() < BOUND,
        "connect took {:?} to give up on a silent server with a timeout of {SHORT:?}",
        start.elapsed()
    );
}
