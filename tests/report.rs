//! The supervisor's report: `agentvoice report DIR` rebuilds index.html, agent and call
//! pages and agents.csv from a calls.jsonl alone; Chinese agent names survive end to end.

use std::path::Path;

use assert_cmd::Command;

use agentvoice::audio::Layout;
use agentvoice::report::export;
use agentvoice::{Analyzer, CallReport, Config};

/// Tone bursts (0.5 s on, 0.5 s off) after a silent lead-in, at 8 kHz.
fn bursts(seconds: f64, lead_in_s: f64) -> Vec<f32> {
    let rate = 8000.0;
    (0..(seconds * rate) as usize)
        .map(|i| {
            let t = i as f64 / rate;
            let on = t >= lead_in_s && (t - lead_in_s).rem_euclid(1.0) < 0.5;
            if on {
                (0.1 * (2.0 * std::f64::consts::PI * 220.0 * t).sin()
                    * (1.0 + 0.5 * (2.0 * std::f64::consts::PI * 4.0 * t).sin()))
                    as f32
            } else {
                0.0
            }
        })
        .collect()
}

/// A real analysis of synthetic audio, named as a recording of `file`.
fn analysed(file: &str, seconds: f64, lead_in_s: f64) -> CallReport {
    let samples = bursts(seconds, lead_in_s);
    let mut a = Analyzer::new(&Config::default(), 8000, 1, Layout::AgentOnly);
    a.push_interleaved(&samples);
    let mut r = a.finish();
    r.file = file.to_string();
    r
}

fn write_jsonl(dir: &Path, calls: &[CallReport], extra: &str) {
    let mut text = export::to_jsonl(calls);
    text.push_str(extra);
    std::fs::write(dir.join("calls.jsonl"), text).unwrap();
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn agentvoice() -> Command {
    Command::cargo_bin("agentvoice").unwrap()
}

#[test]
fn report_rebuilds_pages_for_every_agent_from_calls_jsonl() {
    let dir = tempfile::tempdir().unwrap();
    let calls = vec![
        analysed("rec/张伟/2024-04-01_a.wav", 20.0, 0.5),
        analysed("rec/张伟/2024-04-02_b.wav", 20.0, 3.0),
        analysed("rec/ann/20240403_c.wav", 15.0, 1.0),
        CallReport {
            file: "rec/ann/broken.wav".into(),
            error: Some("empty file (0 bytes)".into()),
            ..CallReport::default()
        },
    ];
    write_jsonl(dir.path(), &calls, "this line is not json\n");
    agentvoice()
        .arg("report")
        .arg(dir.path())
        .assert()
        .success()
        .stdout(predicates::str::contains("2 agents"))
        .stderr(predicates::str::contains(
            "calls.jsonl line 5: not a result line",
        ));

    let index = read(&dir.path().join("index.html"));
    assert!(
        index.contains("张伟") && index.contains("ann"),
        "agents missing"
    );
    assert!(index.contains("<svg"), "no overview plot");
    assert!(index.contains("broken.wav") && index.contains("empty file"));
    assert!(index.contains("not a result line"), "bad line not listed");
    for remote in ["src=\"http", "href=\"http", "<link", "url(http", "@import"] {
        assert!(!index.contains(remote), "network reference {remote}");
    }

    let csv = read(&dir.path().join("agents.csv"));
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 1 + 2, "{csv}"); // header, ann, 张伟 (the bad line has no agent)
    let zhang = rows
        .iter()
        .find(|r| r.starts_with("张伟,"))
        .expect("张伟 row");
    // Two calls, dates from the file names; the 3 s lead-in fails the greeting.
    assert!(
        zhang.starts_with("张伟,2,0,2024-04-01,2024-04-02,"),
        "{zhang}"
    );
    assert!(zhang.contains("greeting late 1/2"), "{zhang}");
    let ann = rows
        .iter()
        .find(|r| r.starts_with("ann,"))
        .expect("ann row");
    assert!(ann.starts_with("ann,1,1,2024-04-03,"), "{ann}");

    let agent_page = dir.path().join("report/agents/张伟.html");
    let page = read(&agent_page);
    assert_eq!(page.matches("<svg").count(), 5, "five agent plots");
    assert!(page.contains("Speaking rate per call: 张伟"));
    let call_page = read(&dir.path().join("report/calls/张伟/0002.html"));
    assert!(call_page.contains("<svg") && call_page.contains("Rolling speaking rate"));
    assert!(
        call_page.contains("FAIL"),
        "late greeting shows as a failed rule"
    );
    assert!(dir.path().join("report/calls/ann/0002.html").exists());
}

#[test]
fn manifest_pattern_and_config_apply_again_on_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let calls = vec![
        analysed("in/x/王芳_0001.wav", 12.0, 0.5),
        analysed("in/x/lee_0002.wav", 12.0, 0.5),
    ];
    write_jsonl(dir.path(), &calls, "");
    let manifest = dir.path().join("manifest.csv");
    std::fs::write(&manifest, "file,agent,date\nlee_0002.wav,李雷,2024/05/06\n").unwrap();
    agentvoice()
        .args([
            "report",
            "--agent-pattern",
            r"^(?P<agent>[^_]+)_",
            "--manifest",
        ])
        .arg(&manifest)
        .arg(dir.path())
        .assert()
        .success();
    let csv = read(&dir.path().join("agents.csv"));
    assert!(csv.contains("\n王芳,1,"), "{csv}");
    assert!(csv.contains("\n李雷,1,0,2024-05-06,"), "{csv}");
    assert!(!csv.contains("\nx,"), "{csv}");

    // New targets: a gap limit above every pause and a greeting limit below the lead-in.
    let config = dir.path().join("strict.toml");
    std::fs::write(&config, "[silence]\ngreeting_limit_s = 0.1\n").unwrap();
    agentvoice()
        .args(["report", "--config"])
        .arg(&config)
        .arg(dir.path())
        .assert()
        .success();
    // Without --manifest or --pattern the stored agent (here none: the folder) is used.
    let csv = read(&dir.path().join("agents.csv"));
    assert!(csv.contains("\nx,2,"), "{csv}");
    assert!(csv.contains("greeting late 2/2"), "{csv}");

    agentvoice()
        .args(["report", "--agent-pattern", "(no group)"])
        .arg(dir.path())
        .assert()
        .failure()
        .stderr(predicates::str::contains("agent"));
}

#[test]
fn png_plots_on_request() {
    let dir = tempfile::tempdir().unwrap();
    write_jsonl(dir.path(), &[analysed("r/张伟/a.wav", 12.0, 0.5)], "");
    let out = agentvoice()
        .args(["report", "--png"])
        .arg(dir.path())
        .assert()
        .success();
    if agentvoice::report::fonts::status().family.is_none() {
        // No font at all: the run must still succeed and say why there are no plots.
        assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("font"));
        return;
    }
    for name in ["speaking_rate", "loudness", "gaps", "greeting", "trend"] {
        let path = dir.path().join(format!("png/张伟/{name}.png"));
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        assert!(size > 5_000, "{}: {size} bytes", path.display());
    }
    assert!(dir.path().join("png/overview.png").exists());
}

#[test]
fn level_timeline_does_not_depend_on_chunking() {
    let samples = bursts(7.3, 1.2);
    let run = |chunk: usize| {
        let mut a = Analyzer::new(&Config::default(), 8000, 1, Layout::AgentOnly);
        for c in samples.chunks(chunk) {
            a.push_interleaved(c);
        }
        a.finish().timeline.expect("timeline")
    };
    let whole = run(samples.len());
    assert_eq!(
        whole.agent.level_dbfs.len(),
        8,
        "7 whole seconds and a partial one"
    );
    // Silent first step (digital zero), then bursts at about -25 dBFS RMS.
    assert_eq!(whole.agent.level_dbfs[0], None);
    assert!(whole.agent.level_dbfs[3].is_some_and(|v| (-30.0..-15.0).contains(&v)));
    // Short-term loudness needs speech in its 3 s window.
    assert!(whole.agent.short_term_lufs[4].is_some());
    for chunk in [1, 37, 4096, 8000] {
        assert_eq!(run(chunk), whole, "chunk {chunk}");
    }
}
