//! What happened on the wire, as OpenSSL's message callback saw it: every handshake message
//! and alert one side sent (→) or received (←), for failure messages that show *where* a
//! handshake broke.
//!
//! `openssl-sys` does not declare `SSL_CTX_set_msg_callback` or `SSL_set_msg_callback`, so
//! this module declares them itself (libssl is linked already through `openssl-sys`). The
//! recorder lives in the context's or the connection's ex-data, so it is freed with them;
//! the callback's own argument (`SSL_CTX_set_msg_callback_arg`, a macro over `SSL_ctrl`) is
//! left NULL.
//!
//! ```text
//! let mut ssl = Ssl::new(&ctx)?;
//! let wire = testkit::wire::Wire::record_ssl(&mut ssl);
//! // ... ssl.connect(tcp) ...
//! println!("{}", wire.transcript()); // → ClientHello, ← ServerHello, ..., → alert: unknown_ca (48)
//! ```

use std::ffi::{c_int, c_void};
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use foreign_types::ForeignTypeRef;
use openssl::ex_data::Index;
use openssl::ssl::{Ssl, SslContext, SslContextBuilder, SslRef};
use openssl_sys::{SSL, SSL_CTX};

/// `void (*cb)(int write_p, int version, int content_type, const void *buf, size_t len,
/// SSL *ssl, void *arg)` from `<openssl/ssl.h>`.
type MsgCallback = unsafe extern "C" fn(
    write_p: c_int,
    version: c_int,
    content_type: c_int,
    buf: *const c_void,
    len: usize,
    ssl: *mut SSL,
    arg: *mut c_void,
);

extern "C" {
    fn SSL_CTX_set_msg_callback(ctx: *mut SSL_CTX, cb: Option<MsgCallback>);
    fn SSL_set_msg_callback(ssl: *mut SSL, cb: Option<MsgCallback>);
}

/// TLS content types (RFC 8446, 5.1).
const CHANGE_CIPHER_SPEC: i32 = 20;
const ALERT: i32 = 21;
const HANDSHAKE: i32 = 22;
const APPLICATION_DATA: i32 = 23;

/// One message as the recording side saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// True when this side sent it, false when it received it.
    pub sent: bool,
    /// The protocol version OpenSSL reports for the message (0x0303 is TLS 1.2, 0x0304 TLS 1.3).
    pub version: i32,
    /// What the message is.
    pub message: Message,
}

/// The messages the transcript tells apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A handshake message, by its type number (1 ClientHello, 2 ServerHello, ...).
    Handshake(u8),
    /// An alert: level (1 warning, 2 fatal) and description (48 unknown_ca, ...).
    Alert {
        level: u8,
        description: u8,
    },
    ChangeCipherSpec,
    ApplicationData,
}

impl Message {
    /// True for a fatal alert.
    pub fn is_fatal_alert(&self) -> bool {
        matches!(self, Message::Alert { level: 2, .. })
    }
}

/// The name of a handshake message type.
pub fn handshake_name(t: u8) -> String {
    let name = match t {
        0 => "HelloRequest",
        1 => "ClientHello",
        2 => "ServerHello",
        4 => "NewSessionTicket",
        5 => "EndOfEarlyData",
        8 => "EncryptedExtensions",
        11 => "Certificate",
        12 => "ServerKeyExchange",
        13 => "CertificateRequest",
        14 => "ServerHelloDone",
        15 => "CertificateVerify",
        16 => "ClientKeyExchange",
        20 => "Finished",
        24 => "KeyUpdate",
        _ => return format!("handshake message {t}"),
    };
    name.to_string()
}

/// The name of an alert description (RFC 8446, 6).
pub fn alert_name(d: u8) -> &'static str {
    match d {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        22 => "record_overflow",
        40 => "handshake_failure",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        _ => "unknown alert",
    }
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let arrow = if self.sent { "→" } else { "←" };
        match &self.message {
            Message::Handshake(t) => write!(f, "{arrow} {}", handshake_name(*t)),
            Message::Alert { level, description } => write!(
                f,
                "{arrow} {}alert: {} ({description})",
                if *level == 1 { "warning " } else { "" },
                alert_name(*description)
            ),
            Message::ChangeCipherSpec => write!(f, "{arrow} ChangeCipherSpec"),
            Message::ApplicationData => write!(f, "{arrow} application data"),
        }
    }
}

type Log = Arc<Mutex<Vec<Record>>>;

fn ssl_index() -> Index<Ssl, Log> {
    static INDEX: OnceLock<Index<Ssl, Log>> = OnceLock::new();
    *INDEX.get_or_init(|| Ssl::new_ex_index().expect("an SSL ex-data index"))
}

fn ctx_index() -> Index<SslContext, Log> {
    static INDEX: OnceLock<Index<SslContext, Log>> = OnceLock::new();
    *INDEX.get_or_init(|| SslContext::new_ex_index().expect("an SSL_CTX ex-data index"))
}

/// What `content_type` and `buf` hold, or `None` for the pseudo content types OpenSSL also
/// reports (record headers 256, TLS 1.3 inner content types 257) and anything unknown.
fn parse(content_type: i32, bytes: &[u8]) -> Option<Message> {
    match content_type {
        HANDSHAKE => bytes.first().map(|t| Message::Handshake(*t)),
        ALERT if bytes.len() >= 2 => Some(Message::Alert {
            level: bytes[0],
            description: bytes[1],
        }),
        CHANGE_CIPHER_SPEC => Some(Message::ChangeCipherSpec),
        APPLICATION_DATA => Some(Message::ApplicationData),
        _ => None,
    }
}

unsafe extern "C" fn on_message(
    write_p: c_int,
    version: c_int,
    content_type: c_int,
    buf: *const c_void,
    len: usize,
    ssl: *mut SSL,
    _arg: *mut c_void,
) {
    // Nothing here may unwind into C.
    let _ = std::panic::catch_unwind(|| {
        if ssl.is_null() {
            return;
        }
        let bytes: &[u8] = if buf.is_null() || len == 0 {
            &[]
        } else {
            // SAFETY: OpenSSL passes `len` readable bytes at `buf` for the call's duration.
            unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), len) }
        };
        let Some(message) = parse(content_type, bytes) else {
            return;
        };
        // SAFETY: OpenSSL passes the connection the message belongs to, alive for the call.
        let ssl = unsafe { SslRef::from_ptr(ssl) };
        let log = ssl
            .ex_data(ssl_index())
            .or_else(|| ssl.ssl_context().ex_data(ctx_index()));
        if let Some(log) = log {
            if let Ok(mut log) = log.lock() {
                log.push(Record {
                    sent: write_p != 0,
                    version,
                    message,
                });
            }
        }
    });
}

/// A recording of the messages of one connection (or of every connection of one context).
#[derive(Clone, Default)]
pub struct Wire {
    log: Log,
}

impl Wire {
    /// Records every message of every connection made from this context from now on.
    pub fn record_context(builder: &mut SslContextBuilder) -> Wire {
        let wire = Wire::default();
        builder.set_ex_data(ctx_index(), wire.log.clone());
        // SAFETY: the builder's pointer is a live SSL_CTX; the callback is a plain function.
        unsafe { SSL_CTX_set_msg_callback(builder.as_ptr(), Some(on_message)) };
        wire
    }

    /// Records every message of this one connection; call it before the handshake.
    pub fn record_ssl(ssl: &mut SslRef) -> Wire {
        let wire = Wire::default();
        ssl.set_ex_data(ssl_index(), wire.log.clone());
        // SAFETY: a live SSL; the callback is a plain function.
        unsafe { SSL_set_msg_callback(ssl.as_ptr(), Some(on_message)) };
        wire
    }

    /// Everything recorded so far, in order.
    pub fn records(&self) -> Vec<Record> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The alerts recorded so far: (sent?, level, description).
    pub fn alerts(&self) -> Vec<(bool, u8, u8)> {
        self.records()
            .into_iter()
            .filter_map(|r| match r.message {
                Message::Alert { level, description } => Some((r.sent, level, description)),
                _ => None,
            })
            .collect()
    }

    /// The description of the first fatal alert, sent or received.
    pub fn fatal_alert(&self) -> Option<u8> {
        self.alerts()
            .into_iter()
            .find(|(_, level, _)| *level == 2)
            .map(|(_, _, d)| d)
    }

    /// One line: "→ ClientHello, ← ServerHello, ..., ← alert: unknown_ca (48)"; runs of
    /// application data are shown once. "(nothing)" if no message was seen.
    pub fn transcript(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        for r in self.records() {
            let line = r.to_string();
            if matches!(r.message, Message::ApplicationData) && parts.last() == Some(&line) {
                continue;
            }
            parts.push(line);
        }
        if parts.is_empty() {
            "(nothing)".into()
        } else {
            parts.join(", ")
        }
    }
}

impl fmt::Display for Wire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.transcript())
    }
}

/// The same one-line transcript, read from what `openssl s_client -msg` or `s_server -msg`
/// printed: lines such as `>>> TLS 1.3, Handshake [length 0124], ClientHello` (sent) and
/// `<<< TLS 1.3, Alert [length 0002], fatal unknown_ca` (received). Record headers and
/// TLS 1.3 inner content types are left out. "(nothing)" if there was no such line.
pub fn from_msg_output(output: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    for line in output.lines() {
        let (arrow, rest) = if let Some(r) = line.strip_prefix(">>> ") {
            ("→", r)
        } else if let Some(r) = line.strip_prefix("<<< ") {
            ("←", r)
        } else {
            continue;
        };
        // "TLS 1.3, Handshake [length 0124], ClientHello"
        let mut fields = rest.splitn(3, ", ");
        let (_version, kind, detail) = (fields.next(), fields.next(), fields.next());
        let kind = kind.unwrap_or("");
        let part = if kind.starts_with("Handshake") {
            format!("{arrow} {}", detail.unwrap_or("?").trim())
        } else if kind.starts_with("Alert") {
            // "fatal unknown_ca" or "warning close_notify"
            let detail = detail.unwrap_or("").trim();
            match detail.split_once(' ') {
                Some(("warning", name)) => format!("{arrow} warning alert: {name}"),
                Some((_, name)) => format!("{arrow} alert: {name}"),
                None => format!("{arrow} alert: {detail}"),
            }
        } else if kind.starts_with("ChangeCipherSpec") {
            format!("{arrow} ChangeCipherSpec")
        } else {
            continue;
        };
        parts.push(part);
    }
    if parts.is_empty() {
        "(nothing)".into()
    } else {
        parts.join(", ")
    }
}
