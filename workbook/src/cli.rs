//! The command line: its arguments (clap) and which module each command goes to. Exit
//! codes: 0 all good, 1 something failed (a chapter, a check), 2 bad input (an unknown
//! chapter, a missing confirmation).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use crate::ui::{self, BadInput};
use crate::{
    bench, book, class, doctor, learner, manifest, report, shipped, solution, verify, watch,
};

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
pub struct Cli {
    /// The workbook's folder (default: found from the current folder upwards).
    #[arg(long, global = true, env = "WORKBOOK_ROOT", value_name = "DIR")]
    pub root: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

#[derive(Subcommand)]
pub enum Cmd {
    /// Every chapter's state, your progress, the next chapter and the book (the default).
    Status,
    /// Grade chapter N (or every chapter): run its tests and explain the failures.
    Check {
        /// The chapters' numbers, as `workbook` lists them; none: every chapter.
        n: Vec<u32>,
        /// Write a report for a grader instead of the explanation: JUnit XML (GitLab,
        /// Jenkins, LMS plug-ins) or Gradescope's results.json.
        #[arg(long, value_enum, value_name = "FORMAT")]
        report: Option<report::Format>,
        /// Where to write the report (default: standard output).
        #[arg(long, short = 'o', value_name = "FILE", requires = "report")]
        output: Option<PathBuf>,
        /// What each chapter is worth in a Gradescope report (its share of passing tests).
        #[arg(long, default_value_t = 10.0, requires = "report")]
        points: f64,
        /// Show every failure whole, with what the peers printed, instead of the first
        /// failure and one line for each of the others.
        #[arg(long, short = 'v', conflicts_with = "report")]
        verbose: bool,
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
        /// The chapter's number; none: the first chapter that does not pass yet.
        n: Option<u32>,
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
    /// For teachers: one table, chapter by learner, from the reports of `check --report`,
    /// with each chapter's most common failing promise.
    Class {
        /// One folder per learner (named after the learner) holding the report files
        /// (*.xml, *.json) that `check --report ... --output FILE` wrote; a report file
        /// can be named directly too.
        #[arg(required = true, value_name = "DIR")]
        dirs: Vec<PathBuf>,
        /// Also write the table as an HTML page with a bar chart that works offline.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
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

/// Runs the command and turns its outcome into the exit code, printing an error first.
pub fn main(cli: Cli) -> ExitCode {
    match run(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            let bad_input = e.downcast_ref::<BadInput>().is_some();
            use std::io::Write;
            let _ = std::io::stdout().flush();
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

/// Runs one command; `Ok(false)` when it ran and something failed (exit code 1).
pub fn run(cli: Cli) -> Result<bool> {
    let command = cli.command.unwrap_or(Cmd::Status);
    if let Cmd::Doctor = command {
        return Ok(doctor::run());
    }
    let root = find_root(cli.root)?;
    let chapters = manifest::load(&root)?;
    match command {
        Cmd::Status => {
            print!("{}", learner::overview(&root, &chapters)?);
            Ok(true)
        }
        Cmd::Check {
            n,
            report: Some(format),
            output,
            points,
            ..
        } => report::check(&root, &chapters, &n, format, output.as_deref(), points),
        Cmd::Check { n, verbose, .. } => learner::check(&root, &chapters, &n, verbose),
        Cmd::Watch { n, manual } => {
            let only = n.map(|n| ui::chapter(&chapters, n)).transpose()?;
            watch::run(&root, &chapters, only, manual)?;
            Ok(true)
        }
        Cmd::Hint { n, all, reset } => {
            let ch = match n {
                Some(n) => ui::chapter(&chapters, n)?,
                None => {
                    let state = crate::state::State::load(&root)?;
                    let ch = learner::next_chapter(&root, &chapters, &state, u32::MAX).ok_or_else(
                        || {
                            anyhow::anyhow!(
                                "every chapter passes; `{} hint N` shows the hints of chapter N",
                                ui::me()
                            )
                        },
                    )?;
                    println!(
                        "Chapter {:02} ({}), the first that does not pass yet:",
                        ch.number, ch.title
                    );
                    ch
                }
            };
            let n = ch.number;
            if reset {
                learner::forget_hints(&root, ch)?;
                println!(
                    "Forgot the hints you saw for chapter {:02}; `{} hint {n}` starts again at the first.",
                    ch.number,
                    ui::me()
                );
            } else {
                print!("{}", learner::hint(&root, ch, all)?);
            }
            Ok(true)
        }
        Cmd::Reset { n, yes } => shipped::reset(&root, ui::chapter(&chapters, n)?, yes),
        Cmd::Solution { n, diff, force } => {
            solution::run(&root, ui::chapter(&chapters, n)?, diff, force)
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
            Ok(true)
        }
        Cmd::Bench { seconds, tls12 } => {
            let tls = if tls12 {
                bench::Tls::V12
            } else {
                bench::Tls::V13
            };
            bench::run(&root, &chapters, seconds, tls)?;
            Ok(true)
        }
        Cmd::Class { dirs, html } => {
            class::run(&chapters, &dirs, html.as_deref())?;
            Ok(true)
        }
        Cmd::Doctor => Ok(doctor::run()),
        Cmd::Verify { n, mutants } => {
            if let Some(n) = n {
                ui::chapter(&chapters, n)?;
            }
            if mutants {
                return verify::mutants::run(&root, n, &verify::mutants::Options::default());
            }
            verify::run(&root, n)
        }
    }
}
