//! Builds a copy of every exercise's `src/` into the binary, so `workbook reset N` can give
//! the learner back the shipped files without git.
//!
//! The copy is taken when this script runs: on the first build of the workbook (a clean
//! clone: the shipped files), and again when this script or the chapter list changes. It is
//! never retaken because an exercise changed, or the learner's own edits would become the
//! "shipped" state. The files are copied into OUT_DIR and included from there: including
//! them from exercises/ directly would make rustc rebuild the workbook on every edit.
//!
//! When the script runs again (a new chapter arrived), a file that no longer looks shipped
//! (it has marked regions but no `todo!(` in them: the learner filled them in) keeps its
//! earlier copy if there is one; if there is none, it is marked as doubtful and `reset`
//! refuses to use it rather than restore a learner's edit as if it were the original.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

fn main() {
    let manifest_dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let root = manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    println!("cargo::rerun-if-changed=build.rs");
    let chapters = root.join("chapters");
    if chapters.is_dir() {
        println!("cargo::rerun-if-changed={}", chapters.display());
    }

    let store = out_dir.join("shipped");
    let mut entries: Vec<(String, PathBuf, bool)> = Vec::new();
    let exercises = root.join("exercises");
    let mut dirs: Vec<PathBuf> = match fs::read_dir(&exercises) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect(),
        Err(_) => Vec::new(),
    };
    dirs.sort();
    for dir in dirs {
        let Some(chapter) = dir.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        let mut files = Vec::new();
        collect(&dir.join("src"), &mut files).expect("read an exercise's src/ folder");
        files.sort();
        for file in files {
            let rel = file
                .strip_prefix(&dir)
                .expect("a file under its exercise")
                .to_path_buf();
            let key = format!("{chapter}/{}", rel.to_string_lossy().replace('\\', "/"));
            let copy = store.join(&chapter).join(&rel);
            let now = fs::read(&file).expect("read an exercise file");
            let before = fs::read(&copy).ok();
            let (bytes, trusted) = match before {
                Some(old) if !looks_shipped(&now) && looks_shipped(&old) => (old, true),
                _ => {
                    let ok = looks_shipped(&now);
                    (now, ok)
                }
            };
            if let Some(parent) = copy.parent() {
                fs::create_dir_all(parent).expect("create a folder in OUT_DIR");
            }
            fs::write(&copy, &bytes).expect("write a copy in OUT_DIR");
            entries.push((key, copy, trusted));
        }
    }

    let mut code = String::from(
        "/// Every shipped exercise file: (`NN-slug/src/...`, bytes, looks shipped).\n\
         pub static FILES: &[(&str, &[u8], bool)] = &[\n",
    );
    for (key, copy, trusted) in &entries {
        code.push_str(&format!(
            "    ({key:?}, include_bytes!({:?}), {trusted}),\n",
            copy.display().to_string()
        ));
    }
    code.push_str("];\n");
    fs::write(out_dir.join("shipped.rs"), code).expect("write shipped.rs");
}

fn collect(dir: &Path, into: &mut Vec<PathBuf>) -> io::Result<()> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in rd {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, into)?;
        } else {
            into.push(path);
        }
    }
    Ok(())
}

/// A shipped exercise file either has no marked regions, or has a `todo!(` inside one.
fn looks_shipped(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let mut in_region = false;
    let mut regions = 0;
    for line in text.lines() {
        let t = line.trim();
        if t == "// BEGIN EXERCISE" {
            in_region = true;
            regions += 1;
        } else if t == "// END EXERCISE" {
            in_region = false;
        } else if in_region && t.contains("todo!(") {
            return true;
        }
    }
    regions == 0
}
