//! Tests of the code we ship outside the learner's regions (the `Display` of `PeerError`).
//! They live in the solution crate, not in the shared
//! `exercises/09-peer-certificate/tests/peer.rs`, because every test of that shared file
//! must fail on the unsolved exercise, and these pass on it.

use ch09_peer_certificate::PeerError;
use openssl::x509::{X509VerifyResult, X509};

// No verdict here depends on the CAs this machine trusts (see the macro).
testkit::no_system_trust!();

#[test]
fn every_peer_error_displays_as_a_sentence() {
    let verdict = X509VerifyResult::APPLICATION_VERIFICATION;
    let stack = X509::from_pem(b"not a certificate").unwrap_err();
    let stack_text = stack.to_string();
    for (e, expected) in [
        (
            PeerError::HandshakeNotFinished,
            "the handshake has not finished".to_string(),
        ),
        (
            PeerError::NoCertificate,
            "the peer sent no certificate".to_string(),
        ),
        (
            PeerError::NotVerified(verdict),
            format!(
                "the peer's certificate did not verify: {}",
                verdict.error_string()
            ),
        ),
        (
            PeerError::Unreadable(stack),
            format!("cannot read the certificate: {stack_text}"),
        ),
    ] {
        assert_eq!(
            e.to_string(),
            expected,
            "PeerError displays as one sentence that says why there is no summary (and \
             OpenSSL's reason, where it gave one): wrong for {e:?}"
        );
    }
}
