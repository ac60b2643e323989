//! Command-line arguments become typed options here; the rest of the code never sees clap.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use agentvoice::Config;

mod analyze;
mod batch;
mod eval;
mod eval_calls;
#[cfg(feature = "capture")]
mod live;
mod plan;
mod report;
mod resume;

use analyze::AnalyzeArgs;
use eval::EvalArgs;

/// Measure contact-center agents' voices against the house service standard.
#[derive(Debug, Parser)]
#[command(name = "agentvoice", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Analyse recordings (files or folders) and write calls.jsonl and calls.csv.
    Analyze(AnalyzeArgs),
    /// Rebuild the HTML report and agents.csv from DIR/calls.jsonl (no audio needed).
    Report(report::ReportArgs),
    /// Measure accuracy against hand-made truth (e.g. `eval rate MANIFEST.tsv`).
    Eval(EvalArgs),
    /// Print the default settings as TOML (a starting point for --config).
    Config,
    /// Measure a call as it happens from an input device, with coaching cues (feature `capture`).
    #[cfg(feature = "capture")]
    Live(live::LiveArgs),
    /// List the audio input devices (feature `capture`).
    #[cfg(feature = "capture")]
    Devices(live::DevicesArgs),
}

/// Runs the command line; returns the process exit code.
pub fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Analyze(args) => analyze::analyze(args),
        Command::Report(args) => report::report(args),
        Command::Eval(args) => eval::eval(args),
        Command::Config => {
            print!("{}", Config::defaults_toml());
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "capture")]
        Command::Live(args) => live::live(args),
        #[cfg(feature = "capture")]
        Command::Devices(args) => live::devices(args),
    }
}
