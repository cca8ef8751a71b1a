//! Chapter 03: a server's identity. A certificate (public, sent to every client) and the
//! private key that belongs to it (secret, never sent), loaded each way the tutorial lists:
//! PEM files, DER files, PKCS#8 bytes, an encrypted PEM key, an old "BEGIN RSA PRIVATE KEY"
//! key, and certificates already in memory. Last, one connection that gets a different
//! identity from the one its context holds.
//!
//! Every function that builds a server ends with the same question to OpenSSL: does this key
//! belong to this certificate? Fill in the marked places.

use std::path::Path;

use openssl::error::ErrorStack;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::ssl::{SslAcceptor, SslAcceptorBuilder, SslFiletype, SslMethod, SslRef};
use openssl::x509::X509;

/// Any error, boxed: [`use_for_this_connection`] reports a mismatch that OpenSSL has no
/// error code for.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The server context every function here starts from: Mozilla's "intermediate" settings
/// (TLS 1.2 and 1.3) and no identity yet. `SSL_CTX_new(TLS_server_method())` in C, plus the
/// settings.
pub fn server_builder() -> Result<SslAcceptorBuilder, ErrorStack> {
    SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())
}

/// A server whose identity comes from two PEM files: `chain` holds the server's certificate
/// first and then the intermediates a client needs to reach the root; `key` holds the
/// private key (PKCS#8 "BEGIN PRIVATE KEY" or the older "BEGIN EC/RSA PRIVATE KEY").
///
/// C: `SSL_CTX_use_certificate_chain_file`, `SSL_CTX_use_PrivateKey_file(.., SSL_FILETYPE_PEM)`,
/// `SSL_CTX_check_private_key`. Do not hand this an encrypted key: see [`key_from_encrypted_pem`].
pub fn server_from_pem_files(chain: &Path, key: &Path) -> Result<SslAcceptor, ErrorStack> {
    let mut builder = server_builder()?;
    // BEGIN EXERCISE
    todo!(
        "ch03: give the server its identity from two PEM files: the whole chain in `chain` (leaf \
         first, then intermediates; a client trusts only the root, so the intermediates must be \
         sent) and the key in `key`, then ask OpenSSL whether the key belongs to the certificate, \
         because a key of another type loads without a word"
    );
    // END EXERCISE
    Ok(builder.build())
}

/// A server whose identity comes from two DER ("ASN.1") files: one certificate, one private
/// key. A DER file holds exactly one object, so there is no chain here.
///
/// C: `SSL_CTX_use_certificate_file(.., SSL_FILETYPE_ASN1)`,
/// `SSL_CTX_use_PrivateKey_file(.., SSL_FILETYPE_ASN1)`, `SSL_CTX_check_private_key`.
pub fn server_from_der_files(cert: &Path, key: &Path) -> Result<SslAcceptor, ErrorStack> {
    let mut builder = server_builder()?;
    // BEGIN EXERCISE
    todo!(
        "ch03: give the server its identity from two DER files, one certificate and one key (DER \
         is the binary form, one object per file, so there is no chain), and refuse a key that \
         does not belong to the certificate"
    );
    // END EXERCISE
    Ok(builder.build())
}

/// Decrypts a passphrase-protected PEM key ("BEGIN ENCRYPTED PRIVATE KEY") held in memory.
/// A wrong passphrase is an error, never a prompt.
///
/// C: `PEM_read_bio_PrivateKey(bio, NULL, NULL, passphrase)`. Never let OpenSSL open an
/// encrypted key without a passphrase (`SSL_CTX_use_PrivateKey_file`,
/// `PKey::private_key_from_pem`): it then asks for one, on the terminal or else on standard
/// input, and waits for an answer.
pub fn key_from_encrypted_pem(pem: &[u8], passphrase: &str) -> Result<PKey<Private>, ErrorStack> {
    // BEGIN EXERCISE
    todo!(
        "ch03: decrypt the PEM key with the `passphrase` you were given. OpenSSL must never have \
         to ask for one: without a passphrase it prompts on the terminal or reads standard input, \
         and a server (or a test) waits there"
    )
    // END EXERCISE
}

/// Reads an unencrypted PKCS#8 key in DER form: the bytes of a `.key.der` file.
///
/// C: `d2i_PKCS8_PRIV_KEY_INFO` + `EVP_PKCS82PKEY`; `SSL_CTX_use_PrivateKey_ASN1` reads DER
/// bytes straight into a context.
pub fn key_from_pkcs8_der(der: &[u8]) -> Result<PKey<Private>, ErrorStack> {
    // BEGIN EXERCISE
    todo!(
        "ch03: read an unencrypted PKCS#8 key in DER form, and refuse anything else, PEM text \
         included: a reader that guesses the format would accept what this function promises to \
         refuse"
    )
    // END EXERCISE
}

/// Reads an RSA key in the traditional PEM form ("BEGIN RSA PRIVATE KEY") through the
/// RSA-only loader, then wraps it in the generic key type the TLS calls take. A key of any
/// other type is an error.
///
/// C: `PEM_read_bio_RSAPrivateKey` + `SSL_CTX_use_RSAPrivateKey` (deprecated in OpenSSL 3),
/// which today is `EVP_PKEY_set1_RSA` + `SSL_CTX_use_PrivateKey`.
pub fn key_from_legacy_rsa_pem(pem: &[u8]) -> Result<PKey<Private>, ErrorStack> {
    // BEGIN EXERCISE
    todo!(
        "ch03: read a \"BEGIN RSA PRIVATE KEY\" key with the reader that knows RSA keys only, so \
         that a key of another type is an error, then turn it into the generic key type every TLS \
         call takes"
    )
    // END EXERCISE
}

/// A server from an identity already in memory: the leaf certificate, the intermediates to
/// send with it (leaf side first, no root), and the private key.
///
/// C: `SSL_CTX_use_certificate`, `SSL_CTX_add_extra_chain_cert` for each intermediate,
/// `SSL_CTX_use_PrivateKey`, `SSL_CTX_check_private_key`.
pub fn server_from_memory(
    cert: &X509,
    chain: &[X509],
    key: &PKey<Private>,
) -> Result<SslAcceptor, ErrorStack> {
    let mut builder = server_builder()?;
    // BEGIN EXERCISE
    todo!(
        "ch03: give the server the identity held in memory: `cert`, each intermediate of `chain` \
         so that clients can reach the root, and `key`; then refuse a key that does not belong to \
         `cert`, because a key of another type loads without a word"
    );
    // END EXERCISE
    Ok(builder.build())
}

/// Gives one connection its own identity, before its handshake: `ssl` was made from a
/// context that holds the usual one. The certificate, its intermediates and its key go on
/// this connection only; the context and every other connection keep theirs. A key that
/// does not belong to `cert` is an error.
///
/// `cert` may hold a key of another type than the context's (an RSA identity on an EC
/// context): OpenSSL then keeps both, one per key-type slot, and the client's signature
/// algorithms choose. Either way the client must receive `cert` with its intermediates.
///
/// C: `SSL_use_certificate`, `SSL_use_PrivateKey`, `SSL_add0_chain_cert`,
/// `SSL_check_private_key`. The crate has no binding for the last one, so compare the public
/// halves yourself.
pub fn use_for_this_connection(
    ssl: &mut SslRef,
    cert: &X509,
    chain: &[X509],
    key: &PKey<Private>,
) -> Result<(), Error> {
    // BEGIN EXERCISE
    todo!(
        "ch03: give this connection alone the identity cert + chain + key; the context and every \
         other connection keep theirs. Order matters: a chain goes to the key-type slot of the \
         certificate set last, so the certificate comes before its chain. Return an error unless \
         the key belongs to `cert`: the crate cannot ask OpenSSL for that check on one connection, \
         so compare the public halves yourself"
    );
    // END EXERCISE
    Ok(())
}
