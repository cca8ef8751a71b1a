//! `workbook doctor`: is everything the chapters need on this machine? One line each: what
//! was found, or what is missing and the command that installs it.

use std::path::Path;
use std::process::Command;

use crate::ui;

/// One check's outcome.
#[derive(Debug)]
pub struct Check {
    pub what: &'static str,
    /// What was found, or None when it is missing.
    pub found: Option<String>,
    /// How to fix it when missing.
    pub fix: &'static str,
    /// A remark even when found (an old version, say).
    pub warning: Option<String>,
}

/// The first line a program prints for `args`, if it runs and succeeds.
fn first_line(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = if out.stdout.is_empty() {
        out.stderr
    } else {
        out.stdout
    };
    let line = String::from_utf8_lossy(&text)
        .lines()
        .next()?
        .trim()
        .to_string();
    Some(line)
}

fn major(version: &str) -> Option<u32> {
    version
        .split(|c: char| !c.is_ascii_digit())
        .find(|s| !s.is_empty())?
        .parse()
        .ok()
}

fn too_old(version: &str) -> Option<String> {
    match major(version) {
        Some(m) if m < 3 => Some(format!(
            "OpenSSL {version} is older than 3.0; the chapters are written for OpenSSL 3 and some \
             tests expect its behaviour"
        )),
        _ => None,
    }
}

/// Runs every check.
pub fn checks() -> Vec<Check> {
    let mut out = Vec::new();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    out.push(Check {
        what: "cargo",
        found: first_line(&cargo, &["--version"]),
        fix: "install Rust with rustup: https://rustup.rs",
        warning: None,
    });
    out.push(Check {
        what: "C compiler (cc)",
        found: first_line("cc", &["--version"]),
        fix: "install with `apt-get install build-essential` (openssl-sys compiles a little C)",
        warning: None,
    });
    let pkg = first_line("pkg-config", &["--version"]);
    let have_pkg = pkg.is_some();
    out.push(Check {
        what: "pkg-config",
        found: pkg.map(|v| format!("pkg-config {v}")),
        fix: "install with `apt-get install pkg-config` (openssl-sys finds OpenSSL with it)",
        warning: None,
    });
    // The headers: pkg-config knows their version and folder.
    let headers = if have_pkg {
        first_line("pkg-config", &["--modversion", "openssl"]).map(|v| {
            let include =
                first_line("pkg-config", &["--variable=includedir", "openssl"]).unwrap_or_default();
            let h = Path::new(&include).join("openssl").join("ssl.h");
            if include.is_empty() || h.is_file() {
                (format!("OpenSSL {v} headers"), too_old(&v))
            } else {
                (
                    format!("OpenSSL {v} (pkg-config)"),
                    Some(format!("{} is not there", h.display())),
                )
            }
        })
    } else {
        Path::new("/usr/include/openssl/ssl.h").is_file().then(|| {
            (
                "headers in /usr/include/openssl (version unknown without pkg-config)".to_string(),
                None,
            )
        })
    };
    out.push(Check {
        what: "OpenSSL headers",
        found: headers.as_ref().map(|(f, _)| f.clone()),
        fix: "install with `apt-get install libssl-dev` (the headers openssl-sys builds against)",
        warning: headers.and_then(|(_, w)| w),
    });
    let program = first_line("openssl", &["version"]);
    out.push(Check {
        what: "openssl program",
        warning: program
            .as_deref()
            .and_then(|v| too_old(v.trim_start_matches("OpenSSL").trim())),
        found: program,
        fix: "install with `apt-get install openssl` (the tests' reference peer)",
    });
    out.push(Check {
        what: "python3 with ssl",
        found: first_line("python3", &["-c", "import ssl, sys; print('Python', sys.version.split()[0], 'with', ssl.OPENSSL_VERSION)"]),
        fix: "install with `apt-get install python3` (the tests' misbehaving peer needs its ssl module)",
        warning: None,
    });
    out.push(Check {
        what: "curl",
        found: first_line("curl", &["--version"])
            .map(|l| l.split(" (").next().unwrap_or(&l).to_string()),
        fix: "install with `apt-get install curl` (a real HTTPS client the tests use)",
        warning: None,
    });
    out
}

/// Prints the checks; returns whether everything needed is there.
pub fn run() -> bool {
    let me = ui::me();
    let checks = checks();
    let mut ok = true;
    for c in &checks {
        match &c.found {
            Some(f) => {
                println!("{} {:<18} {f}", ui::good("OK     "), c.what);
                if let Some(w) = &c.warning {
                    println!("{} {:<18} {w}", ui::note("warning"), "");
                }
            }
            None => {
                ok = false;
                println!("{} {:<18} missing: {}", ui::bad("MISSING"), c.what, c.fix);
            }
        }
    }
    println!();
    if ok {
        println!("Everything the chapters need is here.");
    } else {
        println!("Install what is missing, then run `{me} doctor` again.");
    }
    ok
}
