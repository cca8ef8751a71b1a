//! `cargo run -p certs -- <dir>`: writes the workbook's certificates and keys into <dir>, for
//! readers who want to try `openssl s_server` and `s_client` by hand.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = match args.as_slice() {
        [d] if d != "-h" && d != "--help" => PathBuf::from(d),
        _ => {
            eprintln!("usage: cargo run -p certs -- <dir>\n\nWrites every certificate, key and CRL of the workbook into <dir> (created if missing).");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("error: cannot create {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    match certs::pki().write_into(&dir) {
        Ok(()) => {
            println!(
                "wrote the workbook's certificates into {} (see README.txt there)",
                dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot write into {}: {e}", dir.display());
            ExitCode::FAILURE
        }
    }
}
