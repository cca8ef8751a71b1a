//! Checks 1 and 2: every solution passes its chapter's tests; every shipped exercise fails
//! each of them with its `todo!()` message.

use std::path::Path;

use anyhow::Result;

use super::{Evidence, Findings};
use crate::grade;
use crate::manifest::Chapter;

/// Check 1 for one chapter; records the names of its tests for check 6.
pub(super) fn check_solution(
    root: &Path,
    ch: &Chapter,
    f: &mut Findings,
    ev: &mut Evidence,
) -> Result<usize> {
    let report = grade::run(root, &ch.solution_package(), None)?;
    if let Some(e) = &report.compile_error {
        f.fail(format!("{}: does not build:\n{e}", ch.solution_package()));
        return Ok(0);
    }
    if report.tests.is_empty() {
        f.fail(format!("{}: has no tests", ch.solution_package()));
    }
    ev.tests = Some(report.tests.iter().map(|t| t.name.clone()).collect());
    for t in report.failed() {
        f.fail(format!(
            "{}: test {} fails on the solution:\n{}",
            ch.solution_package(),
            t.name,
            t.message
        ));
    }
    f.pass(report.passed());
    println!(
        "  {:<40} {} passed, {} failed",
        ch.solution_package(),
        report.passed(),
        report.failed().count()
    );
    Ok(report.passed())
}

pub(super) fn check_exercise(root: &Path, ch: &Chapter, f: &mut Findings) -> Result<usize> {
    let report = grade::run(root, &ch.exercise_package(), None)?;
    if let Some(e) = &report.compile_error {
        f.fail(format!(
            "{}: the shipped exercise does not build:\n{e}",
            ch.exercise_package()
        ));
        return Ok(0);
    }
    if report.tests.is_empty() {
        f.fail(format!("{}: has no tests", ch.exercise_package()));
    }
    let tag = format!("not yet implemented: ch{:02}:", ch.number);
    let mut good = 0;
    for t in &report.tests {
        if t.passed {
            f.fail(format!(
                "{}: test {} passes on the unsolved exercise, so it tests nothing the learner writes",
                ch.exercise_package(),
                t.name
            ));
        } else if !t.message.contains(&tag) {
            f.fail(format!(
                "{}: test {} fails, but not with a todo!() message starting {tag:?}; it printed:\n{}",
                ch.exercise_package(),
                t.name,
                t.message
            ));
        } else {
            good += 1;
        }
    }
    f.pass(good);
    println!(
        "  {:<40} {} of {} tests fail with a todo!() message",
        ch.exercise_package(),
        good,
        report.tests.len()
    );
    Ok(good)
}
