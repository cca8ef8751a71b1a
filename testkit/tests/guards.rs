//! The guards hold even when the test program dies without unwinding: its peers die with
//! it, their certificate folder is cleaned up by the next run, and a peer started on one
//! thread lives on when that thread ends. Also: the Python peer's port is read whole.
//!
//! The "dying test program" is this test binary itself, started again with
//! `HELPER_ENV` set so that only `helper_starts_peers_and_waits` does anything.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use testkit::peers::{Misbehaviour, PyServer, SServer};
use testkit::process::{Process, PEER_MARKER};

const HELPER_ENV: &str = "TESTKIT_GUARDS_HELPER";

/// Not a test of its own: run by `peers_die_with_a_killed_test_program`.
#[test]
fn helper_starts_peers_and_waits() {
    if std::env::var_os(HELPER_ENV).is_none() {
        return;
    }
    let files = certs::Files::new().unwrap();
    let s = SServer::with_identity(&files, "server", &["-www"]);
    let py = PyServer::start(&files, Misbehaviour::Stall);
    println!(
        "PEERS {} {} {}",
        s.process.id(),
        py.process.id(),
        files.dir().display()
    );
    thread::sleep(Duration::from_secs(60));
}

/// Whether `pid` is gone (or a zombie nobody has reaped yet: it no longer runs).
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
    }
}

fn wait_gone(pid: u32, limit: Duration) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if gone(pid) {
            return true;
        }
        thread::sleep(Duration::from_millis(20));
    }
    gone(pid)
}

#[cfg(target_os = "linux")]
#[test]
fn peers_die_with_a_killed_test_program() {
    let mut helper = Command::new(std::env::current_exe().unwrap())
        .args(["helper_starts_peers_and_waits", "--exact", "--nocapture"])
        .env(HELPER_ENV, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(helper.stdout.take().unwrap()).lines();
    let line = lines
        .find_map(|l| l.ok().filter(|l| l.starts_with("PEERS ")))
        .expect("the helper prints its peers");
    let parts: Vec<&str> = line.split_whitespace().collect();
    let (s_server, python) = (
        parts[1].parse::<u32>().unwrap(),
        parts[2].parse::<u32>().unwrap(),
    );
    let folder = PathBuf::from(parts[3]);
    assert!(!gone(s_server) && !gone(python) && folder.is_dir());

    // SIGKILL: no destructor runs in the helper.
    helper.kill().unwrap();
    helper.wait().unwrap();
    assert!(
        wait_gone(s_server, Duration::from_secs(2)),
        "openssl s_server (pid {s_server}) outlived the test program that started it"
    );
    assert!(
        wait_gone(python, Duration::from_secs(2)),
        "the Python peer (pid {python}) outlived the test program that started it"
    );
    // The killed program's certificate folder is removed by the next `Files::new`.
    assert!(folder.is_dir(), "nothing removed it yet");
    let _files = certs::Files::new().unwrap();
    assert!(
        !folder.exists(),
        "{} was left behind by the killed test program",
        folder.display()
    );
}

/// PR_SET_PDEATHSIG fires when the *thread* that forked a peer ends. Peers are forked by
/// one long-lived thread, so a peer started on a thread that then ends lives on.
#[test]
fn a_peer_started_on_a_thread_that_ends_keeps_running() {
    let files = certs::Files::new().unwrap();
    let path = files.path("server.crt");
    let key = files.path("server.key");
    let server = thread::spawn(move || {
        SServer::start(&[
            "-www",
            "-cert",
            &path.display().to_string(),
            "-key",
            &key.display().to_string(),
        ])
    })
    .join()
    .unwrap();
    thread::sleep(Duration::from_millis(300));
    assert!(
        !gone(server.process.id()),
        "the peer died when the thread that started it ended"
    );
    TcpStream::connect_timeout(&server.addr, Duration::from_secs(2))
        .expect("the peer still accepts connections");
}

/// A guard kills what its program started too: here the `sleep` of a `sh -c`, which
/// `.ci/run` once found still running after the tests had ended.
#[cfg(target_os = "linux")]
#[test]
fn what_a_peer_started_dies_with_its_guard() {
    let mut p = Process::spawn("sh", ["-c", "sleep 30 & echo CHILD $!; wait"]);
    let child: u32 = p
        .wait_for_line("CHILD ", Duration::from_secs(5))
        .expect("sh says its child's pid")
        .parse()
        .expect("a pid");
    assert!(!gone(child), "the child runs while its guard lives");
    drop(p);
    assert!(
        wait_gone(child, Duration::from_secs(2)),
        "the guard killed sh, and its child {child} lived on"
    );
}

/// `.ci/run` tells the tests' processes from any other `openssl` by this variable.
#[cfg(target_os = "linux")]
#[test]
fn every_peer_carries_the_marker() {
    let p = Process::spawn("sleep", ["5"]);
    let env = std::fs::read(format!("/proc/{}/environ", p.id())).unwrap();
    let want = format!("{PEER_MARKER}={}", std::process::id());
    assert!(
        env.split(|b| *b == 0).any(|v| v == want.as_bytes()),
        "{want} is not in the peer's environment"
    );
}

/// With PYTHONUNBUFFERED=1, `print("LISTENING", port)` wrote "LISTENING" and the port
/// separately, and a reader that woke in between failed with "cannot read the Python
/// peer's port from: LISTENING". A line is read only once it is whole.
#[test]
fn a_line_is_read_only_once_it_is_whole() {
    let mut p = Process::spawn(
        "sh",
        [
            "-c",
            "printf LISTENING; sleep 0.3; printf ' 4242\\n'; sleep 5",
        ],
    );
    assert_eq!(
        p.wait_for_line("LISTENING ", Duration::from_secs(5)),
        Ok("4242".to_string())
    );
    assert_eq!(
        testkit::process::whole_line_after("LISTENING", "LISTENING"),
        None
    );
    assert_eq!(
        testkit::process::whole_line_after("LISTENING 12\n", "LISTENING "),
        Some("12".to_string())
    );
}

#[test]
fn the_python_peer_reports_its_port_in_one_line_when_unbuffered() {
    let files = certs::Files::new().unwrap();
    for _ in 0..3 {
        let py = PyServer::start(&files, Misbehaviour::Garbage);
        TcpStream::connect_timeout(&py.addr, Duration::from_secs(2))
            .expect("the Python peer listens on the port it printed");
    }
}
