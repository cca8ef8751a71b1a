//! The `workbook` command, run as a learner runs it, against a small workbook each test
//! makes in a temporary folder: a Cargo workspace with two tiny chapters that need no
//! OpenSSL. Nothing here reads or writes the real repository's state.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as StdCommand, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use assert_cmd::Command;

const BIN: &str = env!("CARGO_BIN_EXE_workbook");
/// Long enough for a cold build of a tiny crate on a busy 2-core machine.
const LIMIT: Duration = Duration::from_secs(180);

const EXERCISE_LIB: &str = "\
//! Chapter 00 of the test workbook.

pub fn add(a: i32, b: i32) -> i32 {
    // BEGIN EXERCISE
    todo!(\"ch00: add the two numbers with the + operator\")
    // END EXERCISE
}
";

const SOLVED_LIB: &str = "\
//! Chapter 00 of the test workbook.

pub fn add(a: i32, b: i32) -> i32 {
    // BEGIN EXERCISE
    a + b
    // END EXERCISE
}
";

const BROKEN_LIB: &str = "\
//! Chapter 00 of the test workbook.

pub fn add(a: i32, b: i32) -> i32 {
    a +
}
";

const TESTS: &str = "\
#[test]
fn adds_small_numbers() {
    assert_eq!(ch00_adding::add(2, 3), 5, \"2 + 3 should be 5: the sum of the two arguments\");
}

#[test]
fn adds_negative_numbers() {
    assert_eq!(ch00_adding::add(-2, -3), -5, \"negative numbers add up too\");
}
";

const GREET_LIB: &str = "\
pub fn greet() -> &'static str {
    // BEGIN EXERCISE
    todo!(\"ch01: return the word hello\")
    // END EXERCISE
}
";

const GREET_TESTS: &str = "\
#[test]
fn says_hello() {
    assert_eq!(ch01_greeting::greet(), \"hello\", \"the greeting is the word hello\");
}
";

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn chapter_toml(number: u32, slug: &str, title: &str) -> String {
    format!(
        "number = {number}\nslug = \"{slug}\"\ntitle = \"{title}\"\nsection = \"none\"\n\
         summary = \"A test chapter.\"\n\
         hints = [\"first hint: think about it\", \"second hint: the API\", \"third hint: the shape\"]\n"
    )
}

fn crate_toml(package: &str, lib: &str, tests: &[(&str, &str)]) -> String {
    let mut t = format!(
        "[package]\nname = \"{package}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n\
         [lib]\nname = \"{lib}\"\n\n[lints.rust]\nunused = \"allow\"\nunreachable_code = \"allow\"\n"
    );
    for (name, path) in tests {
        t.push_str(&format!(
            "\n[[test]]\nname = \"{name}\"\npath = \"{path}\"\n"
        ));
    }
    t
}

/// A small workbook in a temporary folder: chapters 0 (adding) and 1 (greeting).
struct Workbook {
    dir: tempfile::TempDir,
}

impl Workbook {
    fn new() -> Workbook {
        let dir = tempfile::Builder::new()
            .prefix("workbook-test-")
            .tempdir()
            .unwrap();
        let r = dir.path();
        write(
            &r.join("Cargo.toml"),
            "[workspace]\nresolver = \"2\"\nmembers = [\"exercises/*\", \"solutions/*\"]\n",
        );
        write(
            &r.join("chapters/00-adding.toml"),
            &chapter_toml(0, "adding", "Adding numbers"),
        );
        write(
            &r.join("chapters/01-greeting.toml"),
            &chapter_toml(1, "greeting", "Greeting"),
        );
        write(
            &r.join("exercises/00-adding/Cargo.toml"),
            &crate_toml("ch00-adding", "ch00_adding", &[]),
        );
        write(&r.join("exercises/00-adding/src/lib.rs"), EXERCISE_LIB);
        write(&r.join("exercises/00-adding/tests/add.rs"), TESTS);
        write(
            &r.join("solutions/00-adding/Cargo.toml"),
            &crate_toml(
                "ch00-adding-solution",
                "ch00_adding",
                &[("add", "../../exercises/00-adding/tests/add.rs")],
            ),
        );
        write(&r.join("solutions/00-adding/src/lib.rs"), SOLVED_LIB);
        write(
            &r.join("exercises/01-greeting/Cargo.toml"),
            &crate_toml("ch01-greeting", "ch01_greeting", &[]),
        );
        write(&r.join("exercises/01-greeting/src/lib.rs"), GREET_LIB);
        write(&r.join("exercises/01-greeting/tests/greet.rs"), GREET_TESTS);
        Workbook { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn exercise(&self) -> PathBuf {
        self.root().join("exercises/00-adding/src/lib.rs")
    }

    fn state_file(&self) -> PathBuf {
        self.root().join("target/workbook/state.json")
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.env_remove("CARGO_PKG_NAME")
            .args(args)
            .current_dir(self.root())
            .env("WORKBOOK_ROOT", self.root())
            .env_remove("WORKBOOK_STATE_DIR")
            .env_remove("CARGO_TARGET_DIR")
            .env("NO_COLOR", "1")
            .timeout(LIMIT);
        c
    }

    fn run(&self, args: &[&str]) -> Ran {
        self.run_with_input(args, "")
    }

    fn run_with_input(&self, args: &[&str], input: &str) -> Ran {
        let out = self.cmd(args).write_stdin(input).output().unwrap();
        let ran = Ran {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            what: format!("workbook {}", args.join(" ")),
        };
        assert!(
            !ran.stderr.contains("panicked"),
            "{} panicked:\n{}",
            ran.what,
            ran.both()
        );
        ran
    }
}

struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    what: String,
}

impl Ran {
    fn both(&self) -> String {
        format!("--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr)
    }
    fn expect(&self, code: i32, needles: &[&str]) -> &Ran {
        assert_eq!(
            self.code,
            Some(code),
            "{} exit code\n{}",
            self.what,
            self.both()
        );
        let all = format!("{}{}", self.stdout, self.stderr);
        for n in needles {
            assert!(
                all.contains(n),
                "{}: expected {n:?} in the output\n{}",
                self.what,
                self.both()
            );
        }
        self
    }
}

#[test]
fn overview_lists_chapters_progress_next_and_book() {
    let wb = Workbook::new();
    wb.run(&[]).expect(
        0,
        &[
            "00  not checked yet",
            "01  not checked yet",
            "Adding numbers",
            "0/2 done",
            "Next: chapter 00",
            "Book: this workbook has no book/book.toml",
        ],
    );
    // `status` is the same, and the workbook is found from a subfolder too.
    let out = Command::new(BIN)
        .env_remove("CARGO_PKG_NAME")
        .arg("status")
        .current_dir(wb.root().join("exercises/00-adding/src"))
        .env_remove("WORKBOOK_ROOT")
        .env_remove("WORKBOOK_STATE_DIR")
        .timeout(LIMIT)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Adding numbers"));
    // An edit without a check is never shown with an old verdict.
    write(&wb.exercise(), SOLVED_LIB);
    wb.run(&[]).expect(0, &["00  not checked yet"]);
}

#[test]
fn commands_are_suggested_the_way_the_learner_runs_the_program() {
    let wb = Workbook::new();
    wb.run(&["hint", "1"]).expect(0, &["Hint 1 of 3"]);
    wb.run(&[])
        .expect(0, &["`workbook watch` checks on every save"]);
    // Started by cargo (`cargo workbook`, the README's alias for `cargo run -q -p workbook
    // --`): say it that way.
    let out = wb
        .cmd(&[])
        .env("CARGO_PKG_NAME", "workbook")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("`cargo workbook watch` checks on every save"),
        "{text}"
    );
    assert!(
        text.contains("`cargo workbook hint 0` when stuck"),
        "{text}"
    );
}

#[test]
fn unknown_chapters_are_refused_with_the_valid_numbers() {
    let wb = Workbook::new();
    for args in [
        &["check", "99"][..],
        &["hint", "7"],
        &["reset", "5", "--yes"],
        &["solution", "42"],
        &["watch", "3"],
        &["verify", "12"],
    ] {
        wb.run(args)
            .expect(2, &["there is no chapter", "the chapters are 0 and 1"]);
    }
    // Not a number at all: clap's usage error, also exit code 2.
    wb.run(&["check", "abc"]).expect(2, &["invalid value"]);
    assert!(!wb.state_file().exists(), "bad input must not create state");
}

#[test]
fn check_shows_the_teaching_message_first_and_the_hint_to_try() {
    let wb = Workbook::new();
    let r = wb.run(&["check", "0"]);
    r.expect(
        1,
        &[
            "0 of 2 tests pass",
            "not yet implemented: ch00: add the two numbers with the + operator",
            "Stuck? `workbook hint 0` shows hint 1 of 3 (a nudge)",
        ],
    );
    assert_eq!(
        r.stdout.matches("not yet implemented").count(),
        1,
        "one message for both tests:\n{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("✗ adds_negative_numbers\n  ✗ adds_small_numbers\n    not yet"),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains("Running tests/"),
        "cargo's noise is not shown:\n{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains("thread '"),
        "libtest's panic line is not shown:\n{}",
        r.stdout
    );
    wb.run(&[]).expect(0, &["00  failing", "0 of 2 tests pass"]);

    // After a hint, the next tier is suggested.
    wb.run(&["hint", "0"]).expect(0, &["Hint 1 of 3"]);
    wb.run(&["check", "0"])
        .expect(1, &["shows hint 2 of 3 (the API to use)"]);

    // Solved: exit 0, done, and the cached verdict is what `workbook` shows.
    write(&wb.exercise(), SOLVED_LIB);
    wb.run(&["check", "0"])
        .expect(0, &["passes: 2 of 2 tests", "Next: chapter 01, Greeting"]);
    wb.run(&[])
        .expect(0, &["00  done", "1/2 done", "Next: chapter 01"]);
    // A change of the shared test kit also makes the verdict stale, and says so.
    write(
        &wb.root().join("testkit/src/lib.rs"),
        "// the kit, updated\n",
    );
    wb.run(&[]).expect(
        0,
        &[
            "00  changed, not checked",
            "the shared test kit changed since",
        ],
    );
    wb.run(&["check", "0"]).expect(0, &["passes: 2 of 2 tests"]);
    // A one-line edit makes the verdict stale at once.
    write(&wb.exercise(), &format!("{SOLVED_LIB}// a comment\n"));
    wb.run(&[]).expect(
        0,
        &[
            "00  changed, not checked",
            "0/2 done",
            "`cargo test -p ch00-adding` runs the same tests, but its verdict is not recorded",
        ],
    );
}

/// One wrong line fails many tests: `check` shows the test that names the cause first and
/// whole, the others by their first sentence, and moves what peers printed into a log file.
#[test]
fn check_shows_the_cause_first_and_the_peers_output_in_a_file() {
    let wb = Workbook::new();
    let r = wb.root();
    let mut toml = chapter_toml(1, "greeting", "Greeting");
    for (test, cause) in [("z_greets_directly", true), ("a_greets_a_peer", false)] {
        toml.push_str(&format!(
            "[[promise]]\nsays = \"{test}\"\ntest = \"{test}\"\nmistakes = [\"rude\"]\ncause = {cause}\n"
        ));
    }
    write(&r.join("chapters/01-greeting.toml"), &toml);
    write(
        &r.join("exercises/01-greeting/src/lib.rs"),
        "pub fn greet() -> &'static str {\n    // BEGIN EXERCISE\n    \"go away\"\n    // END EXERCISE\n}\n",
    );
    let peer = |n: u32| {
        format!(
            "#[test]\nfn {}() {{\n    let peer = \"--- `openssl s_server -accept 0` stdout ---\\n{}\\n--- stderr ---\\n--- end ---\";\n    assert_eq!(ch01_greeting::greet(), \"hello\", \"A peer heard no hello (test {n}): it hangs up.\\nwire: → hello\\n{{peer}}\");\n}}\n",
            if n == 0 { "a_greets_a_peer".to_string() } else { format!("b_peer_{n}") },
            "hex dump line\\n".repeat(30)
        )
    };
    let mut tests = String::from(
        "#[test]\nfn z_greets_directly() {\n    assert_eq!(ch01_greeting::greet(), \"hello\", \"greet() must say hello: it is what every peer waits for.\");\n}\n",
    );
    for n in 0..6 {
        tests.push_str(&peer(n));
    }
    write(&r.join("exercises/01-greeting/tests/greet.rs"), &tests);

    let out = wb.run(&["check", "1"]);
    out.expect(1, &["0 of 7 tests pass"]);
    let text = &out.stdout;
    let cause = text.find("✗ z_greets_directly").expect(text);
    let symptom = text.find("✗ a_greets_a_peer").expect(text);
    assert!(cause < symptom, "the cause comes first:\n{text}");
    assert!(
        text.contains("1 of the failures below can follow from the same mistake as this one"),
        "{text}"
    );
    assert!(
        !text.contains("hex dump line"),
        "peer output stays in its log:\n{text}"
    );
    assert!(
        text.lines().count() <= 40,
        "{} lines:\n{text}",
        text.lines().count()
    );
    assert!(
        text.contains("--verbose` shows every failure whole"),
        "{text}"
    );
    let log = r.join("target/workbook/logs/01-a_greets_a_peer.log");
    let logged = fs::read_to_string(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
    assert_eq!(logged.matches("hex dump line").count(), 30, "{logged}");

    let verbose = wb.run(&["check", "1", "--verbose"]);
    verbose.expect(1, &["0 of 7 tests pass"]);
    assert_eq!(verbose.stdout.matches("hex dump line").count(), 6 * 30);
}

#[test]
fn check_all_grades_every_chapter() {
    let wb = Workbook::new();
    write(&wb.exercise(), SOLVED_LIB);
    wb.run(&["check"]).expect(
        1,
        &[
            "chapter 00 (Adding numbers) passes",
            "chapter 01 (Greeting): 0 of 1 tests pass",
            "1/2 chapters pass",
            "The first chapter to work on",
            "not yet implemented: ch01: return the word hello",
        ],
    );
    wb.run(&[])
        .expect(0, &["00  done", "01  failing", "1/2 done"]);
}

#[test]
fn a_crate_that_does_not_compile_shows_the_first_compiler_error() {
    let wb = Workbook::new();
    write(&wb.exercise(), BROKEN_LIB);
    let r = wb.run(&["check", "0"]);
    r.expect(
        1,
        &["does not compile", "error", "src/lib.rs", "fix this first"],
    );
    assert!(
        !r.stdout.contains("could not compile"),
        "only the first error:\n{}",
        r.stdout
    );
    wb.run(&[]).expect(0, &["00  does not compile"]);
    wb.run(&["solution", "0"])
        .expect(1, &["does not compile", "--force"]);
}

#[test]
fn a_damaged_cache_is_set_aside_with_a_warning() {
    let wb = Workbook::new();
    write(&wb.state_file(), "{ this is not json");
    wb.run(&[]).expect(
        0,
        &[
            "warning: ignoring the damaged state file",
            "00  not checked yet",
        ],
    );
    assert!(wb
        .root()
        .join("target/workbook/state.json.damaged")
        .exists());
    // A valid JSON of the wrong shape is damaged too.
    write(
        &wb.state_file(),
        "{\"chapters\": {\"00-adding\": {\"grade\": 7}}}",
    );
    wb.run(&["hint", "0"]).expect(
        0,
        &["warning: ignoring the damaged state file", "Hint 1 of 3"],
    );
    // ... and the state works again afterwards.
    wb.run(&["hint", "0"]).expect(0, &["Hint 2 of 3"]);
    assert!(
        !String::from_utf8_lossy(&fs::read(wb.state_file()).unwrap()).contains("this is not json")
    );
}

#[test]
fn hints_come_in_tiers_and_stop_at_the_last() {
    let wb = Workbook::new();
    wb.run(&["hint", "0"])
        .expect(0, &["Hint 1 of 3 (a nudge)", "first hint"]);
    wb.run(&["hint", "0"])
        .expect(0, &["Hint 2 of 3 (the API to use)", "second hint"]);
    wb.run(&["hint", "0"])
        .expect(0, &["Hint 3 of 3 (the shape of the code)", "third hint"]);
    let r = wb.run(&["hint", "0"]);
    r.expect(0, &["Hint 3 of 3", "third hint", "no more"]);
    // Chapters keep their own count.
    wb.run(&["hint", "1"]).expect(0, &["Hint 1 of 3"]);
    wb.run(&["hint", "0", "--reset"])
        .expect(0, &["starts again at the first"]);
    wb.run(&["hint", "0"]).expect(0, &["Hint 1 of 3"]);
    let all = wb.run(&["hint", "0", "--all"]);
    all.expect(0, &["first hint", "second hint", "third hint"]);
}

#[test]
fn hint_without_a_number_is_for_the_first_chapter_not_done() {
    let wb = Workbook::new();
    wb.run(&["hint"]).expect(
        0,
        &[
            "Chapter 00",
            "the first that does not pass yet",
            "Hint 1 of 3",
        ],
    );
    wb.run(&["hint"]).expect(0, &["Chapter 00", "Hint 2 of 3"]);
}

#[test]
fn the_solution_waits_until_the_chapter_passes() {
    let wb = Workbook::new();
    wb.run(&["solution", "0"]).expect(
        1,
        &[
            "not solved yet",
            "0 of 2 tests pass",
            "`workbook solution 0 --force` shows it anyway",
        ],
    );
    let forced = wb.run(&["solution", "0", "--force"]);
    forced.expect(0, &["warning: chapter 00 is not solved", "a + b"]);
    // Edited but not checked: the solution command checks first.
    write(&wb.exercise(), &SOLVED_LIB.replace("a + b", "b + a"));
    let r = wb.run(&["solution", "0", "--diff"]);
    r.expect(
        0,
        &[
            "Chapter 00 passes",
            "--- exercises/00-adding/src/lib.rs (yours)",
            "-    b + a",
            "+    a + b",
        ],
    );
    wb.run(&["solution", "0"])
        .expect(0, &["solutions/00-adding/src/lib.rs", "a + b"]);
}

#[test]
fn reset_without_a_shipped_copy_or_a_terminal_says_why() {
    let wb = Workbook::new();
    write(&wb.exercise(), SOLVED_LIB);
    // This binary was built with the real chapters, not this test's: no copy of 00-adding.
    wb.run(&["reset", "0", "--yes"])
        .expect(1, &["no shipped copy of chapter 0"]);
    assert_eq!(
        fs::read_to_string(wb.exercise()).unwrap(),
        SOLVED_LIB,
        "nothing may be lost"
    );
}

/// Reset needs the copy built into the binary, which is the real repository's: this test
/// uses the real chapter 00 in a scratch folder (no build needed to reset).
#[test]
fn reset_restores_the_shipped_files_and_backs_up_the_learners() {
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dir = tempfile::Builder::new()
        .prefix("workbook-reset-")
        .tempdir()
        .unwrap();
    let r = dir.path();
    write(&r.join("Cargo.toml"), "[workspace]\nmembers = []\n");
    fs::create_dir_all(r.join("chapters")).unwrap();
    fs::copy(
        real.join("chapters/00-overview.toml"),
        r.join("chapters/00-overview.toml"),
    )
    .unwrap();
    let shipped = fs::read_to_string(real.join("exercises/00-overview/src/lib.rs")).unwrap();
    let solution = fs::read_to_string(real.join("solutions/00-overview/src/lib.rs")).unwrap();
    write(&r.join("solutions/00-overview/src/lib.rs"), &solution);
    let mine = shipped.replace(
        "    // END EXERCISE",
        "    // my work in progress\n    // END EXERCISE",
    );
    write(&r.join("exercises/00-overview/src/lib.rs"), &mine);
    write(
        &r.join("exercises/00-overview/src/extra.rs"),
        "// a file of mine\n",
    );
    let state = r.join("state");
    let run = |args: &[&str], input: &str| {
        let out = Command::new(BIN)
            .env_remove("CARGO_PKG_NAME")
            .args(args)
            .env("WORKBOOK_ROOT", r)
            .env("WORKBOOK_STATE_DIR", &state)
            .env("NO_COLOR", "1")
            .write_stdin(input)
            .timeout(LIMIT)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!text.contains("panicked"), "{text}");
        (out.status.code(), text)
    };

    // No terminal and no --yes: refuse, change nothing.
    let (code, text) = run(&["reset", "0"], "yes\n");
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("--yes"), "{text}");
    assert_eq!(
        fs::read_to_string(r.join("exercises/00-overview/src/lib.rs")).unwrap(),
        mine
    );

    let (code, text) = run(&["reset", "0", "--yes"], "");
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("back as shipped") && text.contains("removed"),
        "{text}"
    );
    assert_eq!(
        fs::read_to_string(r.join("exercises/00-overview/src/lib.rs")).unwrap(),
        shipped,
        "reset writes the shipped file back byte for byte"
    );
    assert!(!r.join("exercises/00-overview/src/extra.rs").exists());
    // The learner's files are in the backup folder it names.
    let backups: Vec<PathBuf> = fs::read_dir(state.join("backup"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert!(text.contains(&backups[0].display().to_string()), "{text}");
    assert_eq!(
        fs::read_to_string(backups[0].join("src/lib.rs")).unwrap(),
        mine
    );
    assert!(backups[0].join("src/extra.rs").exists());

    let (code, text) = run(&["reset", "0", "--yes"], "");
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("already as shipped"), "{text}");
    let (_, text) = run(&[], "");
    assert!(text.contains("00  not started"), "{text}");
}

/// Reads a child's stdout lines on a thread, so a test can wait for one with a time limit.
struct Lines {
    rx: mpsc::Receiver<String>,
    seen: String,
}

impl Lines {
    fn new(child: &mut Child) -> Lines {
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Lines {
            rx,
            seen: String::new(),
        }
    }

    fn wait_for(&mut self, needle: &str, limit: Duration) -> String {
        let end = Instant::now() + limit;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push_str(&line);
                    self.seen.push('\n');
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no line with {needle:?} within {limit:?}; the output so far:\n{}",
                    self.seen
                ),
            }
        }
    }
}

/// Kills the child when the test ends, whether it passes or not.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn watch_quits_on_q_and_regrades_on_enter_in_manual_mode() {
    let wb = Workbook::new();
    let r = wb.run_with_input(&["watch", "0", "--manual"], "\nq\n");
    r.expect(0, &["Manual mode", "0 of 2 tests pass", "Bye"]);
    assert_eq!(
        r.stdout.matches("0 of 2 tests pass").count(),
        2,
        "graded at start and on Enter:\n{}",
        r.stdout
    );
    // The end of input quits too, and `h` shows a hint.
    wb.run_with_input(&["watch", "--manual"], "h\n")
        .expect(0, &["Hint 1 of 3", "Bye"]);
}

#[test]
fn watch_regrades_the_chapter_whose_file_is_saved() {
    let wb = Workbook::new();
    let child = StdCommand::new(BIN)
        .env_remove("CARGO_PKG_NAME")
        .arg("watch")
        .env("WORKBOOK_ROOT", wb.root())
        .env_remove("WORKBOOK_STATE_DIR")
        .env_remove("CARGO_TARGET_DIR")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = Killed(child);
    let mut lines = Lines::new(&mut child.0);
    lines.wait_for("Watching exercises/", LIMIT);
    lines.wait_for("0 of 2 tests pass", LIMIT);
    lines.wait_for("Stuck?", LIMIT);
    write(&wb.exercise(), SOLVED_LIB);
    lines.wait_for("chapter 00 (Adding numbers) passes", LIMIT);
    // A save in another chapter grades that chapter.
    write(
        &wb.root().join("exercises/01-greeting/src/lib.rs"),
        &GREET_LIB.replace("todo!(\"ch01: return the word hello\")", "\"hello\""),
    );
    lines.wait_for("chapter 01 (Greeting) passes", LIMIT);
    child.0.stdin.as_mut().unwrap().write_all(b"q\n").unwrap();
    lines.wait_for("Bye", Duration::from_secs(30));
    let end = Instant::now() + Duration::from_secs(30);
    while child.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < end, "watch did not exit after q");
        thread::sleep(Duration::from_millis(50));
    }
    wb.run(&[]).expect(0, &["00  done", "01  done", "2/2 done"]);
}

fn add_book(wb: &Workbook) {
    let r = wb.root();
    write(
        &r.join("book/book.toml"),
        "[book]\ntitle = \"Test book\"\nsrc = \"src\"\n\n[build]\nbuild-dir = \"../target/book\"\ncreate-missing = false\n\n[output.html.search]\nenable = false\n",
    );
    write(
        &r.join("book/src/SUMMARY.md"),
        "# Summary\n\n- [Adding](00-adding.md)\n",
    );
    write(
        &r.join("book/src/00-adding.md"),
        "# Adding\n\nThe first page.\n",
    );
}

#[test]
fn book_renders_and_says_where() {
    let wb = Workbook::new();
    wb.run(&["book"]).expect(1, &["no book to render"]);
    add_book(&wb);
    wb.run(&[])
        .expect(0, &["Book: not built yet: `workbook book` renders it to"]);
    let r = wb.run(&["book"]);
    r.expect(0, &["The book is at", "index.html"]);
    let index = wb.root().join("target/book/index.html");
    assert!(index.is_file(), "{}", r.both());
    assert!(
        fs::read_to_string(wb.root().join("target/book/00-adding.html"))
            .unwrap()
            .contains("The first page.")
    );
    wb.run(&[]).expect(0, &["Book: ", "target/book/index.html"]);
}

fn http_get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn book_serve_serves_on_localhost_and_renders_again_on_change() {
    let wb = Workbook::new();
    add_book(&wb);
    let child = StdCommand::new(BIN)
        .env_remove("CARGO_PKG_NAME")
        .args(["book", "--serve"])
        .env("WORKBOOK_ROOT", wb.root())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = Killed(child);
    let mut lines = Lines::new(&mut child.0);
    let line = lines.wait_for("Serving the book at http://127.0.0.1:", LIMIT);
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap()
        .to_string();
    let page = http_get(&addr, "/00-adding.html");
    assert!(
        page.starts_with("HTTP/1.1 200") || page.starts_with("HTTP/1.0 200"),
        "{page}"
    );
    assert!(
        page.contains("The first page.") && page.contains("/__workbook/version"),
        "{page}"
    );
    assert!(http_get(&addr, "/../Cargo.toml").contains(" 404 "));
    assert!(http_get(&addr, "/__workbook/version").ends_with("\r\n\r\n1"));
    write(
        &wb.root().join("book/src/00-adding.md"),
        "# Adding\n\nThe page, changed.\n",
    );
    lines.wait_for("Rendered again", LIMIT);
    assert!(http_get(&addr, "/00-adding.html").contains("The page, changed."));
    assert!(!http_get(&addr, "/__workbook/version").ends_with("\r\n\r\n1"));
}

#[test]
fn doctor_checks_the_tools_and_says_how_to_install_what_is_missing() {
    let wb = Workbook::new();
    wb.run(&["doctor"]).expect(
        0,
        &[
            "OK",
            "openssl program",
            "OpenSSL headers",
            "python3 with ssl",
            "curl",
        ],
    );
    let out = wb
        .cmd(&["doctor"])
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("missing: install with `apt-get install pkg-config`"),
        "{text}"
    );
    assert!(
        text.contains("missing: install with `apt-get install openssl`"),
        "{text}"
    );
    assert!(
        text.contains("missing: install with `apt-get install curl`"),
        "{text}"
    );
}

#[test]
fn bench_measures_openssl_s_server_and_says_what_is_missing() {
    let wb = Workbook::new();
    let r = wb.run(&["bench", "--seconds", "1"]);
    r.expect(
        0,
        &[
            "openssl s_server",
            "/s",
            "needs chapter 12 (resumption) and chapter 15 (capstone)",
        ],
    );
    let line = r
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("openssl s_server"))
        .unwrap();
    let numbers: Vec<f64> = line
        .split_whitespace()
        .filter_map(|w| w.strip_suffix("/s"))
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(numbers.len(), 2, "{line}");
    assert!(numbers.iter().all(|n| *n > 0.0), "{line}");
    assert!(
        !r.stdout.contains("did a full handshake"),
        "resumed connections must resume:\n{}",
        r.stdout
    );
    wb.run(&["bench", "--seconds", "0"])
        .expect(1, &["at least 1"]);
}

#[test]
fn verify_runs_without_panicking() {
    let wb = Workbook::new();
    let r = wb.run(&["verify"]);
    assert!(matches!(r.code, Some(0) | Some(1)), "{}", r.both());
}

// ---------------------------------------------------------------------------------------
// Robustness: the README's own path, links, broken runs, the state file.

/// The real repository's root, for the tests that need its chapters or its Cargo.lock.
fn real_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

/// `cargo tree`'s packages with their features, one line each.
fn features(args: &[&str]) -> Vec<String> {
    let out = StdCommand::new(env!("CARGO"))
        .current_dir(real_root())
        .args(["tree", "--prefix", "none", "-f", "{p} {f}"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim_end_matches(" (*)").trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    lines.sort();
    lines.dedup();
    lines
}

/// The README says `cargo test`, then `cargo run -p workbook`, and `workbook check N` runs
/// `cargo test -p chNN-...`. When these resolve different features for a crate, each
/// builds its own copy of it and of everything above it: `cargo run -p workbook` after
/// `cargo test` rebuilt regex and the mdBook crates (about 20 s). Every crate of each
/// narrower build must be built exactly as the root `cargo test` builds it.
#[test]
fn features_agree() {
    let root_test = features(&["-e", "normal,build,dev"]);
    let mut narrower = vec![("workbook".to_string(), "normal,build")];
    for e in fs::read_dir(real_root().join("exercises")).unwrap() {
        let toml = e.unwrap().path().join("Cargo.toml");
        let Ok(text) = fs::read_to_string(&toml) else {
            continue;
        };
        let name = text
            .lines()
            .find_map(|l| l.strip_prefix("name = \""))
            .and_then(|l| l.strip_suffix('"'))
            .unwrap()
            .to_string();
        narrower.push((name, "normal,build,dev"));
    }
    for (package, edges) in &narrower {
        let own = format!("{package} v");
        let differ: Vec<String> = features(&["-p", package, "-e", edges])
            .into_iter()
            .filter(|l| !l.starts_with(&own) && !root_test.contains(l))
            .collect();
        assert!(
            differ.is_empty(),
            "`cargo build -p {package}` builds these crates with other features than `cargo \
             test` at the root, so one rebuilds them after the other; name the features in a \
             Cargo.toml:\n{}",
            differ.join("\n")
        );
    }
}

/// The variables `cargo run` sets in the program it starts, as it sets them.
const AS_CARGO_RUN_SETS: &[(&str, &str)] = &[
    ("CARGO_PKG_NAME", "workbook"),
    ("CARGO_PKG_VERSION_MAJOR", "0"),
    ("CARGO_MANIFEST_DIR", "/somewhere/workbook"),
    ("CARGO_MANIFEST_PATH", "/somewhere/workbook/Cargo.toml"),
];

/// Removes what cargo sets for one package, as in the learner's own shell.
fn plain_shell(cmd: &mut Command) -> &mut Command {
    for (k, _) in std::env::vars() {
        if k.starts_with("CARGO_PKG_")
            || k.starts_with("CARGO_MANIFEST_")
            || k.starts_with("CARGO_CRATE_")
            || k.starts_with("CARGO_BIN_")
            || k == "CARGO_PRIMARY_PACKAGE"
            || k == "CARGO_TARGET_TMPDIR"
        {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// `cargo run -p workbook -- check 0` took 12 s after a one-line edit: the child `cargo
/// test` inherited `CARGO_MANIFEST_DIR` and `CARGO_PKG_*`, which ring's build script
/// watches, so ring and everything above it were rebuilt, and rebuilt back by the next
/// plain `cargo test`. Here a chapter's build script watches the same variables and counts
/// its runs.
#[test]
fn a_check_started_by_cargo_run_rebuilds_nothing_a_plain_check_built() {
    let wb = Workbook::new();
    write(
        &wb.root().join("exercises/00-adding/build.rs"),
        "fn main() {\n\
         println!(\"cargo::rerun-if-changed=build.rs\");\n\
         println!(\"cargo::rerun-if-env-changed=CARGO_MANIFEST_DIR\");\n\
         println!(\"cargo::rerun-if-env-changed=CARGO_PKG_NAME\");\n\
         let log = std::path::Path::new(&std::env::var(\"CARGO_MANIFEST_DIR\").unwrap()).join(\"../../build-runs.log\");\n\
         let old = std::fs::read_to_string(&log).unwrap_or_default();\n\
         std::fs::write(&log, old + \"ran\\n\").unwrap();\n}\n",
    );
    let runs = || {
        fs::read_to_string(wb.root().join("build-runs.log"))
            .unwrap_or_default()
            .lines()
            .count()
    };
    let out = plain_shell(&mut wb.cmd(&["check", "0"])).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 of 2 tests pass"));
    assert_eq!(runs(), 1);
    let mut as_cargo_run = wb.cmd(&["check", "0"]);
    plain_shell(&mut as_cargo_run).envs(AS_CARGO_RUN_SETS.iter().copied());
    let out = as_cargo_run.output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 of 2 tests pass"));
    assert_eq!(
        runs(),
        1,
        "the check started the way `cargo run` starts it rebuilt the chapter's build script"
    );
}

/// Reset writes and deletes inside the chapter's folder only: a lib.rs that links to a
/// file elsewhere, and a folder under src/ that links elsewhere, are replaced or removed
/// as links; what they point to is not touched.
#[cfg(unix)]
#[test]
fn reset_never_writes_or_deletes_through_links() {
    use std::os::unix::fs::symlink;
    let real = real_root();
    let dir = tempfile::Builder::new()
        .prefix("workbook-reset-links-")
        .tempdir()
        .unwrap();
    let r = dir.path();
    write(&r.join("Cargo.toml"), "[workspace]\nmembers = []\n");
    fs::create_dir_all(r.join("chapters")).unwrap();
    fs::copy(
        real.join("chapters/00-overview.toml"),
        r.join("chapters/00-overview.toml"),
    )
    .unwrap();
    let shipped = fs::read_to_string(real.join("exercises/00-overview/src/lib.rs")).unwrap();
    let solution = fs::read_to_string(real.join("solutions/00-overview/src/lib.rs")).unwrap();
    write(&r.join("solutions/00-overview/src/lib.rs"), &solution);
    let outside = tempfile::tempdir().unwrap();
    let precious = outside.path().join("precious.rs");
    fs::write(&precious, "// not the workbook's\n").unwrap();
    let folder = outside.path().join("folder");
    write(&folder.join("keep.txt"), "keep me\n");
    let src = r.join("exercises/00-overview/src");
    fs::create_dir_all(&src).unwrap();
    symlink(&precious, src.join("lib.rs")).unwrap();
    symlink(&folder, src.join("x")).unwrap();

    let out = Command::new(BIN)
        .env_remove("CARGO_PKG_NAME")
        .args(["reset", "0", "--yes"])
        .env("WORKBOOK_ROOT", r)
        .env("WORKBOOK_STATE_DIR", r.join("state"))
        .env("NO_COLOR", "1")
        .timeout(LIMIT)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(
        fs::read_to_string(&precious).unwrap(),
        "// not the workbook's\n",
        "reset wrote through the link lib.rs:\n{text}"
    );
    assert!(
        folder.join("keep.txt").exists(),
        "reset deleted inside the linked folder:\n{text}"
    );
    let lib = src.join("lib.rs");
    assert!(!fs::symlink_metadata(&lib).unwrap().file_type().is_symlink());
    assert_eq!(fs::read_to_string(&lib).unwrap(), shipped);
    assert!(
        fs::symlink_metadata(src.join("x")).is_err(),
        "the link x is removed"
    );
    // The backup keeps the links as links.
    let backup = fs::read_dir(r.join("state/backup"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert_eq!(fs::read_link(backup.join("src/lib.rs")).unwrap(), precious);
}

/// A test program killed before it finished is no verdict: nothing is remembered, and
/// `solution` does not refuse because of it.
#[test]
fn a_killed_test_program_is_not_saved_as_a_verdict() {
    let wb = Workbook::new();
    write(
        &wb.root().join("exercises/00-adding/tests/add.rs"),
        "#[test]\nfn dies() {\n    let me = std::process::id().to_string();\n    \
         std::process::Command::new(\"kill\").args([\"-9\", &me]).status().unwrap();\n    \
         std::thread::sleep(std::time::Duration::from_secs(5));\n}\n",
    );
    let r = wb.run(&["check", "0"]);
    r.expect(1, &["no verdict", "SIGKILL", "not remembered"]);
    assert!(!r.stdout.contains("0 of 0"), "{}", r.both());
    let state = fs::read_to_string(wb.state_file()).unwrap_or_default();
    assert!(
        !state.contains("\"grade\": {"),
        "a verdict was saved:\n{state}"
    );
    wb.run(&[]).expect(0, &["00  not checked yet"]);
    let r = wb.run(&["solution", "0"]);
    r.expect(1, &["no verdict"]);
    assert!(!r.both().contains("its last check failed"), "{}", r.both());
}

/// A chapter whose crate cargo cannot load (its lib.rs is gone) stops every chapter's
/// tests. The check of another chapter says which crate is broken and why, with cargo's
/// "Caused by:" lines, instead of "chapter 00 does not compile".
#[test]
fn a_broken_crate_is_named_and_not_blamed_on_the_chapter_checked() {
    let wb = Workbook::new();
    fs::remove_file(wb.root().join("exercises/01-greeting/src/lib.rs")).unwrap();
    let r = wb.run(&["check", "0"]);
    r.expect(
        1,
        &[
            "no verdict",
            "can't find library `ch01_greeting`",
            "The problem is in exercises/01-greeting, not in chapter 00",
        ],
    );
    assert!(!r.stdout.contains("does not compile"), "{}", r.both());
    assert!(
        !wb.state_file().exists()
            || !fs::read_to_string(wb.state_file())
                .unwrap()
                .contains("\"grade\": {")
    );
}

/// An unreadable state file (here a folder in its place: the tests run as root, for whom
/// mode 000 is readable) is an error that names it, and it is left as it was.
#[test]
fn an_unreadable_state_file_is_an_error_and_is_kept() {
    let wb = Workbook::new();
    write(&wb.state_file().join("mine.txt"), "my hints\n");
    wb.run(&["hint", "0"]).expect(
        1,
        &[
            "cannot read the workbook's state file",
            "state.json",
            "nothing was changed",
        ],
    );
    wb.run(&[])
        .expect(1, &["cannot read the workbook's state file"]);
    assert_eq!(
        fs::read_to_string(wb.state_file().join("mine.txt")).unwrap(),
        "my hints\n"
    );
}

#[test]
fn a_huge_hint_count_does_not_panic() {
    let wb = Workbook::new();
    write(
        &wb.state_file(),
        "{\"chapters\": {\"00-adding\": {\"hints_seen\": 18446744073709551615}}}",
    );
    wb.run(&["hint", "0"])
        .expect(0, &["Hint 3 of 3", "no more"]);
    wb.run(&[]).expect(0, &["00  not checked yet"]);
}

/// `check` used to read the state when it started and write it back when cargo was done,
/// so a hint asked in between was forgotten.
#[test]
fn a_hint_asked_during_a_check_is_not_lost() {
    let wb = Workbook::new();
    write(
        &wb.root().join("exercises/00-adding/tests/add.rs"),
        &format!("{TESTS}\n#[test]\nfn slowly() {{ std::thread::sleep(std::time::Duration::from_secs(3)); }}\n"),
    );
    // Build first, so the check below spends its time in the slow test.
    wb.run(&["check", "0"]).expect(1, &["of 3 tests pass"]);
    let child = StdCommand::new(BIN)
        .env_remove("CARGO_PKG_NAME")
        .args(["check", "0"])
        .env("WORKBOOK_ROOT", wb.root())
        .env_remove("WORKBOOK_STATE_DIR")
        .env_remove("CARGO_TARGET_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut check = Killed(child);
    thread::sleep(Duration::from_millis(1200));
    wb.run(&["hint", "1"]).expect(0, &["Hint 1 of 3"]);
    check.0.wait().unwrap();
    wb.run(&["hint", "1"]).expect(0, &["Hint 2 of 3"]);
}

#[test]
fn bench_without_openssl_says_how_to_get_it() {
    let wb = Workbook::new();
    let empty = tempfile::tempdir().unwrap();
    let out = wb
        .cmd(&["bench", "--seconds", "1"])
        .env("PATH", empty.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("`workbook doctor` says how to install openssl"),
        "{text}"
    );
    assert!(!text.contains("{me}"), "{text}");
}
