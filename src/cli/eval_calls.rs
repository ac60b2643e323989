//! `agentvoice eval calls`: analyse the calls of a truth folder (or read results) and print
//! the reference scorer's figures.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use rayon::prelude::*;

use agentvoice::audio::MonoRole;
use agentvoice::eval::audibility;
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
    /// Also list each long gap got wrong, with how far the line's sound rose over its noise
    /// at the truth's boundaries (is the truth audible at all?).
    #[arg(long)]
    misses: bool,
}

pub fn run(args: EvalCallsArgs) -> anyhow::Result<ExitCode> {
    let mut skipped = 0usize;
    let mut truth = calls::load_truth(&args.truth_dir, |path, why| {
        eprintln!("agentvoice: {}: {why}; skipped", path.display());
        skipped += 1;
    })?;
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
    if args.misses {
        let settings = ScoreSettings::default();
        let misses = calls::gap_misses(&truth, &results, &settings);
        print!(
            "{}",
            format_misses(&args.truth_dir, &truth, &misses, &settings)
        );
    }
    // The figures stand for the calls read; a skipped truth file makes the run partial.
    Ok(if skipped > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A sound stands this far over the line's noise, dB.
const SOUND_MARGIN_DB: f32 = 6.0;
/// How far before a gap's start (after its end) the last (first) sound is looked for, s.
const SOUND_SEARCH_S: f64 = 1.0;
/// [`audibility::last_sound_s`] or [`audibility::first_sound_s`].
type SoundSearch = fn(&[audibility::EnergyFrame], [f64; 2], f32, f32) -> Option<f64>;

/// One line per gap got wrong, with the sound around the truth's boundaries.
fn format_misses(
    dir: &std::path::Path,
    truth: &[calls::TruthCall],
    misses: &[calls::GapMiss],
    s: &ScoreSettings,
) -> String {
    use std::fmt::Write;
    let mut out = format!(
        "\nLong gaps got wrong: {} (truth not matched within {} s at both ends, or a false \
         gap). The line's noise is the median band energy inside the true gap; a sound stands \
         {SOUND_MARGIN_DB} dB over it.\n",
        misses.len(),
        s.tol_s
    );
    for call in truth {
        let mine: Vec<&calls::GapMiss> = misses.iter().filter(|m| m.call == call.name).collect();
        if mine.is_empty() {
            continue;
        }
        let windows: Vec<[f64; 2]> = mine
            .iter()
            .filter_map(|m| m.truth)
            .map(|g| [g[0] - SOUND_SEARCH_S, g[1] + SOUND_SEARCH_S])
            .collect();
        let energies = if windows.is_empty() {
            Ok(Vec::new())
        } else {
            audibility::band_energy_in(&dir.join(call.file()), &windows)
        };
        let stereo = call.kind() == "stereo";
        for m in mine {
            let _ = write!(out, "  {}", m.call);
            let Some(g) = m.truth else {
                if let Some(d) = m.detected {
                    let _ = writeln!(out, "  false gap {:.2}-{:.2} s", d[0], d[1]);
                }
                continue;
            };
            let _ = write!(out, "  truth {:.2}-{:.2} s", g[0], g[1]);
            match m.detected {
                Some(d) => {
                    let _ = write!(
                        out,
                        "  detected {:.2}-{:.2} s (start {:+.2}, end {:+.2})",
                        d[0],
                        d[1],
                        d[0] - g[0],
                        d[1] - g[1]
                    );
                }
                None => out.push_str("  no detected long gap"),
            }
            let energies = match &energies {
                Ok(e) => e,
                Err(e) => {
                    let _ = writeln!(out, "; audio: {e}");
                    continue;
                }
            };
            let channel_of = |role: &str| usize::from(stereo && role == "customer");
            let inside = [g[0] + 0.3, g[1] - 0.3];
            // The speech before the gap: where its sound last stood over the noise (up to
            // the detected gap's start, if later); the speech after: where it first did.
            let before = m.detected.map_or(g[0], |d| d[0].max(g[0]));
            let after = m.detected.map_or(g[1], |d| d[1].min(g[1]));
            let edges: [(f64, &str, &str, [f64; 2], SoundSearch); 2] = [
                (
                    g[0],
                    "ends",
                    "before",
                    [g[0] - SOUND_SEARCH_S, before],
                    audibility::last_sound_s,
                ),
                (
                    g[1],
                    "starts",
                    "after",
                    [after, g[1] + SOUND_SEARCH_S],
                    audibility::first_sound_s,
                ),
            ];
            for (role, (edge_s, verb, side, span, search)) in m.roles.iter().zip(edges) {
                let Some(role) = role else { continue };
                let Some(frames) = energies.get(channel_of(role)) else {
                    continue;
                };
                let Some(noise) = audibility::noise_db(frames, inside) else {
                    continue;
                };
                let which = if side == "before" { "last" } else { "first" };
                let _ = match search(frames, span, noise, SOUND_MARGIN_DB) {
                    Some(t) => write!(
                        out,
                        "; {role} {verb} {edge_s:.2} s, {which} sound {t:.2} s ({:+.2})",
                        t - edge_s
                    ),
                    None => write!(out, "; {role} {verb} {edge_s:.2} s, no sound {side}"),
                };
            }
            out.push('\n');
        }
    }
    out
}
