//! What the capstone's tests share: the two programs as guards (killed when the test ends,
//! also when the test program dies), their log lines read back, and in-process clients.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use certs::Files;
use openssl::ssl::{ShutdownState, SslConnector, SslSession, SslStream, SslVersion};
use testkit::peers::Finished;
use testkit::process::Process;
use testkit::IO_TIMEOUT;

/// How long a program may take to start listening, or to end by itself.
pub const START: Duration = Duration::from_secs(10);

/// The server program this test package built: the exercise's or the solution's.
pub fn server_program() -> &'static str {
    option_env!("CARGO_BIN_EXE_tls-echo-server")
        .or(option_env!("CARGO_BIN_EXE_tls-echo-server-solution"))
        .expect("this package builds a tls-echo-server binary")
}

/// The client program this test package built.
pub fn client_program() -> &'static str {
    option_env!("CARGO_BIN_EXE_tls-echo-client")
        .or(option_env!("CARGO_BIN_EXE_tls-echo-client-solution"))
        .expect("this package builds a tls-echo-client binary")
}

/// The line of a program's output that holds an unfilled `todo!()`'s message.
pub fn todo_in(text: &str) -> Option<String> {
    text.lines()
        .find(|l| l.contains("not yet implemented"))
        .map(|l| l.trim().to_string())
}

/// Panics with the learner's `todo!()` message if `text` holds one.
pub fn pass_on_todo(text: &str) {
    if let Some(todo) = todo_in(text) {
        panic!("{todo}");
    }
}

/// One log line of the server, its fields by name.
#[derive(Debug, Clone)]
pub struct Log {
    pub line: String,
}

impl Log {
    /// The value of `key=` (quoted values unquoted).
    pub fn get(&self, key: &str) -> String {
        let pat = format!(" {key}=");
        let Some(at) = self.line.find(&pat) else {
            return String::new();
        };
        let rest = &self.line[at + pat.len()..];
        if let Some(q) = rest.strip_prefix('"') {
            q.split('"').next().unwrap_or_default().to_string()
        } else {
            rest.split(' ').next().unwrap_or_default().to_string()
        }
    }
}

/// `tls-echo-server` on a port of 127.0.0.1 the system picked.
pub struct Server {
    pub addr: SocketAddr,
    pub process: Process,
}

/// The server's usual files: the chain of `server-chain` (leaf + intermediate, so a client
/// sees a chain) and `ca.crt` for the clients.
pub fn server_args(files: &Files) -> Vec<String> {
    let p = |n: &str| files.path(n).display().to_string();
    vec![
        "--cert".into(),
        p("server-chain.chain.crt"),
        "--key".into(),
        p("server-chain.key"),
        "--client-ca".into(),
        p("ca.crt"),
        "--port".into(),
        "0".into(),
    ]
}

impl Server {
    /// Starts the server with the usual files and `extra` flags, and waits for its
    /// `LISTENING` line.
    pub fn start(files: &Files, extra: &[&str]) -> Server {
        let mut args = server_args(files);
        args.extend(extra.iter().map(|s| s.to_string()));
        Server::start_with(&args)
    }

    /// Starts the server with exactly `args`.
    pub fn start_with(args: &[String]) -> Server {
        let mut process =
            Process::try_spawn(server_program(), args, &[]).unwrap_or_else(|e| panic!("{e}"));
        let line = process.wait_for_line("LISTENING ", START);
        let line = line.unwrap_or_else(|e| {
            pass_on_todo(&process.stderr());
            panic!("tls-echo-server did not print its LISTENING line: {e}")
        });
        let addr = line.parse().unwrap_or_else(|_| {
            panic!(
                "tls-echo-server's LISTENING line holds no address: {line:?}\n{}",
                process.transcript()
            )
        });
        Server { addr, process }
    }

    /// The log lines so far: whole lines only, since a line may be read half written.
    pub fn logs(&self) -> Vec<Log> {
        let err = self.process.stderr();
        let whole = &err[..err.rfind('\n').map_or(0, |at| at + 1)];
        whole
            .lines()
            .filter(|l| l.starts_with("conn "))
            .map(|l| Log {
                line: l.to_string(),
            })
            .collect()
    }

    /// Waits until the server has written `n` log lines (at most `limit`) and returns
    /// them all; fails with the learner's todo!() if the server hit one.
    pub fn wait_logs(&self, n: usize, limit: Duration) -> Vec<Log> {
        let deadline = Instant::now() + limit;
        loop {
            let logs = self.logs();
            if logs.len() >= n {
                return logs;
            }
            pass_on_todo(&self.process.stderr());
            if Instant::now() >= deadline {
                self.fail(&format!(
                    "the server wrote {} log line(s) in {} s, and {n} were expected: one line per \
                     connection, once it has ended",
                    logs.len(),
                    limit.as_secs()
                ));
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Fails the test: with the learner's todo!() if the server hit one, else with `why`
    /// and what the server printed.
    pub fn fail(&self, why: &str) -> ! {
        pass_on_todo(&self.process.stderr());
        panic!("{why}\n{}", self.process.transcript())
    }

    /// Sends SIGINT (Ctrl-C).
    pub fn interrupt(&self) {
        // SAFETY: kill(2) with the pid of a child this guard owns and has not reaped.
        let rc = unsafe { libc::kill(self.process.id() as i32, libc::SIGINT) };
        assert_eq!(rc, 0, "kill(SIGINT)");
    }

    /// A field of /proc/PID/status of the server (`Threads`, `VmRSS`), as a number.
    pub fn status(&self, field: &str) -> u64 {
        let path = format!("/proc/{}/status", self.process.id());
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| self.fail(&format!("no {field} in {path}")))
    }
}

/// Runs `tls-echo-client` with `args`, `input` on its standard input, to its end.
pub fn run_client(args: &[String], input: &[u8], limit: Duration) -> Finished {
    let mut p = Process::try_spawn(client_program(), args, &[]).unwrap_or_else(|e| panic!("{e}"));
    let _ = p.send(input);
    p.close_stdin();
    let f = testkit::peers::finish(p, limit);
    pass_on_todo(&f.stderr);
    f
}

/// The client's usual flags for `addr`: trusts `ca.crt`, presents `client`.
pub fn client_args(files: &Files, addr: SocketAddr, extra: &[&str]) -> Vec<String> {
    let p = |n: &str| files.path(n).display().to_string();
    let mut args = vec![
        "--connect".into(),
        addr.to_string(),
        "--ca".into(),
        p("ca.crt"),
        "--cert".into(),
        p("client.crt"),
        "--key".into(),
        p("client.key"),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// An in-process client: trusts the root, presents `client`, TLS 1.3 at most `max`.
pub fn connector(max: SslVersion) -> SslConnector {
    let p = certs::pki();
    let mut b = SslConnector::builder(openssl::ssl::SslMethod::tls_client()).expect("connector");
    // The root alone is trusted; the client presents its certificate.
    b.set_cert_store({
        let mut s = openssl::x509::store::X509StoreBuilder::new().expect("store");
        s.add_cert(p.ca.cert.clone()).expect("ca");
        s.build()
    });
    b.set_certificate(&p.client.cert).expect("certificate");
    b.set_private_key(&p.client.key).expect("key");
    b.set_max_proto_version(Some(max)).expect("version");
    b.build()
}

/// Opens a TLS connection as `localhost`, offering `offer`.
pub fn open(
    c: &SslConnector,
    addr: SocketAddr,
    offer: Option<&SslSession>,
) -> Result<SslStream<TcpStream>, String> {
    let tcp = TcpStream::connect(addr).map_err(|e| format!("cannot connect: {e}"))?;
    tcp.set_read_timeout(Some(IO_TIMEOUT)).ok();
    tcp.set_write_timeout(Some(IO_TIMEOUT)).ok();
    let mut config = c.configure().map_err(|e| e.to_string())?;
    if let Some(s) = offer {
        // SAFETY: every session offered comes from a connection of this same connector.
        unsafe { config.set_session(s) }.map_err(|e| e.to_string())?;
    }
    config
        .connect(certs::HOST, tcp)
        .map_err(|e| testkit::explain::handshake(&e))
}

/// What an in-process client saw of one echo.
pub struct Echo {
    pub reply: Vec<u8>,
    pub close_notify: bool,
    pub session: Option<SslSession>,
}

/// One whole echo: send `data`, close_notify, read to the server's close_notify.
pub fn echo(
    c: &SslConnector,
    addr: SocketAddr,
    data: &[u8],
    offer: Option<&SslSession>,
) -> Result<Echo, String> {
    let mut s = open(c, addr, offer)?;
    let mut reply = Vec::new();
    // Lockstep, as the client program does: the server's echo never waits behind us.
    for piece in data.chunks(16 * 1024) {
        s.write_all(piece)
            .map_err(|e| format!("cannot send: {e}"))?;
        let want = reply.len() + piece.len();
        while reply.len() < want {
            let mut buf = vec![0; want - reply.len()];
            match s.read(&mut buf) {
                Ok(0) => return Err(format!("the server ended after {} bytes", reply.len())),
                Ok(n) => reply.extend_from_slice(&buf[..n]),
                Err(e) => return Err(format!("cannot read the echo: {e}")),
            }
        }
    }
    s.shutdown()
        .map_err(|e| format!("cannot send close_notify: {e}"))?;
    s.read_to_end(&mut reply)
        .map_err(|e| format!("cannot read to the end: {e}"))?;
    Ok(Echo {
        reply,
        close_notify: s.get_shutdown().contains(ShutdownState::RECEIVED),
        session: s.ssl().session().map(|x| x.to_owned()),
    })
}

/// Bytes that tell every client and every offset apart.
pub fn pattern(client: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u32)
                .wrapping_mul(31)
                .wrapping_add(client as u32 * 7919) as u8
        })
        .collect()
}

/// After a fault: a good client is still served, and its log line says so.
pub fn still_serves(server: &Server, after: &str) {
    let c = connector(SslVersion::TLS1_3);
    match echo(&c, server.addr, b"still there?\n", None) {
        Ok(e) if e.reply == b"still there?\n" && e.close_notify => {}
        Ok(e) => server.fail(&format!(
            "after {after}, a good client got {:?} back (close_notify: {}) instead of its line \
             and a close_notify",
            String::from_utf8_lossy(&e.reply),
            e.close_notify
        )),
        Err(e) => server.fail(&format!(
            "after {after}, the server no longer serves a good client: {e}. A fault on one \
             connection must end that connection only."
        )),
    }
}
