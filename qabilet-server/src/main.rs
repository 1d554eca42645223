//! The `qabilet` binary: see `qabilet --help`.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = qabilet_server::cli::Cli::parse();
    match qabilet_server::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("qabilet: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
