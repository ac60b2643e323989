//! Voice activity speed: band energy frames plus the detector, one channel, one core.
//! Prints "x real time" for 8 kHz and 16 kHz audio.

use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};

use agentvoice::config::VadConfig;
use agentvoice::features::FrameExtractor;
use agentvoice::vad::VoiceActivity;

/// 60 s of a syllabic harmonic talker (2 s on, 1 s off) over white noise.
fn call(rate: u32) -> Vec<f32> {
    let mut state = 5u32;
    (0..rate as usize * 60)
        .map(|i| {
            let t = i as f64 / rate as f64;
            state = state.wrapping_mul(1664525).wrapping_add(1013904223);
            let noise = (state as f64 / u32::MAX as f64 - 0.5) * 0.01;
            let talking = t % 3.0 < 2.0;
            let voice = if talking {
                (std::f64::consts::PI * 4.0 * t).sin().abs()
                    * (2.0 * std::f64::consts::PI * 150.0 * t).sin()
                    * 0.2
            } else {
                0.0
            };
            (voice + noise) as f32
        })
        .collect()
}

fn run(samples: &[f32], rate: u32, config: &VadConfig) -> usize {
    let mut fx = FrameExtractor::energy_only(rate);
    let mut vad = VoiceActivity::new(config);
    for block in samples.chunks(4096) {
        fx.push(block, |f| vad.push(f, |_| {}));
    }
    vad.finish(|_| {});
    vad.segments().len()
}

/// CPU time of this thread, seconds (Linux; `None` elsewhere).
fn thread_cpu_s() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some(ns * 1e-9)
}

fn bench(c: &mut Criterion) {
    let config = VadConfig::default();
    for rate in [8000u32, 16000] {
        let samples = call(rate);
        // Timed passes outside criterion, for the "x real time" line: wall clock, and the
        // thread's CPU time (on a loaded machine the wall clock also counts waiting).
        let reps = 50;
        // One untimed pass first: the first touches the pages and wakes the CPU's clock
        // (it alone read 17,700x against 22,000x after it).
        run(&samples, rate, &config);
        let cpu_start = thread_cpu_s();
        let start = Instant::now();
        let mut segments = 0;
        for _ in 0..reps {
            segments += run(&samples, rate, &config);
        }
        let per_run = start.elapsed().as_secs_f64() / reps as f64;
        let cpu = match (cpu_start, thread_cpu_s()) {
            (Some(a), Some(b)) => format!(
                ", {:.0}x real time in CPU time",
                60.0 * reps as f64 / (b - a)
            ),
            _ => String::new(),
        };
        println!(
            "vad {} kHz: {:.0}x real time by the wall clock{cpu} ({:.2} ms per 60 s, {} segments)",
            rate / 1000,
            60.0 / per_run,
            per_run * 1000.0,
            segments / reps
        );
        c.bench_function(&format!("vad_60s_{}k", rate / 1000), |b| {
            b.iter(|| run(std::hint::black_box(&samples), rate, &config))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
