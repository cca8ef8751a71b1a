//! Chapter 14: a thousand connections in a row keep the program's memory bounded. Alone in
//! its own test program, so that the resident size it reads belongs to this test only.

use std::net::TcpListener;
use std::panic::resume_unwind;
use std::thread;
use std::time::{Duration, Instant};

use certs::Files;
use ch14_ownership::{serve, visit, Visit};
use openssl::ssl::{SslConnector, SslMethod, SslSession};

// No verdict here depends on the CAs this machine trusts (see the macro).
testkit::no_system_trust!();

/// Connections before the first measurement: the allocator's arenas and OpenSSL's caches
/// reach their working size.
const WARM_UP: usize = 100;
/// Connections between the two measurements.
const MEASURED: usize = 1000;
/// How much the resident size may grow over the measured connections. Measured with the
/// solution on OpenSSL 3.0.19: 0 to 88 kB; a server that forgets each stream instead of
/// dropping it: about 30 kB a connection (3,032 kB over 100); a client that keeps every
/// stream in a list: about 35 kB a connection.
const TOLERANCE_KB: u64 = 2048;

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

#[test]
fn a_thousand_connections_keep_memory_bounded() {
    let files = Files::new().expect("certificates");
    let mut b = SslConnector::builder(SslMethod::tls_client()).expect("connector");
    b.set_ca_file(files.path("ca.crt")).expect("CA file");
    let c = b.build();

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    let (chain, key) = (files.path("server.chain.crt"), files.path("server.key"));
    let all = WARM_UP + MEASURED;
    let server = thread::spawn(move || {
        testkit::within(Duration::from_secs(20), "serve", move || {
            serve(listener, &chain, &key, 2, all)
        })
    });

    // The learner's client, each visit offering the session of the one before: a resumed
    // TLS 1.3 handshake costs a fraction of a full one, so the loop takes about a second.
    let client = testkit::call("visit, 1,100 times", move || {
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
    eprintln!(
        "resident size {before} kB -> {after} kB over {MEASURED} connections ({resumed} of {all} \
         resumed) in {:.2} s",
        took.as_secs_f64()
    );
}
