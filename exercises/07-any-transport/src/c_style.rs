//! The tutorial's C, through the raw bindings: a socket BIO made with `BIO_new_socket` and
//! handed to the connection with `SSL_set_bio`. `SslStream` does all of this for you; this
//! is here for readers who meet these calls in C code.

use std::ffi::{CStr, CString};
use std::net::TcpStream;
use std::os::unix::io::AsRawFd;

use foreign_types::ForeignTypeRef;
use openssl::error::ErrorStack;
use openssl::ssl::SslContextRef;
use openssl_sys as ffi;

/// `BIO_NOCLOSE`: freeing the BIO leaves the socket open (Rust's `TcpStream` owns it).
const BIO_NOCLOSE: i32 = 0;

/// Connects over `tcp` the way the tutorial's C does and returns the protocol version
/// agreed, such as "TLSv1.3". Verification follows `ctx`; the name `host` is sent (SNI)
/// and checked against the server's certificate.
pub fn connect_with_socket_bio(
    ctx: &SslContextRef,
    tcp: &TcpStream,
    host: &str,
) -> Result<String, String> {
    let name = CString::new(host).map_err(|e| e.to_string())?;
    unsafe {
        // SSL_new: one connection from the context.
        let ssl = ffi::SSL_new(ctx.as_ptr());
        if ssl.is_null() {
            return Err(ErrorStack::get().to_string());
        }
        // BIO_new_socket + SSL_set_bio: the same BIO for reading and writing.
        let bio = ffi::BIO_new_socket(tcp.as_raw_fd(), BIO_NOCLOSE);
        ffi::SSL_set_bio(ssl, bio, bio);
        // SSL_set_tlsext_host_name (SNI) and SSL_set1_host (the name check).
        ffi::SSL_set_tlsext_host_name(ssl, name.as_ptr() as *mut _);
        ffi::X509_VERIFY_PARAM_set1_host(ffi::SSL_get0_param(ssl), name.as_ptr(), host.len());
        let result = if ffi::SSL_connect(ssl) == 1 {
            let version = CStr::from_ptr(ffi::SSL_get_version(ssl));
            ffi::SSL_shutdown(ssl);
            Ok(version.to_string_lossy().into_owned())
        } else {
            Err(ErrorStack::get().to_string())
        };
        // SSL_free frees the BIO too; BIO_NOCLOSE keeps the socket open.
        ffi::SSL_free(ssl);
        result
    }
}
