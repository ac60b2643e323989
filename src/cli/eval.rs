//! `agentvoice eval ...`: accuracy against hand-made truth.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};

use agentvoice::eval::rate::{self, Split};
use agentvoice::eval::ErrorStats;
use agentvoice::pipeline::AnalysisOptions;
use agentvoice::Config;

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(subcommand)]
    command: EvalCommand,
}

#[derive(Debug, Subcommand)]
enum EvalCommand {
    /// Syllable counts against a manifest (TSV with `file` and `syllables` columns).
    Rate(RateArgs),
    /// Calls with exact truth (TRUTH_DIR/truth/*.json): the figures of score_calls.py.
    Calls(super::eval_calls::EvalCallsArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SplitArg {
    All,
    Even,
    Odd,
}

#[derive(Debug, Args)]
struct RateArgs {
    /// TSV with a header row: `file` (relative to the manifest's folder), the true
    /// syllable counts, and optionally `language`.
    manifest: PathBuf,
    /// Column holding the true syllable counts.
    #[arg(long, default_value = "syllables")]
    column: String,
    /// Rows evaluated: all, or the even or odd data rows (tuning and held-out halves).
    #[arg(long, value_enum, default_value = "all")]
    split: SplitArg,
    /// Settings file (TOML), as for `analyze`.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Also print one line per file: truth, estimate, error.
    #[arg(short, long)]
    verbose: bool,
}

pub fn eval(args: EvalArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        EvalCommand::Rate(a) => eval_rate(a),
        EvalCommand::Calls(a) => super::eval_calls::run(a),
    }
}

fn fmt(v: Option<f64>, digits: usize) -> String {
    v.map(|x| format!("{x:.digits$}"))
        .unwrap_or_else(|| "-".into())
}

fn stats_line(name: &str, s: &ErrorStats) -> String {
    format!(
        "{name:<10} {:>4} {:>7} {:>7} {:>7} {:>6}",
        s.n,
        fmt(s.mape_pct, 1),
        fmt(s.mae, 2),
        fmt(s.bias, 2),
        fmt(s.pearson_r, 3)
    )
}

fn eval_rate(args: RateArgs) -> anyhow::Result<ExitCode> {
    let config = match &args.config {
        Some(path) => Config::from_toml_file(path)?,
        None => Config::default(),
    };
    let options = AnalysisOptions {
        config,
        ..AnalysisOptions::default()
    };
    let split = match args.split {
        SplitArg::All => Split::All,
        SplitArg::Even => Split::Even,
        SplitArg::Odd => Split::Odd,
    };
    let result = rate::evaluate(&args.manifest, &args.column, split, &options)
        .with_context(|| format!("{}: cannot evaluate", args.manifest.display()))?;
    let mut failed = 0;
    for item in &result.items {
        if let Some(e) = &item.error {
            eprintln!("agentvoice: {}: {e}", item.file.display());
            failed += 1;
        } else if args.verbose {
            let est = item.estimate.unwrap_or(f64::NAN);
            println!(
                "{}\t{}\ttruth {}\testimate {}\terror {:+.1} %",
                item.file.display(),
                item.language.as_deref().unwrap_or("-"),
                item.truth,
                est,
                (est - item.truth) / item.truth * 100.0
            );
        }
    }
    println!(
        "syllable counts: {} (column {}, split {:?})",
        args.manifest.display(),
        args.column,
        split
    );
    println!(
        "{:<10} {:>4} {:>7} {:>7} {:>7} {:>6}",
        "group", "n", "MAPE %", "MAE", "bias", "r"
    );
    println!("{}", stats_line("all", &result.overall));
    for (lang, s) in &result.by_language {
        println!("{}", stats_line(lang, s));
    }
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
