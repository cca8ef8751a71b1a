//! The exercises as they were shipped, built into the binary by `build.rs`: what
//! `workbook reset N` writes back, and how `workbook` tells "not started" from "in progress".

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::manifest::Chapter;

mod generated {
    include!(concat!(env!("OUT_DIR"), "/shipped.rs"));
}

/// One shipped file of an exercise.
#[derive(Debug, Clone, Copy)]
pub struct ShippedFile {
    /// Path inside the exercise crate, such as `src/lib.rs`.
    pub path: &'static str,
    pub bytes: &'static [u8],
    /// False when the copy was taken after the regions were filled in (see `build.rs`).
    pub trusted: bool,
}

/// The shipped `src/` files of the exercise in folder `dir_name` (`NN-slug`), if this
/// binary was built with a copy of them.
pub fn files(dir_name: &str) -> Vec<ShippedFile> {
    let prefix = format!("{dir_name}/");
    generated::FILES
        .iter()
        .filter_map(|(key, bytes, trusted)| {
            key.strip_prefix(&prefix).map(|path| ShippedFile {
                path,
                bytes,
                trusted: *trusted,
            })
        })
        .collect()
}

/// Every file under `dir`, keyed by its path relative to `base` with `/` separators.
pub fn read_tree(base: &Path, dir: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let rd = match fs::read_dir(&d) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", d.display())),
        };
        for entry in rd {
            let path = entry
                .with_context(|| format!("cannot read {}", d.display()))?
                .path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if is_scratch(&name) {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes =
                    fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
                let rel = path.strip_prefix(base).unwrap_or(&path);
                out.insert(rel.to_string_lossy().replace('\\', "/"), bytes);
            }
        }
    }
    Ok(out)
}

/// Editors' scratch files (`.lib.rs.swp`, `lib.rs~`, vim's `4913`): not the learner's
/// code, so they change no hash and are not restored or backed up.
fn is_scratch(name: &str) -> bool {
    name.starts_with('.') || name.ends_with('~') || name == "4913"
}

/// Whether the exercise's `src/` is byte for byte what was shipped. `None` when this binary
/// has no copy of that chapter to compare with.
pub fn is_pristine(root: &Path, ch: &Chapter) -> Option<bool> {
    let shipped = files(&ch.dir_name());
    if shipped.is_empty() {
        return None;
    }
    let dir = ch.exercise_dir(root);
    let current = read_tree(&dir, &dir.join("src")).ok()?;
    if current.len() != shipped.len() {
        return Some(false);
    }
    Some(
        shipped
            .iter()
            .all(|f| current.get(f.path).is_some_and(|b| b.as_slice() == f.bytes)),
    )
}

/// A file's text with the contents of its marked regions left out: what exercise and
/// solution must agree on (the one region parser, in `regions`).
pub use crate::regions::outside_text as outside_regions;

/// What `reset` did.
#[derive(Debug)]
pub struct Restored {
    /// Where the learner's files were copied before they were replaced.
    pub backup: PathBuf,
    pub written: Vec<String>,
    pub removed: Vec<String>,
}

/// Checks that the built-in copy of `ch` can be trusted for this checkout: every file was
/// taken before the learner filled it in, and it agrees with the solution outside the
/// marked regions (so it is the same version of the course).
pub fn check_copy(root: &Path, ch: &Chapter) -> Result<Vec<ShippedFile>> {
    let shipped = files(&ch.dir_name());
    if shipped.is_empty() {
        bail!(
            "this workbook binary has no shipped copy of chapter {} ({}): it was built before \
             the chapter was added. Rebuild it (`cargo build -p workbook`) from a checkout \
             where exercises/{} is untouched, then run reset again.",
            ch.number,
            ch.dir_name(),
            ch.dir_name()
        );
    }
    let sol = ch.solution_dir(root);
    for f in &shipped {
        if !f.trusted {
            bail!(
                "the copy of exercises/{}/{} built into this workbook was taken after its \
                 marked regions were filled in, so it is not the shipped file and reset will \
                 not write it. Get the original from the course's repository instead.",
                ch.dir_name(),
                f.path
            );
        }
        let sol_file = sol.join(f.path);
        if let Ok(solution) = fs::read_to_string(&sol_file) {
            let ours = String::from_utf8_lossy(f.bytes);
            if outside_regions(&ours) != outside_regions(&solution) {
                bail!(
                    "the copy of exercises/{}/{} built into this workbook belongs to another \
                     version of the course (outside the marked regions it differs from {}). \
                     Rebuild the workbook (`touch workbook/build.rs && cargo build -p \
                     workbook`) from an untouched checkout, then run reset again.",
                    ch.dir_name(),
                    f.path,
                    sol_file.display()
                );
            }
        }
    }
    Ok(shipped)
}

/// Copies the learner's `src/` into `backup_dir`, then makes `src/` exactly the shipped
/// files: changed files are rewritten, missing ones recreated, extra ones removed.
pub fn restore(root: &Path, ch: &Chapter, backup_dir: &Path) -> Result<Restored> {
    let shipped = check_copy(root, ch)?;
    let dir = ch.exercise_dir(root);
    let current = read_tree(&dir, &dir.join("src"))?;
    for (rel, bytes) in &current {
        let to = backup_dir.join(rel);
        if let Some(p) = to.parent() {
            fs::create_dir_all(p).with_context(|| format!("cannot create {}", p.display()))?;
        }
        fs::write(&to, bytes)
            .with_context(|| format!("cannot back up {rel} to {}", to.display()))?;
    }
    let mut written = Vec::new();
    for f in &shipped {
        if current.get(f.path).is_some_and(|b| b.as_slice() == f.bytes) {
            continue;
        }
        let to = dir.join(f.path);
        if let Some(p) = to.parent() {
            fs::create_dir_all(p).with_context(|| format!("cannot create {}", p.display()))?;
        }
        fs::write(&to, f.bytes).with_context(|| format!("cannot write {}", to.display()))?;
        written.push(f.path.to_string());
    }
    let mut removed = Vec::new();
    for rel in current.keys() {
        if !shipped.iter().any(|f| f.path == rel) {
            let p = dir.join(rel);
            fs::remove_file(&p).with_context(|| format!("cannot remove {}", p.display()))?;
            removed.push(rel.clone());
        }
    }
    Ok(Restored {
        backup: backup_dir.to_path_buf(),
        written,
        removed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_left_out() {
        let a = "fn f() {\n    // BEGIN EXERCISE\n    todo!(\"x\")\n    // END EXERCISE\n}\n";
        let b = "fn f() {\n    // BEGIN EXERCISE\n    // ANCHOR: f\n    1 + 1\n    // ANCHOR_END: f\n    // END EXERCISE\n}\n";
        assert_eq!(outside_regions(a), outside_regions(b));
        assert_ne!(outside_regions(a), outside_regions("fn g() {}\n"));
    }
}
