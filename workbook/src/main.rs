//! The `workbook` command: arguments in, exit code out. Everything else is in the
//! library: [`workbook::cli`] says which module each command goes to.

use clap::Parser;

fn main() -> std::process::ExitCode {
    workbook::cli::main(workbook::cli::Cli::parse())
}
