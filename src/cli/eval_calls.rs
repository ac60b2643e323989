//! `agentvoice eval calls`: analyse the calls of a truth folder (or read results) and print
//! the reference scorer's figures.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use rayon::prelude::*;

use agentvoice::audio::MonoRole;
use agentvoice::eval::calls::{self, ScoreSettings};
use agentvoice::pipeline::{self, AnalysisOptions};
use agentvoice::report::export;
use agentvoice::Config;

#[derive(Debug, Args)]
pub struct EvalCallsArgs {
    /// Folder with truth/<call>.json (the recordings are named by each truth's `file`,
    /// relative to this folder).
    truth_dir: PathBuf,
    /// Score these JSON lines instead of analysing the recordings.
    #[arg(long)]
    results: Option<PathBuf>,
    /// Also write the analysis results here as JSON lines.
    #[arg(long)]
    save: Option<PathBuf>,
    /// Settings file (TOML) for the analysis.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Score only the calls with odd or even numbers (tune on one half, check the other).
    #[arg(long, default_value = "all", value_parser = ["all", "odd", "even"])]
    split: String,
}

pub fn run(args: EvalCallsArgs) -> anyhow::Result<ExitCode> {
    let mut truth = calls::load_truth(&args.truth_dir)?;
    calls::split(&mut truth, &args.split)?;
    let results: BTreeMap<String, serde_json::Value> = match &args.results {
        Some(path) => calls::load_results(path)?,
        None => {
            let config = match &args.config {
                Some(path) => Config::from_toml_file(path)?,
                None => Config::default(),
            };
            let reports: Vec<_> = truth
                .par_iter()
                .map(|call| {
                    // Agent-only recordings are analysed as such; the truth says which.
                    let options = AnalysisOptions {
                        config: config.clone(),
                        mono: if call.kind() == "agent_only" {
                            MonoRole::Agent
                        } else {
                            MonoRole::Mixed
                        },
                        ..AnalysisOptions::default()
                    };
                    pipeline::analyze_file(&args.truth_dir.join(call.file()), &options)
                })
                .collect();
            if let Some(path) = &args.save {
                export::write_atomic(path, export::to_jsonl(&reports).as_bytes())
                    .with_context(|| format!("{}: cannot write", path.display()))?;
            }
            reports
                .iter()
                .filter_map(|r| {
                    let v = serde_json::from_str(&export::to_json_line(r)).ok()?;
                    Some((calls::stem(&r.file), v))
                })
                .collect()
        }
    };
    let scores = calls::score(&truth, &results, &ScoreSettings::default());
    let label = match args.split.as_str() {
        "all" => args.truth_dir.display().to_string(),
        half => format!("{} ({half} calls)", args.truth_dir.display()),
    };
    print!("{}", calls::format_tables(&scores, &label));
    Ok(ExitCode::SUCCESS)
}
