//! `workbook verify`: the checks that keep the workbook honest. CI runs them after
//! `cargo test`; each prints what it checked and counted, and any failure names the file.
//!
//! 1. Every solution passes every test of its chapter.
//! 2. Every exercise, as shipped, fails every one of its tests with a `todo!()` message.
//! 3. Every catalogued mistake (at least five per chapter) compiles and fails at least one
//!    test; the failing tests are recorded for check 6.
//! 4. Exercises and solutions differ only inside the marked regions.
//! 5. The book: every chapter has its page, exercise and solution; every `{{#include}}`
//!    resolves to a non-empty anchor; relative links resolve and no page links to or names a
//!    chapter missing from the manifest; the book builds; in headless Chromium at 1280 px
//!    every chapter page renders with no request leaving the machine, no sideways scrolling,
//!    a working search (the index is there and a search finds the page) and no link to a
//!    page that was not rendered. Every picture under `book/src/img`, measured there at
//!    1280 px, has no label clipped, no two labels overlapping and no line through a label
//!    (see [`pictures`]). Every OpenSSL name the tutorial uses (`book/openssl-names.txt`)
//!    is named in the book and has a row, linked to a chapter, in the appendix.
//! 6. Promises: every chapter lists at least one `[[promise]]`; each names a test of the
//!    chapter's run and catalogued mistakes, and each of those mistakes is rejected by *that*
//!    test (not only by another one). Every catalogued mistake backs some promise.
//! 7. No answer on a page: no book page (after its includes are expanded) shows the code of
//!    a learner's region: no include of an anchor inside a region, no two consecutive
//!    significant lines of a region, no single distinctive line of one.
//! 8. No answer in a `todo!()`: no `todo!()` names, as code, an identifier of its solution's
//!    region that the learner is not given, nor holds a line of it; hints 2 and 3 each name a
//!    call of every region (see [`todos`]).
//!
//! `workbook verify --mutants [N]` runs instead `cargo mutants` over the solution crates (see
//! [`mutants`]): a missed mutant inside a region fails unless listed as `[[equivalent_mutant]]`.

mod answers;
mod browser;
mod compare;
mod grading;
mod mistakes;
pub mod mutants;
mod names;
mod pages;
mod pictures;
mod promises;
mod todos;

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Result};

use crate::manifest::{self, Chapter};

pub use crate::regions::{BEGIN, END};
pub use browser::{check_rendered_in_browser, chromium, page_requests_leaving};
pub use pages::anchor_body;

/// Collects problems instead of stopping at the first, so one run shows them all.
#[derive(Default, Debug)]
pub struct Findings {
    pub problems: Vec<String>,
    /// Things worth reading that do not fail the run.
    pub warnings: Vec<String>,
    /// Items that were checked and found right, for the closing count.
    pub passed: usize,
}

impl Findings {
    pub fn fail(&mut self, msg: impl Into<String>) {
        let msg = msg.into();
        println!("  FAIL {msg}");
        self.problems.push(msg);
    }
    pub fn warn(&mut self, msg: impl Into<String>) {
        let msg = msg.into();
        println!("  WARN {msg}");
        self.warnings.push(msg);
    }
    pub fn pass(&mut self, n: usize) {
        self.passed += n;
    }
}

/// What checks 1 and 3 learned about one chapter, for check 6 (nothing runs twice).
#[derive(Default, Debug, Clone)]
pub struct Evidence {
    /// The names of the tests in the solution's run (check 1), if it built.
    pub tests: Option<Vec<String>>,
    /// For each catalogued mistake that was judged (check 3): the tests that failed with it.
    pub rejected_by: BTreeMap<String, Vec<String>>,
}

/// Which checks to run; all by default.
#[derive(Debug, Clone, Copy)]
pub struct Selection {
    pub solutions: bool,
    pub exercises: bool,
    pub mistakes: bool,
    pub regions: bool,
    pub book: bool,
    pub promises: bool,
    pub answers: bool,
}

impl Default for Selection {
    fn default() -> Self {
        Selection {
            solutions: true,
            exercises: true,
            mistakes: true,
            regions: true,
            book: true,
            promises: true,
            answers: true,
        }
    }
}

/// Runs every check (or those of one chapter), prints a report, and says whether all passed.
pub fn run(root: &Path, only: Option<u32>) -> Result<bool> {
    run_selected(root, only, Selection::default())
}

/// The chapters `only` selects (all when `None`), or an error listing the chapters.
pub fn select(all: &[Chapter], only: Option<u32>) -> Result<Vec<&Chapter>> {
    match only {
        Some(n) => {
            let ch: Vec<_> = all.iter().filter(|c| c.number == n).collect();
            if ch.is_empty() {
                let numbers: Vec<String> = all.iter().map(|c| c.number.to_string()).collect();
                bail!(
                    "there is no chapter {n}; the chapters are {}",
                    numbers.join(", ")
                );
            }
            Ok(ch)
        }
        None => Ok(all.iter().collect()),
    }
}

/// Runs the selected checks.
pub fn run_selected(root: &Path, only: Option<u32>, sel: Selection) -> Result<bool> {
    let all = manifest::load(root)?;
    let chapters = select(&all, only)?;
    let mut f = Findings::default();
    let mut evidence: BTreeMap<u32, Evidence> = BTreeMap::new();

    if sel.regions {
        println!("check 4: exercises and solutions differ only inside the marked regions");
        let mut files = 0;
        for ch in &chapters {
            files += compare::check_regions(root, ch, &mut f)?;
        }
        println!("  {files} source files compared");
    }
    if sel.book {
        println!("check 5: the book, its pages, includes and links");
        pages::check_book(root, &all, &mut f)?;
        names::check_names(root, &mut f)?;
    }
    if sel.answers {
        println!("check 7: no book page shows the code of a learner's region");
        answers::check_answers(root, &all, &mut f)?;
        println!(
            "check 8: no todo!() gives its region's answer away; hints 2 and 3 cover every region"
        );
        todos::check_todos(root, &chapters, &mut f)?;
    }
    if sel.solutions {
        println!("check 1: every solution passes every test of its chapter");
        let mut tests = 0;
        for ch in &chapters {
            let ev = evidence.entry(ch.number).or_default();
            tests += grading::check_solution(root, ch, &mut f, ev)?;
        }
        println!("  {tests} tests passed across {} solutions", chapters.len());
    }
    if sel.exercises {
        println!("check 2: every shipped exercise fails every test with its todo!() message");
        let mut tests = 0;
        for ch in &chapters {
            tests += grading::check_exercise(root, ch, &mut f)?;
        }
        println!(
            "  {tests} tests failed as they should, across {} exercises",
            chapters.len()
        );
    }
    if sel.mistakes {
        println!("check 3: every catalogued mistake is rejected by at least one test");
        let (rejected, total) = mistakes::check_mistakes(root, &chapters, &mut f, &mut evidence)?;
        println!("  {rejected} of {total} catalogued mistakes rejected");
    }
    if sel.promises {
        println!("check 6: every promise names a test that rejects each of its mistakes");
        let mut kept = 0;
        for ch in &chapters {
            let ev = evidence.get(&ch.number).cloned().unwrap_or_default();
            kept += promises::check_promises(ch, &ev, &mut f);
        }
        println!("  {kept} promise links checked and kept");
    }

    if !f.warnings.is_empty() {
        println!("warnings:");
        for w in &f.warnings {
            println!("  - {w}");
        }
    }
    if !f.problems.is_empty() {
        println!("problems:");
        for p in &f.problems {
            println!("  - {p}");
        }
    }
    // The plain closing count CI reads: items checked and found right, and problems.
    println!("verify: {} passed, {} failed", f.passed, f.problems.len());
    Ok(f.problems.is_empty())
}
