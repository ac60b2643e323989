//! A fixed-size histogram on a log-frequency axis, for percentiles in bounded memory.

/// Counts values on a semitone grid between two frequencies; percentiles to a tenth of a
/// semitone without keeping the values.
#[derive(Debug, Clone)]
pub struct LogHistogram {
    min_hz: f64,
    bins_per_semitone: f64,
    counts: Vec<u64>,
    total: u64,
}

impl LogHistogram {
    /// A histogram from `min_hz` to `max_hz` with bins of `1 / bins_per_semitone` semitone.
    pub fn new(min_hz: f64, max_hz: f64, bins_per_semitone: f64) -> LogHistogram {
        let semitones = 12.0 * (max_hz / min_hz).log2();
        let bins = (semitones * bins_per_semitone).ceil().max(1.0) as usize + 1;
        LogHistogram {
            min_hz,
            bins_per_semitone,
            counts: vec![0; bins],
            total: 0,
        }
    }

    /// Adds one value; values outside the range go to the nearest end bin.
    pub fn add(&mut self, hz: f64) {
        if !(hz.is_finite() && hz > 0.0) {
            return;
        }
        let position = 12.0 * (hz / self.min_hz).log2() * self.bins_per_semitone;
        let bin = (position.round().max(0.0) as usize).min(self.counts.len() - 1);
        self.counts[bin] += 1;
        self.total += 1;
    }

    /// Moves the counts more than `max_semitones` above `centre_hz` down an octave and those
    /// more than `max_semitones` below it up an octave (octave-error correction).
    pub fn fold_octave_errors(&self, centre_hz: f64, max_semitones: f64) -> LogHistogram {
        let mut out = LogHistogram {
            counts: vec![0; self.counts.len()],
            ..self.clone()
        };
        let centre = 12.0 * (centre_hz / self.min_hz).log2() * self.bins_per_semitone;
        let limit = max_semitones * self.bins_per_semitone;
        let octave = 12.0 * self.bins_per_semitone;
        for (bin, &count) in self.counts.iter().enumerate() {
            let mut position = bin as f64;
            if position - centre > limit {
                position -= octave;
            } else if centre - position > limit {
                position += octave;
            }
            let target = (position.round().max(0.0) as usize).min(self.counts.len() - 1);
            out.counts[target] += count;
        }
        out
    }

    /// How many values were added.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The value below which `fraction` (0..1) of the values lie, Hz; `None` when empty.
    pub fn percentile_hz(&self, fraction: f64) -> Option<f64> {
        if self.total == 0 {
            return None;
        }
        let rank = (fraction.clamp(0.0, 1.0) * (self.total - 1) as f64).round() as u64;
        let mut seen = 0;
        for (bin, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen > rank {
                let semitones = bin as f64 / self.bins_per_semitone;
                return Some(self.min_hz * 2f64.powf(semitones / 12.0));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_spread_of_known_values() {
        let mut h = LogHistogram::new(50.0, 500.0, 10.0);
        for _ in 0..100 {
            h.add(100.0);
            h.add(200.0);
        }
        h.add(150.0);
        let median = h.percentile_hz(0.5).unwrap();
        assert!((median / 150.0 - 1.0).abs() < 0.01, "{median}");
        let p10 = h.percentile_hz(0.1).unwrap();
        let p90 = h.percentile_hz(0.9).unwrap();
        assert!((12.0 * (p90 / p10).log2() - 12.0).abs() < 0.11);
        assert_eq!(
            LogHistogram::new(50.0, 500.0, 10.0).percentile_hz(0.5),
            None
        );
    }
}
