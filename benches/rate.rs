//! Speed of the syllable counter alone (envelopes, smoothing, peak picking), on 8 kHz and
//! 16 kHz audio; the voice-activity decisions it reads are computed beforehand.
//!
//! `cargo bench --bench rate` prints criterion's timings (the default design) and then
//! "x real time" per design and rate (best of 50 runs).

use std::time::Instant;

use agentvoice::features::FrameExtractor;
use agentvoice::rate::{Design, RateSettings, SyllableCounter};
use agentvoice::vad::{Decision, VoiceActivity};
use agentvoice::Config;
use criterion::{black_box, criterion_group, Criterion};

const SECONDS: f64 = 20.0;

/// Speech-like test audio: voiced bursts at 4.5 per second in pauses and faint noise.
fn audio(rate: u32) -> Vec<f32> {
    let mut state = 1u32;
    (0..(rate as f64 * SECONDS) as usize)
        .map(|i| {
            let t = i as f64 / rate as f64;
            let env = if (t % 4.0) < 3.0 {
                (std::f64::consts::PI * 4.5 * t).sin().powi(2)
            } else {
                0.0
            };
            let tone: f64 = (1..=6)
                .map(|h| (2.0 * std::f64::consts::PI * 140.0 * h as f64 * t).sin() / h as f64)
                .sum();
            state = state.wrapping_mul(1664525).wrapping_add(1013904223);
            (0.2 * env * tone) as f32 + (state as f32 / u32::MAX as f32 - 0.5) * 1e-3
        })
        .collect()
}

fn decisions(rate: u32, samples: &[f32]) -> Vec<Decision> {
    let config = Config::default();
    let mut fx = FrameExtractor::new(rate, config.pitch.min_hz, config.pitch.max_hz);
    let mut vad = VoiceActivity::new(&config.vad);
    let mut out = Vec::new();
    fx.push(samples, |f| vad.push(f, |d| out.push(d)));
    vad.finish(|d| out.push(d));
    out
}

/// Runs the counter the way the analyzer does: a block of samples, then its decisions.
fn count(rate: u32, samples: &[f32], decisions: &[Decision], settings: RateSettings) -> usize {
    let mut c = SyllableCounter::new(rate, settings);
    let hop = (rate / 100) as usize;
    let block = 4096 / hop * hop;
    let mut next = 0;
    for (k, chunk) in samples.chunks(block).enumerate() {
        c.push_samples(chunk);
        let frames_done = (k * block + chunk.len()) / hop;
        while next < decisions.len() && next + 50 < frames_done {
            c.push(decisions[next]);
            next += 1;
        }
    }
    for d in &decisions[next..] {
        c.push(*d);
    }
    c.finish();
    c.nuclei_s().len()
}

fn bench(c: &mut Criterion) {
    for rate in [8000u32, 16000] {
        let samples = audio(rate);
        let decisions = decisions(rate, &samples);
        c.bench_function(
            &format!("syllable counter, {SECONDS} s at {rate} Hz"),
            |b| {
                b.iter(|| {
                    count(
                        rate,
                        black_box(&samples),
                        black_box(&decisions),
                        RateSettings::default(),
                    )
                })
            },
        );
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // The best of many runs: the machine may be shared, and the fastest run is the one
    // least disturbed by other work.
    for design in [Design::Broadband, Design::SubbandCorrelation] {
        let settings = RateSettings {
            design,
            ..RateSettings::default()
        };
        for rate in [8000u32, 16000] {
            let samples = audio(rate);
            let decisions = decisions(rate, &samples);
            let mut best = f64::INFINITY;
            let mut n = 0;
            for _ in 0..50 {
                let start = Instant::now();
                n = count(rate, black_box(&samples), black_box(&decisions), settings);
                best = best.min(start.elapsed().as_secs_f64());
            }
            println!(
                "syllable counter ({design:?}) at {rate} Hz: {:.0} x real time ({n} nuclei)",
                SECONDS / best
            );
        }
    }
}
