//! Chapter 15, the capstone: a TLS echo server and its client, the whole tutorial in two
//! programs.
//!
//! `tls-echo-server` listens, requires and verifies a client certificate (mutual TLS),
//! speaks TLS 1.2 and 1.3 with AEAD ciphers only, serves each connection on a thread of its
//! own up to a cap, times out a handshake and an idle connection, echoes every byte, ends
//! with close_notify both ways, resumes sessions, refuses a client's renegotiation, writes
//! one log line per connection and stops on Ctrl-C after the connections in flight.
//!
//! `tls-echo-client` connects, verifies the server and its name, sends its standard input,
//! prints the echo, closes cleanly, and reports a connection cut without close_notify as an
//! error. `--reconnect N` connects N more times, offering the session of the last one.
//!
//! Given: the command lines ([`ServerArgs`], [`ClientArgs`]), the files read with clear
//! errors ([`load_identity`], [`load_cas`]), the log line ([`ConnectionLog`]), the thread cap's
//! counter ([`Slots`]), Ctrl-C ([`stop_on_signals`], [`wait_for_connection`]) and the two
//! `main`s. You write: the server's context ([`server_context`]), one server connection
//! ([`serve_connection`]), the accept loop ([`serve`]), the client's context
//! ([`client_context`]) and one client connection ([`exchange`]).

use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use openssl::error::ErrorStack;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::ssl::{
    HandshakeError, ShutdownState, SslAcceptor, SslConnector, SslFiletype, SslMethod, SslRef,
    SslSession, SslStream, SslVerifyMode, SslVersion,
};
use openssl::x509::store::{X509Lookup, X509StoreBuilder};
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509Crl, X509VerifyResult, X509};

/// What the two programs' exit codes mean (also in their `--help`).
pub mod exit {
    /// Done: every connection ended with close_notify both ways (the server: stopped when
    /// asked, after the connections in flight).
    pub const OK: i32 = 0;
    /// A connection failed: refused, reset, timed out, or a handshake that failed for a
    /// reason other than a certificate.
    pub const FAILED: i32 = 1;
    /// A bad command line (clap's own code for it).
    pub const USAGE: i32 = 2;
    /// A file could not be used: missing, not PEM, a key that does not match its
    /// certificate, an encrypted key without its passphrase.
    pub const CONFIG: i32 = 3;
    /// The peer's certificate was refused (the reason is printed).
    pub const REFUSED: i32 = 4;
    /// The server closed without close_notify: what was printed may be cut short.
    pub const TRUNCATED: i32 = 5;
}

const EXIT_CODES: &str = "\
Exit codes:
  0  done: every connection ended with close_notify both ways
  1  a connection failed (refused, reset, timed out, handshake failed)
  2  bad command line
  3  a file could not be used (missing, not PEM, key does not match, wrong passphrase)
  4  the peer's certificate was refused
  5  the server closed without close_notify: the echo may be cut short

An encrypted key takes its passphrase from the environment variable TLS_ECHO_KEY_PASSPHRASE.";

/// The variable an encrypted key's passphrase comes from (never a flag: flags show in `ps`).
pub const PASSPHRASE_VAR: &str = "TLS_ECHO_KEY_PASSPHRASE";

/// How long the accept loop waits for a connection before it looks at the stop flag again.
pub const POLL: Duration = Duration::from_millis(200);

/// The largest piece the client sends before it reads that piece's echo back.
pub const CHUNK: usize = 16 * 1024;

/// Whether, and how, the server asks for a client certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ClientAuth {
    /// A client without a certificate that chains to --client-ca is refused.
    Required,
    /// A certificate is asked for and verified if sent; a client without one is served.
    Optional,
    /// No certificate is asked for.
    None,
}

/// `tls-echo-server`'s command line.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "tls-echo-server",
    version,
    about = "A TLS echo server: mutual TLS, TLS 1.2 and 1.3, one thread per connection up to a cap.",
    after_help = EXIT_CODES
)]
pub struct ServerArgs {
    /// The server's certificate chain (PEM): its own certificate first, then intermediates.
    #[arg(long, value_name = "FILE")]
    pub cert: PathBuf,
    /// The private key of that certificate (PEM).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// The CAs whose client certificates are accepted (PEM); needed unless --client-auth none.
    #[arg(long, value_name = "FILE")]
    pub client_ca: Option<PathBuf>,
    /// Whether a client must present a certificate.
    #[arg(long, value_enum, default_value_t = ClientAuth::Required)]
    pub client_auth: ClientAuth,
    /// How many intermediate CAs a client's chain may hold between its certificate and the
    /// trusted root (0: signed by the root itself).
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(0..=10))]
    pub verify_depth: u32,
    /// The address to listen on.
    #[arg(long, value_name = "IP", default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// The port to listen on; 0 lets the system pick one (the LISTENING line says which).
    #[arg(long, default_value_t = 4433)]
    pub port: u16,
    /// The most connections served at once; more wait in the system's queue.
    #[arg(long, value_name = "N", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_connections: u32,
    /// Seconds a client may take to finish its handshake.
    #[arg(long, value_name = "SECONDS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub handshake_timeout: u64,
    /// Seconds a connection may stay silent before the server closes it.
    #[arg(long, value_name = "SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub idle_timeout: u64,
}

/// How the server treats each connection.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_connections: usize,
    pub handshake_timeout: Duration,
    pub idle_timeout: Duration,
}

impl From<&ServerArgs> for Limits {
    fn from(a: &ServerArgs) -> Limits {
        Limits {
            max_connections: a.max_connections as usize,
            handshake_timeout: Duration::from_secs(a.handshake_timeout),
            idle_timeout: Duration::from_secs(a.idle_timeout),
        }
    }
}

/// A TLS version to stop at, for `--max-version`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Version {
    #[value(name = "1.2")]
    Tls12,
    #[value(name = "1.3")]
    Tls13,
}

impl From<Version> for SslVersion {
    fn from(v: Version) -> SslVersion {
        match v {
            Version::Tls12 => SslVersion::TLS1_2,
            Version::Tls13 => SslVersion::TLS1_3,
        }
    }
}

/// `tls-echo-client`'s command line.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "tls-echo-client",
    version,
    about = "A TLS echo client: sends standard input, prints the echo, verifies the server.",
    after_help = EXIT_CODES
)]
pub struct ClientArgs {
    /// The server, as HOST:PORT.
    #[arg(long, value_name = "HOST:PORT")]
    pub connect: String,
    /// The CAs the server's certificate must chain to (PEM). Nothing else is trusted.
    #[arg(long, value_name = "FILE")]
    pub ca: PathBuf,
    /// The name the server's certificate must carry (also sent as SNI).
    #[arg(long, value_name = "NAME", default_value = "localhost")]
    pub servername: String,
    /// The client's certificate chain (PEM), for a server that asks for one.
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// The private key of --cert (PEM).
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// A revocation list (PEM): a certificate it names is refused.
    #[arg(long, value_name = "FILE")]
    pub crl: Option<PathBuf>,
    /// How many intermediate CAs the server's chain may hold between its certificate and
    /// the trusted root (0: signed by the root itself).
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(0..=10))]
    pub verify_depth: u32,
    /// The newest TLS version to offer.
    #[arg(long, value_enum)]
    pub max_version: Option<Version>,
    /// Connect N more times, offering the session of the connection before (resumption).
    #[arg(long, value_name = "N", default_value_t = 0,
          value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub reconnect: u32,
    /// Seconds to wait for the server, at connect and at every read and write.
    #[arg(long, value_name = "SECONDS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
}

/// Why a program stops: an exit code of [`exit`] and one sentence.
#[derive(Debug)]
pub struct Failure {
    pub code: i32,
    pub message: String,
}

impl Failure {
    pub fn new(code: i32, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A certificate, its intermediates and its key, read from files.
pub struct Identity {
    pub cert: X509,
    pub chain: Vec<X509>,
    pub key: PKey<Private>,
}

fn read_file(path: &Path, what: &str) -> Result<Vec<u8>, Failure> {
    fs::read(path).map_err(|e| {
        Failure::new(
            exit::CONFIG,
            format!("cannot read the {what} file {}: {e}", path.display()),
        )
    })
}

fn read_certs(path: &Path, what: &str) -> Result<Vec<X509>, Failure> {
    let pem = read_file(path, what)?;
    match X509::stack_from_pem(&pem) {
        Ok(certs) if !certs.is_empty() => Ok(certs),
        _ => Err(Failure::new(
            exit::CONFIG,
            format!("{} holds no PEM certificate", path.display()),
        )),
    }
}

/// Reads a certificate chain (leaf first) and its key. The key may be encrypted: its
/// passphrase comes from [`PASSPHRASE_VAR`], through a callback, so nothing ever prompts on
/// the terminal. A key that does not belong to the certificate is an error here, whatever
/// its type.
pub fn load_identity(cert: &Path, key: &Path) -> Result<Identity, Failure> {
    let mut certs = read_certs(cert, "certificate")?.into_iter();
    let leaf = certs.next().expect("read_certs returns at least one");
    let key_pem = read_file(key, "private key")?;
    let passphrase = std::env::var(PASSPHRASE_VAR).ok();
    let parsed = PKey::private_key_from_pem_callback(&key_pem, |buf| {
        let secret = passphrase.as_deref().unwrap_or_default().as_bytes();
        if passphrase.is_none() || secret.len() > buf.len() {
            return Err(ErrorStack::get());
        }
        buf[..secret.len()].copy_from_slice(secret);
        Ok(secret.len())
    });
    let encrypted = String::from_utf8_lossy(&key_pem).contains("ENCRYPTED");
    let key_pair = parsed.map_err(|_| {
        let why = match (encrypted, passphrase.is_some()) {
            (true, false) => format!("is encrypted: give its passphrase in {PASSPHRASE_VAR}"),
            (true, true) => {
                format!("cannot be decrypted with the passphrase in {PASSPHRASE_VAR} (bad decrypt)")
            }
            _ => "holds no PEM private key".to_string(),
        };
        Failure::new(exit::CONFIG, format!("the key {} {why}", key.display()))
    })?;
    let matches = leaf
        .public_key()
        .map(|p| p.public_eq(&key_pair))
        .unwrap_or(false);
    if !matches {
        return Err(Failure::new(
            exit::CONFIG,
            format!(
                "the key {} does not belong to the certificate {} (key values mismatch)",
                key.display(),
                cert.display()
            ),
        ));
    }
    Ok(Identity {
        cert: leaf,
        chain: certs.collect(),
        key: key_pair,
    })
}

/// Reads the CA certificates of a PEM file.
pub fn load_cas(path: &Path) -> Result<Vec<X509>, Failure> {
    read_certs(path, "CA")
}

/// Checks that a revocation list reads, so that a bad file is a clear error and not a
/// failed lookup.
pub fn check_crl(path: &Path) -> Result<(), Failure> {
    let pem = read_file(path, "revocation list")?;
    X509Crl::from_pem(&pem).map(|_| ()).map_err(|_| {
        Failure::new(
            exit::CONFIG,
            format!("{} holds no PEM revocation list", path.display()),
        )
    })
}

/// How a server connection ended, as its log line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The client sent close_notify and the server answered it.
    CloseNotify,
    /// The client stayed silent past --idle-timeout; the server sent close_notify.
    IdleTimeout,
    /// The client closed TCP without close_notify.
    Truncated,
    /// No handshake within --handshake-timeout.
    HandshakeTimeout,
    /// The handshake failed (not TLS, a refused certificate, no common version...).
    HandshakeFailed,
    /// Reading or writing failed after the handshake.
    Error,
}

impl End {
    pub fn name(self) -> &'static str {
        match self {
            End::CloseNotify => "close_notify",
            End::IdleTimeout => "idle-timeout",
            End::Truncated => "truncated",
            End::HandshakeTimeout => "handshake-timeout",
            End::HandshakeFailed => "handshake-failed",
            End::Error => "error",
        }
    }
}

/// The server's one line about one connection.
#[derive(Debug, Clone)]
pub struct ConnectionLog {
    pub peer: String,
    /// The common name of the client's certificate, if it sent one.
    pub client: Option<String>,
    pub protocol: String,
    pub cipher: String,
    pub resumed: bool,
    /// Bytes echoed.
    pub bytes: u64,
    pub end: End,
    pub error: Option<String>,
}

impl ConnectionLog {
    /// The log of a connection from `tcp`, before anything happened on it.
    pub fn new(tcp: &TcpStream) -> ConnectionLog {
        ConnectionLog {
            peer: tcp
                .peer_addr()
                .map(|a| a.to_string())
                .unwrap_or_else(|_| "?".into()),
            client: None,
            protocol: "-".into(),
            cipher: "-".into(),
            resumed: false,
            bytes: 0,
            end: End::CloseNotify,
            error: None,
        }
    }

    /// Takes from a finished handshake what the line shows: client, protocol, cipher,
    /// whether the session was resumed.
    pub fn handshake_done(&mut self, ssl: &SslRef) {
        self.client = ssl.peer_certificate().map(|c| {
            c.subject_name()
                .entries_by_nid(Nid::COMMONNAME)
                .next()
                .map(|e| String::from_utf8_lossy(e.data().as_slice()).into_owned())
                .unwrap_or_default()
        });
        self.protocol = ssl.version_str().to_string();
        self.cipher = ssl
            .current_cipher()
            .map(|c| c.name().to_string())
            .unwrap_or_else(|| "-".into());
        self.resumed = ssl.session_reused();
    }

    /// Ends the log with `end` and the reason.
    pub fn failed(mut self, end: End, why: impl Into<String>) -> ConnectionLog {
        self.end = end;
        self.error = Some(why.into());
        self
    }
}

impl fmt::Display for ConnectionLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let client = self.client.as_deref().unwrap_or("-");
        write!(
            f,
            "conn peer={} client={client:?} protocol={} cipher={} resumed={} bytes={} end={}",
            self.peer,
            self.protocol,
            self.cipher,
            if self.resumed { "yes" } else { "no" },
            self.bytes,
            self.end.name()
        )?;
        if let Some(e) = &self.error {
            write!(f, " error={:?}", e.replace('\n', " "))?;
        }
        Ok(())
    }
}

/// Why a server's handshake failed, in one sentence: the client's certificate and why it
/// was refused, or OpenSSL's reason.
pub fn handshake_reason(e: &HandshakeError<TcpStream>) -> String {
    match e {
        HandshakeError::Failure(mid) => {
            let v = mid.ssl().verify_result();
            if v != X509VerifyResult::OK {
                format!(
                    "client certificate refused: {} ({})",
                    v.error_string(),
                    v.as_raw()
                )
            } else {
                format!("handshake failed: {}", mid.error())
            }
        }
        other => format!("handshake failed: {other}"),
    }
}

/// Whether an I/O error is a socket's timeout (a read timeout shows as `WouldBlock`).
pub fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Counts the connections in flight, so that there are never more than a maximum.
pub struct Slots {
    used: Mutex<usize>,
    freed: Condvar,
    max: usize,
}

/// One connection's place among the [`Slots`]; dropping it frees the place.
pub struct Slot<'a>(&'a Slots);

impl Slots {
    pub fn new(max: usize) -> Slots {
        Slots {
            used: Mutex::new(0),
            freed: Condvar::new(),
            max,
        }
    }

    /// Waits until fewer than the maximum are in flight and takes a place; `None` if `stop`
    /// was set while waiting.
    pub fn acquire(&self, stop: &AtomicBool) -> Option<Slot<'_>> {
        let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        while *used >= self.max {
            if stop.load(Ordering::SeqCst) {
                return None;
            }
            used = self
                .freed
                .wait_timeout(used, POLL)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        *used += 1;
        Some(Slot(self))
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut used = self.0.used.lock().unwrap_or_else(PoisonError::into_inner);
        *used -= 1;
        self.0.freed.notify_one();
    }
}

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop_signal(_: libc::c_int) {
    // Only an atomic store: nothing else is safe in a signal handler.
    STOP.store(true, Ordering::SeqCst);
}

/// Makes SIGINT (Ctrl-C) and SIGTERM set the returned flag instead of ending the process,
/// so that the server can finish the connections in flight.
pub fn stop_on_signals() -> &'static AtomicBool {
    // SAFETY: a zeroed sigaction is a valid value; the handler only stores an atomic, which
    // is async-signal-safe.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_stop_signal as *const () as libc::sighandler_t;
        libc::sigemptyset(&mut action.sa_mask);
        for signal in [libc::SIGINT, libc::SIGTERM] {
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
    &STOP
}

/// Waits at most `timeout` for a connection to arrive on `listener`: `true` if one is
/// there to accept, `false` after the timeout or a signal (look at the stop flag then).
pub fn wait_for_connection(listener: &TcpListener, timeout: Duration) -> io::Result<bool> {
    use std::os::fd::AsRawFd;
    let mut fd = libc::pollfd {
        fd: listener.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one pollfd that lives across the call, for a descriptor `listener` owns.
    let n = unsafe { libc::poll(&mut fd, 1, timeout.as_millis() as libc::c_int) };
    if n < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted {
            Ok(false)
        } else {
            Err(e)
        };
    }
    Ok(n > 0)
}

/// The server's context: its identity, mutual TLS as `args` asks (the client's chain
/// verified against `client_cas`, at most `args.verify_depth` deep), TLS 1.2 and 1.3 only,
/// AEAD ciphers only, and sessions that resume on the next connection.
pub fn server_context(
    args: &ServerArgs,
    id: &Identity,
    client_cas: &[X509],
) -> Result<SslAcceptor, ErrorStack> {
    // BEGIN EXERCISE
    todo!("ch15: build the server's context: its certificate chain and key, client certificates required and verified against the given CAs no deeper than the flag allows (relaxed as --client-auth says), TLS 1.2 and 1.3 only with AEAD ciphers only, and sessions that can resume on a later connection of a client that showed a certificate")
    // END EXERCISE
}

/// One server connection, start to end: the handshake within the handshake timeout, then
/// every byte echoed until the client's close_notify (answered with the server's own) or
/// until it has been silent for the idle timeout (then the server closes with
/// close_notify). Returns the connection's log line; nothing of the connection outlives it.
pub fn serve_connection(acceptor: &SslAcceptor, tcp: TcpStream, limits: &Limits) -> ConnectionLog {
    let log = ConnectionLog::new(&tcp);
    // An echo answers with small writes, and a client waits for each: without this, Nagle's
    // algorithm holds a small write back until the client's delayed ACK, about 40 ms.
    let _ = tcp.set_nodelay(true);
    // BEGIN EXERCISE
    todo!("ch15: serve one connection: bound the handshake by the handshake timeout (a silent client must not hold a thread), then echo every byte until the client's close_notify, answered with ours; a client silent past the idle timeout is closed with close_notify; a TCP close without close_notify is a truncation, told apart from a clean end; fill in the log line as you go")
    // END EXERCISE
}

/// The accept loop: every connection on a thread of its own, at most
/// `limits.max_connections` at once (the others wait in the system's queue), all with the
/// one `acceptor`. Once `stop` is set it accepts no more, waits for the connections in
/// flight, and returns how many connections it served. Each log line goes to stderr.
pub fn serve(
    listener: &TcpListener,
    acceptor: &SslAcceptor,
    limits: &Limits,
    stop: &AtomicBool,
) -> io::Result<u64> {
    // BEGIN EXERCISE
    todo!("ch15: accept connections until the stop flag is set, each served on a thread of its own with the one context, never more at once than the cap allows (the others wait in the kernel's queue); once stopping, accept no more and wait for the connections in flight to finish, then say how many were served")
    // END EXERCISE
}

/// What the server program does: read the files, build the context, listen, print
/// `LISTENING ADDR`, serve until Ctrl-C, print `STOPPED N connections`.
pub fn run_server(args: &ServerArgs) -> Result<(), Failure> {
    let id = load_identity(&args.cert, &args.key)?;
    let client_cas = match (args.client_auth, &args.client_ca) {
        (ClientAuth::None, _) => Vec::new(),
        (_, Some(path)) => load_cas(path)?,
        (_, None) => {
            return Err(Failure::new(
                exit::USAGE,
                "--client-ca FILE is needed to verify clients (or say --client-auth none)",
            ))
        }
    };
    let acceptor = server_context(args, &id, &client_cas)
        .map_err(|e| Failure::new(exit::CONFIG, format!("cannot set up TLS: {e}")))?;
    let listener = TcpListener::bind((args.bind, args.port)).map_err(|e| {
        Failure::new(
            exit::FAILED,
            format!("cannot listen on {}:{}: {e}", args.bind, args.port),
        )
    })?;
    let stop = stop_on_signals();
    let addr = listener
        .local_addr()
        .map_err(|e| Failure::new(exit::FAILED, e.to_string()))?;
    println!("LISTENING {addr}");
    let served = serve(&listener, &acceptor, &Limits::from(args), stop)
        .map_err(|e| Failure::new(exit::FAILED, format!("cannot accept: {e}")))?;
    println!("STOPPED {served} connections");
    Ok(())
}

/// `tls-echo-server`'s `main`: returns the exit code.
pub fn server_main() -> i32 {
    let args = ServerArgs::parse();
    match run_server(&args) {
        Ok(()) => exit::OK,
        Err(f) => {
            eprintln!("tls-echo-server: {f}");
            f.code
        }
    }
}

/// The client's context: trusts `cas` and nothing else (with `args.crl`, a revoked
/// certificate is refused too), accepts a chain at most `args.verify_depth` deep, TLS 1.2
/// at least (and `args.max_version` at most), and presents `id` when there is one.
pub fn client_context(
    args: &ClientArgs,
    id: Option<&Identity>,
    cas: &[X509],
) -> Result<SslConnector, ErrorStack> {
    // BEGIN EXERCISE
    todo!("ch15: build the client's context: trust the given CAs and nothing else (refuse what a revocation list names when one is given), accept a chain no deeper than the flag allows, TLS 1.2 at least and the chosen version at most, and present the client's identity when there is one")
    // END EXERCISE
}

/// What one client connection brought back.
pub struct Exchange {
    /// Every byte the server sent.
    pub echo: Vec<u8>,
    /// Whether the server's close_notify ended it (false: truncated, maybe cut short).
    pub clean: bool,
    /// The session to offer on the next connection.
    pub session: Option<SslSession>,
    pub resumed: bool,
    pub protocol: String,
    pub cipher: String,
}

/// Connects to `addr` within `timeout`, with that timeout on every read and write.
pub fn dial(addr: SocketAddr, timeout: Duration) -> Result<TcpStream, Failure> {
    let fail = |e: io::Error| Failure::new(exit::FAILED, format!("cannot connect to {addr}: {e}"));
    let tcp = TcpStream::connect_timeout(&addr, timeout).map_err(fail)?;
    tcp.set_read_timeout(Some(timeout)).map_err(fail)?;
    tcp.set_write_timeout(Some(timeout)).map_err(fail)?;
    // Each piece of input waits for its echo: no Nagle delay on the small last segment.
    tcp.set_nodelay(true).map_err(fail)?;
    Ok(tcp)
}

/// Why a client's handshake failed: a refused certificate ([`exit::REFUSED`], with
/// OpenSSL's reason) or anything else ([`exit::FAILED`]).
pub fn handshake_failure(e: HandshakeError<TcpStream>) -> Failure {
    if let HandshakeError::Failure(mid) = &e {
        let v = mid.ssl().verify_result();
        if v != X509VerifyResult::OK {
            return Failure::new(
                exit::REFUSED,
                format!(
                    "the server's certificate was refused: {} ({})",
                    v.error_string(),
                    v.as_raw()
                ),
            );
        }
    }
    match e {
        HandshakeError::WouldBlock(_) => Failure::new(
            exit::FAILED,
            "the handshake timed out: the server said nothing",
        ),
        HandshakeError::Failure(mid) => Failure::new(
            exit::FAILED,
            format!("the handshake failed: {}", mid.error()),
        ),
        other => Failure::new(exit::FAILED, format!("the handshake failed: {other}")),
    }
}

fn io_failure(what: &str) -> impl Fn(io::Error) -> Failure + '_ {
    move |e| Failure::new(exit::FAILED, format!("{what}: {e}"))
}

/// One client connection to `addr`, verified as `host`, offering `offer` for resumption:
/// sends `input` a piece ([`CHUNK`]) at a time, reading each piece's echo before the next
/// (so neither side's buffers fill up), then close_notify, then everything up to the
/// server's close_notify. A server that closes without close_notify is reported
/// (`clean: false`) with what did arrive.
pub fn exchange(
    connector: &SslConnector,
    addr: SocketAddr,
    host: &str,
    input: &[u8],
    offer: Option<&SslSession>,
    timeout: Duration,
) -> Result<Exchange, Failure> {
    let tcp = dial(addr, timeout)?;
    // BEGIN EXERCISE
    todo!("ch15: one connection: handshake as the host name given (offering the session when there is one), send the input a piece at a time reading each piece's echo before the next, then say we are done with close_notify and read everything up to the server's close_notify; report a bare TCP close as a truncation, and keep the session for the next connection only once it can resume")
    // END EXERCISE
}

fn resolve(target: &str) -> Result<SocketAddr, Failure> {
    target
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| {
            Failure::new(
                exit::USAGE,
                format!("--connect {target:?} is not HOST:PORT of a reachable host"),
            )
        })
}

/// What the client program does: read the files and standard input, connect 1 + N times,
/// print every echo on stdout and one line per connection on stderr. Returns the exit code.
pub fn run_client(args: &ClientArgs) -> Result<(), Failure> {
    let cas = load_cas(&args.ca)?;
    let id = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => Some(load_identity(cert, key)?),
        _ => None,
    };
    if let Some(crl) = &args.crl {
        check_crl(crl)?;
    }
    let connector = client_context(args, id.as_ref(), &cas)
        .map_err(|e| Failure::new(exit::CONFIG, format!("cannot set up TLS: {e}")))?;
    let addr = resolve(&args.connect)?;
    let mut input = Vec::new();
    io::stdin()
        .read_to_end(&mut input)
        .map_err(io_failure("cannot read standard input"))?;
    let timeout = Duration::from_secs(args.timeout);
    let mut offer: Option<SslSession> = None;
    for i in 1..=1 + args.reconnect {
        let ex = exchange(
            &connector,
            addr,
            &args.servername,
            &input,
            offer.as_ref(),
            timeout,
        )?;
        let mut out = io::stdout().lock();
        out.write_all(&ex.echo)
            .and_then(|_| out.flush())
            .map_err(io_failure("cannot write standard output"))?;
        eprintln!(
            "connection {i}: protocol={} cipher={} resumed={} bytes={}",
            ex.protocol,
            ex.cipher,
            if ex.resumed { "yes" } else { "no" },
            ex.echo.len()
        );
        if !ex.clean {
            return Err(Failure::new(
                exit::TRUNCATED,
                format!(
                    "the server closed the connection without close_notify after {} bytes: \
                     the echo may be cut short",
                    ex.echo.len()
                ),
            ));
        }
        offer = ex.session;
    }
    Ok(())
}

/// `tls-echo-client`'s `main`: returns the exit code.
pub fn client_main() -> i32 {
    let args = ClientArgs::parse();
    match run_client(&args) {
        Ok(()) => exit::OK,
        Err(f) => {
            eprintln!("tls-echo-client: {f}");
            f.code
        }
    }
}
