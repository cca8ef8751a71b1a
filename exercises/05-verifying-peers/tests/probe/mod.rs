//! The chapter's worked example, shown on its page: a client that is not Example 2.

use std::path::Path;

use ch05_verifying_peers::{record_failure, Failures};
use openssl::error::ErrorStack;
use openssl::ssl::{SslConnector, SslFiletype, SslMethod, SslVerifyMode, SslVersion};
use openssl::x509::store::{X509Lookup, X509StoreBuilder};

// ANCHOR: probe
/// A probe for a monitoring job: it connects to servers whose certificates should chain
/// to `ca`, checks them, and reports every problem into `failures`, yet finishes the handshake
/// whatever it finds, so the job can see the certificate that is wrong. Such a client must
/// never send anything secret, and `authenticated_peer` must never call its peer known.
pub fn probe(ca: &Path, failures: &Failures) -> Result<SslConnector, ErrorStack> {
    let mut builder = SslConnector::builder(SslMethod::tls_client())?;
    builder.set_min_proto_version(Some(SslVersion::TLS1_2))?;
    // A store of its own, holding the one CA the job checks against (chapter 04's pin).
    let mut store = X509StoreBuilder::new()?;
    store
        .add_lookup(X509Lookup::file())?
        .load_cert_file(ca, SslFiletype::PEM)?;
    builder.set_cert_store(store.build());
    let log = failures.clone();
    // NONE: verify, call the callback, record the result, but never stop the handshake.
    builder.set_verify_callback(SslVerifyMode::NONE, move |preverified, chain| {
        record_failure(&log, preverified, chain)
    });
    // A monitoring job wants to see long chains too, and to report them.
    builder.set_verify_depth(4);
    Ok(builder.build())
}
// ANCHOR_END: probe
