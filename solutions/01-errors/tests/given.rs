//! Tests of the code we ship outside the learner's regions (`describe_error`,
//! `explain_ssl_error`, `LoadError`'s `source`). They live in the solution crate, not in the
//! shared `exercises/01-errors/tests/errors.rs`, because every test of that shared file must
//! fail on the unsolved exercise, and these pass on it.

use std::error::Error as _;
use std::io::{self, Read, Write};
use std::path::PathBuf;

use ch01_errors::{describe_error, explain_ssl_error, LoadError};
use openssl::error::ErrorStack;
use openssl::ssl::{HandshakeError, SslConnector, SslMethod};
use openssl::x509::X509;

// No verdict here depends on the CAs this machine trusts (see the macro).
testkit::no_system_trust!();

/// Puts one error on this thread's OpenSSL error queue, PEM's "no start line", with `data`
/// as the extra text OpenSSL records next to it (what `ERR_raise_data` does), and takes it
/// back off as the crate's `Error`.
fn pem_error_with_data(data: &str) -> openssl::error::Error {
    let _ = ErrorStack::get(); // start from an empty queue
    let data = std::ffi::CString::new(data).unwrap();
    unsafe {
        openssl_sys::ERR_new();
        openssl_sys::ERR_set_debug(c"given.rs".as_ptr(), 1, c"pem_error_with_data".as_ptr());
        openssl_sys::ERR_set_error(
            openssl_sys::ERR_LIB_PEM,
            openssl_sys::PEM_R_NO_START_LINE,
            c"%s".as_ptr(),
            data.as_ptr(),
        );
    }
    let stack = ErrorStack::get();
    assert_eq!(stack.errors().len(), 1, "one error was pushed: {stack:?}");
    stack.errors()[0].clone()
}

#[test]
fn describe_error_puts_recorded_data_in_parentheses() {
    let e = pem_error_with_data("Expecting: CERTIFICATE");
    assert_eq!(
        describe_error(&e),
        "PEM routines: no start line (Expecting: CERTIFICATE)",
        "describe_error gives \"library: reason (data)\" when OpenSSL recorded extra data"
    );
}

#[test]
fn describe_error_leaves_out_empty_data() {
    let e = pem_error_with_data("");
    assert_eq!(
        e.data(),
        Some(""),
        "the error should carry an empty data text"
    );
    assert_eq!(
        describe_error(&e),
        "PEM routines: no start line",
        "describe_error adds parentheses only around data that says something: an empty \
         data text gives \"library: reason\", never \"library: reason ()\""
    );
}

/// A transport whose writes all succeed and whose every read fails with `kind`.
struct FailingReads(io::ErrorKind);

impl Read for FailingReads {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::Error::new(self.0, "made to fail by the test"))
    }
}

impl Write for FailingReads {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Starts a client handshake over a transport whose reads fail with `kind`, which the
/// crate reports as WANT_READ with that I/O error underneath, and explains the error.
fn explain_want_read(kind: io::ErrorKind) -> String {
    let connector = SslConnector::builder(SslMethod::tls_client())
        .unwrap()
        .build();
    match connector.connect("localhost", FailingReads(kind)) {
        Err(HandshakeError::WouldBlock(mid)) => {
            let e = mid.error();
            assert_eq!(
                e.io_error().map(|io| io.kind()),
                Some(kind),
                "the WANT_READ should carry the transport's error: {e:?}"
            );
            explain_ssl_error(e)
        }
        Err(HandshakeError::Failure(mid)) => panic!("expected WANT_READ, got {:?}", mid.error()),
        Err(HandshakeError::SetupFailure(e)) => panic!("expected WANT_READ, got {e}"),
        Ok(_) => panic!("a handshake over a transport that never answers cannot finish"),
    }
}

#[test]
fn explain_ssl_error_calls_would_block_a_timeout() {
    let text = explain_want_read(io::ErrorKind::WouldBlock);
    assert_eq!(
        text, "the peer did not answer in time (the socket's timeout expired)",
        "a WANT_READ whose socket error is WouldBlock is a blocking socket's timeout"
    );
}

#[test]
fn explain_ssl_error_does_not_call_every_want_read_a_timeout() {
    // NotConnected also makes the crate ask for the call again (WANT_READ), but no
    // timeout expired.
    let text = explain_want_read(io::ErrorKind::NotConnected);
    assert_eq!(
        text, "the socket was not ready; the call must be repeated",
        "explain_ssl_error blames a timeout only when the socket's error is WouldBlock or \
         TimedOut; a WANT_READ with another error underneath means: not ready, call again"
    );
}

#[test]
fn load_error_unreadable_has_the_io_error_as_its_source() {
    let e = LoadError::Unreadable {
        path: PathBuf::from("/nowhere/x.crt"),
        cause: io::Error::from(io::ErrorKind::NotFound),
    };
    let source = e
        .source()
        .expect("LoadError::source gives the cause, so callers can walk the chain: got None");
    let io = source
        .downcast_ref::<io::Error>()
        .unwrap_or_else(|| panic!("the source of Unreadable is its io::Error, got {source:?}"));
    assert_eq!(io.kind(), io::ErrorKind::NotFound);
}

#[test]
fn load_error_not_a_certificate_has_the_error_stack_as_its_source() {
    let stack = X509::from_pem(b"not a certificate").unwrap_err();
    let expected = stack.to_string();
    let e = LoadError::NotACertificate {
        path: PathBuf::from("garbage.crt"),
        cause: stack,
    };
    let source = e
        .source()
        .expect("LoadError::source gives the cause, so callers can walk the chain: got None");
    let stack = source.downcast_ref::<ErrorStack>().unwrap_or_else(|| {
        panic!("the source of NotACertificate is its ErrorStack, got {source:?}")
    });
    assert_eq!(stack.to_string(), expected);
}
