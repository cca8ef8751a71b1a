//! The learner's loop: the overview (`workbook`), grading (`check`), hints, and what a
//! grade says, written for a person rather than as cargo's output.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::failures;
use crate::grade::{self, Report};
use crate::manifest::Chapter;
use crate::state::{self, State, Status};
use crate::ui;

/// How many groups of failures `check` shows with their sentence before it names the rest:
/// with the first one whole, about 40 lines, one screen.
const SHOWN_GROUPS: usize = 8;

/// A grade, and whether it was remembered. It is not when the files changed while cargo
/// was running (the verdict may be for a mix of old and new), nor when the run gave no
/// verdict at all ([`Report::aborted`]: a killed test program, a missing `openssl`, a
/// workspace cargo cannot load).
pub struct Graded {
    pub report: Report,
    pub recorded: bool,
}

/// Runs the chapter's tests and remembers the verdict for the files as they were.
pub fn grade(root: &Path, ch: &Chapter) -> Result<Graded> {
    let dir = ch.exercise_dir(root);
    if !dir.join("Cargo.toml").is_file() {
        anyhow::bail!(
            "chapter {} has no exercise crate: {} is missing",
            ch.number,
            dir.join("Cargo.toml").display()
        );
    }
    let before = state::hash(root, ch)?;
    let report = grade::run(root, &ch.exercise_package(), None)?;
    let after = state::hash(root, ch)?;
    let recorded = before == after && report.aborted.is_none();
    if recorded {
        let exercise_hash = state::exercise_hash(root, ch)?;
        State::update(root, |state| {
            state.record(ch, after, exercise_hash, &report);
        })?;
    }
    Ok(Graded { report, recorded })
}

/// The chapter to do after `after` (or the first not done), for "Next:" lines.
pub fn next_chapter<'a>(
    root: &Path,
    chapters: &'a [Chapter],
    state: &State,
    after: u32,
) -> Option<&'a Chapter> {
    let open = |c: &&Chapter| !state::status(root, c, state).is_done();
    chapters
        .iter()
        .filter(|c| c.number > after)
        .find(open)
        .or_else(|| chapters.iter().find(open))
}

/// `workbook check [N...]`: grades the chapters named (or every chapter) and explains the
/// verdict; true when every graded chapter passes.
pub fn check(root: &Path, chapters: &[Chapter], ns: &[u32], verbose: bool) -> Result<bool> {
    let me = ui::me();
    let selected = ui::selection(chapters, ns)?;
    if let [ch] = selected.as_slice() {
        let spin = ui::spinner(format!(
            "checking chapter {:02} (cargo test -p {})",
            ch.number,
            ch.exercise_package()
        ));
        let graded = grade(root, ch);
        spin.finish_and_clear();
        let graded = graded?;
        let state = State::load(root)?;
        print!("{}", explain_with(ch, &graded.report, &state, verbose));
        if !graded.recorded && graded.report.aborted.is_none() {
            println!("(your files changed while the tests ran: check again for a verdict on the new ones)");
        }
        if graded.report.all_passed() {
            match next_chapter(root, chapters, &state, ch.number) {
                Some(next) => println!(
                    "Next: chapter {:02}, {} (`{me} check {}`).",
                    next.number, next.title, next.number
                ),
                None => println!("{}", ui::good("Every chapter is done. Well done!")),
            }
        }
        return Ok(graded.report.all_passed());
    }

    let bar = ui::bar(selected.len() as u64);
    let mut failing = Vec::new();
    for ch in &selected {
        bar.set_message(format!(
            "chapter {:02}: cargo test -p {}",
            ch.number,
            ch.exercise_package()
        ));
        let graded = grade(root, ch)?;
        bar.inc(1);
        bar.suspend(|| println!("{}", verdict_line(ch, &graded.report)));
        if !graded.report.all_passed() {
            failing.push((ch.clone(), graded.report));
        }
    }
    bar.finish_and_clear();
    let passed = selected.len() - failing.len();
    println!(
        "\n{} {passed}/{} chapters pass",
        ui::bar_text(passed, selected.len(), 20),
        selected.len()
    );
    if let Some((ch, report)) = failing.first() {
        println!("\nThe first chapter to work on:\n");
        print!("{}", explain_with(ch, report, &State::load(root)?, verbose));
        if failing.len() > 1 {
            let others: Vec<String> = failing[1..]
                .iter()
                .map(|(c, _)| c.number.to_string())
                .collect();
            println!(
                "Also failing: chapter(s) {}; `{me} check N` explains each.",
                others.join(", ")
            );
        }
    }
    Ok(failing.is_empty())
}

/// A failure message as the learner should read it: the panic's words first, its
/// location after, libtest's "thread 'x' panicked at" line gone.
pub fn teaching_message(message: &str) -> String {
    let (mut text, places) = teaching_parts(message);
    if !places.is_empty() {
        let _ = write!(
            text,
            "\n{}",
            ui::dim(format!("(at {})", places.join(", then ")))
        );
    }
    text
}

/// [`teaching_message`] without colours, for reports written to files.
pub fn teaching_message_plain(message: &str) -> String {
    let (mut text, places) = teaching_parts(message);
    if !places.is_empty() {
        let _ = write!(text, "\n(at {})", places.join(", then "));
    }
    text
}

/// A failure message's own words, and the places it panicked at.
fn teaching_parts(message: &str) -> (String, Vec<String>) {
    let mut body = Vec::new();
    let mut places = Vec::new();
    for line in message.lines() {
        if line.starts_with("thread '") && line.contains(" panicked at ") {
            if let Some((_, at)) = line.split_once(" panicked at ") {
                places.push(at.trim_end_matches(':').to_string());
            }
            continue;
        }
        body.push(line);
    }
    while body.first().is_some_and(|l| l.trim().is_empty()) {
        body.remove(0);
    }
    let mut text = body.join("\n").trim_end().to_string();
    if text.is_empty() {
        text = "(the test failed without a message)".into();
    }
    (text, places)
}

fn indent(text: &str, by: &str) -> String {
    text.lines()
        .map(|l| format!("{by}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The next hint tier the learner has not seen, for "stuck?" lines.
pub fn hint_line(ch: &Chapter, state: &State) -> String {
    let me = ui::me();
    let seen = state.chapter(ch).hints_seen;
    let total = ch.hints.len();
    if seen >= total {
        format!(
            "You have seen all {total} hints. The book page {} explains it step by step; \
             `{me} hint {n} --all` shows the hints again.",
            ch.page().display(),
            n = ch.number
        )
    } else {
        format!(
            "Stuck? `{me} hint {}` shows hint {} of {total} ({}).",
            ch.number,
            seen + 1,
            ui::tier_name(seen + 1)
        )
    }
}

/// The first line of a verdict: "chapter 00 passes: 4 of 4 tests (0.8 s)".
pub fn verdict_line(ch: &Chapter, r: &Report) -> String {
    let secs = r.elapsed.as_secs_f64();
    if r.aborted.is_some() {
        format!(
            "{} chapter {:02} ({}): no verdict, the tests did not run to the end ({secs:.1} s)",
            ui::note("?"),
            ch.number,
            ch.title
        )
    } else if r.all_passed() {
        format!(
            "{} chapter {:02} ({}) passes: {} of {} tests ({secs:.1} s)",
            ui::good("✓"),
            ch.number,
            ch.title,
            r.passed(),
            r.tests.len()
        )
    } else if !r.compiled {
        format!(
            "{} chapter {:02} ({}) does not compile ({secs:.1} s)",
            ui::bad("✗"),
            ch.number,
            ch.title
        )
    } else {
        format!(
            "{} chapter {:02} ({}): {} of {} tests pass ({secs:.1} s)",
            ui::bad("✗"),
            ch.number,
            ch.title,
            r.passed(),
            r.tests.len()
        )
    }
}

/// The whole account of a grade: the verdict, then what the learner needs first (the
/// compiler's first error, or each failing test's own message), then the hint to try.
pub fn explain(ch: &Chapter, r: &Report, state: &State) -> String {
    explain_with(ch, r, state, false)
}

/// [`explain`], with every failure whole and the peers' output in place when `verbose`.
pub fn explain_with(ch: &Chapter, r: &Report, state: &State, verbose: bool) -> String {
    let mut out = verdict_line(ch, r);
    out.push('\n');
    if let Some(why) = &r.aborted {
        let _ = write!(out, "\n{}\n", indent(why.trim(), "  "));
        let own = format!("exercises/{}", ch.dir_name());
        if let Some(other) = other_exercise(why, &own) {
            let _ = writeln!(
                out,
                "\nThe problem is in {other}, not in chapter {:02}: cargo loads every chapter \
                 of the workspace, so one broken crate stops them all. Fix it there (or put \
                 it back with `{} reset N`), then check again.",
                ch.number,
                ui::me()
            );
        }
        let _ = writeln!(
            out,
            "\nThis says nothing about your code, so it was not remembered as a grade."
        );
        return out;
    }
    if r.all_passed() {
        return out;
    }
    if !r.compiled {
        let err = r
            .compile_error
            .as_deref()
            .unwrap_or("(cargo did not say why)");
        let _ = write!(
            out,
            "\n{}\n\nThe tests run once the crate builds: fix this first (it is in {}).\n",
            indent(err.trim(), "  "),
            format_args!("exercises/{}", ch.dir_name())
        );
    } else if r.tests.is_empty() {
        out.push_str("\n  cargo ran no tests for this chapter.\n");
    } else {
        let failed: Vec<(String, String)> = r
            .failed()
            .map(|t| (t.name.clone(), t.message.clone()))
            .collect();
        let groups = failures::ordered(ch, &failed, teaching_message_plain);
        let state_dir = state.path().parent().unwrap_or(Path::new("."));
        let mut shown_whole = 0;
        for (i, g) in groups.iter().enumerate() {
            if !verbose && i == SHOWN_GROUPS {
                // One screen: the rest by name only.
                let rest: Vec<&str> = groups[i..]
                    .iter()
                    .flat_map(|g| g.tests.iter().map(String::as_str))
                    .collect();
                let _ = writeln!(
                    out,
                    "\n  {} {}",
                    ui::bad(format!("✗ {} more:", rest.len())),
                    rest.join(", ")
                );
                break;
            }
            out.push('\n');
            for name in &g.tests {
                let _ = writeln!(out, "  {} {}", ui::bad("✗"), ui::strong(name));
            }
            let message = if verbose {
                g.message.clone()
            } else {
                let log = failures::log_path(state_dir, ch, &g.tests[0]);
                let (kept, logged) = failures::fold_peer_output(&g.message, &log);
                if !logged.is_empty() {
                    let written = log
                        .parent()
                        .map_or(Ok(()), std::fs::create_dir_all)
                        .and_then(|()| std::fs::write(&log, logged));
                    if written.is_err() {
                        // The log could not be kept: show it in place rather than lose it.
                        g.message.clone()
                    } else {
                        kept
                    }
                } else {
                    kept
                }
            };
            // The first group whole; the others, which often follow from the same cause,
            // by their first sentence, so the screen shows the cause and not a wall.
            if verbose || i == 0 || groups.len() <= 2 {
                let _ = writeln!(out, "{}", indent(&teaching_message(&message), "    "));
                shown_whole += 1;
            } else {
                let _ = writeln!(
                    out,
                    "{}",
                    indent(
                        &failures::first_sentence(&teaching_parts(&message).0),
                        "    "
                    )
                );
            }
            if i == 0 && groups.len() > 1 {
                let follow = failures::following_from_first(ch, &groups);
                if follow > 0 {
                    let _ = writeln!(
                        out,
                        "\n  {}",
                        ui::note(format!(
                            "{follow} of the failures below can follow from the same mistake \
                             as this one: fix it first, then check again."
                        ))
                    );
                }
            }
        }
        if shown_whole < groups.len() {
            let _ = writeln!(
                out,
                "\n  {}",
                ui::dim(format!(
                    "(`{} check {} --verbose` shows every failure whole, with what the peers printed)",
                    ui::me(),
                    ch.number
                ))
            );
        }
        let passing: Vec<&str> = r
            .tests
            .iter()
            .filter(|t| t.passed)
            .map(|t| t.name.as_str())
            .collect();
        if !passing.is_empty() {
            let _ = writeln!(out, "\n  {} {}", ui::good("passing:"), passing.join(", "));
        }
    }
    let _ = writeln!(out, "\n{}", hint_line(ch, state));
    out
}

/// The first `exercises/NN-slug` folder named in `text` that is not `own`.
fn other_exercise(text: &str, own: &str) -> Option<String> {
    let mut rest = text;
    while let Some(i) = rest.find("exercises/") {
        let tail = &rest[i..];
        let end = tail[10..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .map_or(tail.len(), |n| n + 10);
        let name = &tail[..end];
        if name.len() > 10 && name != own {
            return Some(name.to_string());
        }
        rest = &tail[end..];
    }
    None
}

/// Where the rendered book is (or will be): the build dir of book/book.toml.
pub fn book_dir(root: &Path) -> PathBuf {
    let book = root.join("book");
    let configured = std::fs::read_to_string(book.join("book.toml"))
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .and_then(|t| {
            t.get("build")
                .and_then(|b| b.get("build-dir"))
                .and_then(|d| d.as_str())
                .map(str::to_string)
        });
    match configured {
        Some(d) => normalize(&book.join(d)),
        None => book.join("book"),
    }
}

/// Resolves `..` without touching the file system (the folder may not exist yet).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// `workbook` with no arguments: every chapter's state, progress, what to do next and
/// where the book is. Reads files and the state only; never runs cargo.
pub fn overview(root: &Path, chapters: &[Chapter]) -> Result<String> {
    let me = ui::me();
    let state = State::load(root)?;
    let statuses: Vec<Status> = chapters
        .iter()
        .map(|c| state::status(root, c, &state))
        .collect();
    let done = statuses.iter().filter(|s| s.is_done()).count();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}  {} {done}/{} done\n",
        ui::strong("The TLS workbook"),
        ui::bar_text(done, chapters.len(), 20),
        chapters.len()
    );
    for (ch, st) in chapters.iter().zip(&statuses) {
        let label = format!("{:<22}", st.label());
        let label = match st {
            Status::Done(_) => ui::good(label).to_string(),
            Status::Failing(_) => ui::bad(label).to_string(),
            Status::Changed(_) | Status::Edited | Status::Unchecked => ui::note(label).to_string(),
            Status::NotStarted => ui::dim(label).to_string(),
        };
        let detail = match st {
            Status::Failing(g) if g.compiled => {
                format!(
                    "{} of {} tests pass, checked {}",
                    g.tests_passed,
                    g.tests_total,
                    ui::ago(g.at)
                )
            }
            Status::Failing(g) => format!("checked {}", ui::ago(g.at)),
            Status::Done(g) => format!("checked {}", ui::ago(g.at)),
            Status::Changed(g) => {
                let verdict = if g.passed { "passed" } else { "failed" };
                if state::exercise_hash(root, ch).is_ok_and(|h| h == g.exercise_hash) {
                    format!(
                        "it {verdict} {}, but the shared test kit changed since",
                        ui::ago(g.at)
                    )
                } else {
                    format!("edited since it {verdict} {}", ui::ago(g.at))
                }
            }
            _ => String::new(),
        };
        let detail = if detail.is_empty() {
            String::new()
        } else {
            format!("  {}", ui::dim(format!("({detail})")))
        };
        let _ = writeln!(out, "  {:02}  {label}{}{detail}", ch.number, ch.title);
    }
    out.push('\n');
    match chapters.iter().zip(&statuses).find(|(_, s)| !s.is_done()) {
        Some((ch, st)) => {
            let why = match st {
                Status::Changed(_) | Status::Edited => {
                    format!(
                        "you edited it: `{me} check {}` gives the verdict and records it; \
                         `cargo test -p {}` runs the same tests, but its verdict is not recorded",
                        ch.number,
                        ch.exercise_package()
                    )
                }
                Status::Failing(_) => format!("`{me} check {}` after each change", ch.number),
                _ => format!(
                    "read its page, fill in exercises/{}/src, then `{me} check {}`",
                    ch.dir_name(),
                    ch.number
                ),
            };
            let _ = writeln!(
                out,
                "Next: chapter {:02}, {} ({why}).",
                ch.number,
                ui::strong(&ch.title)
            );
            let _ = writeln!(
                out,
                "      `{me} watch` checks on every save; `{me} hint {}` when stuck.",
                ch.number
            );
        }
        None => {
            let _ = writeln!(out, "{}", ui::good("Every chapter is done. Well done!"));
        }
    }
    let index = book_dir(root).join("index.html");
    if !root.join("book/book.toml").is_file() {
        let _ = writeln!(out, "Book: this workbook has no book/book.toml");
    } else if index.is_file() {
        let _ = writeln!(out, "Book: {}", index.display());
    } else {
        let _ = writeln!(
            out,
            "Book: not built yet: `{me} book` renders it to {}",
            index.display()
        );
    }
    Ok(out)
}

/// Shows the next hint tier of `ch` and remembers it; `all` shows every tier.
pub fn hint(root: &Path, ch: &Chapter, all: bool) -> Result<String> {
    State::update(root, |state| hint_text(ch, state, all))
}

/// The text of the next hint (or all of them), counting it as seen in `state`.
pub fn hint_text(ch: &Chapter, state: &mut State, all: bool) -> String {
    let me = ui::me();
    let total = ch.hints.len();
    if total == 0 {
        return format!("Chapter {:02} has no hints.\n", ch.number);
    }
    let entry = state.chapter_mut(ch);
    let mut out = String::new();
    if all {
        for (i, h) in ch.hints.iter().enumerate() {
            out.push_str(&format!(
                "Hint {} of {total} ({}) for chapter {:02}:\n  {h}\n",
                i + 1,
                ui::tier_name(i + 1),
                ch.number
            ));
        }
        entry.hints_seen = total;
    } else {
        // The count comes from a file the learner can edit: no arithmetic on it may
        // overflow.
        let last_seen = entry.hints_seen >= total;
        let tier = entry.hints_seen.saturating_add(1).min(total);
        entry.hints_seen = tier;
        out.push_str(&format!(
            "Hint {tier} of {total} ({}) for chapter {:02}:\n  {}\n",
            ui::tier_name(tier),
            ch.number,
            ch.hints[tier - 1]
        ));
        if last_seen {
            out.push_str(&format!(
                "That was the last hint: there are no more. The book page {} walks through it; \
                 `{me} solution {}` shows the answer once the chapter passes.\n",
                ch.page().display(),
                ch.number
            ));
        } else if tier == total {
            out.push_str("That is the last hint.\n");
        } else {
            out.push_str(&format!(
                "Still stuck after trying it? Ask again for hint {} ({}).\n",
                tier + 1,
                ui::tier_name(tier + 1)
            ));
        }
    }
    out
}

/// Forgets which hints of `ch` were seen.
pub fn forget_hints(root: &Path, ch: &Chapter) -> Result<()> {
    State::update(root, |state| state.chapter_mut(ch).hints_seen = 0)
}
