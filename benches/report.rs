//! Report generation for a 1,000-call batch: agents.csv, index.html, 20 agent pages with
//! their plots and 1,000 call pages with timelines (SVG), from results already in memory.
//!
//! Run: `cargo bench --bench report`.

use criterion::{criterion_group, criterion_main, Criterion};

use agentvoice::report::agents::CallDigest;
use agentvoice::report::html::{write_report, ReportOptions};
use agentvoice::report::model::*;
use agentvoice::{CallReport, Config};

/// A small deterministic generator (xorshift), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A plausible 2- to 6-minute stereo call of `agent` with a full timeline.
fn synthetic_call(rng: &mut Rng, agent: &str, n: usize) -> CallReport {
    let duration = 120.0 + 240.0 * rng.next();
    let (mut t, mut agent_segments, mut customer_segments, mut gaps) =
        (0.3 + 3.0 * rng.next(), Vec::new(), Vec::new(), Vec::new());
    let greeting = t;
    while t < duration - 5.0 {
        let a = 2.0 + 8.0 * rng.next();
        agent_segments.push([t, t + a]);
        t += a;
        let gap = 0.2 + 2.6 * rng.next().powi(2);
        gaps.push([t, t + gap]);
        t += gap;
        let c = 1.0 + 6.0 * rng.next();
        customer_segments.push([t, t + c]);
        t += c + 0.3 * rng.next();
    }
    let long_gaps: Vec<[f64; 2]> = gaps
        .iter()
        .copied()
        .filter(|g| g[1] - g[0] >= 2.0)
        .collect();
    let steps = duration.ceil() as usize;
    let level = |rng: &mut Rng| -> Vec<Option<f64>> {
        (0..steps)
            .map(|_| Some((-45.0 + 25.0 * rng.next() * 10.0).round() / 10.0))
            .collect()
    };
    let party_timeline = |rng: &mut Rng| PartyTimeline {
        level_dbfs: level(rng),
        short_term_lufs: level(rng),
    };
    let rate = 150.0 + 150.0 * rng.next();
    let mut call = CallReport {
        file: format!("recordings/{agent}/2024-04-{:02}_{n:04}.wav", 1 + n % 28),
        agent: Some(agent.to_string()),
        date: Some(format!("2024-04-{:02}", 1 + n % 28)),
        duration_s: Some(duration),
        sample_rate: Some(8000),
        channels: Some(2),
        layout: Some("stereo".into()),
        loudness: Some(LoudnessReport {
            integrated_lufs: Some(-30.0 + 12.0 * rng.next()),
            active_speech_level_dbov: Some(-34.0 + 16.0 * rng.next()),
            clipped_ratio: Some(0.0),
            ..Default::default()
        }),
        speech: Some(SpeechReport {
            talk_time_s: agent_segments.iter().map(|s| s[1] - s[0]).sum(),
            first_onset_s: Some(greeting),
            segments: agent_segments,
            ..Default::default()
        }),
        rate: Some(RateReport {
            speaking_rate_spm: Some(rate),
            timeline: (1..steps)
                .map(|i| (i as f64, Some(rate + 40.0 * (rng.next() - 0.5))))
                .collect(),
            ..Default::default()
        }),
        pitch: Some(PitchReport {
            median_hz: Some(180.0),
            spread_semitones: Some(2.0 + 8.0 * rng.next()),
            ..Default::default()
        }),
        silence: Some(SilenceReport {
            longest_gap_s: gaps.iter().map(|g| g[1] - g[0]).fold(0.0, f64::max),
            gaps,
            long_gaps,
            greeting_latency_s: Some(greeting),
            ..Default::default()
        }),
        customer: Some(PartyReport {
            speech: SpeechReport {
                segments: customer_segments,
                ..Default::default()
            },
            ..Default::default()
        }),
        interaction: Some(InteractionReport {
            overtalk: vec![[10.0, 10.8], [50.0, 51.5]],
            ..Default::default()
        }),
        timeline: Some(TimelineReport {
            step_s: 1.0,
            agent: party_timeline(rng),
            customer: Some(party_timeline(rng)),
        }),
        ..Default::default()
    };
    agentvoice::report::agents::rejudge(&mut call, &Config::default());
    call
}

fn batch(calls: usize, agents: usize) -> Vec<CallReport> {
    let names: Vec<String> = (0..agents)
        .map(|i| {
            if i % 2 == 0 {
                format!("坐席{i:02}")
            } else {
                format!("agent_{i:02}")
            }
        })
        .collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    (0..calls)
        .map(|n| synthetic_call(&mut rng, &names[n % agents], n))
        .collect()
}

fn bench_report(c: &mut Criterion) {
    let calls = batch(1000, 20);
    let dir = tempfile::tempdir().expect("temporary folder");
    let options = ReportOptions {
        config: Config::default(),
        png: false,
    };
    // Report the batch's size once, for the notes.
    let outcome = write_report(dir.path(), &calls, &options).expect("report");
    let bytes: u64 = walk_size(dir.path());
    eprintln!(
        "report for {} calls / {} agents: {} files, {:.1} MB; index.html {} KB",
        outcome.calls,
        outcome.agents,
        outcome.files_written,
        bytes as f64 / 1e6,
        std::fs::metadata(dir.path().join("index.html"))
            .map(|m| m.len() / 1000)
            .unwrap_or(0)
    );
    // What the report holds per call instead of the result (see `CallDigest`).
    let digest_bytes: usize = calls.iter().map(|c| CallDigest::of(c).heap_bytes()).sum();
    let result_bytes: usize = calls
        .iter()
        .map(|c| agentvoice::report::export::to_json_line(c).len())
        .sum();
    eprintln!(
        "per call: digest {} bytes (path included), JSON line {} bytes",
        digest_bytes / calls.len(),
        result_bytes / calls.len()
    );
    let mut group = c.benchmark_group("report");
    group.sample_size(10);
    group.bench_function("1000_calls_20_agents_html_svg", |b| {
        b.iter(|| write_report(dir.path(), &calls, &options).expect("report"))
    });
    group.finish();
}

fn walk_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    let p = e.path();
                    if p.is_dir() {
                        walk_size(&p)
                    } else {
                        e.metadata().map(|m| m.len()).unwrap_or(0)
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

criterion_group!(benches, bench_report);
criterion_main!(benches);
