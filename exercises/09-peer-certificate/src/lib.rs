//! Chapter 09: obtaining the peer's certificate.
//!
//! After the handshake, the certificate the peer sent is still there: `SSL_get_peer_certificate`
//! in the tutorial, `SslRef::peer_certificate()` today. Programs read it to log who they
//! talk to, to check an expiry date, or to pin a fingerprint. It is only worth reading once
//! it has been verified and the handshake has finished: before that, it is whatever the other
//! side chose to send.
//!
//! Given: [`Summary`], [`PeerError`], [`summarise`], and the book's worked example
//! [`oneline`] and [`describe_own`], which read the certificate this side presents. You
//! write: the pieces of a summary (common name, alternative names, issuer, days left,
//! fingerprint) and [`peer_summary`], which reads the peer's certificate, and only a verified
//! one.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use openssl::asn1::Asn1Time;
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::ssl::SslRef;
use openssl::x509::{X509NameRef, X509Ref, X509VerifyResult};

/// What a program usually wants to know about the certificate of its peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The common name (CN) of the subject, if it has one.
    pub common_name: Option<String>,
    /// The DNS names of the subject alternative name extension, in the certificate's order.
    pub dns_names: Vec<String>,
    /// The IP addresses of the subject alternative name extension, in the certificate's order.
    pub ip_addresses: Vec<IpAddr>,
    /// The issuer's name as `openssl x509 -issuer` prints it:
    /// `O = TLS Workbook, CN = TLS Workbook Root CA`.
    pub issuer: String,
    /// Whole days until the certificate expires, rounded down: 0 in its last day, negative
    /// once it has expired (-1 during the first day after).
    pub days_left: i64,
    /// The SHA-256 fingerprint as `openssl x509 -fingerprint -sha256` prints it:
    /// uppercase hex pairs joined by colons, `EA:19:A1:...`.
    pub sha256_fingerprint: String,
}

/// Why there is no summary of the peer.
#[derive(Debug)]
pub enum PeerError {
    /// The handshake has not finished (or failed): there is no connection to describe.
    HandshakeNotFinished,
    /// The peer sent no certificate.
    NoCertificate,
    /// The peer's certificate did not verify; the reason is OpenSSL's.
    NotVerified(X509VerifyResult),
    /// OpenSSL could not read a field of the certificate.
    Unreadable(ErrorStack),
}

impl fmt::Display for PeerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerError::HandshakeNotFinished => f.write_str("the handshake has not finished"),
            PeerError::NoCertificate => f.write_str("the peer sent no certificate"),
            PeerError::NotVerified(v) => {
                write!(
                    f,
                    "the peer's certificate did not verify: {}",
                    v.error_string()
                )
            }
            PeerError::Unreadable(e) => write!(f, "cannot read the certificate: {e}"),
        }
    }
}

impl std::error::Error for PeerError {}

mod example;
pub use example::{describe_own, oneline};

/// The first common name (CN) of `name`, or `None` if it has none.
pub fn common_name(name: &X509NameRef) -> Option<String> {
    // BEGIN EXERCISE
    todo!(
        "ch09: return the first common name (CN) of `name` as text, or None when it has none: \
         a name may have several entries of one kind, or none"
    )
    // END EXERCISE
}

/// `name` as `openssl x509 -issuer` prints it: each entry as `SHORT = value`, in order,
/// joined by `, `, such as `O = TLS Workbook, CN = TLS Workbook Root CA`.
pub fn name_line(name: &X509NameRef) -> String {
    // BEGIN EXERCISE
    todo!(
        "ch09: write `name` as `openssl x509 -issuer` does: every entry as `SHORT = value`, \
         with the field's short name (CN, O, C), in order, joined by \", \""
    )
    // END EXERCISE
}

/// The DNS names and the IP addresses of `cert`'s subject alternative names, each in the
/// certificate's order; two empty lists when it has no such extension.
pub fn alt_names(cert: &X509Ref) -> (Vec<String>, Vec<IpAddr>) {
    // BEGIN EXERCISE
    todo!(
        "ch09: list the DNS names and the IP addresses among the certificate's subject \
         alternative names, in order (an IPv4 address is 4 bytes, an IPv6 one 16); empty \
         lists when there are none"
    )
    // END EXERCISE
}

/// Whole days from now until `cert` expires, rounded down (see [`Summary::days_left`]).
pub fn days_left(cert: &X509Ref) -> Result<i64, ErrorStack> {
    // BEGIN EXERCISE
    todo!(
        "ch09: count whole days from now until the certificate stops being valid, rounded \
         DOWN: negative once it has expired, and -1 already an hour after"
    )
    // END EXERCISE
}

/// The SHA-256 fingerprint of `cert` (see [`Summary::sha256_fingerprint`]).
pub fn fingerprint(cert: &X509Ref) -> Result<String, ErrorStack> {
    // BEGIN EXERCISE
    todo!(
        "ch09: the SHA-256 fingerprint of the whole certificate, exactly as openssl x509 \
         -fingerprint prints it with that digest: uppercase hex pairs joined by colons"
    )
    // END EXERCISE
}

/// The summary of any certificate, from the pieces above.
pub fn summarise(cert: &X509Ref) -> Result<Summary, ErrorStack> {
    let (dns_names, ip_addresses) = alt_names(cert);
    Ok(Summary {
        common_name: common_name(cert.subject_name()),
        dns_names,
        ip_addresses,
        issuer: name_line(cert.issuer_name()),
        days_left: days_left(cert)?,
        sha256_fingerprint: fingerprint(cert)?,
    })
}

/// The summary of the certificate the PEER sent on the connection `ssl` (client or server
/// side), and only when the handshake has finished, the peer sent a certificate, and it
/// verified. Anything else is a [`PeerError`] that says which.
pub fn peer_summary(ssl: &SslRef) -> Result<Summary, PeerError> {
    // BEGIN EXERCISE
    todo!(
        "ch09: summarise the PEER's certificate (not the one this side presents) only when \
         the handshake has finished, the peer sent a certificate (else NoCertificate) and it \
         verified (else NotVerified). Check that a certificate was sent before you trust the \
         verdict: \"no error\" is also the verdict when nothing was sent"
    )
    // END EXERCISE
}
