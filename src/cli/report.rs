//! `agentvoice report DIR`: rebuilds the supervisor's report (index.html, agent and call
//! pages, agents.csv, PNGs) from `DIR/calls.jsonl` without the audio; also the identity and
//! report options that `analyze` shares.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use std::fs::File;
use std::io::BufReader;

use agentvoice::pipeline;
use agentvoice::report::agents;
use agentvoice::report::export::{self, JsonLines};
use agentvoice::report::html::{self, ReportBuilder, ReportOptions};
use agentvoice::report::identity::{IdentityRules, IdentityStats, Manifest};
use agentvoice::{CallReport, Config};

/// Who the agent of each call is, and the report's extras.
#[derive(Debug, Args)]
pub struct IdentityArgs {
    /// Agent manifest CSV with columns file,agent,date[,call_id] (UTF-8); its rows win over
    /// --agent-pattern and folder names.
    #[arg(long, value_name = "CSV")]
    pub manifest: Option<PathBuf>,
    /// Regex with a named group `agent`, matched against each file name, e.g.
    /// '^(?P<agent>[^_]+)_'; files it does not match keep their folder's name.
    #[arg(long, value_name = "REGEX")]
    pub agent_pattern: Option<String>,
    /// Also write the plots as PNG files under DIR/png/.
    #[arg(long)]
    pub png: bool,
}

impl IdentityArgs {
    /// The identity rules these options ask for (fails on a bad manifest or pattern).
    pub fn rules(&self) -> anyhow::Result<IdentityRules> {
        let manifest = match &self.manifest {
            Some(path) => Some(Manifest::from_file(path)?),
            None => None,
        };
        Ok(IdentityRules::new(self.agent_pattern.as_deref(), manifest)?)
    }
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Results folder holding calls.jsonl (as written by `agentvoice analyze`).
    dir: PathBuf,
    /// Settings file (TOML): re-judges every call against its targets.
    #[arg(long)]
    config: Option<PathBuf>,
    #[command(flatten)]
    identity: IdentityArgs,
}

/// Tells about files the agent pattern missed.
pub fn pattern_note(stats: &IdentityStats) {
    if let Some(first) = &stats.first_pattern_miss {
        eprintln!(
            "agentvoice: note: --agent-pattern did not match {} file(s) (e.g. {first}); their \
             folder name is used",
            stats.pattern_misses
        );
    }
}

/// Writes the HTML report, agents.csv and (with `png`) PNG plots into `dir` from the calls
/// gathered in `builder`; `replay` goes over the same calls again (see
/// [`ReportBuilder::write`]).
pub fn write_html(
    dir: &Path,
    builder: ReportBuilder,
    config: &Config,
    png: bool,
    replay: impl FnOnce(&mut dyn FnMut(CallReport) -> agentvoice::Result<()>) -> agentvoice::Result<()>,
) -> anyhow::Result<html::ReportOutcome> {
    let outcome = builder.write(
        dir,
        &ReportOptions {
            config: config.clone(),
            png,
        },
        replay,
    )?;
    for note in &outcome.notes {
        eprintln!("agentvoice: note: {note}");
    }
    Ok(outcome)
}

/// The lines of `path` one at a time.
fn open_lines(path: &Path) -> agentvoice::Result<JsonLines<BufReader<File>>> {
    let file = File::open(path).map_err(|e| {
        agentvoice::Error::Report(format!("{}: {}", path.display(), pipeline::io_reason(&e)))
    })?;
    Ok(JsonLines::new(BufReader::with_capacity(1 << 16, file)))
}

/// Hands each result of `path` to `each`, in file order; returns the lines that are not
/// results, as error entries naming the line.
fn for_each_result(
    path: &Path,
    each: &mut dyn FnMut(CallReport) -> agentvoice::Result<()>,
) -> agentvoice::Result<Vec<CallReport>> {
    let mut lines = open_lines(path)?;
    let mut unreadable = Vec::new();
    let read_error = |e: std::io::Error| {
        agentvoice::Error::Report(format!("{}: {}", path.display(), pipeline::io_reason(&e)))
    };
    while let Some(line) = lines.next_line().map_err(read_error)? {
        match line.result {
            Ok(r) => each(r)?,
            Err(e) => unreadable.push(CallReport {
                file: format!("{} line {}", path.display(), line.number),
                error: Some(format!("not a result line: {e}")),
                ..CallReport::default()
            }),
        }
    }
    Ok(unreadable)
}

pub fn report(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let rules = args.identity.rules()?;
    let config = match &args.config {
        Some(path) => Some(Config::from_toml_file(path)?),
        None => None,
    };
    let jsonl = args.dir.join("calls.jsonl");
    // Each stored result as the report shows it: agent and date found again, and judged
    // against --config.
    let prepare = |mut r: CallReport, stats: &mut IdentityStats| {
        rules.apply(&mut r, true, stats);
        if let Some(config) = &config {
            agents::rejudge(&mut r, config);
        }
        r
    };
    // First pass: a digest of every call; the second one (in write_html) writes the
    // call pages. Neither holds more than one result at a time.
    export::remove_stale_temp_files(&args.dir, export::STALE_TEMP_DEPTH);
    let mut builder = ReportBuilder::new(&args.dir);
    let mut stats = IdentityStats::default();
    let unreadable = for_each_result(&jsonl, &mut |r| {
        builder.add(&prepare(r, &mut stats));
        Ok(())
    })
    .with_context(|| {
        format!(
            "run `agentvoice analyze ... -o {}` first",
            args.dir.display()
        )
    })?;
    pattern_note(&stats);
    for u in &unreadable {
        // One line each on stderr too; the report lists them with the files not analysed.
        eprintln!(
            "agentvoice: {}: {}",
            u.file,
            u.error.as_deref().unwrap_or("unreadable")
        );
        builder.add(u);
    }
    let config = config.clone().unwrap_or_default();
    let outcome = write_html(&args.dir, builder, &config, args.identity.png, |each| {
        let mut quiet = IdentityStats::default();
        for_each_result(&jsonl, &mut |r| each(prepare(r, &mut quiet)))?;
        unreadable.into_iter().try_for_each(each)
    })?;
    println!(
        "{} agents, {} calls, {} not analysed; report in {}",
        outcome.agents,
        outcome.calls,
        outcome.failed,
        args.dir.join("index.html").display()
    );
    Ok(ExitCode::SUCCESS)
}
