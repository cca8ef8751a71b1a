//! Chapter 02: methods and versions.
//!
//! The tutorial picks one protocol version per context (`SSLv3_method()`, `TLSv1_method()`,
//! ...). Today there is one flexible method per role, and a context says which *range* of
//! versions it accepts. The handshake then picks the highest version in both ranges.
//!
//! Given: [`Version`] and [`Range`]. You write: a client context and a server context for a
//! range, a function that predicts what two ranges agree on, and the client you would
//! actually ship.

use std::fmt;
use std::path::Path;

use openssl::error::ErrorStack;
use openssl::ssl::{SslAcceptor, SslConnector, SslFiletype, SslMethod, SslVersion};

/// The TLS versions OpenSSL 3 still knows. SSL 2.0 and SSL 3.0 are not here: OpenSSL 3 is
/// built without them, and no context can ask for them.
///
/// The order is the protocol's order, so `Version::Tls12 < Version::Tls13`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    Tls10,
    Tls11,
    Tls12,
    Tls13,
}

impl Version {
    /// Every version, oldest first.
    pub const ALL: [Version; 4] = [
        Version::Tls10,
        Version::Tls11,
        Version::Tls12,
        Version::Tls13,
    ];

    /// The crate's constant for this version, for `set_min_proto_version` and
    /// `set_max_proto_version` (the C macros `TLS1_VERSION` ... `TLS1_3_VERSION`).
    pub fn to_ssl(self) -> SslVersion {
        match self {
            Version::Tls10 => SslVersion::TLS1,
            Version::Tls11 => SslVersion::TLS1_1,
            Version::Tls12 => SslVersion::TLS1_2,
            Version::Tls13 => SslVersion::TLS1_3,
        }
    }

    /// The name OpenSSL gives the version: what `SslRef::version_str()` (the C
    /// `SSL_get_version`) returns after a handshake, and what `openssl s_client` prints on
    /// its "Protocol" line. Note that TLS 1.0 is plain "TLSv1".
    pub fn name(self) -> &'static str {
        match self {
            Version::Tls10 => "TLSv1",
            Version::Tls11 => "TLSv1.1",
            Version::Tls12 => "TLSv1.2",
            Version::Tls13 => "TLSv1.3",
        }
    }

    /// The version a finished handshake agreed on, read with `SslRef::version2()`.
    pub fn from_ssl(v: SslVersion) -> Option<Version> {
        Version::ALL.into_iter().find(|ours| ours.to_ssl() == v)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The versions one side is willing to speak, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Range {
    pub min: Version,
    pub max: Version,
}

impl Range {
    pub const fn new(min: Version, max: Version) -> Range {
        Range { min, max }
    }

    /// A range of one version.
    pub const fn only(v: Version) -> Range {
        Range { min: v, max: v }
    }

    pub fn contains(self, v: Version) -> bool {
        self.min <= v && v <= self.max
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min == self.max {
            write!(f, "{} only", self.min)
        } else {
            write!(f, "{} to {}", self.min, self.max)
        }
    }
}

/// A client context that speaks exactly the versions of `range`, trusts the CA in
/// `ca_file`, and (as every `SslConnector` does) checks the server's certificate and name.
pub fn client_context(range: Range, ca_file: &Path) -> Result<SslConnector, ErrorStack> {
    // BEGIN EXERCISE
    todo!(
        "ch02: build a client context for `range` that trusts `ca_file`: \
         SslConnector::builder(SslMethod::tls_client()), set_ca_file, then \
         set_min_proto_version(Some(range.min.to_ssl())) and set_max_proto_version(...), build()"
    )
    // END EXERCISE
}

/// A server context that speaks exactly the versions of `range` (as far as the security
/// level lets it), presenting the certificate chain in `cert_chain` with the key in `key`.
pub fn server_context(
    range: Range,
    cert_chain: &Path,
    key: &Path,
) -> Result<SslAcceptor, ErrorStack> {
    // BEGIN EXERCISE
    todo!(
        "ch02: build a server context for `range` from `cert_chain` and `key`: \
         SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()), \
         set_certificate_chain_file, set_private_key_file(_, SslFiletype::PEM), check_private_key, \
         then set_min_proto_version / set_max_proto_version from `range`, build()"
    )
    // END EXERCISE
}

/// The version a client with range `client` and a server with range `server` agree on,
/// or `None` if their handshake fails.
///
/// Both sides are assumed to run OpenSSL 3 at its default security level, as the contexts
/// of this chapter do.
pub fn predict(client: Range, server: Range) -> Option<Version> {
    // BEGIN EXERCISE
    todo!(
        "ch02: predict the version two ranges agree on: the highest version inside both \
         ranges, or None. Mind the security level: what does OpenSSL 3 do with TLS 1.0 and 1.1?"
    )
    // END EXERCISE
}

/// The client you would ship: TLS 1.2 at least, no upper limit (a newer version is used as
/// soon as OpenSSL knows it), certificates verified against the CA in `ca_file`.
pub fn modern_client(ca_file: &Path) -> Result<SslConnector, ErrorStack> {
    // BEGIN EXERCISE
    todo!(
        "ch02: build the client you would ship: SslConnector::builder(SslMethod::tls_client()), \
         set_ca_file, and a minimum of SslVersion::TLS1_2 (set_min_proto_version); leave the \
         maximum open"
    )
    // END EXERCISE
}
