//! `workbook book --serve` against clients that misbehave and edits that keep coming: the
//! built binary serves a small book from a scratch workbook.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the server when the test ends, however it ends.
struct Served {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
    root: std::path::PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scratch workbook with a small book, one large file in it (so that an answer does not fit
/// in the socket buffers) and the real chapter 00 manifest.
fn serve_scratch_book() -> Served {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    std::fs::create_dir_all(root.join("chapters")).unwrap();
    std::fs::copy(
        real.join("chapters/00-overview.toml"),
        root.join("chapters/00-overview.toml"),
    )
    .unwrap();
    std::fs::write(root.join("Cargo.toml"), "[workspace]\n").unwrap();
    std::fs::create_dir_all(root.join("book/src")).unwrap();
    std::fs::write(
        root.join("book/book.toml"),
        "[book]\ntitle = \"Scratch\"\nsrc = \"src\"\n[build]\nbuild-dir = \"../target/book\"\ncreate-missing = false\n",
    )
    .unwrap();
    std::fs::write(
        root.join("book/src/SUMMARY.md"),
        "# Summary\n\n- [Small](small.md)\n",
    )
    .unwrap();
    std::fs::write(root.join("book/src/small.md"), "# Small\n\nA page.\n").unwrap();
    std::fs::write(root.join("book/src/big.bin"), vec![b'x'; 24 << 20]).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_workbook"))
        .arg("--root")
        .arg(&root)
        .args(["book", "--serve", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("the server stopped before saying where it serves")
            .unwrap();
        if let Some(rest) = line.split("http://").nth(1) {
            break rest.split('/').next().unwrap().parse().unwrap();
        }
    };
    // Keep reading its output so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Served {
        child,
        addr,
        _dir: dir,
        root,
    }
}

/// One HTTP/1.0 GET: the status code and the whole body, or what went wrong.
fn get(addr: SocketAddr, path: &str) -> Result<(u16, Vec<u8>), String> {
    let mut s = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").map_err(|e| e.to_string())?;
    let mut all = Vec::new();
    s.read_to_end(&mut all)
        .map_err(|e| format!("no complete answer for {path} within 5 s: {e}"))?;
    let head_end = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no header")?;
    let head = String::from_utf8_lossy(&all[..head_end]).to_string();
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or("no status")?;
    let body = all[head_end + 4..].to_vec();
    if let Some(len) = head.lines().find_map(|l| {
        l.to_ascii_lowercase()
            .strip_prefix("content-length:")
            .map(|v| v.trim().to_string())
    }) {
        let len: usize = len.parse().unwrap();
        if len != body.len() {
            return Err(format!(
                "{path}: Content-Length {len} but {} bytes came",
                body.len()
            ));
        }
    }
    Ok((code, body))
}

#[test]
fn a_client_that_pipelines_and_never_reads_does_not_stall_the_others() {
    let served = serve_scratch_book();
    assert_eq!(get(served.addr, "/small.html").unwrap().0, 200);
    // Ask for the large file many times on one connection and never read an answer.
    let mut greedy = TcpStream::connect(served.addr).unwrap();
    for _ in 0..20 {
        write!(greedy, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    }
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let answer = get(served.addr, "/small.html");
    assert!(
        matches!(answer, Ok((200, _))),
        "with one client stuck, another got {answer:?} after {:?}: the server answers one \
         request at a time",
        started.elapsed()
    );
    drop(greedy);
}

#[test]
fn pages_are_whole_and_never_missing_while_the_book_is_rendered_again() {
    let served = serve_scratch_book();
    let page = served.root.join("book/src/small.md");
    let stop = Instant::now() + Duration::from_secs(6);
    let editor = std::thread::spawn(move || {
        let mut n = 0;
        while Instant::now() < stop {
            n += 1;
            std::fs::write(&page, format!("# Small\n\nA page, edit {n}.\n")).unwrap();
            std::thread::sleep(Duration::from_millis(400));
        }
    });
    let (mut ok, mut bad) = (0, Vec::new());
    while Instant::now() < stop {
        for path in ["/small.html", "/index.html", "/"] {
            match get(served.addr, path) {
                Ok((200, body))
                    if String::from_utf8_lossy(&body)
                        .trim_end()
                        .ends_with("</html>") =>
                {
                    ok += 1
                }
                Ok((code, body)) => bad.push(format!(
                    "{path}: {code}, {} bytes, ending {:?}",
                    body.len(),
                    String::from_utf8_lossy(&body[body.len().saturating_sub(40)..])
                )),
                Err(e) => bad.push(e),
            }
        }
    }
    editor.join().unwrap();
    assert!(
        bad.is_empty(),
        "{} of {} requests during re-rendering came back missing or cut short: {:?}",
        bad.len(),
        bad.len() + ok,
        &bad[..bad.len().min(5)]
    );
}
