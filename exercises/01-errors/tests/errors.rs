//! Chapter 01: errors that say what went wrong, graded against real files, real OpenSSL error
//! stacks and real peers (`openssl s_server` and a Python server that does not speak TLS).

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use certs::{pki, Files};
use ch01_errors::{
    describe_error, describe_stack, explain_handshake, init, read_certificate, LoadError,
};
use openssl::error::ErrorStack;
use openssl::ssl::{HandshakeError, SslConnector, SslFiletype, SslMethod};
use openssl::x509::{X509VerifyResult, X509};
use testkit::peers::{Misbehaviour, PyServer, SServer};

// No verdict here depends on the CAs this machine trusts (see the macro).
testkit::no_system_trust!();

// ---------------------------------------------------------------------------------------
// Helpers: they only set the scene. The learner's code runs inside testkit::call.
// ---------------------------------------------------------------------------------------

/// Runs the learner's `read_certificate`, and on failure its `Display` too. A panic that
/// is not an unfilled `todo!()` becomes a failure that says why panicking is wrong.
fn load(path: &Path) -> Result<X509, (LoadError, String)> {
    let shown = path.display().to_string();
    let path = path.to_path_buf();
    let outcome = std::panic::catch_unwind(|| {
        testkit::call("read_certificate", move || {
            read_certificate(&path).map_err(|e| {
                let text = e.to_string();
                (e, text)
            })
        })
    });
    match outcome {
        Ok(result) => result,
        Err(payload) => {
            let text = testkit::panic_text(&*payload);
            if text.contains("not yet implemented") {
                std::panic::resume_unwind(payload)
            }
            panic!(
                "read_certificate panicked on {shown} ({text}). A file that is missing or holds \
                 no certificate is an answer, not a crash: a server that panics on a bad \
                 configuration file tells its operator nothing. Return the LoadError instead."
            )
        }
    }
}

/// The part of OpenSSL's packed form a sentence must not contain, if it contains one:
/// "error:0A000086" (the packed number) or "../ssl/statem/statem_clnt.c" (a source file).
fn packed_part(text: &str) -> Option<String> {
    if let Some(i) = text.find("error:") {
        let hex = &text[i + 6..];
        if hex.len() >= 8 && hex[..8].chars().all(|c| c.is_ascii_hexdigit()) {
            return Some(text[i..i + 14].to_string());
        }
    }
    ["../ssl/", "../crypto/", ".c:"]
        .iter()
        .find(|p| text.contains(*p))
        .map(|p| p.to_string())
}

/// Runs the learner's `describe_stack` on `stack`.
fn describe(stack: ErrorStack) -> String {
    testkit::call("describe_stack", move || describe_stack(&stack))
}

/// Runs the learner's `explain_handshake` on `e`.
fn explain(e: HandshakeError<TcpStream>) -> String {
    testkit::call("explain_handshake", move || explain_handshake(&e))
}

/// Every reason text of a stack, for checking that a description kept them all.
fn reasons(stack: &ErrorStack) -> Vec<&'static str> {
    stack.errors().iter().filter_map(|e| e.reason()).collect()
}

/// A TCP connection to `addr` with timeouts, as every test socket has.
fn tcp(addr: std::net::SocketAddr, timeout: Duration) -> TcpStream {
    let tcp = TcpStream::connect(addr).unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
    tcp.set_read_timeout(Some(timeout)).unwrap();
    tcp.set_write_timeout(Some(timeout)).unwrap();
    tcp
}

/// A client context that trusts the workbook's CA and nothing else.
fn trusting_client(_files: &Files) -> SslConnector {
    testkit::reference::connector(&pki().ca)
}

/// Connects as "localhost" to an `openssl s_server` serving `identity`, which the client
/// must refuse. Returns the handshake error, the verifier's verdict (read here, before the
/// learner sees the error) and the server, whose transcript goes into failure messages.
fn refused_by(
    files: &Files,
    identity: &str,
) -> (HandshakeError<TcpStream>, X509VerifyResult, SServer) {
    let server = SServer::with_identity(files, identity, &["-www"]);
    let e = match trusting_client(files).connect("localhost", tcp(server.addr, testkit::IO_TIMEOUT)) {
        Ok(_) => panic!(
            "test set-up: the client accepted the `{identity}` certificate, which it must refuse\n{}",
            server.transcript()
        ),
        Err(e) => e,
    };
    let verdict = match &e {
        HandshakeError::Failure(mid) => mid.ssl().verify_result(),
        _ => X509VerifyResult::OK,
    };
    (e, verdict, server)
}

/// What the Python peer printed: its output only, since its command line holds its whole
/// script.
fn py_transcript(py: &PyServer) -> String {
    format!(
        "--- the Python peer's output ---\n{}\n{}",
        py.process.stdout().trim_end(),
        py.process.stderr().trim_end()
    )
}

/// The check shared by the four refused certificates.
fn says_verify_failed_and_why(identity: &str, expected_code: i32) {
    let files = Files::new().unwrap();
    let (e, verdict, server) = refused_by(&files, identity);
    let text = explain(e);
    assert_eq!(
        verdict.as_raw(),
        expected_code,
        "test set-up: the `{identity}` certificate should fail verification with error \
         {expected_code}, it failed with {} ({})\n{}",
        verdict.as_raw(),
        verdict.error_string(),
        server.transcript()
    );
    assert!(
        text.contains("certificate verify failed"),
        "the client refused the server's `{identity}` certificate, and your sentence should \
         say so with the words \"certificate verify failed\". It said:\n  {text:?}\n{}",
        server.transcript()
    );
    assert!(
        text.contains(verdict.error_string()),
        "\"certificate verify failed\" alone does not say what to fix. The reason is kept \
         apart from the error queue, in mid.ssl().verify_result(); here it is {:?}, and your \
         sentence should contain it. It said:\n  {text:?}\n{}",
        verdict.error_string(),
        server.transcript()
    );
    if let Some(part) = packed_part(&text) {
        panic!(
            "your sentence carries OpenSSL's packed form ({part:?}), as the Display of the \
             error or of the HandshakeError does. Say it in words: \"certificate verify \
             failed\" and the verifier's reason. It said:\n  {text:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// init
// ---------------------------------------------------------------------------------------

/// Set in the child process of [`init_loads_the_error_texts_for_openssl_sys_callers`].
const INIT_PROBE: &str = "WORKBOOK_CH01_INIT_PROBE";

/// What OpenSSL has loaded for the packed error "PEM routines: no start line", asked
/// directly through `openssl-sys`, as C code would with ERR_reason_error_string.
fn error_text_loaded() -> bool {
    let code = openssl_sys::ERR_PACK(
        openssl_sys::ERR_LIB_PEM,
        0,
        openssl_sys::PEM_R_NO_START_LINE,
    );
    // SAFETY: ERR_reason_error_string takes any code and returns a static string or null.
    !unsafe { openssl_sys::ERR_reason_error_string(code) }.is_null()
}

#[test]
fn init_loads_the_error_texts_for_openssl_sys_callers() {
    // The child: a fresh process in which nothing has touched OpenSSL yet.
    if std::env::var(INIT_PROBE).is_ok() {
        let before = error_text_loaded();
        testkit::call("init", init);
        // Any number of times, from any thread.
        testkit::call("init", init);
        std::thread::spawn(|| testkit::call("init", init))
            .join()
            .expect("init panicked on a second thread");
        println!("PROBE before={before} after={}", error_text_loaded());
        return;
    }
    // The parent: every test here has touched OpenSSL already, through the crate, so the
    // texts are loaded in this process whatever init does. Only a fresh process can tell.
    let child = testkit::probe::run_test_in_child(
        "init_loads_the_error_texts_for_openssl_sys_callers",
        &[(INIT_PROBE, "1".to_string())],
        Duration::from_secs(20),
    );
    let out = &child.stdout;
    if out.contains("PROBE before=true") {
        // This OpenSSL loads its texts by itself: nothing init does can be seen. The
        // promise holds whatever the learner wrote.
        return;
    }
    if out.contains("PROBE before=false after=false") {
        panic!(
            "after your init(), OpenSSL still had no error texts: code that calls openssl-sys \
             directly (ERR_reason_error_string, say) gets null instead of \"no start line\". \
             The crate sets OpenSSL up before its own first call, but init() must do it for \
             code that starts below the crate: call openssl::init().\n{}",
            child.transcript
        );
    }
    if !out.contains("PROBE before=false after=true") {
        if let Some(todo) = testkit::probe::todo_line(&child) {
            panic!("{todo}");
        }
        let why = child
            .stderr
            .lines()
            .find(|l| l.contains("panicked"))
            .unwrap_or("(no panic message)");
        panic!(
            "init() was run in a fresh child process (this test again, on its own) and did not \
             finish: {why}\n{}",
            child.transcript
        );
    }
}

// ---------------------------------------------------------------------------------------
// read_certificate and LoadError (bad-peers.md items 14 and 15)
// ---------------------------------------------------------------------------------------

#[test]
fn a_missing_file_is_unreadable_and_named() {
    let files = Files::new().unwrap();
    let path = files.dir().join("no-such-server.crt");
    let (err, text) = match load(&path) {
        Ok(_) => panic!("read_certificate returned a certificate for a file that does not exist"),
        Err(e) => e,
    };
    assert!(
        text.contains(&path.display().to_string()),
        "the file {} does not exist, and your error says {text:?}. An error that does not \
         name the file leaves the reader guessing which of a server's many files is wrong: \
         put the path in the message.",
        path.display()
    );
    match err {
        LoadError::Unreadable { cause, .. } => assert_eq!(
            cause.kind(),
            std::io::ErrorKind::NotFound,
            "the cause should be the io::Error from reading the file (not found), got {cause:?}"
        ),
        other => panic!(
            "a file that cannot be read is LoadError::Unreadable, with the io::Error as its \
             cause; got {other:?}"
        ),
    }
}

#[test]
fn garbage_is_not_a_certificate() {
    let files = Files::new().unwrap();
    let path = files.dir().join("garbage.crt");
    std::fs::write(&path, "this is not a certificate\nnor is this line\n").unwrap();
    let (err, text) = match load(&path) {
        Ok(_) => panic!("read_certificate returned a certificate for a file of plain text"),
        Err(e) => e,
    };
    let LoadError::NotACertificate { cause, .. } = &err else {
        panic!(
            "the file exists and was read; what is wrong is its content. That is \
             LoadError::NotACertificate, with OpenSSL's ErrorStack as the cause. Got {err:?}"
        )
    };
    assert!(
        text.contains(&path.display().to_string()),
        "your error for a file that holds no certificate should name the file ({}); it \
         says {text:?}",
        path.display()
    );
    assert!(
        reasons(cause).iter().any(|r| text.contains(r)),
        "OpenSSL said why it found no certificate ({}), but your error does not pass that \
         reason on; it says {text:?}",
        reasons(cause).join("; ")
    );
    assert!(
        reasons(cause).contains(&"no start line"),
        "for a text file that is neither PEM nor DER, the reason to keep is PEM's (\"no start \
         line\": no -----BEGIN CERTIFICATE----- in it); a file someone calls a certificate is \
         nearly always meant to be PEM, and DER's complaint about bytes is no help. Your error \
         carries {:?}",
        reasons(cause)
    );
}

#[test]
fn a_private_key_is_not_a_certificate() {
    let files = Files::new().unwrap();
    let path = files.path("server.key");
    let (err, text) = match load(&path) {
        Ok(_) => panic!("read_certificate returned a certificate for a private key file"),
        Err(e) => e,
    };
    assert!(
        matches!(err, LoadError::NotACertificate { .. }),
        "a key file where a certificate was expected (an easy mix-up in a server's \
         configuration) is LoadError::NotACertificate; got {err:?}"
    );
    assert!(
        text.contains(&path.display().to_string()),
        "your error should name the file that was loaded by mistake ({}); it says {text:?}",
        path.display()
    );
}

#[test]
fn loads_pem_and_der() {
    let files = Files::new().unwrap();
    let want = pki().server.cert_der();
    for name in ["server.crt", "server.crt.der", "server.chain.crt"] {
        let path: PathBuf = files.path(name);
        match load(&path) {
            Ok(cert) => assert_eq!(
                cert.to_der().unwrap(),
                want,
                "{name} holds the server's certificate (first, in a chain file), but \
                 read_certificate returned another one"
            ),
            Err((_, text)) => panic!(
                "{name} is a good certificate file ({}), yet read_certificate refused it: \
                 {text}",
                if name.ends_with(".der") {
                    "DER, the binary form"
                } else {
                    "PEM"
                }
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------
// describe_stack
// ---------------------------------------------------------------------------------------

#[test]
fn describe_stack_gives_openssl_s_reason() {
    let stack = X509::from_pem(b"garbage").unwrap_err();
    let text = describe(stack.clone());
    for err in stack.errors() {
        let (library, reason) = (err.library().unwrap_or("?"), err.reason().unwrap_or("?"));
        assert!(
            text.contains(library) && text.contains(reason),
            "OpenSSL's error says which part gave up ({library:?}) and why ({reason:?}); your \
             description should contain both words, not only a number. It said {text:?}"
        );
    }
    if let Some(part) = packed_part(&text) {
        panic!(
            "your description carries OpenSSL's packed form ({part:?}): the error number and the \
             C source file are for `openssl errstr` and search engines, not for the person \
             reading the message. ErrorStack's own Display gives that form; build the sentence \
             from each error's library, reason and data instead. It said {text:?}"
        );
    }
}

#[test]
fn describe_stack_keeps_openssl_s_order() {
    // The PEM reader gives up first, then the TLS library adds its error on top.
    let mut builder = SslConnector::builder(SslMethod::tls_client()).unwrap();
    let files = Files::new().unwrap();
    let stack = builder
        .set_certificate_file(files.path("server.key"), SslFiletype::PEM)
        .unwrap_err();
    let text = describe(stack.clone());
    let all = reasons(&stack);
    let at: Vec<Option<usize>> = all.iter().map(|r| text.find(r)).collect();
    assert!(
        at.iter().all(Option::is_some) && at.windows(2).all(|w| w[0] < w[1]),
        "OpenSSL pushed its errors in this order, oldest first: {}. The oldest is the layer \
         that gave up first, usually the root cause; later ones add context. Keep that order, \
         as ERR_print_errors does. Your description: {text:?}",
        all.join(" -> ")
    );
}

#[test]
fn describe_stack_reports_every_error() {
    // Loading a key file as a certificate: the PEM reader fails, then the TLS library
    // adds its own error on top. Two layers, two errors.
    let mut builder = SslConnector::builder(SslMethod::tls_client()).unwrap();
    let files = Files::new().unwrap();
    let stack = builder
        .set_certificate_file(files.path("server.key"), SslFiletype::PEM)
        .unwrap_err();
    let text = describe(stack.clone());
    let all = reasons(&stack);
    assert!(
        all.len() >= 2,
        "test set-up: expected a stack of two errors, got {all:?}"
    );
    let missing: Vec<_> = all.iter().filter(|r| !text.contains(*r)).collect();
    assert!(
        missing.is_empty(),
        "OpenSSL pushed {} errors ({}), one per layer that gave up; your description lost \
         {missing:?}. The first error is often the root cause and the last the context, so \
         keep them all. It said {text:?}",
        all.len(),
        all.join("; ")
    );
}

#[test]
fn describe_stack_keeps_the_file_name_openssl_recorded() {
    let files = Files::new().unwrap();
    let missing = files.dir().join("missing-ca.crt");
    let mut builder = SslConnector::builder(SslMethod::tls_client()).unwrap();
    let stack = builder.set_ca_file(&missing).unwrap_err();
    let text = describe(stack.clone());
    assert!(
        text.contains(&missing.display().to_string()),
        "OpenSSL recorded which file it could not open, in the extra data of one error \
         (Error::data(): {:?}); your description dropped it. It said {text:?}",
        stack
            .errors()
            .iter()
            .filter_map(|e| e.data())
            .collect::<Vec<_>>()
    );
}

#[test]
fn describe_stack_joins_the_errors_with_a_semicolon() {
    // A CA file that does not exist: the system library's error carries the data
    // "calling fopen(<path>, r)", with a comma of its own, and the BIO and X509 layers add
    // theirs on top.
    let files = Files::new().unwrap();
    let missing = files.dir().join("missing-ca.crt");
    let mut builder = SslConnector::builder(SslMethod::tls_client()).unwrap();
    let stack = builder.set_ca_file(&missing).unwrap_err();
    let text = describe(stack.clone());
    let each: Vec<String> = stack.errors().iter().map(describe_error).collect();
    let want = each.join("; ");
    assert!(
        text == want,
        "describe_stack should give each error as describe_error does, joined by \"; \" as \
         its doc comment says: {want:?}. A comma is no separator, because the errors carry \
         commas of their own (\"calling fopen(..., r)\"): with \", \" between them the reader \
         cannot tell where one error ends and the next begins. It said {text:?}"
    );
}

#[test]
fn describe_stack_is_never_empty() {
    // A fresh thread has nothing on its error queue, so this stack is empty.
    let text = testkit::call("describe_stack", || describe_stack(&ErrorStack::get()));
    assert!(
        !text.trim().is_empty(),
        "for an empty stack your description is empty. Some OpenSSL calls fail without \
         leaving a reason; an empty message then hides that anything failed at all"
    );
}

// ---------------------------------------------------------------------------------------
// explain_handshake, against openssl s_server and a peer that does not speak TLS
// ---------------------------------------------------------------------------------------

#[test]
fn explains_an_expired_certificate() {
    says_verify_failed_and_why("expired", 10);
}

#[test]
fn explains_a_self_signed_certificate() {
    says_verify_failed_and_why("self-signed", 18);
}

#[test]
fn explains_a_certificate_for_another_host() {
    says_verify_failed_and_why("wrong-host", 62);
}

#[test]
fn explains_a_certificate_from_an_untrusted_ca() {
    says_verify_failed_and_why("untrusted", 20);
}

#[test]
fn a_server_that_does_not_speak_tls_is_no_certificate_problem() {
    let files = Files::new().unwrap();
    let py = PyServer::start(&files, Misbehaviour::Garbage);
    let e = match trusting_client(&files).connect("localhost", tcp(py.addr, testkit::IO_TIMEOUT)) {
        Ok(_) => panic!("test set-up: a handshake with a server that sends HTTP succeeded"),
        Err(e) => e,
    };
    let expected: Vec<&'static str> = match &e {
        HandshakeError::Failure(mid) => mid.error().ssl_error().map(reasons).unwrap_or_default(),
        _ => Vec::new(),
    };
    let text = explain(e);
    let lower = text.to_lowercase();
    assert!(
        !lower.contains("verif") && !lower.contains("certificate"),
        "the server answered with plain HTTP, not TLS: no certificate was ever sent, so \
         nothing was verified. Your sentence blames the certificate: {text:?}. Check \
         verify_result() first, and only call it a certificate problem when it is not OK.\n{}",
        py_transcript(&py)
    );
    assert!(
        !expected.is_empty(),
        "test set-up: expected OpenSSL to report a protocol error, got {text:?}"
    );
    assert!(
        expected.iter().all(|r| text.contains(r)),
        "OpenSSL said why the handshake failed ({}); your sentence should pass that on. It \
         said {text:?}\n{}",
        expected.join("; "),
        py_transcript(&py)
    );
    if let Some(part) = packed_part(&text) {
        panic!(
            "your sentence carries OpenSSL's packed form ({part:?}), which is what the Display \
             of an ssl::Error gives. Say it in words (explain_ssl_error does). It said {text:?}"
        );
    }
}

#[test]
fn a_silent_server_is_a_timeout() {
    let files = Files::new().unwrap();
    let py = PyServer::start(&files, Misbehaviour::Stall);
    // A short read timeout: the server accepts and then never says a word.
    let e = match trusting_client(&files)
        .connect("localhost", tcp(py.addr, Duration::from_millis(250)))
    {
        Ok(_) => panic!("test set-up: a handshake with a silent server succeeded"),
        Err(e) => e,
    };
    let was_would_block = matches!(e, HandshakeError::WouldBlock(_));
    let text = explain(e);
    assert!(
        was_would_block,
        "test set-up: expected HandshakeError::WouldBlock"
    );
    let lower = text.to_lowercase();
    assert!(
        lower.contains("in time") || lower.contains("timed out") || lower.contains("timeout"),
        "the server accepted the connection and then said nothing until the socket's read \
         timeout expired. OpenSSL reports that as WouldBlock (\"the read would have \
         blocked\"), which means nothing to a reader: say the peer did not answer in time. \
         Your sentence: {text:?}"
    );
    assert!(
        !lower.contains("verif"),
        "no certificate was exchanged, so nothing failed verification; your sentence: {text:?}"
    );
}

#[test]
fn a_setup_failure_is_described_by_its_stack() {
    let stack = X509::from_pem(b"not a certificate").unwrap_err();
    let all = reasons(&stack);
    let text = explain(HandshakeError::SetupFailure(stack));
    assert!(
        all.iter().all(|r| text.contains(r)),
        "a SetupFailure carries the ErrorStack of what went wrong before the first byte was \
         sent ({}); your sentence should contain it. It said {text:?}",
        all.join("; ")
    );
}
