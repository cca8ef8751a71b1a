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

/// Runs `cargo test -p package` in `root` (all test binaries, no fail-fast) and parses it.
/// `target_dir` overrides where cargo builds, for copies of the workspace.
pub fn run(root: &Path, package: &str, target_dir: Option<&Path>) -> Result<Report> {
    let started = Instant::now();
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root)
        .args(["test", "-p", package, "--no-fail-fast", "--color=never"])
        .args(["--", "--color=never"])
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
    let tests = parse(&stdout);
    let compile_error = first_compile_error(&stderr);
    let compiled = compile_error.is_none() && stdout.contains("running ");
    Ok(Report {
        package: package.to_string(),
        compiled,
        compile_error: compile_error.or_else(|| {
            (!compiled).then(|| format!("cargo test -p {package} did not run any test:\n{stderr}"))
        }),
        tests,
        stdout,
        stderr,
        elapsed: started.elapsed(),
    })
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
        Some(i) if failed_build || !stderr.contains("error: test failed") => {
            // An error block ends at the first blank line after it.
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
}
