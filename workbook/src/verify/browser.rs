//! Check 5, in the browser: every chapter's rendered page loads in headless Chromium at
//! 1280 px, asks nothing of another machine, does not scroll sideways, has a search box whose
//! index finds the page, and links only to pages that were rendered. Then every picture is
//! measured (see [`super::pictures`]).
//!
//! How, offline: verify owns its rendering (`target/verify/book`), so it appends a small probe
//! script to each chapter page. Chromium loads the page with `?search=WORD` (mdBook's searcher
//! then opens the search bar, loads `searchindex.js` and lists results), and after the load the
//! probe writes what it measured into a `<pre id="workbook-probe">` that `--dump-dom` prints.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::Findings;
use crate::manifest::Chapter;

/// The width every page must fit.
pub const WIDTH: u32 = 1280;

/// A Chromium binary, if one is installed.
pub fn chromium() -> Option<PathBuf> {
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

const PROBE: &str = r#"<script>(function(){function report(){
var d=document.documentElement,w=d.clientWidth,sideways=[];
function name(e){return e.tagName.toLowerCase()+(e.id?'#'+e.id:'')+(e.className&&typeof e.className==='string'?'.'+e.className.trim().split(/\s+/).join('.'):'');}
function text(e){return (e.textContent||'').trim().replace(/\s+/g,' ').slice(0,50);}
document.querySelectorAll('body *').forEach(function(e){
if(e.closest('pre')||e.closest('#mdbook-sidebar')||e.closest('nav')||e.closest('[data-wb-sideways]')||e.id==='workbook-probe')return;
var cs=getComputedStyle(e);if(cs.display==='none'||cs.visibility==='hidden')return;
var ox=cs.overflowX;
if((ox==='auto'||ox==='scroll')&&e.scrollWidth>e.clientWidth+1){sideways.push(name(e)+' scrolls '+(e.scrollWidth-e.clientWidth)+' px sideways: '+text(e));e.setAttribute('data-wb-sideways','');return;}
var r=e.getBoundingClientRect();
if(e.closest('main')&&r.width>0&&r.right>w+1){sideways.push(name(e)+' reaches '+Math.round(r.right)+' px: '+text(e));}});
var res=document.getElementById('mdbook-searchresults');
var hits=res?Array.prototype.map.call(res.querySelectorAll('a[href]'),function(a){return a.getAttribute('href');}):null;
var links=Array.prototype.map.call(document.querySelectorAll('main a[href]'),function(a){return a.getAttribute('href');});
var out=document.createElement('pre');out.id='workbook-probe';out.hidden=true;
out.textContent=JSON.stringify({width:w,scroll_width:d.scrollWidth,sideways:sideways.slice(0,5),
search_box:!!document.getElementById('mdbook-searchbar'),hits:hits,links:links});
document.body.appendChild(out);}
window.addEventListener('load',function(){setTimeout(report,1500);});})();</script>"#;

/// What the probe measured on one page.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Probe {
    pub width: i64,
    pub scroll_width: i64,
    /// Boxes that scroll sideways or stick out of the window (code blocks may scroll).
    pub sideways: Vec<String>,
    pub search_box: bool,
    /// The links of the search results list (None: there is no results list).
    pub hits: Option<Vec<String>>,
    /// Every link in the page's main text.
    pub links: Vec<String>,
}

/// The word to search for on a page: the longest word of its title.
fn search_word(title: &str) -> String {
    title
        .split(|c: char| !c.is_alphanumeric())
        .max_by_key(|w| w.len())
        .unwrap_or("")
        .to_lowercase()
}

/// Loads every chapter's rendered page in headless Chromium; without Chromium this is
/// skipped, unless WORKBOOK_REQUIRE_BROWSER is set (CI sets it).
pub(super) fn check_in_browser(out: &Path, chapters: &[Chapter], f: &mut Findings) -> Result<()> {
    let Some(browser) = chromium() else {
        if std::env::var_os("WORKBOOK_REQUIRE_BROWSER").is_some() {
            f.fail("headless Chromium is required (WORKBOOK_REQUIRE_BROWSER) but not installed: apt-get install chromium");
        } else {
            println!("  SKIP the browser check: no chromium installed (apt-get install chromium)");
        }
        return Ok(());
    };
    let pages: Vec<(String, String)> = chapters
        .iter()
        .map(|ch| {
            let shown = ch.title.split(':').next().unwrap_or(&ch.title).trim();
            (format!("{}.html", ch.dir_name()), shown.to_string())
        })
        .collect();
    let good = check_rendered_in_browser(&browser, out, &pages, f)?;
    println!(
        "  {good} of {} chapter pages render in headless Chromium at {WIDTH} px: no outside \
         request, no sideways scrolling, search finds them, no dangling link",
        pages.len()
    );
    // `out` is ROOT/target/verify/book: the pictures are the book's sources, measured in
    // wrapper pages beside the rendering.
    if let Some(root) = out.ancestors().nth(3) {
        let scratch = out.with_file_name("pictures");
        super::pictures::check_pictures(&browser, &root.join("book/src/img"), &scratch, f)?;
    }
    Ok(())
}

/// The browser check for `pages` (file name under `out`, and text its DOM must contain):
/// every problem goes to `f`; returns how many pages had none. `out` is changed: the probe
/// is added to each page.
pub fn check_rendered_in_browser(
    browser: &Path,
    out: &Path,
    pages: &[(String, String)],
    f: &mut Findings,
) -> Result<usize> {
    let scratch = tempfile::tempdir()?;
    let mut good = 0;
    let has_index = fs::read_dir(out)?.flatten().any(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        name.starts_with("searchindex") && (name.ends_with(".js") || name.ends_with(".json"))
    });
    if !has_index {
        f.fail(format!(
            "the rendered book has no search index ({}/searchindex*.js): is search enabled in \
             book.toml and mdbook-driver built with its `search` feature?",
            out.display()
        ));
    }
    for (i, (file, title_shown)) in pages.iter().enumerate() {
        let page = out.join(file);
        let html = fs::read_to_string(&page)
            .with_context(|| format!("cannot read the rendered page {}", page.display()))?;
        if !html.contains("workbook-probe") {
            let with_probe = match html.rfind("</body>") {
                Some(at) => format!("{}{PROBE}{}", &html[..at], &html[at..]),
                None => format!("{html}{PROBE}"),
            };
            fs::write(&page, with_probe)?;
        }
        let log = scratch.path().join(format!("{i}.netlog.json"));
        let profile = scratch.path().join(format!("profile-{i}"));
        let word = search_word(title_shown);
        let output = std::process::Command::new(browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--virtual-time-budget=5000",
            ])
            .arg(format!("--window-size={WIDTH},900"))
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(format!("--log-net-log={}", log.display()))
            .arg("--dump-dom")
            .arg(format!("file://{}?search={word}", page.display()))
            .output()
            .with_context(|| format!("cannot run {}", browser.display()))?;
        let dom = String::from_utf8_lossy(&output.stdout);
        if !output.status.success()
            || !dom.contains("<main>")
            || !dom.contains(title_shown.as_str())
        {
            f.fail(format!(
                "{file} did not render in Chromium (exit {:?}, title {title_shown:?} {} in the DOM)",
                output.status.code(),
                if dom.contains(title_shown.as_str()) { "present" } else { "missing" }
            ));
            continue;
        }
        let before = f.problems.len();
        let netlog = fs::read_to_string(&log).unwrap_or_default();
        for u in page_requests_leaving(&netlog) {
            f.fail(format!(
                "{file} made a request that leaves the machine: {u}"
            ));
        }
        match read_probe(&dom) {
            None => f.fail(format!(
                "{file}: the measuring script did not report (the page's scripts did not run?)"
            )),
            Some(p) => judge_probe(out, file, &word, &p, f),
        }
        if f.problems.len() == before {
            good += 1;
            f.pass(1);
        }
    }
    Ok(good)
}

/// The probe's report in a dumped DOM.
pub fn read_probe(dom: &str) -> Option<Probe> {
    let start = dom.find("id=\"workbook-probe\"")?;
    let body = &dom[start..];
    let body = &body[body.find('>')? + 1..];
    let body = &body[..body.find("</pre>")?];
    let json = body
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&json).ok()
}

/// Turns one page's measurements into findings.
pub fn judge_probe(out: &Path, file: &str, word: &str, p: &Probe, f: &mut Findings) {
    if p.scroll_width > p.width || !p.sideways.is_empty() {
        f.fail(format!(
            "{file} scrolls sideways at {WIDTH} px (the page is {} px wide in a {} px window): {}",
            p.scroll_width,
            p.width,
            p.sideways.join("; ")
        ));
    }
    if !p.search_box {
        f.fail(format!(
            "{file} has no search box (mdBook's #mdbook-searchbar): search is off in book.toml \
             or mdbook-driver lacks its `search` feature"
        ));
    } else {
        match &p.hits {
            None => f.fail(format!("{file}: the search results list is missing")),
            Some(hits) if !hits.iter().any(|h| h.contains(file)) => f.fail(format!(
                "{file}: searching the book for {word:?} (a word of its title) does not find the \
                 page ({} results): the search index is missing or broken",
                hits.len()
            )),
            Some(_) => {}
        }
    }
    let mut dangling = BTreeSet::new();
    for link in &p.links {
        if link.contains("://") || link.starts_with('#') || link.starts_with("mailto:") {
            continue;
        }
        let target = link.split(['#', '?']).next().unwrap_or("");
        if target.is_empty() {
            continue;
        }
        let dir = Path::new(file).parent().unwrap_or(Path::new(""));
        if !out.join(dir).join(target).exists() {
            dangling.insert(target.to_string());
        }
    }
    for d in dangling {
        f.fail(format!(
            "{file} links to {d}, which the book does not have (a chapter not in chapters/? say \
             \"a later chapter\" until it exists)"
        ));
    }
}

/// The URLs of a Chromium network log that the page itself asked for and that point off
/// this machine. Chromium's own background requests (update checks, account look-ups) carry
/// the initiator "not an origin" and are not the page's doing.
pub fn page_requests_leaving(netlog: &str) -> BTreeSet<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn a_probe_report_is_read_and_judged() {
        let dom = r#"<main>x</main><pre id="workbook-probe" hidden="">{&quot;width&quot;:1280,&quot;scroll_width&quot;:1500,&quot;sideways&quot;:[&quot;table x&quot;],&quot;search_box&quot;:false,&quot;hits&quot;:null,&quot;links&quot;:[&quot;gone.html&quot;]}</pre>"#;
        let p = read_probe(dom).unwrap();
        assert_eq!((p.width, p.scroll_width), (1280, 1500));
        let dir = tempfile::tempdir().unwrap();
        let mut f = Findings::default();
        judge_probe(dir.path(), "00-x.html", "x", &p, &mut f);
        assert_eq!(f.problems.len(), 3, "{:?}", f.problems);
        assert!(f.problems[0].contains("scrolls sideways"));
        assert!(f.problems[1].contains("no search box"));
        assert!(f.problems[2].contains("gone.html"));
    }

    #[test]
    fn the_search_word_is_the_longest_of_the_title() {
        assert_eq!(search_word("Certificates and keys"), "certificates");
    }
}
