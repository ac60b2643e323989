//! Per-stage throughput on 8 kHz and 16 kHz speech-like audio: decode, loudness (BS.1770
//! and P.56), frame features (band energy and F0), pitch statistics and the conversation
//! rules. Criterion's `elem/s` is "x real time" (one element = one second of audio).
//!
//! Run: `cargo bench --bench stages`.

mod common;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use ebur128::{EbuR128, Mode};

use agentvoice::audio::AudioSource;
use agentvoice::conversation;
use agentvoice::features::FrameExtractor;
use agentvoice::loudness::{ActiveSpeechLevel, FileMeter, LoudnessMeter};
use agentvoice::pitch::PitchStats;
use agentvoice::vad::Decision;

use common::{realtime, speech_like, stereo_like, write_wav, SECONDS};

const RATES_HZ: [u32; 2] = [8_000, 16_000];
/// Block size the decoder hands out for PCM WAV is about this; the analyzer sees the same.
const BLOCK: usize = 1024;

fn decode(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut group = c.benchmark_group("decode");
    group.throughput(realtime(SECONDS));
    for rate in RATES_HZ {
        for (name, channels, samples) in [
            ("mono", 1u16, speech_like(rate, SECONDS, 1)),
            ("stereo", 2u16, stereo_like(rate, SECONDS)),
        ] {
            let path = dir.path().join(format!("{name}_{rate}.wav"));
            write_wav(&path, rate, channels, &samples);
            group.bench_function(BenchmarkId::new(format!("wav_pcm16_{name}"), rate), |b| {
                b.iter(|| {
                    let mut source = AudioSource::open(&path).expect("open");
                    let mut total = 0.0f32;
                    while let Some(block) = source.next_block().expect("decode") {
                        total += block.first().copied().unwrap_or(0.0);
                    }
                    black_box(total)
                })
            });
        }
    }
    group.finish();
}

fn loudness(c: &mut Criterion) {
    let mut group = c.benchmark_group("loudness");
    group.throughput(realtime(SECONDS));
    for rate in RATES_HZ {
        let mono = speech_like(rate, SECONDS, 1);
        group.bench_function(BenchmarkId::new("party_meter", rate), |b| {
            b.iter(|| {
                let mut m = LoudnessMeter::new(rate, 0.999);
                for block in mono.chunks(BLOCK) {
                    m.push(block);
                }
                black_box(m.report(None))
            })
        });
        group.bench_function(BenchmarkId::new("p56_active_speech_level", rate), |b| {
            b.iter(|| {
                let mut a = ActiveSpeechLevel::new(rate);
                for block in mono.chunks(BLOCK) {
                    a.push(block);
                }
                black_box(a.level_dbov())
            })
        });
        // What a mono file adds to its party meter: the true peak only.
        group.bench_function(BenchmarkId::new("true_peak", rate), |b| {
            b.iter(|| {
                let mut f = FileMeter::true_peak_only(1, rate);
                for block in mono.chunks(BLOCK) {
                    f.push_interleaved(block);
                }
                black_box(f.true_peak_dbtp(0))
            })
        });
        // The ebur128 crate alone as the party meter uses it (BS.1770 integrated and range).
        group.bench_function(BenchmarkId::new("ebur128_crate_i_lra", rate), |b| {
            b.iter(|| {
                let mut m = EbuR128::new(1, rate, Mode::I | Mode::LRA).expect("meter");
                for block in mono.chunks(BLOCK) {
                    m.add_frames_f32(block).expect("add");
                }
                black_box((m.loudness_global().ok(), m.loudness_range().ok()))
            })
        });
    }
    group.finish();
}

fn features_and_pitch(c: &mut Criterion) {
    let mut group = c.benchmark_group("pitch");
    group.throughput(realtime(SECONDS));
    for rate in RATES_HZ {
        let mono = speech_like(rate, SECONDS, 1);
        // Band energy and NCCF F0 per 10 ms frame (src/features.rs): where F0 is measured.
        group.bench_function(BenchmarkId::new("frame_features_f0", rate), |b| {
            b.iter(|| {
                let mut fx = FrameExtractor::new(rate, 60.0, 420.0);
                let mut voiced = 0u32;
                for block in mono.chunks(BLOCK) {
                    fx.push(block, |f| voiced += u32::from(f.f0_hz.is_some()));
                }
                black_box(voiced)
            })
        });
        let mut decisions = Vec::new();
        let mut fx = FrameExtractor::new(rate, 60.0, 420.0);
        fx.push(&mono, |frame| {
            decisions.push(Decision {
                frame,
                active: frame.energy_db > -50.0,
            })
        });
        group.bench_function(BenchmarkId::new("pitch_statistics", rate), |b| {
            b.iter(|| {
                let mut p = PitchStats::new(60.0, 420.0);
                for d in &decisions {
                    p.push(d);
                }
                black_box(p.report())
            })
        });
    }
    group.finish();
}

/// Sorted, non-overlapping spans over `seconds`: talk of 1-4 s, pauses of 0.3-2.5 s.
fn spans(seconds: f64, seed: u64) -> Vec<(f64, f64)> {
    let mut state = seed;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut out = Vec::new();
    let mut t = next() * 2.0;
    while t < seconds {
        let end = (t + 1.0 + 3.0 * next()).min(seconds);
        out.push((t, end));
        t = end + 0.3 + 2.2 * next();
    }
    out
}

fn conversation_rules(c: &mut Criterion) {
    // The rules see segments, not samples: the cost depends on the call's length only.
    let hour_s = 3600.0;
    let agent = spans(hour_s, 1);
    let customer = spans(hour_s, 2);
    let mut group = c.benchmark_group("conversation");
    group.throughput(realtime(hour_s));
    group.bench_function("one_hour_stereo_call", |b| {
        b.iter(|| {
            let everyone = conversation::union(&[&agent, &customer]);
            let gaps = conversation::gaps(&everyone);
            let long = conversation::long_gaps(&gaps, 2.0);
            let over = conversation::overtalk(&agent, &customer, 0.1);
            let latencies = conversation::response_latencies(&agent, &customer);
            black_box((long.len(), over.len(), latencies.len()))
        })
    });
    group.finish();
}

criterion_group! {
    name = stages;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = decode, loudness, features_and_pitch, conversation_rules
}
criterion_main!(stages);
