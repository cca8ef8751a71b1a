//! Small pieces the commands share: picking a chapter by number, colours, spinners, and
//! the error that means "bad input" (exit code 2).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use console::{style, StyledObject};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::manifest::Chapter;

/// A mistake in what the learner typed (an unknown chapter, say): exit code 2.
#[derive(Debug)]
pub struct BadInput(pub String);

impl fmt::Display for BadInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

/// The numbers of the chapters, "0, 1, 2 and 3", for messages.
pub fn numbers(chapters: &[Chapter]) -> String {
    let n: Vec<String> = chapters.iter().map(|c| c.number.to_string()).collect();
    match n.len() {
        0 => "none".into(),
        1 => n[0].clone(),
        _ => format!("{} and {}", n[..n.len() - 1].join(", "), n[n.len() - 1]),
    }
}

/// The chapter numbered `n`, or a [`BadInput`] that lists the valid numbers.
pub fn chapter(chapters: &[Chapter], n: u32) -> anyhow::Result<&Chapter> {
    chapters.iter().find(|c| c.number == n).ok_or_else(|| {
        BadInput(format!(
            "there is no chapter {n}; the chapters are {} (`{}` lists them)",
            numbers(chapters),
            me0()
        ))
        .into()
    })
}

/// Which chapters a command is about: the chapters numbered in `ns` (in the manifest's
/// order, each once), or every chapter when `ns` is empty.
pub fn selection(chapters: &[Chapter], ns: &[u32]) -> anyhow::Result<Vec<Chapter>> {
    if ns.is_empty() {
        return Ok(chapters.to_vec());
    }
    for &n in ns {
        chapter(chapters, n)?;
    }
    Ok(chapters
        .iter()
        .filter(|c| ns.contains(&c.number))
        .cloned()
        .collect())
}

/// How the learner runs this program, for the commands messages suggest: `workbook`
/// when it was started directly (installed, or target/debug/workbook), and `cargo
/// workbook` when cargo started it, as the README shows (the alias in .cargo/config.toml
/// for `cargo run -q -p workbook --`).
pub fn me() -> &'static str {
    if via_cargo_run() {
        "cargo workbook"
    } else {
        "workbook"
    }
}

/// [`me`] without arguments after it.
pub fn me0() -> &'static str {
    me()
}

/// `cargo run` gives the program its package's variables; a program started directly has
/// none (`cargo test` gives them to its test binaries, which is why the tests remove them).
fn via_cargo_run() -> bool {
    std::env::var_os("CARGO_PKG_NAME").is_some_and(|n| n == "workbook")
}

/// What a hint tier is, for "hint 2 of 3 (the API to use)".
pub fn tier_name(tier: usize) -> &'static str {
    match tier {
        1 => "a nudge",
        2 => "the API to use",
        3 => "the shape of the code",
        _ => "one more hint",
    }
}

pub fn good<D>(d: D) -> StyledObject<D> {
    style(d).green().bold()
}
pub fn bad<D>(d: D) -> StyledObject<D> {
    style(d).red().bold()
}
pub fn note<D>(d: D) -> StyledObject<D> {
    style(d).yellow()
}
pub fn dim<D>(d: D) -> StyledObject<D> {
    style(d).dim()
}
pub fn strong<D>(d: D) -> StyledObject<D> {
    style(d).bold()
}

/// A spinner on stderr while something slow runs; invisible when stderr is not a terminal.
pub fn spinner(message: String) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {elapsed:.dim}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(message);
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

/// A bar over `len` steps (chapters), on stderr, invisible when stderr is not a terminal.
pub fn bar(len: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("[{bar:20}] {pos}/{len} {msg} {elapsed:.dim}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("#>-"),
    );
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

/// A text progress bar, `[#####-----]`, for a line of output that stays.
pub fn bar_text(done: usize, total: usize, width: usize) -> String {
    let filled = (done * width).checked_div(total).unwrap_or(0);
    format!(
        "[{}{}]",
        "#".repeat(filled),
        "-".repeat(width - filled.min(width))
    )
}

/// `path` relative to `root` when it is inside it, for shorter messages.
pub fn rel(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

/// "3 s ago", "5 min ago", ... for a Unix time in seconds.
pub fn ago(at: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let s = now.saturating_sub(at);
    match s {
        0..=59 => format!("{s} s ago"),
        60..=3599 => format!("{} min ago", s / 60),
        3600..=86399 => format!("{} h ago", s / 3600),
        _ => format!("{} days ago", s / 86400),
    }
}
