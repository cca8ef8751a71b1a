//! The worked example of the chapter's page: what a server connection leaves behind when it
//! is dropped. It sits here, beside the test that uses it, so that every snippet of the
//! book runs; the learner's own code is in `src/lib.rs`.

use std::io;
use std::net::TcpStream;

use ch14_ownership::echo_line;
use openssl::ssl::{SslAcceptor, SslContext};
use openssl::x509::X509;

/// What outlives one server connection: the context it was made from and the certificate
/// it presented. Both are counted references to the very objects the connection used, not
/// copies.
pub struct Leftovers {
    pub context: SslContext,
    pub own_cert: X509,
}

/// Serves one connection with `acceptor` (handshake, one line echoed, close_notify), and
/// keeps the connection's context and its own certificate after the stream is dropped.
// ANCHOR: leftovers
pub fn serve_and_keep(acceptor: &SslAcceptor, tcp: TcpStream) -> io::Result<Leftovers> {
    let mut stream = match acceptor.accept(tcp) {
        Ok(stream) => stream,
        Err(e) => return Err(io::Error::other(format!("handshake: {e}"))),
    };
    echo_line(&mut stream)?;
    stream
        .shutdown()
        .map_err(|e| e.into_io_error().unwrap_or_else(io::Error::other))?;
    let ssl = stream.ssl();
    // &SslContextRef and &X509Ref are borrowed from the connection; returning them would
    // not compile. to_owned() takes a counted reference of our own (SSL_CTX_up_ref,
    // X509_up_ref): same object, one more owner.
    let context: SslContext = ssl.ssl_context().to_owned();
    let own_cert: X509 = ssl
        .certificate()
        .map(|c| c.to_owned())
        .ok_or_else(|| io::Error::other("the context has no certificate"))?;
    drop(stream); // SSL_free: the connection goes; context and certificate stay
    Ok(Leftovers { context, own_cert })
}
// ANCHOR_END: leftovers

/// Whether two handles are one OpenSSL object: a `&X509Ref` is the address of the C
/// `X509` itself, so equal addresses mean one object, counted twice.
// ANCHOR: same_object
pub fn same_object<T>(a: &T, b: &T) -> bool {
    std::ptr::eq(a, b)
}
// ANCHOR_END: same_object
