//! `tls-echo-server`: the capstone's server. Everything is in the library; see `--help`.
fn main() {
    std::process::exit(ch15_capstone::server_main());
}
