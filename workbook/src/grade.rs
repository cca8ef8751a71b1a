//! Runs a crate's tests with cargo and reads libtest's plain output into per-test results.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// One test's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub name: String,
    pub passed: bool,
    /// For a failed test: what it printed, usually the panic message that explains why.
    pub message: String,
}

/// What one `cargo test -p PACKAGE` run showed.
#[derive(Debug, Clone)]
pub struct Report {
    pub package: String,
    /// False when the crate or its tests did not build; `compile_error` then says why.
    pub compiled: bool,
    pub compile_error: Option<String>,
    pub tests: Vec<Outcome>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    /// Set when the run ended without a verdict on the learner's code: cargo could not
    /// load the workspace, a test program was killed, a program the tests need is missing.
    /// Such a run says nothing about the code, so it is never remembered as a grade.
    pub aborted: Option<String>,
}

impl Report {
    pub fn passed(&self) -> usize {
        self.tests.iter().filter(|t| t.passed).count()
    }
    pub fn failed(&self) -> impl Iterator<Item = &Outcome> {
        self.tests.iter().filter(|t| !t.passed)
    }
    /// Built, ran at least one test, and every test passed.
    pub fn all_passed(&self) -> bool {
        self.compiled && !self.tests.is_empty() && self.tests.iter().all(|t| t.passed)
    }
}

/// Variables `cargo run` (and `cargo test`, for its test programs) sets for the program it
/// starts, describing *that* package. A child `cargo test` must not inherit them: build
/// scripts such as ring's watch `CARGO_MANIFEST_DIR` and `CARGO_PKG_*`
/// (`rerun-if-env-changed`), so a check started by `cargo run -p workbook` would rebuild
/// ring and everything above it, and the next plain `cargo test` would rebuild it back.
/// `CARGO` itself stays (it names the cargo to use), and so does everything the user sets
/// to configure cargo (`CARGO_HOME`, `CARGO_TARGET_DIR`, `CARGO_BUILD_*`, `RUSTC_WRAPPER`,
/// ...).
const SET_BY_CARGO_FOR_ONE_PACKAGE: &[&str] = &[
    "CARGO_MANIFEST_DIR",
    "CARGO_MANIFEST_PATH",
    "CARGO_MANIFEST_LINKS",
    "CARGO_CRATE_NAME",
    "CARGO_BIN_NAME",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_TARGET_TMPDIR",
    "OUT_DIR",
];
const SET_BY_CARGO_PREFIXES: &[&str] = &[
    "CARGO_PKG_",
    "CARGO_BIN_EXE_",
    "CARGO_CFG_",
    "CARGO_FEATURE_",
];

/// Whether `name` is one of the variables cargo sets for the one package it runs.
pub fn is_set_by_cargo_for_one_package(name: &str) -> bool {
    SET_BY_CARGO_FOR_ONE_PACKAGE.contains(&name)
        || SET_BY_CARGO_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// `cargo` (the one that started us, if any), without the variables that describe the
/// package `cargo run` started: see [`SET_BY_CARGO_FOR_ONE_PACKAGE`].
pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(is_set_by_cargo_for_one_package) {
            cmd.env_remove(&name);
        }
    }
    cmd
}

/// Runs `cargo test -p package` in `root` (all test binaries, no fail-fast) and parses it.
/// `target_dir` overrides where cargo builds, for copies of the workspace.
pub fn run(root: &Path, package: &str, target_dir: Option<&Path>) -> Result<Report> {
    let started = Instant::now();
    let mut cmd = cargo();
    cmd.current_dir(root)
        .args(["test", "-p", package, "--no-fail-fast", "--color=never"])
        .args(["--", "--color=never"])
        .args(test_threads())
        .env("CARGO_TERM_COLOR", "never")
        .env("RUST_BACKTRACE", "0");
    if let Some(t) = target_dir {
        cmd.env("CARGO_TARGET_DIR", t);
    }
    let out = cmd
        .output()
        .with_context(|| format!("cannot run cargo test -p {package}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    Ok(read(package, stdout, stderr, started.elapsed()))
}

/// Most of a chapter's tests wait: for a peer to start, for a silent peer's timeout. With
/// one test per core (libtest's default) a 2-core machine leaves them queued behind each
/// other; four at once took the chapters' test programs from 0.30-1.14 s to 0.28-0.86 s
/// (median of 5, `--test-threads` 2 against 4). The user's `RUST_TEST_THREADS` still wins.
fn test_threads() -> Vec<String> {
    if std::env::var_os("RUST_TEST_THREADS").is_some() {
        return Vec::new();
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    vec![format!("--test-threads={}", cores.max(4))]
}

/// A report from what `cargo test -p package` printed.
pub fn read(package: &str, stdout: String, stderr: String, elapsed: Duration) -> Report {
    let tests = parse(&stdout);
    let compile_error = first_compile_error(&stderr);
    let compiled = compile_error.is_none() && stdout.contains("running ");
    let aborted = aborted(&stdout, &stderr, &tests, compiled);
    Report {
        package: package.to_string(),
        compiled,
        compile_error: compile_error.or_else(|| {
            (!compiled).then(|| format!("cargo test -p {package} did not run any test:\n{stderr}"))
        }),
        tests,
        stdout,
        stderr,
        elapsed,
        aborted,
    }
}

/// What the tests say when a program they need as a peer is missing (see
/// `testkit::process`): the machine is not ready, the learner's code is not wrong.
pub const MISSING_PROGRAM: &str = "The tests need the real `";

/// Why a run gave no verdict on the learner's code, if it did not.
fn aborted(stdout: &str, stderr: &str, tests: &[Outcome], compiled: bool) -> Option<String> {
    // Cargo stopped before rustc ran: the workspace or a manifest is broken, a tool is
    // missing. Everything cargo said is kept, its "Caused by:" lines included.
    if !compiled && !rustc_failed(stderr) {
        return Some(match cargo_error(stderr) {
            Some(e) => format!("cargo stopped before building anything:\n{e}"),
            None => format!(
                "cargo test stopped before running any test:\n{}",
                stderr.trim()
            ),
        });
    }
    // A test program that died (killed, or aborted) did not report on every test.
    if let Some(line) = stderr.lines().find(|l| l.contains("(signal: ")) {
        return Some(format!(
            "a test program was stopped before it finished ({}), so not every test ran",
            line.trim()
        ));
    }
    let started = stdout.lines().filter(|l| l.starts_with("running ")).count();
    let finished = stdout
        .lines()
        .filter(|l| l.starts_with("test result:"))
        .count();
    if compiled && finished < started {
        return Some("a test program ended before it reported every test".to_string());
    }
    if let Some(t) = tests.iter().find(|t| t.message.contains(MISSING_PROGRAM)) {
        let first = t
            .message
            .lines()
            .find(|l| l.contains("cannot start"))
            .unwrap_or("");
        return Some(format!(
            "a program the tests need is missing on this machine ({}); `workbook doctor` \
             says how to install it",
            first.trim()
        ));
    }
    None
}

/// Whether rustc reported an error (the learner's code does not compile).
fn rustc_failed(stderr: &str) -> bool {
    stderr.contains("error: could not compile") || stderr.contains("error[E")
}

/// Cargo's own error (not rustc's), whole: the first `error:` line and every line after it,
/// its "Caused by:" blocks included, up to cargo's next status line.
pub fn cargo_error(stderr: &str) -> Option<String> {
    let lines: Vec<&str> = stderr.lines().collect();
    let start = lines.iter().position(|l| l.starts_with("error:"))?;
    let end = lines[start + 1..]
        .iter()
        .position(|l| {
            let t = l.trim_start();
            l.starts_with("warning:")
                || t.starts_with("Compiling ")
                || t.starts_with("Finished ")
                || t.starts_with("Running ")
        })
        .map_or(lines.len(), |n| start + 1 + n);
    Some(lines[start..end].join("\n").trim_end().to_string())
}

/// Per-test results from libtest's output: "test NAME ... ok|FAILED" lines, and the
/// "---- NAME stdout ----" blocks of failures. Doc-tests are left out.
pub fn parse(stdout: &str) -> Vec<Outcome> {
    let mut tests = Vec::new();
    for line in stdout.lines() {
        let Some(rest) = line.strip_prefix("test ") else {
            continue;
        };
        let (name, verdict) = match rest.rsplit_once(" ... ") {
            Some(p) => p,
            None => continue,
        };
        if name.contains(" - ") && name.contains("(line ") {
            continue; // a doc-test
        }
        let passed = match verdict.trim() {
            "ok" => true,
            "FAILED" => false,
            _ => continue, // ignored, bench
        };
        tests.push(Outcome {
            name: name.to_string(),
            passed,
            message: String::new(),
        });
    }
    for (name, message) in failure_blocks(stdout) {
        if let Some(t) = tests
            .iter_mut()
            .find(|t| t.name == name && !t.passed && t.message.is_empty())
        {
            t.message = message;
        }
    }
    tests
}

fn failure_blocks(stdout: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    for line in stdout.lines() {
        let header = line
            .strip_prefix("---- ")
            .and_then(|r| r.strip_suffix(" stdout ----"));
        if let Some(name) = header {
            if let Some((n, lines)) = current.take() {
                blocks.push((n, tidy(&lines)));
            }
            current = Some((name.to_string(), Vec::new()));
            continue;
        }
        if line == "failures:" || line.starts_with("test result:") {
            if let Some((n, lines)) = current.take() {
                blocks.push((n, tidy(&lines)));
            }
            continue;
        }
        if let Some((_, lines)) = current.as_mut() {
            lines.push(line);
        }
    }
    if let Some((n, lines)) = current.take() {
        blocks.push((n, tidy(&lines)));
    }
    blocks
}

/// Drops libtest's boilerplate ("note: run with RUST_BACKTRACE=1 ...") from a failure.
fn tidy(lines: &[&str]) -> String {
    lines
        .iter()
        .filter(|l| !l.starts_with("note: run with `RUST_BACKTRACE"))
        .copied()
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

/// The compiler's first error, as the learner would see it, if the build failed.
/// Cargo's own summary lines after failing tests ("error: test failed", "error: 2 targets
/// failed") are not compile errors.
pub fn first_compile_error(stderr: &str) -> Option<String> {
    let lines: Vec<&str> = stderr.lines().collect();
    let is_cargo_summary = |l: &str| {
        l.starts_with("error: test failed")
            || (l.starts_with("error: ") && l.contains(" target") && l.ends_with("failed:"))
            || l.starts_with("error: could not compile")
    };
    let failed_build = stderr.contains("error: could not compile") || stderr.contains("error[E");
    let start = lines
        .iter()
        .position(|l| (l.starts_with("error[") || l.starts_with("error:")) && !is_cargo_summary(l));
    match start {
        Some(i) if !failed_build && !stderr.contains("error: test failed") => {
            // Cargo's own error (a manifest it cannot load, say): the cause is in its
            // "Caused by:" blocks, so all of it is kept.
            cargo_error(&lines[i..].join("\n"))
        }
        Some(i) if failed_build => {
            // A compiler error block ends at the first blank line after it.
            let end = lines[i..]
                .iter()
                .position(|l| l.trim().is_empty())
                .map_or(lines.len(), |n| i + n);
            Some(lines[i..end].join("\n"))
        }
        _ if failed_build => Some("the build failed (cargo printed no error line)".to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
running 3 tests
test a_passes ... ok
test b_fails ... FAILED
test c_ignored ... ignored

failures:

---- b_fails stdout ----

thread 'b_fails' panicked at tests/x.rs:3:5:
not yet implemented: ch00: do the thing
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace

failures:
    b_fails

test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s
";

    #[test]
    fn reads_outcomes_and_messages() {
        let t = parse(SAMPLE);
        assert_eq!(t.len(), 2);
        assert!(t[0].passed);
        assert!(!t[1].passed);
        assert!(
            t[1].message
                .contains("not yet implemented: ch00: do the thing"),
            "{}",
            t[1].message
        );
        assert!(!t[1].message.contains("RUST_BACKTRACE"));
    }

    #[test]
    fn finds_the_first_compile_error() {
        let stderr = "   Compiling x v0.1.0\nerror[E0425]: cannot find value `y`\n --> src/lib.rs:1:1\n\nerror: could not compile `x`\n";
        let e = first_compile_error(stderr).unwrap();
        assert!(e.starts_with("error[E0425]"));
        assert!(!e.contains("could not compile"));
        assert_eq!(first_compile_error("   Compiling x\n    Finished\n"), None);
        let after_tests = "error: test failed, to rerun pass `-p x --test y`\nerror: 1 target failed:\n    `-p x --test y`\n";
        assert_eq!(first_compile_error(after_tests), None);
    }

    /// A missing lib.rs used to show only "failed to load manifest": the cause is in the
    /// "Caused by:" lines, and the run is no verdict on the learner's code.
    #[test]
    fn cargo_errors_keep_their_causes_and_are_no_verdict() {
        let stderr = "error: failed to load manifest for workspace member `/w/exercises/02-x`\n\
                      referenced by workspace at `/w/Cargo.toml`\n\nCaused by:\n  failed to parse \
                      manifest at `/w/exercises/02-x/Cargo.toml`\n\nCaused by:\n  can't find \
                      library `ch02_x`, rename file to `src/lib.rs` or specify lib.path\n";
        let e = first_compile_error(stderr).unwrap();
        assert!(e.contains("can't find library `ch02_x`"), "{e}");
        assert!(e.contains("exercises/02-x"), "{e}");
        let r = read("ch00-x", String::new(), stderr.into(), Duration::ZERO);
        assert!(!r.compiled);
        let why = r.aborted.expect("a cargo failure is no verdict");
        assert!(why.contains("can't find library"), "{why}");
    }

    #[test]
    fn a_killed_test_program_or_a_missing_peer_is_no_verdict() {
        let stdout = "running 3 tests\ntest a ... ok\n";
        let stderr =
            "error: test failed, to rerun pass `--test t`\n\nCaused by:\n  process didn't \
                      exit successfully: `/t/deps/t-123` (signal: 9, SIGKILL: kill)\n";
        let r = read("ch00-x", stdout.into(), stderr.into(), Duration::ZERO);
        assert!(r.compiled, "{:?}", r.compile_error);
        assert!(r.aborted.unwrap().contains("SIGKILL"));
        // Every test program ran to its summary, but one test could not start openssl.
        let stdout = "running 1 test\ntest a ... FAILED\n\nfailures:\n\n---- a stdout ----\n\
                      thread 'a' panicked at testkit/src/process.rs:1:1:\ncannot start `openssl`: \
                      No such file or directory (os error 2). The tests need the real `openssl` \
                      program as a peer\n\nfailures:\n    a\n\ntest result: FAILED. 0 passed; 1 failed\n";
        let r = read(
            "ch00-x",
            stdout.into(),
            "error: test failed\n".into(),
            Duration::ZERO,
        );
        assert!(r.aborted.unwrap().contains("cannot start `openssl`"));
        // An ordinary failure is a verdict.
        let r = read(
            "ch00-x",
            SAMPLE.into(),
            "error: test failed\n".into(),
            Duration::ZERO,
        );
        assert_eq!(r.aborted, None);
    }

    #[test]
    fn the_variables_cargo_run_sets_are_not_passed_on() {
        for v in [
            "CARGO_MANIFEST_DIR",
            "CARGO_PKG_NAME",
            "CARGO_PKG_VERSION_MAJOR",
            "CARGO_MANIFEST_PATH",
        ] {
            assert!(is_set_by_cargo_for_one_package(v), "{v}");
        }
        for v in [
            "CARGO",
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "CARGO_BUILD_JOBS",
            "RUSTC_WRAPPER",
            "CARGO_TERM_COLOR",
        ] {
            assert!(!is_set_by_cargo_for_one_package(v), "{v}");
        }
    }
}
