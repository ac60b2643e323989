//! One streaming analyzer per recording: push interleaved blocks, then `finish()`.
//!
//! Files and live capture go through this same path. Each party (agent, and customer on
//! two-channel recordings) has its own chain: loudness meter, frame features, voice
//! activity, syllable nuclei and pitch statistics. The conversation rules run at the end
//! over the parties' speech segments.

use std::collections::BTreeMap;

use serde_json::json;

use crate::audio::Layout;
use crate::config::Config;
use crate::conversation::{self, Party, Span};
use crate::features::{BandCorrelation, Frame, FrameExtractor, VoicingFill};
use crate::loudness::{FileMeter, LoudnessMeter};
use crate::pitch::PitchStats;
use crate::rate::{count_in_segments, RateSettings, SyllableCounter};
use crate::report::model::*;
use crate::vad::{crosstalk_energy_db, VoiceActivity};

/// Per-second traces of one party: RMS level of each step and the short-term loudness at
/// its end. Steps close at exact sample counts, so chunking does not change them.
struct StepTrace {
    step_samples: u64,
    in_step: u64,
    sum_squares: f64,
    trace: PartyTimeline,
}

impl StepTrace {
    fn new(sample_rate_hz: u32) -> StepTrace {
        StepTrace {
            step_samples: u64::from(sample_rate_hz.max(1)),
            in_step: 0,
            sum_squares: 0.0,
            trace: PartyTimeline::default(),
        }
    }

    /// Samples left before the current step closes.
    fn room(&self) -> usize {
        (self.step_samples - self.in_step) as usize
    }

    fn add(&mut self, samples: &[f32]) {
        self.sum_squares += samples
            .iter()
            .map(|&s| f64::from(s) * f64::from(s))
            .sum::<f64>();
        self.in_step += samples.len() as u64;
    }

    fn close(&mut self, short_term_lufs: Option<f64>) {
        let round1 = |v: f64| (v * 10.0).round() / 10.0;
        let mean_square = self.sum_squares / self.in_step.max(1) as f64;
        let level = (mean_square > 1e-12).then(|| round1(10.0 * mean_square.log10()));
        self.trace.level_dbfs.push(level);
        self.trace.short_term_lufs.push(
            short_term_lufs
                .filter(|v| v.is_finite() && *v > -70.0)
                .map(round1),
        );
        self.in_step = 0;
        self.sum_squares = 0.0;
    }
}

/// The chain of streaming measurements for one party's channel.
pub struct PartyAnalyzer {
    steps: StepTrace,
    loudness: LoudnessMeter,
    frames: FrameExtractor,
    /// The speech segments of the result (the configured look-ahead).
    vad: VoiceActivity,
    /// A detector deciding within the live views' lag, when the configured look-ahead is
    /// longer: it feeds the live views, syllable nuclei and pitch, so they keep up.
    quick: Option<VoiceActivity>,
    syllables: SyllableCounter,
    pitch: PitchStats,
    /// Voicing and F0 for the decided frames that the syllables and pitch read.
    voicing: VoicingFill,
    frame_buffer: Vec<Frame>,
}

impl PartyAnalyzer {
    /// A chain for one channel at `sample_rate_hz`.
    pub fn new(config: &Config, sample_rate_hz: u32) -> PartyAnalyzer {
        let vad = VoiceActivity::new(&config.vad);
        let quick = (config.vad.lookahead_s > crate::live::DECISION_LAG_S + 1e-9).then(|| {
            VoiceActivity::new(&crate::config::VadConfig {
                lookahead_s: crate::live::DECISION_LAG_S,
                ..config.vad.clone()
            })
            .keeping_cut_short_frames()
        });
        let rate = RateSettings::default();
        let voicing = VoicingFill::new(rate.voicing_radius_frames, !rate.require_active);
        // Frames are resolved after the feeding detector's look-ahead and the fill's lag
        // (a little margin; a later request is still answered, at a little more work).
        let lag = quick.as_ref().unwrap_or(&vad).lookahead_frames() + voicing.lag_frames();
        PartyAnalyzer {
            steps: StepTrace::new(sample_rate_hz),
            loudness: LoudnessMeter::new(sample_rate_hz, config.loudness.clip_level),
            frames: FrameExtractor::new(sample_rate_hz, config.pitch.min_hz, config.pitch.max_hz)
                .deferred(lag + 8),
            vad,
            quick,
            syllables: SyllableCounter::new(sample_rate_hz, rate),
            pitch: PitchStats::new(config.pitch.min_hz, config.pitch.max_hz),
            voicing,
            frame_buffer: Vec::new(),
        }
    }

    /// Adds a block of this party's samples.
    pub fn push(&mut self, samples: &[f32]) {
        self.meter(samples);
        let mut frames = std::mem::take(&mut self.frame_buffer);
        self.frames.push(samples, |frame| frames.push(frame));
        for frame in frames.drain(..) {
            self.push_frame_with(frame, None);
        }
        self.frame_buffer = frames;
    }

    /// Loudness, the per-second steps and the syllable counter's samples of a block.
    fn meter(&mut self, samples: &[f32]) {
        let mut rest = samples;
        while !rest.is_empty() {
            let (head, tail) = rest.split_at(self.steps.room().min(rest.len()));
            self.loudness.push(head);
            self.steps.add(head);
            if self.steps.room() == 0 {
                self.steps.close(self.loudness.short_term_lufs());
            }
            rest = tail;
        }
        // The counter reads the raw samples first; the decisions for them follow (lagging).
        self.syllables.push_samples(samples);
    }

    fn push_frame_with(&mut self, frame: Frame, other: Option<&Frame>) {
        let (syllables, pitch) = (&mut self.syllables, &mut self.pitch);
        let (voicing, frames) = (&mut self.voicing, &mut self.frames);
        let mut feed = |d: crate::vad::Decision| {
            voicing.push(d, frames, |d| {
                syllables.push(d);
                pitch.push(&d);
            });
        };
        match (&mut self.quick, other) {
            (Some(quick), Some(o)) => {
                self.vad.push_paired(frame, o, |_| {});
                quick.push_paired(frame, o, feed);
            }
            (Some(quick), None) => {
                self.vad.push(frame, |_| {});
                quick.push(frame, feed);
            }
            (None, Some(o)) => self.vad.push_paired(frame, o, &mut feed),
            (None, None) => self.vad.push(frame, &mut feed),
        }
    }

    /// Adds a block of samples to the loudness meter and collects its frames (for a
    /// two-channel decision before [`PartyAnalyzer::push_frame_paired`]).
    pub fn extract(&mut self, samples: &[f32], out: &mut Vec<Frame>) {
        self.meter(samples);
        self.frames.push(samples, |frame| out.push(frame));
    }

    /// Adds one frame from [`PartyAnalyzer::extract`] (possibly adjusted) to the chain, with
    /// the other party's frame of the same time.
    pub fn push_frame_paired(&mut self, frame: Frame, other: &Frame) {
        self.push_frame_with(frame, Some(other));
    }

    /// This party's speech levels as its detectors measure them (the full one, the quick
    /// one), dB.
    fn speech_levels_db(&self) -> (Option<f32>, Option<f32>) {
        (
            self.vad.speech_level_db(),
            self.quick.as_ref().and_then(|q| q.speech_level_db()),
        )
    }

    /// Gives this party's detectors the other party's speech levels (see
    /// [`PartyAnalyzer::speech_levels_db`]).
    fn set_other_speech_levels_db(&mut self, (full, quick): (Option<f32>, Option<f32>)) {
        self.vad.set_other_speech_level_db(full);
        if let Some(q) = &mut self.quick {
            q.set_other_speech_level_db(quick);
        }
    }

    /// Short-term loudness now, LUFS (for live views).
    pub fn short_term_lufs(&self) -> Option<f64> {
        self.loudness.short_term_lufs()
    }

    /// Speech segments closed so far (for live views).
    pub fn segments(&self) -> &[Span] {
        self.quick.as_ref().unwrap_or(&self.vad).segments()
    }

    /// Speech in progress: `(start_s, last_active_end_s)` (for live views).
    pub fn open_segment(&self) -> Option<Span> {
        self.quick.as_ref().unwrap_or(&self.vad).open_segment()
    }

    /// Syllable nuclei found so far (for live views).
    pub fn nuclei_s(&self) -> &[f64] {
        self.syllables.nuclei_s()
    }

    fn finish(
        mut self,
        true_peak_dbtp: Option<f64>,
        duration_s: f64,
        config: &Config,
    ) -> PartyResult {
        let (syllables, pitch) = (&mut self.syllables, &mut self.pitch);
        let (voicing, frames) = (&mut self.voicing, &mut self.frames);
        let mut hand_on = |d: crate::vad::Decision| {
            syllables.push(d);
            pitch.push(&d);
        };
        let mut feed = |d: crate::vad::Decision| voicing.push(d, frames, &mut hand_on);
        match &mut self.quick {
            Some(quick) => {
                self.vad.finish(|_| {});
                quick.finish(&mut feed);
            }
            None => self.vad.finish(&mut feed),
        }
        voicing.finish(frames, &mut hand_on);
        syllables.finish();
        if self.steps.in_step > 0 {
            self.steps.close(self.loudness.short_term_lufs());
        }
        let trace = std::mem::take(&mut self.steps.trace);
        let segments = self.vad.segments().to_vec();
        let talk_time_s = conversation::total_s(&segments);
        let phonation_time_s = self.vad.phonation_s();
        let background = self.vad.background_voices();
        let nuclei = self.syllables.nuclei_s();
        let syllables = count_in_segments(nuclei, &segments) as u64;
        let per_minute = |seconds: f64| (seconds > 0.5).then(|| syllables as f64 * 60.0 / seconds);
        let rate = RateReport {
            syllables: Some(syllables),
            speaking_rate_spm: round3_opt(per_minute(talk_time_s)),
            articulation_rate_spm: round3_opt(per_minute(phonation_time_s)),
            overall_rate_spm: round3_opt(per_minute(duration_s)),
            timeline: rate_timeline(nuclei, &segments, duration_s, config.rate.timeline_window_s),
            ..RateReport::default()
        };
        let mut loudness = self.loudness.report(true_peak_dbtp);
        for v in [
            &mut loudness.integrated_lufs,
            &mut loudness.loudness_range_lu,
            &mut loudness.true_peak_dbtp,
            &mut loudness.sample_peak_dbfs,
            &mut loudness.active_speech_level_dbov,
            &mut loudness.activity_ratio,
        ] {
            *v = round3_opt(*v);
        }
        let mut pitch = self.pitch.report();
        for v in [
            &mut pitch.median_hz,
            &mut pitch.p10_hz,
            &mut pitch.p90_hz,
            &mut pitch.spread_semitones,
        ] {
            *v = round3_opt(*v);
        }
        let speech = SpeechReport {
            segments: spans_out(&segments),
            talk_time_s: round3(talk_time_s),
            phonation_time_s: round3(phonation_time_s),
            first_onset_s: segments.first().map(|s| round3(s.0)),
            last_offset_s: segments.last().map(|s| round3(s.1)),
            background_voices_share: background.map(|b| round3(b.share)),
            speech_over_background_voices_db: background.map(|b| round3(b.speech_over_db as f64)),
        };
        PartyResult {
            segments,
            trace,
            report: PartyReport {
                loudness,
                speech,
                rate,
                pitch,
            },
        }
    }
}

struct PartyResult {
    segments: Vec<Span>,
    trace: PartyTimeline,
    report: PartyReport,
}

/// Rolling speaking rate once a second over the last `window_s` seconds: syllables per
/// minute of talk time in the window; `null` with less than 2 s of talk in it.
///
/// One pass: the nuclei and segments in the window are tracked with moving bounds (both
/// lists are sorted and the segments do not overlap), so a long recording costs time in
/// proportion to its length, not to its length times its number of segments.
fn rate_timeline(
    nuclei_s: &[f64],
    segments: &[Span],
    duration_s: f64,
    window_s: f64,
) -> Vec<(f64, Option<f64>)> {
    let steps = duration_s.floor() as usize;
    let mut out = Vec::with_capacity(steps);
    // Running count of the nuclei that fall inside a segment, by nucleus index.
    let mut in_speech_before = Vec::with_capacity(nuclei_s.len() + 1);
    in_speech_before.push(0usize);
    let mut k = 0usize;
    for &n in nuclei_s {
        while k < segments.len() && segments[k].1 < n {
            k += 1;
        }
        let inside = segments[k..]
            .iter()
            .take_while(|s| s.0 <= n)
            .any(|s| n <= s.1);
        let so_far = in_speech_before.last().copied().unwrap_or(0);
        in_speech_before.push(so_far + usize::from(inside));
    }
    let (mut lo, mut hi) = (0usize, 0usize);
    let (mut seg_lo, mut seg_hi) = (0usize, 0usize);
    for step in 1..=steps {
        let t = step as f64;
        let from = t - window_s;
        while hi < nuclei_s.len() && nuclei_s[hi] <= t {
            hi += 1;
        }
        while lo < hi && nuclei_s[lo] <= from {
            lo += 1;
        }
        // Segments overlapping (from, t): ends beyond `from`, starts before `t`.
        while seg_hi < segments.len() && segments[seg_hi].0 < t {
            seg_hi += 1;
        }
        while seg_lo < seg_hi && segments[seg_lo].1 <= from {
            seg_lo += 1;
        }
        let talk: f64 = segments[seg_lo..seg_hi]
            .iter()
            .filter(|s| s.1 > from && s.0 < t)
            .map(|s| s.1.min(t) - s.0.max(from))
            .sum();
        let in_speech = in_speech_before[hi] - in_speech_before[lo];
        let spm = (talk >= 2.0).then(|| round3(in_speech as f64 * 60.0 / talk));
        out.push((t, spm));
    }
    out
}

fn spans_out(spans: &[Span]) -> Vec<[f64; 2]> {
    spans.iter().map(|s| [round3(s.0), round3(s.1)]).collect()
}

/// The file-level meter: for one channel only the true peak, since the agent's party meter
/// sees the same samples and measures the file's loudness (the K-filter runs once).
fn file_meter(channels: usize, sample_rate_hz: u32) -> FileMeter {
    if channels == 1 {
        FileMeter::true_peak_only(channels, sample_rate_hz)
    } else {
        FileMeter::new(channels, sample_rate_hz)
    }
}

/// The streaming analyzer of one recording.
pub struct Analyzer {
    config: Config,
    sample_rate_hz: u32,
    channels: usize,
    layout: Layout,
    file_meter: FileMeter,
    agent: PartyAnalyzer,
    customer: Option<PartyAnalyzer>,
    scratch_agent: Vec<f32>,
    scratch_customer: Vec<f32>,
    sanitized: Vec<f32>,
    cross: BandCorrelation,
    frames_agent: Vec<Frame>,
    frames_customer: Vec<Frame>,
    correlation: Vec<f32>,
    frames: u64,
    non_finite_samples: u64,
}

impl Analyzer {
    /// An analyzer for interleaved audio with `channels` channels (1 or 2).
    pub fn new(config: &Config, sample_rate_hz: u32, channels: usize, layout: Layout) -> Analyzer {
        let channels = channels.max(1);
        Analyzer {
            config: config.clone(),
            sample_rate_hz,
            channels,
            layout,
            file_meter: file_meter(channels, sample_rate_hz),
            agent: PartyAnalyzer::new(config, sample_rate_hz),
            customer: layout
                .has_customer()
                .then(|| PartyAnalyzer::new(config, sample_rate_hz)),
            scratch_agent: Vec::new(),
            scratch_customer: Vec::new(),
            sanitized: Vec::new(),
            cross: BandCorrelation::new(sample_rate_hz),
            frames_agent: Vec::new(),
            frames_customer: Vec::new(),
            correlation: Vec::new(),
            frames: 0,
            non_finite_samples: 0,
        }
    }

    /// Seconds of audio pushed so far.
    pub fn elapsed_s(&self) -> f64 {
        self.frames as f64 / self.sample_rate_hz as f64
    }

    /// The agent's chain (for live views).
    pub fn agent(&self) -> &PartyAnalyzer {
        &self.agent
    }

    /// The customer's chain, on two-channel recordings (for live views).
    pub fn customer(&self) -> Option<&PartyAnalyzer> {
        self.customer.as_ref()
    }

    /// Adds a block of interleaved samples; a trailing partial frame is ignored.
    pub fn push_interleaved(&mut self, samples: &[f32]) {
        let usable = samples.len() - samples.len() % self.channels;
        let mut block = &samples[..usable];
        // Whole chunks without an early exit, so the test vectorises.
        let non_finite = |c: &[f32]| c.iter().fold(false, |any, s| any | !s.is_finite());
        if block.chunks(256).any(non_finite) {
            self.sanitized.clear();
            self.sanitized.extend(block.iter().map(|&s| {
                if s.is_finite() {
                    s
                } else {
                    self.non_finite_samples += 1;
                    0.0
                }
            }));
            block = &self.sanitized;
        }
        self.frames += (block.len() / self.channels) as u64;
        self.file_meter.push_interleaved(block);
        match self.layout {
            Layout::Stereo { agent_channel } if self.channels >= 2 => {
                let customer_channel = 1 - agent_channel.min(1);
                self.scratch_agent.clear();
                self.scratch_customer.clear();
                let frames = block.chunks_exact(self.channels);
                self.scratch_agent
                    .extend(frames.clone().map(|f| f[agent_channel.min(1)]));
                self.scratch_customer
                    .extend(frames.map(|f| f[customer_channel]));
                match &mut self.customer {
                    Some(c) => {
                        // Two-channel decision: energy that is a copy of the other channel
                        // (a leak) is not that party's speech.
                        let mut af = std::mem::take(&mut self.frames_agent);
                        let mut cf = std::mem::take(&mut self.frames_customer);
                        let mut rho = std::mem::take(&mut self.correlation);
                        self.agent.extract(&self.scratch_agent, &mut af);
                        c.extract(&self.scratch_customer, &mut cf);
                        self.cross
                            .push(&self.scratch_agent, &self.scratch_customer, &mut rho);
                        for ((a, b), &r) in af.iter().zip(&cf).zip(&rho) {
                            let mut a2 = *a;
                            let mut b2 = *b;
                            a2.energy_db = crosstalk_energy_db(a.energy_db, b.energy_db, r);
                            b2.energy_db = crosstalk_energy_db(b.energy_db, a.energy_db, r);
                            self.agent.set_other_speech_levels_db(c.speech_levels_db());
                            self.agent.push_frame_paired(a2, &b2);
                            c.set_other_speech_levels_db(self.agent.speech_levels_db());
                            c.push_frame_paired(b2, &a2);
                        }
                        af.clear();
                        cf.clear();
                        rho.clear();
                        self.frames_agent = af;
                        self.frames_customer = cf;
                        self.correlation = rho;
                    }
                    None => self.agent.push(&self.scratch_agent),
                }
            }
            _ if self.channels == 1 => self.agent.push(block),
            _ => {
                // Several channels but one party: analyse their mean.
                self.scratch_agent.clear();
                let n = self.channels as f32;
                self.scratch_agent.extend(
                    block
                        .chunks_exact(self.channels)
                        .map(|f| f.iter().sum::<f32>() / n),
                );
                self.agent.push(&self.scratch_agent);
            }
        }
    }

    /// Ends the stream and computes every figure and check.
    pub fn finish(self) -> CallReport {
        let config = self.config;
        let duration_s = self.frames as f64 / self.sample_rate_hz as f64;
        let agent_channel = match self.layout {
            Layout::Stereo { agent_channel } => agent_channel,
            _ => 0,
        };
        let agent = self.agent.finish(
            self.file_meter.true_peak_dbtp(agent_channel),
            duration_s,
            &config,
        );
        let customer = self.customer.map(|c| {
            c.finish(
                self.file_meter.true_peak_dbtp(1 - agent_channel.min(1)),
                duration_s,
                &config,
            )
        });

        let everyone: Vec<Span> = match &customer {
            Some(c) => conversation::union(&[&agent.segments, &c.segments]),
            None => agent.segments.clone(),
        };
        let gaps = conversation::gaps(&everyone);
        let long_gaps = conversation::long_gaps(&gaps, config.silence.gap_limit_s);
        let longest_gap_s = gaps.iter().map(|g| g.1 - g.0).fold(0.0, f64::max);
        let greeting_latency_s = agent.segments.first().map(|s| s.0);
        let silence = SilenceReport {
            gaps: spans_out(&gaps),
            long_gaps: spans_out(&long_gaps),
            longest_gap_s: round3(longest_gap_s),
            dead_air_s: round3(conversation::total_s(&long_gaps)),
            greeting_latency_s: round3_opt(greeting_latency_s),
            background_voices_flag: background_voices_flag(&agent.report.speech, &config),
        };

        let interaction = customer.as_ref().map(|c| {
            let overtalk =
                conversation::overtalk(&agent.segments, &c.segments, config.overtalk.min_s);
            let spans: Vec<Span> = overtalk.iter().map(|o| o.span).collect();
            let agent_talk = conversation::total_s(&agent.segments);
            let all_talk = agent_talk + conversation::total_s(&c.segments);
            InteractionReport {
                response_latencies_s: conversation::response_latencies(
                    &agent.segments,
                    &c.segments,
                )
                .into_iter()
                .map(round3)
                .collect(),
                overtalk: spans_out(&spans),
                overtalk_started_by: overtalk.iter().map(|o| o.started_by).collect(),
                overtalk_s: round3(conversation::total_s(&spans)),
                agent_interruptions: overtalk
                    .iter()
                    .filter(|o| o.started_by == Party::Customer)
                    .count(),
                agent_talk_share: (all_talk > 0.0).then(|| round3(agent_talk / all_talk)),
            }
        });

        let checks = checks(&config, &agent.report, &silence, interaction.as_ref());
        let timeline = Some(TimelineReport {
            step_s: 1.0,
            agent: agent.trace,
            customer: customer.as_ref().map(|c| c.trace.clone()),
        });
        let mut warnings = Vec::new();
        if self.non_finite_samples > 0 {
            warnings.push(format!(
                "{} samples were NaN or infinite and were read as silence",
                self.non_finite_samples
            ));
        }
        if agent.segments.is_empty() {
            warnings.push("no speech found for the agent".to_string());
        }
        if silence.background_voices_flag {
            let speech = &agent.report.speech;
            warnings.push(format!(
                "background voices {:.0} dB under the agent's speech over {:.0} % of the call: \
                 gap and greeting boundaries are less certain",
                speech.speech_over_background_voices_db.unwrap_or(f64::NAN),
                100.0 * speech.background_voices_share.unwrap_or(f64::NAN),
            ));
        }
        CallReport {
            duration_s: Some(round3(duration_s)),
            sample_rate: Some(self.sample_rate_hz),
            channels: Some(self.channels),
            layout: Some(self.layout.name().to_string()),
            file_integrated_lufs: match self.file_meter.integrated_lufs() {
                Some(lufs) => round3_opt(Some(lufs)),
                // A mono file: its one channel is the agent's, already measured.
                None if self.channels == 1 => agent.report.loudness.integrated_lufs,
                None => None,
            },
            loudness: Some(agent.report.loudness),
            speech: Some(agent.report.speech),
            rate: Some(agent.report.rate),
            pitch: Some(agent.report.pitch),
            silence: Some(silence),
            customer: customer.map(|c| c.report),
            interaction,
            checks: Some(checks),
            timeline,
            warnings,
            ..CallReport::default()
        }
    }
}

/// Whether background voices lay close enough under this party's speech, over enough of
/// the call, to flag its gaps and greeting as less certain
/// (`silence.background_voices_flag_db` and `_share`).
pub(crate) fn background_voices_flag(speech: &SpeechReport, config: &Config) -> bool {
    let c = &config.silence;
    speech
        .background_voices_share
        .is_some_and(|share| share >= c.background_voices_flag_share)
        && speech
            .speech_over_background_voices_db
            .is_some_and(|db| db < c.background_voices_flag_db)
}

/// Judges every rule of the standard for one call (also used to re-judge stored results
/// against new targets).
pub fn checks(
    config: &Config,
    agent: &PartyReport,
    silence: &SilenceReport,
    interaction: Option<&InteractionReport>,
) -> BTreeMap<String, Check> {
    let band = |value: Option<f64>, lo: f64, hi: f64| Check {
        value,
        limit: json!([lo, hi]),
        pass: value.map(|v| v >= lo && v <= hi),
    };
    let at_most = |value: Option<f64>, max: f64| Check {
        value,
        limit: json!(max),
        pass: value.map(|v| v <= max),
    };
    let mut out = BTreeMap::new();
    out.insert(
        "speaking_rate".into(),
        // With a transcript beside the recording, the exact rate is judged, not the estimate.
        band(
            agent
                .rate
                .exact_speaking_rate_spm
                .or(agent.rate.speaking_rate_spm),
            config.rate.min_spm,
            config.rate.max_spm,
        ),
    );
    out.insert(
        "greeting_latency".into(),
        at_most(silence.greeting_latency_s, config.silence.greeting_limit_s),
    );
    out.insert(
        "dead_air".into(),
        Check {
            value: Some(silence.longest_gap_s),
            limit: json!(config.silence.gap_limit_s),
            pass: Some(silence.long_gaps.is_empty()),
        },
    );
    out.insert(
        "loudness".into(),
        band(
            agent.loudness.active_speech_level_dbov,
            config.loudness.min_dbov,
            config.loudness.max_dbov,
        ),
    );
    out.insert(
        "clipping".into(),
        at_most(
            agent.loudness.clipped_ratio,
            config.loudness.max_clipped_ratio,
        ),
    );
    out.insert(
        "pitch".into(),
        Check {
            value: agent.pitch.median_hz,
            limit: json!([config.pitch.min_hz, config.pitch.max_hz]),
            pass: None,
        },
    );
    out.insert(
        "intonation".into(),
        Check {
            value: agent.pitch.spread_semitones,
            limit: json!(config.pitch.min_spread_semitones),
            pass: agent
                .pitch
                .spread_semitones
                .map(|s| s >= config.pitch.min_spread_semitones),
        },
    );
    if let Some(i) = interaction {
        let talk = agent.speech.talk_time_s;
        let share = (talk > 0.0).then(|| round3(i.overtalk_s / talk));
        out.insert("overtalk".into(), at_most(share, config.overtalk.max_share));
        let slowest = i.response_latencies_s.iter().copied().reduce(f64::max);
        out.insert(
            "response_latency".into(),
            at_most(slowest, config.silence.response_limit_s),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The timeline by its definition: every segment and nucleus examined at every step.
    fn timeline_by_definition(
        nuclei_s: &[f64],
        segments: &[Span],
        duration_s: f64,
        window_s: f64,
    ) -> Vec<(f64, Option<f64>)> {
        (1..=duration_s.floor() as usize)
            .map(|step| {
                let t = step as f64;
                let from = t - window_s;
                let talk: f64 = segments
                    .iter()
                    .filter(|s| s.1 > from && s.0 < t)
                    .map(|s| s.1.min(t) - s.0.max(from))
                    .sum();
                let in_speech = nuclei_s
                    .iter()
                    .filter(|&&n| n > from && n <= t)
                    .filter(|&&n| segments.iter().any(|s| s.0 <= n && n <= s.1))
                    .count();
                (
                    t,
                    (talk >= 2.0).then(|| round3(in_speech as f64 * 60.0 / talk)),
                )
            })
            .collect()
    }

    #[test]
    fn rate_timeline_matches_its_definition() {
        // Segments of 0.3-4 s with 0.2-3 s pauses; nuclei every 0.13-0.3 s, in and out of
        // speech, some exactly on segment edges and on whole seconds.
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut segments = Vec::new();
        let mut t = 0.4;
        while t < 290.0 {
            let end = t + 0.3 + 3.7 * next();
            segments.push((t, end));
            t = end + 0.2 + 2.8 * next();
        }
        let mut nuclei = Vec::new();
        let mut n = 0.05;
        while n < 300.0 {
            nuclei.push(n);
            n += 0.13 + 0.17 * next();
        }
        nuclei.extend(segments.iter().take(5).map(|s| s.1));
        nuclei.extend([10.0, 11.0, 12.0]);
        nuclei.sort_by(f64::total_cmp);
        for window_s in [5.0, 10.0, 30.0] {
            let fast = rate_timeline(&nuclei, &segments, 300.5, window_s);
            let slow = timeline_by_definition(&nuclei, &segments, 300.5, window_s);
            assert_eq!(fast.len(), 300);
            assert_eq!(fast, slow, "window {window_s} s");
            assert!(fast.iter().filter(|p| p.1.is_some()).count() > 200);
        }
    }
}
