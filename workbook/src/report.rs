//! `workbook check --report junit|gradescope [N...]`: one learner's verdicts, in the files
//! the tools a school already uses read. Per chapter: every test passed or failed, each
//! failing one with its first sentence (the teaching sentence of its message) and the whole
//! message, the hints the learner has seen, and the content hash of the graded files.
//!
//! - JUnit XML (`testsuites` > `testsuite` per chapter > `properties` and `testcase`s with
//!   `failure`/`error`), as GitLab, Jenkins and LMS plug-ins import it; the shape is written
//!   down in `workbook/schema/junit.xsd`, which a test validates every report against.
//! - Gradescope's `results.json`: `score`, and one entry of `tests[]` per chapter with
//!   `name`, `score`, `max_score`, `status`, `output`, `visibility`; the whole verdict of the
//!   chapter rides along in the entry's `extra_data`, so `workbook class` can read it back.
//!
//! [`read`] reads either kind back into [`ChapterResult`]s.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::grade::Report;
use crate::learner;
use crate::manifest::Chapter;
use crate::state::{self, State};
use crate::ui;

/// The report formats `--report` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// JUnit XML (GitLab, Jenkins, most LMS plug-ins).
    Junit,
    /// Gradescope's results.json.
    Gradescope,
}

/// How a chapter's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Built, and every test passed.
    Passed,
    /// Built, and at least one test failed (or none ran).
    Failing,
    /// The learner's crate did not build: no test ran.
    DoesNotCompile,
    /// The run said nothing about the code (a killed test program, a missing peer program).
    NoVerdict,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failing => "failing",
            Verdict::DoesNotCompile => "does-not-compile",
            Verdict::NoVerdict => "no-verdict",
        }
    }
    fn parse(s: &str) -> Option<Verdict> {
        [
            Verdict::Passed,
            Verdict::Failing,
            Verdict::DoesNotCompile,
            Verdict::NoVerdict,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// One test of a chapter, as a report gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    /// The test's name as libtest prints it (`tests::name` for a test in a module).
    pub name: String,
    pub passed: bool,
    /// For a failed test: the first sentence of its message, the one that teaches.
    #[serde(default)]
    pub sentence: String,
    /// For a failed test: its whole message, without colours.
    #[serde(default)]
    pub message: String,
}

impl TestResult {
    /// The test function's own name (the last segment of a module path).
    pub fn function(&self) -> &str {
        self.name.rsplit("::").next().unwrap_or(&self.name)
    }
}

/// One chapter's verdict for one learner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChapterResult {
    pub number: u32,
    pub slug: String,
    pub title: String,
    /// The learner's cargo package, `chNN-slug`.
    pub package: String,
    /// Content hash of the exercise's files and the test kit, as `workbook` caches it.
    pub hash: String,
    /// Content hash of the exercise's files alone.
    pub exercise_hash: String,
    /// How many hint tiers the learner had seen when the report was made.
    pub hints_used: usize,
    pub hints_total: usize,
    pub verdict: Verdict,
    pub tests: Vec<TestResult>,
    /// Why no test verdict exists: the compiler's first error, or why the run stopped.
    #[serde(default)]
    pub problem: Option<String>,
    /// How long cargo test took.
    #[serde(default)]
    pub seconds: f64,
}

impl ChapterResult {
    /// A chapter's result from a grading run.
    pub fn new(
        ch: &Chapter,
        r: &Report,
        hints_used: usize,
        hash: String,
        exercise_hash: String,
    ) -> Self {
        let verdict = if r.aborted.is_some() {
            Verdict::NoVerdict
        } else if !r.compiled {
            Verdict::DoesNotCompile
        } else if r.all_passed() {
            Verdict::Passed
        } else {
            Verdict::Failing
        };
        let problem = match verdict {
            Verdict::NoVerdict => r.aborted.clone(),
            Verdict::DoesNotCompile => Some(
                r.compile_error
                    .clone()
                    .unwrap_or_else(|| "the build failed (cargo did not say why)".into()),
            ),
            Verdict::Failing if r.tests.is_empty() => {
                Some("cargo ran no tests for this chapter".into())
            }
            _ => None,
        };
        let mut tests: Vec<TestResult> = r
            .tests
            .iter()
            .map(|t| {
                let (sentence, message) = if t.passed {
                    (String::new(), String::new())
                } else {
                    let plain = learner::teaching_message_plain(&t.message);
                    (first_sentence(&plain), plain)
                };
                TestResult {
                    name: t.name.clone(),
                    passed: t.passed,
                    sentence,
                    message,
                }
            })
            .collect();
        // libtest reports in the order tests finish; sorted, the report is the same each run.
        tests.sort_by(|a, b| a.name.cmp(&b.name));
        ChapterResult {
            number: ch.number,
            slug: ch.slug.clone(),
            title: ch.title.clone(),
            package: ch.exercise_package(),
            hash,
            exercise_hash,
            hints_used,
            hints_total: ch.hints.len(),
            verdict,
            tests,
            problem,
            seconds: r.elapsed.as_secs_f64(),
        }
    }

    /// `NN-slug`.
    pub fn dir_name(&self) -> String {
        format!("{:02}-{}", self.number, self.slug)
    }

    pub fn passed(&self) -> usize {
        self.tests.iter().filter(|t| t.passed).count()
    }

    /// `points` scaled by the share of tests that pass; nothing when it did not build or
    /// gave no verdict. Rounded to hundredths.
    pub fn score(&self, points: f64) -> f64 {
        if self.tests.is_empty()
            || matches!(self.verdict, Verdict::DoesNotCompile | Verdict::NoVerdict)
        {
            return 0.0;
        }
        let s = points * self.passed() as f64 / self.tests.len() as f64;
        (s * 100.0).round() / 100.0
    }

    /// The account a learner reads in a grader's page: the verdict, each failing test with
    /// its message, the passing tests, the hints seen and the hash.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = match self.verdict {
            Verdict::Passed => writeln!(
                out,
                "Chapter {:02} ({}) passes: {} of {} tests.",
                self.number,
                self.title,
                self.passed(),
                self.tests.len()
            ),
            Verdict::Failing => writeln!(
                out,
                "Chapter {:02} ({}): {} of {} tests pass.",
                self.number,
                self.title,
                self.passed(),
                self.tests.len()
            ),
            Verdict::DoesNotCompile => writeln!(
                out,
                "Chapter {:02} ({}) does not compile; no test ran.",
                self.number, self.title
            ),
            Verdict::NoVerdict => writeln!(
                out,
                "Chapter {:02} ({}): no verdict, the tests did not run to the end.",
                self.number, self.title
            ),
        };
        if let Some(p) = &self.problem {
            let _ = writeln!(out, "\n{}", p.trim_end());
        }
        for t in self.tests.iter().filter(|t| !t.passed) {
            let _ = writeln!(out, "\nFAILED {}\n{}", t.name, t.message);
        }
        let passing: Vec<&str> = self
            .tests
            .iter()
            .filter(|t| t.passed)
            .map(|t| t.name.as_str())
            .collect();
        if !passing.is_empty() {
            let _ = writeln!(out, "\npassing: {}", passing.join(", "));
        }
        let _ = writeln!(
            out,
            "\nhints seen: {} of {}\ncontent hash of the graded files: {}",
            self.hints_used, self.hints_total, self.hash
        );
        out
    }
}

/// The first sentence of a plain failure message: its first line, up to the first full stop
/// (or `!`, `?`) that a capital letter follows; without the `assertion ... failed:` prefix of
/// `assert_eq!` when a message of the test's own follows it.
pub fn first_sentence(message: &str) -> String {
    let line = message
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let mut line = line;
    for prefix in [
        "assertion `left == right` failed: ",
        "assertion `left != right` failed: ",
        "assertion failed: ",
    ] {
        if let Some(rest) = line.strip_prefix(prefix) {
            if !rest.trim().is_empty() {
                line = rest;
            }
        }
    }
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    for (i, &(at, c)) in chars.iter().enumerate() {
        if matches!(c, '.' | '!' | '?') {
            let next = chars.get(i + 1).map(|p| p.1);
            let after = chars.get(i + 2).map(|p| p.1);
            if next.is_some_and(char::is_whitespace) && after.is_some_and(char::is_uppercase) {
                return line[..at + c.len_utf8()].to_string();
            }
        }
    }
    line.to_string()
}

/// `workbook check --report FORMAT [N...]`: grades each chapter named (every chapter when
/// none), then writes the report to `output` (or stdout). True when every chapter passes.
pub fn check(
    root: &Path,
    chapters: &[Chapter],
    ns: &[u32],
    format: Format,
    output: Option<&Path>,
    points: f64,
) -> Result<bool> {
    if !(points.is_finite() && points > 0.0) {
        bail!(ui::BadInput(format!(
            "--points must be a positive number, not {points}"
        )));
    }
    let selected = ui::selection(chapters, ns)?;
    let bar = ui::bar(selected.len() as u64);
    let mut results = Vec::new();
    for ch in &selected {
        bar.set_message(format!(
            "chapter {:02}: cargo test -p {}",
            ch.number,
            ch.exercise_package()
        ));
        let graded = learner::grade(root, ch)?;
        bar.inc(1);
        let line = learner::verdict_line(ch, &graded.report);
        // With the report on stdout, the progress goes to stderr.
        bar.suspend(|| {
            if output.is_some() {
                println!("{line}")
            } else {
                eprintln!("{line}")
            }
        });
        let hints_used = State::load(root)?
            .chapter(ch)
            .hints_seen
            .min(ch.hints.len());
        results.push(ChapterResult::new(
            ch,
            &graded.report,
            hints_used,
            state::hash(root, ch)?,
            state::exercise_hash(root, ch)?,
        ));
    }
    bar.finish_and_clear();
    let text = match format {
        Format::Junit => junit(&results)?,
        Format::Gradescope => gradescope(&results, points)?,
    };
    match output {
        Some(path) => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create the folder {}", parent.display()))?;
            }
            std::fs::write(path, text)
                .with_context(|| format!("cannot write the report {}", path.display()))?;
            println!("Report written to {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(results.iter().all(|r| r.verdict == Verdict::Passed))
}

// --- JUnit XML ---------------------------------------------------------------------------

#[derive(Debug, Serialize, Deserialize)]
struct XSuites {
    #[serde(rename = "@name", default)]
    name: String,
    #[serde(rename = "@tests", default)]
    tests: usize,
    #[serde(rename = "@failures", default)]
    failures: usize,
    #[serde(rename = "@errors", default)]
    errors: usize,
    #[serde(rename = "@time", default)]
    time: String,
    #[serde(rename = "testsuite", default)]
    suites: Vec<XSuite>,
}

#[derive(Debug, Serialize, Deserialize)]
struct XSuite {
    #[serde(rename = "@name")]
    name: String,
    #[serde(rename = "@package", default)]
    package: String,
    #[serde(rename = "@tests")]
    tests: usize,
    #[serde(rename = "@failures")]
    failures: usize,
    #[serde(rename = "@errors")]
    errors: usize,
    #[serde(rename = "@skipped", default)]
    skipped: usize,
    #[serde(rename = "@time", default)]
    time: String,
    #[serde(default)]
    properties: XProperties,
    #[serde(rename = "testcase", default)]
    cases: Vec<XCase>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct XProperties {
    #[serde(rename = "property", default)]
    list: Vec<XProperty>,
}

#[derive(Debug, Serialize, Deserialize)]
struct XProperty {
    #[serde(rename = "@name")]
    name: String,
    #[serde(rename = "@value")]
    value: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct XCase {
    #[serde(rename = "@name")]
    name: String,
    #[serde(rename = "@classname", default)]
    classname: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    failure: Option<XFailure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<XFailure>,
}

#[derive(Debug, Serialize, Deserialize)]
struct XFailure {
    #[serde(rename = "@type", default)]
    kind: String,
    #[serde(rename = "@message", default)]
    message: String,
    #[serde(rename = "$text", default)]
    text: String,
}

/// The name of the one test case that stands for a chapter that gave no test verdict.
const BUILD_CASE: &str = "the crate builds and its tests run to the end";

/// XML 1.0 allows no control character but tab, newline and carriage return, not even as
/// an entity: a test's output (an ANSI colour, a stray byte) must not make the file invalid.
fn xml_safe(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{fffe}' || c == '\u{ffff}' => {
                '\u{fffd}'
            }
            c => c,
        })
        .collect()
}

/// The JUnit XML report of `results`: one `testsuite` per chapter.
pub fn junit(results: &[ChapterResult]) -> Result<String> {
    let mut suites = Vec::new();
    let (mut all_tests, mut all_failures, mut all_errors, mut all_time) = (0, 0, 0, 0.0);
    for r in results {
        let prop = |name: &str, value: String| XProperty {
            name: name.into(),
            value: xml_safe(&value),
        };
        let mut list = vec![
            prop("chapter", format!("{:02}", r.number)),
            prop("slug", r.slug.clone()),
            prop("title", r.title.clone()),
            prop("verdict", r.verdict.as_str().into()),
            prop("hints_used", r.hints_used.to_string()),
            prop("hints_total", r.hints_total.to_string()),
            prop("hash", r.hash.clone()),
            prop("exercise_hash", r.exercise_hash.clone()),
        ];
        if let Some(p) = &r.problem {
            list.push(prop("problem", p.clone()));
        }
        let mut cases: Vec<XCase> = r
            .tests
            .iter()
            .map(|t| XCase {
                name: xml_safe(&t.name),
                classname: r.package.clone(),
                failure: (!t.passed).then(|| XFailure {
                    kind: "test failed".into(),
                    message: xml_safe(&t.sentence),
                    text: xml_safe(&t.message),
                }),
                error: None,
            })
            .collect();
        let mut errors = 0;
        if matches!(r.verdict, Verdict::DoesNotCompile | Verdict::NoVerdict) {
            let problem = r.problem.clone().unwrap_or_default();
            errors = 1;
            cases.push(XCase {
                name: BUILD_CASE.into(),
                classname: r.package.clone(),
                failure: None,
                error: Some(XFailure {
                    kind: r.verdict.as_str().into(),
                    message: xml_safe(&first_sentence(&problem)),
                    text: xml_safe(&problem),
                }),
            });
        }
        let failures = r.tests.iter().filter(|t| !t.passed).count();
        all_tests += cases.len();
        all_failures += failures;
        all_errors += errors;
        all_time += r.seconds;
        suites.push(XSuite {
            name: r.dir_name(),
            package: r.package.clone(),
            tests: cases.len(),
            failures,
            errors,
            skipped: 0,
            time: format!("{:.3}", r.seconds),
            properties: XProperties { list },
            cases,
        });
    }
    let doc = XSuites {
        name: "TLS workbook".into(),
        tests: all_tests,
        failures: all_failures,
        errors: all_errors,
        time: format!("{all_time:.3}"),
        suites,
    };
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let mut ser = quick_xml::se::Serializer::with_root(&mut out, Some("testsuites"))
        .context("cannot start the JUnit XML")?;
    ser.indent(' ', 2);
    doc.serialize(ser).context("cannot write the JUnit XML")?;
    out.push('\n');
    Ok(out)
}

fn from_junit(text: &str) -> Result<Vec<ChapterResult>> {
    let doc: XSuites = quick_xml::de::from_str(text)
        .context("it is not JUnit XML as `workbook check --report junit` writes it")?;
    let mut out = Vec::new();
    for s in doc.suites {
        let get = |name: &str| {
            s.properties
                .list
                .iter()
                .find(|p| p.name == name)
                .map(|p| p.value.clone())
        };
        let need = |name: &str| {
            get(name).with_context(|| {
                format!("its testsuite {:?} has no property {name:?} (was it written by `workbook check --report junit`?)", s.name)
            })
        };
        let number: u32 = need("chapter")?.parse().with_context(|| {
            format!(
                "the testsuite {:?} has a chapter property that is not a number",
                s.name
            )
        })?;
        let verdict_text = need("verdict")?;
        let verdict = Verdict::parse(&verdict_text).with_context(|| {
            format!(
                "the testsuite {:?} has an unknown verdict {verdict_text:?}",
                s.name
            )
        })?;
        let count = |name: &str| -> Result<usize> {
            need(name)?.parse().with_context(|| {
                format!(
                    "the testsuite {:?} has a property {name:?} that is not a number",
                    s.name
                )
            })
        };
        let tests = s
            .cases
            .iter()
            .filter(|c| !(c.name == BUILD_CASE && c.error.is_some()))
            .map(|c| TestResult {
                name: c.name.clone(),
                passed: c.failure.is_none() && c.error.is_none(),
                sentence: c
                    .failure
                    .as_ref()
                    .or(c.error.as_ref())
                    .map(|f| f.message.clone())
                    .unwrap_or_default(),
                message: c
                    .failure
                    .as_ref()
                    .or(c.error.as_ref())
                    .map(|f| f.text.clone())
                    .unwrap_or_default(),
            })
            .collect();
        out.push(ChapterResult {
            number,
            slug: get("slug").unwrap_or_default(),
            title: get("title").unwrap_or_default(),
            package: s.package.clone(),
            hash: get("hash").unwrap_or_default(),
            exercise_hash: get("exercise_hash").unwrap_or_default(),
            hints_used: count("hints_used")?,
            hints_total: count("hints_total")?,
            verdict,
            tests,
            problem: get("problem"),
            seconds: s.time.parse().unwrap_or(0.0),
        });
    }
    Ok(out)
}

// --- Gradescope --------------------------------------------------------------------------

/// Gradescope's `results.json` for `results`, each chapter worth `points`.
pub fn gradescope(results: &[ChapterResult], points: f64) -> Result<String> {
    let tests: Vec<serde_json::Value> = results
        .iter()
        .map(|r| {
            serde_json::json!({
                "name": format!("Chapter {:02}: {}", r.number, r.title),
                "number": format!("{:02}", r.number),
                "score": r.score(points),
                "max_score": points,
                "status": if r.verdict == Verdict::Passed { "passed" } else { "failed" },
                "output": r.text(),
                "visibility": "visible",
                "extra_data": r,
            })
        })
        .collect();
    let score: f64 = results.iter().map(|r| r.score(points)).sum();
    let passed = results
        .iter()
        .filter(|r| r.verdict == Verdict::Passed)
        .count();
    let doc = serde_json::json!({
        "score": (score * 100.0).round() / 100.0,
        "execution_time": results.iter().map(|r| r.seconds).sum::<f64>().round() as u64,
        "output": format!("{passed} of {} chapters pass.", results.len()),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    });
    let mut text = serde_json::to_string_pretty(&doc).context("cannot write results.json")?;
    text.push('\n');
    Ok(text)
}

fn from_gradescope(text: &str) -> Result<Vec<ChapterResult>> {
    let doc: serde_json::Value = serde_json::from_str(text).context("it is not valid JSON")?;
    let tests = doc
        .get("tests")
        .and_then(|t| t.as_array())
        .context("it has no `tests` list, so it is not a Gradescope results.json")?;
    tests
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let extra = t.get("extra_data").with_context(|| {
                format!("tests[{i}] has no extra_data (was it written by `workbook check --report gradescope`?)")
            })?;
            serde_json::from_value::<ChapterResult>(extra.clone())
                .with_context(|| format!("tests[{i}].extra_data is not a chapter's verdict"))
        })
        .collect()
}

/// Reads a report `check --report` wrote, JUnit XML or Gradescope JSON (told apart by
/// their first character). Every error names the file.
pub fn read(path: &Path) -> Result<Vec<ChapterResult>> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read the report {}", path.display()))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("the report {} is not UTF-8 text", path.display()))?;
    let body = text.trim_start_matches('\u{feff}').trim_start();
    let results = if body.starts_with('<') {
        from_junit(body)
    } else if body.starts_with('{') {
        from_gradescope(body)
    } else {
        Err(anyhow::anyhow!(
            "it is neither JUnit XML nor a Gradescope results.json"
        ))
    };
    results.with_context(|| format!("cannot read the report {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<ChapterResult> {
        let t = |name: &str, passed: bool, message: &str| TestResult {
            name: name.into(),
            passed,
            sentence: if passed {
                String::new()
            } else {
                first_sentence(message)
            },
            message: if passed {
                String::new()
            } else {
                message.into()
            },
        };
        vec![
            ChapterResult {
                number: 5,
                slug: "verifying-peers".into(),
                title: "Verifying <peers> & \"names\"".into(),
                package: "ch05-verifying-peers".into(),
                hash: "ab12".into(),
                exercise_hash: "cd34".into(),
                hints_used: 2,
                hints_total: 3,
                verdict: Verdict::Failing,
                tests: vec![
                    t("a_self_signed_server_is_refused", false, "The client accepted a self-signed server. Anyone can make one.\n  left: <a> & 'b' ]]> \u{1b}[31mred\u{1b}[0m\u{0}"),
                    t("tests::the_name_is_checked", true, ""),
                ],
                problem: None,
                seconds: 1.25,
            },
            ChapterResult {
                number: 6,
                slug: "connections".into(),
                title: "Connections".into(),
                package: "ch06-connections".into(),
                hash: "ef56".into(),
                exercise_hash: "0789".into(),
                hints_used: 0,
                hints_total: 3,
                verdict: Verdict::DoesNotCompile,
                tests: vec![],
                problem: Some("error[E0425]: cannot find value `x` in this scope".into()),
                seconds: 0.5,
            },
        ]
    }

    #[test]
    fn first_sentences_are_the_teaching_ones() {
        assert_eq!(
            first_sentence("\nThe client trusted a self-signed server. That is wrong.\nmore"),
            "The client trusted a self-signed server."
        );
        assert_eq!(
            first_sentence(
                "assertion `left == right` failed: 2 + 3 should be 5: the sum\n  left: -1"
            ),
            "2 + 3 should be 5: the sum"
        );
        assert_eq!(
            first_sentence("not yet implemented: ch00: build an SslConnector, e.g. with TLS 1.3"),
            "not yet implemented: ch00: build an SslConnector, e.g. with TLS 1.3"
        );
        assert_eq!(first_sentence(""), "");
    }

    #[test]
    fn junit_escapes_everything_and_reads_back_the_same() {
        let xml = junit(&sample()).unwrap();
        assert!(
            xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"),
            "{xml}"
        );
        assert!(
            xml.contains("&lt;a&gt; &amp; &apos;b&apos; ]]&gt;")
                || xml.contains("&lt;a&gt; &amp; 'b' ]]&gt;"),
            "{xml}"
        );
        assert!(
            xml.contains("Verifying &lt;peers&gt; &amp; &quot;names&quot;"),
            "{xml}"
        );
        assert!(
            !xml.contains('\u{1b}') && !xml.contains('\u{0}'),
            "control characters left in: {xml}"
        );
        assert!(
            xml.contains("failures=\"1\"") && xml.contains("errors=\"1\""),
            "{xml}"
        );
        let back = from_junit(&xml).unwrap();
        let mut want = sample();
        for t in &mut want[0].tests {
            t.message = xml_safe(&t.message);
        }
        want[0].seconds = 1.25;
        assert_eq!(back, want);
    }

    #[test]
    fn gradescope_scores_chapters_and_reads_back_the_same() {
        let json = gradescope(&sample(), 10.0).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["score"], 5.0);
        assert_eq!(v["tests"][0]["score"], 5.0);
        assert_eq!(v["tests"][0]["max_score"], 10.0);
        assert_eq!(v["tests"][1]["score"], 0.0);
        assert!(v["tests"][0]["output"]
            .as_str()
            .unwrap()
            .contains("The client accepted a self-signed server."));
        assert_eq!(from_gradescope(&json).unwrap(), sample());
    }

    #[test]
    fn bad_reports_are_errors_that_say_why() {
        let e = from_junit("<testsuites><testsuite name=\"x\" tests=\"1\" failures=\"0\" errors=\"0\"/></testsuites>").unwrap_err();
        assert!(
            format!("{e:#}").contains("no property \"chapter\""),
            "{e:#}"
        );
        let e = from_junit("<testsuites><testsuite").unwrap_err();
        assert!(format!("{e:#}").contains("not JUnit XML"), "{e:#}");
        let e = from_gradescope("{\"tests\": [{\"name\": \"x\"}]}").unwrap_err();
        assert!(
            format!("{e:#}").contains("tests[0] has no extra_data"),
            "{e:#}"
        );
        let e = from_gradescope("[]").unwrap_err();
        assert!(format!("{e:#}").contains("no `tests` list"), "{e:#}");
    }
}
