//! Chapter 02: methods and versions.
//!
//! The tutorial picks one protocol version per context (`SSLv3_method()`, `TLSv1_method()`,
//! ...). Today there is one flexible method per role, and a context says which *range* of
//! versions it accepts. The handshake then picks the highest version in both ranges.
//!
//! Given: [`Version`] and [`Range`]. You write: a client context and a server context for a
//! range, a function that predicts what those two contexts agree on, and the client you
//! would actually ship. The book's worked example is a different server,
//! `testkit::lab::one_version_server`, that speaks one version, old ones included.

use std::fmt;
use std::path::Path;

use openssl::error::ErrorStack;
use openssl::ssl::{SslAcceptor, SslConnector, SslFiletype, SslMethod, SslVersion};

/// The TLS versions OpenSSL 3 still speaks. SSL 2.0 and SSL 3.0 are not here: OpenSSL has
/// had no SSL 2.0 code since 1.1.0, and builds without SSL 3.0 by default (Debian's 3.0.19
/// has no `SSLv3_method` at all).
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

/// A client context that speaks exactly the versions of `range`, both ends included,
/// trusts the CA in `ca_file`, and (as every `SslConnector` does) checks the server's
/// certificate and name.
///
/// Exactly means exactly: OpenSSL 3.0's default security level does not remove TLS 1.0
/// (a server offering RSA key transport gets it), so only the range decides.
pub fn client_context(range: Range, ca_file: &Path) -> Result<SslConnector, ErrorStack> {
    // BEGIN EXERCISE
    todo!(
        "ch02: return a client context that speaks exactly the versions of `range` and trusts \
         `ca_file`. The flexible client method can speak every version, so both ends of the \
         range must be set on the builder: OpenSSL's security level will not remove TLS 1.0 for \
         you (see the book, and `cargo workbook hint 2`)"
    )
    // END EXERCISE
}

/// A server context built on Mozilla's "intermediate" profile, presenting the certificate
/// chain in `cert_chain` (leaf first, then the intermediates a client needs to reach the
/// root) with the key in `key`, and speaking the versions of `range` that the profile
/// allows: it never speaks TLS 1.0 or 1.1, whatever `range` says.
pub fn server_context(
    range: Range,
    cert_chain: &Path,
    key: &Path,
) -> Result<SslAcceptor, ErrorStack> {
    // BEGIN EXERCISE
    todo!(
        "ch02: return a server context on Mozilla's intermediate profile that presents the \
         whole chain in `cert_chain` (a client trusts only the root) with its key, checks that \
         they belong together, and keeps to `range`"
    )
    // END EXERCISE
}

/// The version that a client from [`client_context`]`(client, ..)` and a server from
/// [`server_context`]`(server, ..)` agree on, or `None` if their handshake fails.
pub fn predict(client: Range, server: Range) -> Option<Version> {
    // BEGIN EXERCISE
    todo!(
        "ch02: predict the version your client_context(client) and server_context(server) \
         agree on: the server picks the highest version both accept, or None. What does the \
         server's Mozilla profile allow below TLS 1.2?"
    )
    // END EXERCISE
}

/// The client you would ship: TLS 1.2 at least, no upper limit (a newer version is used as
/// soon as OpenSSL knows it), certificates verified against the CA in `ca_file`. It refuses
/// a server that offers only TLS 1.0 or 1.1, even one that OpenSSL's default security level
/// would let through.
pub fn modern_client(ca_file: &Path) -> Result<SslConnector, ErrorStack> {
    // BEGIN EXERCISE
    todo!(
        "ch02: return the client you would ship: trusts `ca_file`, speaks TLS 1.2 and newer \
         (no upper limit, so TLS 1.3 and whatever comes next), and refuses a server that offers \
         only TLS 1.0 or 1.1, which OpenSSL's default security level does not always refuse"
    )
    // END EXERCISE
}
