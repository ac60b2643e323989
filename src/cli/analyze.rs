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
use super::resume;

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

impl From<ChannelArg> for AgentChannel {
    fn from(arg: ChannelArg) -> AgentChannel {
        match arg {
            ChannelArg::Left => AgentChannel::Left,
            ChannelArg::Right => AgentChannel::Right,
        }
    }
}

impl From<MonoArg> for MonoRole {
    fn from(arg: MonoArg) -> MonoRole {
        match arg {
            MonoArg::Agent => MonoRole::Agent,
            MonoArg::Mixed => MonoRole::Mixed,
        }
    }
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
    #[arg(short, long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    jobs: Option<u16>,
    /// Analyse every recording again, even those already in DIR/calls.jsonl unchanged.
    #[arg(long)]
    force: bool,
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
        agent_channel: args.agent_channel.into(),
        mono: args.mono.into(),
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
    let previous = resume::recover(&args.output)?;
    let fingerprint = pipeline::settings_fingerprint(&options);
    let (todo, mut results) = plan(&files, &previous, args.force, &fingerprint);
    let skipped = files.len() - todo.len();
    let stop = resume::StopFlag::install()?;
    let journal = resume::Journal::open(&args.output)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.map_or(0, usize::from))
        .build()
        .context("cannot start worker threads")?;
    let progress = Progress::new(todo.len());
    let analysed: Vec<Option<CallReport>> = pool.install(|| {
        todo.par_iter()
            .map(|&i| {
                let report = analyze_and_journal(&files[i], &options, &journal, &stop);
                if let Some(r) = &report {
                    progress.record(r);
                }
                report
            })
            .collect()
    });
    progress.finish();
    let mut not_done = 0;
    for (&i, report) in todo.iter().zip(analysed) {
        match report {
            Some(r) => results[i] = Some(Fresh::New(r)),
            None => not_done += 1,
        }
    }

    let (mut current, new): (Vec<CallReport>, Vec<bool>) = results
        .into_iter()
        .flatten()
        .map(|r| match r {
            Fresh::New(r) => (r, true),
            Fresh::Kept(r) => (r, false),
        })
        .unzip();
    super::report::identify(&rules, &mut current, false);

    // Printing is best effort (stdout may be a closed pipe): the results files are
    // written whatever happens to it.
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for (r, &new) in current.iter().zip(&new) {
        if new {
            if let Some(e) = &r.error {
                eprintln!("agentvoice: {}: {e}", r.file);
                failed += 1;
            }
        }
        if args.json {
            let _ = writeln!(out, "{}", export::to_json_line(r));
        } else if new && r.error.is_none() {
            let _ = writeln!(out, "{}", summary_line(r));
        }
    }
    current.extend(problems.iter().map(problem_report));
    let ok = current.iter().filter(|r| r.error.is_none()).count();
    let all = resume::merge(previous, current);
    resume::write_outputs(&args.output, &all)?;
    journal.remove()?;
    super::report::write_html(&args.output, &all, &options.config, args.report.png)?;
    if !args.json {
        let _ = writeln!(
            out,
            "{} recordings analysed, {} failed; results in {}, report in {}",
            ok - skipped.min(ok),
            failed,
            args.output.join(resume::JSONL_NAME).display(),
            args.output.join("index.html").display()
        );
        if skipped > 0 {
            let _ = writeln!(
                out,
                "{skipped} unchanged recordings were already in {} and were not analysed again (--force to redo them)",
                args.output.join(resume::JSONL_NAME).display()
            );
        }
    }
    if let Some(code) = stop.exit_code() {
        eprintln!(
            "agentvoice: interrupted: {not_done} recordings not analysed; run the same command again to finish"
        );
        return Ok(ExitCode::from(code));
    }
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A result of this run: analysed now, or kept from an earlier run.
enum Fresh {
    New(CallReport),
    Kept(CallReport),
}

/// Which inputs to analyse (indices), and the slots of the results in input order, with
/// the unchanged recordings of earlier runs already filled in (unless `force`).
fn plan(
    files: &[PathBuf],
    previous: &resume::Previous,
    force: bool,
    fingerprint: &str,
) -> (Vec<usize>, Vec<Option<Fresh>>) {
    let mut todo = Vec::new();
    let mut slots = Vec::with_capacity(files.len());
    for (i, f) in files.iter().enumerate() {
        match previous.unchanged(f, fingerprint).filter(|_| !force) {
            Some(old) => slots.push(Some(Fresh::Kept(old.clone()))),
            None => {
                todo.push(i);
                slots.push(None);
            }
        }
    }
    (todo, slots)
}

/// Analyses one file and journals its line; `None` when a stop was asked for first.
fn analyze_and_journal(
    path: &Path,
    options: &AnalysisOptions,
    journal: &resume::Journal,
    stop: &resume::StopFlag,
) -> Option<CallReport> {
    if stop.stopped() {
        return None;
    }
    let report = pipeline::analyze_file(path, options);
    if let Err(e) = journal.append(&report) {
        eprintln!("agentvoice: {e:#}");
    }
    Some(report)
}

/// The `error` line for a path that could not be searched.
fn problem_report(p: &pipeline::InputProblem) -> CallReport {
    CallReport {
        file: p.path.display().to_string(),
        error: Some(p.reason.clone()),
        ..CallReport::default()
    }
}

fn fmt_opt(v: Option<f64>, digits: usize) -> String {
    v.map(|x| format!("{x:.digits$}"))
        .unwrap_or_else(|| "-".into())
}

/// One readable line per recording: the figures a supervisor reads first, and the failed rules.
fn summary_line(r: &CallReport) -> String {
    let rate = r.rate.as_ref();
    let silence = r.silence.as_ref();
    let failed: Vec<&str> = r.failed_rules();
    let exact = rate
        .and_then(|x| x.exact_speaking_rate_spm)
        .map(|v| format!(" (transcript {v:.0})"))
        .unwrap_or_default();
    format!(
        "{}  {:.1}s  rate {}/min{exact}  greet {}s  longest gap {}s  level {} dBov  {}",
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
