//! Check 4: exercises and solutions differ only inside the marked regions.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::Findings;
use crate::manifest::Chapter;
use crate::regions;

pub(super) fn rust_files(dir: &Path) -> Result<BTreeSet<PathBuf>> {
    let mut files = BTreeSet::new();
    if !dir.exists() {
        return Ok(files);
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d)? {
            let p = entry?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") {
                files.insert(p.strip_prefix(dir).unwrap_or(&p).to_path_buf());
            }
        }
    }
    Ok(files)
}

pub(super) fn check_regions(root: &Path, ch: &Chapter, f: &mut Findings) -> Result<usize> {
    let (ex, sol) = (ch.exercise_dir(root), ch.solution_dir(root));
    for (what, dir) in [("exercise", &ex), ("solution", &sol)] {
        if !dir.join("Cargo.toml").is_file() {
            f.fail(format!(
                "chapter {:02} has no {what} crate at {}",
                ch.number,
                dir.display()
            ));
            return Ok(0);
        }
    }
    check_test_wiring(root, ch, f)?;
    let ex_files = rust_files(&ex.join("src"))?;
    let sol_files = rust_files(&sol.join("src"))?;
    for missing in ex_files.symmetric_difference(&sol_files) {
        f.fail(format!(
            "chapter {:02}: src/{} exists in only one of exercise and solution",
            ch.number,
            missing.display()
        ));
    }
    let mut regions_total = 0;
    for rel in ex_files.intersection(&sol_files) {
        let e_text = fs::read_to_string(ex.join("src").join(rel))?;
        let s_text = fs::read_to_string(sol.join("src").join(rel))?;
        let shown = format!("{}/src/{}", ch.dir_name(), rel.display());
        let (e, s) = match (regions::outside(&e_text), regions::outside(&s_text)) {
            (Ok(e), Ok(s)) => (e, s),
            (Err(err), _) => {
                f.fail(format!("exercises/{shown}: {err}"));
                continue;
            }
            (_, Err(err)) => {
                f.fail(format!("solutions/{shown}: {err}"));
                continue;
            }
        };
        if e.1 != s.1 {
            f.fail(format!(
                "{shown}: the exercise has {} regions, the solution {}",
                e.1, s.1
            ));
        } else if let Some(i) = (0..e.0.len().max(s.0.len())).find(|&i| e.0.get(i) != s.0.get(i)) {
            f.fail(format!(
                "{shown}: exercise and solution differ outside the marked regions, first at \
                 line {} of the text outside regions:\n    exercise: {:?}\n    solution: {:?}",
                i + 1,
                e.0.get(i).map(String::as_str).unwrap_or("(end of file)"),
                s.0.get(i).map(String::as_str).unwrap_or("(end of file)")
            ));
        }
        regions_total += e.1;
        f.pass(1);
        // Every region the learner sees must say what to write.
        for body in regions::bodies(&e_text) {
            let wanted = format!("ch{:02}:", ch.number);
            if !body.contains("todo!(") || !body.contains(&wanted) {
                f.fail(format!(
                    "exercises/{shown}: a region has no todo!() whose message starts {wanted:?}:\n{body}"
                ));
            }
        }
    }
    if regions_total == 0 {
        f.fail(format!(
            "chapter {:02}: the exercise has no region for the learner to fill in",
            ch.number
        ));
    }
    Ok(ex_files.len())
}

/// The solution must run every test file of the exercise, under the same library name:
/// a test file the solution forgets would never be checked against a correct answer.
fn check_test_wiring(root: &Path, ch: &Chapter, f: &mut Findings) -> Result<()> {
    let ex_tests: BTreeSet<String> = match fs::read_dir(ch.exercise_dir(root).join("tests")) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".rs"))
            .collect(),
        Err(_) => BTreeSet::new(),
    };
    if ex_tests.is_empty() {
        f.fail(format!(
            "exercises/{}/tests/ has no test files",
            ch.dir_name()
        ));
    }
    let text = fs::read_to_string(ch.solution_dir(root).join("Cargo.toml"))?;
    let doc: toml::Table = toml::from_str(&text)?;
    let wired: BTreeSet<String> = doc
        .get("test")
        .and_then(|t| t.as_array())
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("path").and_then(|p| p.as_str()))
        .filter_map(|p| {
            let expected = format!("../../exercises/{}/tests/", ch.dir_name());
            p.strip_prefix(&expected).map(str::to_string)
        })
        .collect();
    for missing in ex_tests.difference(&wired) {
        f.fail(format!(
            "solutions/{}/Cargo.toml does not run exercises/{}/tests/{missing} (add a [[test]] \
             with path = \"../../exercises/{}/tests/{missing}\")",
            ch.dir_name(),
            ch.dir_name(),
            ch.dir_name()
        ));
    }
    let lib_name = format!("ch{:02}_{}", ch.number, ch.slug.replace('-', "_"));
    for (what, dir) in [
        ("exercise", ch.exercise_dir(root)),
        ("solution", ch.solution_dir(root)),
    ] {
        let text = fs::read_to_string(dir.join("Cargo.toml"))?;
        let doc: toml::Table = toml::from_str(&text)?;
        let name = doc
            .get("lib")
            .and_then(|l| l.get("name"))
            .and_then(|n| n.as_str())
            .unwrap_or("");
        if name != lib_name {
            f.fail(format!(
                "chapter {:02}: the {what}'s [lib] name is {name:?}, expected {lib_name:?}",
                ch.number
            ));
        }
    }
    Ok(())
}
