//! Check 8: no answer in a `todo!()`. A `todo!()` says what to achieve and why; the names of
//! the calls belong in hint 2 and their shape in hint 3, which the learner asks for. This is
//! check 7's idea applied to the one text the learner reads first, compared by identifier
//! rather than by line, because a `todo!()` is prose and gives an answer away one name at a
//! time.
//!
//! For every region, the `todo!()` text of the exercise is compared with the code of the
//! solution's region (comments and string literals left out). The check fails when the text
//!
//! - names an identifier the solution's region uses and the learner is not given: one that
//!   appears nowhere in the exercise's sources outside the regions (nor in the exercise's
//!   region around the `todo!()`, such as a type annotation), is no Rust keyword or prelude
//!   name, and is written as code: with `_`, `::`, `.`, `(`, backticks, or an upper-case letter
//!   after the first (`SslConnector`, `PEER`);
//! - or holds a significant line of the solution's region (as check 7 defines it).
//!
//! The same run holds the other half of the rule: every region is covered by hint 2 and by
//! hint 3, each naming at least one of the calls the region's solution makes (a region no hint
//! speaks of leaves the learner with a `todo!()` that asks and nothing that answers).

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use anyhow::Result;

use super::answers::significant;
use super::compare::rust_files;
use super::Findings;
use crate::manifest::Chapter;
use crate::regions::{self, Kind};

/// Names every learner knows before chapter 00: keywords and the prelude. Naming them in a
/// `todo!()` gives nothing away.
const PRELUDE: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "false", "fn", "for", "if",
    "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self",
    "Self", "static", "struct", "super", "trait", "true", "type", "use", "where", "while", "Ok",
    "Err", "Some", "None", "Option", "Result", "String", "Vec", "Box", "u8", "u16", "u32", "u64",
    "usize", "i32", "i64", "bool", "str", "todo",
];

/// Words that are the subject matter, not an API, even where the solution also uses them as
/// names (`SslFiletype::PEM` is a file format the `todo!()` may well speak of).
const VOCABULARY: &[&str] = &[
    "PEM", "DER", "TLS", "SSL", "TCP", "IP", "IPv4", "IPv6", "DNS", "SNI", "CA", "CAs", "OpenSSL",
    "RSA", "PKCS", "SHA", "EOF", "OK",
];

/// Splits Rust source into tokens, dropping comments and the contents of string and character
/// literals: what the code *calls*, not what it says. Returns the identifiers in order.
fn code_identifiers(code: &str) -> Vec<String> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
        } else if c == 'r' && matches!(next, Some('"') | Some('#')) {
            // A raw string: r"...", r#"..."#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push("r".to_string());
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= chars.len() {
                    break;
                }
                if chars[j] == '"' && (1..=hashes).all(|h| chars.get(j + h) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            i = j;
        } else if c == '\'' {
            // A char literal ('a', '\n') or a lifetime ('a): skip the literal, keep going
            // after the quote for a lifetime.
            if next == Some('\\') {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            // `b"..."` and `br"..."` are byte strings: the letter is no identifier.
            if (word == "b" || word == "br") && matches!(chars.get(i), Some('"') | Some('#')) {
                continue;
            }
            out.push(word);
        } else {
            i += 1;
        }
    }
    out
}

/// The identifiers of a `todo!()` text that are written as code (see the module comment).
fn code_like_words(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if !(c.is_alphabetic() || c == '_') {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        let before = start.checked_sub(1).map(|j| chars[j]);
        let before2 = start.checked_sub(2).map(|j| chars[j]);
        let after = chars.get(i).copied();
        let after2 = chars.get(i + 1).copied();
        let upper_inside = word.chars().skip(1).any(|c| c.is_uppercase());
        let code = word.contains('_')
            || upper_inside
            || before == Some('.')
            || before == Some('`')
            || (before == Some(':') && before2 == Some(':'))
            || after == Some('(')
            || after == Some('!')
            || after == Some('`')
            || (after == Some(':') && after2 == Some(':'));
        // A word that is only `_`, or a sentence's `e.g`: no name.
        if code && word.chars().any(|c| c.is_alphabetic()) {
            out.push(word);
        }
    }
    out
}

/// The text of the first `todo!()` in `body`: its string literal, escapes left as written.
pub fn todo_text(body: &str) -> Option<String> {
    let start = body.find("todo!(")? + "todo!(".len();
    let rest = &body[start..];
    let open = rest.find('"')?;
    let chars: Vec<char> = rest[open + 1..].chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '"' => return Some(out),
            '\\' if chars.get(i + 1) == Some(&'\n') => {
                // A continued line: the newline and the next line's indent are not text.
                i += 2;
                while chars.get(i).is_some_and(|c| c.is_whitespace()) {
                    i += 1;
                }
                continue;
            }
            '\\' => {
                if let Some(&n) = chars.get(i + 1) {
                    out.push(n);
                }
                i += 2;
                continue;
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(out)
}

/// One region, as the check sees it.
#[derive(Debug, Default)]
pub struct RegionTodo {
    /// `exercises/NN-slug/src/lib.rs:LINE`, the `BEGIN EXERCISE` line.
    pub place: String,
    /// The `todo!()` text of the exercise, if there is one.
    pub todo: Option<String>,
    /// Identifiers of the solution's region the learner is not given.
    pub hidden: BTreeSet<String>,
    /// The names the solution calls or names as a path, given or not, its own bindings left
    /// out: a hint that speaks of the region names one of them.
    pub calls: BTreeSet<String>,
    /// Significant lines of the solution's region.
    pub lines: Vec<String>,
}

/// What the learner is given in one file: every identifier outside its regions, plus the code
/// of the exercise's regions outside their `todo!()` strings.
fn given_words(exercise_texts: &[String]) -> BTreeSet<String> {
    let mut given: BTreeSet<String> = PRELUDE.iter().map(|s| s.to_string()).collect();
    for text in exercise_texts {
        let parsed = regions::parse(text);
        let mut code = String::new();
        for (line, kind) in text.lines().zip(&parsed.kinds) {
            if *kind == Kind::Outside {
                code.push_str(line);
                code.push('\n');
            }
        }
        for body in regions::bodies(text) {
            // The `todo!()` string is left out by the tokenizer (it is a literal).
            code.push_str(&body);
            code.push('\n');
        }
        given.extend(code_identifiers(&code));
    }
    given
}

/// Names the solution binds itself (`let x`, `for x in`, closure parameters `|x|`): its own
/// words, not the API's.
fn bound_names(code: &str) -> BTreeSet<String> {
    let tokens = code_identifiers(code);
    let mut out = BTreeSet::new();
    for w in tokens.windows(2) {
        if matches!(w[0].as_str(), "let" | "mut" | "for" | "ref") {
            out.insert(w[1].clone());
        }
    }
    // Closure parameters and pattern bindings: a lower-case identifier directly after `|` or
    // `(` in a `let`/`if let`/`match` pattern is too fine a distinction for a tokenizer;
    // closures are the common case.
    let mut in_bars = false;
    let mut word = String::new();
    for c in code.chars() {
        if c == '|' {
            in_bars = !in_bars;
            continue;
        }
        if in_bars {
            if c.is_alphanumeric() || c == '_' {
                word.push(c);
            } else if !word.is_empty() {
                out.insert(std::mem::take(&mut word));
            }
        }
    }
    out
}

/// The names the solution's region calls or names as a path: `x.call(`, `f(`, `Type::`,
/// `::item`, and types and constants (`SslConnector`, `PEER`).
fn called_names(code: &str) -> BTreeSet<String> {
    // Strip comments and literals first by re-joining the identifiers with the punctuation:
    // code_identifiers drops punctuation, so look at the source with literals blanked.
    let blanked = blank_literals(code);
    code_like_words(&blanked).into_iter().collect()
}

/// `code` with comments removed and the insides of string literals replaced by spaces, so
/// that [`code_like_words`] sees only code.
fn blank_literals(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '"' {
            out.push('"');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                out.push(' ');
                i += 1;
            }
            out.push('"');
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Compares every region of one chapter. `exercise` and `solution` are the `(relative path,
/// text)` of the crate's source files.
pub fn chapter_regions(
    label: &str,
    exercise: &[(String, String)],
    solution: &[(String, String)],
) -> Vec<RegionTodo> {
    let given = given_words(&exercise.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>());
    let vocabulary: BTreeSet<&str> = VOCABULARY.iter().copied().collect();
    let mut out = Vec::new();
    for (rel, ex_text) in exercise {
        let Some((_, sol_text)) = solution.iter().find(|(r, _)| r == rel) else {
            continue; // check 4 reports it
        };
        let ex_regions = regions::parse(ex_text).regions;
        let ex_bodies = regions::bodies(ex_text);
        let sol_regions = regions::parse(sol_text).regions;
        for ((r, body), s) in ex_regions.iter().zip(&ex_bodies).zip(&sol_regions) {
            let code: String = s
                .code
                .iter()
                .map(|(_, l)| l.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            let bound = bound_names(&code);
            let hidden: BTreeSet<String> = code_identifiers(&code)
                .into_iter()
                .filter(|w| !given.contains(w) && !vocabulary.contains(w.as_str()))
                .collect();
            let calls = called_names(&code)
                .into_iter()
                .filter(|w| {
                    !bound.contains(w)
                        && !PRELUDE.contains(&w.as_str())
                        && !vocabulary.contains(w.as_str())
                })
                .collect();
            out.push(RegionTodo {
                place: format!("exercises/{label}/src/{rel}:{}", r.begin),
                todo: todo_text(body),
                hidden,
                calls,
                lines: s
                    .code
                    .iter()
                    .filter_map(|(_, l)| significant(l))
                    .map(str::to_string)
                    .collect(),
            });
        }
    }
    out
}

/// What a `todo!()` gives away: the hidden identifiers it names as code, and the solution
/// lines it holds.
pub fn given_away(r: &RegionTodo) -> (BTreeSet<String>, Vec<String>) {
    let Some(text) = &r.todo else {
        return (BTreeSet::new(), Vec::new());
    };
    let names = code_like_words(text)
        .into_iter()
        .filter(|w| r.hidden.contains(w))
        .collect();
    let squeeze = |s: &str| s.split_whitespace().collect::<String>();
    let flat = squeeze(text);
    let lines = r
        .lines
        .iter()
        .filter(|l| l.len() >= 12 && flat.contains(&squeeze(l)))
        .cloned()
        .collect();
    (names, lines)
}

/// Whether `hint` names `word` as a word (not inside a longer identifier).
fn hint_names(hint: &str, word: &str) -> bool {
    hint.match_indices(word).any(|(i, _)| {
        let ok = |c: Option<char>| !c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        ok(hint[..i].chars().next_back()) && ok(hint[i + word.len()..].chars().next())
    })
}

/// Runs check 8 over the selected chapters.
pub(super) fn check_todos(root: &Path, chapters: &[&Chapter], f: &mut Findings) -> Result<()> {
    let (mut regions_seen, mut clean) = (0, 0);
    for ch in chapters {
        let mut sources = Vec::new();
        for dir in [ch.exercise_dir(root), ch.solution_dir(root)] {
            let src = dir.join("src");
            let mut files = Vec::new();
            for rel in rust_files(&src)? {
                let text = fs::read_to_string(src.join(&rel))?;
                files.push((rel.display().to_string(), text));
            }
            sources.push(files);
        }
        let label = ch.dir_name();
        for r in chapter_regions(&label, &sources[0], &sources[1]) {
            regions_seen += 1;
            let before = f.problems.len();
            let (names, lines) = given_away(&r);
            if !names.is_empty() || !lines.is_empty() {
                let mut what: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                what.extend(lines.iter().map(|l| format!("the line `{l}`")));
                f.fail(format!(
                    "{}: the todo!() gives the answer away: it names {} from the solution's \
                     region. Say what to achieve and why; put the API's names in hint 2 and the \
                     calls in hint 3 of chapters/{label}.toml",
                    r.place,
                    what.join(", ")
                ));
            }
            if r.todo.is_none() {
                f.fail(format!(
                    "{}: the region has no todo!() saying what to achieve",
                    r.place
                ));
            }
            if !r.calls.is_empty() {
                for (tier, hint) in [(2, ch.hints.get(1)), (3, ch.hints.get(2))] {
                    let hint = hint.map(String::as_str).unwrap_or("");
                    if !r.calls.iter().any(|c| hint_names(hint, c)) {
                        let calls: Vec<&str> = r.calls.iter().map(String::as_str).collect();
                        f.fail(format!(
                            "{}: hint {tier} of chapters/{label}.toml does not speak of this \
                             region: it names none of the calls its solution makes ({})",
                            r.place,
                            calls.join(", ")
                        ));
                    }
                }
            }
            if f.problems.len() == before {
                clean += 1;
                f.pass(1);
            }
        }
    }
    println!(
        "  {clean} of {regions_seen} todo!() texts give no answer away, and hints 2 and 3 cover their regions"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_identifiers_skip_comments_and_literals() {
        let ids = code_identifiers(
            "let x = f(\"not_this\", 'c', r#\"nor \"this\"\"#); // nor_that\n/* block */ y.g::<'a>(b\"z\")",
        );
        assert_eq!(ids, ["let", "x", "f", "y", "g", "a"]);
    }

    #[test]
    fn only_words_written_as_code_count() {
        let words = code_like_words(
            "give it an empty store (set_cert_store) before load_verify_locations(None, Some(dir)); \
             SslConnector trusts PEER, `dir` and x.build(), Type::item, builder and store",
        );
        assert_eq!(
            words,
            [
                "set_cert_store",
                "load_verify_locations",
                "Some",
                "SslConnector",
                "PEER",
                "dir",
                "build",
                "Type",
                "item"
            ]
        );
    }

    #[test]
    fn the_todo_text_is_read_across_continued_lines() {
        let body = "    todo!(\n        \"ch00: first \\\n         second \\\"quoted\\\"\"\n    )";
        assert_eq!(
            todo_text(body).as_deref(),
            Some("ch00: first second \"quoted\"")
        );
        assert_eq!(todo_text("let x = 1;"), None);
    }

    fn chapter(ex_region: &str, sol_region: &str) -> Vec<RegionTodo> {
        let file = |body: &str| {
            format!(
                "use openssl::ssl::SslConnector;\npub fn f(dir: &str) -> u8 {{\n    // BEGIN EXERCISE\n{body}\n    // END EXERCISE\n}}\n"
            )
        };
        chapter_regions(
            "04-x",
            &[("lib.rs".into(), file(ex_region))],
            &[("lib.rs".into(), file(sol_region))],
        )
    }

    const SOLUTION: &str = "    let mut b = SslConnector::builder(SslMethod::tls_client())?;\n    \
        // set_verify would be wrong here\n    b.set_cert_store(X509StoreBuilder::new()?.build());\n    \
        b.load_verify_locations(None, Some(dir))?;";

    #[test]
    fn a_todo_that_names_the_solutions_calls_is_flagged() {
        let r = chapter(
            "    todo!(\"ch04: trust `dir` alone: an empty store (set_cert_store) first, then load_verify_locations\")",
            SOLUTION,
        );
        let (names, lines) = given_away(&r[0]);
        // `dir` is the learner's argument and SslConnector is imported: both are given.
        assert_eq!(
            names.into_iter().collect::<Vec<_>>(),
            ["load_verify_locations", "set_cert_store"]
        );
        assert!(lines.is_empty());
        // A name only the solution's comment uses is not hidden code.
        assert!(!r[0].hidden.contains("set_verify"));
        assert_eq!(r[0].place, "exercises/04-x/src/lib.rs:3");
    }

    #[test]
    fn a_todo_that_says_what_and_why_passes_even_with_english_words_of_the_api() {
        let r = chapter(
            "    todo!(\"ch04: build a client that trusts the folder `dir` and nothing else: the builder already trusts the machine's default store, so start from an empty one\")",
            SOLUTION,
        );
        let (names, lines) = given_away(&r[0]);
        assert!(names.is_empty() && lines.is_empty(), "{names:?} {lines:?}");
    }

    #[test]
    fn a_todo_that_holds_a_solution_line_is_flagged() {
        let r = chapter(
            "    todo!(\"ch04: write b.load_verify_locations(None,  Some(dir))?;\")",
            SOLUTION,
        );
        let (_, lines) = given_away(&r[0]);
        assert_eq!(lines, ["b.load_verify_locations(None, Some(dir))?;"]);
    }

    #[test]
    fn the_calls_the_hints_must_cover_leave_out_local_names() {
        let r = chapter("    todo!(\"ch04: x\")", SOLUTION);
        let calls: Vec<&str> = r[0].calls.iter().map(String::as_str).collect();
        assert_eq!(
            calls,
            [
                "SslConnector",
                "SslMethod",
                "X509StoreBuilder",
                "build",
                "builder",
                "load_verify_locations",
                "new",
                "set_cert_store",
                "tls_client"
            ]
        );
        assert!(hint_names("use set_cert_store(...) here", "set_cert_store"));
        assert!(!hint_names("use set_cert_store_x here", "set_cert_store"));
    }

    /// The whole check on a tiny chapter: a todo that gives the answer and hints that cover it.
    #[test]
    fn the_check_names_the_place_and_the_words() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let file = |body: &str| {
            format!("pub fn f() -> u8 {{\n    // BEGIN EXERCISE\n{body}\n    // END EXERCISE\n}}\n")
        };
        for (d, body) in [
            (
                "exercises",
                "    todo!(\"ch01: call compute_the_answer()\")",
            ),
            ("solutions", "    compute_the_answer()"),
        ] {
            std::fs::create_dir_all(root.join(d).join("01-x/src")).unwrap();
            std::fs::write(root.join(d).join("01-x/src/lib.rs"), file(body)).unwrap();
        }
        let manifest = |h2: &str| {
            toml::from_str::<Chapter>(&format!(
                "number = 1\nslug = \"x\"\ntitle = \"X\"\nsection = \"s\"\nsummary = \"s\"\nhints = [\"a\", \"{h2}\", \"c\"]\n"
            ))
            .unwrap()
        };
        let ch = manifest("compute_the_answer gives it");
        let found = |ch: &Chapter| {
            let mut f = Findings::default();
            check_todos(root, &[ch], &mut f).unwrap();
            (f.problems.clone(), f)
        };
        let (problems, _) = found(&ch);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("exercises/01-x/src/lib.rs:2: the todo!() gives the answer away: it names `compute_the_answer`"), "{}", problems[0]);
        assert!(
            problems[1].contains("hint 3 of chapters/01-x.toml does not speak of this region"),
            "{}",
            problems[1]
        );
        std::fs::write(
            root.join("exercises/01-x/src/lib.rs"),
            file("    todo!(\"ch01: return the answer, which the tests know\")"),
        )
        .unwrap();
        let (problems, _) = found(&ch);
        assert_eq!(problems.len(), 1, "{problems:?}");
        let mut ch = ch;
        ch.hints[2] = "compute_the_answer()".into();
        let (problems, f) = found(&ch);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(f.passed, 1);
    }
}
