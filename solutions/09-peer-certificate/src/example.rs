//! The book's worked example, the same in the exercise and the solution:
//! this side's OWN certificate, described in one line, with names in the
//! format of the tutorial's `X509_NAME_oneline`.

use openssl::asn1::Asn1Time;
use openssl::ssl::SslRef;
use openssl::x509::{X509NameRef, X509Ref};

/// A name in the format of the tutorial's
/// `X509_NAME_oneline`, `/O=TLS Workbook/CN=localhost`.
pub fn oneline(name: &X509NameRef) -> String {
    let mut out = String::new();
    for entry in name.entries() {
        // The short name of the attribute's type: "O", "CN", "C", ...
        let key = entry.object().nid().short_name().unwrap_or("?");
        // The value is an ASN1_STRING; to_string converts any encoding.
        let value = entry.data().to_string().unwrap_or_default();
        out.push_str(&format!("/{key}={value}"));
    }
    out
}

/// One line about the certificate THIS side presents (SSL_get_certificate):
/// `/O=TLS Workbook/CN=localhost, serial 1A2B..., valid from 1 days ago`;
/// `None` if this side has no certificate.
pub fn describe_own(ssl: &SslRef) -> Option<String> {
    // Borrowed from the connection: no reference count, nothing to free.
    let cert: &X509Ref = ssl.certificate()?;
    let serial = cert.serial_number().to_bn().ok()?.to_hex_str().ok()?;
    // ASN1_TIME_diff(from, to): whole days, and the seconds left over.
    let now = Asn1Time::days_from_now(0).ok()?;
    let age = cert.not_before().diff(&now).ok()?;
    Some(format!(
        "{}, serial {serial}, valid from {} days ago",
        oneline(cert.subject_name()),
        age.days
    ))
}
