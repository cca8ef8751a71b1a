//! Chapter 08: explicit and lazy handshakes against the real `openssl s_client` and
//! `openssl s_server`; clients that never speak or speak something else (the misbehaving
//! Python peer, raw sockets) must cost the server a bounded time and an error, and the next
//! client must still be served.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use certs::{pki, Files};
use ch08_handshake::{accept, accept_lazily, connect, connect_lazily, serve, Error, GREETING};
use openssl::ssl::{SslAcceptor, SslConnector, SslStream};
use testkit::peers::{self, Misbehaviour, SServer};
use testkit::process::Process;
use testkit::{panic_text, reference, IO_TIMEOUT};

// No verdict here depends on the CAs this machine trusts (see the macro).
testkit::no_system_trust!();

/// The timeout the tests give code facing a peer that never speaks.
const SHORT: Duration = Duration::from_millis(250);
/// How long a call facing a silent peer may take before the test calls it hung.
const BOUND: Duration = Duration::from_secs(3);

fn acceptor() -> SslAcceptor {
    reference::acceptor(&pki().server)
}

fn connector() -> SslConnector {
    reference::connector(&pki().ca)
}

fn listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0")
}

/// Accepts one TCP connection, waiting at most `limit` for it.
fn tcp_from(listener: &TcpListener, limit: Duration) -> TcpStream {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + limit;
    loop {
        match listener.accept() {
            Ok((tcp, _)) => {
                listener.set_nonblocking(false).unwrap();
                tcp.set_nonblocking(false).unwrap();
                return tcp;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(5))
            }
            Err(e) => panic!("no client connected to the test's listener: {e}"),
        }
    }
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
                "{what} panicked instead of returning an error: {text}\nA failed handshake is \
                 an Err for the caller to log: an unwrap() on it lets any stranger who sends \
                 the wrong bytes crash the server."
            )
        }
    }
}

/// The learner's explicit `accept` on `tcp`, with `timeout`, at most `limit`.
fn learner_accept(
    tcp: TcpStream,
    timeout: Duration,
    limit: Duration,
) -> Result<SslStream<TcpStream>, Error> {
    no_panic("accept", move || {
        testkit::within(limit, "accept", move || accept(&acceptor(), tcp, timeout))
    })
}

fn describe<T>(r: &Result<T, Error>) -> String {
    match r {
        Ok(_) => "Ok (a finished handshake)".into(),
        Err(e) => format!("Err({e:?})"),
    }
}

// ---------- the explicit server against bad clients ----------

#[test]
fn a_silent_client_times_out() {
    let files = Files::new().unwrap();
    let l = listener();
    let _silent = peers::py_client(&files, l.local_addr().unwrap(), Misbehaviour::Stall);
    let tcp = tcp_from(&l, IO_TIMEOUT);
    let start = Instant::now();
    let result = learner_accept(tcp, SHORT, BOUND);
    let took = start.elapsed();
    match result {
        Err(Error::Timeout) => assert!(
            Error::Timeout.to_string().contains("in time"),
            "Error::Timeout should say in words that the peer was too slow"
        ),
        Err(Error::Handshake(why)) => panic!(
            "a client that never spoke was reported as a failed handshake ({why}). A read \
             timeout in the middle of a handshake comes back as HandshakeError::WouldBlock: \
             that is the timeout, and it must be Error::Timeout, so that the caller can tell \
             a slow or silent client from one that speaks something else."
        ),
        other => panic!(
            "a client that never spoke should end in Error::Timeout; accept returned {}",
            describe(&other)
        ),
    }
    assert!(
        took < BOUND,
        "accept took {took:?} to give up on a silent client with a timeout of {SHORT:?}"
    );
}

#[test]
fn a_client_that_sends_http_is_refused() {
    let files = Files::new().unwrap();
    let l = listener();
    let http = peers::py_client(&files, l.local_addr().unwrap(), Misbehaviour::Garbage);
    let tcp = tcp_from(&l, IO_TIMEOUT);
    let result = learner_accept(tcp, IO_TIMEOUT, testkit::CALL_TIMEOUT);
    assert!(
        matches!(result, Err(Error::Handshake(_))),
        "a client that sent an HTTP request instead of a ClientHello should end in \
         Error::Handshake; accept returned {}\n{}",
        describe(&result),
        http.transcript()
    );
}

#[test]
fn random_bytes_are_refused() {
    let l = listener();
    let mut noise = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    // Bytes from a fixed little generator: the same every run, TLS in none of them.
    let mut x: u32 = 0x2545_f491;
    let bytes: Vec<u8> = (0..256)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect();
    noise.write_all(&bytes).unwrap();
    noise.shutdown(Shutdown::Write).unwrap();
    let tcp = tcp_from(&l, IO_TIMEOUT);
    let result = learner_accept(tcp, IO_TIMEOUT, testkit::CALL_TIMEOUT);
    assert!(
        matches!(result, Err(Error::Handshake(_))),
        "a client that sent random bytes should end in Error::Handshake; accept returned {}",
        describe(&result)
    );
}

// ---------- the server goes on ----------

/// The learner's `serve` on its own thread.
fn serve_in_background(
    l: Arc<TcpListener>,
    clients: usize,
    timeout: Duration,
) -> JoinHandle<Vec<Result<(), Error>>> {
    thread::Builder::new()
        .name("learner: serve".into())
        .spawn(move || serve(&l, &acceptor(), clients, timeout))
        .unwrap()
}

/// Waits until `done()` or `limit`; if `serve` ends first, re-raises its panic (a `todo!()`)
/// or says that it stopped early.
fn wait_while_serving(
    server: &JoinHandle<Vec<Result<(), Error>>>,
    what: &str,
    limit: Duration,
    mut done: impl FnMut() -> bool,
) {
    let deadline = Instant::now() + limit;
    while !done() {
        if server.is_finished() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within {limit:?}"
        );
        thread::sleep(Duration::from_millis(5));
    }
}

fn outcomes_of(server: JoinHandle<Vec<Result<(), Error>>>) -> Vec<Result<(), Error>> {
    let deadline = Instant::now() + testkit::CALL_TIMEOUT;
    while !server.is_finished() {
        assert!(
            Instant::now() < deadline,
            "your server loop did not return after its last client was done: it should serve \
             the given number of clients and stop, each failure (a timeout, a bad handshake) \
             counted as one, never waited on for ever"
        );
        thread::sleep(Duration::from_millis(5));
    }
    match server.join() {
        Ok(v) => v,
        Err(payload) => {
            let text = panic_text(payload.as_ref());
            if text.contains("not yet implemented") {
                resume_unwind(payload);
            }
            panic!(
                "serve panicked: {text}\nOne bad client must not take the server down: a \
                 failed handshake is an Err in the list, and the loop goes on."
            )
        }
    }
}

fn s_client_for_greeting(files: &Files, addr: SocketAddr) -> Process {
    peers::s_client(addr, &peers::verifying_client_args(files))
}

fn assert_greeted(client: Process, outcomes: &[Result<(), Error>], after: &str) {
    let run = peers::finish(client, IO_TIMEOUT);
    let greeting = String::from_utf8_lossy(GREETING);
    assert!(
        run.stdout.contains(greeting.trim()),
        "the good client that came after {after} was not served: s_client never received the \
         greeting. serve returned {} outcome(s): {:?}. One bad client must not stop the \
         server: record its error and go on with the next.\n{}",
        outcomes.len(),
        outcomes.iter().map(describe).collect::<Vec<_>>(),
        run.transcript
    );
}

#[test]
fn the_server_serves_the_next_client_after_a_silent_one() {
    let files = Files::new().unwrap();
    let l = Arc::new(listener());
    let addr = l.local_addr().unwrap();
    // Connected first, so first in the queue: a client that never says anything.
    let _silent = TcpStream::connect(addr).unwrap();
    let good = s_client_for_greeting(&files, addr);
    let server = serve_in_background(l, 2, SHORT);
    let outcomes = outcomes_of(server);
    assert!(
        matches!(outcomes.first(), Some(Err(Error::Timeout))),
        "the first client never spoke: its outcome should be Err(Timeout), not {:?}",
        outcomes.first().map(describe)
    );
    assert_greeted(good, &outcomes, "a silent one");
    assert!(
        matches!(outcomes.get(1), Some(Ok(()))),
        "the second client was served, but serve reported {:?}",
        outcomes.get(1).map(describe)
    );
}

#[test]
fn the_server_serves_the_next_client_after_garbage() {
    let files = Files::new().unwrap();
    let l = Arc::new(listener());
    let addr = l.local_addr().unwrap();
    let server = serve_in_background(l, 3, IO_TIMEOUT);

    // 1. The Python peer sends an HTTP request; it prints DONE once the server hung up.
    let mut http = peers::py_client(&files, addr, Misbehaviour::Garbage);
    wait_while_serving(&server, "the HTTP client's end", IO_TIMEOUT, || {
        http.stdout().contains("DONE")
    });
    // 2. Random bytes; the server answers with an alert or hangs up.
    if !server.is_finished() {
        let mut noise = TcpStream::connect(addr).unwrap();
        noise
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let _ = noise.write_all(&[0x47, 0x45, 0x54, 0xff, 0x00, 0x13, 0x37, 0x42]);
        let _ = noise.shutdown(Shutdown::Write);
        let _ = noise.read_to_end(&mut Vec::new());
    }
    // 3. A good client.
    let good = s_client_for_greeting(&files, addr);
    wait_while_serving(&server, "the good client's end", IO_TIMEOUT, || {
        good.stdout().contains("DONE") || good.stderr().contains("DONE")
    });
    let outcomes = outcomes_of(server);
    http.close_stdin();
    assert_greeted(good, &outcomes, "an HTTP request and random bytes");
    assert!(
        outcomes.len() == 3
            && matches!(outcomes[0], Err(Error::Handshake(_)))
            && matches!(outcomes[1], Err(Error::Handshake(_)))
            && outcomes[2].is_ok(),
        "serve should report [Handshake error, Handshake error, Ok], not {:?}",
        outcomes.iter().map(describe).collect::<Vec<_>>()
    );
}

// ---------- explicit and lazy, against the real peers ----------

#[test]
fn explicit_accept_returns_after_the_handshake() {
    let files = Files::new().unwrap();
    let l = listener();
    let client = peers::s_client(
        l.local_addr().unwrap(),
        &peers::verifying_client_args(&files),
    );
    let tcp = tcp_from(&l, IO_TIMEOUT);
    let mut stream = learner_accept(tcp, IO_TIMEOUT, testkit::CALL_TIMEOUT).unwrap_or_else(|e| {
        panic!(
            "accept failed with a good client: {e}\n{}",
            client.transcript()
        )
    });
    assert!(
        stream.ssl().is_init_finished(),
        "accept returned before the handshake was over"
    );
    stream.write_all(b"explicit\n").unwrap();
    let _ = stream.shutdown();
    // Our end closed, s_client exits at once (it waits up to 500 ms for a server that stays).
    drop(stream);
    let run = peers::finish(client, IO_TIMEOUT);
    assert!(
        run.stdout.contains("Verify return code: 0 (ok)") && run.stdout.contains("explicit"),
        "s_client should have verified the server and received a line\n{}",
        run.transcript
    );
}

#[test]
fn the_lazy_server_has_not_handshaken_before_its_first_read() {
    let files = Files::new().unwrap();
    let l = listener();
    let mut client = peers::s_client(
        l.local_addr().unwrap(),
        &peers::verifying_client_args(&files),
    );
    let tcp = tcp_from(&l, IO_TIMEOUT);
    let stream = no_panic("accept_lazily", move || {
        testkit::within(testkit::CALL_TIMEOUT, "accept_lazily", move || {
            accept_lazily(&acceptor(), tcp, IO_TIMEOUT)
        })
    })
    .unwrap_or_else(|e| panic!("accept_lazily failed: {e}"));
    assert!(
        !stream.ssl().is_init_finished(),
        "accept_lazily returned a stream whose handshake is already finished. A lazy server \
         only learns it is the server (set_accept_state) and is wrapped with SslStream::new; \
         the first read does the handshake. Calling accept as well is the explicit way."
    );
    assert!(
        !client.stdout().contains("Server certificate"),
        "s_client already has the server's certificate before the server read anything"
    );
    client.send(b"ping from s_client\n").unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let read = reader.read_line(&mut line);
    let finished = reader.get_ref().ssl().is_init_finished();
    // Our end closed, s_client exits at once (it waits up to 500 ms for a server that stays).
    drop(reader);
    client.close_stdin();
    let run = peers::finish(client, IO_TIMEOUT);
    if let Err(e) = read {
        panic!(
            "the lazy server's first read failed: {e}. That read should have run the whole \
             handshake and returned s_client's line. If OpenSSL says \"uninitialized\", the \
             connection was never told it is the server side: set_accept_state.\n{}",
            run.transcript
        );
    }
    assert_eq!(
        line, "ping from s_client\n",
        "the lazy server read the wrong line"
    );
    assert!(
        finished,
        "after the first read the handshake should be finished"
    );
}

#[test]
fn the_lazy_client_has_not_handshaken_before_its_first_write() {
    let files = Files::new().unwrap();
    let mut server = SServer::with_identity(&files, "server", &[] as &[&str]);
    let addr = server.addr;
    let mut stream = no_panic("connect_lazily", move || {
        testkit::within(testkit::CALL_TIMEOUT, "connect_lazily", move || {
            connect_lazily(&connector(), addr, certs::HOST, IO_TIMEOUT)
        })
    })
    .unwrap_or_else(|e| panic!("connect_lazily failed: {e}\n{}", server.transcript()));
    assert!(
        !stream.ssl().is_init_finished(),
        "connect_lazily returned a stream whose handshake is already finished. A lazy client \
         only learns it is the client (set_connect_state) and is wrapped with SslStream::new; \
         the first write does the handshake."
    );
    assert!(
        !server.transcript().contains("CIPHER is"),
        "s_server reports a finished handshake before the lazy client wrote anything\n{}",
        server.transcript()
    );
    stream
        .write_all(b"ping from the lazy client\n")
        .unwrap_or_else(|e| {
            panic!(
                "the lazy client's first write failed: {e}\n{}",
                server.transcript()
            )
        });
    stream.flush().unwrap();
    assert!(
        stream.ssl().is_init_finished(),
        "after the first write the handshake should be finished"
    );
    let seen = server
        .process
        .wait_for("ping from the lazy client", IO_TIMEOUT);
    let _ = stream.shutdown();
    seen.unwrap_or_else(|e| panic!("s_server did not receive the lazy client's line: {e}"));
}

#[test]
fn the_lazy_client_checks_the_host_name() {
    let files = Files::new().unwrap();
    let server = SServer::with_identity(&files, "wrong-host", &[] as &[&str]);
    let addr = server.addr;
    let stream = no_panic("connect_lazily", move || {
        testkit::within(testkit::CALL_TIMEOUT, "connect_lazily", move || {
            connect_lazily(&connector(), addr, certs::HOST, IO_TIMEOUT)
        })
    });
    let Ok(mut stream) = stream else {
        return; // Refused even before the first write: also a refusal.
    };
    let first = stream.write_all(b"secret\n").and_then(|_| stream.flush());
    assert!(
        first.is_err(),
        "your lazy client accepted a certificate for wrong.example while connecting to \
         localhost: anyone on the path could pose as the server. A connection made from the \
         bare context (Ssl::new(connector.context())) has no host name to check; \
         connector.configure()?.into_ssl(host) gives it one (and SNI).\n{}",
        server.transcript()
    );
}

#[test]
fn the_lazy_client_times_out_on_a_silent_server() {
    // A listening socket that nobody serves: TCP connects, and no byte ever comes back.
    let silent = listener();
    let addr = silent.local_addr().unwrap();
    let stream = no_panic("connect_lazily", move || {
        testkit::within(BOUND, "connect_lazily", move || {
            connect_lazily(&connector(), addr, certs::HOST, SHORT)
        })
    });
    let Ok(mut stream) = stream else {
        return; // Gave up before the first write: also bounded.
    };
    let start = Instant::now();
    let first = testkit::within(BOUND, "the lazy client's first write", move || {
        stream
            .write_all(b"anyone there?\n")
            .and_then(|_| stream.flush())
            .map_err(|e| e.to_string())
    });
    assert!(
        first.is_err(),
        "the first write to a server that never answers reported success"
    );
    assert!(
        start.elapsed() < BOUND,
        "the first write took {:?} to give up with a timeout of {SHORT:?}",
        start.elapsed()
    );
}

#[test]
fn the_explicit_client_meets_the_lazy_server() {
    let l = listener();
    let addr = l.local_addr().unwrap();
    let client = thread::spawn(move || {
        let mut tls = connect(&connector(), addr, certs::HOST, IO_TIMEOUT)?;
        let finished = tls.ssl().is_init_finished();
        tls.write_all(b"from the explicit client\n")?;
        let _ = tls.shutdown();
        Ok::<bool, Error>(finished)
    });
    let tcp = tcp_from(&l, IO_TIMEOUT);
    let stream = no_panic("accept_lazily", move || {
        testkit::within(testkit::CALL_TIMEOUT, "accept_lazily", move || {
            accept_lazily(&acceptor(), tcp, IO_TIMEOUT)
        })
    })
    .unwrap_or_else(|e| panic!("accept_lazily failed: {e}"));
    let mut line = String::new();
    let read = BufReader::new(stream).read_line(&mut line);
    let finished = client.join().expect("the explicit client panicked");
    read.unwrap_or_else(|e| {
        panic!(
            "the lazy server's first read failed ({}). That read should have run the whole \
             handshake as the server side and returned the client's line: a connection that \
             is never told which side it is cannot start a handshake.",
            e.get_ref()
                .map(|inner| testkit::explain::boxed(inner))
                .unwrap_or_else(|| e.to_string())
        )
    });
    assert_eq!(line, "from the explicit client\n");
    assert!(
        matches!(finished, Ok(true)),
        "the explicit client should return with its handshake finished: {finished:?}"
    );
}
