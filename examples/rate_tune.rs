//! Tunes and compares the syllable counter's designs on transcribed speech and calls.
//!
//! Decodes every file once (envelopes, voice-activity decisions and segments are cached),
//! then searches the settings of each design by coordinate descent on the tuning half
//! (even data rows of each manifest; calls alternate within each kind/noise stratum) and prints MAPE per group on the
//! tuning half, the held-out half and all files.
//!
//! ```text
//! cargo run --release --example rate_tune -- \
//!     --manifest /work/shared/data/speech/manifest.tsv \
//!     --manifest target/speech-telephone/manifest.tsv:tel \
//!     --calls /work/shared/data/calls
//! ```

use std::path::{Path, PathBuf};

use agentvoice::audio::AudioSource;
use agentvoice::eval::{error_stats, Manifest};
use agentvoice::features::FrameExtractor;
use agentvoice::rate::envelope::{BandEnvelope, BandFrame};
use agentvoice::rate::{count_in_segments, Design, RateSettings, SyllableCounter};
use agentvoice::vad::{Decision, VoiceActivity};
use agentvoice::Config;
use rayon::prelude::*;

struct Item {
    group: String,
    name: String,
    tune: bool,
    truth: f64,
    rate: u32,
    bands: Vec<BandFrame>,
    decisions: Vec<Decision>,
    segments: Vec<(f64, f64)>,
}

/// Reads one channel (`Some(c)`) or the mean of all channels.
fn read(path: &Path, channel: Option<usize>) -> anyhow::Result<(u32, Vec<f32>)> {
    let mut src = AudioSource::open(path)?;
    let spec = src.spec();
    let ch = spec.channels.max(1);
    let mut out = Vec::new();
    while let Some(block) = src.next_block()? {
        for f in block.chunks_exact(ch) {
            out.push(match channel {
                Some(c) => f[c.min(ch - 1)],
                None => f.iter().sum::<f32>() / ch as f32,
            });
        }
    }
    Ok((spec.sample_rate, out))
}

fn prepare(
    group: String,
    name: String,
    tune: bool,
    truth: f64,
    rate: u32,
    samples: &[f32],
) -> Item {
    let config = Config::default();
    let mut fx = FrameExtractor::new(rate, config.pitch.min_hz, config.pitch.max_hz);
    let mut vad = VoiceActivity::new(&config.vad);
    let mut decisions = Vec::new();
    fx.push(samples, |f| vad.push(f, |d| decisions.push(d)));
    vad.finish(|d| decisions.push(d));
    let mut env = BandEnvelope::new(rate, fx.hop_samples());
    let mut bands = Vec::new();
    env.push(samples, |_, b| bands.push(*b));
    Item {
        group,
        name,
        tune,
        truth,
        rate,
        bands,
        decisions,
        segments: vad.segments().to_vec(),
    }
}

fn count(item: &Item, s: &RateSettings) -> f64 {
    let mut c = SyllableCounter::new(item.rate, *s);
    for b in &item.bands {
        c.push_band_frame(b);
    }
    for d in &item.decisions {
        c.push(*d);
    }
    c.finish();
    count_in_segments(c.nuclei_s(), &item.segments) as f64
}

/// MAPE per group for the items selected by `pick`.
fn table(items: &[Item], counts: &[f64], pick: impl Fn(&Item) -> bool) -> Vec<(String, f64)> {
    let mut groups: Vec<String> = items.iter().map(|i| i.group.clone()).collect();
    groups.sort();
    groups.dedup();
    groups
        .into_iter()
        .map(|g| {
            let pairs: Vec<(f64, f64)> = items
                .iter()
                .zip(counts)
                .filter(|(i, _)| i.group == g && pick(i))
                .map(|(i, &c)| (c, i.truth))
                .collect();
            (g, error_stats(&pairs).mape_pct.unwrap_or(f64::NAN))
        })
        .collect()
}

fn objective(items: &[Item], s: &RateSettings) -> f64 {
    let counts: Vec<f64> = items.par_iter().map(|i| count(i, s)).collect();
    let t = table(items, &counts, |i| i.tune);
    // The worst group counts double: every language and channel must be good.
    let worst = t.iter().map(|x| x.1).fold(0.0, f64::max);
    t.iter().map(|x| x.1).sum::<f64>() / t.len() as f64 + worst
}

fn report(items: &[Item], s: &RateSettings) {
    let counts: Vec<f64> = items.par_iter().map(|i| count(i, s)).collect();
    for (name, pick) in [("tune", 0), ("held-out", 1), ("all", 2)] {
        let t = table(items, &counts, |i| match pick {
            0 => i.tune,
            1 => !i.tune,
            _ => true,
        });
        let cells: Vec<String> = t.iter().map(|(g, m)| format!("{g} {m:.1}")).collect();
        println!("  {name:<9} {}", cells.join(" | "));
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut manifests: Vec<(PathBuf, String)> = Vec::new();
    let mut calls: Option<PathBuf> = None;
    let mut passes = 3usize;
    let mut verbose = false;
    let mut flip = false;
    let mut fixed: Vec<(usize, f64)> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--manifest" => {
                let v = args.get(i + 1).cloned().unwrap_or_default();
                let (p, suffix) = match v.split_once(':') {
                    Some((p, s)) => (p.to_string(), format!("-{s}")),
                    None => (v, String::new()),
                };
                manifests.push((PathBuf::from(p), suffix));
                i += 2;
            }
            "--calls" => {
                calls = args.get(i + 1).map(PathBuf::from);
                i += 2;
            }
            "--flip" => {
                flip = true;
                i += 1;
            }
            "--verbose" => {
                verbose = true;
                i += 1;
            }
            "--set" => {
                let v = args.get(i + 1).cloned().unwrap_or_default();
                let (k, x) = v.split_once('=').unwrap_or(("", ""));
                fixed.push((k.parse()?, x.parse()?));
                i += 2;
            }
            "--passes" => {
                passes = args.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or(3);
                i += 2;
            }
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    let mut jobs: Vec<(String, bool, f64, PathBuf, Option<usize>)> = Vec::new();
    for (path, suffix) in &manifests {
        let m = Manifest::read(path)?;
        let base = path.parent().unwrap_or(Path::new("."));
        for (row, r) in m.rows.iter().enumerate() {
            let truth: f64 = r["syllables"].parse()?;
            let lang = r.get("language").cloned().unwrap_or_default();
            jobs.push((
                format!("{lang}{suffix}"),
                row.is_multiple_of(2),
                truth,
                base.join(&r["file"]),
                Some(0),
            ));
        }
    }
    if let Some(dir) = &calls {
        let mut names: Vec<PathBuf> = std::fs::read_dir(dir.join("truth"))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        names.sort();
        // Stratified halves: within each (kind, noise) stratum, in name order, alternate.
        let mut seen: std::collections::HashMap<String, usize> = Default::default();
        for t in &names {
            let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(t)?)?;
            let file = v["file"].as_str().unwrap_or_default().to_string();
            let truth = v["target"]["syllables"].as_f64().unwrap_or(f64::NAN);
            let kind = v["kind"].as_str().unwrap_or_default().to_string();
            let stratum = format!("{kind}/{}", v["noise"]["kind"].as_str().unwrap_or_default());
            let n = seen.entry(stratum).or_insert(0);
            let tune = (*n).is_multiple_of(2);
            *n += 1;
            let channel = (kind == "stereo").then_some(0);
            jobs.push(("calls".into(), tune, truth, dir.join(file), channel));
        }
    }
    if flip {
        jobs.iter_mut().for_each(|j| j.1 = !j.1);
    }
    let items: Vec<Item> = jobs
        .into_par_iter()
        .filter_map(|(group, tune, truth, path, channel)| {
            let (rate, samples) = read(&path, channel)
                .map_err(|e| eprintln!("{}: {e}", path.display()))
                .ok()?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            Some(prepare(group, name, tune, truth, rate, &samples))
        })
        .collect();
    eprintln!("{} files prepared", items.len());

    for design in [Design::Broadband, Design::SubbandCorrelation] {
        let mut best = RateSettings {
            design,
            ..RateSettings::default()
        };
        for &(k, v) in &fixed {
            set(&mut best, k, v);
        }
        let mut best_score = objective(&items, &best);
        println!("{design:?} start: objective {best_score:.2}");
        report(&items, &best);
        for _ in 0..passes {
            let before = best_score;
            for knob in 0..12 {
                if fixed.iter().any(|f| f.0 == knob) {
                    continue;
                }
                for v in candidates(knob) {
                    let mut s = best;
                    set(&mut s, knob, v);
                    if s == best {
                        continue;
                    }
                    let score = objective(&items, &s);
                    if score < best_score - 1e-9 {
                        best_score = score;
                        best = s;
                    }
                }
            }
            if best_score >= before - 1e-9 {
                break;
            }
        }
        println!("{design:?} tuned: objective {best_score:.2}\n  {best:?}");
        report(&items, &best);
        if verbose {
            for i in &items {
                let c = count(i, &best);
                if (c - i.truth).abs() / i.truth > 0.1 {
                    println!(
                        "    {} {} {} truth {} count {}",
                        i.group, i.name, i.tune, i.truth, c
                    );
                }
            }
        }
    }
    Ok(())
}

fn candidates(knob: usize) -> Vec<f64> {
    match knob {
        0 => vec![1.0, 3.0, 5.0, 7.0, 9.0, 11.0],
        1 => vec![2.0, 3.0, 4.0, 5.0, 6.0],
        2 => vec![0.0, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0],
        3 => vec![0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0],
        4 => vec![0.05, 0.07, 0.09, 0.11, 0.13, 0.15],
        5 => vec![0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7],
        6 => vec![0.0, 1.0, 2.0, 3.0, 5.0, 8.0],
        7 => vec![0.0, 4.0, 8.0, 10.0, 12.0, 15.0, 20.0],
        8 => vec![10.0, 15.0, 20.0, 25.0, 30.0, 40.0],
        9 => vec![0.0, 1.0],
        10 => vec![100.0, 200.0, 300.0, 500.0, 1000.0],
        _ => vec![500.0, 1000.0, 3000.0, 6000.0],
    }
}

fn set(s: &mut RateSettings, knob: usize, v: f64) {
    match knob {
        0 => s.correlation_frames = v as usize,
        1 => s.top_bands = v as usize,
        2 => s.smoothing_frames = v as f32,
        3 => s.min_prominence_db = v as f32,
        4 => s.min_spacing_s = v,
        5 => s.min_voicing = v as f32,
        6 => s.voicing_radius_frames = v as usize,
        7 => s.floor_margin_db = v as f32,
        8 => s.level_range_db = v as f32,
        9 => s.require_active = v > 0.5,
        10 => s.floor_window_frames = v as usize,
        _ => s.level_window_frames = v as usize,
    }
}
