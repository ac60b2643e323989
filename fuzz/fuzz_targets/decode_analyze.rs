//! Fuzz target: arbitrary bytes through decoding and the whole analysis.
//!
//! Any input must either be refused with an error or give a report whose times are
//! finite and inside the recording; nothing may panic or allocate by a header's claim.
#![no_main]

use agentvoice::audio::{AgentChannel, AudioSource, MonoRole};
use agentvoice::pipeline::{analyze_source, AnalysisOptions};
use agentvoice::report::export;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The channel roles come from the length, so seeds are plain audio files.
    let options = AnalysisOptions {
        mono: if data.len() % 2 == 0 {
            MonoRole::Mixed
        } else {
            MonoRole::Agent
        },
        agent_channel: if data.len() % 4 < 2 {
            AgentChannel::Left
        } else {
            AgentChannel::Right
        },
        ..AnalysisOptions::default()
    };
    let Ok(source) = AudioSource::from_bytes(data.to_vec(), None) else {
        return;
    };
    let Ok(report) = analyze_source(source, &options) else {
        return;
    };
    let duration_s = report.duration_s.unwrap_or(0.0);
    assert!(duration_s.is_finite() && duration_s >= 0.0);
    let speech = report
        .speech
        .as_ref()
        .expect("a report has a speech section");
    for [start, end] in &speech.segments {
        assert!(
            *start >= 0.0 && start <= end && *end <= duration_s + 0.01,
            "segment {start}..{end} outside 0..{duration_s}"
        );
    }
    let silence = report
        .silence
        .as_ref()
        .expect("a report has a silence section");
    for [start, end] in &silence.gaps {
        assert!(start <= end, "gap {start}..{end}");
    }
    let line = export::to_json_line(&report);
    assert!(!line.contains("cannot serialise result"), "{line}");
});
