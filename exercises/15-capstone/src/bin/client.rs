//! `tls-echo-client`: the capstone's client. Everything is in the library; see `--help`.
fn main() {
    std::process::exit(ch15_capstone::client_main());
}
