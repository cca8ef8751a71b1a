//! Chapter 00, the warm-up: one client handshake with a real server, end to end.
//!
//! Most of the program is written for you. Fill in the two marked places: the context that
//! says whom to trust, and the call that runs the handshake.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use openssl::ssl::{SslConnector, SslMethod};

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

/// Connects to the `openssl s_server -www` at `addr` as host "localhost", trusting only
/// the CA certificate in `ca_file`, sends one HTTP request and reports what was agreed.
pub fn first_handshake(addr: SocketAddr, ca_file: &Path) -> Result<FirstContact, Error> {
    // Step 1, the context (SSL_CTX in C): the settings every connection will share.
    // BEGIN EXERCISE
    // ANCHOR: context
    let mut builder = SslConnector::builder(SslMethod::tls_client())?;
    builder.set_ca_file(ca_file)?;
    let connector: SslConnector = builder.build();
    // ANCHOR_END: context
    // END EXERCISE

    // Step 2, plain TCP: TLS runs on top of a connected socket. The timeouts keep a
    // silent server from hanging us forever.
    let tcp = TcpStream::connect(addr)?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
    tcp.set_write_timeout(Some(Duration::from_secs(10)))?;

    // Step 3, the handshake (SSL_new + SSL_set_fd + SSL_connect in C).
    // BEGIN EXERCISE
    // ANCHOR: handshake
    let mut tls = connector.connect("localhost", tcp)?;
    // ANCHOR_END: handshake
    // END EXERCISE

    // Step 4, data: the stream reads and writes like the socket it wraps.
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

    // Step 5, goodbye: send close_notify so the server knows the end was on purpose.
    tls.shutdown()?;
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
