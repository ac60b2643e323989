//! `agentvoice analyze`: recordings in, calls.jsonl and calls.csv out.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use rayon::prelude::*;

use agentvoice::audio::{AgentChannel, MonoRole};
use agentvoice::pipeline::{self, AnalysisOptions};
use agentvoice::report::export::{self, JsonLines, LineReader};
use agentvoice::report::html::ReportBuilder;
use agentvoice::report::identity::IdentityStats;
use agentvoice::{CallReport, Config};

use super::batch::{Progress, Shard};
use super::{plan, resume};

/// An error of a temporary file (its folder is named in it).
fn temporary(e: std::io::Error) -> anyhow::Error {
    anyhow::Error::new(e).context("cannot plan the run")
}

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
    // Sorts (of the inputs, the earlier results, the plan) go to anonymous temporary
    // files in the output folder when they outgrow memory. Made here at best: a folder
    // that cannot be made is reported when the journal is opened in it (or by a sort
    // that needed it first).
    let dir = &args.output;
    let _ = std::fs::create_dir_all(dir);
    let walked = plan::walk(&args.paths, dir, plan::RUN_BYTES).map_err(temporary)?;
    let mut keys = plan::Keys::new(dir, plan::RUN_BYTES);
    let mut problems = plan::Fifo::new(dir, plan::RUN_BYTES);
    let mut failed = 0;
    for p in walked.problems.finish().map_err(temporary)? {
        let p = p.map_err(temporary)?;
        eprintln!("agentvoice: {}: {}", p.path.display(), p.reason);
        failed += 1;
        keys.push_problem(&p).map_err(temporary)?;
        problems.push(p).map_err(temporary)?;
    }
    keys.push_files(walked.found.finish().map_err(temporary)?, args.shard)
        .map_err(temporary)?;
    let fingerprint = pipeline::settings_fingerprint(&options);
    let mut previous = resume::recover(dir, &fingerprint, plan::RUN_BYTES)?;
    // Temporary files of a run that was killed while writing its outputs.
    export::remove_stale_temp_files(dir, export::STALE_TEMP_DEPTH);
    let plan = plan::join(
        keys,
        previous.take_entries(),
        args.force,
        dir,
        plan::RUN_BYTES,
    )
    .map_err(temporary)?;
    let skipped = plan.kept;
    let stop = resume::StopFlag::install()?;
    let journal = resume::Journal::open(dir)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.map_or(0, usize::from))
        .build()
        .context("cannot start worker threads")?;
    let progress = Progress::new(plan.todo);
    // Each result goes to the journal as it is finished; only its place is kept.
    let outcome = plan::run(plan, plan::CHUNK_FILES, |paths| {
        pool.install(|| {
            paths
                .par_iter()
                .map(|path| analyze_and_journal(path, &options, &journal, &stop, &progress))
                .collect()
        })
    })
    .map_err(temporary)?;
    progress.finish();
    let plan::Outcome {
        done,
        mut held,
        rest,
        not_done,
    } = outcome;

    // The outputs, streamed in input order: this run's inputs (new results from the
    // journal, unchanged ones from the old calls.jsonl), the paths that could not be
    // searched, then earlier results of files not given this time. The report gathers a
    // digest of each as it goes.
    let mut kept_lines = previous.reader()?;
    drop(previous);
    let mut journal_lines = LineReader::open(journal.path())
        .with_context(|| format!("{}: cannot read", journal.path().display()))?;
    let mut outputs = resume::Outputs::create(dir)?;
    let mut builder = ReportBuilder::new(dir);
    let mut stats = IdentityStats::default();
    let mut ok = 0;
    // Printing is best effort (stdout may be a closed pipe): the results files are
    // written whatever happens to it.
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let jsonl_path = dir.join(resume::JSONL_NAME);
    for slot in done {
        let (mut r, new) = match slot.map_err(temporary)? {
            plan::Done::Stopped => continue,
            plan::Done::Kept(place) => (
                resume::read_at(kept_lines.as_mut(), &jsonl_path, place)?,
                false,
            ),
            plan::Done::Journaled(place) => (
                resume::read_at(Some(&mut journal_lines), journal.path(), place)?,
                true,
            ),
            plan::Done::Held(i) => (
                held.get_mut(i as usize)
                    .map(std::mem::take)
                    .unwrap_or_default(),
                true,
            ),
        };
        rules.apply(&mut r, false, &mut stats);
        if new {
            if let Some(e) = &r.error {
                eprintln!("agentvoice: {}: {e}", r.file);
                failed += 1;
            }
        }
        if args.json {
            let _ = writeln!(out, "{}", export::to_json_line(&r));
        } else if new && r.error.is_none() {
            let _ = writeln!(out, "{}", summary_line(&r));
        }
        ok += usize::from(r.error.is_none());
        outputs.write(&r)?;
        builder.add(&r);
    }
    drop(held);
    super::report::pattern_note(&stats);
    for p in problems.finish().map_err(temporary)? {
        let r = problem_report(&p.map_err(temporary)?);
        outputs.write(&r)?;
        builder.add(&r);
    }
    for place in rest {
        let r = resume::read_at(kept_lines.as_mut(), &jsonl_path, place.map_err(temporary)?)?;
        outputs.write(&r)?;
        builder.add(&r);
    }
    drop((kept_lines, journal_lines));
    outputs.commit()?;
    journal.remove()?;
    let jsonl = args.output.join(resume::JSONL_NAME);
    super::report::write_html(
        &args.output,
        builder,
        &options.config,
        args.report.png,
        |each| {
            let file = std::fs::File::open(&jsonl).map_err(|e| {
                agentvoice::Error::Report(format!(
                    "{}: {}",
                    jsonl.display(),
                    pipeline::io_reason(&e)
                ))
            })?;
            let mut lines = JsonLines::new(std::io::BufReader::with_capacity(1 << 16, file));
            let read_error =
                |e: std::io::Error| agentvoice::Error::Report(format!("{}: {e}", jsonl.display()));
            while let Some(line) = lines.next_line().map_err(read_error)? {
                each(line.result.map_err(|e| {
                    agentvoice::Error::Report(format!("{}: {e}", jsonl.display()))
                })?)?;
            }
            Ok(())
        },
    )?;
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

/// Analyses one file and journals its line; `None` when a stop was asked for first.
fn analyze_and_journal(
    path: &Path,
    options: &AnalysisOptions,
    journal: &resume::Journal,
    stop: &resume::StopFlag,
    progress: &Progress,
) -> Option<plan::Analysed> {
    if stop.stopped() {
        return None;
    }
    let report = pipeline::analyze_file(path, options);
    progress.record(&report);
    match journal.append(&report) {
        Ok(place) => Some(plan::Analysed::Journaled(place)),
        Err(e) => {
            eprintln!("agentvoice: {e:#}");
            Some(plan::Analysed::Held(Box::new(report)))
        }
    }
}

/// The `error` line for a path that could not be searched.
fn problem_report(p: &plan::Problem) -> CallReport {
    CallReport {
        file: plan::file_name_of(&p.path),
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
