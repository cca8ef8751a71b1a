//! One plain sentence for what OpenSSL reports. The chapters' tests put these in their
//! failure messages; chapter 01 asks the learner to write the same kind of function.

use openssl::error::ErrorStack;
use openssl::ssl::{self, ErrorCode, HandshakeError};
use openssl::x509::X509VerifyResult;

/// What a verify result means, in words, with OpenSSL's number for searching.
pub fn verify(v: X509VerifyResult) -> String {
    let plain = match v.as_raw() {
        0 => "the certificate chain verified",
        9 => "the certificate is not valid yet: its not-before date is in the future",
        10 => "the certificate has expired: its not-after date is in the past",
        18 => "the peer sent a self-signed certificate that is not in the trust store",
        19 => "the chain ends in a self-signed root that is not in the trust store",
        20 => "the issuer of a certificate is unknown: its CA is not trusted, or the peer did not send an intermediate",
        21 => "the first certificate could not be verified: an intermediate is missing",
        22 => "the chain is longer than the verify depth allows",
        23 => "the certificate has been revoked: a loaded CRL lists it",
        3 => "no CRL was found for a certificate while CRL checking is on",
        62 => "the certificate is not issued for the host name that was asked for",
        _ => "",
    };
    if plain.is_empty() {
        format!("{} (X509 verify error {})", v.error_string(), v.as_raw())
    } else {
        format!(
            "{plain} (\"{}\", X509 verify error {})",
            v.error_string(),
            v.as_raw()
        )
    }
}

/// Every error of the stack, oldest first, as "library: reason" joined by "; ".
pub fn stack(e: &ErrorStack) -> String {
    if e.errors().is_empty() {
        return "OpenSSL reported a failure but left no error on its queue".to_string();
    }
    e.errors()
        .iter()
        .map(|err| {
            let reason = err.reason().unwrap_or("unknown reason");
            match err.library() {
                Some(lib) => format!("{lib}: {reason}"),
                None => reason.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// An `ssl::Error` from a read, write or handshake.
pub fn ssl_error(e: &ssl::Error) -> String {
    match e.code() {
        ErrorCode::ZERO_RETURN => {
            "the peer closed the TLS connection cleanly (close_notify)".into()
        }
        ErrorCode::SYSCALL => match e.io_error() {
            Some(io) => format!("the connection failed underneath TLS: {io}"),
            None => {
                "the peer closed the TCP connection without a close_notify (unexpected EOF)".into()
            }
        },
        ErrorCode::WANT_READ | ErrorCode::WANT_WRITE => match e.io_error() {
            Some(io)
                if io.kind() == std::io::ErrorKind::WouldBlock
                    || io.kind() == std::io::ErrorKind::TimedOut =>
            {
                "the peer did not answer in time (the socket's timeout expired)".into()
            }
            _ => "the operation would block and must be retried".into(),
        },
        ErrorCode::SSL => match e.ssl_error() {
            Some(s) => format!("TLS error: {}", stack(s)),
            None => "TLS error without details".into(),
        },
        other => format!("TLS error code {}", other.as_raw()),
    }
}

/// A failed handshake: why, with the verify result when verification is what failed.
pub fn handshake<S>(e: &HandshakeError<S>) -> String {
    match e {
        HandshakeError::SetupFailure(s) => format!("could not set up the connection: {}", stack(s)),
        HandshakeError::Failure(mid) => {
            let v = mid.ssl().verify_result();
            if v != X509VerifyResult::OK {
                format!("certificate verify failed: {}", verify(v))
            } else {
                format!("the handshake failed: {}", ssl_error(mid.error()))
            }
        }
        HandshakeError::WouldBlock(mid) => {
            format!("the handshake did not finish: {}", ssl_error(mid.error()))
        }
    }
}

/// Any error a chapter returns boxed: the OpenSSL types get their sentence (a failed
/// handshake over a `TcpStream`, an error stack, an `ssl::Error`), anything else its own
/// `Display`, which for an `io::Error` is already a sentence.
pub fn boxed(e: &(dyn std::error::Error + 'static)) -> String {
    if let Some(h) = e.downcast_ref::<HandshakeError<std::net::TcpStream>>() {
        handshake(h)
    } else if let Some(s) = e.downcast_ref::<ErrorStack>() {
        stack(s)
    } else if let Some(s) = e.downcast_ref::<ssl::Error>() {
        ssl_error(s)
    } else {
        e.to_string()
    }
}
