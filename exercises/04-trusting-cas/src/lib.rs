//! Chapter 04: trusting CAs.
//!
//! A client trusts what its context's certificate store holds. The tutorial fills that store
//! with `SSL_CTX_load_verify_locations(ctx, CAfile, CApath)`: a file of CA certificates, read
//! once, or a folder of CA certificates, looked up by the hash of the subject name each time
//! a chain is verified. A folder only works once it is *hashed*: every certificate needs a
//! link named after its subject-name hash, which is what `openssl rehash` makes.
//!
//! Given: [`Link`], [`RehashError`], [`is_certificate_file`], [`make_link`] and the CAfile
//! client [`ca_file_connector`]. You write: the hash name of one certificate, the whole
//! hashed folder, and a client that trusts that folder and nothing else.

use std::error::Error;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use openssl::error::ErrorStack;
use openssl::ssl::{SslConnector, SslMethod};
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::{X509Ref, X509};

/// One link of a hashed folder: `name` (such as `f6cff9a5.0`) points at `target`, the name
/// of a certificate file in the same folder (such as `ca.crt`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Link {
    pub name: String,
    pub target: String,
}

impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {}", self.name, self.target)
    }
}

/// Why a folder could not be hashed.
#[derive(Debug)]
pub enum RehashError {
    /// Reading the folder or a file, or making a link, failed.
    Io(PathBuf, io::Error),
    /// A file that should hold a PEM certificate does not.
    NotACertificate(PathBuf, ErrorStack),
}

impl fmt::Display for RehashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RehashError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            RehashError::NotACertificate(p, e) => {
                write!(f, "{} does not hold a PEM certificate: {e}", p.display())
            }
        }
    }
}

impl Error for RehashError {}

mod example;
pub use example::ca_file_connector;

/// Whether `openssl rehash` reads a file of this name: names ending in `.pem`, `.crt` or
/// `.cer`. (It also reads `.crl` files, for revocation lists; this chapter has none.)
pub fn is_certificate_file(name: &str) -> bool {
    [".pem", ".crt", ".cer"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// Makes `dir/link.name` point at `dir/link.target`: a relative symbolic link where the
/// system has them (what `openssl rehash` makes), a copy elsewhere. OpenSSL's folder lookup
/// only opens the file by its name, so either works.
pub fn make_link(dir: &Path, link: &Link) -> io::Result<()> {
    let at = dir.join(&link.name);
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&link.target, at)
    }
    #[cfg(not(unix))]
    {
        fs::copy(dir.join(&link.target), at).map(|_| ())
    }
}

/// The name OpenSSL's folder lookup looks for first when it needs an issuer with the
/// subject name of `cert`: the subject-name hash as 8 lowercase hex digits, such as
/// `f6cff9a5` (what `openssl x509 -hash -noout` prints).
pub fn hash_name(cert: &X509Ref) -> String {
    // BEGIN EXERCISE
    todo!(
        "ch04: return the name OpenSSL's folder lookup opens for `cert`: the hash of its SUBJECT \
         name (the name an issuer is looked up by), written exactly as `openssl x509 -hash` prints \
         it, as 8 lowercase hex digits, leading zeros included"
    )
    // END EXERCISE
}

/// Hashes the folder `dir` as `openssl rehash` does: for every certificate file in it
/// (see [`is_certificate_file`]), taken in name order, a link `HASH.N` made with
/// [`make_link`], where `HASH` is [`hash_name`] and `N` counts the certificates before it
/// with the same hash: `.0` for the first, `.1` for the next. Returns the links it made.
///
/// Like the folders of the tests, `dir` holds no file with several certificates and no
/// certificate twice (`openssl rehash` skips those, with a warning).
pub fn rehash(dir: &Path) -> Result<Vec<Link>, RehashError> {
    // BEGIN EXERCISE
    todo!(
        "ch04: hash the folder as `openssl rehash` does: every certificate file, in name order, \
         gets a link HASH.N to it, where HASH is its hash_name and N counts the earlier \
         certificates with the same hash (.0 first), because the lookup opens .0, .1, ... and \
         stops at the first missing name; return the links you made"
    )
    // END EXERCISE
}

/// A client that trusts the CA certificates of the hashed folder `dir` (the tutorial's
/// CApath) and nothing else: not OpenSSL's default verify paths, not the system's CAs. Like
/// every `SslConnector`, it checks the server's certificate and name.
pub fn dir_connector(dir: &Path) -> Result<SslConnector, ErrorStack> {
    // BEGIN EXERCISE
    todo!(
        "ch04: build an SslConnector that trusts the hashed folder `dir` and nothing else. A fresh \
         SslConnector builder already trusts OpenSSL's default verify paths (the machine's CAs, \
         and whatever SSL_CERT_FILE and SSL_CERT_DIR name), so adding the folder to its store is \
         not enough: the client would trust every CA of the machine"
    )
    // END EXERCISE
}
