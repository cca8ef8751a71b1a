//! The book as rendered, in headless Chromium at 1280 px (`workbook verify` runs the same
//! check on the real book): a book that keeps the rules passes, and a book that breaks each rule (no search, a page wider than the window, a link to a chapter that
//! is not there) fails with a sentence that says so. Skipped when Chromium is not installed,
//! unless WORKBOOK_REQUIRE_BROWSER is set (CI sets it).

use std::path::{Path, PathBuf};

use workbook::book::build_book;
use workbook::verify::{check_rendered_in_browser, chromium, Findings};

fn browser() -> Option<PathBuf> {
    let b = chromium();
    if b.is_none() {
        assert!(
            std::env::var_os("WORKBOOK_REQUIRE_BROWSER").is_none(),
            "headless Chromium is required (WORKBOOK_REQUIRE_BROWSER) but not installed"
        );
        eprintln!("SKIP: no chromium installed");
    }
    b
}

/// Renders `book` into a scratch folder and runs the browser check on `pages`.
fn check(book: &Path, pages: &[(&str, &str)]) -> Option<Findings> {
    let browser = browser()?;
    let out = tempfile::tempdir().unwrap();
    build_book(book, out.path()).unwrap();
    let pages: Vec<(String, String)> = pages
        .iter()
        .map(|(f, t)| (f.to_string(), t.to_string()))
        .collect();
    let mut f = Findings::default();
    check_rendered_in_browser(&browser, out.path(), &pages, &mut f).unwrap();
    Some(f)
}

/// A one-page book: `extra_toml` is added to book.toml, `body` is the page.
fn fixture(extra_toml: &str, body: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("book.toml"),
        format!("[book]\ntitle = \"Fixture\"\nsrc = \"src\"\n[build]\ncreate-missing = false\n{extra_toml}"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("src/SUMMARY.md"),
        "# Summary\n\n- [00 · Handshakes](00-handshakes.md)\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("src/00-handshakes.md"),
        format!("# 00 · Handshakes\n\nA handshake agrees on keys.\n\n{body}\n"),
    )
    .unwrap();
    dir
}

const PAGE: (&str, &str) = ("00-handshakes.html", "Handshakes");

#[test]
fn a_fixture_book_that_keeps_every_rule_passes() {
    let book = fixture(
        "[output.html.search]\nenable = true\n",
        "| a | b |\n|---|---|\n| 1 | 2 |\n",
    );
    let Some(f) = check(book.path(), &[PAGE]) else {
        return;
    };
    assert!(f.problems.is_empty(), "{:#?}", f.problems);
    assert_eq!(f.passed, 1);
}

#[test]
fn a_book_without_search_fails() {
    let book = fixture("[output.html.search]\nenable = false\n", "");
    let Some(f) = check(book.path(), &[PAGE]) else {
        return;
    };
    let all = f.problems.join("\n");
    assert!(all.contains("has no search index"), "{all}");
    assert!(all.contains("has no search box"), "{all}");
}

#[test]
fn a_page_wider_than_1280_px_fails() {
    let wide = "<div style=\"width: 2400px\">a very wide block</div>";
    let book = fixture("", wide);
    let Some(f) = check(book.path(), &[PAGE]) else {
        return;
    };
    let all = f.problems.join("\n");
    assert!(all.contains("scrolls sideways at 1280 px"), "{all}");
}

#[test]
fn a_link_to_a_chapter_that_is_not_there_fails() {
    let book = fixture("", "The client side comes in [chapter 04](04-clients.md).");
    let Some(f) = check(book.path(), &[PAGE]) else {
        return;
    };
    let all = f.problems.join("\n");
    assert!(
        all.contains("links to 04-clients.html, which the book does not have"),
        "{all}"
    );
}
