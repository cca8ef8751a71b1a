//! Chapter 02: version ranges, graded against `openssl s_server` and `openssl s_client`
//! forced to particular versions.
//!
//! Every real handshake is compared with what the rules say it must give (the `expect`
//! column of each table); where the learner's server meets a client, also with what the
//! learner's `predict()` says. The old servers a client must refuse offer TLS 1.0 or 1.1 with
//! RSA key transport (`AES128-SHA`) at security level 0 and an RSA certificate: OpenSSL 3.0's
//! default client completes that handshake, so only a minimum version refuses it.

use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use certs::Files;
use ch02_methods_and_versions::{
    client_context, modern_client, predict, server_context, Range, Version,
};
use openssl::ssl::{SslAcceptor, SslConnector, SslMethod};
use testkit::peers::{self, SServer};
use testkit::reference::ReferenceServer;
use testkit::{explain, IO_TIMEOUT};

use Version::{Tls10, Tls11, Tls12, Tls13};

// No verdict here depends on the CAs this machine trusts (see the macro).
testkit::no_system_trust!();

/// What `openssl s_server` and `s_client` accept when no version option is given: every
/// version OpenSSL 3 still has.
const OPENSSL_DEFAULT: Range = Range::new(Tls10, Tls13);

/// The options that make an openssl peer offer RSA key transport at security level 0: with
/// an RSA certificate, the handshake has no signature for a client's security level to
/// refuse, so TLS 1.0 and 1.1 complete against a client that allows them.
const OLD_SUITE: [&str; 2] = ["-cipher", "AES128-SHA:@SECLEVEL=0"];

/// The peer's options as a command line would show them.
fn options(args: &[&str]) -> String {
    if args.is_empty() {
        "(no version option)".to_string()
    } else {
        args.join(" ")
    }
}

fn shown(v: Option<Version>) -> String {
    v.map_or_else(
        || "no common version (the handshake fails)".to_string(),
        |v| v.name().to_string(),
    )
}

fn shown_outcome(o: &Result<String, String>) -> String {
    match o {
        Ok(v) => v.clone(),
        Err(e) => format!("no common version ({e})"),
    }
}

/// Why a negotiated version is wrong, in a sentence about the side we configured.
fn why_wrong(
    side: &str,
    range: Range,
    expect: Option<Version>,
    got: &Result<String, String>,
) -> String {
    let got_version = got
        .as_ref()
        .ok()
        .and_then(|name| Version::ALL.into_iter().find(|v| v.name() == name));
    match (expect, got_version) {
        (_, Some(v)) if v > range.max => format!(
            "Your {side} spoke {v}, above the maximum of its range ({}). A range has two ends: \
             set_max_proto_version sets the upper one, and without it OpenSSL goes as high as it can.",
            range.max
        ),
        (_, Some(v)) if v < range.min => format!(
            "Your {side} spoke {v}, below the minimum of its range ({}). The minimum is what stops \
             a peer (or an attacker in the middle) from pulling the connection down to a version you \
             said you do not accept: set_min_proto_version sets it.",
            range.min
        ),
        (None, Some(v)) => format!(
            "Your {side} spoke {v}, which it must refuse here. Mozilla's intermediate profile \
             forbids TLS 1.0 and 1.1 with the options NO_TLSV1 | NO_TLSV1_1 and offers only TLS 1.2 \
             suites: start from the profile and do not clear its options or replace its cipher list."
        ),
        (Some(v), None) => format!(
            "Both ranges contain {v}, yet the handshake failed. Check that the {side}'s context \
             uses the flexible method (SslMethod::tls_client() / tls_server()) and sets exactly the \
             range it was given, no narrower."
        ),
        (Some(e), Some(v)) if v < e => format!(
            "Your {side} spoke {v}, though both ranges allow {e}. The server picks the highest \
             version in both ranges, so the {side}'s range must reach up to its own maximum: \
             does set_max_proto_version get the range's max?"
        ),
        _ => format!("The {side} did not negotiate what both ranges allow."),
    }
}

/// One row of a table: our side's range, the peer's options, the range those options mean,
/// and what the handshake must give.
struct Case {
    ours: Range,
    peer_args: &'static [&'static str],
    peer: Range,
    expect: Option<Version>,
}

/// Calls the learner's `predict` first (so an unsolved exercise fails with its own message),
/// in the order client, server.
fn learner_predicts(client: Range, server: Range) -> Option<Version> {
    testkit::call("predict", move || predict(client, server))
}

/// Runs the handshake of `connector` against `addr` as "localhost"; the version or why not.
fn handshake(connector: SslConnector, addr: std::net::SocketAddr) -> Result<String, String> {
    handshake_at(connector, addr, None)
}

/// A handshake in which only the client's version range decides: the connection's security
/// level is 0, as the old servers' is. From OpenSSL 3.1 on, the default level refuses TLS 1.0
/// and 1.1 by itself, and a test of the learner's range would pass or fail for that alone.
fn range_only_handshake(
    connector: SslConnector,
    addr: std::net::SocketAddr,
) -> Result<String, String> {
    handshake_at(connector, addr, Some(0))
}

fn handshake_at(
    connector: SslConnector,
    addr: std::net::SocketAddr,
    level: Option<u32>,
) -> Result<String, String> {
    testkit::call("the client handshake", move || {
        let tcp = TcpStream::connect(addr).map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        tcp.set_read_timeout(Some(IO_TIMEOUT)).ok();
        tcp.set_write_timeout(Some(IO_TIMEOUT)).ok();
        let mut config = connector.configure().map_err(|e| explain::stack(&e))?;
        if let Some(level) = level {
            config.set_security_level(level);
        }
        match config.connect(certs::HOST, tcp) {
            Ok(tls) => Ok(tls.ssl().version_str().to_string()),
            Err(e) => Err(explain::handshake(&e)),
        }
    })
}

/// Whether this OpenSSL's default security level refuses TLS 1.0 and 1.1 by itself, even
/// with RSA key transport: from 3.1 on (OpenSSL's change log: "SSL 3, TLS 1.0, TLS 1.1 and
/// DTLS 1.0 are banned at security level 1 and above"). The book says so; 3.0 lets them in.
fn default_level_refuses_old_versions() -> bool {
    openssl::version::number() >= 0x3010_0000
}

/// The learner's client context for `case.ours` against `openssl s_server` started with
/// identity `id` and `case.peer_args`.
fn check_client(files: &Files, id: &str, case: &Case) {
    let ca = files.path("ca.crt");
    let range = case.ours;
    let connector = testkit::call("client_context", move || client_context(range, &ca))
        .unwrap_or_else(|e| panic!("client_context({range}) failed: {}", explain::stack(&e)));

    let mut args: Vec<&str> = vec!["-www"];
    args.extend_from_slice(case.peer_args);
    let server = SServer::with_identity(files, id, &args);
    let outcome = handshake(connector, server.addr);
    let outcome_version = outcome.as_ref().ok().cloned();

    let expected = case.expect.map(|v| v.name().to_string());
    if outcome_version != expected {
        panic!(
            "your client ({}) against `openssl s_server {}` ({}) should give: {}; the handshake gave: {}.\n\
             {}\n{}",
            case.ours,
            options(case.peer_args),
            case.peer,
            shown(case.expect),
            shown_outcome(&outcome),
            why_wrong("client", case.ours, case.expect, &outcome),
            server.transcript()
        );
    }
}

/// Serves the lab server of the book (`testkit::lab::one_version_server`) for `version`
/// with the RSA identity.
fn lab_server(version: Version) -> ReferenceServer {
    let id = certs::pki().server_rsa();
    let acceptor = testkit::lab::one_version_server(version.to_ssl(), &id.cert, &id.key)
        .unwrap_or_else(|e| {
            panic!(
                "the lab server for {version} failed: {}",
                explain::stack(&e)
            )
        });
    ReferenceServer::echo(acceptor)
}

/// The test's premise: a client built the default way, with no minimum, completes a
/// handshake with this old server. If OpenSSL refused it by itself, a client that sets no
/// minimum would pass for the wrong reason, and the book's claim would be false here.
fn assert_a_default_client_would_accept(addr: std::net::SocketAddr, files: &Files, what: &str) {
    let mut b = SslConnector::builder(SslMethod::tls_client()).unwrap();
    b.set_ca_file(files.path("ca.crt")).unwrap();
    let connector = b.build();
    // With the level at 0 only the version range decides, on every OpenSSL.
    if let Err(e) = range_only_handshake(connector.clone(), addr) {
        panic!(
            "the test's premise failed: a default SslConnector (no minimum version) at security \
             level 0 could not reach {what}: {e}. On this OpenSSL ({}) something else refuses \
             it, so please report it.",
            openssl::version::version()
        );
    }
    // And at the default level, what the book says of this version.
    let at_default = handshake(connector, addr);
    let refuses = default_level_refuses_old_versions();
    if at_default.is_ok() == refuses {
        panic!(
            "the book's claim failed: it says the default security level {} {what} on OpenSSL \
             {}, and here ({}) a default SslConnector gave: {}. Please report it.",
            if refuses { "refuses" } else { "lets through" },
            if refuses { "3.1 and later" } else { "3.0" },
            openssl::version::version(),
            shown_outcome(&at_default)
        );
    }
}

/// The learner's server context for `case.ours`, with identity `id` (its chain file and
/// key), against `openssl s_client` started with `case.peer_args`.
fn check_server(files: &Files, id: &str, case: &Case) {
    let (chain, key) = (
        files.path(&format!("{id}.chain.crt")),
        files.path(&format!("{id}.key")),
    );
    let range = case.ours;
    let acceptor: SslAcceptor = testkit::call("server_context", move || {
        server_context(range, &chain, &key)
    })
    .unwrap_or_else(|e| panic!("server_context({range}) failed: {}", explain::stack(&e)));
    let predicted = learner_predicts(case.peer, case.ours);

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let result = match listener.accept() {
            Err(e) => Err(format!("accept failed: {e}")),
            Ok((tcp, _)) => {
                tcp.set_read_timeout(Some(IO_TIMEOUT)).ok();
                tcp.set_write_timeout(Some(IO_TIMEOUT)).ok();
                match acceptor.accept(tcp) {
                    Ok(mut tls) => {
                        let v = tls.ssl().version_str().to_string();
                        let _ = tls.shutdown();
                        Ok(v)
                    }
                    Err(e) => Err(explain::handshake(&e)),
                }
            }
        };
        let _ = tx.send(result);
    });

    // The client trusts the root CA only (and checks the name "localhost").
    let mut args = peers::verifying_client_args(files);
    args.extend(case.peer_args.iter().map(|a| a.to_string()));
    let client = peers::run_s_client(addr, &args, b"", Duration::from_secs(10));
    let outcome = rx
        .recv_timeout(IO_TIMEOUT + Duration::from_secs(5))
        .unwrap_or_else(|_| {
            panic!(
                "your server never finished its handshake with openssl s_client.\n{}",
                client.transcript
            )
        });
    let outcome_version = outcome.as_ref().ok().cloned();

    if client
        .transcript
        .contains("unable to get local issuer certificate")
    {
        panic!(
            "openssl s_client, trusting only the root CA, could not verify your server: it \
             received the leaf certificate without the intermediate CA that signed it. \
             `{id}.chain.crt` holds both; a loader that reads only the first certificate of \
             the file (set_certificate_file) leaves every client unable to reach the root it \
             trusts. Read the whole chain.\n{}",
            client.transcript
        );
    }

    // s_client says the same on its "Protocol  : TLSv1.2" line.
    let client_saw = client
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("Protocol"))
        .and_then(|rest| rest.trim().strip_prefix(':'))
        .map(|v| v.trim().to_string());
    if let (Some(ours), Some(theirs)) = (&outcome_version, &client_saw) {
        assert_eq!(
            ours, theirs,
            "your server and s_client disagree on the version\n{}",
            client.transcript
        );
    }

    let expected = case.expect.map(|v| v.name().to_string());
    if outcome_version != expected {
        panic!(
            "your server ({}) against `openssl s_client {}` ({}) should give: {}; the handshake gave: {}.\n\
             {}\n{}",
            case.ours,
            options(case.peer_args),
            case.peer,
            shown(case.expect),
            shown_outcome(&outcome),
            why_wrong("server", case.ours, case.expect, &outcome),
            client.transcript
        );
    }
    if case.expect.is_none() {
        assert!(
            !client.success(),
            "the handshake should have failed, yet s_client exited successfully\n{}",
            client.transcript
        );
    }
    assert_eq!(
        predicted,
        case.expect,
        "the handshake of a client ({}) with your server ({}) gave {}, but predict() said {}. \
         The server picks the highest version inside both ranges, and a server on Mozilla's \
         intermediate profile never speaks TLS 1.0 or 1.1.",
        case.peer,
        case.ours,
        shown_outcome(&outcome),
        shown(predicted)
    );
}

#[test]
fn predict_picks_the_highest_common_version_from_tls12_up() {
    let table = [
        // (client, server, expect)
        (
            Range::new(Tls12, Tls13),
            Range::new(Tls12, Tls13),
            Some(Tls13),
        ),
        (
            Range::new(Tls10, Tls13),
            Range::new(Tls10, Tls13),
            Some(Tls13),
        ),
        (Range::new(Tls12, Tls13), Range::only(Tls12), Some(Tls12)),
        (Range::only(Tls12), Range::new(Tls12, Tls13), Some(Tls12)),
        (
            Range::new(Tls10, Tls12),
            Range::new(Tls11, Tls13),
            Some(Tls12),
        ),
        (Range::only(Tls13), Range::new(Tls10, Tls12), None),
        (Range::new(Tls10, Tls12), Range::only(Tls13), None),
        (Range::new(Tls10, Tls11), Range::new(Tls10, Tls13), None),
        (Range::new(Tls10, Tls13), Range::only(Tls11), None),
        (Range::only(Tls10), Range::only(Tls10), None),
        (Range::new(Tls11, Tls11), Range::new(Tls10, Tls11), None),
        (Range::new(Tls13, Tls12), Range::new(Tls10, Tls13), None),
    ];
    for (client, server, expect) in table {
        let got = learner_predicts(client, server);
        assert_eq!(
            got,
            expect,
            "predict(client: {client}, server: {server}) should be {} but is {}. {}",
            shown(expect),
            shown(got),
            match expect {
                None if got.is_some_and(|v| v < Tls12) =>
                    "The ranges do share that version, but the server is built on Mozilla's \
                     intermediate profile, whose options NO_TLSV1 | NO_TLSV1_1 stay in force \
                     whatever minimum its range sets. A prediction must say what really happens.",
                None => "The ranges have no version in common, so the handshake fails.",
                Some(_) => "The server picks the highest version that both ranges contain.",
            }
        );
    }
}

#[test]
fn client_negotiates_the_highest_common_version() {
    let files = Files::new().unwrap();
    for case in [
        Case {
            ours: Range::new(Tls12, Tls13),
            peer_args: &[],
            peer: OPENSSL_DEFAULT,
            expect: Some(Tls13),
        },
        Case {
            ours: Range::new(Tls12, Tls13),
            peer_args: &["-tls1_2"],
            peer: Range::only(Tls12),
            expect: Some(Tls12),
        },
        Case {
            ours: Range::new(Tls10, Tls13),
            peer_args: &["-no_tls1_3"],
            peer: Range::new(Tls10, Tls12),
            expect: Some(Tls12),
        },
    ] {
        check_client(&files, "server", &case);
    }
}

#[test]
fn client_stays_at_or_below_its_maximum() {
    let files = Files::new().unwrap();
    check_client(
        &files,
        "server",
        &Case {
            ours: Range::only(Tls12),
            peer_args: &[],
            peer: OPENSSL_DEFAULT,
            expect: Some(Tls12),
        },
    );
}

#[test]
fn client_stays_at_or_above_its_minimum() {
    let files = Files::new().unwrap();
    check_client(
        &files,
        "server",
        &Case {
            ours: Range::only(Tls13),
            peer_args: &["-no_tls1_3"],
            peer: Range::new(Tls10, Tls12),
            expect: None,
        },
    );
}

#[test]
fn client_refuses_tls10_below_its_minimum() {
    // A server that offers TLS 1.0 with RSA key transport at security level 0: OpenSSL
    // 3.0's default client would complete it, so only the minimum of the range refuses.
    let files = Files::new().unwrap();
    check_client(
        &files,
        "server-rsa",
        &Case {
            ours: Range::new(Tls12, Tls13),
            peer_args: &["-tls1", OLD_SUITE[0], OLD_SUITE[1]],
            peer: Range::only(Tls10),
            expect: None,
        },
    );
}

#[test]
fn client_speaks_tls10_when_its_range_says_so() {
    // The security level does not remove TLS 1.0 here: a range that includes it gets it.
    let files = Files::new().unwrap();
    let ca = files.path("ca.crt");
    let range = Range::new(Tls10, Tls12);
    let connector = testkit::call("client_context", move || client_context(range, &ca))
        .unwrap_or_else(|e| panic!("client_context({range}) failed: {}", explain::stack(&e)));
    let server = lab_server(Tls10);
    // The security level is the test's to lower: the question is what the range says.
    let outcome = range_only_handshake(connector, server.addr);
    if outcome.is_err() {
        // Is it the learner's range, or does this OpenSSL refuse TLS 1.0 by itself?
        let mut b = SslConnector::builder(SslMethod::tls_client()).unwrap();
        b.set_ca_file(files.path("ca.crt")).unwrap();
        b.set_min_proto_version(Some(Tls10.to_ssl())).unwrap();
        b.set_max_proto_version(Some(Tls12.to_ssl())).unwrap();
        if let Err(e) = range_only_handshake(b.build(), server.addr) {
            panic!(
                "the test's premise failed: a client built the book's way for TLS 1.0 to 1.2, at \
                 security level 0, could not reach the lab server for TLS 1.0 either: {e}. On this \
                 OpenSSL ({}) something else refuses it, so please report it.",
                openssl::version::version()
            );
        }
    }
    assert!(
        outcome.as_deref() == Ok("TLSv1"),
        "your client ({range}) against the book's lab server, which speaks only TLS 1.0 (RSA key \
         transport, security level 0), should speak TLSv1: the range allows it, and OpenSSL \
         3.0's default security level does not refuse it. client_context must set exactly the \
         range it is given: a hidden floor of its own makes the range a lie. (The modern client \
         is where TLS 1.0 is refused.) The handshake gave: {}. The lab server said: {:?}",
        shown_outcome(&outcome),
        server.log()
    );
}

#[test]
fn client_context_verifies_the_server() {
    let files = Files::new().unwrap();
    let ca = files.path("ca.crt");
    let range = Range::new(Tls12, Tls13);
    let connector = testkit::call("client_context", move || client_context(range, &ca))
        .unwrap_or_else(|e| panic!("client_context({range}) failed: {}", explain::stack(&e)));
    let server = SServer::with_identity(&files, "untrusted", &["-www"]);
    if let Ok(v) = handshake(connector, server.addr) {
        panic!(
            "your client_context finished a {v} handshake with a server whose certificate was \
             signed by a CA you never trusted. A version range protects nothing if anyone can \
             pose as the server: keep verification on (SslConnector has it on) and trust the \
             CA file.\n{}",
            server.transcript()
        );
    }
}

#[test]
fn server_negotiates_the_highest_common_version() {
    let files = Files::new().unwrap();
    for case in [
        Case {
            ours: Range::new(Tls12, Tls13),
            peer_args: &[],
            peer: OPENSSL_DEFAULT,
            expect: Some(Tls13),
        },
        Case {
            ours: Range::new(Tls12, Tls13),
            peer_args: &["-tls1_2"],
            peer: Range::only(Tls12),
            expect: Some(Tls12),
        },
    ] {
        check_server(&files, "server-chain", &case);
    }
}

#[test]
fn server_keeps_to_its_range() {
    let files = Files::new().unwrap();
    for case in [
        Case {
            ours: Range::only(Tls12),
            peer_args: &[],
            peer: OPENSSL_DEFAULT,
            expect: Some(Tls12),
        },
        Case {
            ours: Range::only(Tls13),
            peer_args: &["-tls1_2"],
            peer: Range::only(Tls12),
            expect: None,
        },
    ] {
        check_server(&files, "server-chain", &case);
    }
}

#[test]
fn server_refuses_a_tls10_client_even_when_its_range_allows_it() {
    // The server has an RSA identity, and the client offers RSA key transport at level 0:
    // only the profile's options and cipher list stand between them and TLS 1.0.
    let files = Files::new().unwrap();
    check_server(
        &files,
        "server-rsa",
        &Case {
            ours: Range::new(Tls10, Tls13),
            peer_args: &["-tls1", OLD_SUITE[0], OLD_SUITE[1]],
            peer: Range::only(Tls10),
            expect: None,
        },
    );
}

#[test]
fn server_context_refuses_a_key_that_is_not_the_certificates() {
    // An RSA key for an EC certificate: OpenSSL files it in its RSA slot without a word.
    let files = Files::new().unwrap();
    let (chain, key) = (
        files.path("server-chain.chain.crt"),
        files.path("server-rsa.key"),
    );
    let range = Range::new(Tls12, Tls13);
    let r = testkit::call("server_context", move || {
        server_context(range, &chain, &key).map(|_| ())
    });
    assert!(
        r.is_err(),
        "server_context built a server from server-chain.chain.crt (an EC certificate) and \
         server-rsa.key (an RSA key that is not the certificate's). OpenSSL keeps one slot per \
         key type, so set_private_key_file stores the RSA key quietly; only check_private_key \
         asks whether the certificate has its key. Without it the server starts and every client \
         fails in the middle of the handshake."
    );
}

/// The learner's modern client, built first so an unsolved exercise fails with its message.
fn learner_modern_client(files: &Files) -> SslConnector {
    let ca = files.path("ca.crt");
    testkit::call("modern_client", move || modern_client(&ca))
        .unwrap_or_else(|e| panic!("modern_client failed: {}", explain::stack(&e)))
}

#[test]
fn modern_client_speaks_tls13_and_tls12() {
    let files = Files::new().unwrap();
    let connector = learner_modern_client(&files);
    for (args, expect) in [(&[][..], Tls13), (&["-tls1_2"][..], Tls12)] {
        let mut all = vec!["-www"];
        all.extend_from_slice(args);
        let server = SServer::with_identity(&files, "server", &all);
        let outcome = handshake(connector.clone(), server.addr);
        assert_eq!(
            outcome.as_deref(),
            Ok(expect.name()),
            "your modern client against `openssl s_server {}` should speak {expect}. A client \
             that cannot reach a sound TLS 1.2 or 1.3 server is no use, and capping the maximum \
             keeps it from using TLS 1.3 and whatever comes next.\n{}",
            options(args),
            server.transcript()
        );
    }
}

fn downgrade_message(v: &str, server: &str, transcript: &str) -> String {
    format!(
        "your modern client finished a {v} handshake with {server}, which offers nothing newer. \
         That is a downgrade: TLS 1.0 and 1.1 have no modern (AEAD) cipher suites, sign with \
         MD5 and SHA-1, and TLS 1.0's CBC mode is what the BEAST attack broke. The test ran it at \
         security level 0: OpenSSL 3.0's default level lets it through (RSA key transport has \
         no signature to refuse), and a deployment may lower the level. Only a minimum of TLS \
         1.2, set by you, refuses it everywhere. \"Compatibility\" with such a server is exactly \
         what an attacker asks for.\n{transcript}"
    )
}

#[test]
fn modern_client_refuses_tls10_and_tls11_servers() {
    let files = Files::new().unwrap();
    let connector = learner_modern_client(&files);

    // TLS 1.0: the real openssl s_server.
    let args = ["-www", "-tls1", OLD_SUITE[0], OLD_SUITE[1]];
    let server = SServer::with_identity(&files, "server-rsa", &args);
    let shown_server = format!("`openssl s_server {}` (an RSA certificate)", args.join(" "));
    if let Ok(v) = range_only_handshake(connector.clone(), server.addr) {
        panic!(
            "{}",
            downgrade_message(&v, &shown_server, &server.transcript())
        );
    }
    assert_a_default_client_would_accept(server.addr, &files, &shown_server);

    // TLS 1.1: the book's lab server.
    let server = lab_server(Tls11);
    let shown_server = "the book's lab server for TLS 1.1 (AES128-SHA, security level 0)";
    if let Ok(v) = range_only_handshake(connector, server.addr) {
        panic!(
            "{}",
            downgrade_message(&v, shown_server, &format!("{:?}", server.log()))
        );
    }
    assert_a_default_client_would_accept(server.addr, &files, shown_server);
}

#[test]
fn modern_client_verifies_the_server() {
    let files = Files::new().unwrap();
    let connector = learner_modern_client(&files);
    let server = SServer::with_identity(&files, "untrusted", &["-www"]);
    if let Ok(v) = handshake(connector, server.addr) {
        panic!(
            "your modern client finished a {v} handshake with a server whose certificate was \
             signed by a CA you never trusted. A modern version protects nothing if anyone can \
             pose as the server: keep verification on and trust the CA file.\n{}",
            server.transcript()
        );
    }
}
