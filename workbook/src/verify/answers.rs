//! Check 7: no answer on a page. A page teaches with a worked example that is not the
//! exercise's answer; this check holds that mechanically. Every page of the book, with its
//! `{{#include}}`s expanded as mdBook expands them, is compared with the code inside every
//! solution region (anchor lines ignored). A page fails when it
//!
//! - includes an anchor (or a line range, or a whole file) that reaches into a region;
//! - shows two consecutive significant lines of a region (trivial lines such as `}`,
//!   `Ok(())`, `};`, blanks and comments are skipped on both sides);
//! - shows one distinctive line of a region: [`DISTINCTIVE`] characters or more of code.
//!
//! A region line that also appears outside the regions of any chapter, or in the test kit, is the learner's to read
//! anyway and never counts. A page named like `solutions*.md` whose first heading says
//! "Solutions" is an answers appendix, clearly marked as such, and is exempt.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::compare::rust_files;
use super::Findings;
use crate::manifest::Chapter;
use crate::regions::{self, Kind};

/// A region line this long (trimmed) is distinctive enough to give the answer away alone.
pub const DISTINCTIVE: usize = 40;

/// The line, trimmed, if it carries code worth hiding; `None` for blank lines, comments and
/// lines of punctuation and boilerplate (`}`, `};`, `Ok(())`, `} else {`, ...).
pub fn significant(line: &str) -> Option<&str> {
    let t = line.trim();
    if t.is_empty() || t.starts_with("//") {
        return None;
    }
    const TRIVIAL: &[&str] = &[
        "} else {",
        "else {",
        "None",
        "None,",
        "true",
        "false",
        "break;",
        "continue;",
        "return;",
        "Ok(())",
        "Ok(()),",
        "Some(())",
        "})",
        "}),",
        "});",
        "})?;",
        "]);",
        "};",
    ];
    if TRIVIAL.contains(&t) || t.chars().filter(|c| c.is_alphanumeric()).count() < 3 {
        return None;
    }
    Some(t)
}

/// One region's code, where it is.
struct RegionCode {
    chapter: u32,
    /// `solutions/NN-slug/src/lib.rs`.
    file: String,
    begin: usize,
    end: usize,
    /// Significant lines not visible outside the regions: (line number, trimmed text).
    lines: Vec<(usize, String)>,
}

/// Every solution region of every chapter.
fn solution_regions(root: &Path, chapters: &[Chapter]) -> Result<Vec<RegionCode>> {
    // What the learner reads anyway: the code outside the regions of every chapter, and the
    // test kit. A line found there (the connector's builder line, say) is the workbook's
    // common idiom, not one region's answer.
    let mut texts = Vec::new();
    for ch in chapters {
        let src = ch.solution_dir(root).join("src");
        for rel in rust_files(&src)? {
            let text = fs::read_to_string(src.join(&rel))?;
            texts.push((
                ch.number,
                format!("solutions/{}/src/{}", ch.dir_name(), rel.display()),
                text,
            ));
        }
    }
    let testkit = root.join("testkit/src");
    let mut shared = Vec::new();
    if testkit.is_dir() {
        for rel in rust_files(&testkit)? {
            shared.push(fs::read_to_string(testkit.join(rel))?);
        }
    }
    let parsed: Vec<_> = texts.iter().map(|(_, _, t)| regions::parse(t)).collect();
    let mut public: BTreeSet<&str> = shared
        .iter()
        .flat_map(|t| t.lines())
        .filter_map(significant)
        .collect();
    for ((_, _, text), p) in texts.iter().zip(&parsed) {
        public.extend(
            text.lines()
                .zip(&p.kinds)
                .filter(|(_, k)| **k == Kind::Outside)
                .filter_map(|(l, _)| significant(l)),
        );
    }
    let mut out = Vec::new();
    for ((chapter, file, _), p) in texts.iter().zip(&parsed) {
        for r in &p.regions {
            out.push(RegionCode {
                chapter: *chapter,
                file: file.clone(),
                begin: r.begin,
                end: r.end,
                lines: r
                    .code
                    .iter()
                    .filter_map(|(n, l)| significant(l).map(|t| (*n, t)))
                    .filter(|(_, t)| !public.contains(t))
                    .map(|(n, t)| (n, t.to_string()))
                    .collect(),
            });
        }
    }
    Ok(out)
}

/// Whether a page is an answers appendix, clearly marked as one.
pub fn is_marked_solutions_page(file_name: &str, text: &str) -> bool {
    let heading = text
        .lines()
        .find(|l| l.starts_with("# "))
        .unwrap_or("")
        .to_lowercase();
    file_name.to_lowercase().starts_with("solutions") && heading.contains("solutions")
}

/// The page's text with every `{{#include}}` replaced by what it includes, and the
/// includes that reach into a region (`(directive, why)`).
pub fn expand_includes(page: &Path, text: &str) -> (String, Vec<(String, String)>) {
    let dir = page.parent().unwrap_or(Path::new("."));
    let mut out = String::new();
    let mut into_regions = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{#") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 3..];
        let Some(end) = after.find("}}") else {
            rest = &rest[start..];
            break;
        };
        let directive = after[..end].trim().to_string();
        rest = &after[end + 2..];
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
        let Ok(code) = fs::read_to_string(dir.join(file)) else {
            continue; // check 5 reports it
        };
        let parsed = regions::parse(&code);
        let lines: Vec<&str> = code.lines().collect();
        // The 1-based lines the directive includes.
        let (from, to) = match selector {
            None => (1, lines.len()),
            Some(sel) if sel.chars().next().is_some_and(|c| c.is_ascii_digit()) => {
                let mut parts = sel.split(':').map(|n| n.parse::<usize>().ok());
                let from = parts.next().flatten().unwrap_or(1);
                let to = parts.next().flatten().unwrap_or(lines.len());
                (from, to.min(lines.len()))
            }
            Some(anchor) => match parsed.anchors.get(anchor) {
                Some(&(a, b)) => (a + 1, b - 1),
                None => continue,
            },
        };
        let reached: Vec<&regions::Region> = parsed
            .regions
            .iter()
            .filter(|r| (from..=to).any(|n| r.contains(n)))
            .collect();
        if let Some(r) = reached.first() {
            let why = match selector {
                Some(a) if !a.starts_with(|c: char| c.is_ascii_digit()) => format!(
                    "the anchor {a:?} lies inside the region at lines {}-{} of {file}",
                    r.begin, r.end
                ),
                _ => format!(
                    "it takes lines {from}-{to} of {file}, which reach into the region at lines {}-{}",
                    r.begin, r.end
                ),
            };
            into_regions.push((directive.clone(), why));
        }
        for (i, line) in lines.iter().enumerate() {
            let n = i + 1;
            if n < from || n > to {
                continue;
            }
            let t = line.trim();
            if t.starts_with("// ANCHOR") {
                continue;
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str(rest);
    (out, into_regions)
}

/// The page's lines as a reader sees them: trimmed, with mdBook's hidden-line `# ` prefix of
/// Rust code blocks removed (hidden lines are one click away).
fn page_lines(text: &str) -> Vec<String> {
    let mut in_code = false;
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        let t = if in_code {
            t.strip_prefix("# ").unwrap_or(t)
        } else {
            t
        };
        out.push(t.to_string());
    }
    out
}

/// The region lines a page shows: for each region, the (line number, text) pairs found.
fn shown_lines(
    page_text: &str,
    regions: &[RegionCode],
) -> BTreeMap<usize, BTreeSet<(usize, String)>> {
    let lines = page_lines(page_text);
    let sig: Vec<&str> = lines.iter().filter_map(|l| significant(l)).collect();
    let pairs: BTreeSet<(&str, &str)> = sig.windows(2).map(|w| (w[0], w[1])).collect();
    let mut found: BTreeMap<usize, BTreeSet<(usize, String)>> = BTreeMap::new();
    for (ri, r) in regions.iter().enumerate() {
        for w in r.lines.windows(2) {
            if pairs.contains(&(w[0].1.as_str(), w[1].1.as_str())) {
                let e = found.entry(ri).or_default();
                e.insert(w[0].clone());
                e.insert(w[1].clone());
            }
        }
        for (n, t) in &r.lines {
            if t.len() >= DISTINCTIVE && lines.iter().any(|l| l.contains(t.as_str())) {
                found.entry(ri).or_default().insert((*n, t.clone()));
            }
        }
    }
    found
}

/// Runs check 7 over every page of `book/src`.
pub(super) fn check_answers(root: &Path, chapters: &[Chapter], f: &mut Findings) -> Result<()> {
    let regions = solution_regions(root, chapters)?;
    let src = root.join("book/src");
    let mut pages: Vec<PathBuf> = fs::read_dir(&src)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    let (mut clean, mut exempt) = (0, 0);
    for page in &pages {
        let name = page.file_name().unwrap_or_default().to_string_lossy();
        let shown = format!("book/src/{name}");
        let text = fs::read_to_string(page)?;
        if is_marked_solutions_page(&name, &text) {
            println!("  {shown}: a solutions appendix, marked as such; exempt");
            exempt += 1;
            continue;
        }
        let before = f.problems.len();
        let (expanded, into_regions) = expand_includes(page, &text);
        for (directive, why) in into_regions {
            f.fail(format!(
                "{shown} includes code of a learner's region with {{{{#{directive}}}}}: {why}; \
                 show a worked example from outside the regions instead"
            ));
        }
        for (ri, lines) in shown_lines(&expanded, &regions) {
            let r = &regions[ri];
            let listed: Vec<String> = lines
                .iter()
                .take(4)
                .map(|(n, t)| format!("line {n}: `{t}`"))
                .collect();
            let more = lines.len().saturating_sub(4);
            f.fail(format!(
                "{shown} shows the answer of chapter {:02}: {} line(s) of the region at {}:{}-{}: {}{}",
                r.chapter,
                lines.len(),
                r.file,
                r.begin,
                r.end,
                listed.join("; "),
                if more > 0 { format!("; and {more} more") } else { String::new() }
            ));
        }
        if f.problems.len() == before {
            clean += 1;
            f.pass(1);
        }
    }
    println!(
        "  {clean} of {} pages show no region's code ({} regions compared, {exempt} exempt)",
        pages.len() - exempt,
        regions.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trivial_lines_are_not_significant() {
        for t in [
            "}",
            "    };",
            "Ok(())",
            "",
            "// a comment",
            "} else {",
            "})?;",
        ] {
            assert_eq!(significant(t), None, "{t:?}");
        }
        assert_eq!(significant("  let x = f(y)?;"), Some("let x = f(y)?;"));
    }

    fn region(lines: &[(usize, &str)]) -> RegionCode {
        RegionCode {
            chapter: 1,
            file: "solutions/01-x/src/lib.rs".into(),
            begin: 1,
            end: 20,
            lines: lines.iter().map(|(n, t)| (*n, t.to_string())).collect(),
        }
    }

    #[test]
    fn two_consecutive_lines_or_one_distinctive_line_give_an_answer_away() {
        let r = region(&[
            (3, "let ctx = build(a)?;"),
            (4, "ctx.set_verify(PEER);"),
            (
                9,
                "let message = format!(\"the peer said {reason} and left\");",
            ),
        ]);
        // Both short lines, consecutive, with a closing brace between them.
        let page = "```rust\nlet ctx = build(a)?;\n}\n    ctx.set_verify(PEER);\n```\n";
        let found = shown_lines(page, std::slice::from_ref(&r));
        assert_eq!(found[&0].len(), 2);
        // One short line alone is not enough.
        let page = "```rust\nlet ctx = build(a)?;\nother();\n```\n";
        assert!(shown_lines(page, std::slice::from_ref(&r)).is_empty());
        // One distinctive line is, even inside prose.
        let page = "It says `let message = format!(\"the peer said {reason} and left\");` there.";
        let found = shown_lines(page, std::slice::from_ref(&r));
        assert_eq!(found[&0].iter().next().unwrap().0, 9);
    }

    #[test]
    fn an_include_of_an_anchor_inside_a_region_is_flagged_and_one_outside_is_not() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("lib.rs"),
            "// ANCHOR: example\nfn shown() {}\n// ANCHOR_END: example\nfn f() {\n    // BEGIN EXERCISE\n    // ANCHOR: answer\n    secret();\n    // ANCHOR_END: answer\n    // END EXERCISE\n}\n",
        )
        .unwrap();
        let page = dir.path().join("p.md");
        let (text, bad) = expand_includes(&page, "a\n{{#include lib.rs:example}}\nb\n");
        assert_eq!(text, "a\nfn shown() {}\n\nb\n");
        assert!(bad.is_empty());
        let (text, bad) = expand_includes(&page, "{{#include lib.rs:answer}}");
        assert!(text.contains("secret();"));
        assert_eq!(bad.len(), 1);
        assert!(bad[0]
            .1
            .contains("anchor \"answer\" lies inside the region at lines 5-9"));
        let (_, bad) = expand_includes(&page, "{{#include lib.rs}}");
        assert!(bad[0].1.contains("reach into the region"));
        let (_, bad) = expand_includes(&page, "{{#include lib.rs:1:3}}");
        assert!(bad.is_empty());
    }

    #[test]
    fn a_solutions_appendix_must_say_so() {
        assert!(is_marked_solutions_page("solutions.md", "# Solutions\n"));
        assert!(!is_marked_solutions_page("solutions.md", "# Chapter 1\n"));
        assert!(!is_marked_solutions_page("01-errors.md", "# Solutions\n"));
    }

    /// The whole check on a tiny workbook whose page shows its answer.
    #[test]
    fn a_page_that_shows_a_region_fails_naming_page_chapter_and_lines() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("solutions/01-x/src")).unwrap();
        std::fs::create_dir_all(root.join("book/src")).unwrap();
        std::fs::write(
            root.join("solutions/01-x/src/lib.rs"),
            "pub fn f() -> u8 {\n    // BEGIN EXERCISE\n    let a = compute_the_answer();\n    let b = a.checked_add(1).unwrap();\n    b\n    // END EXERCISE\n}\n",
        )
        .unwrap();
        std::fs::write(
            root.join("book/src/01-x.md"),
            "# X\n\n```rust\nlet a = compute_the_answer();\nlet b = a.checked_add(1).unwrap();\n```\n",
        )
        .unwrap();
        std::fs::write(root.join("book/src/02-y.md"), "# Y\n\nNothing to see.\n").unwrap();
        let ch: Chapter = toml::from_str(
            "number = 1\nslug = \"x\"\ntitle = \"X\"\nsection = \"s\"\nsummary = \"s\"\nhints = [\"a\", \"b\", \"c\"]\n",
        )
        .unwrap();
        let mut f = Findings::default();
        check_answers(root, &[ch], &mut f).unwrap();
        assert_eq!(f.problems.len(), 1, "{:?}", f.problems);
        let p = &f.problems[0];
        assert!(
            p.contains("book/src/01-x.md shows the answer of chapter 01"),
            "{p}"
        );
        assert!(p.contains("solutions/01-x/src/lib.rs:2-6"), "{p}");
        assert!(p.contains("line 3: `let a = compute_the_answer();`"), "{p}");
        assert_eq!(f.passed, 1);
    }
}
