//! How `check` lays out a chapter's failures: the cause first, the rest one line each, the
//! peers' logs in files.
//!
//! One wrong line often fails a dozen tests. The learner needs the one failure that names
//! the cause, then to know that the others follow from it: not a dozen screens in
//! alphabetical order. So failures are ordered by the chapter's promise list (a promise
//! marked `cause = true` first: its test checks the learner's code directly; then the
//! promises in the order of the page; then tests no promise names), the first one is shown
//! whole, the others by their first sentence, and what a peer printed goes to a file whose
//! path the message names (`check --verbose` shows everything in place).

use std::path::{Path, PathBuf};

use crate::manifest::Chapter;

/// Where a chapter's failures come from, ordered for the learner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The failing tests that printed this same message.
    pub tests: Vec<String>,
    pub message: String,
}

/// The failing tests, grouped by identical message (compared by `same`, which leaves out
/// what differs between tests that failed alike, such as libtest's thread names), the most
/// telling group first.
pub fn ordered(
    ch: &Chapter,
    failed: &[(String, String)],
    same: impl Fn(&str) -> String,
) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for (name, message) in failed {
        match groups
            .iter_mut()
            .find(|g| same(&g.message) == same(message))
        {
            Some(g) => g.tests.push(name.clone()),
            None => groups.push(Group {
                tests: vec![name.clone()],
                message: message.clone(),
            }),
        }
    }
    for g in &mut groups {
        g.tests.sort_by_key(|t| rank(ch, t));
    }
    groups.sort_by_key(|g| rank(ch, &g.tests[0]));
    groups
}

/// The sort key of a test: a cause's promise first, then promises in page order, then
/// tests no promise names, by name.
fn rank(ch: &Chapter, test: &str) -> (u8, usize, String) {
    match promise_index(ch, test) {
        Some(i) if ch.promises[i].cause => (0, i, test.to_string()),
        Some(i) => (1, i, test.to_string()),
        None => (2, 0, test.to_string()),
    }
}

fn promise_index(ch: &Chapter, test: &str) -> Option<usize> {
    let short = test.rsplit("::").next().unwrap_or(test);
    ch.promises.iter().position(|p| p.test == short)
}

/// How many of the failing tests after the first group are tests of promises that a
/// mistake breaking the first group's promise also breaks: failures that can follow from
/// the same mistake.
pub fn following_from_first(ch: &Chapter, groups: &[Group]) -> usize {
    let Some(first) = groups.first() else {
        return 0;
    };
    let mistakes: Vec<&String> = first
        .tests
        .iter()
        .filter_map(|t| promise_index(ch, t))
        .flat_map(|i| &ch.promises[i].mistakes)
        .collect();
    groups[1..]
        .iter()
        .flat_map(|g| &g.tests)
        .filter(|t| {
            promise_index(ch, t).is_some_and(|i| {
                ch.promises[i]
                    .mistakes
                    .iter()
                    .any(|m| mistakes.contains(&m))
            })
        })
        .count()
}

/// The first sentence of a message (its first line, cut at a sentence's end if it is long).
pub fn first_sentence(message: &str) -> String {
    let line = message
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    const MAX: usize = 240;
    if line.chars().count() <= MAX {
        return line.to_string();
    }
    let cut: String = line.chars().take(MAX).collect();
    match cut.rfind(". ") {
        Some(i) if i > 40 => cut[..=i].to_string(),
        _ => format!("{cut}..."),
    }
}

/// A peer's output inside a failure message, as testkit writes it: from a header line
/// "--- `program args` stdout ---" (or "--- `...` in a child ... ---") to the line
/// "--- end ---", or to the end of the message.
fn is_block_start(line: &str) -> bool {
    line.starts_with("--- `") && line.ends_with(" ---")
}

const BLOCK_END: &str = "--- end ---";

/// The message without the peers' outputs, each replaced by one line naming `log`, and the
/// outputs themselves (empty when there were none).
pub fn fold_peer_output(message: &str, log: &Path) -> (String, String) {
    let mut kept = Vec::new();
    let mut logged = Vec::new();
    let mut inside = false;
    for line in message.lines() {
        if !inside && is_block_start(line) {
            inside = true;
            let program = line[5..].split([' ', '`']).next().unwrap_or("the peer");
            kept.push(format!(
                "(what {program} printed is in {})",
                shown_path(log).display()
            ));
            logged.push(line);
            continue;
        }
        if inside {
            logged.push(line);
            if line == BLOCK_END {
                inside = false;
            }
            continue;
        }
        kept.push(line.to_string());
    }
    // Two peers' outputs name the same file once.
    kept.dedup();
    let mut out = logged.join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    (kept.join("\n"), out)
}

/// The log file of one failing test: under the workbook's state folder (in `target/`).
pub fn log_path(state_dir: &Path, ch: &Chapter, test: &str) -> PathBuf {
    let safe: String = test
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    state_dir
        .join("logs")
        .join(format!("{:02}-{safe}.log", ch.number))
}

/// `path` relative to the current folder when it is inside it, so messages stay short.
fn shown_path(path: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chapter() -> Chapter {
        let toml = r#"
number = 5
slug = "x"
title = "X"
section = "s"
summary = "s"
hints = ["a", "b", "c"]
[[promise]]
says = "refuses expired"
test = "expired_is_refused"
mistakes = ["verify-none", "callback-true"]
[[promise]]
says = "refuses another host"
test = "another_host_is_refused"
mistakes = ["hostname-off"]
[[promise]]
says = "the callback keeps the verdict"
test = "callback_keeps_the_verdict"
mistakes = ["callback-true"]
cause = true
"#;
        toml::from_str(toml).unwrap()
    }

    fn fail(name: &str, msg: &str) -> (String, String) {
        (name.to_string(), msg.to_string())
    }

    #[test]
    fn the_cause_comes_first_then_the_page_order_then_the_rest() {
        let ch = chapter();
        let groups = ordered(
            &ch,
            &[
                fail("a_test_no_promise_names", "m4"),
                fail("another_host_is_refused", "m2"),
                fail("expired_is_refused", "m1"),
                fail("callback_keeps_the_verdict", "m3"),
            ],
            str::to_string,
        );
        let firsts: Vec<&str> = groups.iter().map(|g| g.tests[0].as_str()).collect();
        assert_eq!(
            firsts,
            [
                "callback_keeps_the_verdict",
                "expired_is_refused",
                "another_host_is_refused",
                "a_test_no_promise_names"
            ]
        );
        // Only the expired test shares a mistake (callback-true) with the cause.
        assert_eq!(following_from_first(&ch, &groups), 1);
    }

    #[test]
    fn same_message_tests_are_one_group() {
        let ch = chapter();
        let groups = ordered(
            &ch,
            &[
                fail(
                    "tests::another_host_is_refused",
                    "thread 'a' panicked at x:\ntodo",
                ),
                fail("expired_is_refused", "thread 'b' panicked at x:\ntodo"),
            ],
            |m| m.lines().filter(|l| !l.starts_with("thread")).collect(),
        );
        assert_eq!(groups.len(), 1);
        assert_eq!(
            groups[0].tests,
            ["expired_is_refused", "tests::another_host_is_refused"]
        );
    }

    #[test]
    fn peer_output_goes_to_the_log_and_one_line_names_it() {
        let log = Path::new("/nowhere/logs/05-t.log");
        let msg = "Your client accepted it.\n  → ClientHello\n--- `openssl s_server -accept 127.0.0.1:0 -msg` stdout ---\n>>> hex 01 02\nACCEPT\n--- stderr ---\nboom\n--- end ---\nafter\n--- `openssl s_client -connect x` stdout ---\nCONNECTED";
        let (kept, logged) = fold_peer_output(msg, log);
        assert_eq!(
            kept,
            "Your client accepted it.\n  → ClientHello\n(what openssl printed is in /nowhere/logs/05-t.log)\nafter\n(what openssl printed is in /nowhere/logs/05-t.log)"
        );
        assert!(logged.contains(">>> hex 01 02") && logged.contains("boom"));
        assert!(logged.contains("CONNECTED") && !logged.contains("after"));
        let (same, none) = fold_peer_output("no peer here", log);
        assert_eq!((same.as_str(), none.as_str()), ("no peer here", ""));
    }

    #[test]
    fn a_long_first_line_is_cut_at_a_sentence() {
        let long = format!("{}. {}", "a".repeat(100), "b".repeat(300));
        assert_eq!(first_sentence(&long), format!("{}.", "a".repeat(100)));
        assert_eq!(first_sentence("\n  short one\nmore"), "short one");
    }
}
