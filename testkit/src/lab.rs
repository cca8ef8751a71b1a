//! Chapter 02's lab server: a server that speaks exactly one TLS version, the old ones
//! included, so that a test can show what a client really accepts. It is the book's worked
//! example for version ranges, and a museum piece: no real server should be built this way.

use openssl::error::ErrorStack;
use openssl::pkey::{PKey, Private};
use openssl::ssl::{SslAcceptor, SslMethod, SslOptions, SslVersion};
use openssl::x509::X509;

/// A server that speaks `version` and nothing else, with the identity `cert` + `key`.
///
/// For TLS 1.0 and 1.1 it offers only `AES128-SHA` (RSA key transport, CBC, SHA-1) at
/// security level 0, so `cert` must then hold an RSA key. RSA key transport has no
/// handshake signature, and on OpenSSL 3.0 a client at its default security level
/// completes such a handshake: only the client's minimum version refuses it.
// ANCHOR: lab_server
pub fn one_version_server(
    version: SslVersion,
    cert: &X509,
    key: &PKey<Private>,
) -> Result<SslAcceptor, ErrorStack> {
    // SSL_CTX_new(TLS_server_method()) plus Mozilla's "intermediate" settings.
    let mut lab = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())?;
    // The profile forbids TLS 1.0 and 1.1 with two options (SSL_OP_NO_TLSv1, ...).
    // A minimum version does not undo options: they must be cleared.
    lab.clear_options(SslOptions::NO_TLSV1 | SslOptions::NO_TLSV1_1);
    // A range of one version: the same at both ends.
    lab.set_min_proto_version(Some(version))?;
    lab.set_max_proto_version(Some(version))?;
    if version == SslVersion::TLS1 || version == SslVersion::TLS1_1 {
        // The profile's suites are all TLS 1.2 AEAD suites; an old version needs an old
        // suite. "@SECLEVEL=0" lets this server use SHA-1 and other weak parts.
        lab.set_cipher_list("AES128-SHA:@SECLEVEL=0")?;
    }
    lab.set_certificate(cert)?;
    lab.set_private_key(key)?;
    lab.check_private_key()?;
    Ok(lab.build())
}
// ANCHOR_END: lab_server
