//! `workbook bench`: handshakes per second, full and resumed, of the learner's server, the
//! reference solution and `openssl s_server`, side by side, all measured with the same
//! in-process client on 127.0.0.1.
//!
//! The learner's and the reference server are chapter 12's (resumption): `serve_one` in a
//! loop, the `chNN-resumption-server` program of the exercise and of the solution crate,
//! built here with `--features bench-server`. Without chapter 12 their columns say so; an
//! unsolved exercise says it is unsolved: no number is ever made up.
//!
//! A second table measures the capstone (chapter 15): `tls-echo-server` of the exercise and
//! of the solution against `openssl s_server -rev` (which sends each line back reversed, as
//! long as it came) with the same certificates, both requiring a client certificate: full
//! and resumed handshakes per second (one line echoed each) and the bulk echo rate in MB/s
//! (64 KiB of 1 KiB lines out, the same back, for the measured time).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use openssl::ssl::{SslConnector, SslFiletype, SslMethod, SslSession, SslStream, SslVersion};

use crate::manifest::Chapter;
use crate::{grade, ui};

/// The chapters whose code the learner and reference columns need.
const RESUMPTION: u32 = 12;
const CAPSTONE: u32 = 15;

/// How long a chapter's server may take to say it listens.
const START: Duration = Duration::from_secs(10);

/// The TLS version to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    V12,
    V13,
}

impl Tls {
    fn name(self) -> &'static str {
        match self {
            Tls::V12 => "TLS 1.2",
            Tls::V13 => "TLS 1.3",
        }
    }
    fn version(self) -> SslVersion {
        match self {
            Tls::V12 => SslVersion::TLS1_2,
            Tls::V13 => SslVersion::TLS1_3,
        }
    }
}

/// One measurement: handshakes completed in a time.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub handshakes: u64,
    pub elapsed: Duration,
    /// For resumed runs: how many of the handshakes really resumed.
    pub resumed: u64,
}

impl Rate {
    pub fn per_second(&self) -> f64 {
        self.handshakes as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// `openssl s_server -www` on an ephemeral port, through the test kit's guard (killed on
/// drop, and with this program if it dies). A missing `openssl` says how to install it.
fn s_server(files: &certs::Files) -> Result<testkit::peers::SServer> {
    let cert = files.dir().join("server.crt");
    let key = files.dir().join("server.key");
    let args = [
        "-www".to_string(),
        "-cert".into(),
        cert.display().to_string(),
        "-key".into(),
        key.display().to_string(),
    ];
    testkit::peers::SServer::try_start(&args)
        .map_err(|e| anyhow!("{e}\n(`{} doctor` says how to install openssl)", ui::me()))
}

/// One connection: handshake, a GET, the whole reply, close_notify. Returns the session
/// (after the data was read: a TLS 1.3 ticket arrives after the handshake) and whether
/// this handshake resumed.
fn one(
    connector: &SslConnector,
    addr: SocketAddr,
    session: Option<&SslSession>,
) -> Result<(SslSession, bool)> {
    let mut tls = open(connector, addr, session)?;
    tls.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
    let mut reply = Vec::new();
    let _ = tls.read_to_end(&mut reply);
    let resumed = tls.ssl().session_reused();
    let _ = tls.shutdown();
    let s = tls
        .ssl()
        .session()
        .map(|s| s.to_owned())
        .ok_or_else(|| anyhow!("the connection has no session"))?;
    Ok((s, resumed))
}

/// A TLS connection to `addr` as `localhost`, offering `session`: the handshake done.
fn open(
    connector: &SslConnector,
    addr: SocketAddr,
    session: Option<&SslSession>,
) -> Result<SslStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).context("connect")?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
    tcp.set_write_timeout(Some(Duration::from_secs(10)))?;
    tcp.set_nodelay(true)?;
    let mut ssl = connector.configure()?.into_ssl("localhost")?;
    if let Some(s) = session {
        // SAFETY: the session came from a connection made with this same connector's context.
        unsafe { ssl.set_session(s)? };
    }
    ssl.connect(tcp)
        .map_err(|e| anyhow!("handshake failed: {e}"))
}

/// Handshakes against `addr` for `time`, full (`resume` false) or resumed.
pub fn measure(
    addr: SocketAddr,
    ca: &std::path::Path,
    tls: Tls,
    resume: bool,
    time: Duration,
) -> Result<Rate> {
    let mut b = SslConnector::builder(SslMethod::tls_client())?;
    b.set_ca_file(ca)?;
    b.set_min_proto_version(Some(tls.version()))?;
    b.set_max_proto_version(Some(tls.version()))?;
    let connector = b.build();
    measure_with(resume, time, |s| one(&connector, addr, s))
}

/// Connections made by `connect` for `time`, each offering the session of the one before
/// when `resume` is set.
fn measure_with(
    resume: bool,
    time: Duration,
    mut connect: impl FnMut(Option<&SslSession>) -> Result<(SslSession, bool)>,
) -> Result<Rate> {
    let (mut session, _) = connect(None).context("the first connection")?;
    let start = Instant::now();
    let mut rate = Rate {
        handshakes: 0,
        elapsed: Duration::ZERO,
        resumed: 0,
    };
    while start.elapsed() < time {
        let (s, resumed) = connect(resume.then_some(&session))?;
        rate.handshakes += 1;
        if resumed {
            rate.resumed += 1;
        }
        session = s;
    }
    rate.elapsed = start.elapsed();
    Ok(rate)
}

fn cell(r: &Rate) -> String {
    format!("{:>7.0}/s", r.per_second())
}

/// A full and a resumed measurement of one server.
struct Row {
    full: Rate,
    resumed: Rate,
}

/// Measures the server at `addr`, full then resumed.
fn row(addr: SocketAddr, ca: &Path, tls: Tls, time: Duration) -> Result<Row> {
    let full = measure(addr, ca, tls, false, time).context("full handshakes")?;
    let resumed = measure(addr, ca, tls, true, time).context("resumed handshakes")?;
    Ok(Row { full, resumed })
}

/// Builds chapter 12's server program of `package` (the exercise or the solution) and
/// starts it, serving the workbook's server certificate.
fn chapter_server(
    root: &Path,
    package: &str,
    files: &certs::Files,
) -> Result<testkit::process::Process> {
    let bin = format!("{package}-server");
    let chain = files.path("server.chain.crt").display().to_string();
    let key = files.path("server.key").display().to_string();
    start_program(
        root,
        package,
        &bin,
        &["--features", "bench-server"],
        &[chain, key],
    )
}

/// Builds program `bin` of `package` (with `features`, cargo's flags) and starts it with
/// `args`, until it prints its LISTENING line.
fn start_program(
    root: &Path,
    package: &str,
    bin: &str,
    features: &[&str],
    args: &[String],
) -> Result<testkit::process::Process> {
    let out = grade::cargo()
        .current_dir(root)
        .args(["build", "-q", "-p", package])
        .args(features)
        .args(["--bin", bin])
        .output()
        .with_context(|| format!("cannot run cargo build -p {package}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        bail!(
            "{package} does not build: {}",
            grade::cargo_error(&err).unwrap_or_else(|| err
                .lines()
                .take(3)
                .collect::<Vec<_>>()
                .join(" "))
        );
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| if t.is_absolute() { t } else { root.join(t) })
        .unwrap_or_else(|| root.join("target"));
    let program = target.join("debug").join(bin);
    let mut p = testkit::process::Process::try_spawn(
        &program.display().to_string(),
        args,
        &[("RUST_BACKTRACE", "0")],
    )
    .map_err(|e| anyhow!("{e}"))?;
    p.wait_for_line("LISTENING ", START)
        .map_err(|e| anyhow!("{bin} did not start: {e}"))?;
    Ok(p)
}

/// The address a chapter server printed.
fn listening(p: &testkit::process::Process) -> Result<SocketAddr> {
    testkit::process::whole_line_after(&p.stdout(), "LISTENING ")
        .and_then(|a| a.trim().parse().ok())
        .ok_or_else(|| anyhow!("no address in the server's output:\n{}", p.transcript()))
}

/// What a chapter's server said, when it says the exercise is unsolved: that, in a line.
fn unsolved(said: &str) -> Option<String> {
    said.contains("not yet implemented")
        .then(|| "not solved yet: the exercise still has its todo!()s".to_string())
}

/// Measures one of chapter 12's servers; an error says why there is no number, in a line.
fn measure_chapter(
    root: &Path,
    package: &str,
    files: &certs::Files,
    tls: Tls,
    time: Duration,
) -> std::result::Result<Row, String> {
    let p = chapter_server(root, package, files).map_err(|e| {
        let e = format!("{e:#}");
        unsolved(&e).unwrap_or_else(|| e.lines().next().unwrap_or("").to_string())
    })?;
    let addr = listening(&p).map_err(|e| format!("{e:#}"))?;
    let ca = files.path("ca.crt");
    row(addr, &ca, tls, time).map_err(|e| {
        let said = p.stderr();
        unsolved(&said).unwrap_or_else(|| {
            let first = said.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            format!("{e:#} {first}").trim().to_string()
        })
    })
}

fn print_row(name: &str, r: &std::result::Result<Row, String>, reference: Option<&Row>) {
    match r {
        Ok(row) => {
            let mut notes = vec![format!(
                "resumed is {:.1}x full",
                row.resumed.per_second() / row.full.per_second().max(1e-9)
            )];
            if let Some(s) = reference {
                notes.push(format!(
                    "{:.2}x and {:.2}x s_server",
                    row.full.per_second() / s.full.per_second().max(1e-9),
                    row.resumed.per_second() / s.resumed.per_second().max(1e-9)
                ));
            }
            if row.resumed.resumed < row.resumed.handshakes {
                notes.push(format!(
                    "{} of {} did not resume",
                    row.resumed.handshakes - row.resumed.resumed,
                    row.resumed.handshakes
                ));
            }
            println!(
                "  {:<20} {:>9}  {:>9}  {}",
                name,
                cell(&row.full),
                cell(&row.resumed),
                ui::dim(format!("({})", notes.join("; ")))
            );
        }
        Err(why) => println!("  {:<20} {:>9}  {:>9}  {}", name, "-", "-", ui::dim(why)),
    }
}

/// Runs the benchmark and prints the table.
pub fn run(root: &Path, chapters: &[Chapter], seconds: u64, tls: Tls) -> Result<()> {
    if seconds == 0 {
        bail!("--seconds must be at least 1");
    }
    let time = Duration::from_secs(seconds);
    let files = certs::Files::new().context("cannot write the certificate set")?;
    let ca = files.dir().join("ca.crt");
    println!(
        "Handshakes per second, {}, {seconds} s per column, one in-process OpenSSL client on 127.0.0.1.",
        tls.name()
    );
    println!("Each connection: handshake, GET /, the whole reply, close_notify.\n");

    let server = s_server(&files)?;
    let spin = ui::spinner("openssl s_server".into());
    let reference = row(server.addr, &ca, tls, time);
    drop(server);
    let reference = reference.context("measuring openssl s_server")?;

    let chapter = chapters.iter().find(|c| c.number == RESUMPTION);
    let (yours, solution) = match chapter {
        Some(ch) => {
            spin.set_message("your server (chapter 12)");
            let yours = measure_chapter(root, &ch.exercise_package(), &files, tls, time);
            spin.set_message("the reference solution (chapter 12)");
            let solution = measure_chapter(root, &ch.solution_package(), &files, tls, time);
            (yours, solution)
        }
        None => {
            let has_capstone = chapters.iter().any(|c| c.number == CAPSTONE);
            let missing = if has_capstone {
                format!("needs chapter {RESUMPTION} (resumption): not in this workbook yet")
            } else {
                format!(
                    "needs chapter {RESUMPTION} (resumption) and chapter {CAPSTONE} (capstone): \
                     not in this workbook yet"
                )
            };
            (Err(missing.clone()), Err(missing))
        }
    };
    spin.finish_and_clear();

    println!("  {:<20} {:>9}  {:>9}", "server", "full", "resumed");
    print_row("yours", &yours, Some(&reference));
    print_row("reference solution", &solution, Some(&reference));
    print_row("openssl s_server", &Ok(reference), None);
    if let Some(ch) = chapters.iter().find(|c| c.number == CAPSTONE) {
        capstone(root, ch, &files, tls, time)?;
    }
    println!(
        "\nThe numbers are this machine's, now: another program busy on the same cores lowers them."
    );
    Ok(())
}

/// The capstone's table: its servers and `openssl s_server -rev`, mutual TLS.
fn capstone(
    root: &Path,
    ch: &Chapter,
    files: &certs::Files,
    tls: Tls,
    time: Duration,
) -> Result<()> {
    println!(
        "\nThe capstone (chapter {CAPSTONE}), {}, a client certificate required: handshakes per \
         second\n(one line echoed each) and the bulk echo in MB/s (64 KiB of 1 KiB lines out, the \
         same back).\n",
        tls.name()
    );
    let spin = ui::spinner("openssl s_server -rev".into());
    let server = s_server_rev(files)?;
    let reference = capstone_row(server.addr, files, tls, time);
    drop(server);
    let reference = reference.context("measuring openssl s_server -rev")?;
    spin.set_message("your tls-echo-server (chapter 15)");
    let yours = measure_capstone(
        root,
        &ch.exercise_package(),
        "tls-echo-server",
        files,
        tls,
        time,
    );
    spin.set_message("the reference tls-echo-server (chapter 15)");
    let solution = measure_capstone(
        root,
        &ch.solution_package(),
        "tls-echo-server-solution",
        files,
        tls,
        time,
    );
    spin.finish_and_clear();
    println!(
        "  {:<22} {:>9}  {:>9}  {:>11}",
        "server", "full", "resumed", "bulk"
    );
    print_capstone_row("yours", &yours, Some(&reference));
    print_capstone_row("reference solution", &solution, Some(&reference));
    print_capstone_row("openssl s_server -rev", &Ok(reference), None);
    Ok(())
}

/// Full and resumed handshakes, and the bulk rate, of one echo server.
struct CapstoneRow {
    handshakes: Row,
    /// Megabytes (10^6 bytes) echoed per second.
    bulk: f64,
}

/// `openssl s_server -rev` with the capstone's identity and its demand for a client
/// certificate from the workbook's CA.
fn s_server_rev(files: &certs::Files) -> Result<testkit::peers::SServer> {
    let p = |n: &str| files.path(n).display().to_string();
    let args = [
        "-rev".to_string(),
        "-cert".into(),
        p("server-chain.chain.crt"),
        // -cert reads the first certificate of the file only; the intermediate comes here.
        "-cert_chain".into(),
        p("server-chain.chain.crt"),
        "-key".into(),
        p("server-chain.key"),
        "-Verify".into(),
        "1".into(),
        "-CAfile".into(),
        p("ca.crt"),
    ];
    testkit::peers::SServer::try_start(&args)
        .map_err(|e| anyhow!("{e}\n(`{} doctor` says how to install openssl)", ui::me()))
}

/// The measuring client of the capstone: `tls` only, trusting the workbook's root and
/// presenting the workbook's client certificate.
fn capstone_connector(files: &certs::Files, tls: Tls) -> Result<SslConnector> {
    let mut b = SslConnector::builder(SslMethod::tls_client())?;
    b.set_ca_file(files.path("ca.crt"))?;
    b.set_certificate_file(files.path("client.crt"), SslFiletype::PEM)?;
    b.set_private_key_file(files.path("client.key"), SslFiletype::PEM)?;
    b.set_min_proto_version(Some(tls.version()))?;
    b.set_max_proto_version(Some(tls.version()))?;
    Ok(b.build())
}

/// One line: s_server -rev sends it back reversed, an echo server as it is; the same length.
const LINE: &[u8] = b"hello, capstone\n";

/// One echo connection: handshake, a line and its answer, close_notify both ways.
fn echo_once(
    connector: &SslConnector,
    addr: SocketAddr,
    session: Option<&SslSession>,
) -> Result<(SslSession, bool)> {
    let mut tls = open(connector, addr, session)?;
    tls.write_all(LINE)?;
    let mut back = [0u8; LINE.len()];
    tls.read_exact(&mut back).context("the line's answer")?;
    let resumed = tls.ssl().session_reused();
    let _ = tls.shutdown();
    let _ = tls.read_to_end(&mut Vec::new());
    let s = tls
        .ssl()
        .session()
        .map(|s| s.to_owned())
        .ok_or_else(|| anyhow!("the connection has no session"))?;
    Ok((s, resumed))
}

/// 64 lines of 1 KiB, none of them a command to s_server ("CLOSE" ends its connection).
fn bulk_lines() -> Vec<u8> {
    const LEN: usize = 1024;
    (0..64 * LEN)
        .map(|i| {
            if i % LEN == LEN - 1 {
                b'\n'
            } else {
                b'a' + (i % 26) as u8
            }
        })
        .collect()
}

/// MB/s echoed through one connection for `time`: 64 KiB out, then all of it back.
fn bulk(connector: &SslConnector, addr: SocketAddr, time: Duration) -> Result<f64> {
    let mut tls = open(connector, addr, None)?;
    let out = bulk_lines();
    let mut back = vec![0u8; out.len()];
    let mut bytes = 0u64;
    let start = Instant::now();
    while start.elapsed() < time {
        tls.write_all(&out)?;
        tls.read_exact(&mut back).context("the echo of 64 KiB")?;
        bytes += out.len() as u64;
    }
    let elapsed = start.elapsed().as_secs_f64().max(1e-9);
    let _ = tls.shutdown();
    Ok(bytes as f64 / 1e6 / elapsed)
}

fn capstone_row(
    addr: SocketAddr,
    files: &certs::Files,
    tls: Tls,
    time: Duration,
) -> Result<CapstoneRow> {
    let connector = capstone_connector(files, tls)?;
    let full =
        measure_with(false, time, |s| echo_once(&connector, addr, s)).context("full handshakes")?;
    let resumed = measure_with(true, time, |s| echo_once(&connector, addr, s))
        .context("resumed handshakes")?;
    let bulk = bulk(&connector, addr, time).context("the bulk echo")?;
    Ok(CapstoneRow {
        handshakes: Row { full, resumed },
        bulk,
    })
}

/// Builds and starts `bin` of the capstone's `package`; an error says why there is no
/// number, in a line.
fn measure_capstone(
    root: &Path,
    package: &str,
    bin: &str,
    files: &certs::Files,
    tls: Tls,
    time: Duration,
) -> std::result::Result<CapstoneRow, String> {
    let p = |n: &str| files.path(n).display().to_string();
    let args = [
        "--cert".to_string(),
        p("server-chain.chain.crt"),
        "--key".into(),
        p("server-chain.key"),
        "--client-ca".into(),
        p("ca.crt"),
        "--port".into(),
        "0".into(),
    ];
    let server = start_program(root, package, bin, &[], &args).map_err(|e| {
        let e = format!("{e:#}");
        unsolved(&e).unwrap_or_else(|| e.lines().next().unwrap_or("").to_string())
    })?;
    let addr = listening(&server).map_err(|e| format!("{e:#}"))?;
    capstone_row(addr, files, tls, time).map_err(|e| {
        let said = server.stderr();
        unsolved(&said).unwrap_or_else(|| format!("{e:#}"))
    })
}

fn print_capstone_row(
    name: &str,
    r: &std::result::Result<CapstoneRow, String>,
    reference: Option<&CapstoneRow>,
) {
    match r {
        Ok(row) => {
            let h = &row.handshakes;
            let mut notes = Vec::new();
            if let Some(s) = reference {
                let x = |a: f64, b: f64| a / b.max(1e-9);
                notes.push(format!(
                    "{:.2}x, {:.2}x and {:.2}x s_server",
                    x(h.full.per_second(), s.handshakes.full.per_second()),
                    x(h.resumed.per_second(), s.handshakes.resumed.per_second()),
                    x(row.bulk, s.bulk)
                ));
            }
            if h.resumed.resumed < h.resumed.handshakes {
                notes.push(format!(
                    "{} of {} did not resume",
                    h.resumed.handshakes - h.resumed.resumed,
                    h.resumed.handshakes
                ));
            }
            let note = if notes.is_empty() {
                String::new()
            } else {
                format!("({})", notes.join("; "))
            };
            println!(
                "  {:<22} {:>9}  {:>9}  {:>6.0} MB/s  {}",
                name,
                cell(&h.full),
                cell(&h.resumed),
                row.bulk,
                ui::dim(note)
            );
        }
        Err(why) => println!(
            "  {:<22} {:>9}  {:>9}  {:>11}  {}",
            name,
            "-",
            "-",
            "-",
            ui::dim(why)
        ),
    }
}
