//! The chapter manifest: `chapters/NN-slug.toml`, one file per chapter. This folder is the
//! one list of chapters: the command, the book checks and CI all read it from here.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

/// One catalogued wrong variant of a chapter's solution.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mistake {
    pub name: String,
    /// Why this is wrong, in a sentence.
    pub why: String,
    /// File to change, relative to the solution crate.
    pub file: String,
    /// Exact text of the solution to replace; must occur exactly once.
    pub find: String,
    pub replace: String,
}

/// One promise: a sentence of the chapter's page, doc comments, `todo!()`s or hints that
/// says what the learner's code does or refuses, with the test that fails when it is
/// broken and the catalogued mistakes that break it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Promise {
    /// The promise in one sentence, as the learner reads it.
    pub says: String,
    /// The test that fails when the promise is broken: its function name, as libtest
    /// prints it (without the module path is fine).
    pub test: String,
    /// Names of catalogued mistakes that break the promise; each must be rejected by
    /// `test` itself, not only by some other test.
    pub mistakes: Vec<String>,
    /// The test checks the learner's code directly, so when it fails with others it names
    /// the cause: `check` shows it first.
    #[serde(default)]
    pub cause: bool,
}

/// A mutant that `cargo mutants` misses because it cannot change behaviour: listed with why.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EquivalentMutant {
    /// The mutant as `cargo mutants` names it, without the file and line, e.g.
    /// `replace describe -> String with String::new()`.
    pub mutant: String,
    /// Why no test can tell it from the solution.
    pub why: String,
}

/// One chapter, as written in its manifest file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chapter {
    pub number: u32,
    pub slug: String,
    pub title: String,
    /// The section(s) of the source tutorial this chapter follows.
    pub section: String,
    pub summary: String,
    /// Tiered hints: a nudge, then the API's name, then the shape of the code.
    pub hints: Vec<String>,
    #[serde(default, rename = "mistake")]
    pub mistakes: Vec<Mistake>,
    #[serde(default, rename = "promise")]
    pub promises: Vec<Promise>,
    #[serde(default, rename = "equivalent_mutant")]
    pub equivalent_mutants: Vec<EquivalentMutant>,
}

impl Chapter {
    /// `NN-slug`, the name of the chapter's folders and page.
    pub fn dir_name(&self) -> String {
        format!("{:02}-{}", self.number, self.slug)
    }
    /// Cargo package of the learner's crate.
    pub fn exercise_package(&self) -> String {
        format!("ch{:02}-{}", self.number, self.slug)
    }
    /// Cargo package of the solved crate.
    pub fn solution_package(&self) -> String {
        format!("{}-solution", self.exercise_package())
    }
    pub fn exercise_dir(&self, root: &Path) -> PathBuf {
        root.join("exercises").join(self.dir_name())
    }
    pub fn solution_dir(&self, root: &Path) -> PathBuf {
        root.join("solutions").join(self.dir_name())
    }
    /// The book page, relative to the root.
    pub fn page(&self) -> PathBuf {
        PathBuf::from("book/src").join(format!("{}.md", self.dir_name()))
    }
}

/// Every chapter, in order of number.
pub fn load(root: &Path) -> Result<Vec<Chapter>> {
    let dir = root.join("chapters");
    let mut chapters = Vec::new();
    let entries = fs::read_dir(&dir)
        .with_context(|| format!("cannot read the manifest folder {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let text =
            fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let ch: Chapter = toml::from_str(&text)
            .with_context(|| format!("{} is not a valid chapter entry", path.display()))?;
        let stem = path.file_stem().unwrap_or_default().to_string_lossy();
        if stem != ch.dir_name() {
            bail!(
                "{} describes chapter {:?}; name the file {}.toml",
                path.display(),
                ch.dir_name(),
                ch.dir_name()
            );
        }
        if ch.hints.len() < 3 {
            bail!(
                "{}: a chapter needs three hint tiers (nudge, API, shape)",
                path.display()
            );
        }
        chapters.push(ch);
    }
    chapters.sort_by_key(|c| c.number);
    for pair in chapters.windows(2) {
        if pair[0].number == pair[1].number {
            bail!("two chapters have number {}", pair[0].number);
        }
    }
    if chapters.is_empty() {
        bail!("no chapters in {}", dir.display());
    }
    Ok(chapters)
}

/// The workbook's root: the nearest folder above `start` with `chapters/` and `Cargo.toml`.
pub fn find_root(start: &Path) -> Result<PathBuf> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        if d.join("chapters").is_dir() && d.join("Cargo.toml").is_file() {
            return Ok(d.to_path_buf());
        }
        dir = d.parent();
    }
    bail!(
        "{} is not inside the workbook (no folder above it has chapters/ and Cargo.toml); \
         run the command from the workbook's folder",
        start.display()
    )
}

/// The root: from the current folder, falling back to where this binary was built from.
pub fn root() -> Result<PathBuf> {
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    find_root(&cwd).or_else(|e| {
        let built = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map(Path::to_path_buf);
        match built {
            Some(b) if b.join("chapters").is_dir() => Ok(b),
            _ => Err(e),
        }
    })
}
