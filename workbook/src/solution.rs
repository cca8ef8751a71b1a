//! `workbook solution N`: the solved crate's `src/`, whole or as a diff against the
//! learner's files.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use similar::{ChangeTag, TextDiff};

use crate::learner;
use crate::manifest::Chapter;
use crate::shipped;
use crate::state::{self, State, Status};
use crate::ui;

/// Every file of the solution's `src/`, each under a header line.
pub fn show(root: &Path, ch: &Chapter) -> Result<String> {
    let sol = ch.solution_dir(root);
    let files = shipped::read_tree(&sol, &sol.join("src"))?;
    if files.is_empty() {
        anyhow::bail!("{} has no files", sol.join("src").display());
    }
    let mut out = String::new();
    for (rel, bytes) in files {
        let _ = writeln!(
            out,
            "{}",
            ui::strong(format!("── solutions/{}/{rel} ──", ch.dir_name()))
        );
        out.push_str(&String::from_utf8_lossy(&bytes));
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push('\n');
    }
    Ok(out)
}

/// A unified diff of each of the learner's `src/` files against the solution's.
pub fn diff(root: &Path, ch: &Chapter) -> Result<String> {
    let sol_dir = ch.solution_dir(root);
    let ex_dir = ch.exercise_dir(root);
    let solution = shipped::read_tree(&sol_dir, &sol_dir.join("src"))?;
    let yours = shipped::read_tree(&ex_dir, &ex_dir.join("src"))?;
    let mut names: Vec<&String> = solution.keys().chain(yours.keys()).collect();
    names.sort();
    names.dedup();
    let mut out = String::new();
    for rel in names {
        let a = yours
            .get(rel)
            .map(|b| String::from_utf8_lossy(b).into_owned());
        let b = solution
            .get(rel)
            .map(|b| String::from_utf8_lossy(b).into_owned());
        let left = format!("exercises/{}/{rel} (yours)", ch.dir_name());
        let right = format!("solutions/{}/{rel}", ch.dir_name());
        if a == b {
            let _ = writeln!(out, "{} {left} and {right} are the same", ui::dim("="));
            continue;
        }
        let (a, b) = (a.unwrap_or_default(), b.unwrap_or_default());
        let d = TextDiff::from_lines(&a, &b);
        let _ = writeln!(out, "{}", ui::strong(format!("--- {left}")));
        let _ = writeln!(out, "{}", ui::strong(format!("+++ {right}")));
        for group in d.grouped_ops(3) {
            let (first, last) = (&group[0], &group[group.len() - 1]);
            let _ = writeln!(
                out,
                "{}",
                ui::dim(format!(
                    "@@ -{},{} +{},{} @@",
                    first.old_range().start + 1,
                    last.old_range().end - first.old_range().start,
                    first.new_range().start + 1,
                    last.new_range().end - first.new_range().start
                ))
            );
            for op in &group {
                for change in d.iter_changes(op) {
                    let line = change.to_string_lossy();
                    let line = line.trim_end_matches('\n');
                    match change.tag() {
                        ChangeTag::Delete => {
                            let _ = writeln!(out, "{}", console::style(format!("-{line}")).red());
                        }
                        ChangeTag::Insert => {
                            let _ = writeln!(out, "{}", console::style(format!("+{line}")).green());
                        }
                        ChangeTag::Equal => {
                            let _ = writeln!(out, " {line}");
                        }
                    }
                }
            }
        }
        out.push('\n');
    }
    Ok(out)
}

/// `workbook solution N`: the solution, once the chapter passes (or with `force`).
pub fn run(root: &Path, ch: &Chapter, diff: bool, force: bool) -> Result<bool> {
    let me = ui::me();
    let state = State::load(root)?;
    let (passes, why) = match state::status(root, ch, &state) {
        Status::Done(_) => (true, String::new()),
        Status::NotStarted => (false, "you have not started it yet".to_string()),
        Status::Failing(g) if !g.compiled => (false, "your exercise does not compile".to_string()),
        Status::Failing(g) => (
            false,
            format!(
                "its last check failed: {} of {} tests pass",
                g.tests_passed, g.tests_total
            ),
        ),
        Status::Changed(_) | Status::Edited | Status::Unchecked => {
            let spin = ui::spinner(format!(
                "your files changed since the last check: checking chapter {:02} first",
                ch.number
            ));
            let graded = learner::grade(root, ch);
            spin.finish_and_clear();
            let graded = graded?;
            let r = &graded.report;
            let why = if let Some(why) = &r.aborted {
                format!("its tests could not run to the end, so there is no verdict: {why}")
            } else if r.compiled {
                format!(
                    "it does not pass yet: {} of {} tests pass",
                    r.passed(),
                    r.tests.len()
                )
            } else {
                "your exercise does not compile".to_string()
            };
            (r.all_passed(), why)
        }
    };
    if passes {
        println!(
            "{} Chapter {:02} passes, so here is the solution{}.\n",
            ui::good("✓"),
            ch.number,
            if diff {
                ", as a diff of your files against it"
            } else {
                ""
            }
        );
    } else if force {
        eprintln!(
            "{} chapter {:02} is not solved ({why}). Showing its solution anyway, as you asked: \
             reading it now takes away the part where you work it out.\n",
            ui::note("warning:"),
            ch.number
        );
    } else {
        eprintln!(
            "Chapter {:02} is not solved yet: {why}. Solve it first (`{me} check {n}`, \
             `{me} hint {n}`); `{me} solution {n} --force` shows it anyway.",
            ch.number,
            n = ch.number
        );
        return Ok(false);
    }
    let text = if diff {
        self::diff(root, ch)?
    } else {
        show(root, ch)?
    };
    print!("{text}");
    Ok(true)
}
