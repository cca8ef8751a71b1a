//! `workbook watch`: re-grades a chapter each time one of its exercise files is saved.
//!
//! Keys: `h` the next hint, `Enter` check again, `q` quit. On a terminal the keys act at
//! once (raw mode, always restored on the way out, panics included); when standard input is
//! not a terminal, lines are read instead (`h`, empty line, `q`), and the end of input
//! quits, so a script or a test can drive it. `--manual`, or a file system where watching
//! cannot start, re-grades on Enter only.

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread;
use std::time::Duration;

use anyhow::Result;
use crossterm::event::{self, Event as TermEvent, KeyCode, KeyEventKind, KeyModifiers};
use crossterm::terminal;
use notify::{RecursiveMode, Watcher};

use crate::learner;
use crate::manifest::Chapter;
use crate::state::{self, State};
use crate::ui;

/// Quiet time after the last file event before grading: editors write a file in steps.
const DEBOUNCE: Duration = Duration::from_millis(200);

enum Input {
    /// A graded file of this chapter was saved (after a quiet moment: see [`DEBOUNCE`]).
    Changed(u32),
    Hint,
    Again,
    Quit,
    WatchFailed(String),
}

/// Raw mode for single keys; dropping it (or a panic) gives the terminal back.
struct RawMode;

impl RawMode {
    fn enable() -> Option<RawMode> {
        terminal::enable_raw_mode().ok()?;
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = terminal::disable_raw_mode();
            previous(info);
        }));
        Some(RawMode)
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = terminal::disable_raw_mode();
    }
}

/// Prints text; in raw mode a newline does not return the carriage, so say it.
fn say(raw: bool, text: &str) {
    let mut out = io::stdout().lock();
    let text = if raw {
        text.replace('\n', "\r\n")
    } else {
        text.to_string()
    };
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

fn read_keys(tx: Sender<Input>) {
    loop {
        let input = match event::read() {
            Ok(TermEvent::Key(k)) if k.kind == KeyEventKind::Press => match k.code {
                KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => Input::Quit,
                KeyCode::Char('q') | KeyCode::Char('Q') | KeyCode::Esc => Input::Quit,
                KeyCode::Char('h') | KeyCode::Char('H') => Input::Hint,
                KeyCode::Enter | KeyCode::Char('r') => Input::Again,
                _ => continue,
            },
            Ok(_) => continue,
            Err(_) => Input::Quit,
        };
        let quit = matches!(input, Input::Quit);
        if tx.send(input).is_err() || quit {
            return;
        }
    }
}

fn read_lines(tx: Sender<Input>) {
    let stdin = io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let input = match line.trim() {
            "q" | "quit" | "exit" => Input::Quit,
            "h" | "hint" => Input::Hint,
            "" | "r" => Input::Again,
            _ => continue,
        };
        let quit = matches!(input, Input::Quit);
        if tx.send(input).is_err() || quit {
            return;
        }
    }
    let _ = tx.send(Input::Quit);
}

/// Which chapter a changed path belongs to, if it is one of its graded files.
fn owner<'a>(root: &Path, chapters: &'a [Chapter], path: &Path) -> Option<&'a Chapter> {
    chapters.iter().find(|ch| {
        let dir = ch.exercise_dir(root);
        let Ok(rel) = path.strip_prefix(&dir) else {
            return false;
        };
        let hidden = path.file_name().is_some_and(|n| {
            n.to_string_lossy().starts_with('.') || n.to_string_lossy().ends_with('~')
        });
        !hidden
            && (rel.starts_with("src")
                || rel.starts_with("tests")
                || rel == Path::new("Cargo.toml"))
    })
}

/// Watches `exercises/` and sends [`Input::Changed`] once per chapter whose graded files
/// were saved, after a quiet moment: editors write a file in steps. Chapters other than
/// `only` are ignored. The watcher stops when the returned value is dropped.
fn watch_files(
    root: &Path,
    chapters: &[Chapter],
    only: Option<u32>,
    tx: Sender<Input>,
) -> notify::Result<notify::RecommendedWatcher> {
    let (paths_tx, paths) = mpsc::channel::<notify::Result<notify::Event>>();
    let mut watcher = notify::recommended_watcher(paths_tx)?;
    watcher.watch(&root.join("exercises"), RecursiveMode::Recursive)?;
    let root = root.to_path_buf();
    let chapters = chapters.to_vec();
    thread::spawn(move || {
        // Chapters changed since the last quiet moment, in the order they changed.
        let mut pending: Vec<u32> = Vec::new();
        loop {
            let event = if pending.is_empty() {
                paths.recv().map_err(|_| RecvTimeoutError::Disconnected)
            } else {
                paths.recv_timeout(DEBOUNCE)
            };
            match event {
                Ok(Ok(ev)) => {
                    if !matches!(
                        ev.kind,
                        notify::EventKind::Modify(_)
                            | notify::EventKind::Create(_)
                            | notify::EventKind::Remove(_)
                    ) {
                        continue;
                    }
                    for p in &ev.paths {
                        if let Some(ch) = owner(&root, &chapters, p) {
                            let wanted = only.is_none_or(|o| o == ch.number);
                            if wanted && !pending.contains(&ch.number) {
                                pending.push(ch.number);
                            }
                        }
                    }
                }
                Ok(Err(e)) => {
                    let _ = tx.send(Input::WatchFailed(e.to_string()));
                    return;
                }
                Err(RecvTimeoutError::Timeout) => {
                    for n in pending.drain(..) {
                        if tx.send(Input::Changed(n)).is_err() {
                            return;
                        }
                    }
                }
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    });
    Ok(watcher)
}

/// Runs the loop until `q`, the end of input, or Ctrl-C.
pub fn run(root: &Path, chapters: &[Chapter], only: Option<&Chapter>, manual: bool) -> Result<()> {
    let (tx, rx) = mpsc::channel::<Input>();
    let interactive = io::stdin().is_terminal();
    let _raw = if interactive { RawMode::enable() } else { None };
    let raw = _raw.is_some();

    let mut watcher = None;
    let mut manual = manual;
    if !manual {
        match watch_files(root, chapters, only.map(|c| c.number), tx.clone()) {
            Ok(w) => watcher = Some(w),
            Err(e) => {
                say(
                    raw,
                    &format!(
                        "{} cannot watch {} for changes ({e}); manual mode: press Enter to check again.\n",
                        ui::note("note:"),
                        root.join("exercises").display()
                    ),
                );
                manual = true;
            }
        }
    }
    thread::spawn(move || {
        if interactive {
            read_keys(tx)
        } else {
            read_lines(tx)
        }
    });

    let mut focus: Chapter = match only {
        Some(ch) => ch.clone(),
        None => first_not_done(root, chapters)?,
    };
    say(raw, &banner(&focus, only, manual, interactive));

    check(root, &focus, raw);
    while let Ok(input) = rx.recv() {
        match input {
            Input::Quit => break,
            Input::Hint => {
                let text = learner::hint(root, &focus, false)
                    .unwrap_or_else(|e| format!("{} {e:#}\n", ui::bad("error:")));
                say(raw, &format!("\n{text}\n"));
            }
            Input::Again => check(root, &focus, raw),
            Input::WatchFailed(e) => {
                say(
                    raw,
                    &format!(
                        "{} the file watcher failed ({e}); from now on press Enter to check again.\n",
                        ui::note("note:")
                    ),
                );
                watcher = None;
            }
            Input::Changed(n) => {
                let Some(ch) = chapters.iter().find(|c| c.number == n) else {
                    continue;
                };
                // A save that changes nothing (or an editor's temporary file) needs no grade.
                let fresh = state::hash(root, ch).ok();
                let known = State::load(root)
                    .ok()
                    .and_then(|s| s.chapter(ch).grade)
                    .map(|g| g.hash);
                if fresh.is_some() && known == fresh {
                    continue;
                }
                focus = ch.clone();
                check(root, &focus, raw);
            }
        }
    }
    drop(watcher);
    say(raw, &format!("Bye. `{}` shows where you are.\n", ui::me0()));
    Ok(())
}

/// The chapter to watch first: the first one not done.
fn first_not_done(root: &Path, chapters: &[Chapter]) -> Result<Chapter> {
    let state = State::load(root)?;
    Ok(chapters
        .iter()
        .find(|c| !state::status(root, c, &state).is_done())
        .unwrap_or(&chapters[0])
        .clone())
}

/// The first line: what is watched and which keys do what.
fn banner(focus: &Chapter, only: Option<&Chapter>, manual: bool, interactive: bool) -> String {
    let keys = if interactive {
        "keys: h = next hint, Enter = check again, q = quit"
    } else {
        "input lines: h = next hint, empty = check again, q = quit"
    };
    let what = match (manual, only) {
        (true, _) => format!(
            "Manual mode: press Enter to check chapter {:02} again",
            focus.number
        ),
        (false, Some(ch)) => format!("Watching exercises/{} for changes", ch.dir_name()),
        (false, None) => "Watching exercises/ for changes".to_string(),
    };
    format!("{} ({keys}).\n\n", ui::strong(what))
}

fn check(root: &Path, ch: &Chapter, raw: bool) {
    let spin = ui::spinner(format!(
        "checking chapter {:02} (cargo test -p {})",
        ch.number,
        ch.exercise_package()
    ));
    let result = learner::grade(root, ch);
    spin.finish_and_clear();
    let state = State::load(root);
    match result.and_then(|g| Ok((g, state?))) {
        Ok((g, state)) => {
            let mut text = learner::explain(ch, &g.report, &state);
            if !g.recorded && g.report.aborted.is_none() {
                text.push_str(
                    "(the files changed while the tests ran; this verdict is not remembered)\n",
                );
            }
            if !g.report.all_passed() {
                text.push_str(if raw {
                    "Press h for that hint, Enter to check again, q to quit.\n"
                } else {
                    "Type h for that hint, an empty line to check again, q to quit.\n"
                });
            }
            if g.report.all_passed() {
                text.push_str(&format!(
                    "Next: `{}` shows the next chapter; keep editing and I check on save.\n",
                    ui::me0()
                ));
            }
            say(raw, &format!("{text}\n"));
        }
        Err(e) => say(raw, &format!("{} {e:#}\n", ui::bad("error:"))),
    }
}
