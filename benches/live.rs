//! Live analysis cost: the streaming analyzer plus the live status and cues, fed in 50 ms
//! pieces as `agentvoice live` does. Throughput is printed as "x real time".

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use agentvoice::audio::Layout;
use agentvoice::live;
use agentvoice::{Analyzer, Config};

/// Speech-like bursts (voiced syllables at 5 per second) with pauses, interleaved.
fn signal(rate: u32, channels: usize, seconds: f64) -> Vec<f32> {
    let n = (seconds * f64::from(rate)) as usize;
    let mut seed = 7u32;
    let mut out = Vec::with_capacity(n * channels);
    for i in 0..n {
        let t = i as f64 / f64::from(rate);
        for c in 0..channels {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = ((seed >> 8) as f64 / f64::from(1u32 << 24) - 0.5) * 0.002;
            // Parties take turns of 3 s.
            let speaking = ((t / 3.0) as usize + c).is_multiple_of(2);
            let phase = (t * 5.0).fract();
            let env = if speaking && phase < 0.7 {
                (std::f64::consts::PI * phase / 0.7).sin().powi(2)
            } else {
                0.0
            };
            let f0 = 120.0 + 60.0 * c as f64;
            let v: f64 = (1..=6)
                .map(|h| (2.0 * std::f64::consts::PI * f0 * h as f64 * t).sin() / h as f64)
                .sum();
            out.push((noise + 0.1 * env * v) as f32);
        }
    }
    out
}

fn bench_live(c: &mut Criterion) {
    let config = Config::default();
    let seconds = 30.0;
    let mut group = c.benchmark_group("live");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    for (rate, channels) in [(8_000u32, 1usize), (16_000, 2), (48_000, 2)] {
        let audio = signal(rate, channels, seconds);
        let chunk = (rate as usize / 20) * channels;
        let layout = if channels == 2 {
            Layout::Stereo { agent_channel: 0 }
        } else {
            Layout::AgentOnly
        };
        group.throughput(Throughput::Elements((seconds * f64::from(rate)) as u64));
        let name = format!("{}k_{}ch_30s", rate / 1000, channels);
        group.bench_function(&name, |b| {
            b.iter(|| {
                let mut analyzer = Analyzer::new(&config, rate, channels, layout);
                let mut tracker = live::CueTracker::new();
                for block in audio.chunks(chunk) {
                    analyzer.push_interleaved(block);
                    let status = live::status_of(&analyzer, &config);
                    let cues = live::cues(&status, &config);
                    tracker.update(&cues, status.horizon_s);
                }
                analyzer.finish()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_live);
criterion_main!(benches);
