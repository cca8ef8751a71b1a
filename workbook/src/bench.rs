//! `workbook bench`: handshakes per second, full and resumed, of the learner's server, the
//! reference solution and `openssl s_server`, side by side, all measured with the same
//! in-process client on 127.0.0.1.
//!
//! The learner's and the reference server come from chapter 12 (resumption) and chapter 15
//! (the capstone). Until those chapters exist, their columns say so: no number is ever
//! made up.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use openssl::ssl::{SslConnector, SslMethod, SslSession, SslVersion};

use crate::manifest::Chapter;
use crate::ui;

/// The chapters whose code the learner and reference columns need.
const RESUMPTION: u32 = 12;
const CAPSTONE: u32 = 15;

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
    let tcp = TcpStream::connect(addr).context("connect")?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
    tcp.set_write_timeout(Some(Duration::from_secs(10)))?;
    tcp.set_nodelay(true)?;
    let mut ssl = connector.configure()?.into_ssl("localhost")?;
    if let Some(s) = session {
        // SAFETY: the session came from a connection made with this same connector's context.
        unsafe { ssl.set_session(s)? };
    }
    let mut tls = ssl
        .connect(tcp)
        .map_err(|e| anyhow!("handshake failed: {e}"))?;
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
    let (mut session, _) = one(&connector, addr, None).context("the first connection")?;
    let start = Instant::now();
    let mut rate = Rate {
        handshakes: 0,
        elapsed: Duration::ZERO,
        resumed: 0,
    };
    while start.elapsed() < time {
        let (s, resumed) = one(&connector, addr, resume.then_some(&session))?;
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

/// Runs the benchmark and prints the table.
pub fn run(chapters: &[Chapter], seconds: u64, tls: Tls) -> Result<()> {
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
    let spin = ui::spinner("openssl s_server: full handshakes".into());
    let full = measure(server.addr, &ca, tls, false, time);
    spin.set_message("openssl s_server: resumed handshakes");
    let resumed = measure(server.addr, &ca, tls, true, time);
    spin.finish_and_clear();
    drop(server);
    let full = full.context("measuring full handshakes with openssl s_server")?;
    let resumed = resumed.context("measuring resumed handshakes with openssl s_server")?;

    let has = |n: u32| chapters.iter().any(|c| c.number == n);
    let missing = match (has(RESUMPTION), has(CAPSTONE)) {
        (false, false) => format!(
            "needs chapter {RESUMPTION} (resumption) and chapter {CAPSTONE} (capstone): not in this workbook yet"
        ),
        (true, false) => format!("needs chapter {CAPSTONE} (capstone): not in this workbook yet"),
        (false, true) => format!("needs chapter {RESUMPTION} (resumption): not in this workbook yet"),
        (true, true) => format!(
            "chapters {RESUMPTION} and {CAPSTONE} exist, but this workbook does not know how to \
             start their server yet"
        ),
    };
    println!("  {:<20} {:>9}  {:>9}", "server", "full", "resumed");
    println!(
        "  {:<20} {:>9}  {:>9}  {}",
        "yours",
        "-",
        "-",
        ui::dim(&missing)
    );
    println!(
        "  {:<20} {:>9}  {:>9}  {}",
        "reference solution",
        "-",
        "-",
        ui::dim(&missing)
    );
    let ratio = resumed.per_second() / full.per_second().max(1e-9);
    println!(
        "  {:<20} {:>9}  {:>9}  {}",
        "openssl s_server",
        cell(&full),
        cell(&resumed),
        ui::dim(format!(
            "({} full in {:.1} s; {} resumed of {} in {:.1} s; resumed is {ratio:.1}x)",
            full.handshakes,
            full.elapsed.as_secs_f64(),
            resumed.resumed,
            resumed.handshakes,
            resumed.elapsed.as_secs_f64()
        ))
    );
    if resumed.resumed < resumed.handshakes {
        println!(
            "\n{} {} of {} \"resumed\" connections did a full handshake: the server did not accept the session.",
            ui::note("note:"),
            resumed.handshakes - resumed.resumed,
            resumed.handshakes
        );
    }
    println!(
        "\nThe numbers are this machine's, now: another program busy on the same cores lowers them."
    );
    Ok(())
}
