//! Chapter 00, the warm-up: the five steps of a TLS program, once, end to end.
//!
//! The server half is written for you: [`serve_one`], which the book walks through step by
//! step. You write the client half, [`first_handshake`]: the same five steps seen from the
//! other side, where the questions are whom to trust and which host you meant to reach.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::time::Duration;

use openssl::ssl::{
    ShutdownState, SslAcceptor, SslConnector, SslFiletype, SslMethod, SslStream, SslVersion,
};
use openssl::x509::store::X509StoreBuilder;

/// Any error, boxed: the warm-up is about the calls, not about error types (chapter 01 is).
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// What the first handshake found out.
#[derive(Debug, Clone)]
pub struct FirstContact {
    /// The protocol version both sides agreed on, such as "TLSv1.3".
    pub version: String,
    /// The cipher suite both sides agreed on.
    pub cipher: String,
    /// The server certificate's subject, as "CN=localhost, ..." text.
    pub server_subject: String,
    /// The first line of the server's HTTP reply.
    pub reply: String,
}

/// What the example server saw of its one client.
#[derive(Debug, Clone)]
pub struct ServerSaw {
    /// The first line the client sent, such as "GET / HTTP/1.0".
    pub request: String,
    /// Whether the client ended with a close_notify alert (a deliberate goodbye) rather
    /// than by just closing the TCP connection.
    pub close_notify: bool,
}

/// The server half of the figure, written for you: serves exactly one client on
/// `listener` with the certificate chain in `chain_file` and the key in `key_file`. It
/// reads one request line, answers with a short HTTP reply, then waits for the client's
/// close_notify and sends its own.
pub fn serve_one(
    listener: &TcpListener,
    chain_file: &Path,
    key_file: &Path,
    timeout: Duration,
) -> Result<ServerSaw, Error> {
    // ANCHOR: server_context
    // Step 1, the context: who the server is (certificate chain and key) and the
    // versions it allows (Mozilla's "intermediate" profile: TLS 1.2 and 1.3).
    let mut server_ctx = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())?;
    server_ctx.set_certificate_chain_file(chain_file)?;
    server_ctx.set_private_key_file(key_file, SslFiletype::PEM)?;
    server_ctx.check_private_key()?;
    let acceptor = server_ctx.build();
    // ANCHOR_END: server_context

    // ANCHOR: server_socket
    // Step 2, plain TCP: wait for one client, and never wait for it forever.
    let (stream, _client_addr) = listener.accept()?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    // ANCHOR_END: server_socket

    // ANCHOR: server_handshake
    // Step 3, the handshake, server side: send the certificate, agree on keys.
    let mut session = acceptor.accept(stream)?;
    // ANCHOR_END: server_handshake

    // ANCHOR: server_data
    // Step 4, data: the stream reads and writes like the socket it wraps.
    let mut request = String::new();
    BufReader::new(&mut session).read_line(&mut request)?;
    session.write_all(b"HTTP/1.0 200 ok\r\nContent-Type: text/plain\r\n\r\nhello\r\n")?;
    session.flush()?;
    // ANCHOR_END: server_data

    // ANCHOR: server_goodbye
    // Step 5, goodbye: read until the client's close_notify arrives (the read then
    // returns no more data), and answer with ours.
    let mut rest = Vec::new();
    let _ = session.read_to_end(&mut rest);
    let close_notify = received_close_notify(&mut session);
    let _ = session.shutdown();
    // ANCHOR_END: server_goodbye
    Ok(ServerSaw {
        request: request.trim_end().to_string(),
        close_notify,
    })
}

/// Whether the peer's close_notify has arrived on `stream` (a later chapter explains why a
/// read returning 0 is not enough to know).
fn received_close_notify(stream: &mut SslStream<TcpStream>) -> bool {
    stream.get_shutdown().contains(ShutdownState::RECEIVED)
}

/// The client half: connects to the server at `addr` as host "localhost", trusting the
/// CA certificate in `ca_file` and nothing else, refusing anything older than TLS 1.2, with
/// `timeout` on every read and write. Sends one HTTP request, reports what the two sides
/// agreed on, and ends with close_notify.
pub fn first_handshake(
    addr: SocketAddr,
    ca_file: &Path,
    timeout: Duration,
) -> Result<FirstContact, Error> {
    // Step 1, the context (SSL_CTX in C). Verification is on; the rest is yours: whom to
    // trust, and which versions to allow.
    let mut client_ctx = SslConnector::builder(SslMethod::tls_client())?;
    // BEGIN EXERCISE
    todo!(
        "ch00: make `client_ctx` trust the CA in `ca_file` and nothing else (a fresh builder \
         already trusts OpenSSL's default store, so adding the CA to it is not enough), and \
         refuse anything older than TLS 1.2, so a server that offers only TLS 1.0 or 1.1 is \
         not accepted"
    );
    // END EXERCISE
    let connector = client_ctx.build();

    // Step 2, plain TCP: TLS runs on top of a connected socket.
    // BEGIN EXERCISE
    let to_server: TcpStream = todo!(
        "ch00: connect a TcpStream to `addr` and give it `timeout` for reads and writes, so a \
         server that accepts and then says nothing ends in an error instead of hanging the program"
    );
    // END EXERCISE

    // Step 3, the handshake (SSL_new + SSL_set_fd + SSL_connect in C).
    // BEGIN EXERCISE
    let mut tls: SslStream<TcpStream> = todo!(
        "ch00: run the client handshake over `to_server`, naming the host you mean to reach \
         (\"localhost\"): the connector then checks that the certificate was issued for that \
         name, not just signed by a CA you trust"
    );
    // END EXERCISE

    // Step 4, data: written for you.
    tls.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
    tls.flush()?;
    let ssl = tls.ssl();
    let version = ssl.version_str().to_string();
    let cipher = ssl
        .current_cipher()
        .map_or("none", |c| c.name())
        .to_string();
    let server_subject = match ssl.peer_certificate() {
        Some(cert) => subject_text(&cert),
        None => String::new(),
    };
    let mut reply = String::new();
    BufReader::new(&mut tls).read_line(&mut reply)?;

    // Step 5, goodbye (SSL_shutdown in C).
    // BEGIN EXERCISE
    todo!(
        "ch00: say goodbye with a close_notify alert, so that the server can tell a \
         deliberate end from a connection cut by someone else"
    );
    // END EXERCISE
    Ok(FirstContact {
        version,
        cipher,
        server_subject,
        reply: reply.trim_end().to_string(),
    })
}

fn subject_text(cert: &openssl::x509::X509) -> String {
    cert.subject_name()
        .entries()
        .map(|e| {
            let key = e.object().nid().short_name().unwrap_or("?");
            let value = e.data().to_string().unwrap_or_default();
            format!("{key}={value}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}
