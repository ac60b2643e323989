//! Voice activity: which stretches of one channel hold speech.
//!
//! A frame is active when its band energy rises both above the tracked noise floor (a
//! sliding minimum) by `snr_threshold_db` and to within `speaker_range_db` of the speaker's
//! own recent level (a sliding maximum), so a quiet agent is kept and faint background
//! voices are not. Active frames are joined into segments across pauses shorter than the
//! hangover; segments shorter than the minimum are dropped. Decisions lag the input by a
//! fixed look-ahead, so the result does not depend on how the audio is chunked.

use std::collections::VecDeque;

use crate::config::VadConfig;
use crate::features::{Frame, HOP_S};

/// Frames of look-ahead before a frame is decided.
const LOOKAHEAD_FRAMES: u64 = 50;
/// How far back the noise floor looks, frames.
const FLOOR_HISTORY_FRAMES: u64 = 300;
/// How far back the speaker's level looks, frames.
const LEVEL_HISTORY_FRAMES: u64 = 1000;
/// Below this band energy a frame is digital silence, dB re full scale.
const ABSOLUTE_FLOOR_DB: f32 = -80.0;

/// A frame with its speech decision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// The frame decided.
    pub frame: Frame,
    /// True when the frame's energy passes the speech thresholds.
    pub active: bool,
}

/// Sliding extreme over a window of frame indices (a monotonic deque).
#[derive(Debug, Default)]
struct SlidingExtreme {
    deque: VecDeque<(u64, f32)>,
    keep_max: bool,
}

impl SlidingExtreme {
    fn new(keep_max: bool) -> Self {
        SlidingExtreme {
            deque: VecDeque::new(),
            keep_max,
        }
    }

    fn push(&mut self, index: u64, value: f32) {
        while let Some(&(_, last)) = self.deque.back() {
            let dominated = if self.keep_max {
                last <= value
            } else {
                last >= value
            };
            if dominated {
                self.deque.pop_back();
            } else {
                break;
            }
        }
        self.deque.push_back((index, value));
    }

    fn evict_before(&mut self, index: u64) {
        while let Some(&(i, _)) = self.deque.front() {
            if i < index {
                self.deque.pop_front();
            } else {
                break;
            }
        }
    }

    fn value(&self) -> Option<f32> {
        self.deque.front().map(|&(_, v)| v)
    }
}

/// Streaming voice activity detector for one channel.
pub struct VoiceActivity {
    config: VadConfig,
    pending: VecDeque<Frame>,
    floor: SlidingExtreme,
    level: SlidingExtreme,
    smooth: [f32; 3],
    open: Option<OpenSegment>,
    segments: Vec<(f64, f64)>,
    phonation_s: f64,
}

#[derive(Debug, Clone, Copy)]
struct OpenSegment {
    start_s: f64,
    last_active_end_s: f64,
    active_frames: u64,
}

impl VoiceActivity {
    /// A detector with these settings.
    pub fn new(config: &VadConfig) -> VoiceActivity {
        VoiceActivity {
            config: config.clone(),
            pending: VecDeque::with_capacity(LOOKAHEAD_FRAMES as usize + 1),
            floor: SlidingExtreme::new(false),
            level: SlidingExtreme::new(true),
            smooth: [ABSOLUTE_FLOOR_DB; 3],
            open: None,
            segments: Vec::new(),
            phonation_s: 0.0,
        }
    }

    /// Adds a frame; calls `on_decision` for each frame decided (they lag by the look-ahead).
    pub fn push(&mut self, frame: Frame, mut on_decision: impl FnMut(Decision)) {
        // The level tracker reads a 30 ms average, so single clicks do not set the level.
        self.smooth = [self.smooth[1], self.smooth[2], frame.energy_db];
        let smoothed = power_mean_db(&self.smooth);
        self.floor
            .push(frame.index, frame.energy_db.max(ABSOLUTE_FLOOR_DB));
        self.level.push(frame.index, smoothed);
        self.pending.push_back(frame);
        if self.pending.len() as u64 > LOOKAHEAD_FRAMES {
            if let Some(f) = self.pending.pop_front() {
                let d = self.decide(f);
                on_decision(d);
            }
        }
    }

    /// Decides the frames still waiting and closes the last segment.
    pub fn finish(&mut self, mut on_decision: impl FnMut(Decision)) {
        while let Some(f) = self.pending.pop_front() {
            let d = self.decide(f);
            on_decision(d);
        }
        self.close_segment();
    }

    /// The speech segments closed so far, `[start_s, end_s]`.
    pub fn segments(&self) -> &[(f64, f64)] {
        &self.segments
    }

    /// Time in kept segments spent in active frames, seconds.
    pub fn phonation_s(&self) -> f64 {
        self.phonation_s
    }

    /// The segment still open (speech in progress), if any.
    pub fn open_segment(&self) -> Option<(f64, f64)> {
        self.open.map(|o| (o.start_s, o.last_active_end_s))
    }

    fn decide(&mut self, frame: Frame) -> Decision {
        let i = frame.index;
        self.floor
            .evict_before(i.saturating_sub(FLOOR_HISTORY_FRAMES));
        self.level
            .evict_before(i.saturating_sub(LEVEL_HISTORY_FRAMES));
        let floor = self.floor.value().unwrap_or(ABSOLUTE_FLOOR_DB);
        let level = self.level.value().unwrap_or(ABSOLUTE_FLOOR_DB);
        let threshold = (floor + self.config.snr_threshold_db as f32)
            .max(level - self.config.speaker_range_db as f32)
            .max(ABSOLUTE_FLOOR_DB);
        let active = frame.energy_db > threshold;
        if active {
            match &mut self.open {
                Some(o) => {
                    o.last_active_end_s = frame.end_s;
                    o.active_frames += 1;
                }
                None => {
                    self.open = Some(OpenSegment {
                        start_s: frame.start_s,
                        last_active_end_s: frame.end_s,
                        active_frames: 1,
                    })
                }
            }
        } else if let Some(o) = self.open {
            if frame.end_s - o.last_active_end_s > self.config.hangover_s {
                self.close_segment();
            }
        }
        Decision { frame, active }
    }

    fn close_segment(&mut self) {
        let Some(o) = self.open.take() else { return };
        if o.last_active_end_s - o.start_s + 1e-9 < self.config.min_speech_s {
            return;
        }
        let pad = self.config.pad_s;
        let start = (o.start_s - pad).max(0.0);
        let end = o.last_active_end_s + pad;
        self.phonation_s += o.active_frames as f64 * HOP_S;
        match self.segments.last_mut() {
            Some(last) if last.1 >= start => last.1 = end,
            _ => self.segments.push((start, end)),
        }
    }
}

fn power_mean_db(values: &[f32]) -> f32 {
    let mean: f32 = values.iter().map(|v| 10f32.powf(v / 10.0)).sum::<f32>() / values.len() as f32;
    10.0 * mean.max(1e-20).log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(levels: &[(f64, f32)]) -> Vec<Frame> {
        // (duration_s, energy_db) runs
        let mut out = Vec::new();
        let mut index = 0u64;
        for &(dur, db) in levels {
            for _ in 0..(dur / HOP_S).round() as usize {
                out.push(Frame {
                    index,
                    start_s: index as f64 * HOP_S,
                    end_s: (index + 1) as f64 * HOP_S,
                    energy_db: db,
                    voicing: 0.0,
                    f0_hz: None,
                });
                index += 1;
            }
        }
        out
    }

    fn run(fs: &[Frame]) -> Vec<(f64, f64)> {
        let mut vad = VoiceActivity::new(&VadConfig {
            pad_s: 0.0,
            ..VadConfig::default()
        });
        for &f in fs {
            vad.push(f, |_| {});
        }
        vad.finish(|_| {});
        vad.segments().to_vec()
    }

    #[test]
    fn bursts_over_a_floor_become_segments() {
        let segs = run(&frames(&[
            (1.0, -60.0),
            (2.0, -20.0),
            (3.0, -60.0),
            (1.5, -25.0),
            (1.0, -60.0),
        ]));
        assert_eq!(segs.len(), 2, "{segs:?}");
        assert!(
            (segs[0].0 - 1.0).abs() < 0.011 && (segs[0].1 - 3.0).abs() < 0.011,
            "{segs:?}"
        );
        assert!(
            (segs[1].0 - 6.0).abs() < 0.011 && (segs[1].1 - 7.5).abs() < 0.011,
            "{segs:?}"
        );
    }

    #[test]
    fn short_pauses_are_bridged_and_blips_dropped() {
        let segs = run(&frames(&[
            (1.0, -60.0),
            (1.0, -20.0),
            (0.3, -60.0),
            (1.0, -20.0),
            (2.0, -60.0),
            (0.05, -20.0),
            (2.0, -60.0),
        ]));
        assert_eq!(segs.len(), 1, "{segs:?}");
        assert!((segs[0].1 - 3.3).abs() < 0.011);
    }

    #[test]
    fn faint_background_is_not_the_speaker() {
        // Loud speech, then a long stretch of babble 35 dB below it.
        let segs = run(&frames(&[
            (0.5, -70.0),
            (2.0, -20.0),
            (3.0, -55.0),
            (0.5, -70.0),
            (2.0, -20.0),
        ]));
        assert_eq!(segs.len(), 2, "{segs:?}");
    }

    #[test]
    fn silence_gives_no_speech() {
        assert!(run(&frames(&[(5.0, -200.0)])).is_empty());
        assert!(run(&frames(&[(5.0, -50.0)])).is_empty());
    }
}
