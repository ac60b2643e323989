//! Pitch: median F0 and its spread in semitones over the voiced speech frames.

use serde::{Deserialize, Serialize};

use crate::dsp::LogHistogram;
use crate::vad::Decision;

/// Frames further than this from the median F0 are taken as octave errors, semitones.
const OCTAVE_FOLD_SEMITONES: f64 = 9.0;

/// Pitch figures of one party.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PitchReport {
    /// Median F0 over voiced speech frames, Hz.
    pub median_hz: Option<f64>,
    /// 10th percentile of F0, Hz.
    pub p10_hz: Option<f64>,
    /// 90th percentile of F0, Hz.
    pub p90_hz: Option<f64>,
    /// Spread from the 10th to the 90th percentile, semitones.
    pub spread_semitones: Option<f64>,
    /// Voiced speech frames measured.
    pub voiced_frames: u64,
}

/// Streaming F0 statistics in bounded memory (a tenth-of-a-semitone histogram).
pub struct PitchStats {
    histogram: LogHistogram,
}

impl PitchStats {
    /// Statistics over F0 values between `min_hz` and `max_hz`.
    pub fn new(min_hz: f64, max_hz: f64) -> PitchStats {
        PitchStats {
            histogram: LogHistogram::new(min_hz, max_hz, 10.0),
        }
    }

    /// Adds one decided frame; only voiced speech frames count.
    pub fn push(&mut self, decision: &Decision) {
        if decision.active {
            if let Some(f0) = decision.frame.f0_hz {
                self.histogram.add(f0 as f64);
            }
        }
    }

    /// The figures; `None` values when fewer than 10 voiced frames were seen.
    pub fn report(&self) -> PitchReport {
        let n = self.histogram.count();
        if n < 10 {
            return PitchReport {
                voiced_frames: n,
                ..PitchReport::default()
            };
        }
        // Pitch trackers jump an octave now and then (on telephone audio, where the
        // fundamental is filtered out, mostly up); frames more than 9 semitones from the
        // median are folded back by an octave before the percentiles are read.
        let median = self.histogram.percentile_hz(0.5);
        let folded = match median {
            Some(m) => self.histogram.fold_octave_errors(m, OCTAVE_FOLD_SEMITONES),
            None => self.histogram.clone(),
        };
        let p10 = folded.percentile_hz(0.1);
        let p90 = folded.percentile_hz(0.9);
        PitchReport {
            median_hz: folded.percentile_hz(0.5),
            p10_hz: p10,
            p90_hz: p90,
            spread_semitones: p10.zip(p90).map(|(lo, hi)| 12.0 * (hi / lo).log2()),
            voiced_frames: n,
        }
    }
}
