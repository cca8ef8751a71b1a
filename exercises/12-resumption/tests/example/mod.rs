//! The worked example of the chapter's page: a session in the PEM form that
//! `openssl s_client -sess_out` writes and `-sess_in` reads, so that a session can travel
//! between your program and the reference tool. The learner's own code is in `src/lib.rs`.

use openssl::base64;
use openssl::error::ErrorStack;
use openssl::ssl::{SslSession, SslSessionRef};

const BEGIN: &str = "-----BEGIN SSL SESSION PARAMETERS-----";
const END: &str = "-----END SSL SESSION PARAMETERS-----";

// ANCHOR: session_pem
/// The session as `s_client -sess_out` writes it (PEM_write_bio_SSL_SESSION): its DER form
/// (i2d_SSL_SESSION) in base64, 64 characters a line, between two armour lines.
pub fn session_to_pem(session: &SslSessionRef) -> Result<String, ErrorStack> {
    let b64 = base64::encode_block(&session.to_der()?);
    let mut pem = format!("{BEGIN}\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(END);
    pem.push('\n');
    Ok(pem)
}

/// What `s_client -sess_out` wrote, read back (PEM_read_bio_SSL_SESSION, d2i_SSL_SESSION).
pub fn session_from_pem(pem: &str) -> Result<SslSession, String> {
    let start = pem
        .find(BEGIN)
        .ok_or("no BEGIN SSL SESSION PARAMETERS line")?
        + BEGIN.len();
    let end = start
        + pem[start..]
            .find(END)
            .ok_or("no END SSL SESSION PARAMETERS line")?;
    let b64: String = pem[start..end].split_whitespace().collect();
    let der = base64::decode_block(&b64).map_err(|e| format!("not base64: {e}"))?;
    SslSession::from_der(&der).map_err(|e| format!("not a session: {e}"))
}
// ANCHOR_END: session_pem
