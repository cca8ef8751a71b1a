//! Chapter 07: TLS does not care what carries its bytes. OpenSSL reads and writes through a
//! BIO, and the Rust crate gives every `SslStream<S>` a BIO that calls `S`'s `Read` and
//! `Write`. So any `S` will do: a TCP socket, a Unix socket, or a pipe in memory with no
//! socket at all. This chapter builds that pipe and drives a whole handshake across it by
//! hand, one turn at a time, on one thread; then sends data the same way.
//!
//! Fill in the marked places.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};

use openssl::ssl::{HandshakeError, MidHandshakeSslStream, Ssl, SslStream};

pub mod c_style;
mod threads;
pub use threads::handshake_on_threads;

/// Any error, boxed, with a sentence that says which side failed and why.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// A turn is one call that moves one side's handshake on: the first `connect` or `accept`,
/// then each `MidHandshakeSslStream::handshake`. A handshake that needs more turns than this
/// is going nowhere (a transport that loses bytes, say) and is abandoned with an error.
pub const MAX_TURNS: usize = 100;

type Queue = Arc<Mutex<VecDeque<u8>>>;

/// One end of an in-memory duplex pipe: what one end writes, the other reads, in order.
/// Each direction holds at most `capacity` bytes, like a socket's buffer.
pub struct End {
    inbox: Queue,
    outbox: Queue,
    capacity: usize,
}

/// A pipe: two connected ends, each direction holding at most `capacity` bytes.
pub fn pipe(capacity: usize) -> (End, End) {
    let one: Queue = Arc::default();
    let two: Queue = Arc::default();
    (
        End {
            inbox: one.clone(),
            outbox: two.clone(),
            capacity,
        },
        End {
            inbox: two,
            outbox: one,
            capacity,
        },
    )
}

impl End {
    /// How many bytes wait at this end, unread.
    pub fn pending(&self) -> usize {
        self.inbox.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

impl Read for End {
    /// Moves up to `buf.len()` waiting bytes into `buf`, oldest first, and says how many.
    /// When nothing waits, the answer is `ErrorKind::WouldBlock` ("nothing yet, come back
    /// later"), never `Ok(0)`: `Ok(0)` means the other end is gone for good, and OpenSSL
    /// would end the connection.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // BEGIN EXERCISE
        todo!(
            "ch07: move up to buf.len() bytes from self.inbox (oldest first) into `buf` and \
             return how many; when the inbox is empty, answer as a non-blocking socket does \
             (\"nothing yet, try again\"), never Ok(0), which means the peer is gone for good"
        )
        // END EXERCISE
    }
}

impl Write for End {
    /// Appends as much of `buf` as there is room for (at most `capacity` bytes wait in one
    /// direction) and says how many bytes it took. When the direction is full, the answer
    /// is `ErrorKind::WouldBlock`: the other end has to read first.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // BEGIN EXERCISE
        todo!(
            "ch07: append as much of `buf` to self.outbox as fits under self.capacity and \
             return how many bytes you took; when it is full, answer as a non-blocking socket \
             does (\"not now, try again\"), never Ok(0), which tells a writer that nothing \
             will ever be taken again"
        )
        // END EXERCISE
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Where one side of a handshake stands after a turn.
pub enum Side<S> {
    /// Waiting for the other side's bytes: give it another turn later.
    Waiting(MidHandshakeSslStream<S>),
    /// Finished: a stream ready for data.
    Done(SslStream<S>),
}

/// Both ends of a finished handshake, and how many turns it took in all.
pub struct Handshaken<S> {
    pub client: SslStream<S>,
    pub server: SslStream<S>,
    pub turns: usize,
}

/// Sorts what one turn of `who`'s handshake returned. A finished stream is
/// [`Side::Done`]; `HandshakeError::WouldBlock` is not an error at all, only "my transport
/// has nothing for me yet", so it is [`Side::Waiting`] with the half-done handshake to
/// resume; a real failure (`Failure`, `SetupFailure`) is an `Err` whose message names `who`
/// and says why. Nothing panics.
pub fn sort<S>(
    result: Result<SslStream<S>, HandshakeError<S>>,
    who: &str,
) -> Result<Side<S>, Error> {
    // BEGIN EXERCISE
    todo!(
        "ch07: sort one handshake step's result: a finished stream is Side::Done; a side that \
         stopped only because it has nothing to read yet is Side::Waiting with its half-done \
         handshake (not an error: it gets another turn); every real failure is an Err that \
         names `who` and says why"
    )
    // END EXERCISE
}

/// Runs a whole handshake between `client` and `server` on this one thread, over any
/// transport whose reads and writes say `WouldBlock` instead of waiting.
///
/// Turn 1 starts the client (`Ssl::connect`), turn 2 the server (`Ssl::accept`); then each
/// side that is still waiting gets a turn (`MidHandshakeSslStream::handshake`), client
/// first, until both are done. Every call counts as a turn. After [`MAX_TURNS`] turns
/// without both sides done, the handshake is abandoned with an error, so a transport that
/// never delivers costs a bounded time, not a hang. A side that fails ends it with that
/// side's error.
pub fn handshake<S: Read + Write>(
    client: Ssl,
    client_io: S,
    server: Ssl,
    server_io: S,
) -> Result<Handshaken<S>, Error> {
    // BEGIN EXERCISE
    todo!(
        "ch07: run both handshakes on this one thread as a game of turns: start the client, \
         then the server, sort each result, then give every side still waiting another turn, \
         client first, until both are done. Count every call as a turn and give up with an \
         Err at MAX_TURNS, so that a transport that never delivers cannot make the game \
         endless"
    )
    // END EXERCISE
}

/// Sends `data` from `from` to `to` on this one thread, over a transport that may say
/// `WouldBlock` in either direction, and returns what `to` received.
///
/// Writes as much as `from` takes, then reads what has reached `to`, and again, until
/// everything has arrived. A `WouldBlock` on either side is neither an error nor the end:
/// it means "not now", and the other side's move is what changes that. A read of zero
/// bytes (the peer closed) before everything arrived, or any other error, is an `Err`.
pub fn transfer<S: Read + Write>(
    from: &mut SslStream<S>,
    to: &mut SslStream<S>,
    data: &[u8],
) -> Result<Vec<u8>, Error> {
    // BEGIN EXERCISE
    todo!(
        "ch07: loop until all of `data` has arrived: write what `from` takes, read what has \
         reached `to`. A side with nothing to do right now says \"not yet\" the way a \
         non-blocking socket does: that means keep going. A read that reports the end of the \
         stream, or any other error, is an Err"
    )
    // END EXERCISE
}

/// A connected pair of Unix sockets that say `WouldBlock` instead of waiting, for the same
/// turn-by-turn code. (A socket that waits would block the one thread forever on the
/// first read: the other side never gets its turn.)
pub fn unix_pair() -> io::Result<(UnixStream, UnixStream)> {
    let (a, b) = UnixStream::pair()?;
    a.set_nonblocking(true)?;
    b.set_nonblocking(true)?;
    Ok((a, b))
}
