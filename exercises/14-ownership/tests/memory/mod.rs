//! Chapter 14: hundreds of connections in a row keep the program's memory bounded. The test
//! runs itself again, alone, in a child process, so that the resident size it reads belongs
//! to it only, while the chapter's other tests run beside it in the parent.

use std::net::TcpListener;
use std::panic::resume_unwind;
use std::thread;
use std::time::{Duration, Instant};

use certs::Files;
use ch14_ownership::{serve, visit, Visit};
use openssl::ssl::{SslConnector, SslMethod, SslSession};

/// Set in the child that does the measuring.
const CHILD: &str = "TLS_WORKBOOK_CH14_MEMORY_CHILD";
/// What the child prints when its connections kept the memory bounded.
const BOUNDED: &str = "MEMORY BOUNDED";
/// How long the child may take (it takes about 0.2 s; a leak is found in less).
const CHILD_LIMIT: Duration = Duration::from_secs(30);

/// Connections before the first measurement: the allocator's arenas and OpenSSL's caches
/// reach their working size (after 20, 50 or 100 the growth that follows was the same).
const WARM_UP: usize = 20;
/// Connections between the two measurements: enough for a leak of one connection's objects
/// to stand far above the noise, few enough that the learner does not wait for them (200
/// take 0.12 to 0.2 s; the 1,000 this test once made took 0.7 to 1.0 s, and told nothing
/// more).
const MEASURED: usize = 200;
/// How much the resident size may grow over the measured connections: about 2.5 kB a
/// connection. Measured with the solution on OpenSSL 3.0.19, in 30 runs of 200 after 20 and
/// 30 of 250 after 50 (some beside other test programs): 76 to 88 kB, the same as over
/// 1,000, so a working size reached once, not a cost per connection; a server that forgets
/// each stream instead of dropping it: about 30 kB a connection (6,100 kB over 200); a
/// client that keeps every stream in a list: about 35 kB a connection (7,050 kB over 200).
const TOLERANCE_KB: u64 = 512;

/// Turns Nagle's algorithm off on `listener`; Linux hands that on to every connection it
/// accepts, so the learner's server sends each record at once. A server that forgets its
/// streams never closes their sockets, and without this its close_notify waited behind the
/// echo for the client's delayed ACK: 44 ms a connection, 4.5 s before the verdict.
fn no_delay(listener: &TcpListener) {
    use std::os::fd::AsRawFd;
    extern "C" {
        fn setsockopt(fd: i32, level: i32, name: i32, value: *const i32, len: u32) -> i32;
    }
    const IPPROTO_TCP: i32 = 6;
    const TCP_NODELAY: i32 = 1;
    let on: i32 = 1;
    // SAFETY: the descriptor is the listener's own, open for as long as `listener` is
    // borrowed, and the value is an int that lives across the call, of the length given.
    let rc = unsafe { setsockopt(listener.as_raw_fd(), IPPROTO_TCP, TCP_NODELAY, &on, 4) };
    assert_eq!(
        rc,
        0,
        "setsockopt(TCP_NODELAY) on the listener: {}",
        std::io::Error::last_os_error()
    );
}

/// The resident set size of this process, from /proc/self/status.
fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("a VmRSS line")
}

/// The test named `test` (its name as libtest prints it): in the parent, it runs `test`
/// again alone in a child and takes the child's verdict; in the child, it measures.
pub fn connections_in_a_row_keep_memory_bounded(test: &str) {
    if std::env::var_os(CHILD).is_some() {
        return measure();
    }
    let child = testkit::probe::run_test_in_child(test, &[(CHILD, "1".into())], CHILD_LIMIT);
    // libtest's "test name ... " comes first on the line.
    if let Some(at) = child.stdout.find(BOUNDED) {
        if child.success() {
            eprintln!("{}", child.stdout[at..].lines().next().unwrap_or(BOUNDED));
            return;
        }
    }
    // The learner's code panicked in the child (a todo!(), say): pass its words on.
    if let Some(todo) = testkit::probe::todo_line(&child) {
        panic!("{todo}");
    }
    // The child's own verdict: the message of its panic, between libtest's lines.
    let said = child
        .stderr
        .lines()
        .skip_while(|l| !l.contains("panicked at"))
        .skip(1)
        .take_while(|l| !l.starts_with("note: ") && !l.starts_with("stack backtrace:"))
        .collect::<Vec<_>>()
        .join("\n");
    let ended = match child.status {
        Some(s) => format!("ended with {s}"),
        None => format!("was still running after {} s", CHILD_LIMIT.as_secs()),
    };
    if said.is_empty() {
        panic!(
            "the memory test, run alone in a child process, {ended} without a verdict\n{}",
            child.transcript
        );
    }
    panic!("{said}\n(the memory test ran alone in a child process, which {ended})");
}

/// The child's part: the connections, and the verdict on the resident size.
fn measure() {
    let files = Files::new().expect("certificates");
    let mut b = SslConnector::builder(SslMethod::tls_client()).expect("connector");
    b.set_ca_file(files.path("ca.crt")).expect("CA file");
    let c = b.build();

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    no_delay(&listener);
    let (chain, key) = (files.path("server.chain.crt"), files.path("server.key"));
    let all = WARM_UP + MEASURED;
    let server = thread::spawn(move || {
        testkit::within(Duration::from_secs(20), "serve", move || {
            serve(listener, &chain, &key, 2, all)
        })
    });

    // The learner's client, each visit offering the session of the one before: a resumed
    // TLS 1.3 handshake costs a fraction of a full one, so the loop takes about 0.15 s.
    let client = testkit::call("visit, 220 times", move || {
        let mut last: Option<SslSession> = None;
        let mut before = 0;
        let mut resumed = 0;
        let mut started = Instant::now();
        for i in 0..all {
            if i == WARM_UP {
                before = rss_kb();
                started = Instant::now();
            }
            let v: Visit = match visit(&c, addr, b"hello\n", last.as_ref()) {
                Ok(v) => v,
                Err(e) => return Err(format!("visit {} of {all} failed: {e}", i + 1)),
            };
            resumed += usize::from(v.resumed);
            last = Some(v.session);
            // A leak shows long before the end: stop as soon as it is over the limit.
            if i >= WARM_UP && (i - WARM_UP) % 50 == 49 && rss_kb() > before + TOLERANCE_KB {
                return Ok((
                    before,
                    rss_kb(),
                    resumed,
                    i + 1 - WARM_UP,
                    started.elapsed(),
                ));
            }
        }
        Ok((before, rss_kb(), resumed, MEASURED, started.elapsed()))
    });
    let join_server = move || match server.join() {
        Ok(r) => r,
        Err(payload) => resume_unwind(payload),
    };
    let (before, after, resumed, measured, took) = match client {
        Ok(v) => v,
        Err(e) => {
            // A server that failed (or is not written yet) explains a failed visit.
            let served = join_server();
            panic!("{e} (serve returned {served:?})")
        }
    };
    let grew = after.saturating_sub(before);
    assert!(
        grew <= TOLERANCE_KB,
        "over {measured} connections, after {WARM_UP} to warm up, the resident size grew \
         from {before} kB to {after} kB (+{grew} kB, about {} bytes a connection; at most \
         {TOLERANCE_KB} kB is allowed). Something of every connection is kept: a stream \
         forgotten instead of dropped, or every session or connection pushed into a list. \
         Drop is SSL_free: let each connection's values go when it ends, and keep only \
         what the next connection needs.",
        grew * 1024 / measured as u64
    );
    // Only now: after a leak was found early, the server still waits for the rest.
    let served = join_server();
    assert_eq!(
        served.ok(),
        Some(all),
        "serve should report every connection served"
    );
    println!(
        "{BOUNDED}: resident size {before} kB -> {after} kB over {MEASURED} connections ({resumed} of {all} \
         resumed) in {:.2} s",
        took.as_secs_f64()
    );
}
