//! What the chapters' tests share. No chapter writes its own peer or its own error sentences.
//!
//! - [`process`]: external programs as guards: killed when the guard drops, also when the
//!   test fails, with their output captured for the failure message.
//! - [`peers`]: the real peers nobody here wrote: `openssl s_server`, `openssl s_client`,
//!   `curl`, and a Python `ssl` peer that misbehaves on purpose.
//! - [`reference`]: in-process reference server and client threads, built the right way.
//! - [`explain`]: one plain sentence for an OpenSSL error, a handshake failure or a verify
//!   result.
//! - [`within`]: runs learner code with a time limit, so a wrong solution fails, not hangs.

pub mod client_identity;
pub mod explain;
pub mod lab;
pub mod peers;
pub mod probe;
pub mod process;
pub mod py_extra;
pub mod reference;
pub mod wire;

use std::any::Any;
use std::panic::resume_unwind;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::Duration;

/// The read and write timeout every socket in a test gets.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a test waits for learner code before it calls it hung.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(20);

/// Runs `f` on its own thread and waits at most `limit` for it.
///
/// If `f` panics (a `todo!()` the learner has not filled in, say), the panic is re-raised
/// here, so the test fails with the learner's message. If it does not return in time, the
/// test fails with a message that names `what` instead of hanging.
pub fn within<T, F>(limit: Duration, what: &str, f: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let handle = thread::Builder::new()
        .name(format!("learner: {what}"))
        .spawn(move || {
            let _ = tx.send(f());
        })
        .expect("spawn a thread");
    match rx.recv_timeout(limit) {
        Ok(v) => v,
        Err(RecvTimeoutError::Disconnected) => match handle.join() {
            Err(payload) => resume_unwind(payload),
            Ok(()) => unreachable!("the thread ended without sending a result"),
        },
        Err(RecvTimeoutError::Timeout) => panic!(
            "{what} did not return within {} s. Something is waiting for data that never \
             comes: a read without a timeout, a handshake with a peer that is not there, or \
             a loop that never ends. Real programs must not hang on a silent peer either.",
            limit.as_secs()
        ),
    }
}

/// [`within`] with the default [`CALL_TIMEOUT`].
pub fn call<T, F>(what: &str, f: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    within(CALL_TIMEOUT, what, f)
}

/// The text of a panic payload, for messages about a thread that panicked.
pub fn panic_text(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic without a message)".to_string()
    }
}
