//! The `workbook` command: a thin layer of argument parsing and exit codes over the
//! library's modules. Exit codes: 0 all good, 1 something failed (a chapter, a check), 2 bad
//! input (an unknown chapter, a missing confirmation).

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use workbook::manifest::{self, Chapter};
use workbook::state::{self, State, Status};
use workbook::ui::{self, BadInput};
use workbook::{bench, book, doctor, learner, shipped, solution, watch};

#[derive(Parser)]
#[command(
    name = "workbook",
    version,
    about = "The TLS workbook's companion: where you are, grading, hints, the book.",
    long_about = "The TLS workbook's companion. Without a command it shows every chapter's \
                  state, your progress, the next chapter to do and where the book is.\n\n\
                  The loop: read a chapter in the book, fill in exercises/NN-slug/src, run \
                  `workbook check N` (or leave `workbook watch` running), ask `workbook hint N` \
                  when stuck."
)]
struct Cli {
    /// The workbook's folder (default: found from the current folder upwards).
    #[arg(long, global = true, env = "WORKBOOK_ROOT", value_name = "DIR")]
    root: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Every chapter's state, your progress, the next chapter and the book (the default).
    Status,
    /// Grade chapter N (or every chapter): run its tests and explain the failures.
    Check {
        /// The chapter's number, as `workbook` lists them; none: every chapter.
        n: Option<u32>,
    },
    /// Grade the chapter you are editing each time you save (h: hint, q: quit).
    Watch {
        /// Only this chapter; none: whichever chapter's files change.
        n: Option<u32>,
        /// Do not watch files: press Enter to grade again (for file systems where watching
        /// does not work).
        #[arg(long)]
        manual: bool,
    },
    /// The next hint for chapter N: a nudge, then the API to use, then the shape of the code.
    Hint {
        n: u32,
        /// Show every hint at once.
        #[arg(long, conflicts_with = "reset")]
        all: bool,
        /// Forget which hints you have seen, so the next one is the first again.
        #[arg(long)]
        reset: bool,
    },
    /// Put chapter N's exercise back as shipped (your files are backed up first).
    Reset {
        n: u32,
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Show chapter N's solution, once your exercise passes.
    Solution {
        n: u32,
        /// Show how your files differ from the solution instead of the whole solution.
        #[arg(long)]
        diff: bool,
        /// Show it even though your exercise does not pass yet.
        #[arg(long)]
        force: bool,
    },
    /// Render the book to target/book and print where index.html is.
    Book {
        /// Also serve it on 127.0.0.1 and render again when book/ or solutions/ change; open
        /// pages reload by themselves (a small script in each served page asks the server
        /// every second whether a newer rendering exists).
        #[arg(long)]
        serve: bool,
        /// The port to serve on; 0 lets the system pick a free one.
        #[arg(long, default_value_t = 0, requires = "serve")]
        port: u16,
    },
    /// Handshakes per second, full and resumed: your server, the reference, openssl s_server.
    Bench {
        /// Seconds to measure each column.
        #[arg(long, default_value_t = 3)]
        seconds: u64,
        /// Measure TLS 1.2 instead of TLS 1.3.
        #[arg(long)]
        tls12: bool,
    },
    /// Check that this machine has what the chapters need, and say how to fix what is missing.
    Doctor,
    /// The workbook's own consistency checks (for authors), for chapter N or every chapter.
    Verify {
        n: Option<u32>,
        /// Run `cargo mutants` over the solution(s) instead: a missed mutant in a region fails.
        #[arg(long)]
        mutants: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            let bad_input = e.downcast_ref::<BadInput>().is_some();
            let _ = io::stdout().flush();
            eprintln!("{} {e:#}", ui::bad("error:"));
            if bad_input {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn find_root(given: Option<PathBuf>) -> Result<PathBuf> {
    match given {
        Some(dir) => {
            let dir = if dir.is_absolute() {
                dir
            } else {
                std::env::current_dir()
                    .context("cannot read the current folder")?
                    .join(dir)
            };
            manifest::find_root(&dir)
        }
        None => manifest::root(),
    }
}

fn code(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let me = ui::me();
    let command = cli.command.unwrap_or(Cmd::Status);
    if let Cmd::Doctor = command {
        return Ok(code(doctor::run()));
    }
    let root = find_root(cli.root)?;
    let chapters = manifest::load(&root)?;
    match command {
        Cmd::Status => {
            print!("{}", learner::overview(&root, &chapters));
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Check { n } => check(&root, &chapters, n),
        Cmd::Watch { n, manual } => {
            let only = n.map(|n| ui::chapter(&chapters, n)).transpose()?;
            watch::run(&root, &chapters, only, manual)?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Hint { n, all, reset } => {
            let ch = ui::chapter(&chapters, n)?;
            let mut state = State::load(&root);
            if reset {
                state.chapter_mut(ch).hints_seen = 0;
                state.save()?;
                println!(
                    "Forgot the hints you saw for chapter {:02}; `{me} hint {n}` starts again at the first.",
                    ch.number
                );
            } else {
                print!("{}", learner::hint(ch, &mut state, all));
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Reset { n, yes } => reset(&root, ui::chapter(&chapters, n)?, yes),
        Cmd::Solution { n, diff, force } => {
            show_solution(&root, ui::chapter(&chapters, n)?, diff, force)
        }
        Cmd::Book { serve, port } => {
            if serve {
                book::serve(&root, port)?;
            } else {
                let spin = ui::spinner("rendering the book".into());
                let index = book::render(&root);
                spin.finish_and_clear();
                println!("The book is at {}", index?.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Bench { seconds, tls12 } => {
            let tls = if tls12 {
                bench::Tls::V12
            } else {
                bench::Tls::V13
            };
            bench::run(&chapters, seconds, tls)?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Doctor => Ok(code(doctor::run())),
        Cmd::Verify { n, mutants } => {
            if let Some(n) = n {
                ui::chapter(&chapters, n)?;
            }
            if mutants {
                let opts = workbook::verify::mutants::Options::default();
                return Ok(code(workbook::verify::mutants::run(&root, n, &opts)?));
            }
            Ok(code(workbook::verify::run(&root, n)?))
        }
    }
}

fn save(state: &State) {
    if let Err(e) = state.save() {
        eprintln!("{} cannot save the state: {e:#}", ui::note("warning:"));
    }
}

/// The chapter to do after `after` (or the first not done), for "Next:" lines.
fn next_chapter<'a>(
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

fn check(root: &Path, chapters: &[Chapter], n: Option<u32>) -> Result<ExitCode> {
    let me = ui::me();
    let selected = ui::selection(chapters, n)?;
    let mut state = State::load(root);
    if let [ch] = selected.as_slice() {
        let spin = ui::spinner(format!(
            "checking chapter {:02} (cargo test -p {})",
            ch.number,
            ch.exercise_package()
        ));
        let graded = learner::grade(root, ch, &mut state);
        spin.finish_and_clear();
        let graded = graded?;
        save(&state);
        print!("{}", learner::explain(ch, &graded.report, &state));
        if !graded.recorded {
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
        return Ok(code(graded.report.all_passed()));
    }

    let bar = ui::bar(selected.len() as u64);
    let mut failing = Vec::new();
    for ch in &selected {
        bar.set_message(format!(
            "chapter {:02}: cargo test -p {}",
            ch.number,
            ch.exercise_package()
        ));
        let graded = learner::grade(root, ch, &mut state)?;
        save(&state);
        bar.inc(1);
        bar.suspend(|| println!("{}", learner::verdict_line(ch, &graded.report)));
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
        print!("{}", learner::explain(ch, report, &state));
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
    Ok(code(failing.is_empty()))
}

/// "20260102-030405" in UTC, for backup folder names, without a date crate.
fn timestamp() -> String {
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

fn reset(root: &Path, ch: &Chapter, yes: bool) -> Result<ExitCode> {
    let me = ui::me();
    let src = format!("exercises/{}/src", ch.dir_name());
    shipped::check_copy(root, ch)?;
    if shipped::is_pristine(root, ch) == Some(true) {
        println!("{src} is already as shipped: nothing to do.");
        return Ok(ExitCode::SUCCESS);
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
            return Ok(ExitCode::FAILURE);
        }
    }
    let done = shipped::restore(root, ch, &backup)?;
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
    Ok(ExitCode::SUCCESS)
}

fn show_solution(root: &Path, ch: &Chapter, diff: bool, force: bool) -> Result<ExitCode> {
    let me = ui::me();
    let mut state = State::load(root);
    let (passes, why) = match state::status(root, ch, &state) {
        Status::Done(_) => (true, String::new()),
        Status::NotStarted => (false, "you have not started it yet".to_string()),
        Status::Failing(g) if !g.compiled => (false, "your exercise does not compile".to_string()),
        Status::Failing(g) => (
            false,
            format!(
                "its last check failed: {} of {} tests pass",
                g.tests_passed, g.tests_total
            ),
        ),
        Status::Changed(_) | Status::Edited | Status::Unchecked => {
            let spin = ui::spinner(format!(
                "your files changed since the last check: checking chapter {:02} first",
                ch.number
            ));
            let graded = learner::grade(root, ch, &mut state);
            spin.finish_and_clear();
            let graded = graded?;
            save(&state);
            let r = &graded.report;
            let why = if r.compiled {
                format!(
                    "it does not pass yet: {} of {} tests pass",
                    r.passed(),
                    r.tests.len()
                )
            } else {
                "your exercise does not compile".to_string()
            };
            (r.all_passed(), why)
        }
    };
    if passes {
        println!(
            "{} Chapter {:02} passes, so here is the solution{}.\n",
            ui::good("✓"),
            ch.number,
            if diff {
                ", as a diff of your files against it"
            } else {
                ""
            }
        );
    } else if force {
        eprintln!(
            "{} chapter {:02} is not solved ({why}). Showing its solution anyway, as you asked: \
             reading it now takes away the part where you work it out.\n",
            ui::note("warning:"),
            ch.number
        );
    } else {
        eprintln!(
            "Chapter {:02} is not solved yet: {why}. Solve it first (`{me} check {n}`, \
             `{me} hint {n}`); `{me} solution {n} --force` shows it anyway.",
            ch.number,
            n = ch.number
        );
        return Ok(ExitCode::FAILURE);
    }
    let text = if diff {
        solution::diff(root, ch)?
    } else {
        solution::show(root, ch)?
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}
