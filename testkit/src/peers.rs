//! Real peers: programs nobody here wrote, started on `127.0.0.1` with a port the kernel
//! picks, waited for until they listen, and killed when their guard drops.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitStatus;
use std::sync::OnceLock;
use std::time::Duration;

use certs::Files;

use crate::process::Process;

/// How long a peer may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// `openssl s_server`, listening on an ephemeral port of 127.0.0.1.
pub struct SServer {
    pub addr: SocketAddr,
    pub process: Process,
}

impl SServer {
    /// Starts `openssl s_server -accept 127.0.0.1:0` with `args` added, and waits for it
    /// to print the address it listens on.
    pub fn start<S: AsRef<str>>(args: &[S]) -> SServer {
        SServer::try_start(args).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`SServer::start`], with an error instead of a panic (for the workbook's `bench`).
    pub fn try_start<S: AsRef<str>>(args: &[S]) -> Result<SServer, String> {
        let mut all = vec![
            "s_server".to_string(),
            "-accept".into(),
            "127.0.0.1:0".into(),
        ];
        all.extend(args.iter().map(|a| a.as_ref().to_string()));
        no_default_trust(&mut all);
        let mut process = Process::try_spawn("openssl", &all, &[])?;
        let rest = process
            .wait_for_line("ACCEPT ", START_TIMEOUT)
            .map_err(|e| format!("openssl s_server did not start: {e}"))?;
        let addr = rest.parse().map_err(|_| {
            format!(
                "cannot read the address from s_server's output:\n{}",
                process.transcript()
            )
        })?;
        Ok(SServer { addr, process })
    }

    /// Starts s_server with identity `name` of the certificate set (`server`, `expired`,
    /// `server-chain`, ...): its certificate, key and any intermediates.
    pub fn with_identity<S: AsRef<str>>(files: &Files, name: &str, args: &[S]) -> SServer {
        let mut all = identity_args(files, name, "-cert", "-key", "-cert_chain");
        all.extend(args.iter().map(|a| a.as_ref().to_string()));
        SServer::start(&all)
    }

    /// Everything s_server printed, for a failure message.
    pub fn transcript(&self) -> String {
        self.process.transcript()
    }
}

/// The options that hand a peer the identity `name`: certificate, key, and the
/// intermediates when that identity has some.
pub fn identity_args(files: &Files, name: &str, cert: &str, key: &str, chain: &str) -> Vec<String> {
    let mut args = vec![
        cert.to_string(),
        path(files, &format!("{name}.crt")),
        key.to_string(),
        path(files, &format!("{name}.key")),
    ];
    let extra = files.dir().join(format!("{name}.intermediates.crt"));
    if extra.exists() {
        args.push(chain.to_string());
        args.push(extra.display().to_string());
    }
    args
}

fn path(files: &Files, name: &str) -> String {
    files.path(name).display().to_string()
}

/// A finished run of a program: exit status (None if it had to be killed) and its output.
pub struct Finished {
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
    pub transcript: String,
}

impl Finished {
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }
    pub fn code(&self) -> Option<i32> {
        self.status.and_then(|s| s.code())
    }
}

/// Starts `openssl s_client -connect ADDR` with `args`; stdin stays open so the test can
/// send data, and closing it ([`Process::close_stdin`]) makes s_client shut down.
pub fn s_client<S: AsRef<str>>(addr: SocketAddr, args: &[S]) -> Process {
    let mut all = vec!["s_client".to_string(), "-connect".into(), addr.to_string()];
    all.extend(args.iter().map(|a| a.as_ref().to_string()));
    no_default_trust(&mut all);
    Process::spawn("openssl", &all)
}

/// Unless `args` name a trust store, tells s_server or s_client not to load the system's.
/// A peer given no `-CAfile` trusts nothing here: no test relies on the system's CAs, and
/// reading them costs each peer about 50 ms of CPU (the bundle holds some 150 roots).
fn no_default_trust(args: &mut Vec<String>) {
    let names_a_store = args
        .iter()
        .any(|a| matches!(a.as_str(), "-CAfile" | "-CApath" | "-CAstore"));
    if !names_a_store {
        args.extend(["-no-CAfile", "-no-CApath", "-no-CAstore"].map(String::from));
    }
}

/// Runs `openssl s_client` to the end: sends `input`, closes stdin, waits at most
/// `timeout` for it to exit (and kills it after that).
pub fn run_s_client<S: AsRef<str>>(
    addr: SocketAddr,
    args: &[S],
    input: &[u8],
    timeout: Duration,
) -> Finished {
    let mut p = s_client(addr, args);
    let _ = p.send(input);
    p.close_stdin();
    finish(p, timeout)
}

/// Waits for `p` to exit (at most `timeout`) and collects what it printed.
pub fn finish(mut p: Process, timeout: Duration) -> Finished {
    let status = p.wait_exit(timeout);
    Finished {
        status,
        stdout: p.stdout(),
        stderr: p.stderr(),
        transcript: p.transcript(),
    }
}

/// The usual s_client options for a client that trusts the workbook's root CA and checks
/// the host name, failing (exit 1) on any verification error.
pub fn verifying_client_args(files: &Files) -> Vec<String> {
    vec![
        "-CAfile".into(),
        path(files, "ca.crt"),
        "-verify_return_error".into(),
        "-verify_hostname".into(),
        certs::HOST.into(),
        "-servername".into(),
        certs::HOST.into(),
    ]
}

/// How the Python peer misbehaves; see `testkit/peers/bad_peer.py`.
#[derive(Clone, Copy, Debug)]
pub enum Misbehaviour {
    /// Handshake, send "hello\n", close TCP without close_notify.
    NoCloseNotify,
    /// Handshake, send "hello\n", then a proper close_notify.
    CloseNotify,
    /// Send bytes that are not TLS.
    Garbage,
    /// Connect or accept, then never send a byte.
    Stall,
    /// Handshake, send half a MiB, then close TCP without close_notify, as a peer whose
    /// process died mid-transfer.
    Vanish,
}

impl Misbehaviour {
    fn mode(self) -> &'static str {
        match self {
            Misbehaviour::NoCloseNotify => "no-close-notify",
            Misbehaviour::CloseNotify => "close-notify",
            Misbehaviour::Garbage => "garbage",
            Misbehaviour::Stall => "stall",
            Misbehaviour::Vanish => "vanish",
        }
    }
}

pub(crate) const BAD_PEER: &str = include_str!("../peers/bad_peer.py");

/// A Python `ssl` server that misbehaves as told, serving `server` of the certificate set.
pub struct PyServer {
    pub addr: SocketAddr,
    pub process: Process,
}

impl PyServer {
    pub fn start(files: &Files, how: Misbehaviour) -> PyServer {
        let mut args = vec![
            "-c".to_string(),
            BAD_PEER.to_string(),
            "server".into(),
            how.mode().into(),
        ];
        if !matches!(how, Misbehaviour::Garbage | Misbehaviour::Stall) {
            args.push(path(files, "server.chain.crt"));
            args.push(path(files, "server.key"));
        }
        let (addr, process) = python_server(&args);
        PyServer { addr, process }
    }
}

/// Starts the Python peer in a server mode and waits until it listens: one line,
/// "LISTENING <port>", read only once its newline is there.
pub(crate) fn python_server(args: &[String]) -> (SocketAddr, Process) {
    let mut process = python(args);
    let port: u16 = process
        .wait_for_line("LISTENING ", START_TIMEOUT)
        .unwrap_or_else(|e| panic!("the Python peer did not start: {e}"))
        .parse()
        .unwrap_or_else(|_| {
            panic!(
                "cannot read the Python peer's port from:\n{}",
                process.transcript()
            )
        });
    (SocketAddr::from(([127, 0, 0, 1], port)), process)
}

/// The Python peer, unbuffered (as on the machines where the port once came in two
/// writes), so its output reaches the test as it is written.
pub(crate) fn python(args: &[String]) -> Process {
    Process::try_spawn(python_program(), args, &[("PYTHONUNBUFFERED", "1")])
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The Python interpreter itself. `python3` on the PATH may be a version manager's shim
/// (pyenv's is a bash script that runs a dozen more scripts, about 0.13 s, on every peer).
/// The peer needs any Python 3 with `ssl`, so the first `python3` on the PATH that is a
/// program and not a script is taken; only when every one is a script is the first asked
/// once for `sys.executable`.
fn python_program() -> &'static str {
    static PYTHON: OnceLock<String> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let candidates: Vec<_> = std::env::var_os("PATH")
            .map(|p| {
                std::env::split_paths(&p)
                    .map(|d| d.join("python3"))
                    .collect()
            })
            .unwrap_or_default();
        let program = candidates.iter().find(|p| is_program(p));
        if let Some(p) = program {
            return p.display().to_string();
        }
        std::process::Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty() && Path::new(s).is_file())
            .unwrap_or_else(|| "python3".to_string())
    })
}

/// An executable file that is not a script (a script starts with `#!`).
#[cfg(unix)]
fn is_program(path: &Path) -> bool {
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;
    let executable =
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
    let mut start = [0u8; 2];
    executable
        && std::fs::File::open(path)
            .and_then(|mut f| f.read_exact(&mut start))
            .is_ok()
        && &start != b"#!"
}

/// A Python client that misbehaves against `addr` as told. It ends by itself; the guard
/// kills it if the test ends first.
pub fn py_client(files: &Files, addr: SocketAddr, how: Misbehaviour) -> Process {
    let mut args = vec![
        "-c".to_string(),
        BAD_PEER.to_string(),
        "client".into(),
        how.mode().into(),
        addr.ip().to_string(),
        addr.port().to_string(),
    ];
    if matches!(how, Misbehaviour::NoCloseNotify) {
        args.push(path(files, "ca.crt"));
    }
    python(&args)
}

/// Runs `curl` against `https://localhost:PORT/` trusting the workbook's root, with `args`
/// added; waits at most `timeout`. Curl's exit code 60 means it refused the certificate.
pub fn curl<S: AsRef<str>>(
    files: &Files,
    addr: SocketAddr,
    args: &[S],
    timeout: Duration,
) -> Finished {
    let mut all = vec![
        "--silent".to_string(),
        "--show-error".into(),
        "--max-time".into(),
        timeout.as_secs().max(1).to_string(),
        "--cacert".into(),
        path(files, "ca.crt"),
        "--resolve".into(),
        format!("localhost:{}:127.0.0.1", addr.port()),
    ];
    all.extend(args.iter().map(|a| a.as_ref().to_string()));
    all.push(format!("https://localhost:{}/", addr.port()));
    finish(
        Process::spawn("curl", &all),
        timeout + Duration::from_secs(2),
    )
}

/// Path of a file as a string, for building command lines in tests.
pub fn arg(p: &Path) -> String {
    p.display().to_string()
}

/// Without execute bits to read, every candidate is left to the `sys.executable` question.
#[cfg(not(unix))]
fn is_program(_: &Path) -> bool {
    false
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_script_on_the_path_is_passed_over_for_a_program() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("python3");
        std::fs::write(&script, "#!/usr/bin/env bash\nexec python3 \"$@\"\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(!is_program(&script), "a shim script is not the interpreter");
        let plain = dir.path().join("data");
        std::fs::write(&plain, [0x7f, b'E', b'L', b'F']).unwrap();
        assert!(
            !is_program(&plain),
            "a file without the execute bit is no program"
        );
        assert!(is_program(&std::env::current_exe().unwrap()));
        assert!(!is_program(&dir.path().join("missing")));
    }

    #[test]
    fn a_peer_without_a_trust_store_loads_none() {
        let mut args = vec!["-www".to_string()];
        no_default_trust(&mut args);
        assert_eq!(args, ["-www", "-no-CAfile", "-no-CApath", "-no-CAstore"]);
        let mut args = vec!["-CAfile".to_string(), "ca.crt".into()];
        no_default_trust(&mut args);
        assert_eq!(args, ["-CAfile", "ca.crt"], "a store named is the one used");
    }
}
