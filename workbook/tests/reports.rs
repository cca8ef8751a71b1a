//! For teachers: `workbook check --report junit|gradescope` and `workbook class`, run as a
//! teacher runs them, on three fixture learners (tests/fixtures/learners: ada solved both
//! chapters, bob handed in the stubs, cy has a wrong answer in chapter 00) of a small
//! workbook made in a temporary folder, like the one tests/cli.rs uses, with promises.
//!
//! The JUnit XML is validated against workbook/schema/junit.xsd with `xmllint --schema`
//! (skipped without xmllint unless WORKBOOK_REQUIRE_XMLLINT is set, as CI does); the JSON
//! against the fields Gradescope documents; the class page is opened in headless Chromium
//! (skipped without it unless WORKBOOK_REQUIRE_BROWSER is set).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::sync::OnceLock;
use std::time::Duration;

use assert_cmd::Command;

const BIN: &str = env!("CARGO_BIN_EXE_workbook");
const LIMIT: Duration = Duration::from_secs(180);
const LEARNERS: [&str; 3] = ["ada", "bob", "cy"];

const EXERCISE_00: &str = "\
pub fn add(a: i32, b: i32) -> i32 {
    // BEGIN EXERCISE
    todo!(\"ch00: add the two numbers with the + operator\")
    // END EXERCISE
}
";

const TESTS_00: &str = "\
#[test]
fn adds_small_numbers() {
    assert_eq!(ch00_adding::add(2, 3), 5, \"2 + 3 should be 5: the sum of the two arguments\");
}

#[test]
fn adds_negative_numbers() {
    assert_eq!(ch00_adding::add(-2, -3), -5, \"negative numbers add up too. A sum keeps its sign.\");
}
";

const EXERCISE_01: &str = "\
pub fn greet() -> &'static str {
    // BEGIN EXERCISE
    todo!(\"ch01: return the word hello\")
    // END EXERCISE
}
";

const TESTS_01: &str = "\
#[test]
fn says_hello() {
    assert_eq!(ch01_greeting::greet(), \"hello\", \"the greeting is the word hello\");
}
";

const PROMISES_00: &str = "
[[promise]]
says = \"The sum of two numbers is their sum: 2 + 3 is 5.\"
test = \"adds_small_numbers\"
mistakes = []

[[promise]]
says = \"Negative numbers add up too: -2 + -3 is -5.\"
test = \"adds_negative_numbers\"
mistakes = []
";

const PROMISES_01: &str = "
[[promise]]
says = \"The greeting is the word hello.\"
test = \"says_hello\"
mistakes = []
";

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/learners")
}

/// The small workbook: chapters 00 (adding) and 01 (greeting), with their promises.
fn make_workbook(r: &Path) {
    write(
        &r.join("Cargo.toml"),
        "[workspace]\nresolver = \"2\"\nmembers = [\"exercises/*\"]\n",
    );
    for (n, slug, title, lib, tests, test_name, promises) in [
        (
            0,
            "adding",
            "Adding numbers",
            EXERCISE_00,
            TESTS_00,
            "add",
            PROMISES_00,
        ),
        (
            1,
            "greeting",
            "Greeting",
            EXERCISE_01,
            TESTS_01,
            "greet",
            PROMISES_01,
        ),
    ] {
        let dir = format!("{n:02}-{slug}");
        write(
            &r.join(format!("chapters/{dir}.toml")),
            &format!(
                "number = {n}\nslug = \"{slug}\"\ntitle = \"{title}\"\nsection = \"none\"\n\
                 summary = \"A test chapter.\"\n\
                 hints = [\"a nudge\", \"the API\", \"the shape\"]\n{promises}"
            ),
        );
        write(
            &r.join(format!("exercises/{dir}/Cargo.toml")),
            &format!(
                "[package]\nname = \"ch{n:02}-{slug}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\
                 publish = false\n\n[lib]\nname = \"ch{n:02}_{slug}\"\n\n[lints.rust]\n\
                 unused = \"allow\"\nunreachable_code = \"allow\"\n"
            ),
        );
        write(&r.join(format!("exercises/{dir}/src/lib.rs")), lib);
        write(
            &r.join(format!("exercises/{dir}/tests/{test_name}.rs")),
            tests,
        );
    }
}

fn workbook(root: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN)
        .env_remove("CARGO_PKG_NAME")
        .args(args)
        .current_dir(root)
        .env("WORKBOOK_ROOT", root)
        .env_remove("WORKBOOK_STATE_DIR")
        .env_remove("CARGO_TARGET_DIR")
        .env("NO_COLOR", "1")
        .timeout(LIMIT)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stderr.contains("panicked"),
        "workbook {} panicked:\n{stdout}\n{stderr}",
        args.join(" ")
    );
    (out.status.code(), stdout, stderr)
}

/// The workbook and every learner's reports, made once for all the tests of this file:
/// `reports/<learner>/junit.xml` and `reports/<learner>/results.json`.
struct Class {
    root: PathBuf,
}

impl Class {
    fn reports(&self, learner: &str) -> PathBuf {
        self.root.join("reports").join(learner)
    }
    fn junit(&self, learner: &str) -> String {
        fs::read_to_string(self.reports(learner).join("junit.xml")).unwrap()
    }
    fn json(&self, learner: &str) -> serde_json::Value {
        let text = fs::read_to_string(self.reports(learner).join("results.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }
}

fn class() -> &'static Class {
    static CLASS: OnceLock<Class> = OnceLock::new();
    CLASS.get_or_init(|| {
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        // Earlier runs' classes (kept for a look at class.png) go once they are an hour old.
        for old in fs::read_dir(tmp).into_iter().flatten().flatten() {
            let stale = old.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
            if old.file_name().to_string_lossy().starts_with("class-")
                && stale.is_some_and(|age| age > Duration::from_secs(3600))
            {
                let _ = fs::remove_dir_all(old.path());
            }
        }
        let root = tmp.join(format!("class-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        make_workbook(&root);
        for learner in LEARNERS {
            // Hand in the learner's files.
            for entry in fs::read_dir(fixtures().join(learner)).unwrap() {
                let chapter = entry.unwrap().path();
                let name = chapter.file_name().unwrap().to_str().unwrap().to_string();
                let lib = fs::read_to_string(chapter.join("src/lib.rs")).unwrap();
                write(&root.join(format!("exercises/{name}/src/lib.rs")), &lib);
            }
            // cy asked for a hint in chapter 00.
            if learner == "cy" {
                assert_eq!(workbook(&root, &["hint", "0"]).0, Some(0));
            }
            let dir = root.join("reports").join(learner);
            for (format, file) in [("junit", "junit.xml"), ("gradescope", "results.json")] {
                let out = dir.join(file);
                let (code, stdout, stderr) = workbook(
                    &root,
                    &["check", "--report", format, "--output", out.to_str().unwrap()],
                );
                let want = if learner == "ada" { 0 } else { 1 };
                assert_eq!(
                    code,
                    Some(want),
                    "{learner}, {format}: the exit code says whether every chapter passes\n{stdout}\n{stderr}"
                );
                assert!(stdout.contains("Report written to"), "{stdout}\n{stderr}");
            }
            // Reset the hints so the next learner starts afresh.
            let _ = fs::remove_dir_all(root.join("target/workbook"));
        }
        Class { root }
    })
}

fn xmllint() -> bool {
    let found = StdCommand::new("xmllint").arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("WORKBOOK_REQUIRE_XMLLINT").is_none(),
            "xmllint is required (WORKBOOK_REQUIRE_XMLLINT) but not installed: apt-get install libxml2-utils"
        );
        eprintln!("SKIP the schema check: no xmllint (apt-get install libxml2-utils)");
    }
    found
}

fn schema() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/junit.xsd")
}

fn validate(file: &Path) -> (bool, String) {
    let out = StdCommand::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(schema())
        .arg(file)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn junit_reports_validate_against_the_schema_and_say_what_failed() {
    let c = class();
    if xmllint() {
        for learner in LEARNERS {
            let (ok, why) = validate(&c.reports(learner).join("junit.xml"));
            assert!(ok, "{learner}'s junit.xml does not validate: {why}");
        }
        // The schema is not a rubber stamp: a suite without counts fails.
        let bad = c.root.join("bad.xml");
        write(
            &bad,
            "<testsuites><testsuite name=\"00-adding\"><testcase name=\"x\"/></testsuite></testsuites>",
        );
        let (ok, why) = validate(&bad);
        assert!(!ok && why.contains("tests"), "{why}");
    }
    let ada = c.junit("ada");
    assert!(
        ada.contains("tests=\"3\" failures=\"0\" errors=\"0\""),
        "{ada}"
    );
    assert!(!ada.contains("<failure"), "{ada}");

    let bob = c.junit("bob");
    assert!(
        bob.contains(
            "message=\"not yet implemented: ch00: add the two numbers with the + operator\""
        ),
        "the stub's failure carries its todo!() sentence: {bob}"
    );
    assert!(bob.contains("tests=\"3\" failures=\"3\""), "{bob}");

    let cy = c.junit("cy");
    // The first sentence is the message's own words, without assert_eq!'s prefix; the
    // whole message (left and right) is the failure's text.
    assert!(
        cy.contains("<failure type=\"test failed\" message=\"negative numbers add up too.\">"),
        "{cy}"
    );
    assert!(cy.contains("left: 5"), "{cy}");
    assert!(
        cy.contains("<property name=\"hints_used\" value=\"1\"/>"),
        "{cy}"
    );
    assert!(
        cy.contains("<property name=\"verdict\" value=\"failing\"/>"),
        "{cy}"
    );
    let hash = cy
        .split("<property name=\"hash\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap();
    assert!(
        hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit()),
        "a sha-256 content hash of the graded files: {hash}"
    );
    // ada and cy handed in the same chapter 01: the same hash.
    let hash_of = |xml: &str, suite: &str| {
        let s = xml
            .split(&format!("<testsuite name=\"{suite}\""))
            .nth(1)
            .unwrap();
        s.split("<property name=\"hash\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap()
            .to_string()
    };
    assert_eq!(hash_of(&ada, "01-greeting"), hash_of(&cy, "01-greeting"));
    assert_ne!(hash_of(&ada, "00-adding"), hash_of(&cy, "00-adding"));
}

/// The fields of Gradescope's results.json (its autograder specification), and their types.
const TOP_FIELDS: &[(&str, &str)] = &[
    ("score", "number"),
    ("execution_time", "number"),
    ("output", "string"),
    ("output_format", "string"),
    ("test_output_format", "string"),
    ("test_name_format", "string"),
    ("visibility", "string"),
    ("stdout_visibility", "string"),
    ("extra_data", "object"),
    ("tests", "array"),
    ("leaderboard", "array"),
];
const TEST_FIELDS: &[(&str, &str)] = &[
    ("score", "number"),
    ("max_score", "number"),
    ("status", "string"),
    ("name", "string"),
    ("name_format", "string"),
    ("number", "string"),
    ("output", "string"),
    ("output_format", "string"),
    ("tags", "array"),
    ("visibility", "string"),
    ("extra_data", "object"),
];
const VISIBILITY: &[&str] = &["hidden", "after_due_date", "after_published", "visible"];

fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

fn check_fields(what: &str, v: &serde_json::Value, fields: &[(&str, &str)]) {
    let obj = v
        .as_object()
        .unwrap_or_else(|| panic!("{what} is not an object"));
    for (key, value) in obj {
        let want = fields
            .iter()
            .find(|(k, _)| k == key)
            .unwrap_or_else(|| panic!("{what} has {key:?}, which Gradescope does not document"));
        assert_eq!(kind(value), want.1, "{what}.{key} must be a {}", want.1);
    }
    for key in ["visibility", "stdout_visibility"] {
        if let Some(vis) = obj.get(key) {
            assert!(
                VISIBILITY.contains(&vis.as_str().unwrap()),
                "{what}.{key}: {vis}"
            );
        }
    }
}

#[test]
fn gradescope_results_have_the_documented_fields_and_scores() {
    let c = class();
    for learner in LEARNERS {
        let v = c.json(learner);
        check_fields("results.json", &v, TOP_FIELDS);
        let tests = v["tests"].as_array().unwrap();
        assert_eq!(tests.len(), 2, "one entry per chapter");
        for (i, t) in tests.iter().enumerate() {
            check_fields(&format!("tests[{i}]"), t, TEST_FIELDS);
            for key in ["name", "score", "max_score", "output", "visibility"] {
                assert!(t.get(key).is_some(), "{learner}: tests[{i}] has no {key}");
            }
            assert!(t["score"].as_f64().unwrap() <= t["max_score"].as_f64().unwrap());
        }
        let sum: f64 = tests.iter().map(|t| t["score"].as_f64().unwrap()).sum();
        assert_eq!(v["score"].as_f64().unwrap(), sum, "{learner}");
    }
    assert_eq!(c.json("ada")["score"], 20.0);
    assert_eq!(c.json("bob")["score"], 0.0);
    // cy: half of chapter 00's tests, all of chapter 01's.
    let cy = c.json("cy");
    assert_eq!(cy["score"], 15.0);
    assert_eq!(cy["tests"][0]["name"], "Chapter 00: Adding numbers");
    let output = cy["tests"][0]["output"].as_str().unwrap();
    assert!(output.contains("FAILED adds_negative_numbers"), "{output}");
    assert!(output.contains("hints seen: 1 of 3"), "{output}");
    assert!(
        output.contains("content hash of the graded files: "),
        "{output}"
    );
}

fn class_args<'a>(c: &'a Class, file: Option<&'a str>, extra: &[&'a str]) -> Vec<String> {
    let mut args = vec!["class".to_string()];
    for l in LEARNERS {
        let dir = c.reports(l);
        args.push(match file {
            Some(f) => dir.join(f).display().to_string(),
            None => dir.display().to_string(),
        });
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

const TABLE: &str = "\
chapter            ada         bob         cy
00 Adding numbers  pass        0/2         1/2
01 Greeting        pass        0/1         pass
chapters passed    2/2         0/2         1/2

Most common failing promise per chapter:
  00  2 of 3 learners break the promise \"Negative numbers add up too: -2 + -3 is -5.\" (test adds_negative_numbers)
  01  1 of 3 learners break the promise \"The greeting is the word hello.\" (test says_hello)
";

#[test]
fn the_class_table_from_three_learners() {
    let c = class();
    let args = class_args(c, None, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, stdout, stderr) = workbook(&c.root, &args);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    println!("{stdout}");
    assert!(
        stdout.starts_with("Class of 3 learners, 2 chapter(s) reported\n"),
        "{stdout}"
    );
    assert!(stdout.contains(TABLE), "the table:\n{stdout}");

    // Each format on its own gives the same table (folders hold both; here single files).
    for file in ["junit.xml", "results.json"] {
        let args = class_args(c, Some(file), &[]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = workbook(&c.root, &args);
        assert_eq!(code, Some(0), "{out}\n{err}");
        // Named by file, each learner is called after the file: the same for all three.
        let body = out.split_once("\n\n").map(|x| x.1).unwrap_or("");
        let rows: Vec<&str> = body.lines().skip(1).take(3).collect();
        let want: Vec<&str> = TABLE.lines().skip(1).take(3).collect();
        let trim = |v: Vec<&str>| {
            v.iter()
                .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
                .collect::<Vec<_>>()
        };
        assert_eq!(trim(rows), trim(want), "{file}:\n{out}");
    }
}

#[test]
fn bad_input_to_class_names_the_file() {
    let c = class();
    let scratch = tempfile::tempdir().unwrap();
    let missing = scratch.path().join("dee");
    let (code, _, err) = workbook(&c.root, &["class", missing.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("dee") && err.contains("cannot read the learner's reports"),
        "{err}"
    );

    let empty = scratch.path().join("eve");
    fs::create_dir_all(&empty).unwrap();
    let (code, _, err) = workbook(&c.root, &["class", empty.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("eve has no report"), "{err}");

    for (name, text, says) in [
        ("cut.xml", "<testsuites><testsuite name=\"00-adding\" tests=\"1\"", "not JUnit XML"),
        ("plain.xml", "<testsuites><testsuite name=\"00-adding\" tests=\"1\" failures=\"0\" errors=\"0\"></testsuite></testsuites>", "no property \"chapter\""),
        ("other.json", "{\"score\": 3, \"tests\": [{\"name\": \"x\", \"score\": 1}]}", "tests[0] has no extra_data"),
        ("broken.json", "{\"tests\": [", "not valid JSON"),
        ("notes.json", "hello", "neither JUnit XML nor"),
    ] {
        let dir = scratch.path().join(name.replace('.', "-"));
        write(&dir.join(name), text);
        let (code, _, err) = workbook(&c.root, &["class", c.reports("ada").to_str().unwrap(), dir.to_str().unwrap()]);
        assert_eq!(code, Some(2), "{name}: {err}");
        assert!(err.contains(name) && err.contains(says), "{name}: the error names the file and says why:\n{err}");
    }
}

#[test]
fn the_class_page_opens_offline_in_headless_chromium() {
    let c = class();
    let page = c.root.join("class.html");
    let args = class_args(c, None, &["--html", page.to_str().unwrap()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, stdout, stderr) = workbook(&c.root, &args);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("The class page is"), "{stdout}");
    let html = fs::read_to_string(&page).unwrap();
    let without_ns = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(
        !without_ns.contains("http") && !html.contains("<script"),
        "the page needs nothing from outside: {html}"
    );
    // Chapter 00: one learner passes, two fail; chapter 01: two pass, one fails.
    assert_eq!(html.matches("<rect ").count(), 4, "{html}");
    assert!(html.contains("<title>2 failing</title>"), "{html}");

    let Some(browser) = workbook::verify::chromium() else {
        assert!(
            std::env::var_os("WORKBOOK_REQUIRE_BROWSER").is_none(),
            "headless Chromium is required (WORKBOOK_REQUIRE_BROWSER) but not installed"
        );
        eprintln!("SKIP: no chromium installed");
        return;
    };
    let scratch = tempfile::tempdir().unwrap();
    let log = scratch.path().join("netlog.json");
    let shot = c.root.join("class.png");
    let run = |extra: &[String]| {
        StdCommand::new(&browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--window-size=1280,900",
            ])
            .arg(format!(
                "--user-data-dir={}",
                scratch.path().join("profile").display()
            ))
            .args(extra)
            .arg(format!("file://{}", page.display()))
            .output()
            .unwrap()
    };
    let out = run(&[
        format!("--log-net-log={}", log.display()),
        "--dump-dom".into(),
    ]);
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dom.contains("<svg") && dom.contains("Adding numbers"),
        "{dom}"
    );
    for l in LEARNERS {
        assert!(dom.contains(&format!("<th>{l}</th>")), "{dom}");
    }
    assert!(dom.contains("2 of 3 learners break the promise"), "{dom}");
    let leaving =
        workbook::verify::page_requests_leaving(&fs::read_to_string(&log).unwrap_or_default());
    assert!(
        leaving.is_empty(),
        "the class page asked the network for {leaving:?}"
    );
    // A screenshot at 1280 px, for a person to look at (target/tmp/class-PID/class.png).
    let out = run(&[format!("--screenshot={}", shot.display())]);
    assert!(
        out.status.success() && shot.is_file(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// classroom/classroom.yml has one graded step per chapter of chapters/, and no other:
/// the manifest stays the one list of chapters.
#[test]
fn the_classroom_workflow_grades_every_chapter_of_the_manifest() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let chapters = workbook::manifest::load(root).unwrap();
    let yml = fs::read_to_string(root.join("classroom/classroom.yml")).unwrap();
    let mut ids = Vec::new();
    for ch in &chapters {
        let id = format!("ch{:02}", ch.number);
        for want in [
            format!("id: {id}\n"),
            format!(
                "command: cargo workbook check --report junit {} --output reports/{id}.xml\n",
                ch.number
            ),
            format!(
                "{}_RESULTS: \"${{{{steps.{id}.outputs.result}}}}\"\n",
                id.to_uppercase()
            ),
            format!("test-name: \"Chapter {:02}: {}\"\n", ch.number, ch.title),
        ] {
            assert!(
                yml.contains(&want),
                "classroom.yml lacks {want:?} for chapter {}",
                ch.number
            );
        }
        ids.push(id);
    }
    assert_eq!(
        yml.matches("uses: classroom-resources/autograding-command-grader@v1")
            .count(),
        chapters.len(),
        "one graded step per chapter, no step for a chapter that is not in chapters/"
    );
    assert!(
        yml.contains(&format!("runners: {}\n", ids.join(","))),
        "the reporter's runners are the chapters' steps: {}",
        ids.join(",")
    );
}
