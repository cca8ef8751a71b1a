//! The book's worked example, the same in the exercise and the solution: a
//! client that trusts the CA certificates of one PEM file (the tutorial's
//! CAfile) and nothing else.

use std::path::Path;

use openssl::error::ErrorStack;
use openssl::ssl::{SslConnector, SslFiletype, SslMethod};
use openssl::x509::store::{X509Lookup, X509StoreBuilder};

/// A client that trusts the CA certificates in `ca_file` and nothing else.
pub fn ca_file_connector(ca_file: &Path) -> Result<SslConnector, ErrorStack> {
    // SslConnector::builder already filled the store with OpenSSL's
    // default verify paths (SSL_CERT_FILE, SSL_CERT_DIR, or the system's).
    let mut builder = SslConnector::builder(SslMethod::tls_client())?;

    // A store of our own, read from one file:
    // X509_LOOKUP_file + X509_load_cert_file.
    let mut store = X509StoreBuilder::new()?;
    store
        .add_lookup(X509Lookup::file())?
        .load_cert_file(ca_file, SslFiletype::PEM)?;

    // SSL_CTX_set_cert_store: the new store replaces the default one, so the
    // client trusts this file and nothing else.
    builder.set_cert_store(store.build());
    Ok(builder.build())
}
