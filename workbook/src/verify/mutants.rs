//! `workbook verify --mutants [N]`: mutation testing of the solution crates with
//! [cargo-mutants](https://mutants.rs), the chapter's tests as the oracle.
//!
//! For each chapter it copies the chapter into a scratch workspace under `target/verify/`
//! (certs, testkit, the exercise and the solution, as check 3 does), runs there
//! `cargo mutants -p chNN-slug-solution --in-place --no-shuffle` with the scratch build folder
//! `target/verify/target` (never the main one, whose artifacts share the scratch copies'
//! names; the real tree is never touched), keeps
//! cargo-mutants' report in `target/mutants/NN-slug/mutants.out/`, and maps every missed
//! mutant to its file and line. A missed mutant inside a region of the solution fails the
//! run unless the chapter lists it as `[[equivalent_mutant]]` (matched on the mutant's
//! description without file and line, e.g. `replace init with ()`); one outside the regions
//! is listed, not failed: that code is the same in the exercise and not the learner's.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use super::{
    mistakes::{make_scratch_workspace, scratch_target},
    select, Findings,
};
use crate::manifest::{self, Chapter};
use crate::regions;

/// How `cargo mutants` is run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Seconds a mutant's test run may take before it counts as a timeout.
    pub timeout: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options { timeout: 60 }
    }
}

/// One line of cargo-mutants' `missed.txt` (and the other lists):
/// `solutions/01-errors/src/lib.rs:26:5: replace init with ()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mutant {
    pub file: String,
    pub line: usize,
    /// The description without file and line, as `[[equivalent_mutant]] mutant` names it.
    pub description: String,
}

/// Parses one line of a cargo-mutants outcome list.
pub fn parse_mutant(line: &str) -> Option<Mutant> {
    let mut parts = line.splitn(4, ':');
    let file = parts.next()?.trim().to_string();
    let line_no = parts.next()?.trim().parse().ok()?;
    let third = parts.next()?;
    // file:line:col: description (older versions: file:line: description).
    let description = match third.trim().parse::<usize>() {
        Ok(_) => parts.next()?.trim().to_string(),
        Err(_) => match parts.next() {
            Some(rest) => format!("{third}:{rest}").trim().to_string(),
            None => third.trim().to_string(),
        },
    };
    Some(Mutant {
        file,
        line: line_no,
        description,
    })
}

/// Counts of one run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    pub caught: usize,
    pub missed: usize,
    pub unviable: usize,
    pub timeout: usize,
}

fn read_list(dir: &Path, name: &str) -> Vec<Mutant> {
    fs::read_to_string(dir.join(name))
        .unwrap_or_default()
        .lines()
        .filter_map(parse_mutant)
        .collect()
}

/// Judges the report in `out` (a `mutants.out` folder) for chapter `ch`, whose solution files
/// are read from `root`; prints the counts and returns them.
pub fn judge(root: &Path, ch: &Chapter, out: &Path, f: &mut Findings) -> Result<Counts> {
    let missed = read_list(out, "missed.txt");
    let counts = Counts {
        caught: read_list(out, "caught.txt").len(),
        missed: missed.len(),
        unviable: read_list(out, "unviable.txt").len(),
        timeout: read_list(out, "timeout.txt").len(),
    };
    let label = format!("ch{:02}", ch.number);
    let mut parsed_files: BTreeMap<String, regions::Parsed> = BTreeMap::new();
    for m in &missed {
        // The scratch workspace mirrors the real one: the same relative paths.
        let parsed = match parsed_files.get(&m.file) {
            Some(p) => p,
            None => {
                let text = fs::read_to_string(root.join(&m.file)).unwrap_or_default();
                parsed_files
                    .entry(m.file.clone())
                    .or_insert_with(|| regions::parse(&text))
            }
        };
        let in_region = parsed.regions.iter().any(|r| r.contains(m.line));
        let equivalent = ch
            .equivalent_mutants
            .iter()
            .find(|e| e.mutant.trim() == m.description);
        let at = format!("{}:{}", m.file, m.line);
        match (in_region, equivalent) {
            (true, None) => f.fail(format!(
                "{label}: a mutant inside a learner's region survives every test: {at}: {} \
                 (kill it with a test, or list it as [[equivalent_mutant]] with why)",
                m.description
            )),
            (true, Some(e)) => println!(
                "  {label}: equivalent, as listed: {at}: {} ({})",
                m.description, e.why
            ),
            (false, _) => f.warn(format!(
                "{label}: missed outside the regions (not the learner's code): {at}: {}",
                m.description
            )),
        }
    }
    for e in &ch.equivalent_mutants {
        if !missed.iter().any(|m| m.description == e.mutant.trim()) {
            f.warn(format!(
                "{label}: [[equivalent_mutant]] {:?} was not missed in this run (caught, or no \
                 longer generated): remove it if it is gone",
                e.mutant
            ));
        }
    }
    println!(
        "  {label}: {} caught, {} missed, {} unviable, {} timeout",
        counts.caught, counts.missed, counts.unviable, counts.timeout
    );
    Ok(counts)
}

/// Runs cargo-mutants for chapter N (or every chapter) and judges the missed mutants.
pub fn run(root: &Path, only: Option<u32>, opts: &Options) -> Result<bool> {
    let all = manifest::load(root)?;
    let chapters = select(&all, only)?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let probe = Command::new(&cargo).args(["mutants", "--version"]).output();
    if !probe.is_ok_and(|o| o.status.success()) {
        bail!("cargo-mutants is not installed: cargo install cargo-mutants --locked");
    }
    let mut f = Findings::default();
    let mut total = Counts::default();
    println!("mutation testing: every mutant inside a region is caught by a test, or listed as equivalent");
    for ch in chapters {
        let started = Instant::now();
        let ws = root
            .join("target/verify")
            .join(format!("mutants-{}", ch.dir_name()));
        make_scratch_workspace(root, &ws, ch)?;
        let out = root.join("target/mutants").join(ch.dir_name());
        fs::create_dir_all(&out)?;
        let mut cmd = Command::new(&cargo);
        cmd.current_dir(&ws)
            .args(["mutants", "-p", &ch.solution_package()])
            .args(["--in-place", "--no-shuffle", "--colors=never"])
            .arg(format!("--timeout={}", opts.timeout))
            .arg("--output")
            .arg(&out)
            .env("CARGO_TARGET_DIR", scratch_target(root))
            .env("CARGO_TERM_COLOR", "never");
        // What `cargo run` set for this program would make every child build start over.
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().into_owned();
            if k.starts_with("CARGO_PKG_")
                || k.starts_with("CARGO_BIN_")
                || [
                    "CARGO_MANIFEST_DIR",
                    "CARGO_MANIFEST_PATH",
                    "CARGO_CRATE_NAME",
                    "CARGO_PRIMARY_PACKAGE",
                ]
                .contains(&k.as_str())
            {
                cmd.env_remove(&k);
            }
        }
        println!(
            "  {}: cargo mutants -p {} (report in {})",
            ch.dir_name(),
            ch.solution_package(),
            out.join("mutants.out").display()
        );
        let status = cmd
            .status()
            .with_context(|| format!("cannot run cargo mutants for {}", ch.dir_name()))?;
        let report = out.join("mutants.out");
        // 0: all caught; 2: some missed; 3: some timed out; 4: the tests fail unmutated.
        match status.code() {
            Some(0) | Some(2) | Some(3) => {}
            Some(4) => {
                f.fail(format!(
                    "ch{:02}: the solution's tests fail before any mutation (see {})",
                    ch.number,
                    report.join("log").display()
                ));
                continue;
            }
            other => {
                f.fail(format!(
                    "ch{:02}: cargo mutants stopped with exit code {other:?} (see {})",
                    ch.number,
                    report.display()
                ));
                continue;
            }
        }
        let c = judge(root, ch, &report, &mut f)?;
        println!(
            "  {}: {:.0} s",
            ch.dir_name(),
            started.elapsed().as_secs_f64()
        );
        total.caught += c.caught;
        total.missed += c.missed;
        total.unviable += c.unviable;
        total.timeout += c.timeout;
    }
    println!(
        "mutants: {} caught, {} missed, {} unviable, {} timeout; {} problems",
        total.caught,
        total.missed,
        total.unviable,
        total.timeout,
        f.problems.len()
    );
    Ok(f.problems.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_lines_are_parsed_with_and_without_a_column() {
        let m = parse_mutant("solutions/01-errors/src/lib.rs:26:5: replace init with ()").unwrap();
        assert_eq!(m.file, "solutions/01-errors/src/lib.rs");
        assert_eq!(m.line, 26);
        assert_eq!(m.description, "replace init with ()");
        let m = parse_mutant("src/lib.rs:7: replace == with != in f").unwrap();
        assert_eq!(
            (m.line, m.description.as_str()),
            (7, "replace == with != in f")
        );
        let m = parse_mutant("src/lib.rs:7:9: replace f -> String with \"a:b\".into()").unwrap();
        assert_eq!(m.description, "replace f -> String with \"a:b\".into()");
        assert!(parse_mutant("").is_none());
    }

    /// A missed mutant in a region fails unless listed; one outside is only listed.
    #[test]
    fn missed_mutants_in_regions_fail_unless_listed_as_equivalent() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let src = root.join("solutions/01-x/src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(
            src.join("lib.rs"),
            "pub fn outside() -> u8 {\n    1\n}\npub fn f() -> bool {\n    // BEGIN EXERCISE\n    g() && h()\n    // END EXERCISE\n}\n",
        )
        .unwrap();
        let out = root.join("mutants.out");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(
            out.join("missed.txt"),
            "solutions/01-x/src/lib.rs:2:5: replace outside -> u8 with 0\n\
             solutions/01-x/src/lib.rs:6:9: replace && with || in f\n\
             solutions/01-x/src/lib.rs:6:5: replace f -> bool with true\n",
        )
        .unwrap();
        std::fs::write(out.join("caught.txt"), "a:1:1: x\nb:2:2: y\n").unwrap();
        let mut ch: Chapter = toml::from_str(
            "number = 1\nslug = \"x\"\ntitle = \"X\"\nsection = \"s\"\nsummary = \"s\"\nhints = [\"a\", \"b\", \"c\"]\n\
             [[equivalent_mutant]]\nmutant = \"replace f -> bool with true\"\nwhy = \"g and h are always true here\"\n",
        )
        .unwrap();
        let mut f = Findings::default();
        let c = judge(root, &ch, &out, &mut f).unwrap();
        assert_eq!((c.caught, c.missed, c.unviable, c.timeout), (2, 3, 0, 0));
        assert_eq!(f.problems.len(), 1, "{:?}", f.problems);
        assert!(f.problems[0].contains("lib.rs:6: replace && with || in f"));
        assert_eq!(f.warnings.len(), 1, "{:?}", f.warnings);
        assert!(f.warnings[0].contains("replace outside -> u8 with 0"));
        // Without the listing, the other region mutant fails too.
        ch.equivalent_mutants.clear();
        let mut f = Findings::default();
        judge(root, &ch, &out, &mut f).unwrap();
        assert_eq!(f.problems.len(), 2, "{:?}", f.problems);
    }
}
