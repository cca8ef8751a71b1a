//! The exercises as they were shipped, built into the binary by `build.rs`: what
//! `workbook reset N` writes back, and how `workbook` tells "not started" from "in progress".

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::manifest::Chapter;
use crate::state;
use crate::ui::{self, BadInput};

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

/// The largest file the workbook reads from an exercise: source files are a few KiB, and
/// a stray disk image in `src/` must not be read into memory.
pub const MAX_FILE: u64 = 1 << 20;

/// One entry of a folder tree, read without following symbolic links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    File(Vec<u8>),
    /// A symbolic link, with where it points. Never followed: it may point outside the
    /// workbook (`ln -s /usr/lib src/x`).
    Link(PathBuf),
    /// A FIFO, socket or device: never opened (reading a FIFO waits forever).
    Special,
}

impl Entry {
    /// What the entry stands for in a hash or a listing: a file's bytes, a link's target.
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Entry::File(b) => b.clone(),
            Entry::Link(t) => {
                format!("(a symbolic link to {}, not followed)\n", t.display()).into_bytes()
            }
            Entry::Special => b"(not a regular file, not read)\n".to_vec(),
        }
    }
}

/// Every entry under `dir` (`dir` itself when it is not a real folder), keyed by its path
/// relative to `base` with `/` separators. Symbolic links are listed, never followed;
/// a file larger than [`MAX_FILE`] is an error.
pub fn entries(base: &Path, dir: &Path) -> Result<BTreeMap<String, Entry>> {
    let mut out = BTreeMap::new();
    let key = |path: &Path| {
        let rel = path.strip_prefix(base).unwrap_or(path);
        rel.to_string_lossy().replace('\\', "/")
    };
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let meta = match fs::symlink_metadata(&d) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", d.display())),
        };
        if !meta.is_dir() {
            // Only `dir` itself can get here (entries below are sorted out as they are
            // listed): a `src` that is a link or a file.
            out.insert(key(&d), entry(&d, &meta)?);
            continue;
        }
        let rd = fs::read_dir(&d).with_context(|| format!("cannot read {}", d.display()))?;
        for item in rd {
            let item = item.with_context(|| format!("cannot read {}", d.display()))?;
            let path = item.path();
            let name = item.file_name().to_string_lossy().into_owned();
            if is_scratch(&name) {
                continue;
            }
            // DirEntry::file_type does not follow links.
            let ft = item
                .file_type()
                .with_context(|| format!("cannot read {}", path.display()))?;
            if ft.is_dir() {
                stack.push(path);
            } else {
                let meta = fs::symlink_metadata(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                out.insert(key(&path), entry(&path, &meta)?);
            }
        }
    }
    Ok(out)
}

fn entry(path: &Path, meta: &fs::Metadata) -> Result<Entry> {
    if meta.file_type().is_symlink() {
        let to = fs::read_link(path).with_context(|| format!("cannot read {}", path.display()))?;
        return Ok(Entry::Link(to));
    }
    if !meta.is_file() {
        return Ok(Entry::Special);
    }
    if meta.len() > MAX_FILE {
        bail!(
            "{} is {} bytes, larger than any source file ({} MiB at most): move it out of the \
             exercise",
            path.display(),
            meta.len(),
            MAX_FILE >> 20
        );
    }
    let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Entry::File(bytes))
}

/// Every file under `dir`, keyed by its path relative to `base` with `/` separators; a
/// symbolic link stands for itself (its target is named, never read). See [`entries`].
pub fn read_tree(base: &Path, dir: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
    Ok(entries(base, dir)?
        .into_iter()
        .map(|(k, e)| (k, e.bytes()))
        .collect())
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
///
/// Nothing outside the chapter's folder is written or deleted: symbolic links are never
/// followed. A link where a shipped file or folder belongs is removed (the link, not what
/// it points to) and the real file or folder made in its place; a link that was not
/// shipped is removed like any extra file. The backup keeps each link as a link.
pub fn restore(root: &Path, ch: &Chapter, backup_dir: &Path) -> Result<Restored> {
    let shipped = check_copy(root, ch)?;
    let dir = ch.exercise_dir(root);
    let meta =
        fs::symlink_metadata(&dir).with_context(|| format!("cannot read {}", dir.display()))?;
    if !meta.is_dir() {
        bail!(
            "{} is not a folder (a symbolic link?): reset only writes inside the chapter's own \
             folder, so it stops here",
            dir.display()
        );
    }
    let current = entries(&dir, &dir.join("src"))?;
    for (rel, e) in &current {
        let to = backup_dir.join(rel);
        if let Some(p) = to.parent() {
            fs::create_dir_all(p).with_context(|| format!("cannot create {}", p.display()))?;
        }
        match e {
            Entry::File(bytes) => fs::write(&to, bytes)
                .with_context(|| format!("cannot back up {rel} to {}", to.display()))?,
            Entry::Link(target) => backup_link(target, &to)
                .with_context(|| format!("cannot back up the link {rel} to {}", to.display()))?,
            Entry::Special => {}
        }
    }
    let mut written = Vec::new();
    for f in &shipped {
        if current
            .get(f.path)
            .is_some_and(|e| *e == Entry::File(f.bytes.to_vec()))
        {
            continue;
        }
        let to = real_path(&dir, f.path)?;
        fs::write(&to, f.bytes).with_context(|| format!("cannot write {}", to.display()))?;
        written.push(f.path.to_string());
    }
    let mut removed = Vec::new();
    for rel in current.keys() {
        if shipped.iter().any(|f| f.path == rel) {
            continue;
        }
        let p = dir.join(rel);
        // Still there and still what was listed (a link is removed as a link): a real
        // folder made above for a shipped file is not removed.
        match fs::symlink_metadata(&p) {
            Ok(m) if !m.is_dir() => {
                fs::remove_file(&p).with_context(|| format!("cannot remove {}", p.display()))?;
                removed.push(rel.clone());
            }
            _ => {}
        }
    }
    Ok(Restored {
        backup: backup_dir.to_path_buf(),
        written,
        removed,
    })
}

/// `dir/rel` with every folder on the way a real folder inside `dir`, and no link at
/// `rel` itself: a link on the way is removed (the link only) and a folder made instead.
fn real_path(dir: &Path, rel: &str) -> Result<PathBuf> {
    let mut at = dir.to_path_buf();
    let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
    for (i, part) in parts.iter().enumerate() {
        if *part == ".." || *part == "." {
            bail!("the shipped path {rel} leaves the chapter's folder");
        }
        at.push(part);
        let last = i + 1 == parts.len();
        match fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() || (!last && !m.is_dir()) => {
                fs::remove_file(&at).with_context(|| format!("cannot remove {}", at.display()))?;
                if !last {
                    fs::create_dir(&at)
                        .with_context(|| format!("cannot create {}", at.display()))?;
                }
            }
            Ok(m) if last && m.is_dir() => {
                bail!(
                    "{} is a folder where the shipped file belongs: move it away, then reset again",
                    at.display()
                );
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if !last {
                    fs::create_dir(&at)
                        .with_context(|| format!("cannot create {}", at.display()))?;
                }
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", at.display())),
        }
    }
    Ok(at)
}

#[cfg(unix)]
fn backup_link(target: &Path, to: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, to)
}

#[cfg(not(unix))]
fn backup_link(target: &Path, to: &Path) -> io::Result<()> {
    fs::write(to, format!("(a symbolic link to {})\n", target.display()))
}

/// "20260102-030405" in UTC, for backup folder names, without a date crate.
pub fn timestamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// `workbook reset N`: backs up the learner's `src/`, then puts it back as shipped, after
/// asking (or with `yes`).
pub fn reset(root: &Path, ch: &Chapter, yes: bool) -> Result<bool> {
    let me = ui::me();
    let src = format!("exercises/{}/src", ch.dir_name());
    check_copy(root, ch)?;
    if is_pristine(root, ch) == Some(true) {
        println!("{src} is already as shipped: nothing to do.");
        return Ok(true);
    }
    let base = state::dir(root).join("backup");
    let mut backup = base.join(format!("{}-{}", ch.dir_name(), timestamp()));
    let mut k = 1;
    while backup.exists() {
        k += 1;
        backup = base.join(format!("{}-{}-{k}", ch.dir_name(), timestamp()));
    }
    if !yes {
        if !io::stdin().is_terminal() {
            return Err(BadInput(format!(
                "`{me} reset {}` replaces your files in {src} and asks first, but there is no \
                 terminal to ask on; run `{me} reset {} --yes` to go ahead (your files are \
                 backed up first)",
                ch.number, ch.number
            ))
            .into());
        }
        print!(
            "This puts {src} back as shipped. Your files are copied to\n  {}\nfirst. Type yes to go on: ",
            backup.display()
        );
        io::stdout().flush()?;
        let mut answer = String::new();
        io::stdin().lock().read_line(&mut answer)?;
        if answer.trim() != "yes" {
            println!("Nothing changed.");
            return Ok(false);
        }
    }
    let done = restore(root, ch, &backup)?;
    for f in &done.written {
        println!("restored  exercises/{}/{f}", ch.dir_name());
    }
    for f in &done.removed {
        println!("removed   exercises/{}/{f} (not shipped)", ch.dir_name());
    }
    println!(
        "Chapter {:02} is back as shipped. Your files are in\n  {}\n(note: `cargo clean` deletes target/; copy them elsewhere to keep them).",
        ch.number,
        done.backup.display()
    );
    Ok(true)
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

    /// `ln -s /usr/lib exercises/01-errors/src/x` once made `workbook` read 23 GB.
    #[cfg(unix)]
    #[test]
    fn read_tree_lists_links_and_never_follows_them() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret.rs"), "outside the workbook").unwrap();
        let ex = tempfile::tempdir().unwrap();
        let src = ex.path().join("src");
        fs::create_dir_all(&src).unwrap();
        fs::write(src.join("lib.rs"), "pub fn f() {}\n").unwrap();
        std::os::unix::fs::symlink(outside.path(), src.join("x")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.rs"), src.join("y.rs")).unwrap();
        let tree = read_tree(ex.path(), &src).unwrap();
        assert_eq!(
            tree.keys().collect::<Vec<_>>(),
            ["src/lib.rs", "src/x", "src/y.rs"],
            "the linked folder is not entered"
        );
        for (k, v) in &tree {
            assert!(
                !String::from_utf8_lossy(v).contains("outside the workbook"),
                "{k} was read through its link"
            );
        }
        // A `src` that is itself a link is not followed either.
        let ex2 = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), ex2.path().join("src")).unwrap();
        let tree = read_tree(ex2.path(), &ex2.path().join("src")).unwrap();
        assert_eq!(tree.keys().collect::<Vec<_>>(), ["src"]);
    }

    #[test]
    fn read_tree_refuses_a_file_too_big_to_be_source() {
        let ex = tempfile::tempdir().unwrap();
        let src = ex.path().join("src");
        fs::create_dir_all(&src).unwrap();
        let f = fs::File::create(src.join("disk.img")).unwrap();
        f.set_len(MAX_FILE + 1).unwrap();
        let e = read_tree(ex.path(), &src).unwrap_err().to_string();
        assert!(
            e.contains("disk.img") && e.contains("larger than any source file"),
            "{e}"
        );
    }
}
