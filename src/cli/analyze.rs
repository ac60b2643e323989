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
    let fingerprint = pipeline::settings_fingerprint(&options);
    let mut previous = resume::recover(&args.output, &fingerprint)?;
    // Temporary files of a run that was killed while writing its outputs.
    export::remove_stale_temp_files(&args.output, export::STALE_TEMP_DEPTH);
    let (todo, mut slots) = plan(&files, &previous, args.force);
    let skipped = files.len() - todo.len();
    let stop = resume::StopFlag::install()?;
    let journal = resume::Journal::open(&args.output)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.map_or(0, usize::from))
        .build()
        .context("cannot start worker threads")?;
    let progress = Progress::new(todo.len());
    // Each result goes to the journal as it is finished; only its place is kept.
    let analysed: Vec<Option<Slot>> = pool.install(|| {
        todo.par_iter()
            .map(|&i| analyze_and_journal(&files[i], &options, &journal, &stop, &progress))
            .collect()
    });
    progress.finish();
    let mut not_done = 0;
    for (&i, slot) in todo.iter().zip(analysed) {
        match slot {
            Some(s) => slots[i] = s,
            None => not_done += 1,
        }
    }

    // The outputs, streamed in input order: this run's inputs (new results from the
    // journal, unchanged ones from the old calls.jsonl), the paths that could not be
    // searched, then earlier results of files not given this time. The report gathers a
    // digest of each as it goes.
    // Earlier results of files given to this run (and done) are replaced; the others are
    // kept after this run's. Then only the places are needed, not the index or the paths.
    for (file, slot) in files.iter().zip(&slots) {
        if !matches!(slot, Slot::Todo) {
            previous.mark_seen(&file.display().to_string());
        }
    }
    for p in &problems {
        previous.mark_seen(&p.path.display().to_string());
    }
    let rest = previous.rest();
    let mut kept_lines = previous.reader()?;
    drop((previous, files));
    let mut journal_lines = LineReader::open(journal.path())
        .with_context(|| format!("{}: cannot read", journal.path().display()))?;
    let mut outputs = resume::Outputs::create(&args.output)?;
    let mut builder = ReportBuilder::new(&args.output);
    let mut stats = IdentityStats::default();
    let mut ok = 0;
    // Printing is best effort (stdout may be a closed pipe): the results files are
    // written whatever happens to it.
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for slot in slots {
        let (mut r, new) = match slot {
            Slot::Todo => continue,
            Slot::Kept(place) => (
                resume::read_at(
                    kept_lines.as_mut(),
                    &args.output.join(resume::JSONL_NAME),
                    place,
                )?,
                false,
            ),
            Slot::Journaled(place) => (
                resume::read_at(Some(&mut journal_lines), journal.path(), place)?,
                true,
            ),
            Slot::Held(r) => (*r, true),
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
    super::report::pattern_note(&stats);
    for p in &problems {
        let r = problem_report(p);
        outputs.write(&r)?;
        builder.add(&r);
    }
    for place in rest {
        let r = resume::read_at(
            kept_lines.as_mut(),
            &args.output.join(resume::JSONL_NAME),
            place,
        )?;
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

/// Where the result of one input is.
enum Slot {
    /// Not analysed (yet, or the run was stopped first).
    Todo,
    /// Unchanged since an earlier run: its line in the old `calls.jsonl`.
    Kept(resume::Place),
    /// Analysed now: its line in the journal.
    Journaled(resume::Place),
    /// Analysed now, but the journal could not take it: held here.
    Held(Box<CallReport>),
}

/// Which inputs to analyse (indices), and a slot per input, with the unchanged recordings
/// of earlier runs already filled in (unless `force`).
fn plan(files: &[PathBuf], previous: &resume::Previous, force: bool) -> (Vec<usize>, Vec<Slot>) {
    let mut todo = Vec::new();
    let mut slots = Vec::with_capacity(files.len());
    for (i, f) in files.iter().enumerate() {
        match previous.unchanged(f).filter(|_| !force) {
            Some(place) => slots.push(Slot::Kept(place)),
            None => {
                todo.push(i);
                slots.push(Slot::Todo);
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
    progress: &Progress,
) -> Option<Slot> {
    if stop.stopped() {
        return None;
    }
    let report = pipeline::analyze_file(path, options);
    progress.record(&report);
    match journal.append(&report) {
        Ok(place) => Some(Slot::Journaled(place)),
        Err(e) => {
            eprintln!("agentvoice: {e:#}");
            Some(Slot::Held(Box::new(report)))
        }
    }
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
