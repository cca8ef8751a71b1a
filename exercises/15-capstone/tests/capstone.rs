//! Chapter 15, the capstone: `tls-echo-server` and `tls-echo-client` as programs, run as a
//! user would run them. Their command lines (`assert_cmd`); the two together; the server
//! against `openssl s_client`, `curl` and Python's `ssl`; the client against
//! `openssl s_server`; and the faults of `bad-peers.md` (1-10, 18-22), after each of which
//! the server still serves a good client. Every program runs under a guard (`harness/`).

mod harness;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use certs::Files;
use harness::{
    client_args, client_program, connector, echo, open, pattern, run_client, server_args,
    server_program, still_serves, Server,
};
use openssl::ssl::{ShutdownState, SslSession, SslVersion};
use testkit::peers::{self, SServer};
use testkit::process::Process;

testkit::no_system_trust!();

/// How long a client program may take for its few connections.
const CLIENT_LIMIT: Duration = Duration::from_secs(15);
/// How long s_client, curl or Python may take.
const PEER_LIMIT: Duration = Duration::from_secs(10);

fn path(files: &Files, name: &str) -> String {
    files.path(name).display().to_string()
}

/// A one-shot command with a time limit: `--help`, a bad flag, a bad file.
fn cmd(program: &str) -> Command {
    let mut c = Command::new(program);
    c.timeout(Duration::from_secs(10));
    c
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn command_lines_are_checked_and_documented() {
    let files = Files::new().expect("certificates");
    for (program, flags) in [
        (
            server_program(),
            &["--client-ca", "--max-connections", "--idle-timeout"][..],
        ),
        (client_program(), &["--connect", "--reconnect", "--crl"][..]),
    ] {
        let out = cmd(program).arg("--help").output().expect("--help runs");
        let help = text(&out.stdout);
        assert!(out.status.success(), "{program} --help exits 0");
        for f in flags
            .iter()
            .chain(&["Exit codes", "TLS_ECHO_KEY_PASSPHRASE"])
        {
            assert!(help.contains(f), "{program} --help names {f:?}:\n{help}");
        }
        let bad = cmd(program).arg("--no-such-flag").output().expect("runs");
        assert_eq!(bad.status.code(), Some(2), "a bad flag is exit code 2");
        assert!(
            text(&bad.stderr).contains("--no-such-flag"),
            "the error names the flag"
        );
    }
    let bad_port = cmd(server_program())
        .args(server_args(&files))
        .args(["--port", "http"])
        .output()
        .expect("runs");
    assert_eq!(
        bad_port.status.code(),
        Some(2),
        "--port http is a usage error"
    );

    // bad-peers 14-17: every bad file is exit code 3 and a sentence that names it.
    let garbage = files.dir().join("garbage.pem");
    std::fs::write(&garbage, "this is not PEM\n").expect("write");
    let garbage = garbage.display().to_string();
    let missing = files.dir().join("missing.crt").display().to_string();
    let (server_crt, server_key) = (path(&files, "server.crt"), path(&files, "server.key"));
    let client_key = path(&files, "client.key");
    let enc_key = path(&files, "server.enc.key");
    let cases: [(&str, &str, Option<&str>, &str); 5] = [
        (&missing, &server_key, None, "missing.crt"),
        (&garbage, &server_key, None, "no PEM certificate"),
        (&server_crt, &client_key, None, "does not belong"),
        (&server_crt, &enc_key, None, "encrypted"),
        (&server_crt, &enc_key, Some("wrong"), "bad decrypt"),
    ];
    for (cert, key, pass, says) in cases {
        let mut c = cmd(server_program());
        c.args([
            "--cert",
            cert,
            "--key",
            key,
            "--client-ca",
            &path(&files, "ca.crt"),
        ]);
        c.args(["--port", "0"]);
        match pass {
            Some(p) => c.env("TLS_ECHO_KEY_PASSPHRASE", p),
            None => c.env_remove("TLS_ECHO_KEY_PASSPHRASE"),
        };
        let out = c.output().expect("runs");
        let err = text(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(3),
            "--cert {cert} --key {key}: a file that cannot be used is exit code 3 ({err})"
        );
        assert!(err.contains(says), "the error says {says:?}: {err}");
    }
    let out = cmd(client_program())
        .args(["--connect", "127.0.0.1:9", "--ca", &missing])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(3),
        "a missing --ca file is exit code 3"
    );
    assert!(
        text(&out.stderr).contains("missing.crt"),
        "and names the file"
    );
    // A revocation list that does not read is refused at start, not taken for an empty one.
    let ca = path(&files, "ca.crt");
    let out = cmd(client_program())
        .args(["--connect", "127.0.0.1:9", "--ca", &ca, "--crl", &garbage])
        .output()
        .expect("runs");
    let err = text(&out.stderr);
    assert!(
        out.status.code() == Some(3) && err.contains("garbage.pem") && err.contains("revocation"),
        "--crl with a file that holds no revocation list is exit code 3 and a sentence naming \
         the file, before any connection: exited {:?}, said {err:?}",
        out.status.code()
    );

    // The right passphrase, in the variable: the server starts and serves.
    let mut args = server_args(&files);
    let at = args.iter().position(|a| a == "--key").unwrap() + 1;
    args[at] = path(&files, "server-chain.enc.key");
    let mut p = Process::try_spawn(
        server_program(),
        &args,
        &[("TLS_ECHO_KEY_PASSPHRASE", certs::PASSPHRASE)],
    )
    .expect("start");
    let listening = p.wait_for_line("LISTENING ", harness::START);
    let listening = listening.unwrap_or_else(|e| {
        harness::pass_on_todo(&p.stderr());
        panic!("with its passphrase in TLS_ECHO_KEY_PASSPHRASE, an encrypted key works: {e}")
    });
    let server = Server {
        addr: listening.parse().expect("an address"),
        process: p,
    };
    still_serves(&server, "starting with an encrypted key");
}

#[test]
fn the_two_programs_talk_and_resume() {
    let files = Files::new().expect("certificates");
    // A short idle timeout: a client that never sends close_notify is found in 2 s.
    let server = Server::start(&files, &["--idle-timeout", "2"]);
    for (version, protocol) in [("1.3", "TLSv1.3"), ("1.2", "TLSv1.2")] {
        let before = server.logs().len();
        let args = client_args(
            &files,
            server.addr,
            &[
                "--reconnect",
                "2",
                "--max-version",
                version,
                "--timeout",
                "5",
            ],
        );
        let run = run_client(&args, b"hello, capstone\n", CLIENT_LIMIT);
        let logs = server.wait_logs(before + 3, Duration::from_secs(10));
        let logs = &logs[before..];
        if !run.success() || run.stdout != "hello, capstone\n".repeat(3) {
            server.fail(&format!(
                "tls-echo-client --reconnect 2 (TLS {version}) should print its line three times \
                 and exit 0; it printed {:?} and exited {:?}\n{}",
                run.stdout,
                run.code(),
                run.transcript
            ));
        }
        let resumed: Vec<String> = logs.iter().map(|l| l.get("resumed")).collect();
        if resumed != ["no", "yes", "yes"] {
            server.fail(&format!(
                "three connections in a row under TLS {version}, each offering the session of the \
                 one before: the server's log says resumed={resumed:?}, not [no, yes, yes]. The \
                 client must take its session after reading the echo (a TLS 1.3 ticket comes \
                 after the handshake), and with client certificates the server resumes only in a \
                 context that has a session id context.\nclient: {}",
                run.stderr
            ));
        }
        if run.stderr.matches("resumed=yes").count() != 2 {
            server.fail(&format!(
                "the client says how each connection went, and should report resumed=yes \
                 twice:\n{}",
                run.stderr
            ));
        }
        for l in logs {
            let ok = l.get("client") == "workbook client"
                && l.get("protocol") == protocol
                && l.get("end") == "close_notify"
                && l.get("bytes") == "16";
            if !ok {
                server.fail(&format!(
                    "each log line names the client's certificate (\"workbook client\"), the \
                     protocol ({protocol}), 16 bytes echoed and end=close_notify (the client \
                     sent close_notify after its input, the server answered). This one says:\n  \
                     {}",
                    l.line
                ));
            }
            let cipher = l.get("cipher");
            assert!(
                ["GCM", "CHACHA20"].iter().any(|a| cipher.contains(a)),
                "an AEAD cipher: {cipher}"
            );
        }
    }
}

#[test]
fn a_large_input_comes_back_whole() {
    let files = Files::new().expect("certificates");
    let server = Server::start(&files, &[]);
    // Far more than the socket buffers of both directions hold: a client that sends it all
    // before it reads waits on a server that waits on it.
    const BYTES: usize = 24 * 1024 * 1024;
    let input: Vec<u8> = (0..BYTES).map(|i| b'a' + (i % 26) as u8).collect();
    let args = client_args(&files, server.addr, &["--timeout", "5"]);
    let run = run_client(&args, &input, Duration::from_secs(40));
    let out = run.stdout.as_bytes();
    if !run.success() || out != input.as_slice() {
        let same = out.iter().zip(&input).take_while(|(a, b)| a == b).count();
        server.fail(&format!(
            "tls-echo-client with 24 MiB on its standard input should print all of it back and \
             exit 0; it printed {} bytes (the first {same} right) and exited {:?}. Send a piece \
             at a time and read that piece's echo before the next: the server echoes as it reads, \
             so a client that sends everything first fills both directions' buffers and both \
             sides wait for ever. Stop sending only when the server has ended.\nclient: {}",
            out.len(),
            run.code(),
            run.stderr
        ));
    }
}

#[test]
fn s_client_is_served_and_resumes() {
    let files = Files::new().expect("certificates");
    let server = Server::start(&files, &[]);
    let sess = files.dir().join("s_client.session");
    let mut args = peers::verifying_client_args(&files);
    args.extend(["-cert", "client.crt", "-key", "client.key"].map(|a| {
        if a.ends_with(".crt") || a.ends_with(".key") {
            path(&files, a)
        } else {
            a.to_string()
        }
    }));
    let mut first_args = args.clone();
    first_args.extend(["-sess_out".to_string(), peers::arg(&sess)]);
    let mut p = peers::s_client(server.addr, &first_args);
    let _ = p.send(b"hello from s_client\n");
    // The echo, then stdin's end: s_client sends close_notify.
    let got = p.wait_for("hello from s_client", PEER_LIMIT);
    if let Err(e) = got {
        server.fail(&format!(
            "openssl s_client got no echo from the server: {e}"
        ));
    }
    p.close_stdin();
    let first = peers::finish(p, PEER_LIMIT);
    let logs = server.wait_logs(1, PEER_LIMIT);
    if logs[0].get("end") != "close_notify" || logs[0].get("client") != "workbook client" {
        server.fail(&format!(
            "s_client sent close_notify at the end of its input; the log line should say \
             client=\"workbook client\" and end=close_notify:\n  {}\n{}",
            logs[0].line, first.transcript
        ));
    }
    let mut second_args = args;
    second_args.extend(["-sess_in".to_string(), peers::arg(&sess)]);
    let second = peers::run_s_client(server.addr, &second_args.clone(), b"again\n", PEER_LIMIT);
    if !second.stdout.contains("Reused, TLSv1.3") {
        server.fail(&format!(
            "openssl s_client offered the session the server gave it, and the server did not \
             resume it (s_client says New, not Reused).\n{}",
            second.transcript
        ));
    }
    // bad-peers 23: the same session offered to another server process (its ticket keys are
    // its own) is a full handshake, served, and logged as one.
    let other = Server::start(&files, &[]);
    let third = peers::run_s_client(other.addr, &second_args, b"elsewhere\n", PEER_LIMIT);
    let logs = other.wait_logs(1, PEER_LIMIT);
    if logs[0].get("bytes") != "10" || logs[0].get("resumed") != "no" {
        other.fail(&format!(
            "a session from another server is no use here: the server must do a full \
             handshake, serve the client and log resumed=no (report what OpenSSL decided, \
             session_reused(), not what the client offered). s_client said {}; the log \
             says:\n  {}",
            if third.stdout.contains("Reused") {
                "Reused"
            } else {
                "New"
            },
            logs[0].line
        ));
    }
}

#[test]
fn curl_is_served_and_refused_without_a_certificate() {
    let files = Files::new().expect("certificates");
    // curl reads an HTTP/0.9 answer until the server closes: the idle timeout does that.
    let server = Server::start(&files, &["--idle-timeout", "1"]);
    let with = peers::curl(
        &files,
        server.addr,
        &[
            "--http0.9",
            "--cert",
            &path(&files, "client.crt"),
            "--key",
            &path(&files, "client.key"),
        ],
        PEER_LIMIT,
    );
    if !with.success() || !with.stdout.starts_with("GET / HTTP/1.1\r\n") {
        server.fail(&format!(
            "curl with a client certificate should get its own request back (the server \
             echoes it) and exit 0 after the server's close_notify; it exited {:?}\n{}",
            with.code(),
            with.transcript
        ));
    }
    let logs = server.wait_logs(1, PEER_LIMIT);
    assert_eq!(logs[0].get("end"), "idle-timeout", "{}", logs[0].line);
    let without = peers::curl(&files, server.addr, &["--http0.9"], PEER_LIMIT);
    let logs = server.wait_logs(2, PEER_LIMIT);
    if without.success() || logs[1].get("end") != "handshake-failed" {
        server.fail(&format!(
            "curl without a client certificate must be refused by the handshake; curl exited \
             {:?} and the log says:\n  {}",
            without.code(),
            logs[1].line
        ));
    }
}

/// A Python `ssl` client: mutual TLS, 100 kB in pieces, then `unwrap()` (close_notify both
/// ways).
const PYTHON_CLIENT: &str = r#"
import socket, ssl, sys
port, ca, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
ctx.load_cert_chain(cert, key)
raw = socket.create_connection(("127.0.0.1", port), timeout=10)
s = ctx.wrap_socket(raw, server_hostname="localhost")
data = bytes(range(256)) * 400
got = bytearray()
for i in range(0, len(data), 16384):
    piece = data[i:i + 16384]
    s.sendall(piece)
    while len(got) < i + len(piece):
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
version = s.version()
s.unwrap()
print("PYTHON", version, len(got), "INTACT" if bytes(got) == data else "DIFFERENT", flush=True)
"#;

#[test]
fn python_ssl_is_served() {
    let files = Files::new().expect("certificates");
    let server = Server::start(&files, &[]);
    let args = [
        "-c".to_string(),
        PYTHON_CLIENT.to_string(),
        server.addr.port().to_string(),
        path(&files, "ca.crt"),
        path(&files, "client.crt"),
        path(&files, "client.key"),
    ];
    let p = Process::try_spawn("python3", &args, &[]).unwrap_or_else(|e| panic!("{e}"));
    let run = peers::finish(p, PEER_LIMIT);
    if !run.stdout.contains("PYTHON TLSv1.3 102400 INTACT") {
        server.fail(&format!(
            "Python's ssl sent 102,400 bytes and should get them all back, then close \
             cleanly (unwrap() waits for the server's close_notify).\n{}",
            run.transcript
        ));
    }
    let logs = server.wait_logs(1, PEER_LIMIT);
    assert_eq!(logs[0].get("bytes"), "102400", "{}", logs[0].line);
    assert_eq!(logs[0].get("end"), "close_notify", "{}", logs[0].line);
}

#[test]
fn the_client_talks_to_s_server() {
    let files = Files::new().expect("certificates");
    // -rev: s_server sends each line back reversed. -Verify 1: it requires a client
    // certificate.
    let server = SServer::with_identity(
        &files,
        "server-chain",
        &["-rev", "-Verify", "1", "-CAfile", &path(&files, "ca.crt")],
    );
    let run = run_client(
        &client_args(&files, server.addr, &[]),
        b"hello\n",
        CLIENT_LIMIT,
    );
    assert!(
        run.success() && run.stdout == "olleh\n",
        "against openssl s_server -rev, the client should print \"olleh\" and exit 0 (after \
         s_server's close_notify); it printed {:?} and exited {:?}\n{}\n{}",
        run.stdout,
        run.code(),
        run.transcript,
        server.transcript()
    );
}

#[test]
fn the_client_refuses_bad_server_certificates() {
    let files = Files::new().expect("certificates");
    // bad-peers 1-7, each with the verify error OpenSSL 3.0.19 gives.
    let cases = [
        ("expired", "(10)", "has expired"),
        ("wrong-host", "(62)", "hostname mismatch"),
        ("self-signed", "(18)", "self-signed"),
        ("untrusted", "(20)", "local issuer"),
        ("missing-intermediate", "(20)", "local issuer"),
        ("too-deep", "(22)", "chain too long"),
        ("revoked", "(23)", "revoked"),
    ];
    for (identity, code, says) in cases {
        let server = SServer::with_identity(&files, identity, &["-rev"]);
        let crl = path(&files, "ca.crl");
        let extra: &[&str] = if identity == "revoked" {
            &["--crl", &crl]
        } else {
            &[]
        };
        let run = run_client(
            &client_args(&files, server.addr, extra),
            b"secret\n",
            CLIENT_LIMIT,
        );
        assert!(
            run.code() == Some(4) && run.stderr.contains(code) && !run.stdout.contains("terces"),
            "a server presenting the {identity} certificate must be refused: exit code 4 and \
             OpenSSL's reason, {says:?} {code}, and nothing sent. The client exited {:?}.\n{}",
            run.code(),
            run.transcript
        );
    }
    // A good server passes the same revocation check.
    let server = SServer::with_identity(&files, "server", &["-rev"]);
    let crl = path(&files, "ca.crl");
    let run = run_client(
        &client_args(&files, server.addr, &["--crl", &crl]),
        b"ok\n",
        CLIENT_LIMIT,
    );
    assert!(
        run.success() && run.stdout == "ko\n",
        "a good server with --crl is accepted\n{}",
        run.transcript
    );
}

#[test]
fn the_client_reports_a_truncated_echo() {
    let files = Files::new().expect("certificates");
    for (mode, what) in [
        (
            "no-close-notify",
            "sends a line and closes TCP without close_notify",
        ),
        ("vanish", "sends half a MiB and vanishes"),
    ] {
        let peer = testkit::py_extra::PyPeer::server(&files, mode);
        let run = run_client(&client_args(&files, peer.addr, &[]), b"", CLIENT_LIMIT);
        assert!(
            run.code() == Some(5) && run.stderr.contains("close_notify"),
            "a server that {what} cut the echo short, maybe: the client must say so (exit code \
             5, a sentence naming the missing close_notify), not exit {:?}. Ok(0) from read \
             comes for a bare TCP close too; only the shutdown state tells it from a \
             close_notify.\n{}",
            run.code(),
            run.transcript
        );
        if mode == "no-close-notify" {
            assert_eq!(run.stdout, "hello\n", "what did come is printed");
        }
    }
}

#[test]
fn clients_without_a_good_certificate_are_refused() {
    let files = Files::new().expect("certificates");
    let server = Server::start(&files, &[]);
    // bad-peers 8 and 10: no certificate at all.
    let mut args = peers::verifying_client_args(&files);
    args.push("-ign_eof".into());
    let none = peers::run_s_client(server.addr, &args, b"let me in\n", PEER_LIMIT);
    let logs = server.wait_logs(1, PEER_LIMIT);
    if none.stdout.contains("let me in") || logs[0].get("end") != "handshake-failed" {
        server.fail(&format!(
            "a client without a certificate must be refused in the handshake (a TLS 1.3 \
             client learns it with alert 116, certificate required), and nothing echoed. \
             verify_result() is OK when no certificate came at all: only FAIL_IF_NO_PEER_CERT \
             makes one required. The log says:\n  {}\n{}",
            logs[0].line, none.transcript
        ));
    }
    // bad-peers 9: a certificate from another CA.
    let run = run_client(
        &{
            let mut a = client_args(&files, server.addr, &[]);
            let at = a.iter().position(|x| x == "--cert").unwrap();
            a[at + 1] = path(&files, "client-other-ca.crt");
            a[at + 3] = path(&files, "client-other-ca.key");
            a
        },
        b"let me in\n",
        CLIENT_LIMIT,
    );
    let logs = server.wait_logs(2, PEER_LIMIT);
    if run.success() || !logs[1].line.contains("client certificate refused") {
        server.fail(&format!(
            "a client whose certificate comes from another CA must be refused, and the log \
             line should say why (client certificate refused: ...):\n  {}\n{}",
            logs[1].line, run.transcript
        ));
    }
    still_serves(&server, "two refused clients");

    // The flag that relaxes it: --client-auth optional serves a client without one.
    let relaxed = Server::start(&files, &["--client-auth", "optional"]);
    let mut args = peers::verifying_client_args(&files);
    let mut p = peers::s_client(relaxed.addr, &{
        args.push("-quiet".into());
        args
    });
    let _ = p.send(b"anonymous\n");
    if let Err(e) = p.wait_for("anonymous", PEER_LIMIT) {
        relaxed.fail(&format!(
            "with --client-auth optional, a client without a certificate is served: {e}"
        ));
    }
}

#[test]
fn the_verify_depth_limits_the_client_chain() {
    let files = Files::new().expect("certificates");
    let chain_args = |addr| {
        let mut a = client_args(&files, addr, &[]);
        let at = a.iter().position(|x| x == "--cert").unwrap();
        a[at + 1] = path(&files, "client-chain.chain.crt");
        a[at + 3] = path(&files, "client-chain.key");
        a
    };
    // By default one intermediate is allowed (OpenSSL 3.0.19: the depth counts the
    // intermediates between the leaf and the trusted root).
    let server = Server::start(&files, &[]);
    let run = run_client(&chain_args(server.addr), b"via\n", CLIENT_LIMIT);
    if !run.success() {
        server.fail(&format!(
            "a client certificate under one intermediate is accepted at the default depth \
             (1)\n{}",
            run.transcript
        ));
    }
    let strict = Server::start(&files, &["--verify-depth", "0"]);
    let run = run_client(&chain_args(strict.addr), b"via\n", CLIENT_LIMIT);
    let logs = strict.wait_logs(1, PEER_LIMIT);
    if run.success() || !logs[0].line.contains("(22)") {
        strict.fail(&format!(
            "with --verify-depth 0 a client certificate under an intermediate must be refused \
             (certificate chain too long, 22): set the context's verify depth from the \
             flag.\n  {}\n{}",
            logs[0].line, run.transcript
        ));
    }
    still_serves(&strict, "a chain too long");
}

#[test]
fn old_versions_and_non_aead_ciphers_are_refused() {
    let files = Files::new().expect("certificates");
    let server = Server::start(&files, &[]);
    let mut base = peers::verifying_client_args(&files);
    base.extend([
        "-cert".to_string(),
        path(&files, "client.crt"),
        "-key".into(),
        path(&files, "client.key"),
    ]);
    for (what, extra) in [
        (
            "a TLS 1.2 client offering only a CBC suite (ECDHE-ECDSA-AES128-SHA256)",
            ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256"],
        ),
        (
            "a TLS 1.1 client",
            ["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"],
        ),
    ] {
        let mut args = base.clone();
        args.extend(extra.iter().map(|s| s.to_string()));
        let before = server.logs().len();
        let run = peers::run_s_client(server.addr, &args, b"", PEER_LIMIT);
        let logs = server.wait_logs(before + 1, PEER_LIMIT);
        if !run.stdout.contains("Cipher is (NONE)") || logs[before].get("end") != "handshake-failed"
        {
            server.fail(&format!(
                "{what} got a connection: TLS 1.2 and 1.3 only, and AEAD ciphers only (GCM, \
                 ChaCha20-Poly1305).\n  {}\n{}",
                logs[before].line, run.transcript
            ));
        }
    }
    still_serves(&server, "refused versions and ciphers");
}

#[test]
fn client_renegotiation_is_refused() {
    let files = Files::new().expect("certificates");
    let server = Server::start(&files, &[]);
    let mut args = peers::verifying_client_args(&files);
    args.extend([
        "-cert".to_string(),
        path(&files, "client.crt"),
        "-key".into(),
        path(&files, "client.key"),
        "-tls1_2".into(),
    ]);
    // "R" on a line of its own: s_client starts a renegotiation.
    let mut p = peers::s_client(server.addr, &args);
    let _ = p.send(b"R\n");
    if let Err(e) = p.wait_for("no renegotiation", PEER_LIMIT) {
        server.fail(&format!(
            "a TLS 1.2 client that renegotiates must be refused (OpenSSL 3 answers with the \
             no_renegotiation alert unless the server allows it): {e}"
        ));
    }
    drop(p);
    still_serves(&server, "a refused renegotiation");
}

#[test]
fn garbage_and_silent_clients_do_not_stop_the_server() {
    let files = Files::new().expect("certificates");
    let server = Server::start(&files, &["--handshake-timeout", "1", "--idle-timeout", "1"]);
    // bad-peers 19: an HTTP request instead of a ClientHello.
    let mut garbage = peers::py_client(&files, server.addr, peers::Misbehaviour::Garbage);
    let _ = garbage.wait_for("DONE", PEER_LIMIT);
    let logs = server.wait_logs(1, PEER_LIMIT);
    assert_eq!(logs[0].get("end"), "handshake-failed", "{}", logs[0].line);
    still_serves(&server, "a client that sent an HTTP request");

    // bad-peers 20: a client that connects and never speaks.
    let started = Instant::now();
    let mut silent = TcpStream::connect(server.addr).expect("connect");
    silent.set_read_timeout(Some(Duration::from_secs(6))).ok();
    let mut buf = [0u8; 1];
    let _ = silent.read(&mut buf);
    let took = started.elapsed();
    if took > Duration::from_secs(4) {
        server.fail(&format!(
            "with --handshake-timeout 1, a client that never speaks was still connected after \
             {} s: a read timeout on the socket before the handshake bounds it (accept() then \
             fails with WouldBlock)",
            took.as_secs()
        ));
    }
    let logs = server.wait_logs(3, PEER_LIMIT);
    assert_eq!(logs[2].get("end"), "handshake-timeout", "{}", logs[2].line);

    // A client that finishes its handshake and goes quiet: closed after the idle timeout,
    // with close_notify.
    let c = connector(SslVersion::TLS1_3);
    let mut quiet = open(&c, server.addr, None).unwrap_or_else(|e| server.fail(&e));
    let started = Instant::now();
    let mut rest = Vec::new();
    let _ = quiet.read_to_end(&mut rest);
    let took = started.elapsed();
    let clean = quiet.get_shutdown().contains(ShutdownState::RECEIVED);
    if took > Duration::from_secs(4) || !clean {
        server.fail(&format!(
            "with --idle-timeout 1, a client silent after its handshake should be closed with \
             close_notify within a second or so; after {:.1} s, close_notify received: {clean}",
            took.as_secs_f64()
        ));
    }
    still_serves(&server, "a silent client");
}

#[test]
fn peers_that_vanish_or_skip_close_notify_do_not_stop_the_server() {
    let files = Files::new().expect("certificates");
    let server = Server::start(&files, &[]);
    let c = connector(SslVersion::TLS1_3);
    // bad-peers 18: a line, its echo, then TCP closed without close_notify.
    let mut s = open(&c, server.addr, None).unwrap_or_else(|e| server.fail(&e));
    s.write_all(b"bye\n").expect("send");
    let mut line = [0u8; 4];
    s.read_exact(&mut line).expect("the echo");
    drop(s); // SSL_free sends nothing: a bare TCP close
    let logs = server.wait_logs(1, PEER_LIMIT);
    if logs[0].get("end") != "truncated" {
        server.fail(&format!(
            "a client that closed TCP without close_notify: the log should say end=truncated \
             (the shutdown state tells it from a clean end), not:\n  {}",
            logs[0].line
        ));
    }
    // bad-peers 21: a client that sends 256 kB without reading, and vanishes.
    let mut s = open(&c, server.addr, None).unwrap_or_else(|e| server.fail(&e));
    let _ = s.write_all(&pattern(1, 256 * 1024));
    drop(s);
    let logs = server.wait_logs(2, PEER_LIMIT);
    let bytes: u64 = logs[1].get("bytes").parse().unwrap_or(u64::MAX);
    if logs[1].get("end") == "close_notify" || bytes > 256 * 1024 {
        server.fail(&format!(
            "a client that vanished mid-transfer ended neither cleanly nor with more than it \
             sent; the log says:\n  {}",
            logs[1].line
        ));
    }
    // A record that does not decrypt: an error on the connection, not a quiet client.
    let mut s = open(&c, server.addr, None).unwrap_or_else(|e| server.fail(&e));
    s.write_all(b"ok\n").expect("send");
    let mut line = [0u8; 3];
    s.read_exact(&mut line).expect("the echo");
    let forged = [&[0x17u8, 0x03, 0x03, 0x00, 0x20][..], &[0x55; 0x20]].concat();
    s.get_mut()
        .write_all(&forged)
        .expect("send the forged record");
    let logs = server.wait_logs(3, PEER_LIMIT);
    if logs[2].get("end") != "error" {
        server.fail(&format!(
            "a client whose record fails to decrypt (someone tampered with the wire) should be \
             logged end=error with the reason: only a read timeout means the client went \
             quiet. The log says:\n  {}",
            logs[2].line
        ));
    }
    still_serves(&server, "peers that vanished");
}

#[test]
fn a_hundred_clients_at_once_are_all_served_intact() {
    let files = Files::new().expect("certificates");
    let server = Server::start(&files, &[]);
    let c = connector(SslVersion::TLS1_3);
    const CLIENTS: usize = 100;
    const BYTES: usize = 40 * 1024;
    let results: Vec<Result<bool, String>> = thread::scope(|scope| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|i| {
                let c = &c;
                let addr = server.addr;
                scope.spawn(move || {
                    let data = pattern(i, BYTES);
                    echo(c, addr, &data, None).map(|e| e.reply == data && e.close_notify)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("panicked".into())))
            .collect()
    });
    let intact = results.iter().filter(|r| matches!(r, Ok(true))).count();
    if intact != CLIENTS {
        let problems: Vec<&String> = results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .take(3)
            .collect();
        server.fail(&format!(
            "{CLIENTS} clients at once, each sending {BYTES} bytes of its own: {intact} got \
             exactly their bytes back and a close_notify. First problems: {problems:?}. Echo \
             every read until the client's close_notify, and serve connections side by side."
        ));
    }
    let logs = server.wait_logs(CLIENTS, PEER_LIMIT);
    assert!(logs.iter().all(|l| l.get("bytes") == BYTES.to_string()));
}

#[test]
fn the_thread_cap_holds() {
    let files = Files::new().expect("certificates");
    let server = Server::start(&files, &["--max-connections", "4"]);
    let idle_threads = server.status("Threads");
    // Twelve clients that connect and say nothing: at most four are being served.
    let silent: Vec<TcpStream> = (0..12)
        .map(|_| TcpStream::connect(server.addr).expect("connect"))
        .collect();
    thread::sleep(Duration::from_millis(500));
    let busy = server.status("Threads");
    if busy > idle_threads + 4 {
        server.fail(&format!(
            "with --max-connections 4, twelve silent clients made the server run {busy} \
             threads ({idle_threads} before them): a thread per connection needs a cap, or \
             any crowd of clients runs the server out of threads and memory. Wait for a free \
             place before accepting; the others wait in the kernel's queue."
        ));
    }
    drop(silent);
    still_serves(&server, "a crowd of silent clients");
}

#[test]
fn a_thousand_connections_keep_memory_bounded() {
    let files = Files::new().expect("certificates");
    let server = Server::start(&files, &[]);
    let c = connector(SslVersion::TLS1_3);
    let mut last: Option<SslSession> = None;
    let mut visit = |i: usize| {
        let e = echo(&c, server.addr, b"x\n", last.as_ref())
            .unwrap_or_else(|e| server.fail(&format!("connection {i} failed: {e}")));
        last = e.session;
    };
    for i in 0..100 {
        visit(i);
    }
    server.wait_logs(100, PEER_LIMIT);
    let before = server.status("VmRSS");
    for i in 100..1100 {
        visit(i);
    }
    server.wait_logs(1100, PEER_LIMIT);
    let after = server.status("VmRSS");
    let grew = after.saturating_sub(before);
    eprintln!("server resident size {before} kB -> {after} kB over 1,000 connections");
    if grew > 2048 {
        server.fail(&format!(
            "over 1,000 connections (after 100 to warm up) the server's resident size grew \
             from {before} kB to {after} kB (+{grew} kB; 2,048 kB allowed): something of every \
             connection is kept. Let each connection's stream drop when it ends."
        ));
    }
}

#[test]
fn ctrl_c_finishes_the_connections_in_flight() {
    let files = Files::new().expect("certificates");
    let mut server = Server::start(&files, &[]);
    let c = connector(SslVersion::TLS1_3);
    let mut s = open(&c, server.addr, None).unwrap_or_else(|e| server.fail(&e));
    server.interrupt();
    thread::sleep(Duration::from_millis(300));
    let mut reply = Vec::new();
    let line = b"still here after Ctrl-C\n";
    let done = s
        .write_all(line)
        .and_then(|_| {
            let mut buf = vec![0; line.len()];
            s.read_exact(&mut buf)?;
            reply = buf;
            s.shutdown().map_err(std::io::Error::other)?;
            s.read_to_end(&mut reply)
        })
        .map(|_| s.get_shutdown().contains(ShutdownState::RECEIVED));
    if !matches!(done, Ok(true)) || reply != line {
        server.fail(&format!(
            "after Ctrl-C the connection in flight must be finished: it got {:?} back \
             ({done:?}). Stop accepting, and wait for the connections already served.",
            text(&reply)
        ));
    }
    let status = server.process.wait_exit(Duration::from_secs(5));
    if !status.is_some_and(|s| s.success()) || !server.process.stdout().contains("STOPPED 1") {
        server.fail(&format!(
            "once its last connection ended after Ctrl-C, the server should say STOPPED and \
             exit 0 within a few seconds; it {}",
            match status {
                Some(s) => format!("ended with {s}"),
                None => "was still running after 5 s".into(),
            }
        ));
    }
}
