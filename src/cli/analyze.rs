//! `agentvoice analyze`: recordings in, calls.jsonl and calls.csv out.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use rayon::prelude::*;

use agentvoice::audio::{AgentChannel, MonoRole};
use agentvoice::pipeline::{self, AnalysisOptions};
use agentvoice::report::export;
use agentvoice::{CallReport, Config};

use super::batch::{Progress, Shard};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ChannelArg {
    Left,
    Right,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MonoArg {
    Agent,
    Mixed,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Recordings, or folders searched recursively for .wav, .flac and .mp3 files.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output folder for calls.jsonl and calls.csv.
    #[arg(short, long, default_value = "reports")]
    output: PathBuf,
    /// Print the JSON lines to stdout instead of the readable summary.
    #[arg(long)]
    json: bool,
    /// Settings file (TOML); see `agentvoice config` for the keys and defaults.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Which channel of a stereo recording is the agent.
    #[arg(long, value_enum, default_value = "left")]
    agent_channel: ChannelArg,
    /// What a mono recording holds: the agent alone, or both parties mixed.
    #[arg(long, value_enum, default_value = "mixed")]
    mono: MonoArg,
    /// Files analysed in parallel (default: one per core).
    #[arg(short, long)]
    jobs: Option<usize>,
    #[command(flatten)]
    report: super::report::IdentityArgs,
    /// Analyse only part K of N of the sorted inputs (1 <= K <= N), e.g. `--shard 2/8`,
    /// so N machines or array jobs share a corpus; their calls.jsonl files concatenate.
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,
}

pub fn analyze(args: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let rules = args.report.rules()?;
    let config = match &args.config {
        Some(path) => Config::from_toml_file(path)?,
        None => Config::default(),
    };
    let options = AnalysisOptions {
        config,
        agent_channel: match args.agent_channel {
            ChannelArg::Left => AgentChannel::Left,
            ChannelArg::Right => AgentChannel::Right,
        },
        mono: match args.mono {
            MonoArg::Agent => MonoRole::Agent,
            MonoArg::Mixed => MonoRole::Mixed,
        },
    };
    let (files, problems) = pipeline::collect_inputs(&args.paths);
    let files = match args.shard {
        Some(shard) => shard.select(files),
        None => files,
    };
    let mut failed = problems.len();
    for p in &problems {
        eprintln!("agentvoice: {}: {}", p.path.display(), p.reason);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;
    let progress = Progress::new(files.len());
    let mut reports: Vec<CallReport> = pool.install(|| {
        files
            .par_iter()
            .map(|f| {
                let report = pipeline::analyze_file(f, &options);
                progress.record(&report);
                report
            })
            .collect()
    });
    progress.finish();
    super::report::identify(&rules, &mut reports, false);

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for r in &reports {
        if let Some(e) = &r.error {
            eprintln!("agentvoice: {}: {e}", r.file);
            failed += 1;
        }
        if args.json {
            writeln!(out, "{}", export::to_json_line(r))?;
        } else if r.error.is_none() {
            writeln!(out, "{}", summary_line(r))?;
        }
    }
    write_outputs(&args.output, &reports)?;
    super::report::write_html(&args.output, &reports, &options.config, args.report.png)?;
    if !args.json {
        let ok = reports.len() - reports.iter().filter(|r| r.error.is_some()).count();
        writeln!(
            out,
            "{} recordings analysed, {} failed; results in {}, report in {}",
            ok,
            failed,
            args.output.join("calls.jsonl").display(),
            args.output.join("index.html").display()
        )?;
    }
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn write_outputs(dir: &Path, reports: &[CallReport]) -> anyhow::Result<()> {
    let jsonl = dir.join("calls.jsonl");
    export::write_atomic(&jsonl, export::to_jsonl(reports).as_bytes())
        .with_context(|| format!("{}: cannot write", jsonl.display()))?;
    let csv = dir.join("calls.csv");
    let text = export::to_csv(reports).context("cannot format calls.csv")?;
    export::write_atomic(&csv, text.as_bytes())
        .with_context(|| format!("{}: cannot write", csv.display()))?;
    Ok(())
}

fn fmt_opt(v: Option<f64>, digits: usize) -> String {
    v.map(|x| format!("{x:.digits$}"))
        .unwrap_or_else(|| "-".into())
}

/// One readable line per recording: the figures a supervisor reads first, and the failed rules.
fn summary_line(r: &CallReport) -> String {
    let rate = r.rate.as_ref();
    let silence = r.silence.as_ref();
    let failed: Vec<&str> = r
        .checks
        .iter()
        .flatten()
        .filter(|(_, c)| c.pass == Some(false))
        .map(|(k, _)| k.as_str())
        .collect();
    format!(
        "{}  {:.1}s  rate {}/min  greet {}s  longest gap {}s  level {} dBov  {}",
        r.file,
        r.duration_s.unwrap_or(0.0),
        fmt_opt(rate.and_then(|x| x.speaking_rate_spm), 0),
        fmt_opt(silence.and_then(|s| s.greeting_latency_s), 2),
        fmt_opt(silence.map(|s| s.longest_gap_s), 2),
        fmt_opt(
            r.loudness.as_ref().and_then(|l| l.active_speech_level_dbov),
            1
        ),
        if failed.is_empty() {
            "ok".to_string()
        } else {
            format!("FAIL: {}", failed.join(", "))
        }
    )
}
