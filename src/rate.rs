//! Syllable nuclei: counting syllables without a transcript.
//!
//! Design A ("prominent voiced peaks"): the band-energy envelope, smoothed over 30 ms, is
//! scanned for peaks that stand at least `min_prominence_db` above the dips on both sides;
//! a peak counts as a syllable nucleus when its frame is speech and voiced, and it is at
//! least `min_spacing_s` after the previous nucleus. Streaming: a peak is confirmed as soon
//! as the envelope has fallen by the prominence after it.

use crate::vad::Decision;

/// Settings of the nucleus detector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NucleusSettings {
    /// A peak must rise this far above the dips on both sides, dB.
    pub min_prominence_db: f32,
    /// Nuclei closer than this are one, seconds.
    pub min_spacing_s: f64,
    /// A nucleus frame must be at least this periodic (0..1).
    pub min_voicing: f32,
}

impl Default for NucleusSettings {
    fn default() -> Self {
        NucleusSettings {
            min_prominence_db: 2.0,
            min_spacing_s: 0.1,
            min_voicing: 0.45,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    time_s: f64,
    db: f32,
    valid: bool,
}

/// Streaming syllable-nucleus detector for one channel.
pub struct SyllableCounter {
    settings: NucleusSettings,
    window: [f32; 3],
    window_decisions: [Option<Decision>; 3],
    rising: bool,
    valley_db: f32,
    peak: Option<Candidate>,
    nuclei_s: Vec<f64>,
}

impl SyllableCounter {
    /// A counter with these settings.
    pub fn new(settings: NucleusSettings) -> SyllableCounter {
        SyllableCounter {
            settings,
            window: [0.0; 3],
            window_decisions: [None; 3],
            rising: true,
            valley_db: f32::INFINITY,
            peak: None,
            nuclei_s: Vec::new(),
        }
    }

    /// Adds one decided frame.
    pub fn push(&mut self, decision: Decision) {
        let power = 10f32.powf(decision.frame.energy_db / 10.0);
        self.window = [self.window[1], self.window[2], power];
        self.window_decisions = [
            self.window_decisions[1],
            self.window_decisions[2],
            Some(decision),
        ];
        // The smoothed value belongs to the middle frame of the three.
        let Some(centre) = self.window_decisions[1] else {
            return;
        };
        let mean = (self.window[0] + self.window[1] + self.window[2]) / 3.0;
        let db = 10.0 * mean.max(1e-20).log10();
        let valid = centre.active && centre.frame.voicing >= self.settings.min_voicing;
        self.step(Candidate {
            time_s: 0.5 * (centre.frame.start_s + centre.frame.end_s),
            db,
            valid,
        });
    }

    fn step(&mut self, c: Candidate) {
        let prominence = self.settings.min_prominence_db;
        if self.valley_db.is_infinite() {
            self.valley_db = c.db;
        }
        if self.rising {
            match self.peak {
                Some(p) if c.db <= p.db => {
                    if c.db < p.db - prominence {
                        // The envelope fell by the prominence: `p` is a peak.
                        if p.valid && p.db - self.valley_db >= prominence {
                            self.accept(p.time_s);
                        }
                        self.rising = false;
                        self.valley_db = c.db;
                        self.peak = None;
                    }
                }
                _ => self.peak = Some(c),
            }
        } else if c.db < self.valley_db {
            self.valley_db = c.db;
        } else if c.db > self.valley_db + prominence {
            self.rising = true;
            self.peak = Some(c);
        }
    }

    fn accept(&mut self, time_s: f64) {
        if let Some(&last) = self.nuclei_s.last() {
            if time_s - last < self.settings.min_spacing_s {
                return;
            }
        }
        self.nuclei_s.push(time_s);
    }

    /// Flushes the last candidate (a peak at the very end of the recording).
    pub fn finish(&mut self) {
        if let Some(p) = self.peak.take() {
            if self.rising && p.valid && p.db - self.valley_db >= self.settings.min_prominence_db {
                self.accept(p.time_s);
            }
        }
    }

    /// Times of the nuclei found so far, seconds.
    pub fn nuclei_s(&self) -> &[f64] {
        &self.nuclei_s
    }
}

/// Counts the nuclei that fall inside speech segments (both lists sorted by time).
pub fn count_in_segments(nuclei_s: &[f64], segments: &[(f64, f64)]) -> usize {
    let mut count = 0;
    let mut k = 0;
    for &t in nuclei_s {
        while k < segments.len() && segments[k].1 < t {
            k += 1;
        }
        if k < segments.len() && segments[k].0 <= t {
            count += 1;
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::{Frame, HOP_S};

    fn decisions(envelope_db: &[f32]) -> Vec<Decision> {
        envelope_db
            .iter()
            .enumerate()
            .map(|(i, &db)| Decision {
                frame: Frame {
                    index: i as u64,
                    start_s: i as f64 * HOP_S,
                    end_s: (i + 1) as f64 * HOP_S,
                    energy_db: db,
                    voicing: 0.9,
                    f0_hz: Some(150.0),
                },
                active: db > -40.0,
            })
            .collect()
    }

    #[test]
    fn counts_syllable_like_bumps() {
        // 10 bumps of 200 ms, 12 dB deep dips between them: 5 syllables per second.
        let env: Vec<f32> = (0..200)
            .map(|i| -30.0 - 12.0 * (1.0 - ((i % 20) as f32 / 20.0 * std::f32::consts::PI).sin()))
            .collect();
        let mut c = SyllableCounter::new(NucleusSettings::default());
        for d in decisions(&env) {
            c.push(d);
        }
        c.finish();
        assert_eq!(c.nuclei_s().len(), 10, "{:?}", c.nuclei_s());
    }

    #[test]
    fn shallow_ripples_are_not_syllables() {
        let env: Vec<f32> = (0..200)
            .map(|i| -30.0 + if i % 6 < 3 { 0.5 } else { -0.5 })
            .collect();
        let mut c = SyllableCounter::new(NucleusSettings::default());
        for d in decisions(&env) {
            c.push(d);
        }
        c.finish();
        assert!(c.nuclei_s().len() <= 1, "{:?}", c.nuclei_s());
    }

    #[test]
    fn nuclei_outside_segments_do_not_count() {
        assert_eq!(
            count_in_segments(&[0.5, 1.5, 2.5, 3.5], &[(1.0, 2.0), (3.0, 4.0)]),
            2
        );
        assert_eq!(count_in_segments(&[], &[(1.0, 2.0)]), 0);
    }
}
