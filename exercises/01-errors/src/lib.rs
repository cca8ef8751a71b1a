//! Chapter 01: errors. When TLS fails, the error is usually the only clue you get, so this
//! chapter turns whatever OpenSSL reports into one sentence a person can act on.
//!
//! Written for you, and walked through in the book:
//! - [`describe_error`]: one error of OpenSSL's queue, in words;
//! - [`explain_ssl_error`]: what a failed handshake step, read or write means;
//! - the `Display` of [`LoadError`]: a sentence that names the file.
//!
//! Four places to fill in:
//! - [`init`]: what is left of the tutorial's `SSL_library_init` and `SSL_load_error_strings`;
//! - [`describe_stack`]: the readable `ERR_print_errors`: every error of an [`ErrorStack`];
//! - [`read_certificate`]: a file that will not load says which file and why;
//! - [`explain_handshake`]: a failed handshake says why, with the verifier's reason when
//!   the peer's certificate is what was refused.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use openssl::error::ErrorStack;
use openssl::ssl::{self, ErrorCode, HandshakeError};
use openssl::x509::{X509VerifyResult, X509};

/// Gets OpenSSL ready for code that calls `openssl-sys` directly: afterwards OpenSSL's error
/// texts are loaded, so an error code can be turned into words. The crate does the same
/// before its own first call into OpenSSL, so code that only uses the crate never needs
/// this.
pub fn init() {
    // BEGIN EXERCISE
    todo!(
        "ch01: get OpenSSL ready for code that calls openssl-sys directly, so that its error \
         texts are loaded; the crate does this for its own calls, which is why the tutorial's \
         two set-up calls have one Rust heir"
    )
    // END EXERCISE
}

// ANCHOR: describe_error
/// One error of the queue as "library: reason", with the extra data OpenSSL recorded (a
/// file name, the type it expected) in parentheses: "PEM routines: no start line
/// (Expecting: CERTIFICATE)". Words, not the packed number.
pub fn describe_error(err: &openssl::error::Error) -> String {
    let library = err.library().unwrap_or("unknown library");
    let reason = match (err.reason(), library) {
        (Some(reason), _) => reason.to_string(),
        // For the "system library", OpenSSL's reason number is the C library's errno.
        (None, "system library") => io::Error::from_raw_os_error(err.reason_code()).to_string(),
        (None, _) => format!("reason number {}", err.reason_code()),
    };
    match err.data() {
        Some(data) if !data.is_empty() => format!("{library}: {reason} ({data})"),
        _ => format!("{library}: {reason}"),
    }
}
// ANCHOR_END: describe_error

/// Every error of the stack, oldest first (the order OpenSSL pushed them), each as
/// [`describe_error`] gives it, joined by "; ". OpenSSL pushes one error per layer that
/// gave up (the PEM reader, the decoder, the TLS state machine...), so all of them together
/// tell the story. Never returns an empty string: a failure with an empty stack still says
/// that something failed.
pub fn describe_stack(e: &ErrorStack) -> String {
    // BEGIN EXERCISE
    todo!(
        "ch01: describe every error of the stack, oldest first, in words (describe_error does \
         one), joined by \"; \", so no layer's reason is lost; never return an empty string, \
         because an empty message hides that anything failed"
    )
    // END EXERCISE
}

/// Why a certificate file did not load.
#[derive(Debug)]
pub enum LoadError {
    /// The file could not be read at all: it is missing, a folder, or not readable.
    Unreadable { path: PathBuf, cause: io::Error },
    /// The file was read, but OpenSSL found no certificate in it (PEM or DER).
    NotACertificate { path: PathBuf, cause: ErrorStack },
}

impl fmt::Display for LoadError {
    /// One sentence that names the file and the cause, such as
    /// "cannot read /etc/x.crt: No such file or directory (os error 2)".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // ANCHOR: display
        match self {
            LoadError::Unreadable { path, cause } => {
                write!(f, "cannot read {}: {cause}", path.display())
            }
            LoadError::NotACertificate { path, cause } => write!(
                f,
                "{} holds no certificate: {}",
                path.display(),
                describe_stack(cause)
            ),
        }
        // ANCHOR_END: display
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LoadError::Unreadable { cause, .. } => Some(cause),
            LoadError::NotACertificate { cause, .. } => Some(cause),
        }
    }
}

/// Reads one certificate from `path`, in PEM or in DER. Never panics: a missing file is
/// [`LoadError::Unreadable`], anything that is not a certificate is
/// [`LoadError::NotACertificate`], and both name the path.
pub fn read_certificate(path: &Path) -> Result<X509, LoadError> {
    // BEGIN EXERCISE
    todo!(
        "ch01: read the file (an io::Error becomes LoadError::Unreadable), then parse it as PEM \
         and, failing that, as DER (when both fail: LoadError::NotACertificate with PEM's \
         ErrorStack); both variants carry the path, and nothing may panic"
    )
    // END EXERCISE
}

// ANCHOR: explain_ssl_error
/// What an `ssl::Error` from a handshake step, a read or a write means, in one sentence.
/// Its `code()` is C's `SSL_get_error`; what lies underneath is an error stack
/// (`ssl_error()`) or the socket's own error (`io_error()`).
pub fn explain_ssl_error(e: &ssl::Error) -> String {
    match e.code() {
        ErrorCode::SSL => match e.ssl_error() {
            Some(stack) => describe_stack(stack),
            None => "a TLS error without details".to_string(),
        },
        ErrorCode::SYSCALL => match e.io_error() {
            Some(io) => format!("the connection failed underneath TLS: {io}"),
            None => "the peer closed the connection without a close_notify".to_string(),
        },
        ErrorCode::ZERO_RETURN => "the peer closed the TLS connection (close_notify)".to_string(),
        ErrorCode::WANT_READ | ErrorCode::WANT_WRITE => match e.io_error() {
            // A blocking socket whose read or write timeout expired.
            Some(io)
                if matches!(
                    io.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                "the peer did not answer in time (the socket's timeout expired)".to_string()
            }
            _ => "the socket was not ready; the call must be repeated".to_string(),
        },
        other => format!("OpenSSL reported error code {}", other.as_raw()),
    }
}
// ANCHOR_END: explain_ssl_error

/// One sentence for a failed handshake.
///
/// - The peer's certificate was refused (`verify_result()` is not OK): the sentence says
///   "certificate verify failed" and the reason the verifier gave, such as
///   "certificate has expired".
/// - Any other failure: what the `ssl::Error` holds ([`explain_ssl_error`]), so that a
///   peer that does not speak TLS is not blamed on a certificate.
/// - A setup failure: its error stack.
/// - `WouldBlock` (a socket timeout during the handshake): the peer did not answer in time.
///
/// Words only: never OpenSSL's packed form ("error:0A000086:SSL routines:...").
pub fn explain_handshake<S>(e: &HandshakeError<S>) -> String {
    // BEGIN EXERCISE
    todo!(
        "ch01: say in one sentence why the handshake failed. Look first at the verifier's \
         verdict on the peer's certificate, which the connection keeps apart from the error \
         queue: when it is not OK, say \"certificate verify failed\" and the verifier's reason \
         in words. Otherwise explain the TLS error itself, so that a peer that speaks no TLS is \
         not blamed on a certificate. A failure before the handshake began has an error stack; \
         a socket timeout means the peer did not answer in time"
    )
    // END EXERCISE
}
