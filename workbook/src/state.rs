//! What the workbook remembers between runs, in one JSON file (by default
//! `target/workbook/state.json`, or under `$WORKBOOK_STATE_DIR`): each chapter's last
//! verdict with the content hash of the files it was given for, and the hints seen.
//!
//! A verdict is shown only while the exercise's files still hash the same, so `workbook`
//! can answer without running cargo and is never stale. A state file that cannot be read
//! is set aside with a warning, never a panic; one that
//! cannot be read is an error, never silently replaced. Changes go through
//! [`State::update`], under a lock.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::grade::Report;
use crate::manifest::Chapter;
use crate::shipped;

/// The environment variable that moves the state folder (tests use it).
pub const STATE_DIR_ENV: &str = "WORKBOOK_STATE_DIR";

/// The last grade of one chapter.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Grade {
    /// Content hash of the exercise's files and the test kit when it was graded.
    pub hash: String,
    /// Content hash of the exercise's files alone, to tell the learner's edits from a
    /// change of the shared test kit.
    #[serde(default)]
    pub exercise_hash: String,
    pub passed: bool,
    pub compiled: bool,
    pub tests_passed: usize,
    pub tests_total: usize,
    /// Seconds since 1970 when the grade finished.
    pub at: u64,
}

/// Everything remembered about one chapter.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ChapterState {
    #[serde(default)]
    pub grade: Option<Grade>,
    /// How many hint tiers the learner has seen (0 = none yet).
    #[serde(default)]
    pub hints_seen: usize,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    #[serde(default)]
    pub chapters: BTreeMap<String, ChapterState>,
    #[serde(skip)]
    path: PathBuf,
}

/// Where the state lives for this root.
pub fn dir(root: &Path) -> PathBuf {
    match std::env::var_os(STATE_DIR_ENV) {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => root.join("target").join("workbook"),
    }
}

impl State {
    /// Reads the state file. A missing one is an empty state; one that is not JSON is set
    /// aside (renamed to `state.json.damaged`) with a one-line warning, so nothing is lost.
    /// One that cannot be read at all (no permission, a folder in its place) is an error:
    /// replacing it would throw away the learner's hints and grades.
    pub fn load(root: &Path) -> Result<State> {
        let path = dir(root).join("state.json");
        let mut state = match fs::read(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::default(),
            Err(e) => {
                return Err(e).with_context(|| {
                    format!(
                        "cannot read the workbook's state file {} (your grades and the hints you \
                         have seen); nothing was changed. Make it readable again, or move it \
                         away to start afresh",
                        path.display()
                    )
                })
            }
            Ok(bytes) => match serde_json::from_slice::<State>(&bytes) {
                Ok(s) => s,
                Err(e) => {
                    let aside = path.with_extension("json.damaged");
                    let _ = fs::rename(&path, &aside);
                    eprintln!(
                        "warning: ignoring the damaged state file {} ({e}); chapters will show \
                         as not graded until checked again (the old file is now {})",
                        path.display(),
                        aside.display()
                    );
                    State::default()
                }
            },
        };
        state.path = path;
        Ok(state)
    }

    /// Reads the state, lets `change` change it, and writes it back, all under a lock on
    /// the state folder: two commands at once (a `check` while `hint` is asked) each see
    /// the other's change instead of writing over it.
    pub fn update<R>(root: &Path, change: impl FnOnce(&mut State) -> R) -> Result<R> {
        let _lock = Lock::take(&dir(root))?;
        let mut state = State::load(root)?;
        let r = change(&mut state);
        state.save()?;
        Ok(r)
    }

    /// Writes the state atomically (a temporary file renamed over the old one). Use
    /// [`State::update`] to change it: it holds the lock.
    fn save(&self) -> Result<()> {
        let parent = self.path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        let tmp = self
            .path
            .with_extension(format!("json.tmp{}", std::process::id()));
        let text = serde_json::to_string_pretty(self).context("cannot encode the state")?;
        fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
        fs::rename(&tmp, &self.path).with_context(|| {
            let _ = fs::remove_file(&tmp);
            format!("cannot write {}", self.path.display())
        })?;
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn chapter(&self, ch: &Chapter) -> ChapterState {
        self.chapters
            .get(&ch.dir_name())
            .cloned()
            .unwrap_or_default()
    }

    pub fn chapter_mut(&mut self, ch: &Chapter) -> &mut ChapterState {
        self.chapters.entry(ch.dir_name()).or_default()
    }

    /// Remembers a grade for the files that hashed to `hash`.
    pub fn record(&mut self, ch: &Chapter, hash: String, exercise_hash: String, report: &Report) {
        let at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.chapter_mut(ch).grade = Some(Grade {
            hash,
            exercise_hash,
            passed: report.all_passed(),
            compiled: report.compiled,
            tests_passed: report.passed(),
            tests_total: report.tests.len(),
            at,
        });
    }
}

/// The content hash of what decides a chapter's verdict: the exercise's `src/`, `tests/`
/// and `Cargo.toml`, and the shared kit the tests use (`testkit/`, `certs/`).
pub fn hash(root: &Path, ch: &Chapter) -> Result<String> {
    hash_of(root, ch, true)
}

/// The content hash of the exercise's `src/`, `tests/` and `Cargo.toml` alone.
pub fn exercise_hash(root: &Path, ch: &Chapter) -> Result<String> {
    hash_of(root, ch, false)
}

fn hash_of(root: &Path, ch: &Chapter, with_kit: bool) -> Result<String> {
    let dir = ch.exercise_dir(root);
    let mut h = Sha256::new();
    let mut add_tree = |label: &str, base: &Path, sub: &[&str]| -> Result<()> {
        for s in sub {
            let p = base.join(s);
            // Links are named, never followed (see shipped::entries).
            let files = shipped::read_tree(base, &p)?;
            for (rel, bytes) in files {
                h.update(label.as_bytes());
                h.update([0]);
                h.update(rel.as_bytes());
                h.update([0]);
                h.update((bytes.len() as u64).to_le_bytes());
                h.update(&bytes);
            }
        }
        Ok(())
    };
    add_tree("exercise", &dir, &["Cargo.toml", "src", "tests"])?;
    for kit in ["testkit", "certs"] {
        let base = root.join(kit);
        if with_kit && base.is_dir() {
            add_tree(kit, &base, &["Cargo.toml", "src"])?;
        }
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// An exclusive lock on the state folder (`state.lock` in it), released on drop.
struct Lock {
    /// Closing the file releases the lock.
    _file: fs::File,
}

impl Lock {
    fn take(dir: &Path) -> Result<Lock> {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join("state.lock");
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            loop {
                // SAFETY: flock on a file descriptor this function owns.
                let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
                if r == 0 {
                    break;
                }
                let e = std::io::Error::last_os_error();
                if e.kind() != std::io::ErrorKind::Interrupted {
                    return Err(e).with_context(|| format!("cannot lock {}", path.display()));
                }
            }
        }
        Ok(Lock { _file: file })
    }
}

/// A chapter's state as the learner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Passed, for exactly the files there now.
    Done(Grade),
    /// Failed (or did not compile), for exactly the files there now.
    Failing(Grade),
    /// The files changed since the last grade; its verdict no longer applies.
    Changed(Grade),
    /// Never graded, and edited since it was shipped.
    Edited,
    /// Byte for byte as shipped, and not graded since.
    NotStarted,
    /// Never graded, and this binary has no shipped copy to tell whether it was edited.
    Unchecked,
}

impl Status {
    pub fn label(&self) -> &'static str {
        match self {
            Status::Done(_) => "done",
            Status::Failing(g) if !g.compiled => "does not compile",
            Status::Failing(_) => "failing",
            Status::Changed(_) => "changed, not checked",
            Status::Edited => "edited, not checked",
            Status::NotStarted => "not started",
            Status::Unchecked => "not checked yet",
        }
    }
    pub fn is_done(&self) -> bool {
        matches!(self, Status::Done(_))
    }
}

/// The status of `ch`, from the files on disk and the cached grade; runs no cargo.
pub fn status(root: &Path, ch: &Chapter, state: &State) -> Status {
    let current = hash(root, ch).ok();
    let grade = state.chapter(ch).grade;
    match (grade, current) {
        (Some(g), Some(h)) if g.hash == h => {
            if g.passed {
                Status::Done(g)
            } else if shipped::is_pristine(root, ch) == Some(true) {
                // Failing only on the todo!()s it was shipped with: nothing to fix yet.
                Status::NotStarted
            } else {
                Status::Failing(g)
            }
        }
        (grade, _) => match (shipped::is_pristine(root, ch), grade) {
            (Some(true), _) => Status::NotStarted,
            (_, Some(g)) => Status::Changed(g),
            (Some(false), None) => Status::Edited,
            (None, None) => Status::Unchecked,
        },
    }
}
