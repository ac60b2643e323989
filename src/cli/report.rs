//! `agentvoice report DIR`: rebuilds the supervisor's report (index.html, agent and call
//! pages, agents.csv, PNGs) from `DIR/calls.jsonl` without the audio; also the identity and
//! report options that `analyze` shares.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use agentvoice::report::agents;
use agentvoice::report::html::{self, ReportOptions};
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

/// Sets agent, date and call id of each result; tells about files the pattern missed.
pub fn identify(rules: &IdentityRules, reports: &mut [CallReport], keep_stored: bool) {
    let mut stats = IdentityStats::default();
    for r in reports.iter_mut() {
        rules.apply(r, keep_stored, &mut stats);
    }
    if let Some(first) = stats.pattern_misses.first() {
        eprintln!(
            "agentvoice: note: --agent-pattern did not match {} file(s) (e.g. {first}); their \
             folder name is used",
            stats.pattern_misses.len()
        );
    }
}

/// Writes the HTML report, agents.csv and (with `png`) PNG plots into `dir`.
pub fn write_html(
    dir: &Path,
    reports: &[CallReport],
    config: &Config,
    png: bool,
) -> anyhow::Result<html::ReportOutcome> {
    let outcome = html::write_report(
        dir,
        reports,
        &ReportOptions {
            config: config.clone(),
            png,
        },
    )?;
    for note in &outcome.notes {
        eprintln!("agentvoice: note: {note}");
    }
    Ok(outcome)
}

pub fn report(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let rules = args.identity.rules()?;
    let config = match &args.config {
        Some(path) => Some(Config::from_toml_file(path)?),
        None => None,
    };
    let jsonl = args.dir.join("calls.jsonl");
    let (mut reports, unreadable) = html::read_calls_jsonl(&jsonl).with_context(|| {
        format!(
            "run `agentvoice analyze ... -o {}` first",
            args.dir.display()
        )
    })?;
    identify(&rules, &mut reports, true);
    if let Some(config) = &config {
        for r in reports.iter_mut() {
            agents::rejudge(r, config);
        }
    }
    reports.extend(unreadable);
    let config = config.unwrap_or_default();
    let outcome = write_html(&args.dir, &reports, &config, args.identity.png)?;
    println!(
        "{} agents, {} calls, {} not analysed; report in {}",
        outcome.agents,
        outcome.calls,
        outcome.failed,
        args.dir.join("index.html").display()
    );
    Ok(ExitCode::SUCCESS)
}
