//! Whole analysis, decode included, on 8 kHz and 16 kHz WAV files (mono and stereo), and a
//! batch of files on one and two threads. Criterion's `elem/s` is "x real time" (one
//! element = one second of audio).
//!
//! Run: `cargo bench --bench pipeline`.

mod common;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use rayon::prelude::*;

use agentvoice::audio::Layout;
use agentvoice::pipeline::{analyze_file, AnalysisOptions};
use agentvoice::{Analyzer, Config};

use common::{realtime, speech_like, stereo_like, write_wav, SECONDS};

const RATES_HZ: [u32; 2] = [8_000, 16_000];
const BLOCK: usize = 1024;
const BATCH_FILES: usize = 8;

fn whole_file(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = AnalysisOptions::default();
    let mut group = c.benchmark_group("pipeline");
    group.throughput(realtime(SECONDS));
    for rate in RATES_HZ {
        for (name, channels, samples) in [
            ("mono", 1u16, speech_like(rate, SECONDS, 1)),
            ("stereo", 2u16, stereo_like(rate, SECONDS)),
        ] {
            let path = dir.path().join(format!("{name}_{rate}.wav"));
            write_wav(&path, rate, channels, &samples);
            group.bench_function(
                BenchmarkId::new(format!("analyze_file_{name}"), rate),
                |b| b.iter(|| black_box(analyze_file(&path, &options))),
            );
        }
        // The analyzer alone, on samples already in memory (no decode).
        let mono = speech_like(rate, SECONDS, 1);
        let config = Config::default();
        group.bench_function(BenchmarkId::new("analyzer_in_memory_mono", rate), |b| {
            b.iter(|| {
                let mut a = Analyzer::new(&config, rate, 1, Layout::MixedMono);
                for block in mono.chunks(BLOCK) {
                    a.push_interleaved(block);
                }
                black_box(a.finish())
            })
        });
    }
    group.finish();
}

fn batch(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let rate = 8_000;
    let files: Vec<_> = (0..BATCH_FILES)
        .map(|k| {
            let path = dir.path().join(format!("call_{k}.wav"));
            write_wav(&path, rate, 1, &speech_like(rate, SECONDS, k as u32));
            path
        })
        .collect();
    let options = AnalysisOptions::default();
    let mut group = c.benchmark_group("batch_8000_mono");
    group.throughput(realtime(SECONDS * BATCH_FILES as f64));
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool");
        group.bench_function(BenchmarkId::new("threads", threads), |b| {
            b.iter(|| {
                pool.install(|| {
                    files
                        .par_iter()
                        .map(|f| analyze_file(f, &options).duration_s)
                        .collect::<Vec<_>>()
                })
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = pipeline;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = whole_file, batch
}
criterion_main!(pipeline);
