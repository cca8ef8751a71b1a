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
    let entry = name.entries_by_nid(Nid::COMMONNAME).next()?;
    entry.data().to_string().ok()
    // END EXERCISE
}

/// `name` as `openssl x509 -issuer` prints it: each entry as `SHORT = value`, in order,
/// joined by `, `, such as `O = TLS Workbook, CN = TLS Workbook Root CA`.
pub fn name_line(name: &X509NameRef) -> String {
    // BEGIN EXERCISE
    let mut parts = Vec::new();
    for e in name.entries() {
        let short = e.object().nid().short_name().unwrap_or("?");
        parts.push(format!(
            "{short} = {}",
            e.data().to_string().unwrap_or_default()
        ));
    }
    parts.join(", ")
    // END EXERCISE
}

/// The DNS names and the IP addresses of `cert`'s subject alternative names, each in the
/// certificate's order; two empty lists when it has no such extension.
pub fn alt_names(cert: &X509Ref) -> (Vec<String>, Vec<IpAddr>) {
    // BEGIN EXERCISE
    let mut dns = Vec::new();
    let mut ips = Vec::new();
    for name in cert.subject_alt_names().into_iter().flatten() {
        if let Some(d) = name.dnsname() {
            dns.push(d.to_string());
        } else if let Some(bytes) = name.ipaddress() {
            // The raw address: 4 bytes for IPv4, 16 for IPv6.
            if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
                ips.push(IpAddr::V4(Ipv4Addr::from(v4)));
            } else if let Ok(v6) = <[u8; 16]>::try_from(bytes) {
                ips.push(IpAddr::V6(Ipv6Addr::from(v6)));
            }
        }
    }
    (dns, ips)
    // END EXERCISE
}

/// Whole days from now until `cert` expires, rounded down (see [`Summary::days_left`]).
pub fn days_left(cert: &X509Ref) -> Result<i64, ErrorStack> {
    // BEGIN EXERCISE
    let now = Asn1Time::days_from_now(0)?;
    let left = now.diff(cert.not_after())?;
    // days and secs share one sign: an hour ago is 0 days and -3600 s. Count in seconds
    // and divide rounding DOWN, so that it is day -1.
    let secs = i64::from(left.days) * 86_400 + i64::from(left.secs);
    Ok(secs.div_euclid(86_400))
    // END EXERCISE
}

/// The SHA-256 fingerprint of `cert` (see [`Summary::sha256_fingerprint`]).
pub fn fingerprint(cert: &X509Ref) -> Result<String, ErrorStack> {
    // BEGIN EXERCISE
    let digest = cert.digest(MessageDigest::sha256())?;
    Ok(digest
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":"))
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
    if !ssl.is_init_finished() {
        return Err(PeerError::HandshakeNotFinished);
    }
    // SSL_get1_peer_certificate: an owned X509, freed when it drops.
    let cert = ssl.peer_certificate().ok_or(PeerError::NoCertificate)?;
    // X509_V_OK is also what a connection without a peer certificate reports, which is
    // why the certificate is asked for first.
    let verdict = ssl.verify_result();
    if verdict != X509VerifyResult::OK {
        return Err(PeerError::NotVerified(verdict));
    }
    summarise(&cert).map_err(PeerError::Unreadable)
    // END EXERCISE
}
