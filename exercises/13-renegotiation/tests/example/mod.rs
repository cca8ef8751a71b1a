//! The worked example of the chapter's page: how a program can tell that a second handshake
//! really happened on a connection. The learner's own code is in `src/lib.rs`.

use ch13_renegotiation::ffi;
use openssl::ssl::SslRef;

// ANCHOR: mark
/// A snapshot of a connection's handshake state. Each handshake ends with two Finished
/// messages, one from each side, made from a hash of everything said so far: a new
/// handshake gives new ones. OpenSSL also counts the renegotiations it started.
#[derive(Debug, PartialEq, Eq)]
pub struct HandshakeMark {
    pub finished: Vec<u8>,
    pub peer_finished: Vec<u8>,
    pub renegotiations: i64,
}

impl HandshakeMark {
    /// `SSL_get_finished`, `SSL_get_peer_finished`, `SSL_total_renegotiations`.
    pub fn of(ssl: &SslRef) -> HandshakeMark {
        let mut finished = vec![0u8; 64];
        let n = ssl.finished(&mut finished);
        finished.truncate(n);
        let mut peer_finished = vec![0u8; 64];
        let n = ssl.peer_finished(&mut peer_finished);
        peer_finished.truncate(n);
        HandshakeMark {
            finished,
            peer_finished,
            renegotiations: ffi::total_renegotiations(ssl),
        }
    }

    /// Whether a handshake finished between `self` and `later`.
    pub fn renewed_by(&self, later: &HandshakeMark) -> bool {
        self.finished != later.finished && self.peer_finished != later.peer_finished
    }
}
// ANCHOR_END: mark
