//! Check 6: promises. Every chapter lists what its page, doc comments, `todo!()`s and hints
//! promise about the learner's code (`[[promise]]` in its manifest), each with the test that
//! fails when the promise is broken and the catalogued mistakes that break it. This check
//! holds the link: the test exists in the chapter's run, the mistakes are catalogued, and
//! each of them is rejected by *that* test (check 3 records which tests reject a mistake;
//! nothing runs twice). Every catalogued mistake must back at least one promise.

use std::collections::BTreeSet;

use super::{Evidence, Findings};
use crate::manifest::Chapter;

/// Whether libtest's `name` (which may carry a module path, `tests::name`) is the test a
/// promise calls `wanted` (a bare function name, or a path ending the same way).
pub fn same_test(name: &str, wanted: &str) -> bool {
    name == wanted
        || name.ends_with(&format!("::{wanted}"))
        || wanted.ends_with(&format!("::{name}"))
}

/// Checks the promises of one chapter; returns how many (promise, mistake) links held.
pub(super) fn check_promises(ch: &Chapter, ev: &Evidence, f: &mut Findings) -> usize {
    let label = format!("ch{:02}", ch.number);
    if ch.promises.is_empty() {
        f.fail(format!(
            "{label}: chapters/{}.toml lists no [[promise]]: say what the learner's code must do \
             or refuse, with the test that fails when it does not and the mistakes that break it",
            ch.dir_name()
        ));
        return 0;
    }
    let catalogued: BTreeSet<&str> = ch.mistakes.iter().map(|m| m.name.as_str()).collect();
    let mut backed = BTreeSet::new();
    let mut kept = 0;
    for p in &ch.promises {
        let short: String = p.says.chars().take(70).collect();
        let who = format!("{label} promise {short:?}");
        if let Some(tests) = &ev.tests {
            if !tests.iter().any(|t| same_test(t, &p.test)) {
                f.fail(format!(
                    "{who}: names the test {}, which is not in the chapter's run (its tests: {})",
                    p.test,
                    tests.join(", ")
                ));
            }
        }
        if p.mistakes.is_empty() {
            f.fail(format!(
                "{who}: lists no mistake; name at least one catalogued mistake that breaks it"
            ));
        }
        for m in &p.mistakes {
            if !catalogued.contains(m.as_str()) {
                f.fail(format!(
                    "{who}: names the mistake {m:?}, which chapters/{}.toml does not catalogue",
                    ch.dir_name()
                ));
                continue;
            }
            backed.insert(m.as_str());
            match ev.rejected_by.get(m) {
                // Check 3 did not judge it (not run, or the mistake is broken: check 3 says so).
                None => {}
                Some(failing) if failing.iter().any(|t| same_test(t, &p.test)) => {
                    kept += 1;
                    f.pass(1);
                }
                Some(failing) => f.fail(format!(
                    "{who}: names the test {} for the mistake {m:?}, but that mistake is rejected \
                     only by {}; the promise's own test lets it through",
                    p.test,
                    failing.join(", ")
                )),
            }
        }
    }
    for m in &ch.mistakes {
        if !backed.contains(m.name.as_str()) {
            f.fail(format!(
                "{label} mistake {:?} backs no promise: add its name to the `mistakes` of the \
                 promise it breaks (one whose test rejects it), or add that promise",
                m.name
            ));
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Mistake, Promise};

    fn chapter(promises: Vec<Promise>, mistakes: &[&str]) -> Chapter {
        Chapter {
            number: 7,
            slug: "x".into(),
            title: "X".into(),
            section: "s".into(),
            summary: "s".into(),
            hints: vec![],
            mistakes: mistakes
                .iter()
                .map(|n| Mistake {
                    name: n.to_string(),
                    why: "w".into(),
                    file: "src/lib.rs".into(),
                    find: "a".into(),
                    replace: "b".into(),
                })
                .collect(),
            promises,
            equivalent_mutants: vec![],
        }
    }

    fn promise(test: &str, mistakes: &[&str]) -> Promise {
        Promise {
            says: format!("kept by {test}"),
            test: test.into(),
            mistakes: mistakes.iter().map(|m| m.to_string()).collect(),
            cause: false,
        }
    }

    fn evidence() -> Evidence {
        Evidence {
            tests: Some(vec![
                "refuses_other_host".into(),
                "tests::refuses_expired".into(),
            ]),
            rejected_by: [
                (
                    "host-off".to_string(),
                    vec!["refuses_other_host".to_string()],
                ),
                (
                    "expiry-off".to_string(),
                    vec!["tests::refuses_expired".to_string()],
                ),
                (
                    "verify-off".to_string(),
                    vec!["refuses_other_host".to_string()],
                ),
            ]
            .into(),
        }
    }

    #[test]
    fn a_kept_promise_passes_and_module_paths_match_their_last_segment() {
        let ch = chapter(
            vec![
                promise("refuses_other_host", &["host-off", "verify-off"]),
                promise("refuses_expired", &["expiry-off"]),
            ],
            &["host-off", "expiry-off", "verify-off"],
        );
        let mut f = Findings::default();
        assert_eq!(check_promises(&ch, &evidence(), &mut f), 3);
        assert!(f.problems.is_empty(), "{:?}", f.problems);
    }

    #[test]
    fn a_chapter_without_promises_fails() {
        let mut f = Findings::default();
        check_promises(&chapter(vec![], &["host-off"]), &evidence(), &mut f);
        assert_eq!(f.problems.len(), 1);
        assert!(f.problems[0].contains("no [[promise]]"));
    }

    #[test]
    fn a_mistake_rejected_only_by_another_test_fails_naming_both() {
        let ch = chapter(
            vec![
                promise("refuses_expired", &["host-off", "expiry-off"]),
                promise("refuses_other_host", &["verify-off"]),
            ],
            &["host-off", "expiry-off", "verify-off"],
        );
        let mut f = Findings::default();
        check_promises(&ch, &evidence(), &mut f);
        assert_eq!(f.problems.len(), 1, "{:?}", f.problems);
        let p = &f.problems[0];
        assert!(p.contains("refuses_expired") && p.contains("rejected only by refuses_other_host"));
    }

    #[test]
    fn unknown_tests_unknown_mistakes_and_unbacked_mistakes_fail() {
        let ch = chapter(
            vec![
                promise("no_such_test", &["typo"]),
                promise("refuses_other_host", &[]),
            ],
            &["host-off"],
        );
        let mut f = Findings::default();
        check_promises(&ch, &evidence(), &mut f);
        let all = f.problems.join("\n");
        assert_eq!(f.problems.len(), 4, "{all}");
        assert!(all.contains("no_such_test, which is not in the chapter's run"));
        assert!(all.contains("\"typo\", which chapters/07-x.toml does not catalogue"));
        assert!(all.contains("lists no mistake"));
        assert!(all.contains("\"host-off\" backs no promise"));
    }
}
