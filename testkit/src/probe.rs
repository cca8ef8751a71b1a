//! One test of the running test program, run again in a child process with extra
//! environment variables. Environment variables belong to the whole process and the tests
//! of a file run in parallel, so a test that must change one (`SSL_CERT_FILE`, say) sets it
//! only on a child that runs that single test.
//!
//! The test itself tells the two roles apart by one of the variables it sets: in the child
//! it does its probe and prints a line the parent looks for.

use std::io::Read;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::peers::Finished;

/// The line of the child's output that holds an unfilled `todo!()`'s message, if any: a
/// test that runs learner code in a child passes it on as its own failure.
pub fn todo_line(finished: &Finished) -> Option<String> {
    finished
        .stderr
        .lines()
        .chain(finished.stdout.lines())
        .find(|l| l.contains("not yet implemented"))
        .map(|l| l.trim().to_string())
}

/// Runs the test named `test` (its exact name, as libtest prints it) of the current test
/// program in a child process with `env` added, and waits at most `timeout` for it (the
/// child is killed after that).
pub fn run_test_in_child(test: &str, env: &[(&str, String)], timeout: Duration) -> Finished {
    let exe = std::env::current_exe().expect("the test program's own path");
    let mut cmd = Command::new(&exe);
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {} again in a child: {e}", exe.display()));
    let read = |mut r: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut s = Vec::new();
            let _ = r.read_to_end(&mut s);
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    let out = read(Box::new(child.stdout.take().expect("stdout")));
    let err = read(Box::new(child.stderr.take().expect("stderr")));
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let (stdout, stderr) = (
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    );
    let shown: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    // Every line of the child's output indented: a line of it that starts like libtest's
    // own ("test x ... FAILED") must not be read as a result of the parent's run.
    let indent = |s: &str| {
        s.trim_end()
            .lines()
            .map(|l| format!("  | {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let transcript = format!(
        "--- `{} {test}` in a child with {} ---\n--- stdout ---\n{}\n--- stderr ---\n{}",
        exe.display(),
        shown.join(" "),
        indent(&stdout),
        indent(&stderr)
    );
    Finished {
        status,
        stdout,
        stderr,
        transcript,
    }
}
