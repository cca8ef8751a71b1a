//! More modes of the Python peer (`testkit/peers/bad_peer.py`), for chapters 10 (data) and
//! 11 (shutdown): a server that checks and returns a mebibyte, a server that resets the
//! connection while the client is still sending, and clients that read to the end and say
//! how the end looked (close_notify or not) and whether they answered it.

use std::net::SocketAddr;
use std::time::Duration;

use certs::Files;

use crate::peers::{python, python_server, BAD_PEER};
use crate::process::Process;

/// A Python server in one of the extra modes; it serves one connection and ends.
pub struct PyPeer {
    pub addr: SocketAddr,
    pub process: Process,
}

impl PyPeer {
    /// `echo-all`: reads exactly `n` bytes, prints "RECEIVED <n> <sha256>", sends them back,
    /// then sends close_notify.
    pub fn echo_all(files: &Files, n: usize) -> PyPeer {
        PyPeer::start(files, "echo-all", &[n.to_string()])
    }

    /// `sink-vanish`: reads 64 KiB, then resets the connection (an RST, no close_notify).
    pub fn sink_vanish(files: &Files) -> PyPeer {
        PyPeer::start(files, "sink-vanish", &[])
    }

    /// Any server mode of the Python peer that takes the server's identity (`close-notify`,
    /// `no-close-notify`, `vanish`, ...), started like the others here: the port is read
    /// only once its whole line has arrived.
    pub fn server(files: &Files, mode: &str) -> PyPeer {
        PyPeer::start(files, mode, &[])
    }

    fn start(files: &Files, mode: &str, before_identity: &[String]) -> PyPeer {
        let mut args = vec![
            "-c".to_string(),
            BAD_PEER.to_string(),
            "server".into(),
            mode.into(),
        ];
        args.extend(before_identity.iter().cloned());
        args.push(files.path("server.chain.crt").display().to_string());
        args.push(files.path("server.key").display().to_string());
        let (addr, process) = python_server(&args);
        PyPeer { addr, process }
    }

    /// Waits (at most `timeout`) until the peer has printed `needle`; its stdout so far.
    pub fn wait_for(&mut self, needle: &str, timeout: Duration) -> Result<String, String> {
        self.process.wait_for(needle, timeout)
    }
}

/// A Python client that reads everything `addr` sends and prints how it ended:
/// "GOT <n> CLEAN" after a close_notify, "GOT <n> TRUNCATED" after a TCP close without one.
/// With `answer`, it answers a close_notify with its own and prints "ANSWERED"; without, it
/// closes TCP without answering. It ends by itself; the guard kills it if the test ends first.
pub fn py_reader(files: &Files, addr: SocketAddr, answer: bool) -> Process {
    let mode = if answer {
        "read-to-end"
    } else {
        "read-no-answer"
    };
    python(&[
        "-c".to_string(),
        BAD_PEER.to_string(),
        "client".into(),
        mode.into(),
        addr.ip().to_string(),
        addr.port().to_string(),
        files.path("ca.crt").display().to_string(),
    ])
}
