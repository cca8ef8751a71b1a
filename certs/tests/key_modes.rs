//! Private keys are written for their owner only (0600), by `Pki::write_into` (what
//! `cargo run -p certs -- DIR` calls) and by `Files`, on first request included.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn is_key(name: &str) -> bool {
    name.ends_with(".key") || name.ends_with(".key.der")
}

#[test]
fn every_private_key_is_readable_by_its_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    certs::pki().write_into(dir.path()).unwrap();
    let mut keys = 0;
    for e in std::fs::read_dir(dir.path()).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if is_key(&name) {
            keys += 1;
            assert_eq!(mode(&p), 0o600, "{name} is mode {:o}", mode(&p));
        } else {
            assert_eq!(mode(&p) & 0o600, 0o600, "{name} is readable");
        }
    }
    assert!(keys > 10, "only {keys} keys written");
    assert_eq!(mode(&dir.path().join("ca.key")), 0o600);
}

#[test]
fn keys_written_on_request_are_private_too() {
    let files = certs::Files::new().unwrap();
    for name in [
        "server.key",
        "server-rsa.key",
        "server.enc.key",
        "server-rsa.enc.key",
    ] {
        let p = files.path(name);
        assert_eq!(mode(&p), 0o600, "{name} is mode {:o}", mode(&p));
    }
}

/// The command the README gives.
#[test]
fn the_command_writes_private_keys() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_certs"))
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(mode(&dir.path().join("ca.key")), 0o600);
    assert_eq!(mode(&dir.path().join("server.key")), 0o600);
}
