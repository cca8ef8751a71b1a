//! The chapter's worked example, shown on its page: a client that is not Example 2.

use std::path::Path;

use ch05_verifying_peers::{record_failure, Failures};
use openssl::error::ErrorStack;
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode, SslVersion};

// ANCHOR: probe
/// A probe for a monitoring job: it connects to servers whose certificates should chain
/// to `ca`, checks them, and reports every problem into `failures`, yet finishes the handshake
/// whatever it finds, so the job can see the certificate that is wrong. Such a client must
/// never send anything secret, and `authenticated_peer` must never call its peer known.
pub fn probe(ca: &Path, failures: &Failures) -> Result<SslConnector, ErrorStack> {
    let mut builder = SslConnector::builder(SslMethod::tls_client())?;
    builder.set_min_proto_version(Some(SslVersion::TLS1_2))?;
    builder.set_ca_file(ca)?;
    let failures = failures.clone();
    // NONE: verify, call the callback, record the result, but never stop the handshake.
    builder.set_verify_callback(SslVerifyMode::NONE, move |ok, ctx| {
        record_failure(&failures, ok, ctx)
    });
    builder.set_verify_depth(1);
    Ok(builder.build())
}
// ANCHOR_END: probe
