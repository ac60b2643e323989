//! From paths to results: finding the recordings, decoding and analysing each one.

use std::path::{Path, PathBuf};

use crate::analyzer::Analyzer;
use crate::audio::{AgentChannel, AudioSource, Layout, MonoRole};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::report::model::{CallReport, SourceInfo};

/// File extensions picked up when a folder is searched.
pub const AUDIO_EXTENSIONS: &[&str] = &["wav", "wave", "flac", "mp3"];

/// How one analysis run reads its recordings.
#[derive(Debug, Clone, Default)]
pub struct AnalysisOptions {
    /// Thresholds and targets.
    pub config: Config,
    /// Which stereo channel is the agent.
    pub agent_channel: AgentChannel,
    /// What a mono recording holds.
    pub mono: MonoRole,
}

/// A path that could not be searched, with the reason.
#[derive(Debug)]
pub struct InputProblem {
    /// The path.
    pub path: PathBuf,
    /// What went wrong, one line.
    pub reason: String,
}

/// Expands files and folders into recordings: folders recursively, in a deterministic
/// (sorted) order, following symbolic links but never around a loop; each path once.
pub fn collect_inputs(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<InputProblem>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => {
                problems.push(InputProblem {
                    path: path.clone(),
                    reason: io_reason(&e),
                });
                continue;
            }
        };
        if !meta.is_dir() {
            files.push(path.clone());
            continue;
        }
        let walker = walkdir::WalkDir::new(path)
            .follow_links(true)
            .sort_by_file_name();
        for entry in walker {
            match entry {
                Ok(e) if e.file_type().is_file() && has_audio_extension(e.path()) => {
                    files.push(e.into_path())
                }
                Ok(_) => {}
                Err(e) => {
                    let p = e
                        .path()
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|| path.clone());
                    let reason = if e.loop_ancestor().is_some() {
                        "symbolic link loop, skipped".to_string()
                    } else if let Some(io) = e.io_error() {
                        io_reason(io)
                    } else {
                        e.to_string()
                    };
                    problems.push(InputProblem { path: p, reason });
                }
            }
        }
    }
    // A recording named twice (a file and its folder, or the same path given again) is
    // analysed once, where it first appears.
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(f.clone()));
    (files, problems)
}

/// True when the path ends in one of [`AUDIO_EXTENSIONS`] (any case).
pub fn has_audio_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.iter().any(|a| a.eq_ignore_ascii_case(e)))
}

/// A lowercase one-line reason for an I/O error.
pub fn io_reason(e: &std::io::Error) -> String {
    crate::error::io_reason(e)
}

/// The agent's name from the path: the parent folder's name.
pub fn agent_from_path(path: &Path) -> Option<String> {
    path.parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .filter(|n| !n.is_empty() && *n != "." && *n != "..")
        .map(str::to_string)
}

/// The text of a caught panic.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// A fingerprint of everything that shapes a result: the settings, the channel roles and
/// this program's version (FNV-1a, 64 bits, hex).
pub fn settings_fingerprint(options: &AnalysisOptions) -> String {
    let text = format!(
        "{}|{:?}|{:?}|{}",
        toml::to_string(&options.config).unwrap_or_default(),
        options.agent_channel,
        options.mono,
        env!("CARGO_PKG_VERSION")
    );
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// Size and modification time of a file.
pub fn source_info(path: &Path) -> Option<SourceInfo> {
    let meta = std::fs::metadata(path).ok()?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos());
    Some(SourceInfo {
        size_bytes: meta.len(),
        modified_unix_ns: modified,
    })
}

/// Decodes and analyses one recording with the streaming analyzer.
pub fn analyze_source(mut source: AudioSource, options: &AnalysisOptions) -> Result<CallReport> {
    let spec = source.spec();
    let layout = Layout::for_channels(spec.channels, options.agent_channel, options.mono);
    let mut analyzer = Analyzer::new(&options.config, spec.sample_rate, spec.channels, layout);
    let mut any = false;
    let mut dc = DcMeter::new(spec.channels);
    while let Some(block) = source.next_block()? {
        any |= !block.is_empty();
        dc.push(block);
        analyzer.push_interleaved(block);
    }
    if !any {
        return Err(Error::NoSamples);
    }
    let mut report = analyzer.finish();
    report.warnings.extend(dc.warnings());
    report.codec = Some(source.codec_name().to_string());
    if let Some(w) = source.truncation_warning() {
        report.warnings.push(w);
    }
    if source.corrupt_samples() > 0 {
        report.warnings.push(format!(
            "{} samples were more than 60 dB over full scale (corrupt data) and were read as silence",
            source.corrupt_samples()
        ));
    }
    if source.bad_packets() > 0 {
        report.warnings.push(format!(
            "{} undecodable packets skipped",
            source.bad_packets()
        ));
    }
    Ok(report)
}

/// A mean (DC) offset this large, full scale = 1, is a recorder fault worth naming (-40 dBFS).
const DC_OFFSET_WARNING: f64 = 0.01;

/// Partial sums [`DcMeter`] keeps per block.
const DC_LANES: usize = 8;

/// The mean of each channel, to name a DC offset (a recorder fault).
struct DcMeter {
    sums: Vec<f64>,
    frames: u64,
}

impl DcMeter {
    fn new(channels: usize) -> DcMeter {
        DcMeter {
            sums: vec![0.0; channels.max(1)],
            frames: 0,
        }
    }

    fn push(&mut self, block: &[f32]) {
        let channels = self.sums.len();
        if DC_LANES.is_multiple_of(channels) {
            // Independent partial sums per lane (lane l holds channel l % channels), so the
            // loop vectorises; a block's partial sums are small enough for f32.
            let mut lanes = [0.0f32; DC_LANES];
            let whole = block.len() / DC_LANES * DC_LANES;
            for chunk in block[..whole].chunks_exact(DC_LANES) {
                for (lane, &s) in lanes.iter_mut().zip(chunk) {
                    *lane += if s.is_finite() { s } else { 0.0 };
                }
            }
            for (l, lane) in lanes.iter().enumerate() {
                self.sums[l % channels] += f64::from(*lane);
            }
            self.add_serially(&block[whole..]);
        } else {
            self.add_serially(block);
        }
        self.frames += (block.len() / channels) as u64;
    }

    fn add_serially(&mut self, samples: &[f32]) {
        for frame in samples.chunks_exact(self.sums.len()) {
            for (sum, &s) in self.sums.iter_mut().zip(frame) {
                if s.is_finite() {
                    *sum += f64::from(s);
                }
            }
        }
    }

    fn warnings(&self) -> Vec<String> {
        if self.frames == 0 {
            return Vec::new();
        }
        self.sums
            .iter()
            .enumerate()
            .map(|(ch, sum)| (ch, sum / self.frames as f64))
            .filter(|(_, mean)| mean.abs() >= DC_OFFSET_WARNING)
            .map(|(ch, mean)| {
                format!(
                    "DC offset of {mean:.3} (full scale 1) on channel {}: a recorder fault (removed before the active speech level is measured)",
                    ch + 1
                )
            })
            .collect()
    }
}

/// Analyses one file; never fails: a file that cannot be analysed gets a report whose
/// `error` says why.
///
/// A panic inside the decoder or the analysis is caught and becomes an `error` too (a
/// safety net: every panic found is also fixed where it starts).
pub fn analyze_file(path: &Path, options: &AnalysisOptions) -> CallReport {
    let run = || AudioSource::open(path).and_then(|s| analyze_source(s, options));
    let result = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(r) => r,
        Err(payload) => Err(Error::Internal(panic_message(payload.as_ref()))),
    };
    let mut report = match result {
        Ok(r) => r,
        Err(e) => CallReport {
            error: Some(e.to_string()),
            ..CallReport::default()
        },
    };
    crate::transcript::attach_exact(&mut report, path);
    if report
        .rate
        .as_ref()
        .is_some_and(|r| r.exact_speaking_rate_spm.is_some())
    {
        // The speaking-rate rule is judged on the exact rate when there is a transcript.
        crate::report::agents::rejudge(&mut report, &options.config);
    }
    report.file = path.display().to_string();
    report.agent = agent_from_path(path);
    report.source = source_info(path);
    report.settings_fingerprint = Some(settings_fingerprint(options));
    report
}
