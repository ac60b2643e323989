//! `agentvoice live` and `devices` without a sound card: ALSA's `file` plugin serves a raw
//! file made here as the default capture device (see `../shared/notes/alsa-capture.md`).
#![cfg(feature = "capture")]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

type Span = (f64, f64);

fn agentvoice() -> Command {
    Command::cargo_bin("agentvoice").expect("the binary is built")
}

/// An ALSA configuration whose default capture device reads `infile`.
fn alsa_config(dir: &Path, infile: &Path) -> PathBuf {
    let conf = dir.join("asound.conf");
    let text = format!(
        "pcm.!default {{\n    type asym\n    playback.pcm {{ type null }}\n    capture.pcm \"filecap\"\n}}\n\
         pcm.filecap {{\n    type file\n    slave.pcm {{ type null }}\n    file \"/dev/null\"\n    \
         infile \"{}\"\n    format \"raw\"\n}}\n",
        infile.display()
    );
    std::fs::write(&conf, text).unwrap();
    conf
}

/// The format the default device opens with: `(rate, channels, sample_format)`.
fn device_format(conf: &Path) -> (u32, usize, String) {
    let out = agentvoice()
        .args(["devices", "--json"])
        .env("ALSA_CONFIG_PATH", conf)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let default = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|d| d["default"] == true)
        .unwrap_or_else(|| panic!("no default device listed: {text}"));
    (
        default["sample_rate"].as_u64().unwrap() as u32,
        default["channels"].as_u64().unwrap() as usize,
        default["sample_format"].as_str().unwrap().to_string(),
    )
}

/// Speech-like bursts (voiced syllables, harmonics of a gliding F0, 5 per second) inside
/// `spans`, over a faint deterministic noise floor.
fn syllables(rate: u32, spans: &[Span], total_s: f64, f0_hz: f64, seed: u32) -> Vec<f32> {
    let n = (total_s * f64::from(rate)) as usize;
    let mut state = seed;
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let mut x = ((state >> 8) as f64 / f64::from(1u32 << 24) - 0.5) * 0.002;
            if spans.iter().any(|s| t >= s.0 && t < s.1) {
                let phase = (t * 5.0).fract();
                let env = if phase < 0.7 {
                    (std::f64::consts::PI * phase / 0.7).sin().powi(2)
                } else {
                    0.0
                };
                let f0 = f0_hz * (1.0 + 0.12 * (t * 0.7).sin());
                let v: f64 = (1..=8)
                    .map(|h| (2.0 * std::f64::consts::PI * f0 * h as f64 * t).sin() / h as f64)
                    .sum();
                x += 0.1 * env * v;
            }
            x as f32
        })
        .collect()
}

/// A stereo call: agent left, customer right, interleaved.
fn call(rate: u32, agent: &[Span], customer: &[Span], total_s: f64) -> Vec<f32> {
    let a = syllables(rate, agent, total_s, 130.0, 1);
    let c = syllables(rate, customer, total_s, 210.0, 2);
    a.iter().zip(&c).flat_map(|(&l, &r)| [l, r]).collect()
}

/// Writes the raw infile in the device's format.
fn write_raw(path: &Path, samples: &[f32], format: &str) {
    let bytes: Vec<u8> = match format {
        "f32" => samples.iter().flat_map(|s| s.to_le_bytes()).collect(),
        "i16" => samples
            .iter()
            .flat_map(|s| (((s * 32768.0).round().clamp(-32768.0, 32767.0)) as i16).to_le_bytes())
            .collect(),
        other => panic!("the test does not write {other} raw files"),
    };
    std::fs::write(path, bytes).unwrap();
}

/// Writes the reference recording, exactly as the device delivers it.
fn write_wav(path: &Path, samples: &[f32], rate: u32, channels: usize, format: &str) {
    let int16 = format == "i16";
    let spec = hound::WavSpec {
        channels: channels as u16,
        sample_rate: rate,
        bits_per_sample: if int16 { 16 } else { 32 },
        sample_format: if int16 {
            hound::SampleFormat::Int
        } else {
            hound::SampleFormat::Float
        },
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        if int16 {
            w.write_sample(((s * 32768.0).round().clamp(-32768.0, 32767.0)) as i16)
                .unwrap();
        } else {
            w.write_sample(s).unwrap();
        }
    }
    w.finalize().unwrap();
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Every number and string of two results, except what names the source, must agree
/// (numbers within 1e-3, the results' own rounding).
fn assert_same_figures(live: &Value, file: &Value, path: &str, compared: &mut usize) {
    match (live, file) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                if path.is_empty()
                    // Identity of the input, not figures (a live call has no file to
                    // re-analyse, so no settings fingerprint either).
                    && ["file", "codec", "source", "date", "agent", "settings_fingerprint"]
                        .contains(&k.as_str())
                {
                    continue;
                }
                let other = b.get(k).unwrap_or(&Value::Null);
                assert_same_figures(v, other, &format!("{path}.{k}"), compared);
            }
            for k in b.keys() {
                assert!(
                    a.contains_key(k) || path.is_empty(),
                    "{path}.{k} missing live"
                );
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{path}: lengths differ");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                assert_same_figures(x, y, &format!("{path}[{i}]"), compared);
            }
        }
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            assert!((a - b).abs() <= 1e-3, "{path}: live {a}, file {b}");
            *compared += 1;
        }
        (a, b) => assert_eq!(a, b, "{path}"),
    }
}

const SECONDS: f64 = 12.0;
const AGENT: [Span; 2] = [(2.5, 5.0), (9.0, 11.0)];
const CUSTOMER: [Span; 1] = [(4.6, 6.0)];

#[test]
fn live_gives_the_same_result_as_analyze_on_the_same_audio() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("in.raw");
    std::fs::write(&raw, vec![0u8; 4096]).unwrap();
    let conf = alsa_config(dir.path(), &raw);
    let (rate, channels, format) = device_format(&conf);
    assert_eq!(channels, 2, "the file plugin's default is stereo");

    // The infile is longer than what is read: after its end the plugin repeats a buffer.
    let audio = call(rate, &AGENT, &CUSTOMER, SECONDS + 2.0);
    write_raw(&raw, &audio, &format);
    let exact = (SECONDS * f64::from(rate)) as usize * channels;
    let reference = dir.path().join("reference.wav");
    write_wav(&reference, &audio[..exact], rate, channels, &format);

    let recording = dir.path().join("rec.wav");
    let out_live = dir.path().join("live-out");
    let live = agentvoice()
        .args([
            "live",
            "--seconds",
            "12",
            "--json",
            "--buffer-s",
            "20",
            "--agent",
            "anna",
        ])
        .arg("-o")
        .arg(&out_live)
        .arg("--record")
        .arg(&recording)
        .env("ALSA_CONFIG_PATH", &conf)
        .output()
        .unwrap();
    assert!(
        live.status.success(),
        "live failed: {}",
        String::from_utf8_lossy(&live.stderr)
    );
    let events = json_lines(&live);
    assert_eq!(events[0]["event"], "start");
    assert_eq!(events[0]["sample_rate"], rate);
    let statuses = events.iter().filter(|e| e["event"] == "status").count();
    assert!((11..=12).contains(&statuses), "{statuses} status events");
    let end = events.last().unwrap();
    assert_eq!(end["event"], "call");
    assert_eq!(end["stopped"], "seconds");
    assert_eq!(end["dropped_frames"], 0, "the ring buffer overflowed");
    let live_report = &end["report"];
    assert_eq!(live_report["agent"], "anna");
    assert_eq!(live_report["duration_s"], SECONDS);

    let out_file = dir.path().join("file-out");
    let analyzed = agentvoice()
        .args(["analyze", "--json"])
        .arg(&reference)
        .arg("-o")
        .arg(&out_file)
        .output()
        .unwrap();
    assert!(analyzed.status.success());
    let file_report = &json_lines(&analyzed)[0];
    let mut compared = 0;
    assert_same_figures(live_report, file_report, "", &mut compared);
    assert!(compared > 50, "only {compared} numbers compared");
    // The figures describe this call: two agent turns, a 3 s gap, overtalk.
    let long_gaps = live_report["silence"]["long_gaps"].as_array().unwrap();
    assert_eq!(long_gaps.len(), 1, "{long_gaps:?}");
    assert!(!live_report["interaction"]["overtalk"]
        .as_array()
        .unwrap()
        .is_empty());

    // The result was appended to the output folder, and the recording is the audio.
    let jsonl = std::fs::read_to_string(out_live.join("calls.jsonl")).unwrap();
    assert_eq!(jsonl.lines().count(), 1);
    let stored: Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    assert_eq!(&stored, live_report);
    assert!(out_live.join("calls.csv").exists());
    let rec: Vec<f32> = if format == "f32" {
        hound::WavReader::open(&recording)
            .unwrap()
            .samples::<f32>()
            .map(Result::unwrap)
            .collect()
    } else {
        hound::WavReader::open(&recording)
            .unwrap()
            .samples::<i16>()
            .map(|s| f32::from(s.unwrap()) / 32768.0)
            .collect()
    };
    assert_eq!(rec.len(), exact);
    let max_diff = rec
        .iter()
        .zip(&audio[..exact])
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(max_diff <= 1.0 / 32768.0, "recording differs by {max_diff}");

    // The cues, timed on the audio: the greeting alarm at the limit, cleared by the first
    // word; the silence alarm 2 s into the gap; overtalk.
    let cue_times = |key: &str, on: bool| -> Vec<f64> {
        events
            .iter()
            .filter(|e| e["event"] == "cue" && e["cue"] == key && e["on"] == on)
            .map(|e| e["t_s"].as_f64().unwrap())
            .collect()
    };
    let greet_on = cue_times("greet", true);
    assert_eq!(greet_on.len(), 1, "{greet_on:?}");
    assert!(
        (greet_on[0] - 2.0).abs() <= 0.06,
        "greet cue at {}",
        greet_on[0]
    );
    let onset = live_report["silence"]["greeting_latency_s"]
        .as_f64()
        .unwrap();
    let greet_off = cue_times("greet", false);
    assert!(
        greet_off.len() == 1 && greet_off[0] > onset && greet_off[0] < onset + 0.3,
        "greet cue ended at {greet_off:?}, first word at {onset}"
    );
    let gap_start = long_gaps[0][0].as_f64().unwrap();
    let silence_on = cue_times("silence", true);
    assert_eq!(silence_on.len(), 1, "{silence_on:?}");
    assert!(
        (silence_on[0] - (gap_start + 2.0)).abs() <= 0.06,
        "silence cue at {}, gap from {gap_start}",
        silence_on[0]
    );
    assert_eq!(cue_times("overtalk", true).len(), 1);
}

#[test]
fn results_are_appended_and_plain_lines_are_written_without_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("in.raw");
    std::fs::write(&raw, vec![0u8; 4096]).unwrap();
    let conf = alsa_config(dir.path(), &raw);
    let (rate, _, format) = device_format(&conf);
    write_raw(&raw, &call(rate, &[(0.5, 2.5)], &[], 4.0), &format);
    let out_dir = dir.path().join("out");
    // The second run names the device (by its id, as `devices` lists it).
    for device in [None, Some("alsa:default")] {
        let mut cmd = agentvoice();
        cmd.args(["live", "--seconds", "3"]);
        if let Some(d) = device {
            cmd.args(["--device", d]);
        }
        let out = cmd
            .arg("-o")
            .arg(&out_dir)
            .env("ALSA_CONFIG_PATH", &conf)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("live: alsa:default"), "{text}");
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit())
                    && l.contains("s  level "))
                .count(),
            3,
            "one status line per second: {text}"
        );
        assert!(
            lines.iter().all(|l| !l.contains('\x1b')),
            "escape codes: {text}"
        );
        assert!(text.contains("result appended to"), "{text}");
    }
    let jsonl = std::fs::read_to_string(out_dir.join("calls.jsonl")).unwrap();
    assert_eq!(jsonl.lines().count(), 2);
    let csv = std::fs::read_to_string(out_dir.join("calls.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "header and two rows");
}

fn assert_one_clear_line(out: &Output, expect: &str) {
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "stderr: {stderr}");
    assert!(lines[0].starts_with("agentvoice: "), "{stderr}");
    assert!(lines[0].contains(expect), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn no_device_fails_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    // An empty ALSA configuration: no PCM at all.
    let empty = dir.path().join("empty.conf");
    std::fs::write(&empty, "").unwrap();
    let out = agentvoice()
        .args(["live", "--seconds", "1", "--json"])
        .arg("-o")
        .arg(dir.path().join("out"))
        .env("ALSA_CONFIG_PATH", &empty)
        .output()
        .unwrap();
    assert_one_clear_line(&out, "not available");
    assert!(!dir.path().join("out").exists(), "nothing is written");

    // A configured device whose source is missing.
    let conf = alsa_config(dir.path(), &dir.path().join("missing.raw"));
    let out = agentvoice()
        .args(["live", "--seconds", "1"])
        .env("ALSA_CONFIG_PATH", &conf)
        .output()
        .unwrap();
    assert_one_clear_line(&out, "input device alsa:default is not available");

    // A device name that does not exist.
    let out = agentvoice()
        .args(["live", "--seconds", "1", "--device", "no-such-card"])
        .env("ALSA_CONFIG_PATH", &conf)
        .output()
        .unwrap();
    assert_one_clear_line(&out, "no input device named \"no-such-card\"");
}

/// A FIFO as the device's source: `seconds` of audio are written, then the writer holds the
/// FIFO open without writing for `hold_s` (a device that stops delivering).
fn feed_then_stall(fifo: &Path, bytes: Vec<u8>, hold_s: f64) -> std::thread::JoinHandle<()> {
    let fifo = fifo.to_path_buf();
    std::thread::spawn(move || {
        use std::io::Write;
        for _ in 0..10 {
            // Opening blocks until the reader opens; a reader that only probes the device
            // closes again (the write fails): open again.
            let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&fifo) else {
                return;
            };
            if f.write_all(&bytes).is_ok() {
                std::thread::sleep(std::time::Duration::from_secs_f64(hold_s));
                return;
            }
        }
    })
}

fn f32_bytes(samples: &[f32]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_le_bytes()).collect()
}

#[test]
fn a_device_that_stops_delivering_keeps_what_was_captured() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("probe.raw");
    std::fs::write(&raw, vec![0u8; 4096]).unwrap();
    let (rate, channels, format) = device_format(&alsa_config(dir.path(), &raw));
    if format != "f32" {
        eprintln!("skipped: the FIFO feed writes f32, the device opens {format}");
        return;
    }
    let fifo = dir.path().join("feed.raw");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let conf = dir.path().join("fifo.conf");
    std::fs::rename(alsa_config(dir.path(), &fifo), &conf).unwrap();
    let audio = call(rate, &[(0.3, 1.8)], &[], 2.0);
    assert_eq!(audio.len(), 2 * rate as usize * channels);
    let feeder = feed_then_stall(&fifo, f32_bytes(&audio), 9.0);

    let recording = dir.path().join("partial.wav");
    let out_dir = dir.path().join("out");
    let out = agentvoice()
        .args(["live", "--json"])
        .arg("-o")
        .arg(&out_dir)
        .arg("--record")
        .arg(&recording)
        .env("ALSA_CONFIG_PATH", &conf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("agentvoice: input device alsa:default stopped delivering audio"),
        "{stderr}"
    );
    assert!(stderr.contains("what was captured is kept"), "{stderr}");
    // The partial call: a result with its warning, and a readable recording of at least
    // the audio that was sent.
    let events = json_lines(&out);
    let end = events.last().unwrap();
    assert_eq!(end["stopped"], "fault");
    let report = &end["report"];
    let captured_s = report["duration_s"].as_f64().unwrap();
    assert!(captured_s >= 2.0, "{captured_s}");
    assert!(report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().starts_with("capture stopped early")));
    let stored = std::fs::read_to_string(out_dir.join("calls.jsonl")).unwrap();
    assert_eq!(stored.lines().count(), 1);
    let mut wav = hound::WavReader::open(&recording).unwrap();
    let frames = wav.duration() as f64 / f64::from(rate);
    assert!(
        (frames - captured_s).abs() < 0.002,
        "{frames} vs {captured_s}"
    );
    // The greeting, counted from where the fed audio begins in the recording: when the
    // device opens the FIFO before the feeder has written (a busy machine), ALSA's file
    // plugin delivers zeros first, and the fed audio (never exactly zero: it carries a
    // little noise) starts that much later.
    let lead_s = match wav.spec().sample_format {
        hound::SampleFormat::Float => wav.samples::<f32>().position(|s| s.unwrap() != 0.0),
        hound::SampleFormat::Int => wav.samples::<i32>().position(|s| s.unwrap() != 0),
    }
    .expect("the recording holds the fed audio") as f64
        / channels as f64
        / f64::from(rate);
    assert!(lead_s < 1.0, "the fed audio starts at {lead_s} s");
    let first = report["silence"]["greeting_latency_s"].as_f64().unwrap();
    assert!(
        (first - lead_s - 0.3).abs() < 0.1,
        "greeting at {first}, the fed audio from {lead_s} s"
    );
    drop(feeder);
}

#[test]
fn ctrl_c_stops_cleanly_and_writes_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("in.raw");
    std::fs::write(&raw, vec![0u8; 4096]).unwrap();
    let conf = alsa_config(dir.path(), &raw);
    let (rate, _, format) = device_format(&conf);
    write_raw(&raw, &call(rate, &[(0.5, 3.0)], &[], 4.0), &format);
    let out_dir = dir.path().join("out");
    let bin = assert_cmd::cargo::cargo_bin("agentvoice");
    let mut child = std::process::Command::new(bin)
        .args(["live", "--json"])
        .arg("-o")
        .arg(&out_dir)
        .env("ALSA_CONFIG_PATH", &conf)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the start event (Ctrl-C is handled from then on), let it run, interrupt.
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    assert!(first.contains("\"event\":\"start\""), "{first}");
    std::thread::sleep(std::time::Duration::from_millis(500));
    // The shell's built-in `kill` (procps may not be installed).
    let sent = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("kill -INT {}", child.id()))
        .status()
        .unwrap();
    assert!(sent.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let end: Value = serde_json::from_str(rest.lines().last().unwrap()).unwrap();
    assert_eq!(end["event"], "call");
    assert_eq!(end["stopped"], "interrupted");
    assert!(end["report"]["duration_s"].as_f64().unwrap() > 0.0);
    let stored = std::fs::read_to_string(out_dir.join("calls.jsonl")).unwrap();
    assert_eq!(stored.lines().count(), 1);
}
