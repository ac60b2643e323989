//! `analyze --shard K/N`: the shards partition the inputs, and their calls.jsonl files
//! together hold the same results as one run over everything.

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::Command;

mod common;

/// A short two-tone "call" whose figures depend on `k`, so files are told apart.
fn write_call(path: &Path, k: usize) {
    let f0 = 110.0 + 15.0 * k as f64;
    common::write_mono_wav(path, 8_000, 3.0, |t| {
        let on = ((t * 2.0) as usize).is_multiple_of(2);
        if on {
            0.1 * (2.0 * std::f64::consts::PI * f0 * t).sin()
        } else {
            0.0
        }
    });
}

/// Runs `analyze` and returns its calls.jsonl lines by file.
fn run(input: &Path, out: &Path, shard: Option<&str>) -> BTreeMap<String, String> {
    let mut cmd = Command::cargo_bin("agentvoice").expect("binary");
    cmd.arg("analyze")
        .arg(input)
        .arg("-o")
        .arg(out)
        .arg("--jobs")
        .arg("2");
    if let Some(s) = shard {
        cmd.arg("--shard").arg(s);
    }
    // Piped stderr: no progress bar, nothing at all for good files.
    cmd.assert().success().stderr("");
    let text = std::fs::read_to_string(out.join("calls.jsonl")).expect("calls.jsonl");
    text.lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).expect("json line");
            let file = v["file"].as_str().expect("file key").to_string();
            (file, line.to_string())
        })
        .collect()
}

#[test]
fn shards_partition_the_inputs_and_concatenate_to_the_whole() {
    let dir = tempfile::tempdir().expect("temp dir");
    let calls = dir.path().join("calls");
    for agent in ["ann", "bob"] {
        std::fs::create_dir_all(calls.join(agent)).expect("mkdir");
    }
    for k in 0..7usize {
        let agent = if k.is_multiple_of(2) { "ann" } else { "bob" };
        write_call(&calls.join(agent).join(format!("call_{k}.wav")), k);
    }
    let whole = run(&calls, &dir.path().join("all"), None);
    assert_eq!(whole.len(), 7);
    let mut merged = BTreeMap::new();
    for k in 1..=3 {
        let part = run(
            &calls,
            &dir.path().join(format!("part{k}")),
            Some(&format!("{k}/3")),
        );
        assert!(
            (2..=3).contains(&part.len()),
            "shard {k}/3 has {}",
            part.len()
        );
        for (file, line) in part {
            assert!(
                merged.insert(file.clone(), line).is_none(),
                "{file} in two shards"
            );
        }
    }
    assert_eq!(merged, whole);
}

/// Every file under `dir` (the report's pages), by path relative to it.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .expect("inside")
                    .display()
                    .to_string();
                files.insert(rel, std::fs::read(&path).expect("read"));
            }
        }
    }
    files
}

/// The check: shards run apart, their calls.jsonl concatenated, and
/// `agentvoice report` over them gives the same report as the one-shot run.
#[test]
fn report_of_concatenated_shards_equals_the_one_shot_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    let calls = dir.path().join("calls");
    for agent in ["ann", "bob", "cy"] {
        std::fs::create_dir_all(calls.join(agent)).expect("mkdir");
    }
    for k in 0..8usize {
        let agent = ["ann", "bob", "cy"][k % 3];
        write_call(
            &calls
                .join(agent)
                .join(format!("2024-01-0{}_call_{k}.wav", 1 + k % 4)),
            k,
        );
    }
    let one_shot = dir.path().join("all");
    run(&calls, &one_shot, None);
    let merged = dir.path().join("merged");
    std::fs::create_dir_all(&merged).expect("mkdir");
    let mut text = String::new();
    for k in 1..=2 {
        let part = dir.path().join(format!("part{k}"));
        run(&calls, &part, Some(&format!("{k}/2")));
        text.push_str(&std::fs::read_to_string(part.join("calls.jsonl")).expect("part"));
    }
    std::fs::write(merged.join("calls.jsonl"), text).expect("write");
    Command::cargo_bin("agentvoice")
        .expect("binary")
        .arg("report")
        .arg(&merged)
        .assert()
        .success();
    let pages = |d: &Path| {
        let mut t = tree(&d.join("report"));
        for name in ["index.html", "agents.csv"] {
            t.insert(name.into(), std::fs::read(d.join(name)).expect("page"));
        }
        t
    };
    let (want, got) = (pages(&one_shot), pages(&merged));
    assert_eq!(want.len(), 2 + 3 + 8, "{:?}", want.keys());
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &want {
        assert!(got[name] == *bytes, "{name} differs");
    }
}

#[test]
fn a_bad_shard_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    for bad in ["0/2", "3/2", "x"] {
        Command::cargo_bin("agentvoice")
            .expect("binary")
            .arg("analyze")
            .arg(dir.path())
            .arg("-o")
            .arg(dir.path().join("out"))
            .arg("--shard")
            .arg(bad)
            .assert()
            .failure()
            .code(2);
    }
}
