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
//! - [`no_system_trust!`]: a chapter's test program trusts no system CA by default.

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

/// Gives the test program that names it an empty default trust store: before `main`, while
/// the program still has one thread, `SSL_CERT_FILE` and `SSL_CERT_DIR` are pointed at
/// `/dev/null`, whatever the machine set them to. Only a probe's child keeps the store its
/// test gave it (a stand-in system CA, see [`probe`]). `SslConnector::builder`, in the
/// learner's code and in the tests' own clients, then loads nothing by default.
///
/// - No test passes or fails because of what this machine trusts.
/// - Reading the system's bundle (some 150 roots) costs each `SslConnector::builder` about
///   50 ms of CPU, 4 to 13 times a chapter; without it the chapters' test programs use 2 to
///   4 times less CPU.
///
/// Each chapter's test file says `testkit::no_system_trust!();` itself, rather than testkit
/// doing it for everyone who links it: the workbook links testkit too, and the cargo it runs
/// must keep the machine's CAs to fetch crates. Setting the variables on a test's thread
/// instead would race with OpenSSL reading them on the others.
#[macro_export]
macro_rules! no_system_trust {
    () => {
        #[used]
        #[cfg_attr(target_os = "linux", link_section = ".init_array")]
        #[cfg_attr(target_os = "macos", link_section = "__DATA,__mod_init_func")]
        static NO_SYSTEM_TRUST: extern "C" fn() = {
            extern "C" fn no_system_trust() {
                $crate::empty_default_trust();
            }
            no_system_trust
        };
    };
}

/// What [`no_system_trust!`] runs before `main`.
#[doc(hidden)]
pub fn empty_default_trust() {
    if std::env::var_os(probe::TRUST_GIVEN).is_some() {
        return;
    }
    for var in ["SSL_CERT_FILE", "SSL_CERT_DIR"] {
        std::env::set_var(var, "/dev/null");
    }
}

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
