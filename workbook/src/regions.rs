//! The one parser of marked regions: `// BEGIN EXERCISE` ... `// END EXERCISE` in a chapter's
//! source, with the `// ANCHOR: name` / `// ANCHOR_END: name` lines the book includes by.
//!
//! Everything that asks "is this line the learner's?" (the region comparison of `verify`, the
//! shipped-copy check of `reset`, the no-answer-on-the-page check, the mutation check) asks it
//! here, so the answers cannot drift apart.

use std::collections::BTreeMap;

/// The line that opens a region the learner fills in.
pub const BEGIN: &str = "// BEGIN EXERCISE";
/// The line that closes it.
pub const END: &str = "// END EXERCISE";

/// What one line of a source file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Outside every region: the same in exercise and solution.
    Outside,
    /// A `BEGIN EXERCISE` or `END EXERCISE` line.
    Marker,
    /// An `ANCHOR:` or `ANCHOR_END:` line inside a region.
    Anchor,
    /// Code inside a region: the learner's.
    Inside,
}

/// One region: its lines (1-based, markers excluded) and the code in it without anchor lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// Line number of the `BEGIN EXERCISE` line.
    pub begin: usize,
    /// Line number of the `END EXERCISE` line.
    pub end: usize,
    /// `(line number, text)` of every code line inside, anchor lines left out.
    pub code: Vec<(usize, String)>,
}

impl Region {
    /// Whether 1-based line `n` lies strictly between the markers.
    pub fn contains(&self, n: usize) -> bool {
        self.begin < n && n < self.end
    }
}

/// A parsed source file.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The kind of every line, in order (index 0 is line 1).
    pub kinds: Vec<Kind>,
    pub regions: Vec<Region>,
    /// Every anchor: name to the (1-based) lines of its `ANCHOR:` and `ANCHOR_END:` lines.
    pub anchors: BTreeMap<String, (usize, usize)>,
    /// What is wrong with the markers, if anything (unbalanced or nested).
    pub problem: Option<String>,
}

fn anchor_name<'a>(trimmed: &'a str, kind: &str) -> Option<&'a str> {
    trimmed
        .strip_prefix("//")
        .map(str::trim_start)
        .and_then(|r| r.strip_prefix(kind))
        .map(str::trim)
}

/// An anchor line inside a region is the solution's alone and ignored by the comparison; one
/// outside a region marks a worked example the book shows, and is compared like any line.
fn anchor_kind(inside: bool) -> Kind {
    if inside {
        Kind::Anchor
    } else {
        Kind::Outside
    }
}

/// Parses `text`. Never fails: a malformed file is parsed as far as it goes and the first
/// problem is kept in [`Parsed::problem`].
pub fn parse(text: &str) -> Parsed {
    let mut kinds = Vec::new();
    let mut regions = Vec::new();
    let mut anchors = BTreeMap::new();
    let mut open_anchors: BTreeMap<String, usize> = BTreeMap::new();
    let mut problem = None;
    let mut current: Option<Region> = None;
    let mut note = |p: String| {
        if problem.is_none() {
            problem = Some(p);
        }
    };
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let t = line.trim();
        if t == BEGIN {
            if current.is_some() {
                note(format!("line {n}: a region opens inside another"));
            }
            current = Some(Region {
                begin: n,
                end: n,
                code: Vec::new(),
            });
            kinds.push(Kind::Marker);
        } else if t == END {
            match current.take() {
                Some(mut r) => {
                    r.end = n;
                    regions.push(r);
                }
                None => note(format!("line {n}: a region closes that was never opened")),
            }
            kinds.push(Kind::Marker);
        } else if let Some(name) = anchor_name(t, "ANCHOR:") {
            open_anchors.insert(name.to_string(), n);
            kinds.push(anchor_kind(current.is_some()));
        } else if let Some(name) = anchor_name(t, "ANCHOR_END:") {
            if let Some(start) = open_anchors.remove(name) {
                anchors.insert(name.to_string(), (start, n));
            }
            kinds.push(anchor_kind(current.is_some()));
        } else if let Some(r) = current.as_mut() {
            r.code.push((n, line.to_string()));
            kinds.push(Kind::Inside);
        } else {
            kinds.push(Kind::Outside);
        }
    }
    if current.is_some() {
        note("a region is never closed".to_string());
    }
    Parsed {
        kinds,
        regions,
        anchors,
        problem,
    }
}

/// The file with every region's contents (its anchor lines included) removed, markers kept: what
/// must be the same in exercise and solution. Returns those lines and the number of regions,
/// or what is wrong with the markers.
pub fn outside(text: &str) -> Result<(Vec<String>, usize), String> {
    let parsed = parse(text);
    if let Some(p) = parsed.problem {
        return Err(p);
    }
    let lines = text
        .lines()
        .zip(&parsed.kinds)
        .filter(|(_, k)| matches!(k, Kind::Outside | Kind::Marker))
        .map(|(l, _)| l.to_string())
        .collect();
    Ok((lines, parsed.regions.len()))
}

/// [`outside`] as one string, forgiving malformed markers (they then compare as text): for
/// telling whether two versions of a file are the same course.
pub fn outside_text(text: &str) -> String {
    let parsed = parse(text);
    let mut out = String::new();
    for (line, kind) in text.lines().zip(&parsed.kinds) {
        if matches!(kind, Kind::Outside | Kind::Marker) {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The region bodies as text (anchor lines included), as the learner sees them in the
/// exercise.
pub fn bodies(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    parse(text)
        .regions
        .iter()
        .map(|r| lines[r.begin..r.end - 1].join("\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOL: &str = "a\n    // BEGIN EXERCISE\n    // ANCHOR: x\n    let y = 1;\n    // ANCHOR_END: x\n    // END EXERCISE\nb\n";
    const EX: &str =
        "a\n    // BEGIN EXERCISE\n    let y: u8 = todo!(\"ch00: y\");\n    // END EXERCISE\nb\n";

    #[test]
    fn regions_are_cut_and_anchor_lines_ignored() {
        assert_eq!(outside(SOL).unwrap(), outside(EX).unwrap());
        assert_eq!(outside(EX).unwrap().1, 1);
        assert_eq!(outside_text(SOL), outside_text(EX));
        assert_ne!(outside_text(EX), outside_text("fn g() {}\n"));
    }

    #[test]
    fn malformed_markers_are_named() {
        assert!(outside("// BEGIN EXERCISE\n").is_err());
        assert!(outside("// END EXERCISE\n").is_err());
        assert!(outside("// BEGIN EXERCISE\n// BEGIN EXERCISE\n// END EXERCISE\n").is_err());
        // An anchor outside every region is compared like code: the exercise needs it too.
        let (lines, n) = outside("// ANCHOR: a\nx\n// ANCHOR_END: a\n").unwrap();
        assert_eq!((lines.len(), n), (3, 0));
        assert_eq!(
            parse("// ANCHOR: a\nx\n// ANCHOR_END: a\n").anchors["a"],
            (1, 3)
        );
    }

    #[test]
    fn lines_anchors_and_regions_are_located() {
        let p = parse(SOL);
        assert_eq!(p.regions.len(), 1);
        let r = &p.regions[0];
        assert_eq!((r.begin, r.end), (2, 6));
        assert_eq!(r.code, vec![(4, "    let y = 1;".to_string())]);
        assert!(r.contains(4) && !r.contains(2) && !r.contains(7));
        assert_eq!(p.anchors["x"], (3, 5));
        assert_eq!(p.kinds[0], Kind::Outside);
        assert_eq!(p.kinds[3], Kind::Inside);
        assert_eq!(bodies(EX), vec!["    let y: u8 = todo!(\"ch00: y\");"]);
    }
}
