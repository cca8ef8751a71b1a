//! Chapter 10: moving data, graded against real peers: the Python peer (which checks and
//! returns a mebibyte, or vanishes on purpose), `openssl s_server` (which stays silent) and
//! `openssl s_client -quiet` (which pipes a mebibyte of lines through the line server).

mod example;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use certs::Files;
use ch10_data::{answer, classify, receive_all, send_all, serve_lines, BufStream, Verdict};
use example::ask;
use openssl::sha::sha256;
use openssl::ssl::{SslAcceptor, SslConnector, SslFiletype, SslMethod, SslStream};
use testkit::peers::{self, SServer};
use testkit::py_extra::PyPeer;
use testkit::{explain, IO_TIMEOUT};

// No verdict here depends on the CAs this machine trusts (see the macro).
testkit::no_system_trust!();

const MIB: usize = 1024 * 1024;

/// A read timeout for a peer that is meant to stay silent.
const SHORT: Duration = Duration::from_millis(250);

/// How long the lockstep client waits for each answer of the line server.
const ANSWER_WAIT: Duration = Duration::from_secs(2);

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A mebibyte that is not all one byte, so a reordering or a repeat shows in the hash.
fn mebibyte() -> Vec<u8> {
    (0..MIB as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect()
}

fn acceptor(files: &Files) -> SslAcceptor {
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).expect("acceptor");
    b.set_certificate_chain_file(files.path("server.chain.crt"))
        .expect("chain");
    b.set_private_key_file(files.path("server.key"), SslFiletype::PEM)
        .expect("key");
    b.build()
}

fn connector(files: &Files) -> SslConnector {
    let mut b = SslConnector::builder(SslMethod::tls_client()).expect("connector");
    b.set_ca_file(files.path("ca.crt")).expect("CA file");
    b.build()
}

/// A client connection to `addr` with `timeout` on reads.
fn connect(files: &Files, addr: SocketAddr, timeout: Duration) -> SslStream<TcpStream> {
    connect_with(&connector(files), addr, timeout)
}

fn connect_with(c: &SslConnector, addr: SocketAddr, timeout: Duration) -> SslStream<TcpStream> {
    let tcp = TcpStream::connect(addr).unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
    tcp.set_read_timeout(Some(timeout)).ok();
    tcp.set_write_timeout(Some(IO_TIMEOUT)).ok();
    c.connect(certs::HOST, tcp).unwrap_or_else(|e| {
        panic!(
            "the handshake with the peer failed: {}",
            explain::handshake(&e)
        )
    })
}

/// Accepts one connection on `listener` and completes the server handshake.
fn accept(acceptor: &SslAcceptor, listener: &TcpListener) -> SslStream<TcpStream> {
    let (tcp, _) = listener.accept().expect("accept");
    tcp.set_read_timeout(Some(IO_TIMEOUT)).ok();
    tcp.set_write_timeout(Some(IO_TIMEOUT)).ok();
    acceptor
        .accept(tcp)
        .unwrap_or_else(|e| panic!("the server handshake failed: {}", explain::handshake(&e)))
}

/// Reads with ssl_read until an error comes, and returns it (the bytes before it are dropped).
fn first_error(tls: &mut SslStream<TcpStream>) -> openssl::ssl::Error {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if let Err(e) = tls.ssl_read(&mut buf) {
            return e;
        }
    }
}

fn classify_now(e: openssl::ssl::Error) -> (Verdict, String) {
    let shown = format!(
        "code {:?}, I/O error {:?}, error stack {:?}",
        e.code(),
        e.io_error(),
        e.ssl_error().map(|s| s.to_string())
    );
    let v = testkit::call("classify", move || classify(&e));
    (v, shown)
}

#[test]
fn a_close_notify_is_a_clean_end() {
    let files = Files::new().expect("certificates");
    let server = PyPeer::server(&files, "close-notify");
    let mut tls = connect(&files, server.addr, IO_TIMEOUT);
    let (v, shown) = classify_now(first_error(&mut tls));
    assert_eq!(
        v,
        Verdict::CleanEnd,
        "the Python peer sent \"hello\\n\" and a close_notify, so ssl_read ended with {shown}: \
         ZERO_RETURN, the one clean end. Calling it anything else makes every properly closed \
         connection look like a failure.\n{}",
        server.process.transcript()
    );
}

#[test]
fn a_tcp_close_without_close_notify_is_truncation() {
    let files = Files::new().expect("certificates");
    let server = PyPeer::server(&files, "no-close-notify");
    let mut tls = connect(&files, server.addr, IO_TIMEOUT);
    let (v, shown) = classify_now(first_error(&mut tls));
    assert_eq!(
        v,
        Verdict::Truncated,
        "the Python peer closed TCP without a close_notify, so ssl_read ended with {shown}: \
         SYSCALL with no I/O error. That is a truncation, not a clean end: anyone on the path \
         can close a TCP connection, and data cut short must not pass as complete.\n{}",
        server.process.transcript()
    );
}

/// A peer that completes its handshake and never reads: the client's writes fill both
/// socket buffers, and the write timeout turns the next write into WANT_WRITE.
#[test]
fn a_full_send_buffer_is_again() {
    let files = Files::new().expect("certificates");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    let acc = acceptor(&files);
    let (done, wait) = std::sync::mpsc::channel::<()>();
    let peer = thread::spawn(move || {
        let tls = accept(&acc, &listener);
        let _ = wait.recv_timeout(Duration::from_secs(20));
        drop(tls);
    });
    let mut tls = connect(&files, addr, IO_TIMEOUT);
    tls.get_ref().set_write_timeout(Some(SHORT)).ok();
    let chunk = vec![0u8; 64 * 1024];
    let mut error = None;
    for _ in 0..2048 {
        if let Err(e) = tls.ssl_write(&chunk) {
            error = Some(e);
            break;
        }
    }
    let _ = done.send(());
    let _ = peer.join();
    let e = error.expect("128 MiB went to a peer that never reads, and no write timed out");
    let (v, shown) = classify_now(e);
    assert_eq!(
        v,
        Verdict::Again,
        "the peer reads nothing, so the socket's buffers filled and the write timeout \
         expired: ssl_write ended with {shown}. WANT_WRITE, like WANT_READ, means nothing \
         moved this time: the connection is whole, and on a non-blocking socket you write \
         again once it is writable. Calling it broken throws a good connection away."
    );
}

#[test]
fn a_silent_peer_is_again() {
    let files = Files::new().expect("certificates");
    // Without -www, s_server sends nothing until its stdin gives it something.
    let server = SServer::with_identity(&files, "server", &[] as &[&str]);
    let mut tls = connect(&files, server.addr, SHORT);
    let (v, shown) = classify_now(first_error(&mut tls));
    assert_eq!(
        v,
        Verdict::Again,
        "s_server stayed silent and the read timeout expired, so ssl_read ended with {shown}: \
         WANT_READ, which means nothing arrived yet, not that the connection is over.\n{}",
        server.transcript()
    );
}

#[test]
fn a_reset_is_broken() {
    let files = Files::new().expect("certificates");
    let mut peer = PyPeer::sink_vanish(&files);
    let mut tls = connect(&files, peer.addr, IO_TIMEOUT);
    let chunk = vec![0u8; 64 * 1024];
    let mut error = None;
    for _ in 0..2048 {
        if let Err(e) = tls.ssl_write(&chunk) {
            error = Some(e);
            break;
        }
    }
    let e = error.expect("writing 128 MiB to a peer that reset the connection never failed");
    let (v, shown) = classify_now(e);
    let _ = peer.wait_for("DONE", Duration::from_secs(5));
    assert_eq!(
        v,
        Verdict::Broken,
        "the Python peer reset the connection while we were sending, so ssl_write ended with \
         {shown}: SYSCALL with the socket's error behind it (the I/O error on OpenSSL 3.0 and 3.1, \
         a system error on the error stack from 3.2 on). The connection is broken; it did not \
         end, cleanly or otherwise.\n{}",
        peer.process.transcript()
    );
}

#[test]
fn send_all_writes_every_byte() {
    let files = Files::new().expect("certificates");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    let acc = acceptor(&files);
    // A sink: reads until the client's close_notify, then reports what arrived.
    let sink = thread::spawn(move || {
        let mut tls = accept(&acc, &listener);
        let mut got = Vec::new();
        let r = tls.read_to_end(&mut got);
        (r.map(|_| ()), got)
    });
    let mut tls = connect(&files, addr, IO_TIMEOUT);
    let data = mebibyte();
    let want = hex(&sha256(&data));
    let (result, mut tls) = testkit::call("send_all", move || {
        let r = send_all(&mut tls, &data);
        (r, tls)
    });
    let _ = tls.shutdown();
    let (read, got) = sink.join().expect("the sink thread");
    assert!(
        result.is_ok(),
        "send_all failed against a willing peer: {result:?}"
    );
    assert!(read.is_ok(), "the receiving side failed: {read:?}");
    assert!(
        got.len() == MIB && hex(&sha256(&got)) == want,
        "send_all returned Ok, but the peer received {} of {MIB} bytes (SHA-256 {} instead of \
         {want}). One ssl_write sends at most one TLS record, 16 KiB: it returns how many \
         bytes it took, and the rest is yours to send. Returning Ok for a partial write \
         reports data as delivered that never left.",
        got.len(),
        hex(&sha256(&got)),
    );
}

#[test]
fn a_mebibyte_each_way_with_the_python_peer() {
    let files = Files::new().expect("certificates");
    let mut peer = PyPeer::echo_all(&files, MIB);
    let mut tls = connect(&files, peer.addr, Duration::from_secs(5));
    let data = mebibyte();
    let want = hex(&sha256(&data));
    let result = testkit::call("send_all, then receive_all", move || {
        send_all(&mut tls, &data)?;
        receive_all(&mut tls)
    });
    let said = peer
        .wait_for("DONE", Duration::from_secs(5))
        .unwrap_or_else(|e| e);
    let got = result.unwrap_or_else(|e| {
        panic!(
            "sending a mebibyte to the Python peer and reading it back failed: {e}. The peer \
             reads exactly 1 MiB, sends it back and ends with close_notify; it says what it \
             received below.\n{}",
            peer.process.transcript()
        )
    });
    assert!(
        said.contains(&format!("RECEIVED {MIB} {want}")),
        "the Python peer did not receive your mebibyte intact (its SHA-256 should be {want}).\n{}",
        peer.process.transcript()
    );
    assert_eq!(
        (got.len(), hex(&sha256(&got))),
        (MIB, want),
        "what came back differs from what the Python peer sent (it echoes exactly what it \
         received): receive_all must keep every byte of every ssl_read, in order."
    );
}

#[test]
fn a_peer_that_vanishes_mid_transfer_is_an_error() {
    let files = Files::new().expect("certificates");
    let server = PyPeer::server(&files, "vanish");
    let mut tls = connect(&files, server.addr, IO_TIMEOUT);
    let result = testkit::call("receive_all", move || receive_all(&mut tls));
    if let Ok(data) = result {
        panic!(
            "receive_all returned Ok with {} bytes, but the Python peer sent half a mebibyte and \
             then dropped the connection without a close_notify. Only ZERO_RETURN means the \
             transfer is complete; anything else must be an error, or a cut-short download is \
             reported as delivered.\n{}",
            data.len(),
            server.process.transcript()
        );
    }
}

#[test]
fn a_peer_that_vanishes_while_we_send_is_an_error() {
    let files = Files::new().expect("certificates");
    let mut peer = PyPeer::sink_vanish(&files);
    let mut tls = connect(&files, peer.addr, IO_TIMEOUT);
    // More than the kernel can hold on loopback (the receive buffer grows up to 32 MiB
    // here), so the reset is met while sending, not after.
    let data = vec![0u8; 80 * MIB];
    let result = testkit::call("send_all", move || send_all(&mut tls, &data));
    let _ = peer.wait_for("DONE", Duration::from_secs(5));
    assert!(
        result.is_err(),
        "send_all returned Ok for 80 MiB, but the Python peer read 64 KiB and reset the \
         connection. A write that failed must come back as an error: the caller would \
         otherwise believe the data was sent.\n{}",
        peer.process.transcript()
    );
}

#[test]
fn a_silent_peer_ends_in_a_timeout_not_a_hang() {
    let files = Files::new().expect("certificates");
    let server = SServer::with_identity(&files, "server", &[] as &[&str]);
    let mut tls = connect(&files, server.addr, SHORT);
    let started = Instant::now();
    let result = testkit::within(Duration::from_secs(5), "receive_all", move || {
        receive_all(&mut tls).map(|d| d.len())
    });
    match result {
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ) => {}
        other => panic!(
            "against a silent s_server with a {} ms read timeout, receive_all should end with a \
             timeout error (WANT_READ: nothing arrived in time); it returned {other:?} after \
             {:?}.\n{}",
            SHORT.as_millis(),
            started.elapsed(),
            server.transcript()
        ),
    }
}

/// Starts the learner's line server on one connection accepted from `listener`, while
/// `client` runs on its own thread; returns both results.
fn run_line_server<T: Send + 'static>(
    files: &Files,
    client: impl FnOnce(SocketAddr) -> T + Send + 'static,
) -> (io::Result<usize>, T) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    let client = thread::spawn(move || client(addr));
    let tls = accept(&acceptor(files), &listener);
    let served = testkit::call("serve_lines", move || serve_lines(tls));
    let client = client.join().expect("the client thread");
    (served, client)
}

#[test]
fn each_answer_arrives_before_the_next_question() {
    let files = Files::new().expect("certificates");
    let c = connector(&files);
    let questions = ["hello", "tls over a buffer", "BYE"];
    let (served, answers) = run_line_server(&files, move |addr| {
        let tls = connect_with(&c, addr, ANSWER_WAIT);
        let mut conn = BufStream::new(tls);
        let mut answers = Vec::new();
        for q in questions {
            match ask(&mut conn, q) {
                Ok(a) => answers.push(a),
                Err(e) => return Err((q, e, answers)),
            }
        }
        Ok(answers)
    });
    match answers {
        Err((q, e, _))
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            panic!(
                "the client asked {q:?} and waited {} s for the answer, which never came. Your \
                 server wrote it into its write buffer and then waited for the next question \
                 without flushing: the answer sat in the buffer while both sides waited for \
                 each other. Flush before you wait for the peer (BIO_flush in C).",
                ANSWER_WAIT.as_secs()
            )
        }
        Err((q, e, _)) => panic!("the client asked {q:?} and got an error: {e}"),
        Ok(got) => {
            // Spelled out, not computed with answer(): the protocol as the page states it.
            let want = ["5 HELLO", "17 TLS OVER A BUFFER", "BYE"];
            assert_eq!(
                got, want,
                "the answers differ from what answer() gives for each line"
            );
        }
    }
    assert_eq!(
        served.as_ref().ok(),
        Some(&3),
        "after BYE, serve_lines should return Ok(3) (three lines answered, BYE included); it \
         returned {served:?}"
    );
}

#[test]
fn a_mebibyte_of_lines_through_s_client() {
    let files = Files::new().expect("certificates");
    let line = "a line of sixty-three characters, sent through s_client -quiet.";
    assert_eq!(line.len(), 63);
    let count = MIB / (line.len() + 1);
    let mut input = String::with_capacity(MIB + 4);
    let mut expected = String::new();
    for _ in 0..count {
        input.push_str(line);
        input.push('\n');
        expected.push_str(&answer(line));
    }
    input.push_str("BYE\n");
    expected.push_str(&answer("BYE"));

    let mut args = peers::verifying_client_args(&files);
    // -quiet: print only the data (and implies -ign_eof: stay until the server ends).
    args.push("-quiet".into());
    let (served, seen) = run_line_server(&files, move |addr| {
        let mut client = peers::s_client(addr, &args);
        let _ = client.send(input.as_bytes());
        client.close_stdin();
        peers::finish(client, Duration::from_secs(20))
    });
    let got = seen.stdout.as_bytes();
    let short = |t: &str| t.chars().take(2000).collect::<String>();
    assert!(
        got.len() == expected.len() && sha256(got) == sha256(expected.as_bytes()),
        "s_client sent {count} lines and BYE ({} bytes) and printed {} bytes of answers, where \
         {} were due (SHA-256 {} instead of {}). serve_lines returned {served:?}.\n{}",
        input_len(count),
        got.len(),
        expected.len(),
        hex(&sha256(got)),
        hex(&sha256(expected.as_bytes())),
        short(&seen.stderr)
    );
    assert_eq!(
        served.as_ref().ok(),
        Some(&(count + 1)),
        "serve_lines should return Ok({}) after BYE; it returned {served:?}",
        count + 1
    );
    assert!(
        seen.success() && !seen.stderr.contains("unexpected eof"),
        "s_client did not see a clean end after BYE (exit {:?}). After answering BYE, the \
         server must send close_notify (shutdown()), or the client cannot tell the end of the \
         conversation from a cut connection.\n{}",
        seen.code(),
        short(&seen.stderr)
    );
}

fn input_len(count: usize) -> usize {
    count * 64 + 4
}

#[test]
fn a_client_that_leaves_without_bye_is_an_error() {
    let files = Files::new().expect("certificates");
    let c = connector(&files);
    let (served, _) = run_line_server(&files, move |addr| {
        let mut tls = connect_with(&c, addr, IO_TIMEOUT);
        // One question, no BYE, then TCP closes under the TLS layer.
        let _ = tls.write_all(b"hello\n");
        let mut answer = [0u8; 64];
        let _ = tls.read(&mut answer);
        drop(tls);
    });
    match served {
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {}
        other => panic!(
            "the client asked one question and left without BYE; serve_lines should end with \
             an UnexpectedEof error, and it returned {other:?}"
        ),
    }
}
