//! One test of the running test program, run again in a child process with extra
//! environment variables. Environment variables belong to the whole process and the tests
//! of a file run in parallel, so a test that must change one (`SSL_CERT_FILE`, say) sets it
//! only on a child that runs that single test.
//!
//! The test itself tells the two roles apart by one of the variables it sets: in the child
//! it does its probe and prints a line the parent looks for.

use std::time::Duration;

use crate::peers::Finished;
use crate::process::Process;

/// Set on a child given `SSL_CERT_FILE` or `SSL_CERT_DIR`: [`crate::no_system_trust!`]
/// leaves those alone there.
pub const TRUST_GIVEN: &str = "TLS_WORKBOOK_TRUST_GIVEN";

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
/// program in a child process with `env` added, and waits at most `timeout` for it. The child
/// is a [`Process`] guard like every peer: killed after the timeout, when the test ends, and
/// when the test program itself dies.
pub fn run_test_in_child(test: &str, env: &[(&str, String)], timeout: Duration) -> Finished {
    let exe = std::env::current_exe().expect("the test program's own path");
    let exe = exe.to_str().expect("a UTF-8 path to the test program");
    let mut vars: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    if vars
        .iter()
        .any(|(k, _)| matches!(*k, "SSL_CERT_FILE" | "SSL_CERT_DIR"))
    {
        vars.push((TRUST_GIVEN, "1"));
    }
    let mut child = Process::try_spawn(
        exe,
        [test, "--exact", "--nocapture", "--test-threads=1"],
        &vars,
    )
    .unwrap_or_else(|e| panic!("cannot run {exe} again in a child: {e}"));
    let status = child.wait_exit(timeout);
    let (stdout, stderr) = (child.stdout(), child.stderr());
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
        "--- `{exe} {test}` in a child with {} ---\n--- stdout ---\n{}\n--- stderr ---\n{}\n--- end ---",
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
