//! Chapter 13: renegotiation, and what replaced it in TLS 1.3.
//!
//! A connection can change its mind after the handshake. The usual reason: a server lets
//! anyone in, and asks for a client certificate only when the client wants something
//! private. Under TLS 1.2 it does that with a second handshake on the same connection
//! (renegotiation); under TLS 1.3 renegotiation is gone, and the server sends a certificate
//! request after the handshake (post-handshake authentication). TLS 1.3 also renews its
//! traffic keys without a handshake at all (a key update).
//!
//! Given: [`ffi`], the calls the `openssl` crate does not wrap, each with its safety
//! argument; [`Upgrade`]; [`server_base`] and [`client_base`]. You write: a server context
//! that can ask for a client certificate later, the server's request for it under either
//! version, a client context that can answer, a client-initiated renegotiation that reports
//! a refusal, and a key update. The page's worked example (telling a second handshake from
//! none) lives with the tests, in `tests/example/mod.rs`.

use std::io::{self, Read};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use openssl::error::ErrorStack;
use openssl::ssl::{
    self, ErrorCode, SslAcceptor, SslAcceptorBuilder, SslConnector, SslConnectorBuilder,
    SslFiletype, SslMethod, SslOptions, SslRef, SslStream, SslVerifyMode, SslVersion,
};
use openssl::x509::{X509VerifyResult, X509};

/// How long a socket of this chapter waits for its peer.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The most application data [`require_client_certificate`] keeps while it waits.
pub const MAX_RECEIVED: usize = 64 * 1024;

/// `SSL_OP_ALLOW_CLIENT_RENEGOTIATION` (OpenSSL 3.0 and newer): a server with it lets a
/// client start a renegotiation; without it, OpenSSL 3 refuses with a `no_renegotiation`
/// alert. The crate has no named constant for it.
pub const ALLOW_CLIENT_RENEGOTIATION: SslOptions = SslOptions::from_bits_retain(1 << 8);

/// The calls this chapter needs that the `openssl` crate does not wrap, declared as libssl
/// exports them (OpenSSL 1.1.1 and newer), each behind a safe function.
///
/// They take `&SslRef`, which `SslStream::ssl()` gives, though they change the connection:
/// the crate has no `&mut` way to the `SSL` of a stream. That is sound: `SslRef` is an
/// opaque cell to Rust, whose contents only OpenSSL reads and writes, and a connection is
/// used by one thread at a time (`SslStream` is not `Sync`).
pub mod ffi {
    use std::os::raw::{c_int, c_long, c_void};

    use foreign_types::ForeignTypeRef;
    use openssl::error::ErrorStack;
    use openssl::ssl::{SslContextBuilder, SslRef, SslVerifyMode};
    use openssl_sys::SSL;

    /// `SSL_KEY_UPDATE_NOT_REQUESTED`: renew my sending keys; you need not answer.
    pub const KEY_UPDATE_NOT_REQUESTED: c_int = 0;
    /// `SSL_KEY_UPDATE_REQUESTED`: renew my sending keys, and renew yours too.
    pub const KEY_UPDATE_REQUESTED: c_int = 1;
    const SSL_CTRL_GET_TOTAL_RENEGOTIATIONS: c_int = 12;

    extern "C" {
        fn SSL_renegotiate(s: *mut SSL) -> c_int;
        fn SSL_renegotiate_pending(s: *const SSL) -> c_int;
        fn SSL_key_update(s: *mut SSL, updatetype: c_int) -> c_int;
        fn SSL_verify_client_post_handshake(s: *mut SSL) -> c_int;
        fn SSL_ctrl(s: *mut SSL, cmd: c_int, larg: c_long, parg: *mut c_void) -> c_long;
    }

    fn check(ret: c_int) -> Result<(), ErrorStack> {
        if ret == 1 {
            Ok(())
        } else {
            Err(ErrorStack::get())
        }
    }

    /// `SSL_renegotiate`: marks the connection for a new handshake (TLS 1.2 and older). It
    /// sends nothing: the next `do_handshake`, read or write does. Fails under TLS 1.3.
    pub fn renegotiate(ssl: &SslRef) -> Result<(), ErrorStack> {
        // SAFETY: `ssl` is a live SSL (see the module note on `&SslRef`); the call keeps
        // no pointer.
        check(unsafe { SSL_renegotiate(ssl.as_ptr()) })
    }

    /// `SSL_renegotiate_pending`: a renegotiation was asked for and has not finished.
    pub fn renegotiate_pending(ssl: &SslRef) -> bool {
        // SAFETY: `ssl` is a live SSL; the call only reads it.
        unsafe { SSL_renegotiate_pending(ssl.as_ptr()) == 1 }
    }

    /// `SSL_total_renegotiations`: how many renegotiations this connection started.
    pub fn total_renegotiations(ssl: &SslRef) -> i64 {
        // SAFETY: `ssl` is a live SSL; this control only reads a counter and ignores the
        // pointer argument.
        unsafe {
            SSL_ctrl(
                ssl.as_ptr(),
                SSL_CTRL_GET_TOTAL_RENEGOTIATIONS,
                0,
                std::ptr::null_mut(),
            ) as i64
        }
    }

    /// `SSL_key_update`: schedules a KeyUpdate message (TLS 1.3 only). Like renegotiate, it
    /// sends nothing itself: the next `do_handshake` or write does.
    pub fn key_update(ssl: &SslRef, update_type: c_int) -> Result<(), ErrorStack> {
        // SAFETY: `ssl` is a live SSL (see the module note); OpenSSL checks `update_type`.
        check(unsafe { SSL_key_update(ssl.as_ptr(), update_type) })
    }

    /// `SSL_verify_client_post_handshake`: schedules a CertificateRequest after the
    /// handshake (TLS 1.3 only, and only if the client offered post-handshake auth).
    pub fn verify_client_post_handshake(ssl: &SslRef) -> Result<(), ErrorStack> {
        // SAFETY: `ssl` is a live SSL (see the module note); the call keeps no pointer.
        check(unsafe { SSL_verify_client_post_handshake(ssl.as_ptr()) })
    }

    /// `SSL_set_verify` with no callback: what this connection now demands of its peer's
    /// certificate (the crate's `SslRef::set_verify` needs a `&mut` no stream gives).
    pub fn set_verify(ssl: &SslRef, mode: SslVerifyMode) {
        // SAFETY: `ssl` is a live SSL (see the module note); no callback is passed.
        unsafe { openssl_sys::SSL_set_verify(ssl.as_ptr(), mode.bits() as c_int, None) }
    }

    /// `SSL_CTX_set_post_handshake_auth`: a client context whose connections offer to
    /// answer a certificate request after the handshake (TLS 1.3).
    pub fn set_post_handshake_auth(ctx: &mut SslContextBuilder, on: bool) {
        // SAFETY: the builder owns a live SSL_CTX; the call sets a flag on it.
        unsafe { openssl_sys::SSL_CTX_set_post_handshake_auth(ctx.as_ptr(), on as c_int) }
    }
}

/// What [`require_client_certificate`] got.
pub struct Upgrade {
    /// The client's certificate, verified against the server's client CA.
    pub certificate: X509,
    /// The application data that arrived while the server waited for it.
    pub received: Vec<u8>,
}

/// The part of the server context every test shares: its chain and key, TLS 1.2 and 1.3,
/// and no client certificate asked for in the first handshake.
pub fn server_base(chain: &Path, key: &Path) -> Result<SslAcceptorBuilder, ErrorStack> {
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())?;
    b.set_certificate_chain_file(chain)?;
    b.set_private_key_file(key, SslFiletype::PEM)?;
    b.check_private_key()?;
    b.set_min_proto_version(Some(SslVersion::TLS1_2))?;
    b.set_verify(SslVerifyMode::NONE);
    Ok(b)
}

/// A client context that trusts `ca` and checks the server's host name.
pub fn client_base(ca: &Path) -> Result<SslConnectorBuilder, ErrorStack> {
    let mut b = SslConnector::builder(SslMethod::tls_client())?;
    b.set_ca_file(ca)?;
    b.set_min_proto_version(Some(SslVersion::TLS1_2))?;
    Ok(b)
}

/// What went wrong, in words: `what`, then OpenSSL's reasons, without its packed codes.
pub fn refused(what: &str, e: &ErrorStack) -> io::Error {
    io::Error::other(format!("{what}: {}", reasons(e)))
}

/// [`refused`] for a failed read, write or handshake step.
pub fn failed(what: &str, e: &ssl::Error) -> io::Error {
    let why = match (e.ssl_error(), e.io_error()) {
        (Some(stack), _) => reasons(stack),
        (None, Some(io)) => io.to_string(),
        (None, None) if e.code() == ErrorCode::ZERO_RETURN => {
            "the peer closed the connection (close_notify)".to_string()
        }
        (None, None) => "the peer closed the connection without close_notify".to_string(),
    };
    io::Error::other(format!("{what}: {why}"))
}

fn reasons(e: &ErrorStack) -> String {
    let all: Vec<&str> = e.errors().iter().filter_map(|e| e.reason()).collect();
    if all.is_empty() {
        "OpenSSL gave no reason".to_string()
    } else {
        all.join("; ")
    }
}

/// Why a read during [`require_client_certificate`] failed: a certificate that did not
/// verify says so; otherwise OpenSSL's reasons.
pub fn upgrade_error(ssl: &SslRef, e: io::Error) -> io::Error {
    let verify = ssl.verify_result();
    if verify != X509VerifyResult::OK {
        return io::Error::other(format!(
            "the client's certificate did not verify: {}",
            verify.error_string()
        ));
    }
    let what = "the client did not answer the certificate request";
    match e.get_ref().and_then(|i| i.downcast_ref::<ssl::Error>()) {
        Some(tls) => failed(what, tls),
        None => io::Error::new(e.kind(), format!("{what}: {e}")),
    }
}

/// A server context for `chain` and `key` that lets anyone connect, and can later require a
/// client certificate issued by `client_ca` ([`require_client_certificate`]). Each such
/// request is a full exchange of certificates, never a resumption of the first handshake.
pub fn upgradable_acceptor(
    chain: &Path,
    key: &Path,
    client_ca: &Path,
) -> Result<SslAcceptor, ErrorStack> {
    let mut b = server_base(chain, key)?;
    // BEGIN EXERCISE
    todo!(
        "ch13: let this context check a client certificate against client_ca whenever it asks \
         for one later, and make every later request a full exchange of certificates: a \
         renegotiation that resumes the first session carries no certificate at all"
    );
    // END EXERCISE
    Ok(b.build())
}

/// On a connection accepted by [`upgradable_acceptor`], asks the client for its
/// certificate: by renegotiation under TLS 1.2, by post-handshake authentication under
/// TLS 1.3. Keeps reading (the client's answer arrives with its data) until the certificate
/// is in, and returns it with the data that came meanwhile. A client without a certificate,
/// or with one the client CA did not issue, is an error.
pub fn require_client_certificate(tls: &mut SslStream<TcpStream>) -> io::Result<Upgrade> {
    tls.get_ref().set_read_timeout(Some(TIMEOUT))?;
    // BEGIN EXERCISE
    todo!(
        "ch13: change this connection's mind: from now on a client certificate is required \
         and verified. Ask for it the way the negotiated version allows (TLS 1.2 has a second \
         handshake; TLS 1.3 has none, and asks after the handshake), put the request on the \
         wire, then read until the certificate has arrived, keeping the data that came \
         meanwhile. Return the certificate and that data"
    )
    // END EXERCISE
}

/// A client context that trusts `ca` and can prove who it is with `cert` and `key` when a
/// server asks, during the handshake or after it, under TLS 1.2 and TLS 1.3.
pub fn upgradable_connector(
    ca: &Path,
    cert: &Path,
    key: &Path,
) -> Result<SslConnector, ErrorStack> {
    let mut b = client_base(ca)?;
    // BEGIN EXERCISE
    todo!(
        "ch13: give this client its certificate and key, checked to belong together, and let \
         it answer a certificate request that comes after the handshake: a TLS 1.3 client \
         must say so in its hello, or the server can never ask"
    );
    // END EXERCISE
    Ok(b.build())
}

/// Starts a renegotiation from the client (TLS 1.2) and finishes it before returning. A
/// server that refuses (OpenSSL 3's default) makes this an error that says so; it never
/// hangs.
pub fn renegotiate_as_client(tls: &mut SslStream<TcpStream>) -> io::Result<()> {
    tls.get_ref().set_read_timeout(Some(TIMEOUT))?;
    // BEGIN EXERCISE
    todo!(
        "ch13: start a second handshake from the client and see it through before returning, \
         so that a server that refuses it is an error here, with words that say the server \
         refused"
    )
    // END EXERCISE
}

/// Renews the traffic keys of a TLS 1.3 connection and asks the peer to renew its own: the
/// KeyUpdate is on the wire when this returns. Under TLS 1.2 it is an error.
pub fn update_keys(tls: &mut SslStream<TcpStream>) -> io::Result<()> {
    // BEGIN EXERCISE
    todo!(
        "ch13: renew this connection's keys, ask the peer to renew its own too, and have the \
         message on the wire before returning; under TLS 1.2 there is no such message, and \
         that must be an error"
    )
    // END EXERCISE
}
