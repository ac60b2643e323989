//! The `agentvoice` command: a thin layer over the library.

use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    match cli::run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("agentvoice: {e:#}");
            ExitCode::from(2)
        }
    }
}
