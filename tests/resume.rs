//! Interrupted and repeated runs of `agentvoice analyze`: killed with SIGKILL or stopped
//! with SIGTERM part way, then run again; run twice over the same folder.
#![cfg(unix)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use agentvoice::CallReport;

const RATE: u32 = 8000;

/// A mono 16-bit WAV of a speech-like signal (`seconds` long, pitch varied by `seed`).
fn speech_wav(seconds: f64, seed: u32) -> Vec<u8> {
    let n = (seconds * RATE as f64) as usize;
    let f0 = 120.0 + f64::from(seed % 7) * 10.0;
    let mut data = Vec::with_capacity(2 * n);
    for i in 0..n {
        let t = i as f64 / RATE as f64;
        let env = if (t % 2.5) < 1.6 {
            (std::f64::consts::PI * 4.0 * t).sin().abs()
        } else {
            0.0
        };
        let v: f64 = (1..=4)
            .map(|h| (2.0 * std::f64::consts::PI * f0 * h as f64 * t).sin() / h as f64)
            .sum();
        data.extend_from_slice(&((0.3 * env * v * 32767.0) as i16).to_le_bytes());
    }
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&RATE.to_le_bytes());
    out.extend_from_slice(&(2 * RATE).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    out
}

/// A batch of `good` recordings with three bad files among them.
fn batch(dir: &Path, good: usize, seconds: f64) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    let mut goods = Vec::new();
    for i in 0..good {
        let p = input.join(format!("call_{i:03}.wav"));
        std::fs::write(&p, speech_wav(seconds, i as u32)).unwrap();
        goods.push(p);
    }
    let bads = vec![
        input.join("call_002_empty.wav"),
        input.join("call_005_notes.wav"),
        input.join("call_011_cut.wav"),
    ];
    std::fs::write(&bads[0], b"").unwrap();
    std::fs::write(&bads[1], b"call notes, not audio\n").unwrap();
    std::fs::write(&bads[2], &speech_wav(1.0, 0)[..40]).unwrap();
    (goods, bads)
}

fn command(input: &Path, out: &Path) -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("agentvoice"));
    c.arg("analyze")
        .arg(input)
        .arg("-o")
        .arg(out)
        .arg("--jobs")
        .arg("1");
    c
}

fn journal_lines(out: &Path) -> usize {
    std::fs::read_to_string(out.join(".calls.journal.jsonl"))
        .map(|t| t.matches('\n').count())
        .unwrap_or(0)
}

/// Starts a run and waits until `lines` results are journaled; the run must still be going.
fn start_and_wait(input: &Path, out: &Path, lines: usize) -> Child {
    let mut child = command(input, out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while journal_lines(out) < lines {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before {lines} results: make the batch longer"
        );
        assert!(start.elapsed() < Duration::from_secs(120), "no progress");
        std::thread::sleep(Duration::from_millis(2));
    }
    child
}

fn read_results(out: &Path) -> Vec<CallReport> {
    std::fs::read_to_string(out.join("calls.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn by_file(reports: &[CallReport]) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for r in reports {
        *m.entry(r.file.clone()).or_insert(0) += 1;
    }
    m
}

/// Killed with SIGKILL part way, then run again: every good file is reported exactly once,
/// every bad file is named (stderr and an `error` line), and finished files are not redone.
#[test]
fn killed_run_resumes_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let (goods, bads) = batch(dir.path(), 24, 20.0);
    let input = dir.path().join("in");
    let out = dir.path().join("out");

    let mut child = start_and_wait(&input, &out, 4);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let done_before_kill = journal_lines(&out);
    assert!(done_before_kill < goods.len() + bads.len());
    assert!(!out.join("calls.jsonl").exists(), "nothing is final yet");

    let second = command(&input, &out).output().unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("resuming an interrupted run"), "{stderr}");
    assert!(!out.join(".calls.journal.jsonl").exists());

    let results = read_results(&out);
    let counts = by_file(&results);
    for g in &goods {
        let name = g.display().to_string();
        assert_eq!(counts.get(&name), Some(&1), "{name}");
    }
    for b in &bads {
        let name = b.display().to_string();
        assert_eq!(counts.get(&name), Some(&1), "{name}");
        let r = results.iter().find(|r| r.file == name).unwrap();
        assert!(r.error.is_some(), "{name}");
        assert_eq!(
            stderr
                .lines()
                .filter(|l| l.starts_with(&format!("agentvoice: {name}: ")))
                .count(),
            1,
            "{name} named once on the second run: {stderr}"
        );
    }
    assert_eq!(results.len(), goods.len() + bads.len());
    // Results come in input order (the folder's sorted order).
    let files: Vec<&str> = results.iter().map(|r| r.file.as_str()).collect();
    let mut sorted = files.clone();
    sorted.sort();
    assert_eq!(files, sorted);
    // The finished good files were kept, not analysed again.
    let kept: usize = stdout
        .lines()
        .find_map(|l| l.split(" unchanged recordings").next()?.parse().ok())
        .unwrap_or(0);
    assert!(kept >= 1 && kept <= done_before_kill, "{stdout}");
    let csv = std::fs::read_to_string(out.join("calls.csv")).unwrap();
    assert_eq!(csv.lines().count(), results.len() + 1);
}

/// SIGTERM: files in progress finish, nothing new starts, the outputs are written whole,
/// and the exit code says so (143); the next run finishes the rest.
#[test]
fn sigterm_stops_cleanly_and_the_rerun_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let (goods, bads) = batch(dir.path(), 24, 20.0);
    let input = dir.path().join("in");
    let out = dir.path().join("out");
    let child = start_and_wait(&input, &out, 3);
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let first = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert_eq!(first.status.code(), Some(143), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(!out.join(".calls.journal.jsonl").exists());
    let partial = read_results(&out);
    assert!(!partial.is_empty() && partial.len() < goods.len() + bads.len());

    let second = command(&input, &out).output().unwrap();
    assert_eq!(second.status.code(), Some(1));
    let results = read_results(&out);
    assert_eq!(results.len(), goods.len() + bads.len());
    assert!(by_file(&results).values().all(|&n| n == 1));
}

/// A second run over the same folder analyses nothing again and writes the same lines;
/// a changed file is analysed again; `--force` redoes all.
#[test]
fn rerun_skips_unchanged_recordings() {
    let dir = tempfile::tempdir().unwrap();
    let (goods, bads) = batch(dir.path(), 3, 3.0);
    let input = dir.path().join("in");
    let out = dir.path().join("out");
    let first = command(&input, &out).output().unwrap();
    assert_eq!(first.status.code(), Some(1));
    let before = std::fs::read_to_string(out.join("calls.jsonl")).unwrap();

    let second = command(&input, &out).output().unwrap();
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(
        stdout.contains("0 recordings analysed, 3 failed"),
        "{stdout}"
    );
    assert!(stdout.contains("3 unchanged recordings"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(out.join("calls.jsonl")).unwrap(),
        before
    );

    // Rewrite one file with other audio: it is analysed again.
    std::fs::write(&goods[1], speech_wav(4.0, 9)).unwrap();
    let third = command(&input, &out).output().unwrap();
    let stdout = String::from_utf8_lossy(&third.stdout);
    assert!(stdout.contains("1 recordings analysed"), "{stdout}");
    let results = read_results(&out);
    assert_eq!(results.len(), goods.len() + bads.len());
    let changed = results
        .iter()
        .find(|r| r.file == goods[1].display().to_string())
        .unwrap();
    assert_eq!(changed.duration_s, Some(4.0));

    let forced = command(&input, &out).arg("--force").output().unwrap();
    let stdout = String::from_utf8_lossy(&forced.stdout);
    assert!(stdout.contains("3 recordings analysed"), "{stdout}");
    assert_eq!(read_results(&out).len(), goods.len() + bads.len());

    // Results of other folders in the same output are kept.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("x.wav"), speech_wav(3.0, 1)).unwrap();
    let more = command(&other, &out).output().unwrap();
    assert_eq!(more.status.code(), Some(0));
    assert_eq!(read_results(&out).len(), goods.len() + bads.len() + 1);
}
