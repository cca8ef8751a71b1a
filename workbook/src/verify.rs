//! `workbook verify`: the checks that keep the workbook honest. CI runs them after
//! `cargo test`; each prints what it checked and counted, and any failure names the file.
//!
//! 1. Every solution passes every test of its chapter.
//! 2. Every exercise, as shipped, fails every one of its tests with a `todo!()` message.
//! 3. Every catalogued mistake fails at least one test (and still compiles).
//! 4. Exercises and solutions differ only inside the marked regions.
//! 5. The book: every chapter has its page, exercise and solution; every `{{#include}}`
//!    resolves to a non-empty anchor; relative links resolve; the book builds; no rendered
//!    page loads anything from outside the machine.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::grade;
use crate::manifest::{self, Chapter, Mistake};

/// The line that opens a region the learner fills in.
pub const BEGIN: &str = "// BEGIN EXERCISE";
/// The line that closes it.
pub const END: &str = "// END EXERCISE";

/// Collects problems instead of stopping at the first, so one run shows them all.
#[derive(Default)]
struct Findings {
    problems: Vec<String>,
    /// Items that were checked and found right, for the closing count.
    passed: usize,
}

impl Findings {
    fn fail(&mut self, msg: impl Into<String>) {
        let msg = msg.into();
        println!("  FAIL {msg}");
        self.problems.push(msg);
    }
    fn pass(&mut self, n: usize) {
        self.passed += n;
    }
}

/// Which checks to run; all by default.
#[derive(Debug, Clone, Copy)]
pub struct Selection {
    pub solutions: bool,
    pub exercises: bool,
    pub mistakes: bool,
    pub regions: bool,
    pub book: bool,
}

impl Default for Selection {
    fn default() -> Self {
        Selection {
            solutions: true,
            exercises: true,
            mistakes: true,
            regions: true,
            book: true,
        }
    }
}

/// Runs every check (or those of one chapter), prints a report, and says whether all passed.
pub fn run(root: &Path, only: Option<u32>) -> Result<bool> {
    run_selected(root, only, Selection::default())
}

/// Runs the selected checks.
pub fn run_selected(root: &Path, only: Option<u32>, sel: Selection) -> Result<bool> {
    let all = manifest::load(root)?;
    let chapters: Vec<&Chapter> = match only {
        Some(n) => {
            let ch: Vec<_> = all.iter().filter(|c| c.number == n).collect();
            if ch.is_empty() {
                let numbers: Vec<String> = all.iter().map(|c| c.number.to_string()).collect();
                bail!(
                    "there is no chapter {n}; the chapters are {}",
                    numbers.join(", ")
                );
            }
            ch
        }
        None => all.iter().collect(),
    };
    let mut f = Findings::default();

    if sel.regions {
        println!("check 4: exercises and solutions differ only inside the marked regions");
        let mut files = 0;
        for ch in &chapters {
            files += check_regions(root, ch, &mut f)?;
        }
        println!("  {files} source files compared");
    }
    if sel.book {
        println!("check 5: the book, its pages, includes and links");
        check_book(root, &all, &mut f)?;
    }
    if sel.solutions {
        println!("check 1: every solution passes every test of its chapter");
        let mut tests = 0;
        for ch in &chapters {
            tests += check_solution(root, ch, &mut f)?;
        }
        println!("  {tests} tests passed across {} solutions", chapters.len());
    }
    if sel.exercises {
        println!("check 2: every shipped exercise fails every test with its todo!() message");
        let mut tests = 0;
        for ch in &chapters {
            tests += check_exercise(root, ch, &mut f)?;
        }
        println!(
            "  {tests} tests failed as they should, across {} exercises",
            chapters.len()
        );
    }
    if sel.mistakes {
        println!("check 3: every catalogued mistake is rejected by at least one test");
        let (rejected, total) = check_mistakes(root, &chapters, &mut f)?;
        println!("  {rejected} of {total} catalogued mistakes rejected");
    }

    if !f.problems.is_empty() {
        println!("problems:");
        for p in &f.problems {
            println!("  - {p}");
        }
    }
    // The plain closing count CI reads: items checked and found right, and problems.
    println!("verify: {} passed, {} failed", f.passed, f.problems.len());
    Ok(f.problems.is_empty())
}

// ---------- check 1 and 2 ----------

fn check_solution(root: &Path, ch: &Chapter, f: &mut Findings) -> Result<usize> {
    let report = grade::run(root, &ch.solution_package(), None)?;
    if let Some(e) = &report.compile_error {
        f.fail(format!("{}: does not build:\n{e}", ch.solution_package()));
        return Ok(0);
    }
    if report.tests.is_empty() {
        f.fail(format!("{}: has no tests", ch.solution_package()));
    }
    for t in report.failed() {
        f.fail(format!(
            "{}: test {} fails on the solution:\n{}",
            ch.solution_package(),
            t.name,
            t.message
        ));
    }
    f.pass(report.passed());
    println!(
        "  {:<40} {} passed, {} failed",
        ch.solution_package(),
        report.passed(),
        report.failed().count()
    );
    Ok(report.passed())
}

fn check_exercise(root: &Path, ch: &Chapter, f: &mut Findings) -> Result<usize> {
    let report = grade::run(root, &ch.exercise_package(), None)?;
    if let Some(e) = &report.compile_error {
        f.fail(format!(
            "{}: the shipped exercise does not build:\n{e}",
            ch.exercise_package()
        ));
        return Ok(0);
    }
    if report.tests.is_empty() {
        f.fail(format!("{}: has no tests", ch.exercise_package()));
    }
    let tag = format!("not yet implemented: ch{:02}:", ch.number);
    let mut good = 0;
    for t in &report.tests {
        if t.passed {
            f.fail(format!(
                "{}: test {} passes on the unsolved exercise, so it tests nothing the learner writes",
                ch.exercise_package(),
                t.name
            ));
        } else if !t.message.contains(&tag) {
            f.fail(format!(
                "{}: test {} fails, but not with a todo!() message starting {tag:?}; it printed:\n{}",
                ch.exercise_package(),
                t.name,
                t.message
            ));
        } else {
            good += 1;
        }
    }
    f.pass(good);
    println!(
        "  {:<40} {} of {} tests fail with a todo!() message",
        ch.exercise_package(),
        good,
        report.tests.len()
    );
    Ok(good)
}

// ---------- check 3 ----------

fn check_mistakes(root: &Path, chapters: &[&Chapter], f: &mut Findings) -> Result<(usize, usize)> {
    let (mut rejected, mut total) = (0, 0);
    for ch in chapters {
        // One scratch workspace per chapter: runs for different chapters do not collide,
        // and each keeps its incremental build between runs.
        let ws = root
            .join("target/verify")
            .join(format!("workspace-{}", ch.dir_name()));
        let ws = ws.as_path();
        if ch.mistakes.len() < 2 {
            f.fail(format!(
                "chapter {:02} catalogues {} mistake(s); every chapter needs at least two",
                ch.number,
                ch.mistakes.len()
            ));
        }
        if ch.mistakes.is_empty() {
            continue;
        }
        make_scratch_workspace(root, ws, ch)?;
        for m in &ch.mistakes {
            total += 1;
            if judge_mistake(root, ws, ch, m, f)? {
                rejected += 1;
            }
        }
    }
    Ok((rejected, total))
}

/// Applies one mistake to the scratch copy of the solution, runs the tests, restores it.
fn judge_mistake(
    root: &Path,
    ws: &Path,
    ch: &Chapter,
    m: &Mistake,
    f: &mut Findings,
) -> Result<bool> {
    let label = format!("ch{:02} {}", ch.number, m.name);
    let file = ws.join("solutions").join(ch.dir_name()).join(&m.file);
    let original = fs::read_to_string(&file)
        .with_context(|| format!("{label}: cannot read {}", file.display()))?;
    let count = original.matches(&m.find).count();
    if count != 1 {
        f.fail(format!(
            "{label}: its `find` text occurs {count} times in solutions/{}/{} (it must occur once); \
             the mistake no longer matches the solution",
            ch.dir_name(),
            m.file
        ));
        return Ok(false);
    }
    fs::write(&file, original.replacen(&m.find, &m.replace, 1))?;
    // Share the main target folder: the dependencies are built already.
    let report = grade::run(ws, &ch.solution_package(), Some(&root.join("target")));
    fs::write(&file, &original)?;
    let report = report?;
    if let Some(e) = &report.compile_error {
        f.fail(format!(
            "{label}: does not compile, so no test judges it; a catalogued mistake must be code \
             a learner could run:\n{e}"
        ));
        return Ok(false);
    }
    let failed: Vec<_> = report.failed().collect();
    if failed.is_empty() {
        f.fail(format!(
            "{label}: every test passes with this mistake in place ({}); the chapter's tests \
             cannot tell it from a correct solution",
            m.why
        ));
        return Ok(false);
    }
    let names: Vec<&str> = failed.iter().map(|t| t.name.as_str()).collect();
    println!("  {label:<40} rejected by {}", names.join(", "));
    f.pass(1);
    Ok(true)
}

/// A small workspace under target/ holding certs, testkit and one chapter, where mistakes
/// can be applied without touching the real solution.
fn make_scratch_workspace(root: &Path, ws: &Path, ch: &Chapter) -> Result<()> {
    for dir in ["exercises", "solutions"] {
        let d = ws.join(dir);
        if d.exists() {
            fs::remove_dir_all(&d)?;
        }
    }
    fs::create_dir_all(ws)?;
    for shared in ["certs", "testkit"] {
        sync_dir(&root.join(shared), &ws.join(shared))?;
    }
    sync_dir(
        &ch.exercise_dir(root),
        &ws.join("exercises").join(ch.dir_name()),
    )?;
    sync_dir(
        &ch.solution_dir(root),
        &ws.join("solutions").join(ch.dir_name()),
    )?;
    fs::copy(root.join("Cargo.lock"), ws.join("Cargo.lock"))?;

    let text = fs::read_to_string(root.join("Cargo.toml"))?;
    let mut doc: toml::Table =
        toml::from_str(&text).context("the root Cargo.toml does not parse")?;
    let members = vec![
        "certs".to_string(),
        "testkit".into(),
        format!("exercises/{}", ch.dir_name()),
        format!("solutions/{}", ch.dir_name()),
    ];
    let workspace = doc
        .get_mut("workspace")
        .and_then(|w| w.as_table_mut())
        .context("the root Cargo.toml has no [workspace]")?;
    workspace.insert("members".into(), toml::Value::from(members));
    workspace.remove("default-members");
    fs::write(ws.join("Cargo.toml"), toml::to_string(&doc)?)?;
    Ok(())
}

/// Copies `from` into `to`, leaving out build output; writes only files that differ, so
/// cargo's fingerprints stay valid between runs.
fn sync_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        if name == "target" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type()?.is_dir() {
            sync_dir(&src, &dst)?;
        } else {
            let bytes = fs::read(&src)?;
            if fs::read(&dst).ok().as_deref() != Some(&bytes[..]) {
                fs::write(&dst, bytes)?;
            }
        }
    }
    Ok(())
}

// ---------- check 4 ----------

/// The file with every region's contents and every ANCHOR line removed: what must be the
/// same in exercise and solution. Returns the text and the number of regions.
pub fn outside_regions(text: &str) -> Result<(Vec<String>, usize), String> {
    let mut out = Vec::new();
    let mut inside = false;
    let mut regions = 0;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t == BEGIN {
            if inside {
                return Err(format!("line {}: a region opens inside another", i + 1));
            }
            inside = true;
            regions += 1;
            out.push(line.to_string());
        } else if t == END {
            if !inside {
                return Err(format!(
                    "line {}: a region closes that was never opened",
                    i + 1
                ));
            }
            inside = false;
            out.push(line.to_string());
        } else if !inside {
            if t.starts_with("// ANCHOR:") || t.starts_with("// ANCHOR_END:") {
                return Err(format!(
                    "line {}: an ANCHOR line outside a region (anchors belong inside the solution's regions)",
                    i + 1
                ));
            }
            out.push(line.to_string());
        }
    }
    if inside {
        return Err("a region is never closed".into());
    }
    Ok((out, regions))
}

fn rust_files(dir: &Path) -> Result<BTreeSet<PathBuf>> {
    let mut files = BTreeSet::new();
    if !dir.exists() {
        return Ok(files);
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d)? {
            let p = entry?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") {
                files.insert(p.strip_prefix(dir).unwrap_or(&p).to_path_buf());
            }
        }
    }
    Ok(files)
}

fn check_regions(root: &Path, ch: &Chapter, f: &mut Findings) -> Result<usize> {
    let (ex, sol) = (ch.exercise_dir(root), ch.solution_dir(root));
    for (what, dir) in [("exercise", &ex), ("solution", &sol)] {
        if !dir.join("Cargo.toml").is_file() {
            f.fail(format!(
                "chapter {:02} has no {what} crate at {}",
                ch.number,
                dir.display()
            ));
            return Ok(0);
        }
    }
    check_test_wiring(root, ch, f)?;
    let ex_files = rust_files(&ex.join("src"))?;
    let sol_files = rust_files(&sol.join("src"))?;
    for missing in ex_files.symmetric_difference(&sol_files) {
        f.fail(format!(
            "chapter {:02}: src/{} exists in only one of exercise and solution",
            ch.number,
            missing.display()
        ));
    }
    let mut regions_total = 0;
    for rel in ex_files.intersection(&sol_files) {
        let e_text = fs::read_to_string(ex.join("src").join(rel))?;
        let s_text = fs::read_to_string(sol.join("src").join(rel))?;
        let shown = format!("{}/src/{}", ch.dir_name(), rel.display());
        let (e, s) = match (outside_regions(&e_text), outside_regions(&s_text)) {
            (Ok(e), Ok(s)) => (e, s),
            (Err(err), _) => {
                f.fail(format!("exercises/{shown}: {err}"));
                continue;
            }
            (_, Err(err)) => {
                f.fail(format!("solutions/{shown}: {err}"));
                continue;
            }
        };
        if e.1 != s.1 {
            f.fail(format!(
                "{shown}: the exercise has {} regions, the solution {}",
                e.1, s.1
            ));
        } else if let Some(i) = (0..e.0.len().max(s.0.len())).find(|&i| e.0.get(i) != s.0.get(i)) {
            f.fail(format!(
                "{shown}: exercise and solution differ outside the marked regions, first at \
                 line {} of the text outside regions:\n    exercise: {:?}\n    solution: {:?}",
                i + 1,
                e.0.get(i).map(String::as_str).unwrap_or("(end of file)"),
                s.0.get(i).map(String::as_str).unwrap_or("(end of file)")
            ));
        }
        regions_total += e.1;
        f.pass(1);
        // Every region the learner sees must say what to write.
        for body in region_bodies(&e_text) {
            let wanted = format!("ch{:02}:", ch.number);
            if !body.contains("todo!(") || !body.contains(&wanted) {
                f.fail(format!(
                    "exercises/{shown}: a region has no todo!() whose message starts {wanted:?}:\n{body}"
                ));
            }
        }
    }
    if regions_total == 0 {
        f.fail(format!(
            "chapter {:02}: the exercise has no region for the learner to fill in",
            ch.number
        ));
    }
    Ok(ex_files.len())
}

fn region_bodies(text: &str) -> Vec<String> {
    let mut bodies = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in text.lines() {
        match line.trim() {
            BEGIN => current = Some(Vec::new()),
            END => {
                if let Some(b) = current.take() {
                    bodies.push(b.join("\n"));
                }
            }
            _ => {
                if let Some(b) = current.as_mut() {
                    b.push(line);
                }
            }
        }
    }
    bodies
}

/// The solution must run every test file of the exercise, under the same library name:
/// a test file the solution forgets would never be checked against a correct answer.
fn check_test_wiring(root: &Path, ch: &Chapter, f: &mut Findings) -> Result<()> {
    let ex_tests: BTreeSet<String> = match fs::read_dir(ch.exercise_dir(root).join("tests")) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".rs"))
            .collect(),
        Err(_) => BTreeSet::new(),
    };
    if ex_tests.is_empty() {
        f.fail(format!(
            "exercises/{}/tests/ has no test files",
            ch.dir_name()
        ));
    }
    let text = fs::read_to_string(ch.solution_dir(root).join("Cargo.toml"))?;
    let doc: toml::Table = toml::from_str(&text)?;
    let wired: BTreeSet<String> = doc
        .get("test")
        .and_then(|t| t.as_array())
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("path").and_then(|p| p.as_str()))
        .filter_map(|p| {
            let expected = format!("../../exercises/{}/tests/", ch.dir_name());
            p.strip_prefix(&expected).map(str::to_string)
        })
        .collect();
    for missing in ex_tests.difference(&wired) {
        f.fail(format!(
            "solutions/{}/Cargo.toml does not run exercises/{}/tests/{missing} (add a [[test]] \
             with path = \"../../exercises/{}/tests/{missing}\")",
            ch.dir_name(),
            ch.dir_name(),
            ch.dir_name()
        ));
    }
    let lib_name = format!("ch{:02}_{}", ch.number, ch.slug.replace('-', "_"));
    for (what, dir) in [
        ("exercise", ch.exercise_dir(root)),
        ("solution", ch.solution_dir(root)),
    ] {
        let text = fs::read_to_string(dir.join("Cargo.toml"))?;
        let doc: toml::Table = toml::from_str(&text)?;
        let name = doc
            .get("lib")
            .and_then(|l| l.get("name"))
            .and_then(|n| n.as_str())
            .unwrap_or("");
        if name != lib_name {
            f.fail(format!(
                "chapter {:02}: the {what}'s [lib] name is {name:?}, expected {lib_name:?}",
                ch.number
            ));
        }
    }
    Ok(())
}

// ---------- check 5 ----------

fn check_book(root: &Path, chapters: &[Chapter], f: &mut Findings) -> Result<()> {
    let src = root.join("book/src");
    let summary =
        fs::read_to_string(src.join("SUMMARY.md")).context("book/src/SUMMARY.md is missing")?;
    for ch in chapters {
        let page = root.join(ch.page());
        let file = format!("{}.md", ch.dir_name());
        if !page.is_file() {
            f.fail(format!(
                "chapter {:02} has no page {}",
                ch.number,
                ch.page().display()
            ));
        } else if fs::read_to_string(&page)?.trim().len() < 200 {
            f.fail(format!("{} is nearly empty", ch.page().display()));
        }
        let link = format!("]({file})");
        match summary.lines().find(|l| l.contains(&link)) {
            None => f.fail(format!("book/src/SUMMARY.md does not list {file}")),
            Some(line) if !line.contains(&ch.title) => f.fail(format!(
                "book/src/SUMMARY.md lists {file} as {:?}, but chapters/{}.toml calls it {:?}",
                line.trim(),
                ch.dir_name(),
                ch.title
            )),
            Some(_) => f.pass(1),
        }
    }
    let mut includes = 0;
    let mut pages = 0;
    for entry in fs::read_dir(&src)? {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        pages += 1;
        let text = fs::read_to_string(&path)?;
        let shown = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        includes += check_includes(&path, &text, &shown, f);
        check_links(&path, &text, &shown, f);
    }
    f.pass(includes);
    println!("  {pages} pages, {includes} includes resolved to non-empty code");

    let out = root.join("target/verify/book");
    match build_book(&root.join("book"), &out) {
        Ok(()) => {
            let (html, external) = scan_rendered(&out)?;
            for e in &external {
                f.fail(format!(
                    "a rendered page loads something from outside the machine: {e}"
                ));
            }
            println!(
                "  the book builds: {html} HTML pages, {} outside requests",
                external.len()
            );
            check_in_browser(&out, chapters, f)?;
        }
        Err(e) => f.fail(format!("the book does not build: {e:#}")),
    }
    Ok(())
}

/// A Chromium binary, if one is installed.
fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|d| d.join(name))
                    .find(|p| p.is_file())
            })
        })
}

/// Loads every chapter's rendered page in headless Chromium with a network log, and
/// checks that it renders its title and that no request leaves the machine. Without
/// Chromium this is skipped, unless WORKBOOK_REQUIRE_BROWSER is set (CI sets it).
fn check_in_browser(out: &Path, chapters: &[Chapter], f: &mut Findings) -> Result<()> {
    let Some(browser) = chromium() else {
        if std::env::var_os("WORKBOOK_REQUIRE_BROWSER").is_some() {
            f.fail("headless Chromium is required (WORKBOOK_REQUIRE_BROWSER) but not installed: apt-get install chromium");
        } else {
            println!("  SKIP the browser check: no chromium installed (apt-get install chromium)");
        }
        return Ok(());
    };
    let scratch = tempfile::tempdir()?;
    let mut loaded = 0;
    for ch in chapters {
        let page = out.join(format!("{}.html", ch.dir_name()));
        let log = scratch
            .path()
            .join(format!("{}.netlog.json", ch.dir_name()));
        let profile = scratch.path().join(format!("profile-{}", ch.number));
        let output = std::process::Command::new(&browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--virtual-time-budget=3000",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(format!("--log-net-log={}", log.display()))
            .arg("--dump-dom")
            .arg(format!("file://{}", page.display()))
            .output()
            .with_context(|| format!("cannot run {}", browser.display()))?;
        let dom = String::from_utf8_lossy(&output.stdout);
        let title_shown = ch.title.split(':').next().unwrap_or(&ch.title).trim();
        if !output.status.success() || !dom.contains("<main>") || !dom.contains(title_shown) {
            f.fail(format!(
                "{}.html did not render in Chromium (exit {:?}, title {title_shown:?} {} in the DOM)",
                ch.dir_name(),
                output.status.code(),
                if dom.contains(title_shown) { "present" } else { "missing" }
            ));
            continue;
        }
        let netlog = fs::read_to_string(&log).unwrap_or_default();
        let outside = page_requests_leaving(&netlog);
        for u in &outside {
            f.fail(format!(
                "{}.html made a request that leaves the machine: {u}",
                ch.dir_name()
            ));
        }
        if outside.is_empty() {
            loaded += 1;
            f.pass(1);
        }
    }
    println!("  {loaded} chapter pages rendered in headless Chromium with no outside request");
    Ok(())
}

/// The URLs of a Chromium network log that the page itself asked for and that point off
/// this machine. Chromium's own background requests (update checks, account look-ups) carry
/// the initiator "not an origin" and are not the page's doing.
fn page_requests_leaving(netlog: &str) -> BTreeSet<String> {
    let Ok(log) = serde_json::from_str::<serde_json::Value>(netlog) else {
        return BTreeSet::new();
    };
    let Some(start_job) = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].as_u64()
    else {
        return BTreeSet::new();
    };
    log["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["type"].as_u64() == Some(start_job))
        .filter(|e| e["params"]["initiator"].as_str() != Some("not an origin"))
        .filter_map(|e| e["params"]["url"].as_str())
        .filter(|u| {
            ["http:", "https:", "ws:", "wss:"]
                .iter()
                .any(|s| u.starts_with(s))
                && !u.contains("://127.0.0.1")
                && !u.contains("://localhost")
        })
        .map(str::to_string)
        .collect()
}

/// Renders the book at `book` into `out` with the mdBook library.
pub fn build_book(book: &Path, out: &Path) -> Result<()> {
    let mut md = mdbook_driver::MDBook::load(book).map_err(|e| anyhow::anyhow!("{e:#}"))?;
    md.config.build.build_dir = out.to_path_buf();
    md.build().map_err(|e| anyhow::anyhow!("{e:#}"))?;
    Ok(())
}

/// Checks every `{{#include path[:anchor]}}` of a page; returns how many resolved.
fn check_includes(page: &Path, text: &str, shown: &str, f: &mut Findings) -> usize {
    let mut ok = 0;
    let dir = page.parent().unwrap_or(Path::new("."));
    let mut rest = text;
    while let Some(start) = rest.find("{{#") {
        let after = &rest[start + 3..];
        let Some(end) = after.find("}}") else { break };
        let directive = after[..end].trim();
        rest = &after[end..];
        let Some(arg) = directive
            .strip_prefix("include ")
            .or_else(|| directive.strip_prefix("rustdoc_include "))
        else {
            continue;
        };
        let arg = arg.trim();
        let (file, selector) = match arg.split_once(':') {
            Some((p, s)) => (p, Some(s)),
            None => (arg, None),
        };
        let target = dir.join(file);
        let Ok(code) = fs::read_to_string(&target) else {
            f.fail(format!(
                "{shown}: {{{{#{directive}}}}} names a file that does not exist: {file}"
            ));
            continue;
        };
        let body = match selector {
            None => Some(code.clone()),
            Some(sel) if sel.chars().next().is_some_and(|c| c.is_ascii_digit()) => {
                let mut parts = sel.split(':').map(|n| n.parse::<usize>().ok());
                let from = parts.next().flatten().unwrap_or(1);
                let to = parts.next().flatten().unwrap_or(usize::MAX);
                Some(
                    code.lines()
                        .skip(from.saturating_sub(1))
                        .take(to.saturating_sub(from) + 1)
                        .collect::<Vec<_>>()
                        .join("\n"),
                )
            }
            Some(anchor) => anchor_body(&code, anchor),
        };
        match body {
            Some(b) if !b.trim().is_empty() => ok += 1,
            Some(_) => f.fail(format!("{shown}: {{{{#{directive}}}}} includes nothing (an empty anchor or range)")),
            None => f.fail(format!(
                "{shown}: {{{{#{directive}}}}}: {file} has no anchor {:?} (mdBook would silently include nothing)",
                selector.unwrap_or("")
            )),
        }
    }
    ok
}

/// The lines between `ANCHOR: name` and `ANCHOR_END: name`, without other anchor lines.
pub fn anchor_body(code: &str, name: &str) -> Option<String> {
    let mut inside = false;
    let mut found = false;
    let mut body = Vec::new();
    for line in code.lines() {
        let t = line.trim();
        let marker = |kind: &str| {
            t.strip_prefix("// ")
                .and_then(|r| r.strip_prefix(kind))
                .map(|r| r.trim() == name)
                .unwrap_or(false)
        };
        if marker("ANCHOR:") {
            inside = true;
            found = true;
        } else if marker("ANCHOR_END:") {
            inside = false;
        } else if inside && !t.starts_with("// ANCHOR") {
            body.push(line);
        }
    }
    found.then(|| body.join("\n"))
}

/// Relative Markdown links must point at files that exist.
fn check_links(page: &Path, text: &str, shown: &str, f: &mut Findings) {
    let dir = page.parent().unwrap_or(Path::new("."));
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let mut rest = line;
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            let Some(end) = after.find(')') else { break };
            let target = after[..end].split_whitespace().next().unwrap_or("");
            rest = &after[end..];
            if target.is_empty()
                || target.starts_with('#')
                || target.contains("://")
                || target.starts_with("mailto:")
            {
                continue;
            }
            let file = target.split('#').next().unwrap_or(target);
            if !dir.join(file).exists() {
                f.fail(format!(
                    "{shown}: the link ({target}) points at a file that does not exist"
                ));
            }
        }
    }
}

/// Counts the rendered pages and lists every script, stylesheet, image or frame that
/// would be fetched from another machine.
fn scan_rendered(out: &Path) -> Result<(usize, Vec<String>)> {
    let mut html = 0;
    let mut external = Vec::new();
    let mut stack = vec![out.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d)? {
            let p = entry?.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|e| e != "html") {
                continue;
            }
            html += 1;
            let text = fs::read_to_string(&p)?;
            for tag in text.split('<').skip(1) {
                let name: String = tag
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect();
                let attr = match name.as_str() {
                    "script" | "img" | "iframe" | "source" | "audio" | "video" => "src=\"",
                    "link" if !tag.contains("rel=\"canonical\"") => "href=\"",
                    _ => continue,
                };
                let head = tag.split('>').next().unwrap_or("");
                if let Some(i) = head.find(attr) {
                    let url = head[i + attr.len()..].split('"').next().unwrap_or("");
                    if url.starts_with("http:")
                        || url.starts_with("https:")
                        || url.starts_with("//")
                    {
                        let rel = p.strip_prefix(out).unwrap_or(&p).display().to_string();
                        external.push(format!("{rel}: <{name}> {url}"));
                    }
                }
            }
        }
    }
    Ok((html, external))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_cut_and_anchor_lines_ignored() {
        let sol = "a\n    // BEGIN EXERCISE\n    // ANCHOR: x\n    let y = 1;\n    // ANCHOR_END: x\n    // END EXERCISE\nb\n";
        let ex = "a\n    // BEGIN EXERCISE\n    let y: u8 = todo!(\"ch00: y\");\n    // END EXERCISE\nb\n";
        assert_eq!(outside_regions(sol).unwrap(), outside_regions(ex).unwrap());
        assert_eq!(outside_regions(ex).unwrap().1, 1);
        assert!(outside_regions("// BEGIN EXERCISE\n").is_err());
        assert!(outside_regions("// END EXERCISE\n").is_err());
    }

    #[test]
    fn anchors_are_found_and_emptiness_is_seen() {
        let code = "// ANCHOR: a\nlet x = 1;\n// ANCHOR: b\n// ANCHOR_END: b\n// ANCHOR_END: a\n";
        assert_eq!(anchor_body(code, "a").unwrap().trim(), "let x = 1;");
        assert_eq!(anchor_body(code, "b").unwrap(), "");
        assert!(anchor_body(code, "c").is_none());
    }

    #[test]
    fn a_missing_anchor_or_file_is_a_problem_and_a_good_one_is_counted() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("code.rs"),
            "// ANCHOR: good\nfn x() {}\n// ANCHOR_END: good\n// ANCHOR: empty\n// ANCHOR_END: empty\n",
        )
        .unwrap();
        let page = dir.path().join("page.md");
        let text = "{{#include code.rs:good}}\n{{#include code.rs:nope}}\n{{#include code.rs:empty}}\n{{#include gone.rs:good}}\n";
        let mut f = Findings::default();
        assert_eq!(check_includes(&page, text, "page.md", &mut f), 1);
        assert_eq!(f.problems.len(), 3, "{:?}", f.problems);
        assert!(f.problems[0].contains("no anchor \"nope\""));
        assert!(f.problems[1].contains("includes nothing"));
        assert!(f.problems[2].contains("does not exist"));
    }

    #[test]
    fn broken_relative_links_are_found_outside_code_blocks() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("there.md"), "x").unwrap();
        let page = dir.path().join("page.md");
        let text = "[ok](there.md#part) [web](https://docs.rs) [bad](missing.md)\n```text\n[not a link](nowhere.md)\n```\n";
        let mut f = Findings::default();
        check_links(&page, text, "page.md", &mut f);
        assert_eq!(f.problems.len(), 1, "{:?}", f.problems);
        assert!(f.problems[0].contains("missing.md"));
    }

    #[test]
    fn only_the_pages_own_outside_requests_count() {
        let netlog = r#"{"constants":{"logEventTypes":{"URL_REQUEST_START_JOB":7}},"events":[
            {"type":7,"params":{"url":"https://update.googleapis.com/x","initiator":"not an origin"}},
            {"type":7,"params":{"url":"https://cdn.example.org/a.js","initiator":"null"}},
            {"type":7,"params":{"url":"file:///book/index.html","initiator":"null"}},
            {"type":7,"params":{"url":"http://127.0.0.1:3000/x","initiator":"null"}},
            {"type":3,"params":{"url":"https://elsewhere.example/","initiator":"null"}}]}"#;
        let found = page_requests_leaving(netlog);
        assert_eq!(
            found.into_iter().collect::<Vec<_>>(),
            ["https://cdn.example.org/a.js"]
        );
    }
}
