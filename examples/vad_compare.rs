//! Compares voice-activity candidates on a folder of calls with truth, scored like
//! `agentvoice eval-calls` (the same `score_calls.py` definitions):
//!
//! - `agentvoice`: this crate's detector, through the full analyzer;
//! - `earshot`: the pure-Rust earshot neural detector (16 kHz, 16 ms frames; 8 kHz audio is
//!   upsampled by linear interpolation), score >= 0.5, with the same hangover and minimum
//!   speech as ours (`[vad]` defaults), per channel.
//!
//! `cargo run --release --example vad_compare -- /work/shared/data/calls [odd|even]`

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use agentvoice::audio::{AudioSource, MonoRole};
use agentvoice::conversation::{self, Span};
use agentvoice::eval::calls::{self, ScoreSettings, TruthCall};
use agentvoice::pipeline::{self, AnalysisOptions};
use agentvoice::report::export;
use agentvoice::Config;

/// Decodes a file into one sample vector per channel.
fn decode(path: &Path) -> agentvoice::Result<(u32, Vec<Vec<f32>>)> {
    let mut source = AudioSource::open(path)?;
    let spec = source.spec();
    let mut channels = vec![Vec::new(); spec.channels.max(1)];
    while let Some(block) = source.next_block()? {
        for frame in block.chunks_exact(channels.len()) {
            for (c, &x) in channels.iter_mut().zip(frame) {
                c.push(x);
            }
        }
    }
    Ok((spec.sample_rate, channels))
}

/// Linear-interpolation resampling to 16 kHz (enough for a detector's input).
fn to_16k(rate: u32, x: &[f32]) -> Vec<f32> {
    if rate == 16000 {
        return x.to_vec();
    }
    let ratio = rate as f64 / 16000.0;
    let n = (x.len() as f64 / ratio) as usize;
    (0..n)
        .map(|i| {
            let p = i as f64 * ratio;
            let k = p as usize;
            let f = (p - k as f64) as f32;
            let a = x.get(k).copied().unwrap_or(0.0);
            let b = x.get(k + 1).copied().unwrap_or(a);
            a + (b - a) * f
        })
        .collect()
}

/// Earshot speech segments of one channel, joined across pauses shorter than the hangover.
fn earshot_segments(rate: u32, x: &[f32], config: &Config) -> Vec<Span> {
    let y = to_16k(rate, x);
    let mut detector = earshot::Detector::default();
    let hop_s = 256.0 / 16000.0;
    let mut raw: Vec<Span> = Vec::new();
    for (i, frame) in y.chunks_exact(256).enumerate() {
        let pcm: Vec<i16> = frame
            .iter()
            .map(|v| (v.clamp(-1.0, 1.0) * 32767.0) as i16)
            .collect();
        if detector.predict_i16(&pcm) >= 0.5 {
            let (s, e) = (i as f64 * hop_s, (i + 1) as f64 * hop_s);
            match raw.last_mut() {
                Some(last) if s - last.1 <= config.vad.hangover_s => last.1 = e,
                _ => raw.push((s, e)),
            }
        }
    }
    raw.retain(|s| s.1 - s.0 >= config.vad.min_speech_s);
    raw
}

fn spans(v: &[Span]) -> Value {
    json!(v.iter().map(|s| [s.0, s.1]).collect::<Vec<_>>())
}

fn earshot_result(call: &TruthCall, dir: &Path, config: &Config) -> Value {
    let file = call.file();
    let (rate, channels) = match decode(&dir.join(&file)) {
        Ok(d) => d,
        Err(e) => return json!({"file": file, "error": e.to_string()}),
    };
    let agent = earshot_segments(rate, &channels[0], config);
    let mut out = json!({"file": file, "speech": {"segments": spans(&agent)}});
    let customer = (channels.len() > 1).then(|| earshot_segments(rate, &channels[1], config));
    let everyone = match &customer {
        Some(c) => conversation::union(&[&agent, c]),
        None => agent.clone(),
    };
    let gaps = conversation::gaps(&everyone);
    out["silence"] = json!({
        "long_gaps": spans(&conversation::long_gaps(&gaps, config.silence.gap_limit_s)),
        "greeting_latency_s": agent.first().map(|s| s.0),
    });
    if let Some(c) = customer {
        let overtalk: Vec<Span> = conversation::overtalk(&agent, &c, config.overtalk.min_s)
            .iter()
            .map(|o| o.span)
            .collect();
        out["customer"] = json!({"speech": {"segments": spans(&c)}});
        out["interaction"] = json!({
            "overtalk": spans(&overtalk),
            "response_latencies_s": conversation::response_latencies(&agent, &c),
        });
    }
    out
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(args.get(1).map_or("/work/shared/data/calls", |s| s));
    let half = args.get(2).cloned().unwrap_or_default();
    let config = Config::default();
    let mut truth = calls::load_truth(&dir)?;
    // "odd" / "even": calls whose number (the digits of the name) is odd / even.
    if !half.is_empty() {
        calls::split(&mut truth, &half)?;
    }
    let mut ours = BTreeMap::new();
    let mut theirs = BTreeMap::new();
    for call in &truth {
        let options = AnalysisOptions {
            config: config.clone(),
            mono: if call.kind() == "agent_only" {
                MonoRole::Agent
            } else {
                MonoRole::Mixed
            },
            ..AnalysisOptions::default()
        };
        let report = pipeline::analyze_file(&dir.join(call.file()), &options);
        ours.insert(
            call.name.clone(),
            serde_json::from_str(&export::to_json_line(&report))?,
        );
        theirs.insert(call.name.clone(), earshot_result(call, &dir, &config));
    }
    let label = format!("{} {}", dir.display(), half);
    let settings = ScoreSettings::default();
    println!("### agentvoice (this crate's detector)");
    print!(
        "{}",
        calls::format_tables(&calls::score(&truth, &ours, &settings), &label)
    );
    println!("\n### earshot 1.x (score >= 0.5, same hangover and minimum speech)");
    let scores = calls::score(&truth, &theirs, &settings);
    print!("{}", calls::format_tables_for(&scores, &label, "earshot"));
    Ok(())
}
