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
    // ANCHOR: init
    openssl::init();
    // ANCHOR_END: init
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
    // ANCHOR: describe_stack
    if e.errors().is_empty() {
        return "OpenSSL reported a failure but left no reason on its error queue".to_string();
    }
    e.errors()
        .iter()
        .map(|err| {
            let library = err.library().unwrap_or("unknown library");
            let reason = match err.reason() {
                Some(reason) => reason.to_string(),
                None => format!("reason number {}", err.reason_code()),
            };
            match err.data() {
                Some(data) if !data.is_empty() => format!("{library}: {reason} ({data})"),
                _ => format!("{library}: {reason}"),
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
    // ANCHOR_END: describe_stack
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
        // ANCHOR: display
        match self {
            LoadError::Unreadable { path, cause } => {
                write!(
                    f,
                    "cannot read the certificate file {}: {cause}",
                    path.display()
                )
            }
            LoadError::NotACertificate { path, cause } => write!(
                f,
                "{} is not a certificate: {}",
                path.display(),
                describe_stack(cause)
            ),
        }
        // ANCHOR_END: display
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
    // ANCHOR: read_certificate
    let bytes = std::fs::read(path).map_err(|cause| LoadError::Unreadable {
        path: path.to_path_buf(),
        cause,
    })?;
    // PEM first; if that fails, DER. When both fail, PEM's reason is the one to show: a
    // file someone calls a certificate is almost always meant to be PEM.
    X509::from_pem(&bytes)
        .or_else(|pem_error| X509::from_der(&bytes).map_err(|_| pem_error))
        .map_err(|cause| LoadError::NotACertificate {
            path: path.to_path_buf(),
            cause,
        })
    // ANCHOR_END: read_certificate
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
    // ANCHOR: explain_handshake
    match e {
        HandshakeError::SetupFailure(stack) => {
            format!(
                "could not set up the TLS connection: {}",
                describe_stack(stack)
            )
        }
        HandshakeError::Failure(mid) => {
            // The verifier keeps its verdict on the connection, apart from the error queue.
            let verdict = mid.ssl().verify_result();
            if verdict != X509VerifyResult::OK {
                return format!(
                    "certificate verify failed: {} (X509 verify error {})",
                    verdict.error_string(),
                    verdict.as_raw()
                );
            }
            let error = mid.error();
            match (error.ssl_error(), error.io_error()) {
                (Some(stack), _) => format!("the TLS handshake failed: {}", describe_stack(stack)),
                (None, Some(io)) => format!("the connection failed during the handshake: {io}"),
                (None, None) => "the peer closed the connection during the handshake".to_string(),
            }
        }
        HandshakeError::WouldBlock(_) => {
            "the handshake did not finish: the peer did not answer in time".to_string()
        }
    }
    // ANCHOR_END: explain_handshake
    // END EXERCISE
}
