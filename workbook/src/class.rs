//! `workbook class DIR...`: a teacher's view of a class. Each DIR is one learner's folder of
//! reports (the JUnit XML or Gradescope JSON files `workbook check --report` wrote; a file
//! can be named directly too), named after the learner. Prints one table, chapter by
//! learner, and under it each chapter's most common failing promise: the sentence of
//! `chapters/NN-slug.toml` whose test failed for the most learners. `--html FILE` writes the
//! same as one offline page with a bar chart drawn in inline SVG.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::manifest::Chapter;
use crate::report::{self, ChapterResult, Verdict};
use crate::ui::BadInput;

/// One learner's reports, merged.
#[derive(Debug, Clone)]
pub struct Learner {
    pub name: String,
    /// By chapter number; the first report file (in name order) that has a chapter wins.
    pub chapters: BTreeMap<u32, ChapterResult>,
}

/// Reads every learner's reports: each path is a folder of report files or one report.
pub fn load(paths: &[PathBuf]) -> Result<Vec<Learner>> {
    if paths.is_empty() {
        bail!(BadInput(
            "name at least one learner's folder of reports (`workbook class DIR...`)".into()
        ));
    }
    let mut learners: Vec<Learner> = Vec::new();
    for path in paths {
        let files = report_files(path)?;
        let mut chapters = BTreeMap::new();
        for file in &files {
            let results = report::read(file).map_err(|e| BadInput(format!("{e:#}")))?;
            for r in results {
                chapters.entry(r.number).or_insert(r);
            }
        }
        let stem = if path.is_dir() {
            path.file_name()
        } else {
            path.file_stem()
        };
        let mut name = stem
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        if learners.iter().any(|l| l.name == name) {
            name = path.display().to_string();
        }
        learners.push(Learner { name, chapters });
    }
    Ok(learners)
}

/// The report files of one learner: `path` itself, or the `*.xml` and `*.json` files in it.
fn report_files(path: &Path) -> Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path).map_err(|e| {
        BadInput(format!(
            "cannot read the learner's reports {}: {e}",
            path.display()
        ))
    })?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .with_context(|| format!("cannot read the folder {}", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "xml" || e == "json"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!(BadInput(format!(
            "{} has no report: put the files `workbook check --report junit|gradescope --output \
             FILE` wrote (*.xml or *.json) in it",
            path.display()
        )));
    }
    Ok(files)
}

/// One chapter's row: what each learner's cell says, and its most common failing promise.
#[derive(Debug, Clone)]
pub struct Row {
    pub number: u32,
    pub title: String,
    /// One per learner, in the order they were named.
    pub cells: Vec<Cell>,
    /// The line under the table, for this chapter.
    pub common: String,
}

/// A learner's verdict on one chapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Passed,
    /// Tests passed of tests run.
    Failing(usize, usize),
    DoesNotCompile,
    NoVerdict,
    /// No report of this chapter.
    Missing,
}

impl Cell {
    pub fn text(self) -> String {
        match self {
            Cell::Passed => "pass".into(),
            Cell::Failing(p, n) => format!("{p}/{n}"),
            Cell::DoesNotCompile => "no build".into(),
            Cell::NoVerdict => "no verdict".into(),
            Cell::Missing => "-".into(),
        }
    }
    fn class(self) -> &'static str {
        match self {
            Cell::Passed => "pass",
            Cell::Failing(..) => "fail",
            Cell::DoesNotCompile | Cell::NoVerdict => "build",
            Cell::Missing => "missing",
        }
    }
}

/// The table: a row for every chapter of the manifest that some learner reported, and any
/// reported chapter the manifest does not have.
pub fn rows(chapters: &[Chapter], learners: &[Learner]) -> Vec<Row> {
    let numbers: BTreeSet<u32> = learners
        .iter()
        .flat_map(|l| l.chapters.keys().copied())
        .collect();
    numbers
        .into_iter()
        .map(|n| {
            let ch = chapters.iter().find(|c| c.number == n);
            let title = ch.map(|c| c.title.clone()).unwrap_or_else(|| {
                learners
                    .iter()
                    .find_map(|l| l.chapters.get(&n).map(|r| r.title.clone()))
                    .unwrap_or_default()
            });
            let cells = learners
                .iter()
                .map(|l| match l.chapters.get(&n) {
                    None => Cell::Missing,
                    Some(r) => match r.verdict {
                        Verdict::Passed => Cell::Passed,
                        Verdict::Failing => Cell::Failing(r.passed(), r.tests.len()),
                        Verdict::DoesNotCompile => Cell::DoesNotCompile,
                        Verdict::NoVerdict => Cell::NoVerdict,
                    },
                })
                .collect();
            Row {
                number: n,
                title,
                cells,
                common: most_common_failure(n, ch, learners),
            }
        })
        .collect()
}

fn learners_word(n: usize) -> &'static str {
    if n == 1 {
        "learner"
    } else {
        "learners"
    }
}

/// "2 of 3 learners break the promise "..." (test x)": the promise of chapter `n` whose test
/// failed for the most learners; a failing test no promise names counts with its first
/// sentence. Ties go to the promise written first (the manifest lists security first).
fn most_common_failure(n: u32, ch: Option<&Chapter>, learners: &[Learner]) -> String {
    let reported: Vec<&ChapterResult> =
        learners.iter().filter_map(|l| l.chapters.get(&n)).collect();
    let total = reported.len();
    // (order, text) -> learners
    let mut counts: BTreeMap<(usize, String), usize> = BTreeMap::new();
    for r in &reported {
        let mut keys = BTreeSet::new();
        for t in r.tests.iter().filter(|t| !t.passed) {
            let promises: Vec<(usize, String)> = ch
                .map(|c| {
                    c.promises
                        .iter()
                        .enumerate()
                        .filter(|(_, p)| p.test == t.function())
                        .map(|(i, p)| {
                            (
                                i,
                                format!("break the promise \"{}\" (test {})", p.says, p.test),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            if promises.is_empty() {
                let why = if t.sentence.is_empty() {
                    String::new()
                } else {
                    format!(": \"{}\"", t.sentence)
                };
                keys.insert((usize::MAX, format!("fail the test {}{why}", t.function())));
            } else {
                keys.extend(promises);
            }
        }
        for k in keys {
            *counts.entry(k).or_default() += 1;
        }
    }
    let broken = reported
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::DoesNotCompile))
        .count();
    let mut parts = Vec::new();
    if let Some(((_, text), count)) = counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))) {
        parts.push(format!(
            "{count} of {total} {} {text}",
            learners_word(total)
        ));
    }
    if broken > 0 {
        parts.push(format!(
            "{broken} of {total} {}' code does not compile",
            learners_word(total)
        ));
    }
    if parts.is_empty() {
        let passed = reported
            .iter()
            .filter(|r| r.verdict == Verdict::Passed)
            .count();
        if passed == total {
            format!("all {total} {} who handed it in pass", learners_word(total))
        } else {
            format!(
                "{} of {total} {} got no verdict",
                total - passed,
                learners_word(total)
            )
        }
    } else {
        parts.join("; ")
    }
}

/// The title shown in a row: "NN Title", cut to `width` characters.
fn label(row: &Row, width: usize) -> String {
    let full = format!("{:02} {}", row.number, row.title);
    if full.chars().count() <= width {
        full
    } else {
        let cut: String = full.chars().take(width.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// The table and the lines under it, as text.
pub fn table(learners: &[Learner], rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Class of {} {}, {} chapter(s) reported\n",
        learners.len(),
        learners_word(learners.len()),
        rows.len()
    );
    // Wide enough for every title up to 48 characters; longer ones are cut.
    let first = rows
        .iter()
        .map(|r| format!("{:02} {}", r.number, r.title).chars().count())
        .chain([15])
        .max()
        .unwrap_or(15)
        .min(48);
    let widths: Vec<usize> = learners
        .iter()
        .map(|l| l.name.chars().count().max(10))
        .collect();
    let _ = write!(out, "{:<first$}", "chapter");
    for (l, w) in learners.iter().zip(&widths) {
        let _ = write!(out, "  {:<w$}", l.name);
    }
    out.push('\n');
    for row in rows {
        let _ = write!(out, "{:<first$}", label(row, first));
        for (c, w) in row.cells.iter().zip(&widths) {
            let _ = write!(out, "  {:<w$}", c.text());
        }
        out.push('\n');
    }
    let _ = write!(out, "{:<first$}", "chapters passed");
    for (i, w) in widths.iter().enumerate() {
        let passed = rows.iter().filter(|r| r.cells[i] == Cell::Passed).count();
        let _ = write!(out, "  {:<w$}", format!("{passed}/{}", rows.len()));
    }
    // The last column's padding would leave spaces at the ends of lines.
    let mut out: String = out.lines().map(|l| format!("{}\n", l.trim_end())).collect();
    out.push_str("\nMost common failing promise per chapter:\n");
    for row in rows {
        let _ = writeln!(out, "  {:02}  {}", row.number, row.common);
    }
    out
}

/// Escapes text for HTML (and SVG): the five characters with a meaning in markup.
pub fn escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

/// The class as one HTML page that needs nothing but itself: the table, the lines under
/// it, and a stacked bar per chapter (pass, failing, no build, no report) in inline SVG.
pub fn html(learners: &[Learner], rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>TLS workbook: class report</title>\n<style>\n\
         body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222}\n\
         table{border-collapse:collapse;margin:1rem 0}\n\
         th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}\n\
         td.pass{background:#d9f2d9}td.fail{background:#fde2c4}td.build{background:#f6c6c6}td.missing{color:#888}\n\
         .chart{max-width:100%;height:auto}\n\
         .legend span{display:inline-block;margin-right:1rem}\n\
         .swatch{display:inline-block;width:.9em;height:.9em;vertical-align:middle;margin-right:.3em}\n\
         </style>\n</head>\n<body>\n<h1>TLS workbook: class report</h1>\n",
    );
    let _ = writeln!(
        out,
        "<p>{} {}, {} chapter(s) reported.</p>",
        learners.len(),
        learners_word(learners.len()),
        rows.len()
    );
    // The chart.
    let colours = [
        ("pass", "#3a9a3a", "pass"),
        ("fail", "#e8892b", "failing"),
        ("build", "#c94040", "no build or no verdict"),
        ("missing", "#bbbbbb", "no report"),
    ];
    out.push_str("<h2>Learners per chapter</h2>\n<p class=\"legend\">");
    for (_, colour, what) in colours {
        let _ = write!(
            out,
            "<span><span class=\"swatch\" style=\"background:{colour}\"></span>{what}</span>"
        );
    }
    out.push_str("</p>\n");
    let (label_w, bar_w, row_h, count_w) = (330.0, 600.0, 30.0, 90.0);
    let width = label_w + bar_w + count_w;
    let height = row_h * rows.len().max(1) as f64 + 10.0;
    let _ = writeln!(
        out,
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" \
         height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" \
         aria-label=\"learners who pass each chapter\" font-family=\"system-ui,sans-serif\" font-size=\"14\">"
    );
    let n = learners.len().max(1) as f64;
    for (i, row) in rows.iter().enumerate() {
        let y = 5.0 + i as f64 * row_h;
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            label_w - 10.0,
            y + 19.0,
            escape(&label(row, 40))
        );
        let mut x = label_w;
        for (class, colour, what) in colours {
            let count = row.cells.iter().filter(|c| c.class() == class).count();
            if count == 0 {
                continue;
            }
            let w = bar_w * count as f64 / n;
            let _ = writeln!(
                out,
                "<rect class=\"{class}\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\" \
                 fill=\"{colour}\"><title>{count} {what}</title></rect>",
                y + 3.0,
                row_h - 8.0
            );
            x += w;
        }
        let passed = row.cells.iter().filter(|c| **c == Cell::Passed).count();
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\">{passed} of {} pass</text>",
            label_w + bar_w + 8.0,
            y + 19.0,
            learners.len()
        );
    }
    out.push_str("</svg>\n");
    // The table.
    out.push_str("<h2>Chapter by learner</h2>\n<table>\n<tr><th>chapter</th>");
    for l in learners {
        let _ = write!(out, "<th>{}</th>", escape(&l.name));
    }
    out.push_str("</tr>\n");
    for row in rows {
        let _ = write!(out, "<tr><td>{}</td>", escape(&label(row, 80)));
        for c in &row.cells {
            let _ = write!(
                out,
                "<td class=\"{}\">{}</td>",
                c.class(),
                escape(&c.text())
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n<h2>Most common failing promise per chapter</h2>\n<ul>\n");
    for row in rows {
        let _ = writeln!(
            out,
            "<li><strong>{:02}</strong> {}</li>",
            row.number,
            escape(&row.common)
        );
    }
    out.push_str("</ul>\n</body>\n</html>\n");
    out
}

/// `workbook class DIR... [--html FILE]`.
pub fn run(chapters: &[Chapter], paths: &[PathBuf], html_file: Option<&Path>) -> Result<()> {
    let learners = load(paths)?;
    let rows = rows(chapters, &learners);
    print!("{}", table(&learners, &rows));
    if let Some(file) = html_file {
        if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create the folder {}", parent.display()))?;
        }
        std::fs::write(file, html(&learners, &rows))
            .with_context(|| format!("cannot write {}", file.display()))?;
        println!("\nThe class page is {}", file.display());
    }
    Ok(())
}
