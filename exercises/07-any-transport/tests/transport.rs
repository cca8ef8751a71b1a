//! Chapter 07: the learner's in-memory pipe carries a real handshake (no socket anywhere),
//! turn by turn on one thread; the same code runs over Unix sockets; transports that never
//! deliver or that claim the end of the stream end in errors, never in a hang or a panic.
//! The raw `BIO_new_socket` aside talks to the real `openssl s_server`.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use certs::{pki, Files};
use ch07_any_transport::{
    c_style, handshake, handshake_on_threads, pipe, transfer, unix_pair, Handshaken, MAX_TURNS,
};
use openssl::ssl::{Ssl, SslConnector, SslMethod, SslVersion};
use testkit::peers::SServer;
use testkit::{panic_text, reference, IO_TIMEOUT};

// No verdict here depends on the CAs this machine trusts (see the macro).
testkit::no_system_trust!();

/// The room in each direction of the test pipes: a quarter of a TLS record, so that a
/// record has to cross in several pieces.
const ROOM: usize = 4096;
/// How long a call facing a transport that goes nowhere may take.
const BOUND: Duration = Duration::from_secs(3);

fn server_ssl() -> Ssl {
    Ssl::new(reference::acceptor(&pki().server).context()).unwrap()
}

fn client_ssl() -> Ssl {
    reference::connector(&pki().ca)
        .configure()
        .unwrap()
        .into_ssl(certs::HOST)
        .unwrap()
}

fn tls12_client_ssl() -> Ssl {
    let mut b = SslConnector::builder(SslMethod::tls_client()).unwrap();
    b.cert_store_mut().add_cert(pki().ca.cert.clone()).unwrap();
    b.set_max_proto_version(Some(SslVersion::TLS1_2)).unwrap();
    b.build()
        .configure()
        .unwrap()
        .into_ssl(certs::HOST)
        .unwrap()
}

/// Runs learner code with a time limit and turns a panic that is not a `todo!()` or a hang
/// into a sentence.
fn learner<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let name = what.to_string();
    match catch_unwind(AssertUnwindSafe(|| testkit::within(BOUND * 4, &name, f))) {
        Ok(v) => v,
        Err(payload) => {
            let text = panic_text(payload.as_ref());
            if text.contains("not yet implemented") || text.contains("did not return within") {
                resume_unwind(payload);
            }
            panic!(
                "{what} panicked: {text}\nA handshake over a transport that misbehaves must \
                 end in an Err that says which side failed and why; a panic takes the whole \
                 program with it."
            )
        }
    }
}

fn kind(r: io::Result<usize>) -> Result<usize, io::ErrorKind> {
    r.map_err(|e| e.kind())
}

// ---------- the pipe ----------

#[test]
fn an_empty_pipe_says_would_block() {
    let result = learner("End::read", || {
        let (mut near, _far) = pipe(64);
        kind(near.read(&mut [0u8; 16]))
    });
    match result {
        Err(io::ErrorKind::WouldBlock) => {}
        Ok(0) => panic!(
            "reading an empty pipe returned Ok(0). To OpenSSL, as to every Rust reader, Ok(0) \
             means end of stream: the peer is gone for good, and a handshake over such a pipe \
             fails at its first read with \"unexpected EOF\". An empty pipe has to say \
             io::ErrorKind::WouldBlock: nothing yet, come back later."
        ),
        other => panic!("reading an empty pipe should fail with WouldBlock, not {other:?}"),
    }
}

#[test]
fn bytes_come_out_in_order_at_the_other_end() {
    let (mine, theirs, echo) = learner("End::read and End::write", || {
        let (mut near, mut far) = pipe(64);
        near.write_all(b"hello, ").unwrap();
        near.write_all(b"world").unwrap();
        let waiting = far.pending();
        let mut got = Vec::new();
        let mut small = [0u8; 3];
        while let Ok(n) = far.read(&mut small) {
            got.extend_from_slice(&small[..n]);
            if n == 0 {
                break;
            }
        }
        let own = kind(near.read(&mut [0u8; 8]));
        (got, own, (waiting, far.pending()))
    });
    assert_eq!(
        String::from_utf8_lossy(&mine),
        "hello, world",
        "what one end writes, the other end must read, in order and complete"
    );
    assert_eq!(
        theirs,
        Err(io::ErrorKind::WouldBlock),
        "the writing end read back its own bytes: each end reads what the OTHER end wrote"
    );
    assert_eq!(
        echo,
        (12, 0),
        "the far end should hold 12 bytes before reading and none after"
    );
}

#[test]
fn a_full_pipe_says_would_block() {
    let (first, second, third, after_read) = learner("End::write", || {
        let (mut near, mut far) = pipe(8);
        let first = kind(near.write(b"12345"));
        let second = kind(near.write(b"6789abcdef"));
        let third = kind(near.write(b"x"));
        far.read_exact(&mut [0u8; 4]).unwrap();
        let after = kind(near.write(b"yyyyyy"));
        (first, second, third, after)
    });
    assert_eq!(
        first,
        Ok(5),
        "a pipe with room for 8 bytes should take all of 5"
    );
    assert_eq!(
        second,
        Ok(3),
        "with 5 of 8 bytes waiting, a write of 10 should take the 3 that fit and say so"
    );
    assert_eq!(
        third,
        Err(io::ErrorKind::WouldBlock),
        "a full pipe should say WouldBlock: the other end has to read first. A pipe without a \
         limit hides the case every real transport has"
    );
    assert_eq!(
        after_read,
        Ok(4),
        "after the other end read 4 bytes there is room for 4"
    );
}

// ---------- handshakes over the pipe ----------

fn handshake_over_pipe(client: fn() -> Ssl) -> Handshaken<ch07_any_transport::End> {
    learner("handshake over your pipe", move || {
        let (near, far) = pipe(ROOM);
        handshake(client(), near, server_ssl(), far).map_err(|e| e.to_string())
    })
    .unwrap_or_else(|e| panic!("the handshake over your pipe failed: {e}"))
}

#[test]
fn a_tls13_handshake_over_the_pipe_takes_four_turns() {
    let done = handshake_over_pipe(client_ssl);
    assert!(
        done.client.ssl().is_init_finished() && done.server.ssl().is_init_finished(),
        "handshake returned, but a side has not finished its handshake"
    );
    assert_eq!(done.client.ssl().version_str(), "TLSv1.3");
    assert_eq!(
        done.turns, 4,
        "a TLS 1.3 handshake takes four turns: client (sends its hello), server (answers \
         with everything up to its Finished), client (checks it all, sends its Finished: \
         done), server (reads that Finished: done). Count every call: connect, accept, and \
         each handshake() on a waiting side."
    );
}

#[test]
fn a_tls12_handshake_over_the_pipe_takes_five_turns() {
    let done = handshake_over_pipe(tls12_client_ssl);
    assert_eq!(done.server.ssl().version_str(), "TLSv1.2");
    assert_eq!(
        done.turns, 5,
        "a TLS 1.2 handshake takes five turns, one more than TLS 1.3: the client's Finished \
         comes before the server's, so the client has to wait for the server once more"
    );
}

fn message(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[test]
fn data_crosses_a_small_pipe_both_ways() {
    let (up, down) = learner("transfer over your pipe", || {
        let (near, far) = pipe(ROOM);
        let mut done =
            handshake(client_ssl(), near, server_ssl(), far).map_err(|e| e.to_string())?;
        let up = transfer(&mut done.client, &mut done.server, &message(100_000, 1))
            .map_err(|e| e.to_string())?;
        let down = transfer(&mut done.server, &mut done.client, &message(30_000, 2))
            .map_err(|e| e.to_string())?;
        Ok::<_, String>((up, down))
    })
    .unwrap_or_else(|e| panic!("sending data over your pipe failed: {e}"));
    for (what, got, want) in [
        ("client to server", &up, message(100_000, 1)),
        ("server to client", &down, message(30_000, 2)),
    ] {
        assert!(
            *got == want,
            "{what}: {} of {} bytes arrived{}. A pipe of {ROOM} bytes fills up long before \
             the message is through: WouldBlock on a write means \"let the other side read \
             first\", and WouldBlock on a read means \"nothing more has arrived yet\", not \
             \"that was all\". Keep taking turns until everything has arrived.",
            got.len(),
            want.len(),
            if got.len() == want.len() {
                ", but not the same bytes"
            } else {
                ""
            }
        );
    }
}

#[test]
fn the_same_code_runs_over_unix_sockets() {
    let (turns, up, down) = learner("handshake and transfer over Unix sockets", || {
        let (near, far) = unix_pair().map_err(|e| e.to_string())?;
        let mut done =
            handshake(client_ssl(), near, server_ssl(), far).map_err(|e| e.to_string())?;
        let up = transfer(&mut done.client, &mut done.server, &message(100_000, 3))
            .map_err(|e| e.to_string())?;
        let down = transfer(&mut done.server, &mut done.client, &message(100_000, 4))
            .map_err(|e| e.to_string())?;
        Ok::<_, String>((done.turns, up, down))
    })
    .unwrap_or_else(|e| panic!("your code failed over a pair of Unix sockets: {e}"));
    assert_eq!(
        turns, 4,
        "over Unix sockets the TLS 1.3 handshake also takes four turns"
    );
    assert!(
        up == message(100_000, 3),
        "client to server: the data did not arrive intact"
    );
    assert!(
        down == message(100_000, 4),
        "server to client: the data did not arrive intact"
    );
}

// ---------- transports that go wrong ----------

/// Swallows every write and never has anything to read.
struct BlackHole {
    reads: Arc<AtomicUsize>,
}

impl Read for BlackHole {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        Err(io::ErrorKind::WouldBlock.into())
    }
}

impl Write for BlackHole {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_transport_that_never_delivers_ends_in_an_error() {
    let reads = Arc::new(AtomicUsize::new(0));
    let (r1, r2) = (reads.clone(), reads.clone());
    let start = Instant::now();
    let result = learner(
        "handshake over a transport that never delivers",
        move || {
            handshake(
                client_ssl(),
                BlackHole { reads: r1 },
                server_ssl(),
                BlackHole { reads: r2 },
            )
            .map(|done| done.turns)
            .map_err(|e| e.to_string())
        },
    );
    assert!(
        result.is_err(),
        "a handshake over a transport that delivers nothing reported success"
    );
    assert!(
        start.elapsed() < BOUND,
        "giving up took {:?}",
        start.elapsed()
    );
    let n = reads.load(Ordering::SeqCst);
    assert!(
        n <= MAX_TURNS,
        "the two sides read {n} times in all: more turns than MAX_TURNS ({MAX_TURNS}). Count \
         every turn and stop when the count reaches MAX_TURNS."
    );
}

/// Says "end of stream" whenever it has nothing: the classic wrong pipe.
struct EndOfStream;

impl Read for EndOfStream {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Ok(0)
    }
}

impl Write for EndOfStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_transport_that_says_end_of_stream_ends_in_an_error() {
    let result = learner("handshake over a transport that says end of stream", || {
        handshake(client_ssl(), EndOfStream, server_ssl(), EndOfStream)
            .map(|done| done.turns)
            .map_err(|e| e.to_string())
    });
    let Err(why) = result else {
        panic!("a handshake over a transport that only ever says end of stream succeeded");
    };
    assert!(
        why.contains("client"),
        "the error should say which side failed (the client, at its first read), but it \
         says: {why}"
    );
}

/// One end of the learner's pipe that can be made to fail: once `broken` is set, every
/// read and write is an error that is not WouldBlock (the connection was reset).
struct Breakable {
    inner: ch07_any_transport::End,
    broken: Arc<AtomicBool>,
}

impl Read for Breakable {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.broken.load(Ordering::SeqCst) {
            return Err(io::ErrorKind::ConnectionReset.into());
        }
        self.inner.read(buf)
    }
}

impl Write for Breakable {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.broken.load(Ordering::SeqCst) {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Handshakes over two breakable ends, breaks the sender's end or the receiver's, and
/// sends 100 kB; returns what `transfer` said.
fn transfer_over_a_breaking_transport(break_the_sender: bool) -> Result<usize, String> {
    learner("transfer over a transport that breaks", move || {
        let (near, far) = pipe(ROOM);
        let (client_broken, server_broken) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        );
        let mut done = handshake(
            client_ssl(),
            Breakable {
                inner: near,
                broken: client_broken.clone(),
            },
            server_ssl(),
            Breakable {
                inner: far,
                broken: server_broken.clone(),
            },
        )
        .map_err(|e| format!("(the handshake failed before anything broke: {e})"))?;
        if break_the_sender {
            client_broken.store(true, Ordering::SeqCst);
        } else {
            server_broken.store(true, Ordering::SeqCst);
        }
        transfer(&mut done.client, &mut done.server, &message(100_000, 6))
            .map(|got| got.len())
            .map_err(|e| e.to_string())
    })
}

#[test]
fn a_transport_that_breaks_ends_the_transfer_with_an_error() {
    for (break_the_sender, which) in [(true, "sender's"), (false, "receiver's")] {
        let result = transfer_over_a_breaking_transport(break_the_sender);
        assert!(
            matches!(&result, Err(why) if !why.starts_with("(the handshake")),
            "with the {which} transport reset, transfer should return an Err, not {result:?}. \
             Only WouldBlock means \"not now\"; any other error is the end of the connection."
        );
    }
}

// ---------- the worked examples, beside the learner's code ----------

#[test]
fn blocking_threads_need_no_turns() {
    let sent = message(20_000, 5);
    let expected = sent.clone();
    let got = learner("transfer over blocking sockets", move || {
        let (mut client, mut server) =
            handshake_on_threads(client_ssl(), server_ssl()).map_err(|e| e.to_string())?;
        transfer(&mut client, &mut server, &sent).map_err(|e| e.to_string())
    })
    .unwrap_or_else(|e| panic!("transfer over blocking sockets failed: {e}"));
    assert!(
        got == expected,
        "the data did not arrive intact over blocking sockets"
    );
}

#[test]
fn a_socket_bio_and_your_pipe_agree_on_the_version() {
    let over_pipe = handshake_over_pipe(client_ssl);
    let files = Files::new().unwrap();
    let server = SServer::with_identity(&files, "server", &[] as &[&str]);
    let tcp = TcpStream::connect(server.addr).unwrap();
    tcp.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    tcp.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    let connector = reference::connector(&pki().ca);
    let over_bio = c_style::connect_with_socket_bio(connector.context(), &tcp, certs::HOST)
        .unwrap_or_else(|e| {
            panic!(
                "the socket BIO handshake failed: {e}\n{}",
                server.transcript()
            )
        });
    assert_eq!(over_bio, over_pipe.client.ssl().version_str());
}
