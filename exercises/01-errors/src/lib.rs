//! Chapter 01: errors. When TLS fails, the error is usually the only clue you get, so this
//! chapter turns whatever OpenSSL reports into one sentence a person can act on.
//!
//! Four places to fill in:
//! - [`init`]: what is left of the tutorial's `SSL_library_init` and `SSL_load_error_strings`;
//! - [`describe_stack`]: the readable `ERR_print_errors`: every error of an [`ErrorStack`];
//! - [`read_certificate`] and the `Display` of [`LoadError`]: a file that will not load
//!   says which file and why;
//! - [`explain_handshake`]: a failed handshake says why, with the verify result when the
//!   peer's certificate is what was refused.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use openssl::error::ErrorStack;
use openssl::ssl::HandshakeError;
use openssl::x509::{X509VerifyResult, X509};

/// Gets OpenSSL ready. The crate already does this before its first call into OpenSSL, so
/// this is only needed by code that calls `openssl-sys` directly. Safe to call any number
/// of times, from any thread.
pub fn init() {
    // BEGIN EXERCISE
    todo!("ch01: call openssl::init(), all that is left of SSL_library_init and SSL_load_error_strings")
    // END EXERCISE
}

/// Every error of the stack, oldest first, as "library: reason", joined by "; ". When
/// OpenSSL recorded extra data with an error (a file name, the type it expected), it goes
/// in parentheses after the reason: "PEM routines: no start line (Expecting: CERTIFICATE)".
///
/// OpenSSL pushes one error per layer that gave up (the PEM reader, the decoder, the TLS
/// state machine...), so all of them together tell the story. Never returns an empty
/// string: a failure with an empty stack still says that something failed.
pub fn describe_stack(e: &ErrorStack) -> String {
    // BEGIN EXERCISE
    todo!(
        "ch01: describe every error of the stack, oldest first, as \"library: reason\" \
         (plus its data() when there is some), joined by \"; \": e.errors(), then library(), \
         reason(), data(); never return an empty string"
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
    /// "cannot read the certificate file /etc/x.crt: No such file or directory (os error 2)".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // BEGIN EXERCISE
        todo!(
            "ch01: one sentence per LoadError variant that names the path (path.display()) \
             and the cause (the io::Error, or describe_stack of the ErrorStack)"
        )
        // END EXERCISE
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
        "ch01: std::fs::read the file (an io::Error becomes LoadError::Unreadable), then try \
         X509::from_pem and X509::from_der (an ErrorStack becomes LoadError::NotACertificate)"
    )
    // END EXERCISE
}

/// One sentence for a failed handshake.
///
/// - The peer's certificate was refused (`verify_result()` is not OK): the sentence says
///   "certificate verify failed" and the reason the verifier gave, such as
///   "certificate has expired".
/// - Any other failure: what the `ssl::Error` holds: its error stack (through
///   [`describe_stack`]) or the I/O error underneath.
/// - A setup failure: its error stack.
/// - `WouldBlock` (a socket timeout during the handshake): the peer did not answer in time.
pub fn explain_handshake<S>(e: &HandshakeError<S>) -> String {
    // BEGIN EXERCISE
    todo!(
        "ch01: match the HandshakeError; for Failure, look at mid.ssl().verify_result() \
         before mid.error(): a verdict that is not OK means \"certificate verify failed\" and \
         its error_string() says why"
    )
    // END EXERCISE
}
