//! Check 5: the book's pages, their includes and links, and the rendered book.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

use super::{browser, Findings};
use crate::book::build_book;
use crate::manifest::Chapter;

pub(super) fn check_book(root: &Path, chapters: &[Chapter], f: &mut Findings) -> Result<()> {
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
    let numbers: BTreeSet<u32> = chapters.iter().map(|c| c.number).collect();
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
        check_chapter_references(&text, &shown, &numbers, f);
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
            browser::check_in_browser(&out, chapters, f)?;
        }
        Err(e) => f.fail(format!("the book does not build: {e:#}")),
    }
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

/// The chapter numbers a page names in its prose ("chapter 04", "Chapters 04 and 05") and in
/// its links to chapter pages (`04-slug.md`, `04-slug.html`), code blocks left out.
pub fn chapter_references(text: &str) -> BTreeSet<(u32, String)> {
    let mut found = BTreeSet::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let lower = line.to_ascii_lowercase();
        // Prose: "chapter 4", "chapters 04, 05 and 11", "chapters 04-06".
        let mut rest = lower.as_str();
        while let Some(i) = rest.find("chapter") {
            let after = &rest[i + "chapter".len()..];
            let after = after.strip_prefix('s').unwrap_or(after);
            rest = after;
            let Some(mut cur) = after.strip_prefix(' ') else {
                continue;
            };
            loop {
                let digits: String = cur.chars().take_while(|c| c.is_ascii_digit()).collect();
                if digits.is_empty() {
                    break;
                }
                if let Ok(n) = digits.parse() {
                    found.insert((n, format!("chapter {digits}")));
                }
                let t = &cur[digits.len()..];
                let sep = t.trim_start_matches([',', ' ', '-']);
                let sep = sep
                    .strip_prefix("and ")
                    .or_else(|| sep.strip_prefix("or "))
                    .unwrap_or(sep);
                if sep.len() == t.len() {
                    break;
                }
                cur = sep;
            }
        }
        // Links: ](04-slug.md) and [name]: 04-slug.md
        for piece in line.split(['(', ' ', '"']) {
            let target = piece
                .trim_end_matches([')', '"'])
                .split('#')
                .next()
                .unwrap_or("");
            let file = target.rsplit('/').next().unwrap_or(target);
            if !(file.ends_with(".md") || file.ends_with(".html")) || target.contains("://") {
                continue;
            }
            let digits: String = file.chars().take_while(|c| c.is_ascii_digit()).collect();
            if !digits.is_empty() && file[digits.len()..].starts_with('-') {
                if let Ok(n) = digits.parse() {
                    found.insert((n, format!("a link to {target}")));
                }
            }
        }
    }
    found
}

/// A page may name or link only chapters in the manifest; a later one is "a later chapter".
fn check_chapter_references(text: &str, shown: &str, numbers: &BTreeSet<u32>, f: &mut Findings) {
    for (n, how) in chapter_references(text) {
        if !numbers.contains(&n) {
            f.fail(format!(
                "{shown}: names chapter {n:02} ({how}), which is not in chapters/; until it exists, \
                 say \"a later chapter\""
            ));
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
    fn chapters_not_in_the_manifest_are_flagged_in_prose_and_links() {
        let text =
            "See chapter 02 and chapters 04 and 05.\n| x | (chapter 11) |\n[next](06-later.md#x) \
                    [ok](01-errors.md)\n[ref]: 07-ref.html\n```text\nchapter 09\n```\n";
        let found: Vec<u32> = chapter_references(text)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(found, [1, 2, 4, 5, 6, 7, 11]);
        let mut f = Findings::default();
        let known: BTreeSet<u32> = [0, 1, 2, 3].into();
        check_chapter_references(text, "page.md", &known, &mut f);
        assert_eq!(f.problems.len(), 5, "{:?}", f.problems);
        assert!(f
            .problems
            .iter()
            .any(|p| p.contains("chapter 06") && p.contains("06-later.md")));
        assert!(f.problems[0].contains("a later chapter"));
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
}
