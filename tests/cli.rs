//! The `agentvoice` command end to end: outputs, keys, and bad files in a batch.

use std::path::Path;

use assert_cmd::Command;
use predicates::str::contains;

fn agentvoice() -> Command {
    Command::cargo_bin("agentvoice").expect("binary built")
}

fn write_wav(path: &Path, rate: u32, channels: u16, seconds: f64) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create wav");
    let n = (rate as f64 * seconds) as usize;
    for i in 0..n {
        let t = i as f64 / rate as f64;
        // Speech-like bursts: 1 s on, 1 s off, a 150 Hz harmonic complex.
        let on = (t as usize) % 2 == 1;
        let v: f64 = if on {
            (1..8)
                .map(|h| (std::f64::consts::TAU * 150.0 * h as f64 * t).sin() / h as f64)
                .sum::<f64>()
                * 0.1
        } else {
            0.0
        };
        for _ in 0..channels {
            w.write_sample((v * 32767.0) as i16).expect("write");
        }
    }
    w.finalize().expect("finalize");
}

#[test]
fn analyze_writes_jsonl_and_csv_with_the_documented_keys() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in/agent_a");
    std::fs::create_dir_all(&input).unwrap();
    write_wav(&input.join("call1.wav"), 8000, 1, 6.0);
    write_wav(&input.join("call2.wav"), 16000, 2, 6.0);
    let out = dir.path().join("out");
    agentvoice()
        .arg("analyze")
        .arg(dir.path().join("in"))
        .arg("-o")
        .arg(&out)
        .assert()
        .success()
        .stdout(contains("2 recordings analysed"));
    let jsonl = std::fs::read_to_string(out.join("calls.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    let keys = [
        "file",
        "agent",
        "duration_s",
        "sample_rate",
        "channels",
        "layout",
        "loudness.integrated_lufs",
        "loudness.loudness_range_lu",
        "loudness.true_peak_dbtp",
        "loudness.active_speech_level_dbov",
        "loudness.clipped_ratio",
        "speech.segments",
        "speech.talk_time_s",
        "speech.phonation_time_s",
        "speech.first_onset_s",
        "rate.syllables",
        "rate.speaking_rate_spm",
        "rate.articulation_rate_spm",
        "pitch.median_hz",
        "pitch.spread_semitones",
        "silence.gaps",
        "silence.long_gaps",
        "silence.longest_gap_s",
        "silence.greeting_latency_s",
        "customer",
        "interaction",
        "checks",
        "error",
    ];
    for line in &lines {
        for key in keys {
            let mut v = line;
            for part in key.split('.') {
                v = v
                    .get(part)
                    .unwrap_or_else(|| panic!("missing key {key} in {line}"));
            }
        }
        assert_eq!(line["agent"], "agent_a");
        assert!(line["error"].is_null());
    }
    let stereo = &lines[1];
    assert_eq!(stereo["layout"], "stereo");
    for key in ["response_latencies_s", "overtalk", "agent_talk_share"] {
        assert!(
            stereo["interaction"].get(key).is_some(),
            "missing interaction.{key}"
        );
    }
    // The bursts start at 1 s: the greeting latency is about 1 s.
    let greet = lines[0]["silence"]["greeting_latency_s"].as_f64().unwrap();
    assert!((greet - 1.0).abs() < 0.1, "{greet}");
    let csv = std::fs::read_to_string(out.join("calls.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(
        header.contains("loudness.integrated_lufs")
            && header.contains("checks.greeting_latency.pass"),
        "{header}"
    );
    assert_eq!(csv.lines().count(), 3);
}

#[test]
fn bad_files_are_named_and_the_batch_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    write_wav(&input.join("a_good.wav"), 8000, 1, 4.0);
    std::fs::write(input.join("b_empty.wav"), b"").unwrap();
    let mut wav = Vec::new();
    {
        write_wav(&dir.path().join("full.wav"), 8000, 1, 4.0);
        wav.extend(std::fs::read(dir.path().join("full.wav")).unwrap());
    }
    std::fs::write(input.join("c_truncated_header.wav"), &wav[..20]).unwrap();
    std::fs::write(
        input.join("d_text.wav"),
        b"this is not audio, just a note someone renamed\n",
    )
    .unwrap();
    write_wav(&input.join("e_good.wav"), 16000, 2, 4.0);
    let out = dir.path().join("out");
    let assert = agentvoice()
        .arg("analyze")
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    for name in ["b_empty.wav", "c_truncated_header.wav", "d_text.wav"] {
        let line = stderr
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} not named: {stderr}"));
        assert!(line.starts_with("agentvoice: "), "{line}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    let jsonl = std::fs::read_to_string(out.join("calls.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    let errors = lines.iter().filter(|l| !l["error"].is_null()).count();
    assert_eq!(errors, 3);
    for good in ["a_good.wav", "e_good.wav"] {
        let line = lines
            .iter()
            .find(|l| l["file"].as_str().unwrap().ends_with(good))
            .unwrap();
        assert!(line["error"].is_null() && line["speech"]["talk_time_s"].as_f64().unwrap() > 1.0);
    }
}

#[test]
fn config_prints_defaults_and_bad_config_names_the_key() {
    agentvoice()
        .arg("config")
        .assert()
        .success()
        .stdout(contains("gap_limit_s = 2.0"));
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "[silence]\ngap_limit_s = -1\n").unwrap();
    write_wav(&dir.path().join("x.wav"), 8000, 1, 1.0);
    let a = agentvoice()
        .arg("analyze")
        .arg(dir.path().join("x.wav"))
        .arg("--config")
        .arg(&cfg)
        .arg("-o")
        .arg(dir.path())
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("silence.gap_limit_s") && stderr.contains("allowed"),
        "{stderr}"
    );
}

#[test]
fn a_rerun_with_other_settings_analyses_again() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    write_wav(&input.join("call.wav"), 8000, 1, 6.0);
    let out = dir.path().join("out");
    let run = |extra: &[&std::ffi::OsStr]| {
        let a = agentvoice()
            .arg("analyze")
            .arg(&input)
            .arg("-o")
            .arg(&out)
            .args(extra)
            .assert()
            .success();
        String::from_utf8_lossy(&a.get_output().stdout).to_string()
    };
    run(&[]);
    assert!(
        run(&[]).contains("unchanged recordings were already in"),
        "same settings: skipped"
    );
    let cfg = dir.path().join("gap.toml");
    std::fs::write(&cfg, "[silence]\ngap_limit_s = 0.5\n").unwrap();
    let third = run(&["--config".as_ref(), cfg.as_os_str()]);
    assert!(
        !third.contains("already in"),
        "new settings: analysed again: {third}"
    );
    let jsonl = std::fs::read_to_string(out.join("calls.jsonl")).unwrap();
    let line: serde_json::Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    // The 1 s silences between the bursts are dead air under a 0.5 s limit.
    assert!(
        !line["silence"]["long_gaps"].as_array().unwrap().is_empty(),
        "{line}"
    );
}

/// The order of calls.jsonl, which the streamed outputs keep: this run's recordings in input
/// order (kept and new alike, as `--json` prints them), then paths that could not be read,
/// then earlier results of recordings this run was not given, in their earlier order.
#[test]
fn results_keep_their_order_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first/ann");
    let second = dir.path().join("second/bob");
    std::fs::create_dir_all(&first).unwrap();
    std::fs::create_dir_all(&second).unwrap();
    for name in ["b.wav", "a.wav"] {
        write_wav(&first.join(name), 8000, 1, 3.0);
    }
    for name in ["d.wav", "c.wav"] {
        write_wav(&second.join(name), 8000, 1, 3.0);
    }
    let out = dir.path().join("out");
    let lines = |text: &str| -> Vec<String> { text.lines().map(str::to_string).collect() };
    let files_of = |text: &str| -> Vec<String> {
        text.lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["file"].as_str().unwrap().to_string()
            })
            .collect()
    };
    agentvoice()
        .arg("analyze")
        .arg(dir.path().join("first"))
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let missing = dir.path().join("missing.wav");
    // Again with the second folder first: a's result is kept, b is analysed again (--force
    // is not given, so only because it changed).
    write_wav(&first.join("b.wav"), 8000, 1, 4.0);
    let run = agentvoice()
        .arg("analyze")
        .arg(&second)
        .arg(first.join("b.wav"))
        .arg(&missing)
        .arg("--json")
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let stdout = String::from_utf8(run.stdout).unwrap();
    let jsonl = std::fs::read_to_string(out.join("calls.jsonl")).unwrap();
    let p = |path: &Path| path.display().to_string();
    assert_eq!(
        files_of(&jsonl),
        [
            p(&second.join("c.wav")),
            p(&second.join("d.wav")),
            p(&first.join("b.wav")),
            p(&missing),
            p(&first.join("a.wav")),
        ]
    );
    // --json prints this run's recordings, the same lines in the same order.
    assert_eq!(lines(&stdout), lines(&jsonl)[..3]);
    let csv = std::fs::read_to_string(out.join("calls.csv")).unwrap();
    assert_eq!(csv.lines().count(), 6);
    assert!(!out.join(".calls.journal.jsonl").exists());
}
