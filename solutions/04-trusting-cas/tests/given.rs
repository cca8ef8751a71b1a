//! Tests of the code we ship outside the learner's regions (the `Display` of `Link` and
//! `RehashError`). They live in the solution crate, not in the shared
//! `exercises/04-trusting-cas/tests/trust.rs`, because every test of that shared file must
//! fail on the unsolved exercise, and these pass on it.

use std::io;
use std::path::PathBuf;

use ch04_trusting_cas::{Link, RehashError};
use openssl::x509::X509;

// No verdict here depends on the CAs this machine trusts (see the macro).
testkit::no_system_trust!();

#[test]
fn a_link_displays_as_name_arrow_target() {
    let link = Link {
        name: "f6cff9a5.0".to_string(),
        target: "ca.crt".to_string(),
    };
    assert_eq!(
        link.to_string(),
        "f6cff9a5.0 -> ca.crt",
        "a Link displays as \"NAME -> TARGET\", as `ls -l` shows a symbolic link"
    );
}

#[test]
fn a_rehash_io_error_names_the_path_and_the_cause() {
    let e = RehashError::Io(
        PathBuf::from("/certs/ca.crt"),
        io::Error::new(io::ErrorKind::PermissionDenied, "Permission denied"),
    );
    assert_eq!(
        e.to_string(),
        "/certs/ca.crt: Permission denied",
        "RehashError::Io displays as \"PATH: CAUSE\""
    );
}

#[test]
fn a_rehash_not_a_certificate_error_names_the_path_and_openssl_s_reason() {
    let stack = X509::from_pem(b"not a certificate").unwrap_err();
    let reason = stack.to_string();
    let e = RehashError::NotACertificate(PathBuf::from("/certs/junk.pem"), stack);
    assert_eq!(
        e.to_string(),
        format!("/certs/junk.pem does not hold a PEM certificate: {reason}"),
        "RehashError::NotACertificate displays as \"PATH does not hold a PEM certificate: \
         OPENSSL'S ERRORS\""
    );
}
