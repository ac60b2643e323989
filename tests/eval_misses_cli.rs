//! `eval calls --misses`: each long gap got wrong is listed with the sound around the
//! truth's boundaries, so a truth that ends after any audible sound is told from a
//! detector's miss.

use std::path::Path;

use assert_cmd::Command;

mod common;

/// An agent-only call at 16 kHz: a harmonic voice from 1 to 3 s and from 6 to 9 s over
/// faint white noise.
fn write_call(path: &Path) {
    let mut state = 3u32;
    common::write_mono_wav(path, 16_000, 10.0, |t| {
        state = state.wrapping_mul(1664525).wrapping_add(1013904223);
        let noise = (state as f64 / u32::MAX as f64 - 0.5) * 0.002;
        let on = (1.0..3.0).contains(&t) || (6.0..9.0).contains(&t);
        let voice = if on {
            (1..6)
                .map(|h| (2.0 * std::f64::consts::PI * 140.0 * h as f64 * t).sin() / h as f64)
                .sum::<f64>()
                * 0.1
                * (std::f64::consts::PI * 4.0 * t).sin().abs()
        } else {
            0.0
        };
        voice + noise
    });
}

/// A folder with the call of [`write_call`] and `truth/c1.json` = `truth`.
fn truth_folder(truth: serde_json::Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    write_call(&dir.path().join("c1.wav"));
    std::fs::create_dir(dir.path().join("truth")).expect("truth dir");
    std::fs::write(dir.path().join("truth/c1.json"), truth.to_string()).expect("truth");
    dir
}

/// Runs `agentvoice eval calls DIR` with `extra` arguments.
fn eval_calls(dir: &Path, extra: &[&str]) -> std::process::Output {
    Command::cargo_bin("agentvoice")
        .expect("binary")
        .args(["eval", "calls"])
        .args(extra)
        .arg(dir)
        .output()
        .expect("run")
}

#[test]
fn a_truth_that_ends_after_the_last_sound_is_shown_as_such() {
    // The truth says the first utterance ends at 3.5 s, half a second after its sound.
    let dir = truth_folder(serde_json::json!({
        "kind": "agent_only", "file": "c1.wav", "duration_s": 10.0,
        "greeting_latency_s": 1.0,
        "agent": {"utterances": [{"start": 1.0, "end": 3.5}, {"start": 6.0, "end": 9.0}]},
        "target": {"segments": [[1.0, 3.5], [6.0, 9.0]], "long_gaps": [[3.5, 6.0]]}
    }));
    let out = eval_calls(dir.path(), &["--misses"]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("truth 3.50-6.00 s"))
        .unwrap_or_else(|| panic!("no miss listed:\n{text}"));
    // The last sound is the voice's end at 3.0 s (within a frame or two), 0.5 s before.
    let last: f64 = line
        .split("last sound ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no last sound: {line}"));
    assert!((last - 3.0).abs() <= 0.03, "{line}");
    assert!(line.contains("agent starts 6.00 s"), "{line}");
}

#[test]
fn a_broken_truth_file_is_named_and_the_others_are_scored() {
    let dir = truth_folder(serde_json::json!({
        "kind": "agent_only", "file": "c1.wav", "duration_s": 10.0,
        "target": {"segments": [[1.0, 3.0], [6.0, 9.0]], "long_gaps": [[3.0, 6.0]]}
    }));
    std::fs::write(dir.path().join("truth/c2.json"), "{\"kind\": ").expect("broken");
    let out = eval_calls(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("c2.json: not JSON"), "{err}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 calls scored"),
        "{out:?}"
    );
}
