//! Loudness: ITU-R BS.1770 / EBU R128 through the `ebur128` crate, and the ITU-T P.56
//! active speech level.
//!
//! Mono convention: each party's figures treat that party's channel as one BS.1770 channel
//! with weight 1.0 (no dual-mono +3 dB), so a -23 dBFS 1 kHz sine on one channel reads
//! -26 LUFS. The file's loudness (`file_integrated_lufs`) sums all channels with weight 1.0,
//! so a -23 dBFS sine on both channels of a stereo file reads -23 LUFS.

use ebur128::{EbuR128, Mode};
use serde::{Deserialize, Serialize};

use crate::dsp::TruePeak;

/// Turns ebur128's "minus infinity" and errors into "not measured".
fn finite(value: Result<f64, ebur128::Error>) -> Option<f64> {
    value.ok().filter(|v| v.is_finite())
}

fn amplitude_db(linear: f64) -> Option<f64> {
    (linear > 0.0 && linear.is_finite()).then(|| 20.0 * linear.log10())
}

/// Loudness figures of one party.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoudnessReport {
    /// Integrated loudness (BS.1770, gated), LUFS; `null` when too short to gate.
    pub integrated_lufs: Option<f64>,
    /// Loudness range (EBU Tech 3342), LU.
    pub loudness_range_lu: Option<f64>,
    /// Highest true (inter-sample) peak, dBTP.
    pub true_peak_dbtp: Option<f64>,
    /// Highest sample magnitude, dBFS.
    pub sample_peak_dbfs: Option<f64>,
    /// Share of samples at or above the clip level (0..1).
    pub clipped_ratio: Option<f64>,
    /// Active speech level (ITU-T P.56 method B), dBov.
    pub active_speech_level_dbov: Option<f64>,
    /// Share of the time the P.56 detector found speech active (0..1).
    pub activity_ratio: Option<f64>,
}

/// Streaming loudness meter for one channel.
pub struct LoudnessMeter {
    meter: Option<EbuR128>,
    speech_level: ActiveSpeechLevel,
    clip_level: f32,
    clipped: u64,
    samples: u64,
    peak: f32,
}

impl LoudnessMeter {
    /// A meter for one channel at `sample_rate_hz`; samples at or above `clip_level` count
    /// as clipped.
    pub fn new(sample_rate_hz: u32, clip_level: f64) -> LoudnessMeter {
        LoudnessMeter {
            meter: EbuR128::new(1, sample_rate_hz, Mode::I | Mode::LRA).ok(),
            speech_level: ActiveSpeechLevel::new(sample_rate_hz),
            clip_level: clip_level as f32,
            clipped: 0,
            samples: 0,
            peak: 0.0,
        }
    }

    /// Adds a block of samples of this channel.
    pub fn push(&mut self, samples: &[f32]) {
        if let Some(m) = &mut self.meter {
            // A meter error here can only be a rate/channel mismatch fixed at construction.
            let _ = m.add_frames_f32(samples);
        }
        self.speech_level.push(samples);
        // Eight independent lanes, so the loop vectorises (samples are finite here).
        let (mut peaks, mut clipped) = ([self.peak; 8], [0u64; 8]);
        let chunks = samples.chunks_exact(8);
        let tail = chunks.remainder();
        for chunk in chunks {
            for l in 0..8 {
                let a = chunk[l].abs();
                peaks[l] = peaks[l].max(a);
                clipped[l] += u64::from(a >= self.clip_level);
            }
        }
        for &s in tail {
            peaks[0] = peaks[0].max(s.abs());
            clipped[0] += u64::from(s.abs() >= self.clip_level);
        }
        self.peak = peaks.iter().fold(self.peak, |m, &p| m.max(p));
        self.clipped += clipped.iter().sum::<u64>();
        self.samples += samples.len() as u64;
    }

    /// Short-term loudness (last 3 s), LUFS, for timelines; `None` before 3 s or in silence.
    pub fn short_term_lufs(&self) -> Option<f64> {
        self.meter
            .as_ref()
            .and_then(|m| finite(m.loudness_shortterm()))
    }

    /// The figures so far; `true_peak_dbtp` comes from the file meter.
    pub fn report(&self, true_peak_dbtp: Option<f64>) -> LoudnessReport {
        let (asl, activity) = self.speech_level.level_dbov();
        LoudnessReport {
            integrated_lufs: self
                .meter
                .as_ref()
                .and_then(|m| finite(m.loudness_global())),
            loudness_range_lu: self
                .meter
                .as_ref()
                .and_then(|m| finite(m.loudness_range()))
                .filter(|_| self.samples > 0),
            true_peak_dbtp,
            sample_peak_dbfs: amplitude_db(self.peak as f64),
            clipped_ratio: (self.samples > 0).then(|| self.clipped as f64 / self.samples as f64),
            active_speech_level_dbov: asl,
            activity_ratio: activity,
        }
    }
}

/// Whole-file meter: loudness over all channels, and true and sample peaks per channel.
///
/// True peaks come from [`TruePeak`], which gives the same figure as the `ebur128` crate's
/// `TRUE_PEAK` mode (tested bit for bit) while skipping stretches that cannot raise it.
pub struct FileMeter {
    meter: Option<EbuR128>,
    peaks: Vec<TruePeak>,
    channels: usize,
}

impl FileMeter {
    /// A meter for `channels` interleaved channels.
    pub fn new(channels: usize, sample_rate_hz: u32) -> FileMeter {
        FileMeter {
            meter: EbuR128::new(channels as u32, sample_rate_hz, Mode::I).ok(),
            ..FileMeter::true_peak_only(channels, sample_rate_hz)
        }
    }

    /// A meter of true peaks only ([`FileMeter::integrated_lufs`] is then `None`): for a
    /// mono file, whose loudness the party meter of its one channel already measures, so
    /// the K-weighting filter and gating do not run twice over the same samples.
    pub fn true_peak_only(channels: usize, sample_rate_hz: u32) -> FileMeter {
        FileMeter {
            meter: None,
            peaks: (0..channels)
                .map(|_| TruePeak::new(sample_rate_hz))
                .collect(),
            channels,
        }
    }

    /// Adds interleaved frames.
    pub fn push_interleaved(&mut self, samples: &[f32]) {
        if let Some(m) = &mut self.meter {
            let _ = m.add_frames_f32(samples);
        }
        for (c, p) in self.peaks.iter_mut().enumerate() {
            p.push_strided(samples, c, self.channels);
        }
    }

    /// Integrated loudness of the whole file, all channels with weight 1.0, LUFS; `None`
    /// for a [`FileMeter::true_peak_only`] meter.
    pub fn integrated_lufs(&self) -> Option<f64> {
        self.meter
            .as_ref()
            .and_then(|m| finite(m.loudness_global()))
    }

    /// True peak of one channel, dBTP.
    pub fn true_peak_dbtp(&self, channel: usize) -> Option<f64> {
        self.peaks
            .get(channel)
            .map(TruePeak::peak)
            .and_then(amplitude_db)
    }
}

/// ITU-T P.56 method B active speech level, streaming.
///
/// The envelope is the rectified signal smoothed twice with a 30 ms time constant; for each
/// of 16 thresholds spaced 6 dB apart the active time counts samples whose envelope is at or
/// above the threshold, plus a 200 ms hangover. The level is where the long-term level over
/// the active time exceeds the threshold by the margin of 15.9 dB.
///
/// The thresholds are the powers of two 2^0 .. 2^-15, so the thresholds an envelope value
/// reaches are read from its binary exponent, and each threshold's count only changes when
/// the envelope crosses it: a run of `L` samples below a threshold adds `min(L, hangover)`
/// active samples. Per sample that is two recursions and one exponent comparison instead
/// of 16 threshold tests, with the same counts as testing every threshold on every sample.
#[derive(Debug, Clone)]
pub struct ActiveSpeechLevel {
    /// DC blocker: pole radius, previous input and output.
    dc_pole: f64,
    dc_x: f64,
    dc_y: f64,
    g: f64,
    p: f64,
    q: f64,
    hangover_samples: u64,
    thresholds: [f64; Self::THRESHOLDS],
    /// Thresholds `j >= reached` are at or below the envelope now.
    reached: usize,
    /// Per threshold: where the current run below it began (sample index), when below. A
    /// run from the start of the stream begins one hangover early: as in the reference
    /// implementation (hangover counters start expired), nothing before the first crossing
    /// counts as active.
    below_since: [i64; Self::THRESHOLDS],
    /// Per threshold: samples below it beyond the hangover, in runs already ended.
    inactive: [u64; Self::THRESHOLDS],
    sum_squares: f64,
    samples: u64,
}

impl ActiveSpeechLevel {
    const THRESHOLDS: usize = 16;
    const MARGIN_DB: f64 = 15.9;

    /// A meter at `sample_rate_hz`.
    pub fn new(sample_rate_hz: u32) -> ActiveSpeechLevel {
        let rate = sample_rate_hz as f64;
        let mut thresholds = [0.0; Self::THRESHOLDS];
        for (j, t) in thresholds.iter_mut().enumerate() {
            *t = 2f64.powi(-(j as i32));
        }
        ActiveSpeechLevel {
            // A 5 Hz DC blocker: a recorder's DC offset is not speech and would raise both
            // the envelope and the power (0.5 DC read 18 dB high).
            dc_pole: 1.0 - std::f64::consts::TAU * 5.0 / rate,
            dc_x: 0.0,
            dc_y: 0.0,
            g: (-1.0 / (rate * 0.03)).exp(),
            p: 0.0,
            q: 0.0,
            hangover_samples: (0.2 * rate).round() as u64,
            thresholds,
            // Nothing is reached before the first sample: every threshold starts a run below.
            reached: Self::THRESHOLDS,
            below_since: [-((0.2 * rate).round() as i64); Self::THRESHOLDS],
            inactive: [0; Self::THRESHOLDS],
            sum_squares: 0.0,
            samples: 0,
        }
    }

    /// The first threshold index `j` with `q >= 2^-j` (`THRESHOLDS` when none), from the
    /// binary exponent of `q` (exact: `q >= 2^-j` exactly when its exponent is `>= -j`).
    #[inline]
    fn first_reached(q: f64) -> usize {
        let biased = ((q.to_bits() >> 52) & 0x7ff) as i64;
        // Zero, subnormals, NaN and negative values (impossible here) reach nothing.
        if q.is_nan() || q <= 0.0 || biased == 0 {
            return Self::THRESHOLDS;
        }
        let exponent = biased - 1023;
        (-exponent).clamp(0, Self::THRESHOLDS as i64) as usize
    }

    /// The envelope values `q` with `first_reached(q) == j`: `[low, high)` (for
    /// `j == THRESHOLDS` also NaN, zero and subnormals, all below `high`).
    #[inline]
    fn band_of(&self, j: usize) -> (f64, f64) {
        let low = self.thresholds.get(j).copied().unwrap_or(f64::NEG_INFINITY);
        let high = j
            .checked_sub(1)
            .and_then(|i| self.thresholds.get(i).copied())
            .unwrap_or(f64::INFINITY);
        (low, high)
    }

    /// Adds samples.
    pub fn push(&mut self, samples: &[f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports FMA, checked just above.
            return unsafe { self.push_fma(samples) };
        }
        self.push_portable(samples)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "fma")]
    unsafe fn push_fma(&mut self, samples: &[f32]) {
        self.push_portable(samples)
    }

    /// The recursions use fused multiply-adds: exactly rounded on every CPU (in hardware
    /// with FMA, which shortens each recursion's critical path), so results are the same.
    #[inline(always)]
    fn push_portable(&mut self, samples: &[f32]) {
        let (g, c) = (self.g, 1.0 - self.g);
        let (mut p, mut q) = (self.p, self.q);
        let mut sum_squares = self.sum_squares;
        let mut reached = self.reached;
        // The envelope values that keep `reached` where it is: `[low, high)`.
        let (mut low, mut high) = self.band_of(reached);
        let (pole, mut dc_x, mut dc_y) = (self.dc_pole, self.dc_x, self.dc_y);
        if self.samples == 0 {
            // Start the blocker settled on the first sample: no step from an offset.
            dc_x = samples.first().map_or(0.0, |&s| s as f64);
        }
        for (n, &s) in (self.samples..).zip(samples) {
            let input = s as f64;
            let x = pole.mul_add(dc_y, input - dc_x);
            dc_x = input;
            dc_y = x;
            sum_squares += x * x;
            p = g.mul_add(p, c * x.abs());
            q = g.mul_add(q, c * p);
            // Written so that NaN leaves the band too (and reaches nothing, as below).
            if !(q >= low && q < high) {
                let now = Self::first_reached(q);
                if now != reached {
                    self.cross(reached, now, n);
                    reached = now;
                    (low, high) = self.band_of(reached);
                }
            }
        }
        self.p = p;
        self.q = q;
        self.dc_x = dc_x;
        self.dc_y = dc_y;
        self.sum_squares = sum_squares;
        self.reached = reached;
        self.samples += samples.len() as u64;
    }

    /// The envelope moved from reaching thresholds `>= before` to `>= after` at sample `n`.
    #[cold]
    fn cross(&mut self, before: usize, after: usize, n: u64) {
        if after < before {
            // Rose above thresholds after..before: their runs below end at `n`.
            for j in after..before {
                let run = (n as i64 - self.below_since[j]).max(0) as u64;
                self.inactive[j] += run.saturating_sub(self.hangover_samples);
            }
        } else {
            // Fell below thresholds before..after: their runs below begin at `n`.
            for j in before..after {
                self.below_since[j] = n as i64;
            }
        }
    }

    /// Samples counted active for threshold `j` so far.
    fn active(&self, j: usize) -> u64 {
        let open_run = if j < self.reached {
            ((self.samples as i64 - self.below_since[j]).max(0) as u64)
                .saturating_sub(self.hangover_samples)
        } else {
            0
        };
        self.samples.saturating_sub(self.inactive[j] + open_run)
    }

    /// The active speech level in dBov (0 dBov = full-scale square wave) and the activity
    /// factor; `None` for silence.
    pub fn level_dbov(&self) -> (Option<f64>, Option<f64>) {
        if self.sum_squares <= 0.0 || self.samples == 0 {
            return (None, None);
        }
        let active: [u64; Self::THRESHOLDS] = std::array::from_fn(|j| self.active(j));
        let level_at = |j: usize| -> Option<f64> {
            (active[j] > 0).then(|| 10.0 * (self.sum_squares / active[j] as f64).log10())
        };
        let threshold_db = |j: usize| 20.0 * self.thresholds[j].log10();
        // Difference between the active level and the threshold: grows as thresholds fall.
        let mut previous: Option<(f64, f64, usize)> = None;
        for j in 0..Self::THRESHOLDS {
            let Some(a) = level_at(j) else { continue };
            let delta = a - threshold_db(j);
            if delta >= Self::MARGIN_DB {
                let (level, j_at) = match previous {
                    Some((a0, d0, j0)) if delta > d0 => {
                        // Interpolate between the two thresholds where the margin is crossed.
                        let f = (Self::MARGIN_DB - d0) / (delta - d0);
                        let level = a0 + f * (a - a0);
                        (level, if f < 0.5 { j0 } else { j })
                    }
                    _ => (a, j),
                };
                let activity = active[j_at] as f64 / self.samples as f64;
                return (Some(level), Some(activity.min(1.0)));
            }
            previous = Some((a, delta, j));
        }
        (None, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(rate: u32, freq: f64, dbfs: f64, seconds: f64) -> Vec<f32> {
        let amplitude = 10f64.powf(dbfs / 20.0);
        (0..(rate as f64 * seconds) as usize)
            .map(|i| {
                (amplitude * (2.0 * std::f64::consts::PI * freq * i as f64 / rate as f64).sin())
                    as f32
            })
            .collect()
    }

    #[test]
    fn mono_sine_at_minus_23_dbfs_reads_minus_26_lufs() {
        let mut m = LoudnessMeter::new(48_000, 0.999);
        m.push(&sine(48_000, 1000.0, -23.0, 10.0));
        let r = m.report(None);
        assert!(
            (r.integrated_lufs.unwrap() + 26.0).abs() < 0.1,
            "{:?}",
            r.integrated_lufs
        );
        assert_eq!(r.clipped_ratio, Some(0.0));
    }

    #[test]
    fn stereo_sine_at_minus_23_dbfs_reads_minus_23_lufs() {
        let mono = sine(48_000, 1000.0, -23.0, 10.0);
        let stereo: Vec<f32> = mono.iter().flat_map(|&s| [s, s]).collect();
        let mut f = FileMeter::new(2, 48_000);
        f.push_interleaved(&stereo);
        assert!((f.integrated_lufs().unwrap() + 23.0).abs() < 0.05);
        let tp = f.true_peak_dbtp(0).unwrap();
        assert!((tp + 23.0).abs() < 0.3, "{tp}");
    }

    #[test]
    fn mono_file_loudness_is_its_party_meter_loudness() {
        // The analyzer reads a mono file's loudness from the party meter: same samples,
        // same BS.1770 filter and gating, so the same figure to the last bit.
        let signal: Vec<f32> = sine(8_000, 440.0, -20.0, 4.0)
            .into_iter()
            .chain(sine(8_000, 1000.0, -35.0, 3.0))
            .collect();
        let mut full = FileMeter::new(1, 8_000);
        let mut peaks = FileMeter::true_peak_only(1, 8_000);
        let mut party = LoudnessMeter::new(8_000, 0.999);
        for block in signal.chunks(999) {
            full.push_interleaved(block);
            peaks.push_interleaved(block);
            party.push(block);
        }
        let lufs = full.integrated_lufs();
        assert!(lufs.is_some());
        assert_eq!(party.report(None).integrated_lufs, lufs);
        assert_eq!(peaks.integrated_lufs(), None);
        assert_eq!(peaks.true_peak_dbtp(0), full.true_peak_dbtp(0));
    }

    #[test]
    fn silence_has_no_loudness() {
        let mut m = LoudnessMeter::new(8_000, 0.999);
        m.push(&vec![0.0; 80_000]);
        let r = m.report(None);
        assert_eq!(r.integrated_lufs, None);
        assert_eq!(r.active_speech_level_dbov, None);
    }

    #[test]
    fn long_quiet_speech_is_not_measured_at_the_unreached_thresholds() {
        // Regression: a long recording whose envelope never reaches the top thresholds must
        // not count the first 200 ms as active there (that read -0.7 dBov for a -25 dB call).
        let mut a = ActiveSpeechLevel::new(8_000);
        for _ in 0..30 {
            a.push(&sine(8_000, 440.0, -22.0, 1.0));
            a.push(&vec![0.0; 8_000]);
        }
        // Active: each 1 s tone plus the 200 ms hangover and the envelope's decay (about
        // 1.3 s of every 2 s), so the level is the tone's RMS (-25.0) less 10*log10(1.3).
        let (level, activity) = a.level_dbov();
        assert!((level.unwrap() + 26.1).abs() < 0.3, "{level:?}");
        assert!((activity.unwrap() - 0.64).abs() < 0.05, "{activity:?}");
    }

    #[test]
    fn dc_offset_does_not_raise_the_active_speech_level() {
        let tone = sine(8_000, 440.0, -20.0, 5.0);
        let mut clean = ActiveSpeechLevel::new(8_000);
        clean.push(&tone);
        let offset: Vec<f32> = tone.iter().map(|s| s + 0.5).collect();
        let mut shifted = ActiveSpeechLevel::new(8_000);
        shifted.push(&offset);
        let (a, b) = (
            clean.level_dbov().0.unwrap(),
            shifted.level_dbov().0.unwrap(),
        );
        assert!((a - b).abs() < 0.3, "{a} vs {b}");
    }

    #[test]
    fn active_speech_level_of_continuous_sine() {
        // A continuous sine is active all the time: its active level is its RMS level,
        // 3.01 dB below its peak.
        let mut a = ActiveSpeechLevel::new(8_000);
        a.push(&sine(8_000, 440.0, -20.0, 5.0));
        let (level, activity) = a.level_dbov();
        assert!((level.unwrap() + 23.01).abs() < 0.2, "{level:?}");
        assert!(activity.unwrap() > 0.98);
    }

    /// The textbook P.56 counting: every threshold tested on every sample.
    fn reference_active_counts(rate: u32, samples: &[f32]) -> [u64; 16] {
        let g = (-1.0 / (rate as f64 * 0.03)).exp();
        let hangover = (0.2 * rate as f64).round() as u64;
        let (mut p, mut q) = (0.0f64, 0.0f64);
        let mut active = [0u64; 16];
        // Hangover counters start expired (ITU-T G.191 sv56): nothing before the first
        // crossing is active.
        let mut hang = [hangover; 16];
        let pole = 1.0 - std::f64::consts::TAU * 5.0 / rate as f64;
        let (mut dc_x, mut dc_y) = (samples.first().map_or(0.0, |&s| s as f64), 0.0);
        for &s in samples {
            let x = pole.mul_add(dc_y, s as f64 - dc_x);
            dc_x = s as f64;
            dc_y = x;
            p = g.mul_add(p, (1.0 - g) * x.abs());
            q = g.mul_add(q, (1.0 - g) * p);
            for j in 0..16usize {
                if q >= 2f64.powi(-(j as i32)) {
                    active[j] += 1;
                    hang[j] = 0;
                } else if hang[j] < hangover {
                    active[j] += 1;
                    hang[j] += 1;
                }
            }
        }
        active
    }

    #[test]
    fn active_counts_match_testing_every_threshold_on_every_sample() {
        // Bursts at levels from 0 to -90 dBFS with silences of 0.05-0.5 s between them,
        // pushed in uneven blocks: every threshold is crossed both ways, some runs below
        // are shorter than the hangover and some longer.
        let rate = 8_000;
        let mut signal = Vec::new();
        for k in 0..40 {
            let dbfs = -(((k * 37) % 91) as f64);
            signal.extend(sine(
                rate,
                300.0 + 10.0 * k as f64,
                dbfs,
                0.05 + 0.01 * (k % 7) as f64,
            ));
            signal.extend(vec![0.0; 400 + 350 * (k % 11)]);
        }
        let mut a = ActiveSpeechLevel::new(rate);
        let mut rest = &signal[..];
        let mut size = 1;
        while !rest.is_empty() {
            let (block, tail) = rest.split_at(size.min(rest.len()));
            a.push(block);
            rest = tail;
            size = size * 3 % 1999 + 1;
            // Mid-stream reads must agree too (the open run below is counted).
            if size.is_multiple_of(5) {
                let consumed = signal.len() - rest.len();
                let expected = reference_active_counts(rate, &signal[..consumed]);
                let got: Vec<u64> = (0..16).map(|j| a.active(j)).collect();
                assert_eq!(got, expected.to_vec(), "after {consumed} samples");
            }
        }
        let expected = reference_active_counts(rate, &signal);
        let got: Vec<u64> = (0..16).map(|j| a.active(j)).collect();
        assert_eq!(got, expected.to_vec());
        assert!(expected.iter().any(|&c| c < signal.len() as u64 / 2));
    }

    #[test]
    fn active_speech_level_ignores_silence() {
        // Half tone, half silence: the active level stays at the tone's level.
        let mut a = ActiveSpeechLevel::new(8_000);
        a.push(&sine(8_000, 440.0, -20.0, 5.0));
        a.push(&vec![0.0; 40_000]);
        let (level, activity) = a.level_dbov();
        assert!((level.unwrap() + 23.01).abs() < 0.3, "{level:?}");
        assert!((activity.unwrap() - 0.52).abs() < 0.05, "{activity:?}");
    }
}
