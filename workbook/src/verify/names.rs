//! Part of check 5: every OpenSSL name the tutorial uses (the list in `book/openssl-names.txt`)
//! appears somewhere in the book, and the appendix that maps them to Rust has a row for each,
//! linked to a chapter page. A learner who arrives with a C name in mind finds it.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use anyhow::Result;

use super::Findings;

/// The list of names, kept in the repo.
pub const LIST: &str = "book/openssl-names.txt";
/// The appendix page that maps each name to what does its job in Rust.
pub const APPENDIX: &str = "book/src/appendix-openssl-names.md";

pub(super) fn check_names(root: &Path, f: &mut Findings) -> Result<()> {
    let Ok(list) = fs::read_to_string(root.join(LIST)) else {
        f.fail(format!(
            "{LIST} is missing: it lists the tutorial's OpenSSL names the book must mention"
        ));
        return Ok(());
    };
    let names = match parse_list(&list) {
        Ok(n) => n,
        Err(problems) => {
            for p in problems {
                f.fail(format!("{LIST}: {p}"));
            }
            return Ok(());
        }
    };

    let mut book = String::new();
    let mut pages: Vec<_> = fs::read_dir(root.join("book/src"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    for p in &pages {
        book.push_str(&fs::read_to_string(p)?);
        book.push('\n');
    }
    let missing = missing_names(&names, &book);
    println!(
        "  {} of {} OpenSSL names of the tutorial appear in the book",
        names.len() - missing.len(),
        names.len()
    );
    if !missing.is_empty() {
        f.fail(format!(
            "the book never names {} of the tutorial's OpenSSL names ({LIST}): {}; \
             name each where its job is taught",
            missing.len(),
            missing.join(", ")
        ));
    }
    f.pass(names.len() - missing.len());

    match fs::read_to_string(root.join(APPENDIX)) {
        Err(_) => f.fail(format!(
            "{APPENDIX} is missing: it maps each name of {LIST} to what does its job in Rust"
        )),
        Ok(text) => {
            let unmapped = names_without_a_row(&names, &text);
            println!(
                "  {} of {} names have a row in the appendix, linked to a chapter",
                names.len() - unmapped.len(),
                names.len()
            );
            if !unmapped.is_empty() {
                f.fail(format!(
                    "{APPENDIX} has no table row, linked to a chapter page, for {} name(s): {}",
                    unmapped.len(),
                    unmapped.join(", ")
                ));
            }
        }
    }
    Ok(())
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The names of the list, in order; or every bad line (not an identifier, or a repeat).
pub fn parse_list(text: &str) -> Result<Vec<String>, Vec<String>> {
    let mut names = Vec::new();
    let mut seen = BTreeSet::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let name = line.split('#').next().unwrap_or("").trim();
        if name.is_empty() {
            continue;
        }
        if !name.chars().all(is_ident) {
            problems.push(format!(
                "line {}: {name:?} is not one OpenSSL name (one name a line)",
                i + 1
            ));
        } else if !seen.insert(name.to_string()) {
            problems.push(format!("line {}: {name} is listed twice", i + 1));
        } else {
            names.push(name.to_string());
        }
    }
    if names.is_empty() && problems.is_empty() {
        problems.push("the list has no names".into());
    }
    if problems.is_empty() {
        Ok(names)
    } else {
        Err(problems)
    }
}

/// Whether `name` occurs in `text` as a whole identifier: `SSL_CTX` inside `SSL_CTX_new` is
/// not `SSL_CTX`, nor is `SSL_use_PrivateKey` inside `SSL_use_PrivateKey_file`.
pub fn names_word(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + name.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// The names `text` never mentions, in list order.
pub fn missing_names(names: &[String], text: &str) -> Vec<String> {
    names
        .iter()
        .filter(|n| !names_word(text, n))
        .cloned()
        .collect()
}

/// The names with no table row of their own in the appendix: a row is a line starting with
/// `|` whose first cell names the name, and which links to a chapter page (`NN-slug.md`).
pub fn names_without_a_row(names: &[String], appendix: &str) -> Vec<String> {
    let rows: Vec<(&str, &str)> = appendix
        .lines()
        .filter_map(|l| {
            let rest = l.trim().strip_prefix('|')?;
            let (first, others) = rest.split_once('|')?;
            Some((first, others))
        })
        .collect();
    names
        .iter()
        .filter(|n| {
            !rows.iter().any(|(first, others)| {
                names_word(first, n)
                    && super::pages::chapter_references(others)
                        .iter()
                        .any(|(_, how)| how.starts_with("a link"))
            })
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_name_missing_from_the_book_is_named_and_prefixes_do_not_count() {
        let names = list(&["SSL_CTX", "BIO_f_ssl", "SSL_use_PrivateKey", "X509_V_OK"]);
        let text = "Call `SSL_CTX_new()` and `SSL_use_PrivateKey_file`; compare with X509_V_OK.";
        assert_eq!(
            missing_names(&names, text),
            ["SSL_CTX", "BIO_f_ssl", "SSL_use_PrivateKey"]
        );
        let text = "`SSL_CTX`, BIO_f_ssl() and (SSL_use_PrivateKey) and X509_V_OK";
        assert!(missing_names(&names, text).is_empty());
    }

    #[test]
    fn the_check_fails_naming_the_missing_names_and_counts_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("book/src")).unwrap();
        fs::write(
            root.join(LIST),
            "# comment\nSSL_new\nBIO_read  # a comment after a name\n\nSSL_free\n",
        )
        .unwrap();
        fs::write(
            root.join("book/src/06-connections.md"),
            "`SSL_new()` makes one.",
        )
        .unwrap();
        fs::write(
            root.join(APPENDIX),
            "| C | Rust | chapter |\n|---|---|---|\n| `SSL_new` | `Ssl::new` | [06](06-connections.md) |\n\
             | `SSL_free` | Drop | no link |\n",
        )
        .unwrap();
        let mut f = Findings::default();
        check_names(root, &mut f).unwrap();
        assert_eq!(f.passed, 2, "SSL_new, and SSL_free named in the appendix");
        assert_eq!(f.problems.len(), 2, "{:?}", f.problems);
        assert!(f.problems[0].contains("never names 1") && f.problems[0].contains("BIO_read"));
        assert!(!f.problems[0].contains("SSL_new"));
        assert!(
            f.problems[1].contains("BIO_read, SSL_free"),
            "{}",
            f.problems[1]
        );
    }

    #[test]
    fn a_missing_list_or_appendix_and_bad_lines_are_problems() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("book/src")).unwrap();
        let mut f = Findings::default();
        check_names(root, &mut f).unwrap();
        assert!(f.problems[0].contains("is missing"), "{:?}", f.problems);

        let bad = parse_list("SSL_new\nSSL_new\nSSL_free()\n").unwrap_err();
        assert_eq!(bad.len(), 2, "{bad:?}");
        assert!(bad[0].contains("line 2") && bad[0].contains("twice"));
        assert!(bad[1].contains("line 3") && bad[1].contains("SSL_free()"));
        assert!(parse_list("# nothing\n").is_err());

        fs::write(root.join(LIST), "SSL_new\n").unwrap();
        fs::write(root.join("book/src/a.md"), "SSL_new").unwrap();
        let mut f = Findings::default();
        check_names(root, &mut f).unwrap();
        assert_eq!(f.problems.len(), 1, "{:?}", f.problems);
        assert!(f.problems[0].contains(APPENDIX) && f.problems[0].contains("missing"));
    }

    /// The list in the repo is well formed and holds the tutorial's 79 names.
    #[test]
    fn the_repo_list_has_the_tutorials_79_names() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let text = fs::read_to_string(root.join(LIST)).unwrap();
        let names = parse_list(&text).unwrap();
        assert_eq!(names.len(), 79);
        for n in [
            "BIO_f_ssl",
            "SSLv23_client_method",
            "X509_V_OK",
            "SSL_SESSION",
        ] {
            assert!(names.iter().any(|x| x == n), "{n}");
        }
    }
}
