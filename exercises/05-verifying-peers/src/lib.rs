//! Chapter 05: verifying the peer, on both sides. The tutorial's Example 1 (a server that
//! requires a client certificate signed by its CA) and Example 2 (a client that has a
//! certificate of its own and trusts one CA), with today's API; a verify callback that writes
//! down why a chain failed; and the question every application must ask after the handshake:
//! who is on the other end, and do I *know* it?
//!
//! A TLS program is judged by what it refuses. Fill in the marked places.

use std::path::Path;
use std::sync::{Arc, Mutex};

use openssl::error::ErrorStack;
use openssl::ssl::{
    Ssl, SslAcceptor, SslConnector, SslConnectorBuilder, SslFiletype, SslMethod, SslRef,
    SslVerifyMode, SslVersion,
};
use openssl::x509::store::{X509Lookup, X509StoreBuilder};
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509NameRef, X509StoreContextRef, X509VerifyResult};

/// One reason a certificate chain failed, as OpenSSL reported it to the verify callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failure {
    /// OpenSSL's verify error: 10 expired, 18 self-signed, 20 unknown issuer, 22 chain too
    /// long, 23 revoked, 62 wrong host name, ... (`X509_STORE_CTX_get_error`).
    pub error: X509VerifyResult,
    /// Where in the chain: 0 is the peer's own certificate, 1 the certificate above it, and
    /// so on up to the root (`X509_STORE_CTX_get_error_depth`).
    pub depth: u32,
}

/// Where a context's verify callback writes its [`Failure`]s, shared with whoever reads
/// them afterwards (a log, a test).
pub type Failures = Arc<Mutex<Vec<Failure>>>;

/// The verify callback. OpenSSL calls it as it checks the chain, root first; for each error
/// it finds, it calls it with `preverify_ok` false and the error and its depth in `ctx`.
/// Record every failure in `failures`, then return `preverify_ok` unchanged: the callback
/// explains, OpenSSL decides.
///
/// C: `int verify_callback(int preverify_ok, X509_STORE_CTX *ctx)`, with
/// `X509_STORE_CTX_get_error` and `X509_STORE_CTX_get_error_depth`.
pub fn record_failure(
    failures: &Failures,
    preverify_ok: bool,
    ctx: &mut X509StoreContextRef,
) -> bool {
    // BEGIN EXERCISE
    todo!("ch05: record what went wrong, and where in the chain, each time OpenSSL reports a certificate that failed, into `failures`; then give OpenSSL back its own verdict unchanged, so that what failed is still refused")
    // END EXERCISE
}

/// Example 1: a server that will talk only to clients holding a certificate that `ca`
/// signed itself, with no intermediate CA between them. A client that sends no certificate
/// is refused; every failure goes through [`record_failure`] into `failures`.
///
/// The server's own identity (`cert_chain`, `key`) is loaded for you, as in chapter 03.
///
/// C: `SSL_CTX_load_verify_locations(ctx, CA_CERT, NULL)`,
/// `SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | ..., verify_callback)`,
/// `SSL_CTX_set_verify_depth(ctx, ...)`.
pub fn server(
    cert_chain: &Path,
    key: &Path,
    ca: &Path,
    failures: &Failures,
) -> Result<SslAcceptor, ErrorStack> {
    let mut builder = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())?;
    builder.set_certificate_chain_file(cert_chain)?;
    builder.set_private_key_file(key, SslFiletype::PEM)?;
    builder.check_private_key()?;
    // BEGIN EXERCISE
    todo!("ch05: trust `ca`, require a client certificate and verify it (asking for one is not requiring one: a client that sends none must be refused), with every failure going through record_failure, and allow no intermediate CA between the client's certificate and `ca`");
    // END EXERCISE
    Ok(builder.build())
}

/// Example 2: a client that presents its own certificate (`cert_chain`: the leaf, then any
/// intermediates; `key`: its private key) and trusts the CA in `ca`. It refuses any server
/// whose chain does not verify, and any chain with more than one intermediate CA between the
/// server's certificate and the root. Every failure goes through [`record_failure`] into
/// `failures`. With a `crl`, revoked certificates are refused too (that part is written).
///
/// C: `SSL_CTX_use_certificate_file` (today the chain file),
/// `SSL_CTX_use_PrivateKey_file`, `SSL_CTX_load_verify_locations`, `SSL_CTX_set_verify`,
/// `SSL_CTX_set_verify_depth`.
pub fn client(
    cert_chain: &Path,
    key: &Path,
    ca: &Path,
    crl: Option<&Path>,
    failures: &Failures,
) -> Result<SslConnector, ErrorStack> {
    let mut builder = SslConnector::builder(SslMethod::tls_client())?;
    builder.set_min_proto_version(Some(SslVersion::TLS1_2))?;
    // The builder loaded OpenSSL's default trust store; an empty store instead, so that the
    // CA you load below is the only one this client trusts (chapter 04 shows why).
    builder.set_cert_store(X509StoreBuilder::new()?.build());
    // BEGIN EXERCISE
    todo!("ch05: present the client's own certificate chain and key (checked to belong together), trust `ca`, verify the server with every failure going through record_failure, and allow at most one intermediate CA between the server's certificate and `ca`: a longer chain is refused");
    // END EXERCISE
    if let Some(crl) = crl {
        check_revocation(&mut builder, crl)?;
    }
    Ok(builder.build())
}

/// Loads the certificate revocation list in `crl` (PEM) into the context's store and turns
/// on CRL checking for the peer's certificate: a certificate the list names is refused with
/// "certificate revoked" (23). With `CRL_CHECK` on, a chain whose leaf's CA has no CRL
/// loaded fails too ("unable to get certificate CRL", 3).
pub fn check_revocation(builder: &mut SslConnectorBuilder, crl: &Path) -> Result<(), ErrorStack> {
    let lookup = builder.cert_store_mut().add_lookup(X509Lookup::file())?;
    lookup.load_crl_file(crl, SslFiletype::PEM)?;
    builder
        .verify_param_mut()
        .set_flags(X509VerifyFlags::CRL_CHECK)
}

/// One connection of `connector` to the server called `host`, ready for its handshake: the
/// server's certificate must be issued for `host`.
///
/// C: `SSL_new`, `SSL_set_tlsext_host_name`, `SSL_set1_host`.
pub fn connection(connector: &SslConnector, host: &str) -> Result<Ssl, ErrorStack> {
    // BEGIN EXERCISE
    todo!("ch05: make the connection for `host` from the connector's settings, so that the name is sent to the server (SNI) and the server's certificate must have been issued for it")
    // END EXERCISE
}

/// The peer of a finished handshake, as the application may trust it: its subject name (as
/// [`subject_line`] writes it) when the peer presented a certificate *and* that certificate
/// verified; `None` otherwise. Remember the tutorial's warning: `X509_V_OK` is also the
/// result when no certificate was sent at all.
///
/// C: `SSL_get_peer_certificate` (today `SSL_get1_peer_certificate`) and
/// `SSL_get_verify_result`.
pub fn authenticated_peer(ssl: &SslRef) -> Option<String> {
    // BEGIN EXERCISE
    todo!("ch05: return the peer's subject_line only when the peer presented a certificate AND it verified. Asking only whether verification reported an error is not enough: \"no error\" is also the verdict when the peer sent no certificate at all")
    // END EXERCISE
}

/// A subject name on one line, in the certificate's order: `O=TLS Workbook, CN=localhost`.
pub fn subject_line(name: &X509NameRef) -> String {
    name.entries()
        .map(|e| {
            let key = e.object().nid().short_name().unwrap_or("?");
            let value = e.data().to_string().unwrap_or_else(|_| "?".into());
            format!("{key}={value}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}
