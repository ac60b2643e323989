//! Thresholds and targets, with defaults from the house standard (`STANDARD.md`).
//!
//! Every number that decides a pass or a fail, or shapes a measurement, is a setting. A TOML
//! file given with `--config` overrides any subset; `agentvoice config` prints the defaults.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// All settings of an analysis.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Speaking-rate target (rule 1).
    pub rate: RateConfig,
    /// Greeting, dead air and response rules (rules 2 and 3).
    pub silence: SilenceConfig,
    /// Loudness band (rule 4).
    pub loudness: LoudnessConfig,
    /// Pitch and intonation (rules 5 and 6).
    pub pitch: PitchConfig,
    /// Voice activity detection.
    pub vad: VadConfig,
    /// Overtalk (rule 7).
    pub overtalk: OvertalkConfig,
}

/// Speaking-rate target, in syllables (Chinese characters) per minute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateConfig {
    /// The target rate, syllables per minute.
    pub target_spm: f64,
    /// Lowest rate that passes, syllables per minute.
    pub min_spm: f64,
    /// Highest rate that passes, syllables per minute.
    pub max_spm: f64,
    /// Window of the rolling rate timeline, seconds.
    pub timeline_window_s: f64,
}

/// Silence rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SilenceConfig {
    /// A gap at least this long in which nobody speaks is dead air, seconds.
    pub gap_limit_s: f64,
    /// The agent must start speaking within this time of the call's start, seconds.
    pub greeting_limit_s: f64,
    /// The agent should answer the customer within this time, seconds.
    pub response_limit_s: f64,
    /// A call is flagged (`silence.background_voices_flag`, and a warning) when background
    /// voices (babble) lie within this of the agent's speech level, dB: there a soft last
    /// syllable sinks under their swells, so gap and greeting boundaries are less certain.
    pub background_voices_flag_db: f64,
    /// ... over at least this share of the call (0..1).
    pub background_voices_flag_share: f64,
}

/// Loudness band of the agent's speech.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoudnessConfig {
    /// Lowest active speech level that passes, dBov (ITU-T P.56).
    pub min_dbov: f64,
    /// Highest active speech level that passes, dBov.
    pub max_dbov: f64,
    /// Highest share of clipped samples that passes (0..1).
    pub max_clipped_ratio: f64,
    /// A sample at or above this magnitude (full scale = 1.0) counts as clipped.
    pub clip_level: f64,
}

/// Pitch range and intonation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PitchConfig {
    /// Lowest F0 searched, Hz.
    pub min_hz: f64,
    /// Highest F0 searched, Hz.
    pub max_hz: f64,
    /// A call whose F0 spread (10th to 90th percentile) is below this sounds monotone, semitones.
    pub min_spread_semitones: f64,
}

/// Voice activity detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VadConfig {
    /// Speech must rise this far above the tracked noise floor, dB.
    pub snr_threshold_db: f64,
    /// Frames quieter than the speaker's own level by more than this are not theirs, dB.
    pub speaker_range_db: f64,
    /// Speech shorter than this is dropped, seconds.
    pub min_speech_s: f64,
    /// Pauses shorter than this inside speech are bridged, seconds.
    pub hangover_s: f64,
    /// Speech onsets are moved this much earlier, seconds.
    pub pad_s: f64,
    /// Speech ends are moved this much later (utterances fade out below the floor), seconds.
    pub pad_end_s: f64,
    /// Window of the centred power average that decides core speech, seconds.
    pub smooth_s: f64,
    /// How far back (plus the look-ahead) the noise floor's minimum looks, seconds.
    pub floor_window_s: f64,
    /// How far back the speaker's level (the maximum) looks, seconds.
    pub level_window_s: f64,
    /// A segment's edges extend over frames this far above the noise floor, dB.
    pub edge_db: f64,
    /// Edges are searched at most this far from the core speech, seconds.
    pub edge_search_s: f64,
    /// The edge search steps over dips in energy up to this long, seconds.
    pub edge_dip_s: f64,
    /// Past a segment's last edge-level frame, a frame over the edge threshold extends the
    /// end only if a neighbouring frame lies within this of the threshold: a lone click in
    /// the silence after the sound does not, dB.
    pub edge_click_range_db: f64,
    /// Frames more than this below the speaker's level never extend an edge, dB.
    pub edge_range_db: f64,
    /// Window over which the noise's spread (babble or steady) is judged, seconds.
    pub babble_window_s: f64,
    /// Spread of the raw frames below the smoothed floor, dB: at the first value the noise
    /// counts as steady, at the second as babble (in between, a blend).
    pub babble_spread_db: [f64; 2],
    /// Mean dip of the frames near the floor below their smoothed level over the babble
    /// window, dB: at the first value the noise counts as steady, at the second as babble
    /// (the larger of this and the spread's verdict holds). Steady noise dips under 1 dB,
    /// babble 2-4 dB, from the first seconds of a call on.
    pub babble_dip_db: [f64; 2],
    /// Babble mode holds this long after the spread last showed babble (a moment when
    /// every background talker pauses does not end it; such a moment stays in the spread's
    /// window for `babble_window_s` plus the look-ahead, so hold at least that), seconds.
    pub babble_hold_s: f64,
    /// Speech ends are moved this much later again in babble, where an utterance's fading
    /// tail sinks under the background voices before it ends, seconds.
    pub babble_pad_end_s: f64,
    /// `speaker_range_db` in babble, dB.
    pub babble_range_db: f64,
    /// In babble, a segment must somewhere come within this of the speaker's level, or it
    /// is a swell of the background voices, dB.
    pub babble_segment_range_db: f64,
    /// In babble, a segment that somewhere rises this far above the background voices'
    /// typical level (the median that `babble_noise_bar_db` also starts from) is speech,
    /// however far under the speaker's level: a quieter second talker on a mixed line over
    /// faint babble, dB.
    pub babble_segment_over_noise_db: f64,
    /// In babble, a segment's core frames must on average stand this far over the
    /// background voices' typical level for it to set the party's speech level (which
    /// sets the line offset between the two parties), dB.
    pub babble_speech_level_over_noise_db: f64,
    /// In babble, a segment shorter than this (pads included)...
    pub babble_short_segment_s: f64,
    /// ...is dropped when its core frames stand on average less than this over the
    /// background voices' typical level (a swell of them), dB...
    pub babble_short_segment_over_noise_db: f64,
    /// ...and none comes within this of the speaker's level, dB.
    pub babble_short_segment_range_db: f64,
    /// On two channels in babble, a segment whose core frames' band energy lies on average
    /// less than this from its smoothed level is dropped: a talker's syllables swing the
    /// level, a swell of many background voices hardly does (0: never), dB.
    pub babble_segment_swing_db: f64,
    /// On one channel in babble, a segment already open that came near the speaker's level
    /// goes on over frames whose smoothed level stands this far over the background voices'
    /// median and within `edge_range_db` of the speaker's level, however far under that
    /// level: a soft passage after loud speech (200: never), dB.
    pub babble_open_over_noise_db: f64,
    /// In babble, core frames that never came near the speaker's level and then pause
    /// longer than this are a swell of the background voices, not the start of the speech
    /// after the pause, seconds.
    pub babble_onset_pause_s: f64,
    /// In babble, a segment's end also extends over frames whose smoothed level stays this
    /// far above the lower quartile of the background voices' levels (the frames whose
    /// median `babble_noise_bar_db` starts from): a soft last phrase under the babble range
    /// of the speaker's level, yet steady above the babble, is still the speaker's, dB.
    pub babble_tail_over_noise_db: f64,
    /// On steady noise, a segment's end also extends over frames whose smoothed level stays
    /// this far above the noise floor (and within `edge_range_db` of the speaker's level): a
    /// soft last syllable under the edge threshold, yet clear of a noise whose smoothed
    /// level barely moves, is still speech, dB.
    pub steady_tail_over_floor_db: f64,
    /// The speaker-level criterion never puts the threshold more than this above the noise
    /// floor (faint babble needs no more), until the background voices' median is known
    /// (then `babble_noise_cap_db` over that median caps it instead), dB.
    pub babble_cap_db: f64,
    /// In babble, the speaker-level criterion never puts the threshold more than this above
    /// the median smoothed level of the frames not taken for speech over `babble_window_s`
    /// (the background voices' typical level): a soft phrase well above the babble stays
    /// speech however far it lies under the speaker's loudest, dB.
    pub babble_noise_cap_db: f64,
    /// In babble, core speech lies more than this above that same median level of the
    /// background voices: their swells, in loud babble, come within the speaker-level
    /// range but stay under this bar, dB.
    pub babble_noise_bar_db: f64,
    /// On two channels, each party is expected to speak within this of the other's level:
    /// background voices far below it on a silent party's channel are not that party, dB.
    pub other_party_range_db: f64,
    /// On two channels, a frame whose smoothed level lies more than this below the other
    /// channel's at the same moment is not core speech: a leak of the other party
    /// (crosstalk, at any small delay) or background voices under the other's speech. A
    /// party talking over the other speaks within a few dB of them, dB.
    pub leak_range_db: f64,
    /// `leak_range_db` compares with the other party's highest smoothed level within this
    /// time of the frame, seconds.
    pub leak_window_s: f64,
    /// A segment's edges do not extend over frames more than this below the other party's
    /// smoothed level at the same moment (a leak running on after this party stopped; a
    /// real talker's fading edge sits closer), dB.
    pub leak_edge_range_db: f64,
    /// On two channels, a core frame more than this below the other party's highest
    /// smoothed level within `leak_window_s` lies under the other's speech, dB (after
    /// `line_offset_max_db`'s correction for lines of different levels).
    pub segment_leak_range_db: f64,
    /// On two channels, a segment with more than this share of its core frames under the
    /// other's speech (`segment_leak_range_db`) is dropped: background voices under the
    /// other party's speech stay under it, while a party talking over the other comes
    /// close or goes on alone (1 keeps every segment).
    pub segment_leak_share: f64,
    /// On two channels on steady noise (no sign of babble), inside a segment already open,
    /// the leak rules (`leak_range_db`, `segment_leak_share`) hold only while the line's
    /// level, over its frames far under the other party's speech, moves with the other's
    /// level by at least this correlation (-1..1): a leak is a copy of the other channel and
    /// follows it, while the line's own soft words under a customer who talks over them do
    /// not. In babble they always hold (-1: on every line).
    pub leak_level_correlation_min: f64,
    /// The leak rules hold on every line until this much of it has lain far under the other
    /// party's speech (enough to measure the correlation; quiet frames count from the
    /// look-ahead, as they arrive), seconds.
    pub leak_evidence_s: f64,
    /// On two channels, the leak and under-the-other rules compare the lines' levels after
    /// removing the difference of the two parties' speech levels (a customer line quieter
    /// than the agent's headset), measured on the segments each has spoken, up to this
    /// much, dB (0: compare the raw levels).
    pub line_offset_max_db: f64,
    /// How far ahead the detector looks before deciding a frame (floor and level see
    /// this far into the future; decisions lag the audio by this much), seconds. Live
    /// views use a short one (`live::DECISION_LAG_S`); files gain from a long one (a
    /// greeting in babble is told from the babble by the agent's level, heard later).
    pub lookahead_s: f64,
}

impl VadConfig {
    /// Allowed range of each setting: (key, value, lowest, highest).
    fn ranges(&self) -> [(&'static str, f64, f64, f64); 41] {
        [
            (
                "vad.line_offset_max_db",
                self.line_offset_max_db,
                0.0,
                200.0,
            ),
            (
                "vad.babble_noise_bar_db",
                self.babble_noise_bar_db,
                -200.0,
                200.0,
            ),
            (
                "vad.babble_noise_cap_db",
                self.babble_noise_cap_db,
                0.0,
                200.0,
            ),
            (
                "vad.segment_leak_range_db",
                self.segment_leak_range_db,
                0.0,
                200.0,
            ),
            ("vad.segment_leak_share", self.segment_leak_share, 0.0, 1.0),
            (
                "vad.leak_level_correlation_min",
                self.leak_level_correlation_min,
                -1.0,
                1.0,
            ),
            ("vad.leak_evidence_s", self.leak_evidence_s, 0.0, 3600.0),
            (
                "vad.leak_edge_range_db",
                self.leak_edge_range_db,
                0.0,
                200.0,
            ),
            ("vad.leak_window_s", self.leak_window_s, 0.0, 0.6),
            ("vad.leak_range_db", self.leak_range_db, 0.0, 200.0),
            ("vad.babble_hold_s", self.babble_hold_s, 0.0, 600.0),
            ("vad.babble_pad_end_s", self.babble_pad_end_s, 0.0, 1.0),
            ("vad.pad_end_s", self.pad_end_s, 0.0, 1.0),
            ("vad.smooth_s", self.smooth_s, 0.0, 1.0),
            ("vad.floor_window_s", self.floor_window_s, 0.1, 60.0),
            ("vad.level_window_s", self.level_window_s, 0.1, 600.0),
            ("vad.edge_db", self.edge_db, 0.0, 60.0),
            ("vad.edge_search_s", self.edge_search_s, 0.0, 0.6),
            ("vad.edge_dip_s", self.edge_dip_s, 0.0, 0.6),
            (
                "vad.edge_click_range_db",
                self.edge_click_range_db,
                0.0,
                200.0,
            ),
            (
                "vad.babble_onset_pause_s",
                self.babble_onset_pause_s,
                0.0,
                60.0,
            ),
            ("vad.edge_range_db", self.edge_range_db, 0.0, 120.0),
            ("vad.lookahead_s", self.lookahead_s, 0.0, 10.0),
            ("vad.babble_window_s", self.babble_window_s, 0.1, 600.0),
            (
                "vad.babble_spread_db[0]",
                self.babble_spread_db[0],
                0.0,
                60.0,
            ),
            ("vad.babble_range_db", self.babble_range_db, 1.0, 120.0),
            (
                "vad.babble_segment_range_db",
                self.babble_segment_range_db,
                0.0,
                120.0,
            ),
            (
                "vad.babble_short_segment_over_noise_db",
                self.babble_short_segment_over_noise_db,
                0.0,
                200.0,
            ),
            (
                "vad.babble_short_segment_range_db",
                self.babble_short_segment_range_db,
                0.0,
                200.0,
            ),
            (
                "vad.babble_segment_swing_db",
                self.babble_segment_swing_db,
                0.0,
                60.0,
            ),
            (
                "vad.babble_open_over_noise_db",
                self.babble_open_over_noise_db,
                0.0,
                200.0,
            ),
            (
                "vad.babble_short_segment_s",
                self.babble_short_segment_s,
                0.0,
                60.0,
            ),
            (
                "vad.babble_speech_level_over_noise_db",
                self.babble_speech_level_over_noise_db,
                0.0,
                200.0,
            ),
            (
                "vad.babble_segment_over_noise_db",
                self.babble_segment_over_noise_db,
                0.0,
                200.0,
            ),
            (
                "vad.babble_tail_over_noise_db",
                self.babble_tail_over_noise_db,
                0.0,
                200.0,
            ),
            (
                "vad.steady_tail_over_floor_db",
                self.steady_tail_over_floor_db,
                0.0,
                200.0,
            ),
            ("vad.babble_cap_db", self.babble_cap_db, 0.0, 120.0),
            (
                "vad.other_party_range_db",
                self.other_party_range_db,
                0.0,
                120.0,
            ),
            (
                "vad.babble_spread_db[1]",
                self.babble_spread_db[1],
                self.babble_spread_db[0] + 0.1,
                60.0,
            ),
            ("vad.babble_dip_db[0]", self.babble_dip_db[0], 0.0, 30.0),
            (
                "vad.babble_dip_db[1]",
                self.babble_dip_db[1],
                self.babble_dip_db[0] + 0.1,
                30.0,
            ),
        ]
    }
}

/// Overtalk (both parties speaking at once).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OvertalkConfig {
    /// Overlaps shorter than this are not counted, seconds.
    pub min_s: f64,
    /// Highest share of the agent's talk time spent talking over the customer that passes.
    pub max_share: f64,
}

impl Default for RateConfig {
    fn default() -> Self {
        RateConfig {
            target_spm: 120.0,
            min_spm: 100.0,
            max_spm: 140.0,
            timeline_window_s: 10.0,
        }
    }
}

impl Default for SilenceConfig {
    fn default() -> Self {
        SilenceConfig {
            gap_limit_s: 2.0,
            greeting_limit_s: 2.0,
            response_limit_s: 2.0,
            background_voices_flag_db: 18.0,
            background_voices_flag_share: 0.5,
        }
    }
}

impl Default for LoudnessConfig {
    fn default() -> Self {
        LoudnessConfig {
            min_dbov: -32.0,
            max_dbov: -20.0,
            max_clipped_ratio: 0.001,
            clip_level: 0.999,
        }
    }
}

impl Default for PitchConfig {
    fn default() -> Self {
        PitchConfig {
            min_hz: 60.0,
            max_hz: 420.0,
            min_spread_semitones: 3.0,
        }
    }
}

impl Default for VadConfig {
    fn default() -> Self {
        VadConfig {
            snr_threshold_db: 4.0,
            speaker_range_db: 30.0,
            min_speech_s: 0.10,
            hangover_s: 0.6,
            pad_s: 0.03,
            pad_end_s: 0.15,
            smooth_s: 0.15,
            floor_window_s: 5.0,
            level_window_s: 10.0,
            edge_db: 5.0,
            edge_search_s: 0.5,
            edge_dip_s: 0.25,
            edge_click_range_db: 3.0,
            edge_range_db: 30.0,
            lookahead_s: 5.0,
            babble_window_s: 20.0,
            babble_spread_db: [4.5, 6.5],
            babble_dip_db: [1.4, 2.0],
            babble_hold_s: 30.0,
            babble_pad_end_s: 0.1,
            babble_range_db: 14.0,
            babble_segment_range_db: 12.0,
            babble_segment_over_noise_db: 20.0,
            babble_speech_level_over_noise_db: 9.0,
            babble_short_segment_s: 1.2,
            babble_segment_swing_db: 2.0,
            babble_open_over_noise_db: 8.0,
            babble_short_segment_over_noise_db: 8.0,
            babble_short_segment_range_db: 10.0,
            babble_onset_pause_s: 0.4,
            babble_tail_over_noise_db: 8.0,
            steady_tail_over_floor_db: 2.0,
            babble_cap_db: 30.0,
            babble_noise_cap_db: 14.0,
            babble_noise_bar_db: 6.0,
            other_party_range_db: 8.0,
            leak_range_db: 15.0,
            leak_window_s: 0.5,
            leak_edge_range_db: 20.0,
            segment_leak_range_db: 6.0,
            segment_leak_share: 0.8,
            leak_level_correlation_min: 0.3,
            leak_evidence_s: 1.0,
            line_offset_max_db: 15.0,
        }
    }
}

impl Default for OvertalkConfig {
    fn default() -> Self {
        OvertalkConfig {
            min_s: 0.0,
            max_share: 0.1,
        }
    }
}

impl Config {
    /// Reads a TOML file, keeping the defaults for every key it leaves out.
    pub fn from_toml_file(path: &std::path::Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        Config::from_toml_str(&text)
            .map_err(|e| Error::Config(format!("{}: {}", path.display(), config_reason(&e))))
    }

    /// Parses TOML text and checks every value's range.
    pub fn from_toml_str(text: &str) -> Result<Config> {
        let config: Config =
            toml::from_str(text).map_err(|e| Error::Config(toml_reason(&e, text)))?;
        config.validate()?;
        Ok(config)
    }

    /// The defaults as TOML, with the house standard's numbers.
    pub fn defaults_toml() -> String {
        toml::to_string_pretty(&Config::default()).unwrap_or_default()
    }

    /// Checks that every value is in its allowed range; names the first key that is not.
    pub fn validate(&self) -> Result<()> {
        let checks: [(&str, f64, f64, f64); 21] = [
            ("rate.target_spm", self.rate.target_spm, 1.0, 1000.0),
            ("rate.min_spm", self.rate.min_spm, 0.0, 1000.0),
            ("rate.max_spm", self.rate.max_spm, 0.0, 1000.0),
            (
                "rate.timeline_window_s",
                self.rate.timeline_window_s,
                1.0,
                600.0,
            ),
            ("silence.gap_limit_s", self.silence.gap_limit_s, 0.1, 3600.0),
            (
                "silence.greeting_limit_s",
                self.silence.greeting_limit_s,
                0.0,
                3600.0,
            ),
            (
                "silence.response_limit_s",
                self.silence.response_limit_s,
                0.0,
                3600.0,
            ),
            (
                "silence.background_voices_flag_db",
                self.silence.background_voices_flag_db,
                0.0,
                200.0,
            ),
            (
                "silence.background_voices_flag_share",
                self.silence.background_voices_flag_share,
                0.0,
                1.0,
            ),
            ("loudness.min_dbov", self.loudness.min_dbov, -120.0, 0.0),
            ("loudness.max_dbov", self.loudness.max_dbov, -120.0, 0.0),
            (
                "loudness.max_clipped_ratio",
                self.loudness.max_clipped_ratio,
                0.0,
                1.0,
            ),
            ("loudness.clip_level", self.loudness.clip_level, 0.01, 1.0),
            ("pitch.min_hz", self.pitch.min_hz, 30.0, 1000.0),
            ("pitch.max_hz", self.pitch.max_hz, 30.0, 1000.0),
            (
                "pitch.min_spread_semitones",
                self.pitch.min_spread_semitones,
                0.0,
                48.0,
            ),
            ("vad.snr_threshold_db", self.vad.snr_threshold_db, 0.0, 60.0),
            (
                "vad.speaker_range_db",
                self.vad.speaker_range_db,
                3.0,
                120.0,
            ),
            ("vad.min_speech_s", self.vad.min_speech_s, 0.0, 10.0),
            ("vad.hangover_s", self.vad.hangover_s, 0.0, 10.0),
            ("vad.pad_s", self.vad.pad_s, 0.0, 1.0),
        ];
        for (key, value, lo, hi) in checks.into_iter().chain(self.vad.ranges()) {
            if !(value.is_finite() && value >= lo && value <= hi) {
                return Err(Error::Config(format!(
                    "{key} = {} is out of range: allowed {lo} to {hi}",
                    shown(value)
                )));
            }
        }
        let pairs = [
            (
                "rate.min_spm",
                self.rate.min_spm,
                "rate.max_spm",
                self.rate.max_spm,
            ),
            (
                "loudness.min_dbov",
                self.loudness.min_dbov,
                "loudness.max_dbov",
                self.loudness.max_dbov,
            ),
            (
                "pitch.min_hz",
                self.pitch.min_hz,
                "pitch.max_hz",
                self.pitch.max_hz,
            ),
        ];
        for (lo_key, lo, hi_key, hi) in pairs {
            if lo >= hi {
                return Err(Error::Config(format!(
                    "{lo_key} ({lo}) must be below {hi_key} ({hi})"
                )));
            }
        }
        for (key, value) in [
            ("overtalk.min_s", self.overtalk.min_s),
            ("overtalk.max_share", self.overtalk.max_share),
        ] {
            if !(value.is_finite() && (0.0..=3600.0).contains(&value)) {
                return Err(Error::Config(format!(
                    "{key} = {} is out of range: allowed 0 to 3600",
                    shown(value)
                )));
            }
        }
        Ok(())
    }
}

fn config_reason(e: &Error) -> String {
    match e {
        Error::Config(m) => m.clone(),
        other => other.to_string(),
    }
}

/// A TOML error as one line that starts with the dotted key it is about (found from the
/// error's position: the `[table]` above it and the key on its line).
fn toml_reason(e: &toml::de::Error, text: &str) -> String {
    let message = e
        .message()
        .trim()
        .replace("expected f64", "expected a number")
        .replace("expected u64", "expected a whole number");
    let Some(span) = e.span() else {
        return one_line(&e.to_string());
    };
    let before = text.get(..span.start).unwrap_or(text);
    let line_no = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("").trim();
    let table = before[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    let key = match line.split_once('=') {
        Some((k, _)) => Some(k.trim().trim_matches('"').to_string()),
        None if line.starts_with('[') => Some(
            line.trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_string(),
        ),
        None => None,
    };
    let path = match (table, key) {
        (Some(t), Some(k)) if !line.starts_with('[') => format!("{t}.{k}"),
        (_, Some(k)) => k,
        (Some(t), None) => t,
        (None, None) => return format!("{} (line {line_no})", one_line(&message)),
    };
    format!("{path}: {} (line {line_no})", one_line(&message))
}

/// TOML errors span several lines with a source excerpt; keep the message on one line.
fn one_line(message: &str) -> String {
    let lines: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    // toml's messages look like "TOML parse error at line 2, column 1 | ... | unknown field ..."
    let last = lines.last().copied().unwrap_or("invalid TOML");
    let first = lines.first().copied().unwrap_or("");
    if lines.len() > 1 && first != last {
        format!(
            "{last} ({})",
            first
                .trim_start_matches("TOML parse error at ")
                .trim_end_matches(':')
        )
    } else {
        last.to_string()
    }
}

/// A setting's value for an error line: plain, or in exponent form when huge (1e300 would
/// otherwise print 301 digits).
fn shown(value: f64) -> String {
    if value.is_finite() && value.abs() >= 1e6 {
        format!("{value:e}")
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_and_validate() {
        let text = Config::defaults_toml();
        let parsed = Config::from_toml_str(&text).unwrap();
        assert_eq!(parsed, Config::default());
        assert_eq!(parsed.silence.gap_limit_s, 2.0);
        assert_eq!(parsed.rate.target_spm, 120.0);
    }

    #[test]
    fn partial_file_keeps_other_defaults() {
        let c = Config::from_toml_str("[silence]\ngap_limit_s = 3.0\n").unwrap();
        assert_eq!(c.silence.gap_limit_s, 3.0);
        assert_eq!(c.silence.greeting_limit_s, 2.0);
    }

    /// The error message of a settings text that must be refused.
    fn error_of(text: &str) -> String {
        Config::from_toml_str(text).unwrap_err().to_string()
    }

    #[test]
    fn unknown_key_is_named() {
        let e = error_of("[silence]\ngap_limt_s = 3.0\n");
        assert!(e.contains("gap_limt_s"), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }

    #[test]
    fn wrong_type_is_named() {
        let e = error_of("[silence]\ngap_limit_s = \"two\"\n");
        assert!(e.contains("gap_limit_s") || e.contains("line 2"), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }

    #[test]
    fn an_absurd_value_is_one_short_line_with_the_range_checked() {
        let e = error_of("[vad]\nbabble_noise_bar_db = 1e300\n");
        assert!(e.contains("vad.babble_noise_bar_db = 1e300"), "{e}");
        assert!(e.len() < 120 && !e.contains('\n'), "{e}");
        let e = error_of("[overtalk]\nmin_s = 5000.0\n");
        assert!(e.contains("allowed 0 to 3600"), "{e}");
        let e = error_of("[vad]\nsegment_leak_share = 1.5\n");
        assert!(
            e.contains("segment_leak_share = 1.5 is out of range: allowed 0 to 1"),
            "{e}"
        );
    }

    #[test]
    fn negative_gap_limit_is_refused_with_range() {
        let e = error_of("[silence]\ngap_limit_s = -1.0\n");
        assert!(
            e.contains("silence.gap_limit_s") && e.contains("allowed"),
            "{e}"
        );
    }
}
