//! Check 3: every catalogued mistake, applied to a scratch copy of the solution, compiles and
//! is rejected by at least one test.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

use super::{Evidence, Findings};
use crate::grade;
use crate::manifest::{Chapter, Mistake};

/// How many catalogued mistakes every chapter needs.
pub const MIN_MISTAKES: usize = 5;

pub(super) fn check_mistakes(
    root: &Path,
    chapters: &[&Chapter],
    f: &mut Findings,
    evidence: &mut BTreeMap<u32, Evidence>,
) -> Result<(usize, usize)> {
    let (mut rejected, mut total) = (0, 0);
    for ch in chapters {
        // One scratch workspace per chapter: runs for different chapters do not collide,
        // and each keeps its incremental build between runs.
        let ws = root
            .join("target/verify")
            .join(format!("workspace-{}", ch.dir_name()));
        let ws = ws.as_path();
        if ch.mistakes.len() < MIN_MISTAKES {
            f.fail(format!(
                "chapter {:02} catalogues {} mistake(s); every chapter needs at least {MIN_MISTAKES}",
                ch.number,
                ch.mistakes.len()
            ));
        }
        if ch.mistakes.is_empty() {
            continue;
        }
        make_scratch_workspace(root, ws, ch)?;
        for m in &ch.mistakes {
            total += 1;
            if let Some(failing) = judge_mistake(root, ws, ch, m, f)? {
                rejected += 1;
                evidence
                    .entry(ch.number)
                    .or_default()
                    .rejected_by
                    .insert(m.name.clone(), failing);
            }
        }
    }
    Ok((rejected, total))
}

/// Applies one mistake to the scratch copy of the solution, runs the tests, restores it.
/// Returns the names of the failing tests when the mistake is rejected.
fn judge_mistake(
    root: &Path,
    ws: &Path,
    ch: &Chapter,
    m: &Mistake,
    f: &mut Findings,
) -> Result<Option<Vec<String>>> {
    let label = format!("ch{:02} {}", ch.number, m.name);
    let file = ws.join("solutions").join(ch.dir_name()).join(&m.file);
    let original = fs::read_to_string(&file)
        .with_context(|| format!("{label}: cannot read {}", file.display()))?;
    let count = original.matches(&m.find).count();
    if count != 1 {
        f.fail(format!(
            "{label}: its `find` text occurs {count} times in solutions/{}/{} (it must occur once); \
             the mistake no longer matches the solution",
            ch.dir_name(),
            m.file
        ));
        return Ok(None);
    }
    fs::write(&file, original.replacen(&m.find, &m.replace, 1))?;
    let report = grade::run(ws, &ch.solution_package(), Some(&scratch_target(root)));
    fs::write(&file, &original)?;
    let report = report?;
    if let Some(e) = &report.compile_error {
        f.fail(format!(
            "{label}: does not compile, so no test judges it; a catalogued mistake must be code \
             a learner could run:\n{e}"
        ));
        return Ok(None);
    }
    let failed: Vec<_> = report.failed().collect();
    if failed.is_empty() {
        f.fail(format!(
            "{label}: every test passes with this mistake in place ({}); the chapter's tests \
             cannot tell it from a correct solution",
            m.why
        ));
        return Ok(None);
    }
    let names: Vec<&str> = failed.iter().map(|t| t.name.as_str()).collect();
    println!("  {label:<40} rejected by {}", names.join(", "));
    f.pass(1);
    Ok(Some(names.iter().map(|n| n.to_string()).collect()))
}

/// Where scratch workspaces build. Not the main `target/`: cargo names a path package's
/// artifacts by its path relative to the workspace, so a scratch copy would build a
/// mistaken solution under the very names of the real one, and a later `cargo test` could
/// take that binary for up to date (the real sources are older than its build).
pub(super) fn scratch_target(root: &Path) -> std::path::PathBuf {
    root.join("target/verify/target")
}

/// A small workspace under target/ holding certs, testkit and one chapter, where mistakes
/// can be applied without touching the real solution.
pub(super) fn make_scratch_workspace(root: &Path, ws: &Path, ch: &Chapter) -> Result<()> {
    for dir in ["exercises", "solutions"] {
        let d = ws.join(dir);
        if d.exists() {
            fs::remove_dir_all(&d)?;
        }
    }
    fs::create_dir_all(ws)?;
    for shared in ["certs", "testkit"] {
        sync_dir(&root.join(shared), &ws.join(shared))?;
    }
    sync_dir(
        &ch.exercise_dir(root),
        &ws.join("exercises").join(ch.dir_name()),
    )?;
    sync_dir(
        &ch.solution_dir(root),
        &ws.join("solutions").join(ch.dir_name()),
    )?;
    fs::copy(root.join("Cargo.lock"), ws.join("Cargo.lock"))?;

    let text = fs::read_to_string(root.join("Cargo.toml"))?;
    let mut doc: toml::Table =
        toml::from_str(&text).context("the root Cargo.toml does not parse")?;
    let members = vec![
        "certs".to_string(),
        "testkit".into(),
        format!("exercises/{}", ch.dir_name()),
        format!("solutions/{}", ch.dir_name()),
    ];
    let workspace = doc
        .get_mut("workspace")
        .and_then(|w| w.as_table_mut())
        .context("the root Cargo.toml has no [workspace]")?;
    workspace.insert("members".into(), toml::Value::from(members));
    workspace.remove("default-members");
    fs::write(ws.join("Cargo.toml"), toml::to_string(&doc)?)?;
    Ok(())
}

/// Copies `from` into `to`, leaving out build output; writes only files that differ, so
/// cargo's fingerprints stay valid between runs.
fn sync_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        if name == "target" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type()?.is_dir() {
            sync_dir(&src, &dst)?;
        } else {
            let bytes = fs::read(&src)?;
            if fs::read(&dst).ok().as_deref() != Some(&bytes[..]) {
                fs::write(&dst, bytes)?;
            }
        }
    }
    Ok(())
}
