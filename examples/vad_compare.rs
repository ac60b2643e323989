//! Compares voice-activity candidates on a folder of calls with truth, scored like
//! `agentvoice eval-calls` (the same `score_calls.py` definitions):
//!
//! - `agentvoice`: this crate's detector, through the full analyzer;
//! - `earshot`: the pure-Rust earshot neural detector (16 kHz, 16 ms frames; 8 kHz audio is
//!   upsampled by linear interpolation), score >= 0.5, with the same hangover and minimum
//!   speech as ours (`[vad]` defaults), per channel;
//! - `webrtc`: WebRTC's VAD (the `webrtc-vad` crate, bundled C), mode 2 ("aggressive", as
//!   in the data README) or the mode given, 10 ms frames at the file's rate (8 or 16 kHz),
//!   with the same hangover and minimum speech.
//!
//! `cargo run --release --example vad_compare -- /work/shared/data/calls [odd|even|all] [MODE]`
//! `cargo run --release --example vad_compare -- dump CALL.wav > frames.tsv` (per frame)

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

/// Speech segments of a detector that decides frames of `frame_len` samples (`hop_s` each)
/// given as 16-bit PCM: speech frames joined across pauses shorter than the hangover, then
/// segments shorter than the minimum speech dropped (the `[vad]` defaults).
fn frame_segments(
    x: &[f32],
    frame_len: usize,
    hop_s: f64,
    config: &Config,
    mut is_speech: impl FnMut(&[i16]) -> bool,
) -> Vec<Span> {
    let mut raw: Vec<Span> = Vec::new();
    let mut pcm = Vec::with_capacity(frame_len);
    for (i, frame) in x.chunks_exact(frame_len).enumerate() {
        pcm.clear();
        pcm.extend(frame.iter().map(|v| (v.clamp(-1.0, 1.0) * 32767.0) as i16));
        if is_speech(&pcm) {
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

/// Earshot speech segments of one channel (16 kHz, 256-sample frames, score >= 0.5).
fn earshot_segments(rate: u32, x: &[f32], config: &Config) -> Vec<Span> {
    let mut detector = earshot::Detector::default();
    frame_segments(&to_16k(rate, x), 256, 256.0 / 16000.0, config, |pcm| {
        detector.predict_i16(pcm) >= 0.5
    })
}

/// WebRTC VAD speech segments of one channel (10 ms frames at 8 or 16 kHz, other rates
/// resampled to 16 kHz) in `mode` (0-3).
fn webrtc_segments(rate: u32, x: &[f32], config: &Config, mode: u8) -> Vec<Span> {
    let (rate, y) = match rate {
        8000 | 16000 => (rate, std::borrow::Cow::Borrowed(x)),
        _ => (16000, std::borrow::Cow::Owned(to_16k(rate, x))),
    };
    let sample_rate = if rate == 8000 {
        webrtc_vad::SampleRate::Rate8kHz
    } else {
        webrtc_vad::SampleRate::Rate16kHz
    };
    let vad_mode = match mode {
        0 => webrtc_vad::VadMode::Quality,
        1 => webrtc_vad::VadMode::LowBitrate,
        2 => webrtc_vad::VadMode::Aggressive,
        _ => webrtc_vad::VadMode::VeryAggressive,
    };
    let mut detector = webrtc_vad::Vad::new_with_rate_and_mode(sample_rate, vad_mode);
    frame_segments(&y, rate as usize / 100, 0.01, config, |pcm| {
        detector.is_voice_segment(pcm).unwrap_or(false)
    })
}

fn spans(v: &[Span]) -> Value {
    json!(v.iter().map(|s| [s.0, s.1]).collect::<Vec<_>>())
}

/// One candidate's result line for a call, in the keys the scorer reads.
fn candidate_result(
    call: &TruthCall,
    dir: &Path,
    config: &Config,
    segments: &dyn Fn(u32, &[f32]) -> Vec<Span>,
) -> Value {
    let file = call.file();
    let (rate, channels) = match decode(&dir.join(&file)) {
        Ok(d) => d,
        Err(e) => return json!({"file": file, "error": e.to_string()}),
    };
    let agent = segments(rate, &channels[0]);
    let mut out = json!({"file": file, "speech": {"segments": spans(&agent)}});
    let customer = (channels.len() > 1).then(|| segments(rate, &channels[1]));
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

/// `dump FILE`: one line per 10 ms frame of a two-channel (or mono) file: time, each
/// channel's band energy, the zero-lag band correlation, the energies after crosstalk
/// removal and each channel's speech decision, tab separated (for looking at a call).
fn dump(path: &Path) -> anyhow::Result<()> {
    use agentvoice::features::{BandCorrelation, FrameExtractor};
    use agentvoice::vad::{crosstalk_energy_db, VoiceActivity};
    let (rate, channels) = decode(path)?;
    let config = Config::default();
    let frames: Vec<Vec<agentvoice::features::Frame>> = channels
        .iter()
        .map(|x| {
            let mut fx = FrameExtractor::energy_only(rate);
            let mut out = Vec::new();
            fx.push(x, |f| out.push(f));
            out
        })
        .collect();
    let mut rho = Vec::new();
    if channels.len() > 1 {
        BandCorrelation::new(rate).push(&channels[0], &channels[1], &mut rho);
    }
    let n = frames.iter().map(Vec::len).min().unwrap_or(0);
    let mut active = vec![vec![false; n]; frames.len()];
    let mut vads: Vec<VoiceActivity> = frames
        .iter()
        .map(|_| VoiceActivity::new(&config.vad))
        .collect();
    let mut adjusted = vec![vec![0f32; n]; frames.len()];
    for i in 0..n {
        if frames.len() > 1 {
            let r = rho.get(i).copied().unwrap_or(0.0);
            let (a, b) = (frames[0][i], frames[1][i]);
            let mut a2 = a;
            let mut b2 = b;
            a2.energy_db = crosstalk_energy_db(a.energy_db, b.energy_db, r);
            b2.energy_db = crosstalk_energy_db(b.energy_db, a.energy_db, r);
            adjusted[0][i] = a2.energy_db;
            adjusted[1][i] = b2.energy_db;
            let (left, right) = active.split_at_mut(1);
            vads[0].push_paired(a2, &b2, |d| left[0][d.frame.index as usize] = d.active);
            vads[1].push_paired(b2, &a2, |d| right[0][d.frame.index as usize] = d.active);
        } else {
            adjusted[0][i] = frames[0][i].energy_db;
            let a = &mut active[0];
            vads[0].push(frames[0][i], |d| a[d.frame.index as usize] = d.active);
        }
    }
    for (v, a) in vads.iter_mut().zip(active.iter_mut()) {
        v.finish(|d| {
            if let Some(x) = a.get_mut(d.frame.index as usize) {
                *x = d.active
            }
        });
    }
    for i in 0..n {
        let mut line = format!("{:.2}", i as f64 * 0.01);
        for channel in &frames {
            line += &format!("\t{:.1}", channel[i].energy_db);
        }
        line += &format!("\t{:.3}", rho.get(i).copied().unwrap_or(0.0));
        for (adj, act) in adjusted.iter().zip(&active) {
            line += &format!("\t{:.1}\t{}", adj[i], u8::from(act[i]));
        }
        println!("{line}");
    }
    for (c, v) in vads.iter().enumerate() {
        eprintln!("channel {c}: {:?}", v.segments());
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("dump") {
        return dump(Path::new(args.get(2).map_or("", |s| s)));
    }
    let dir = PathBuf::from(args.get(1).map_or("/work/shared/data/calls", |s| s));
    let half = args
        .get(2)
        .cloned()
        .filter(|h| h != "all")
        .unwrap_or_default();
    let webrtc_mode: u8 = match args.get(3) {
        None => 2,
        Some(m) => m.parse().ok().filter(|&v: &u8| v <= 3).ok_or_else(|| {
            anyhow::anyhow!("MODE must be 0, 1, 2 or 3 (WebRTC's aggressiveness), not {m:?}")
        })?,
    };
    let config = Config::default();
    let mut truth = calls::load_truth(&dir, |path, why| {
        eprintln!("vad_compare: {}: {why}; skipped", path.display())
    })?;
    // "odd" / "even": calls whose number (the digits of the name) is odd / even.
    if !half.is_empty() {
        calls::split(&mut truth, &half)?;
    }
    let mut ours = BTreeMap::new();
    let mut theirs = BTreeMap::new();
    let mut webrtc = BTreeMap::new();
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
        let earshot = |rate: u32, x: &[f32]| earshot_segments(rate, x, &config);
        theirs.insert(
            call.name.clone(),
            candidate_result(call, &dir, &config, &earshot),
        );
        let rtc = |rate: u32, x: &[f32]| webrtc_segments(rate, x, &config, webrtc_mode);
        webrtc.insert(
            call.name.clone(),
            candidate_result(call, &dir, &config, &rtc),
        );
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
    println!(
        "\n### WebRTC VAD, mode {webrtc_mode} (webrtc-vad crate, same hangover and minimum speech)"
    );
    let scores = calls::score(&truth, &webrtc, &settings);
    print!("{}", calls::format_tables_for(&scores, &label, "webrtc"));
    Ok(())
}
