//! `workbook book`: renders the book with the mdBook library (nothing to install), and with
//! `--serve` serves it on 127.0.0.1, rendering again when `book/` or `solutions/` change.
//!
//! Reload: every HTML page served gets a small inline script that asks the server every
//! second which rendering it has, and reloads the page when a newer one is there. Nothing
//! is fetched from outside.

use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, RwLock};
use std::thread;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use mdbook_driver::book::{Book, BookItem};
use mdbook_driver::MDBook;
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};
use notify::{RecursiveMode, Watcher};
use tiny_http::{Header, Response, Server};

use crate::learner;
use crate::ui;

/// Where the reload script asks for the rendering's number.
const VERSION_PATH: &str = "/__workbook/version";

/// Renders the book (`book/`) into its build folder and returns the path of `index.html`.
pub fn render(root: &Path) -> Result<PathBuf> {
    let book_root = root.join("book");
    if !book_root.join("book.toml").is_file() {
        anyhow::bail!(
            "there is no book to render: {} is missing",
            book_root.join("book.toml").display()
        );
    }
    let book = load(&book_root)?;
    book.build()
        .with_context(|| format!("cannot render the book in {}", book_root.display()))?;
    let dir = book.build_dir_for("html");
    let index = dir.join("index.html");
    if !index.is_file() {
        anyhow::bail!("the book was rendered but {} is not there", index.display());
    }
    Ok(learner::book_dir(root)
        .join("index.html")
        .canonicalize()
        .unwrap_or(index))
}

/// Loads the book at `book_root` with the workbook's own preprocessing step added.
fn load(book_root: &Path) -> Result<MDBook> {
    let mut book = MDBook::load(book_root)
        .with_context(|| format!("cannot load the book in {}", book_root.display()))?;
    book.with_preprocessor(Dedent);
    Ok(book)
}

/// Renders the book at `book` into `out` (not its configured build folder).
pub fn build_book(book: &Path, out: &Path) -> Result<()> {
    let mut md = load(book).map_err(|e| anyhow!("{e:#}"))?;
    md.config.build.build_dir = out.to_path_buf();
    md.build().map_err(|e| anyhow!("{e:#}"))?;
    Ok(())
}

/// Runs after mdBook's `links` step: every fenced code block loses the indentation all its
/// lines share. An `{{#include file:anchor}}` of code inside a function otherwise keeps the
/// function's 4 or 8 spaces, and mdBook does not take them off.
struct Dedent;

impl Preprocessor for Dedent {
    fn name(&self) -> &str {
        "workbook-dedent"
    }

    fn run(
        &self,
        _ctx: &PreprocessorContext,
        mut book: Book,
    ) -> mdbook_driver::errors::Result<Book> {
        book.for_each_mut(|item| {
            if let BookItem::Chapter(ch) = item {
                ch.content = dedent_code_blocks(&ch.content);
            }
        });
        Ok(book)
    }
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// `markdown` with the common indentation of each fenced code block's lines removed (beyond
/// the indentation of the fence itself, which may sit in a list).
pub fn dedent_code_blocks(markdown: &str) -> String {
    let lines: Vec<&str> = markdown.split('\n').collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let t = line.trim_start();
        out.push(line.to_string());
        i += 1;
        if !(t.starts_with("```") || t.starts_with("~~~")) {
            continue;
        }
        let fence = &t[..3];
        let Some(len) = lines[i..]
            .iter()
            .position(|l| l.trim_start().starts_with(fence))
        else {
            continue;
        };
        let body = &lines[i..i + len];
        let common = body
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| indent(l))
            .min()
            .unwrap_or(0);
        let extra = common.saturating_sub(indent(line));
        for l in body {
            out.push(l.get(extra.min(indent(l))..).unwrap_or("").to_string());
        }
        out.push(lines[i + len].to_string());
        i += len + 1;
    }
    out.join("\n")
}

fn reload_script(version: u64) -> String {
    format!(
        "<script>(function(){{var v={version};setInterval(function(){{\
         fetch('{VERSION_PATH}',{{cache:'no-store'}}).then(function(r){{return r.text();}})\
         .then(function(t){{if(parseInt(t,10)!==v){{location.reload();}}}}).catch(function(){{}});\
         }},1000);}})();</script>"
    )
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "ico" => "image/x-icon",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The file under `dir` that `url` names, refusing anything that climbs out of it.
fn file_for(dir: &Path, url: &str) -> Option<PathBuf> {
    let path = url.split(['?', '#']).next().unwrap_or("/");
    let decoded = percent_decode(path)?;
    let mut out = dir.to_path_buf();
    for c in Path::new(decoded.trim_start_matches('/')).components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if out.is_dir() {
        out.push("index.html");
    }
    out.is_file().then_some(out)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("a valid header")
}

/// One rendering being served: its folder and number.
struct Site {
    dir: PathBuf,
    version: u64,
}

/// Where `--serve` puts each new rendering: a fresh folder per rendering, so a page is never
/// read from a folder mdBook is emptying and filling again.
fn serve_dir(root: &Path) -> PathBuf {
    root.join("target/book-serve")
}

/// Removes renderings left by `--serve` processes that are gone.
fn clean_old_renderings(root: &Path) {
    let Ok(entries) = std::fs::read_dir(serve_dir(root)) else {
        return;
    };
    let me = std::process::id().to_string();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let pid = name.split('-').next().unwrap_or("");
        let alive =
            pid == me || Path::new("/proc").join(pid).exists() || !Path::new("/proc").is_dir();
        if !alive {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Renders the book into a fresh folder and returns it.
fn render_fresh(root: &Path, version: u64) -> Result<PathBuf> {
    let dir = serve_dir(root).join(format!("{}-{version}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    build_book(&root.join("book"), &dir)?;
    if !dir.join("index.html").is_file() {
        anyhow::bail!(
            "the book was rendered but {} has no index.html",
            dir.display()
        );
    }
    Ok(dir)
}

/// Answers one request from `site`.
fn respond(request: tiny_http::Request, site: &Site, current: u64) {
    let url = request.url().to_string();
    let response = if url.split('?').next() == Some(VERSION_PATH) {
        Response::from_string(current.to_string())
            .with_header(header("Content-Type", "text/plain"))
            .with_header(header("Cache-Control", "no-store"))
    } else {
        match file_for(&site.dir, &url).map(|p| (std::fs::read(&p), p)) {
            Some((Ok(mut bytes), p)) => {
                let ct = content_type(&p);
                if ct.starts_with("text/html") {
                    let mut text = String::from_utf8_lossy(&bytes).into_owned();
                    let script = reload_script(site.version);
                    match text.rfind("</body>") {
                        Some(i) => text.insert_str(i, &script),
                        None => text.push_str(&script),
                    }
                    bytes = text.into_bytes();
                }
                Response::from_data(bytes)
                    .with_header(header("Content-Type", ct))
                    .with_header(header("Cache-Control", "no-cache"))
            }
            _ => Response::from_string(format!("not found: {url}\n"))
                .with_status_code(404)
                .with_header(header("Content-Type", "text/plain")),
        }
    };
    let _ = request.respond(response);
}

/// Serves the rendered book on 127.0.0.1:`port` (0: any free port) until killed.
///
/// Each re-rendering goes into a fresh folder and is swapped in whole once it is complete;
/// the folder before it is removed a while later, when no request can still be reading it.
/// Every request is answered on its own thread, so a client that pipelines requests and never
/// reads the answers stalls only itself.
pub fn serve(root: &Path, port: u16) -> Result<()> {
    let me = ui::me();
    clean_old_renderings(root);
    let first = render_fresh(root, 1)?;
    let server = Server::http(("127.0.0.1", port))
        .map_err(|e| anyhow!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    let addr = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| anyhow!("the server has no IP address"))?;
    let version = Arc::new(AtomicU64::new(1));
    let site = Arc::new(RwLock::new(Arc::new(Site {
        dir: first.clone(),
        version: 1,
    })));
    println!("Rendered: {}", first.join("index.html").display());
    println!("Serving the book at http://{addr}/ (pages reload after each change; Ctrl-C stops)");

    // Render again when the pages or the code they include change.
    let (tx, rx) = mpsc::channel::<()>();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(ev) = res {
            if !matches!(ev.kind, notify::EventKind::Access(_)) {
                let _ = tx.send(());
            }
        }
    })
    .ok();
    let mut watching = Vec::new();
    if let Some(w) = watcher.as_mut() {
        for d in ["book/src", "book/book.toml", "book/theme", "solutions"] {
            let p = root.join(d);
            if p.exists() && w.watch(&p, RecursiveMode::Recursive).is_ok() {
                watching.push(d);
            }
        }
    }
    if watching.is_empty() {
        println!(
            "{} cannot watch book/ for changes here; restart `{me} book --serve` to see edits",
            ui::note("note:")
        );
    }
    {
        let root = root.to_path_buf();
        let version = version.clone();
        let site = site.clone();
        thread::spawn(move || {
            let _keep = watcher;
            while rx.recv().is_ok() {
                while rx.recv_timeout(Duration::from_millis(300)).is_ok() {}
                let v = version.load(Ordering::SeqCst) + 1;
                match render_fresh(&root, v) {
                    Ok(dir) => {
                        let old = {
                            let mut current = site.write().unwrap_or_else(|e| e.into_inner());
                            std::mem::replace(&mut *current, Arc::new(Site { dir, version: v }))
                        };
                        version.store(v, Ordering::SeqCst);
                        println!("Rendered again (rendering {v}); open pages reload.");
                        // Requests that took the old folder are done long before this.
                        thread::spawn(move || {
                            thread::sleep(Duration::from_secs(30));
                            let _ = std::fs::remove_dir_all(&old.dir);
                        });
                    }
                    Err(e) => eprintln!("{} {e:#}", ui::bad("cannot render the book:")),
                }
            }
        });
    }

    for request in server.incoming_requests() {
        let current = site.read().unwrap_or_else(|e| e.into_inner()).clone();
        let v = version.load(Ordering::SeqCst);
        thread::spawn(move || respond(request, &current, v));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_blocks_lose_their_common_indentation_and_nothing_else_does() {
        let md = "    kept\n```rust\n        let x = 1;\n            y(x);\n\n    }\n```\n  - item\n    ```\n          inner\n    ```\n";
        assert_eq!(
            dedent_code_blocks(md),
            "    kept\n```rust\n    let x = 1;\n        y(x);\n\n}\n```\n  - item\n    ```\n    inner\n    ```\n"
        );
        assert_eq!(dedent_code_blocks("```\nopen"), "```\nopen");
    }

    #[test]
    fn urls_stay_inside_the_book() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "x").unwrap();
        std::fs::write(dir.path().join("a b.html"), "x").unwrap();
        assert!(file_for(dir.path(), "/").is_some());
        assert!(file_for(dir.path(), "/a%20b.html?x=1").is_some());
        assert!(file_for(dir.path(), "/../etc/passwd").is_none());
        assert!(file_for(dir.path(), "/%2e%2e/x").is_none());
        assert!(file_for(dir.path(), "/nothing.html").is_none());
    }
}
