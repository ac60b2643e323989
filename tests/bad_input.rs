//! Bad input: a corpus of broken and odd recordings, generated into a temporary folder.
//!
//! Every case has its expected outcome: either a one-line error (`agentvoice: PATH: reason`
//! on stderr and an `error` in calls.jsonl), or an analysis with a named warning. The
//! decision for a file whose audio data is cut short is: analyse what is there and warn
//! ("truncated file"), the same for WAV and FLAC. None panics; the good files in the same
//! batch are analysed; the exit code is 1.

use std::path::{Path, PathBuf};

use agentvoice::pipeline::{self, AnalysisOptions};
use agentvoice::CallReport;
use assert_cmd::Command;

const RATE: u32 = 8000;

/// A speech-like signal: 150 Hz harmonics, syllable-rate bursts, pauses; `seconds` long.
fn speechy(seconds: f64, rate: u32) -> Vec<f32> {
    let n = (seconds * rate as f64) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / rate as f64;
            let talking = (t % 2.0) < 1.3;
            let envelope = if talking {
                (std::f64::consts::PI * 4.0 * t).sin().abs()
            } else {
                0.0
            };
            let voice: f64 = (1..=5)
                .map(|h| (2.0 * std::f64::consts::PI * 150.0 * h as f64 * t).sin() / h as f64)
                .sum();
            let noise = ((i as f64 * 12.9898).sin() * 43758.5453).fract() * 0.002;
            (0.3 * envelope * voice + noise) as f32
        })
        .collect()
}

fn pcm16(samples: &[f32]) -> Vec<u8> {
    samples
        .iter()
        .flat_map(|&s| ((s.clamp(-1.0, 1.0) * 32767.0) as i16).to_le_bytes())
        .collect()
}

fn float32(samples: &[f32]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_le_bytes()).collect()
}

/// The fields of a WAV `fmt ` chunk.
#[derive(Clone, Copy)]
struct Fmt {
    tag: u16,
    channels: u16,
    rate: u32,
    bits: u16,
}

impl Fmt {
    fn pcm16(channels: u16, rate: u32) -> Fmt {
        Fmt {
            tag: 1,
            channels,
            rate,
            bits: 16,
        }
    }
}

/// A WAV file: header, optional extra chunk before `data`, and the data chunk, whose size
/// field says `data_claim` (default: the real size).
fn wav(
    fmt: Fmt,
    extra_chunk: Option<(&[u8; 4], u32)>,
    data: &[u8],
    data_claim: Option<u32>,
) -> Vec<u8> {
    let block_align = fmt.channels * fmt.bits.div_ceil(8);
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&u32::MAX.to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(b"fmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&fmt.tag.to_le_bytes());
    out.extend_from_slice(&fmt.channels.to_le_bytes());
    out.extend_from_slice(&fmt.rate.to_le_bytes());
    out.extend_from_slice(&(fmt.rate.wrapping_mul(u32::from(block_align))).to_le_bytes());
    out.extend_from_slice(&block_align.to_le_bytes());
    out.extend_from_slice(&fmt.bits.to_le_bytes());
    if let Some((tag, claim)) = extra_chunk {
        out.extend_from_slice(tag);
        out.extend_from_slice(&claim.to_le_bytes());
        out.extend_from_slice(b"INFOISFT\xff\xff\xff\xf0some text");
    }
    out.extend_from_slice(b"data");
    let claim = data_claim.unwrap_or(data.len() as u32);
    out.extend_from_slice(&claim.to_le_bytes());
    out.extend_from_slice(data);
    // A header that lies keeps the streaming writers' "unknown" RIFF size, so only the
    // chunk's own claim limits what a trusting reader would allocate.
    if data_claim.is_none() && extra_chunk.is_none() {
        let riff_len = (out.len() - 8) as u32;
        out[4..8].copy_from_slice(&riff_len.to_le_bytes());
    }
    out
}

/// What a case must give.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Refused: the error contains this text.
    Error(&'static str),
    /// Analysed; a warning contains this text (or "" for none required).
    Warning(&'static str),
}

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    expect: Expect,
}

fn good_wav() -> Vec<u8> {
    wav(Fmt::pcm16(1, RATE), None, &pcm16(&speechy(4.0, RATE)), None)
}

/// The corpus, one file per case.
fn corpus() -> Vec<Case> {
    let speech = speechy(3.0, RATE);
    let good = good_wav();
    let mut nan_inf = speech.clone();
    for (i, s) in nan_inf.iter_mut().enumerate().step_by(97) {
        *s = if i % 2 == 0 { f32::NAN } else { f32::INFINITY };
    }
    nan_inf[5] = f32::NEG_INFINITY;
    let square: Vec<f32> = (0..3 * RATE as usize)
        .map(|i| if (i / 20) % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    let dc: Vec<f32> = speech.iter().map(|s| 0.5 + 0.4 * s).collect();
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x06\0\0\0".to_vec();
    png.extend(std::iter::repeat_n(0u8, 200));
    let twelve = pcm16(&speechy(0.5, RATE).repeat(12));
    vec![
        Case {
            name: "zero_bytes.wav",
            bytes: Vec::new(),
            expect: Expect::Error("empty file (0 bytes)"),
        },
        Case {
            name: "truncated_header.wav",
            bytes: good[..30].to_vec(),
            expect: Expect::Error("truncated header"),
        },
        Case {
            name: "riff_only.wav",
            bytes: good[..10].to_vec(),
            expect: Expect::Error("truncated header"),
        },
        Case {
            name: "truncated_data.wav",
            bytes: good[..good.len() / 2].to_vec(),
            expect: Expect::Warning("truncated file"),
        },
        Case {
            name: "data_claims_gigabytes.wav",
            bytes: wav(
                Fmt::pcm16(1, RATE),
                None,
                &pcm16(&speech),
                Some(0xFFFF_FFF0),
            ),
            expect: Expect::Warning("truncated file: the header claims 4294967280 bytes"),
        },
        Case {
            name: "list_claims_gigabytes.wav",
            bytes: wav(
                Fmt::pcm16(1, RATE),
                Some((b"LIST", 0xFFFF_FF00)),
                &pcm16(&speech),
                None,
            ),
            expect: Expect::Error("truncated header: the 'LIST' chunk claims 4294967040 bytes"),
        },
        Case {
            name: "g729.wav",
            bytes: wav(
                Fmt {
                    tag: 0x0083,
                    channels: 1,
                    rate: RATE,
                    bits: 0,
                },
                None,
                &[0u8; 400],
                None,
            ),
            expect: Expect::Error("unsupported audio: WAV codec G.729"),
        },
        Case {
            name: "gsm.wav",
            bytes: wav(
                Fmt {
                    tag: 0x0031,
                    channels: 1,
                    rate: RATE,
                    bits: 0,
                },
                None,
                &[0u8; 650],
                None,
            ),
            expect: Expect::Error("unsupported audio: WAV codec GSM 6.10"),
        },
        Case {
            name: "adpcm_bad_block.wav",
            bytes: wav(
                Fmt {
                    tag: 0x0011,
                    channels: 2,
                    rate: RATE,
                    bits: 4,
                },
                None,
                &[0u8; 400],
                None,
            ),
            expect: Expect::Error("broken ADPCM header"),
        },
        Case {
            name: "text.wav",
            bytes: b"This is not a recording.\nJust some notes.\n".to_vec(),
            expect: Expect::Error("unrecognised format"),
        },
        Case {
            name: "image.wav",
            bytes: png,
            expect: Expect::Error("unrecognised format"),
        },
        Case {
            name: "nan_inf.wav",
            bytes: wav(
                Fmt {
                    tag: 3,
                    channels: 1,
                    rate: RATE,
                    bits: 32,
                },
                None,
                &float32(&nan_inf),
                None,
            ),
            expect: Expect::Warning("NaN or infinite"),
        },
        Case {
            name: "absurd_floats.wav",
            bytes: wav(
                Fmt {
                    tag: 3,
                    channels: 1,
                    rate: RATE,
                    bits: 32,
                },
                None,
                &float32(&speech.iter().map(|s| s * 1e30).collect::<Vec<f32>>()),
                None,
            ),
            expect: Expect::Warning("over full scale (corrupt data)"),
        },
        Case {
            name: "one_sample.wav",
            bytes: wav(Fmt::pcm16(1, RATE), None, &pcm16(&[0.5]), None),
            expect: Expect::Warning("no speech found"),
        },
        Case {
            name: "all_zeros.wav",
            bytes: wav(
                Fmt::pcm16(1, RATE),
                None,
                &vec![0u8; 2 * 3 * RATE as usize],
                None,
            ),
            expect: Expect::Warning("no speech found"),
        },
        Case {
            name: "square_full_scale.wav",
            bytes: wav(Fmt::pcm16(1, RATE), None, &pcm16(&square), None),
            expect: Expect::Warning(""),
        },
        Case {
            // Analysed; the speech on top of the offset is still found (see
            // dc_offset_does_not_hide_speech). Known weakness, hence the warning: the P.56
            // active speech level counts the offset as speech energy.
            name: "dc_offset.wav",
            bytes: wav(Fmt::pcm16(1, RATE), None, &pcm16(&dc), None),
            expect: Expect::Warning("DC offset of 0.500"),
        },
        Case {
            name: "rate_0.wav",
            bytes: wav(Fmt::pcm16(1, 0), None, &pcm16(&speech), None),
            expect: Expect::Error("sample rate 0 Hz (allowed 8000 to 192000 Hz)"),
        },
        Case {
            name: "rate_1000000.wav",
            bytes: wav(Fmt::pcm16(1, 1_000_000), None, &pcm16(&speech), None),
            expect: Expect::Error("sample rate 1000000 Hz (allowed 8000 to 192000 Hz)"),
        },
        Case {
            name: "twelve_channels.wav",
            bytes: wav(Fmt::pcm16(12, RATE), None, &twelve, None),
            expect: Expect::Error("12 channels (agentvoice reads mono or stereo)"),
        },
        Case {
            name: "zero_channels.wav",
            bytes: wav(Fmt::pcm16(0, RATE), None, &pcm16(&speech), None),
            expect: Expect::Error("0 channels"),
        },
        Case {
            name: "empty_data.wav",
            bytes: wav(Fmt::pcm16(1, RATE), None, &[], None),
            expect: Expect::Error("no audio samples"),
        },
    ]
}

fn write_corpus(dir: &Path) -> Vec<(PathBuf, Expect)> {
    corpus()
        .into_iter()
        .map(|c| {
            let path = dir.join(c.name);
            std::fs::write(&path, &c.bytes).unwrap();
            (path, c.expect)
        })
        .collect()
}

fn check(report: &CallReport, expect: Expect) {
    let name = &report.file;
    match expect {
        Expect::Error(text) => {
            let e = report.error.as_deref().unwrap_or("");
            assert!(e.contains(text), "{name}: error {e:?}, wanted {text:?}");
            assert!(!e.contains('\n'), "{name}: error on several lines: {e:?}");
        }
        Expect::Warning(text) => {
            assert_eq!(report.error, None, "{name}");
            assert!(
                text.is_empty() || report.warnings.iter().any(|w| w.contains(text)),
                "{name}: warnings {:?}, wanted {text:?}",
                report.warnings
            );
            let duration = report.duration_s.unwrap();
            assert!(duration.is_finite() && duration >= 0.0, "{name}");
            // Nothing that cannot be measured comes out as NaN or infinity (they would be
            // written as null, never as a number).
            let json = serde_json::to_string(report).unwrap();
            assert!(!json.contains("NaN") || name.contains("nan"), "{name}");
        }
    }
}

#[test]
fn every_corpus_case_gives_its_expected_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let options = AnalysisOptions::default();
    for (path, expect) in write_corpus(dir.path()) {
        let report = pipeline::analyze_file(&path, &options);
        check(&report, expect);
    }
}

#[test]
fn nan_and_infinite_samples_read_as_silence_not_poison() {
    let dir = tempfile::tempdir().unwrap();
    let cases = write_corpus(dir.path());
    let path = &cases
        .iter()
        .find(|(p, _)| p.ends_with("nan_inf.wav"))
        .unwrap()
        .0;
    let report = pipeline::analyze_file(path, &AnalysisOptions::default());
    let loudness = report.loudness.unwrap();
    let level = loudness.integrated_lufs.expect("speech gives a loudness");
    assert!(level.is_finite() && level < 0.0, "{level}");
    assert!(!report.speech.unwrap().segments.is_empty());
}

#[test]
fn dc_offset_does_not_hide_speech() {
    let dir = tempfile::tempdir().unwrap();
    let cases = write_corpus(dir.path());
    let path = &cases
        .iter()
        .find(|(p, _)| p.ends_with("dc_offset.wav"))
        .unwrap()
        .0;
    let report = pipeline::analyze_file(path, &AnalysisOptions::default());
    let segments = report.speech.unwrap().segments;
    // speechy() talks 1.3 s of every 2 s: two turns in 3 s.
    assert_eq!(segments.len(), 2, "{segments:?}");
    assert!(
        segments[0][0] < 0.1 && (segments[1][0] - 2.0).abs() < 0.1,
        "{segments:?}"
    );
}

#[test]
fn full_scale_square_wave_fails_the_clipping_rule() {
    let dir = tempfile::tempdir().unwrap();
    let cases = write_corpus(dir.path());
    let path = &cases
        .iter()
        .find(|(p, _)| p.ends_with("square_full_scale.wav"))
        .unwrap()
        .0;
    let report = pipeline::analyze_file(path, &AnalysisOptions::default());
    let clipping = &report.checks.unwrap()["clipping"];
    assert_eq!(clipping.pass, Some(false), "{clipping:?}");
    assert!(clipping.value.unwrap() > 0.9);
}

#[test]
fn truncated_data_gives_what_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let good = good_wav();
    let whole = dir.path().join("whole.wav");
    let half = dir.path().join("half.wav");
    std::fs::write(&whole, &good).unwrap();
    std::fs::write(&half, &good[..44 + 2 * 2 * RATE as usize]).unwrap();
    let options = AnalysisOptions::default();
    let whole = pipeline::analyze_file(&whole, &options);
    let half = pipeline::analyze_file(&half, &options);
    assert!(whole.warnings.iter().all(|w| !w.contains("truncated")));
    assert_eq!(half.duration_s, Some(2.0));
    assert_eq!(whole.duration_s, Some(4.0));
    assert!(
        half.warnings[0].contains("analysed what is there"),
        "{:?}",
        half.warnings
    );
}

#[test]
fn truncated_flac_is_analysed_with_a_warning() {
    // sox is installed on the build machine (the samples script needs it); skip without it.
    let dir = tempfile::tempdir().unwrap();
    let wav_path = dir.path().join("good.wav");
    std::fs::write(&wav_path, good_wav()).unwrap();
    let flac = dir.path().join("good.flac");
    let made = std::process::Command::new("sox")
        .arg(&wav_path)
        .arg(&flac)
        .status();
    if !matches!(made, Ok(s) if s.success()) {
        eprintln!("sox not available: FLAC truncation not checked");
        return;
    }
    let bytes = std::fs::read(&flac).unwrap();
    let cut = dir.path().join("cut.flac");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let report = pipeline::analyze_file(&cut, &AnalysisOptions::default());
    assert_eq!(report.error, None);
    assert!(
        report.warnings.iter().any(|w| w.contains("truncated file")),
        "{:?}",
        report.warnings
    );
    let full = pipeline::analyze_file(&flac, &AnalysisOptions::default());
    assert!(full.warnings.iter().all(|w| !w.contains("truncated")));
}

fn am_root() -> bool {
    // Root reads a chmod 000 file anyway, so the unreadable case differs.
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The whole corpus plus two good files, a dangling link, an unreadable file and a folder
/// loop, through the command line.
#[test]
#[cfg(unix)]
fn batch_names_every_bad_file_and_analyses_the_good_ones() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let mut expected = write_corpus(&input);
    for name in ["good_a.wav", "good_b.wav"] {
        std::fs::write(input.join(name), good_wav()).unwrap();
    }
    symlink(input.join("missing.wav"), input.join("dangling.wav")).unwrap();
    expected.push((
        input.join("dangling.wav"),
        Expect::Error("no such file or folder"),
    ));
    let sub = input.join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(sub.join("good_c.wav"), good_wav()).unwrap();
    symlink(&input, sub.join("loop")).unwrap();
    expected.push((sub.join("loop"), Expect::Error("symbolic link loop")));
    if !am_root() {
        let locked = input.join("locked.wav");
        std::fs::write(&locked, good_wav()).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        expected.push((locked, Expect::Error("permission denied")));
    }
    let fifo = dir.path().join("pipe.wav");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    let fifo = matches!(made, Ok(s) if s.success()).then_some(fifo);
    if let Some(f) = &fifo {
        expected.push((f.clone(), Expect::Error("not a regular file")));
    }
    let out = dir.path().join("out");
    let run = Command::cargo_bin("agentvoice")
        .unwrap()
        .arg("analyze")
        .arg(&input)
        .arg(input.join("good_a.wav"))
        .args(&fifo)
        .arg("-o")
        .arg(&out)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let text = std::fs::read_to_string(out.join("calls.jsonl")).unwrap();
    let reports: Vec<CallReport> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (path, expect) in &expected {
        let name = path.display().to_string();
        let matching: Vec<&CallReport> = reports.iter().filter(|r| r.file == name).collect();
        assert_eq!(matching.len(), 1, "{name}: {} lines", matching.len());
        check(matching[0], *expect);
        let lines: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with(&format!("agentvoice: {name}: ")))
            .collect();
        match expect {
            Expect::Error(text) => {
                assert_eq!(lines.len(), 1, "{name}: {stderr}");
                assert!(lines[0].contains(text), "{}", lines[0]);
            }
            Expect::Warning(_) => assert!(lines.is_empty(), "{name}: {lines:?}"),
        }
    }
    for good in ["good_a.wav", "good_b.wav", "sub/good_c.wav"] {
        let name = input.join(good).display().to_string();
        let r: Vec<&CallReport> = reports.iter().filter(|r| r.file == name).collect();
        assert_eq!(r.len(), 1, "{name}");
        assert_eq!(r[0].error, None);
        assert!(!r[0].speech.as_ref().unwrap().segments.is_empty(), "{name}");
    }
    // Each recording once, however the loop is walked, though good_a.wav is named twice.
    let mut files: Vec<&str> = reports.iter().map(|r| r.file.as_str()).collect();
    let n = files.len();
    files.sort();
    files.dedup();
    assert_eq!(files.len(), n);
    let csv = std::fs::read_to_string(out.join("calls.csv")).unwrap();
    assert_eq!(csv.lines().count(), reports.len() + 1);
}

/// A header claiming gigabytes must not be allocated: the run completes under a 1 GB
/// address-space limit (without the RIFF walk, symphonia allocates a 4 GB LIST chunk).
#[test]
#[cfg(target_os = "linux")]
fn gigabyte_claims_run_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let speech = pcm16(&speechy(2.0, RATE));
    let data = dir.path().join("data_claim.wav");
    let list = dir.path().join("list_claim.wav");
    std::fs::write(
        &data,
        wav(Fmt::pcm16(1, RATE), None, &speech, Some(0xFFFF_FFF0)),
    )
    .unwrap();
    std::fs::write(
        &list,
        wav(
            Fmt::pcm16(1, RATE),
            Some((b"LIST", 0xFFFF_FF00)),
            &speech,
            None,
        ),
    )
    .unwrap();
    let bin = assert_cmd::cargo::cargo_bin("agentvoice");
    let script = format!(
        "ulimit -v 1000000 && exec '{}' analyze --jobs 1 --json -o '{}' '{}' '{}'",
        bin.display(),
        dir.path().join("out").display(),
        data.display(),
        list.display()
    );
    let run = std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let reports: Vec<CallReport> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0].duration_s, Some(2.0));
    assert!(reports[1]
        .error
        .as_deref()
        .unwrap()
        .contains("'LIST' chunk claims"));
}

/// Config errors: one line naming the key and what is allowed.
#[test]
fn config_errors_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let audio = dir.path().join("a.wav");
    std::fs::write(&audio, good_wav()).unwrap();
    let cases = [
        (
            "[silence]\ngap_limt_s = 3.0\n",
            vec!["gap_limt_s", "gap_limit_s"],
        ),
        (
            "[silence]\ngap_limit_s = \"two\"\n",
            vec!["silence.gap_limit_s", "expected a number"],
        ),
        (
            "[silence]\ngap_limit_s = -1\n",
            vec!["silence.gap_limit_s", "allowed 0.1 to 3600"],
        ),
        (
            "[silence]\ngap_limit_s = -1.0\n",
            vec!["silence.gap_limit_s", "allowed 0.1 to 3600"],
        ),
        ("[loudnes]\nmin_dbov = -30.0\n", vec!["loudnes", "loudness"]),
        (
            "[rate]\nmin_spm = 150.0\n",
            vec!["rate.min_spm", "rate.max_spm"],
        ),
        ("this is = not toml [", vec!["config"]),
    ];
    for (toml, wanted) in cases {
        let config = dir.path().join("bad.toml");
        std::fs::write(&config, toml).unwrap();
        let run = Command::cargo_bin("agentvoice")
            .unwrap()
            .arg("analyze")
            .arg(&audio)
            .arg("--config")
            .arg(&config)
            .arg("-o")
            .arg(dir.path().join("out"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{toml}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{toml}: {stderr}");
        assert!(stderr.starts_with("agentvoice: "), "{stderr}");
        for w in wanted {
            assert!(stderr.contains(w), "{toml}: {stderr:?} lacks {w:?}");
        }
        assert!(
            !dir.path().join("out").exists(),
            "nothing written on a config error"
        );
    }
}

/// Every input the fuzzer found a fault with (tests/data/fuzz-regressions/) goes through
/// decoding and analysis without a panic, and under a 1 GB address-space limit.
#[test]
fn fuzz_regressions_replay() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz-regressions");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let Ok(source) = agentvoice::audio::AudioSource::from_bytes(bytes, None) else {
            continue;
        };
        let Ok(report) = pipeline::analyze_source(source, &AnalysisOptions::default()) else {
            continue;
        };
        // Speech ends inside the recording (to the report's rounding).
        let duration_s = report.duration_s.unwrap_or(0.0);
        let agent = report.speech.iter().flat_map(|s| &s.segments);
        let customer = report.customer.iter().flat_map(|c| &c.speech.segments);
        for [start, end] in agent.chain(customer) {
            assert!(
                *start >= 0.0 && start <= end && *end <= duration_s + 0.01,
                "{}: segment {start}..{end} outside 0..{duration_s}",
                path.display()
            );
        }
    }
    if cfg!(target_os = "linux") {
        let bin = assert_cmd::cargo::cargo_bin("agentvoice");
        let out = tempfile::tempdir().unwrap();
        let run = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "ulimit -v 1000000 && exec '{}' analyze --jobs 1 -o '{}' \"$@\"",
                bin.display(),
                out.path().display()
            ))
            .arg("sh")
            .args(&files)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(matches!(run.status.code(), Some(0 | 1)), "{stderr}");
        assert!(!stderr.contains("internal error"), "{stderr}");
    }
}
