//! Chapter 03's worked example: the *client* side of an identity. In mutual TLS the client
//! proves who it is just as a server does, with a certificate chain and the key that belongs
//! to it. Here the chain and an encrypted key come as PEM bytes (from a secret store, say).

use openssl::error::ErrorStack;
use openssl::pkey::PKey;
use openssl::ssl::{SslConnector, SslMethod};
use openssl::x509::X509;

/// Any error, boxed: an empty chain is not an OpenSSL error.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// A client that trusts `ca` and presents the identity in `chain_pem` (leaf first, then the
/// intermediates) with the encrypted PKCS#8 key `key_pem`, opened with `passphrase`.
// ANCHOR: client_identity
pub fn client_with_identity(
    ca: &X509,
    chain_pem: &[u8],
    key_pem: &[u8],
    passphrase: &str,
) -> Result<SslConnector, Error> {
    let mut client = SslConnector::builder(SslMethod::tls_client())?;
    client.cert_store_mut().add_cert(ca.clone())?;

    // PEM_read_bio_X509 in a loop: every certificate of the text, leaf first.
    let mut certificates = X509::stack_from_pem(chain_pem)?.into_iter();
    let leaf = certificates
        .next()
        .ok_or("the chain holds no certificate")?;

    // PEM_read_bio_PrivateKey with a callback: OpenSSL calls it when it meets an encrypted
    // key, and the callback writes the passphrase into OpenSSL's buffer. Nothing prompts.
    let key = PKey::private_key_from_pem_callback(key_pem, |buf| {
        let secret = passphrase.as_bytes();
        if secret.len() > buf.len() {
            return Err(ErrorStack::get());
        }
        buf[..secret.len()].copy_from_slice(secret);
        Ok(secret.len())
    })?;

    // The leaf, its key, then the intermediates that lead from the leaf to the root.
    client.set_certificate(&leaf)?;
    client.set_private_key(&key)?;
    for intermediate in certificates {
        client.add_extra_chain_cert(intermediate)?;
    }
    // Does the key belong to the leaf? OpenSSL does not always notice by itself.
    client.check_private_key()?;
    Ok(client.build())
}
// ANCHOR_END: client_identity

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::{self, ReferenceServer};

    #[test]
    fn the_worked_example_proves_the_clients_identity_with_its_intermediate() {
        let p = certs::pki();
        let id = &p.client_chain;
        let key = id.key_encrypted_pem(certs::PASSPHRASE);
        let client = client_with_identity(
            &p.ca.cert,
            id.chain_pem().as_bytes(),
            key.as_bytes(),
            certs::PASSPHRASE,
        )
        .unwrap();
        // The server trusts the root only, so the client must send the intermediate.
        let server = ReferenceServer::echo(reference::acceptor_requiring_client(&p.server, &p.ca));
        let tls = reference::connect(&client, server.addr, certs::HOST);
        assert!(tls.is_ok(), "{tls:?}");

        let wrong =
            client_with_identity(&p.ca.cert, id.chain_pem().as_bytes(), key.as_bytes(), "no");
        assert!(wrong.is_err(), "a wrong passphrase must be an error");
    }
}
