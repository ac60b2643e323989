//! The per-call result: what `calls.jsonl` holds, one object per recording.
//!
//! Times are seconds from the start of the recording, rates syllables per minute, levels
//! LUFS, dBTP and dBov. A value that cannot be measured is `null`, never NaN or infinity.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::loudness::LoudnessReport;
pub use crate::pitch::PitchReport;

/// Everything measured about one recording (or why it could not be measured).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallReport {
    /// The recording's path as given.
    pub file: String,
    /// The agent's name (by default the parent folder's name).
    pub agent: Option<String>,
    /// The call's date, `YYYY-MM-DD`, when known.
    pub date: Option<String>,
    /// Length of the recording, seconds.
    pub duration_s: Option<f64>,
    /// Samples per second.
    pub sample_rate: Option<u32>,
    /// Channels in the file.
    pub channels: Option<usize>,
    /// `agent_only`, `mixed_mono` or `stereo`.
    pub layout: Option<String>,
    /// The codec (`pcm_s16le`, `pcm_mulaw`, `flac`, `mp3`, ...).
    pub codec: Option<String>,
    /// Integrated loudness of the whole file, all channels with weight 1.0, LUFS.
    pub file_integrated_lufs: Option<f64>,
    /// The agent's loudness (on mixed mono: of the mix).
    pub loudness: Option<LoudnessReport>,
    /// The agent's speech (on mixed mono: all speech).
    pub speech: Option<SpeechReport>,
    /// The agent's syllable rate (on mixed mono: all speech).
    pub rate: Option<RateReport>,
    /// The agent's pitch (on mixed mono: all speech).
    pub pitch: Option<PitchReport>,
    /// Silences in which nobody speaks, and the greeting.
    pub silence: Option<SilenceReport>,
    /// The customer's measurements (two-channel files only).
    pub customer: Option<PartyReport>,
    /// Turn-taking between the two parties (two-channel files only).
    pub interaction: Option<InteractionReport>,
    /// Every rule of the standard: value, limit, pass.
    pub checks: Option<BTreeMap<String, Check>>,
    /// Level and short-term loudness once a second, per party, for timeline plots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<TimelineReport>,
    /// The call's identifier from the agent manifest, when it gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    /// Things worth knowing that did not stop the analysis.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Size and modification time of the file when analysed (to skip it next time).
    pub source: Option<SourceInfo>,
    /// Fingerprint of the settings the file was analysed with (a rerun with other settings
    /// analyses it again).
    #[serde(default)]
    pub settings_fingerprint: Option<String>,
    /// `null`, or why the file could not be analysed.
    pub error: Option<String>,
}

impl CallReport {
    /// The rules this call failed (`checks.<rule>.pass == false`), in key order.
    pub fn failed_rules(&self) -> Vec<&str> {
        self.checks
            .iter()
            .flatten()
            .filter(|(_, c)| c.pass == Some(false))
            .map(|(k, _)| k.as_str())
            .collect()
    }
}

/// Identity of an analysed file, for incremental runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// File size, bytes.
    pub size_bytes: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub modified_unix_ns: Option<u128>,
}

/// One party's measurements.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PartyReport {
    /// Loudness.
    pub loudness: LoudnessReport,
    /// Speech segments.
    pub speech: SpeechReport,
    /// Syllable rate.
    pub rate: RateReport,
    /// Pitch.
    pub pitch: PitchReport,
}

/// Voice activity of one party.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SpeechReport {
    /// Speech segments, `[[start_s, end_s], ...]`.
    pub segments: Vec<[f64; 2]>,
    /// Time inside segments (short pauses included), seconds.
    pub talk_time_s: f64,
    /// Time actually sounding inside segments, seconds.
    pub phonation_time_s: f64,
    /// Start of the first segment, seconds.
    pub first_onset_s: Option<f64>,
    /// End of the last segment, seconds.
    pub last_offset_s: Option<f64>,
    /// Share of the recording in which background voices (babble) were heard on this
    /// party's line (0..1); `None` when none were.
    #[serde(default)]
    pub background_voices_share: Option<f64>,
    /// This party's speech level over the background voices' typical level, dB; `None`
    /// when no background voices were heard.
    #[serde(default)]
    pub speech_over_background_voices_db: Option<f64>,
}

/// Syllable count and rates of one party.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RateReport {
    /// Estimated syllables (Chinese characters).
    pub syllables: Option<u64>,
    /// Syllables per minute of talk time (short pauses included).
    pub speaking_rate_spm: Option<f64>,
    /// Syllables per minute of phonation time.
    pub articulation_rate_spm: Option<f64>,
    /// Syllables per minute of the whole recording.
    pub overall_rate_spm: Option<f64>,
    /// Rolling speaking rate, `[[time_s, spm or null], ...]` once a second.
    #[serde(default)]
    pub timeline: Vec<(f64, Option<f64>)>,
    /// Syllables counted from the transcript beside the recording (`null` without one).
    #[serde(default)]
    pub exact_syllables: Option<u64>,
    /// Transcript syllables per minute of talk time (`null` without a transcript).
    #[serde(default)]
    pub exact_speaking_rate_spm: Option<f64>,
}

/// Silences and the greeting.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SilenceReport {
    /// Every gap between speech in which nobody speaks, `[[start_s, end_s], ...]`.
    pub gaps: Vec<[f64; 2]>,
    /// Gaps at least the gap limit long (dead air).
    pub long_gaps: Vec<[f64; 2]>,
    /// The longest gap, seconds (0 when there is none).
    pub longest_gap_s: f64,
    /// Total dead air, seconds.
    pub dead_air_s: f64,
    /// From the start of the recording to the agent's first speech, seconds.
    pub greeting_latency_s: Option<f64>,
    /// Background voices (babble) lay within `silence.background_voices_flag_db` of the
    /// agent's speech over at least `silence.background_voices_flag_share` of the call:
    /// the gaps' and the greeting's boundaries are less certain than on other calls.
    #[serde(default)]
    pub background_voices_flag: bool,
}

/// Turn-taking between agent and customer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InteractionReport {
    /// For each customer turn the agent answered: agent onset minus customer end, seconds.
    pub response_latencies_s: Vec<f64>,
    /// Spans in which both spoke, `[[start_s, end_s], ...]`.
    pub overtalk: Vec<[f64; 2]>,
    /// Who was speaking first in each overtalk span (`agent` or `customer`).
    pub overtalk_started_by: Vec<crate::conversation::Party>,
    /// Total overtalk, seconds.
    pub overtalk_s: f64,
    /// Overtalk spans in which the agent talked over the customer.
    pub agent_interruptions: usize,
    /// The agent's share of all talk time (0..1).
    pub agent_talk_share: Option<f64>,
}

/// Coarse per-second traces of a call, for timeline plots.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimelineReport {
    /// Step between values, seconds; value `i` covers `[i * step_s, (i + 1) * step_s)` (the
    /// last step may be shorter).
    pub step_s: f64,
    /// The agent (on mixed mono: the mix).
    pub agent: PartyTimeline,
    /// The customer (two-channel files only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<PartyTimeline>,
}

/// One party's per-step traces; `null` where there was digital silence or too little audio.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PartyTimeline {
    /// RMS level of each step, dBFS, rounded to 0.1 dB.
    pub level_dbfs: Vec<Option<f64>>,
    /// Short-term loudness (3 s window) at the end of each step, LUFS, rounded to 0.1 LU;
    /// `null` below the -70 LUFS absolute gate.
    pub short_term_lufs: Vec<Option<f64>>,
}

/// One rule of the standard, checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// The measured value (units as the rule's key says).
    pub value: Option<f64>,
    /// The limit: a number (a maximum or minimum) or `[low, high]`.
    pub limit: serde_json::Value,
    /// `true` pass, `false` fail, `null` when not measurable or report-only.
    pub pass: Option<bool>,
}

/// Rounds to a millisecond (times) or a thousandth (levels) for compact output.
pub fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// Rounds an optional value and drops non-finite ones.
pub fn round3_opt(value: Option<f64>) -> Option<f64> {
    value.filter(|v| v.is_finite()).map(round3)
}
