//! Sliding minimum or maximum over a window of frame indices (a monotonic deque): O(1)
//! amortised per value, memory bounded by the window; and a sliding quantile of levels on
//! a fixed grid of bins.

use std::collections::VecDeque;

/// The running minimum or maximum of the values pushed since a given frame index.
#[derive(Debug, Default)]
pub struct SlidingExtreme {
    deque: VecDeque<(u64, f32)>,
    keep_max: bool,
}

impl SlidingExtreme {
    /// A sliding maximum when `keep_max`, else a sliding minimum.
    pub fn new(keep_max: bool) -> Self {
        SlidingExtreme {
            deque: VecDeque::new(),
            keep_max,
        }
    }

    /// Adds `value` at frame `index` (indices must not decrease).
    pub fn push(&mut self, index: u64, value: f32) {
        while let Some(&(_, last)) = self.deque.back() {
            let dominated = if self.keep_max {
                last <= value
            } else {
                last >= value
            };
            if !dominated {
                break;
            }
            self.deque.pop_back();
        }
        self.deque.push_back((index, value));
    }

    /// Forgets the values pushed before frame `index`.
    pub fn evict_before(&mut self, index: u64) {
        while let Some(&(i, _)) = self.deque.front() {
            if i >= index {
                break;
            }
            self.deque.pop_front();
        }
    }

    /// The extreme of the values kept; `None` when there are none.
    pub fn value(&self) -> Option<f32> {
        self.deque.front().map(|&(_, v)| v)
    }

    /// Adds `value` at `index`, keeps the last `window` frames, and returns their extreme.
    pub fn push_window(&mut self, index: u64, value: f32, window: usize) -> f32 {
        self.push(index, value);
        self.evict_before(index.saturating_sub(window.max(1) as u64 - 1));
        self.value().unwrap_or(value)
    }
}

/// Lowest level a [`SlidingQuantile`] tells apart, dB (lower values share its first bin).
const QUANTILE_MIN_DB: f32 = -130.0;
/// Width of a [`SlidingQuantile`] bin, dB.
const QUANTILE_BIN_DB: f32 = 0.5;
/// Number of [`SlidingQuantile`] bins (up to +10 dB).
const QUANTILE_BINS: usize = 280;

/// A quantile of the levels (dB) pushed since a given frame index, to half a dB: a
/// histogram on a fixed grid plus the indices still in the window, so each push, eviction
/// and query costs a few steps of a pointer that follows the quantile.
#[derive(Debug)]
pub struct SlidingQuantile {
    fraction: f64,
    values: VecDeque<(u64, u16)>,
    counts: Vec<u32>,
    /// The bin holding the quantile, and how many values lie in the bins below it.
    bin: usize,
    below: usize,
}

impl SlidingQuantile {
    /// The running `fraction` quantile (0.5: the median).
    pub fn new(fraction: f64) -> Self {
        SlidingQuantile {
            fraction: fraction.clamp(0.0, 1.0),
            values: VecDeque::new(),
            counts: vec![0; QUANTILE_BINS],
            bin: 0,
            below: 0,
        }
    }

    /// Adds `db` at frame `index` (indices must not decrease); NaN is ignored.
    pub fn push(&mut self, index: u64, db: f32) {
        if db.is_nan() {
            return;
        }
        let position = ((db - QUANTILE_MIN_DB) / QUANTILE_BIN_DB).floor();
        let bin = (position.max(0.0) as usize).min(QUANTILE_BINS - 1);
        self.counts[bin] += 1;
        self.below += usize::from(bin < self.bin);
        self.values.push_back((index, bin as u16));
    }

    /// Forgets the values pushed before frame `index`.
    pub fn evict_before(&mut self, index: u64) {
        while let Some(&(i, bin)) = self.values.front() {
            if i >= index {
                break;
            }
            let bin = usize::from(bin);
            self.counts[bin] -= 1;
            self.below -= usize::from(bin < self.bin);
            self.values.pop_front();
        }
    }

    /// How many values are kept.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when no value is kept.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Any other quantile of the values kept (the centre of its bin, dB), by a scan of the
    /// histogram (for a rare query); `None` when there are none.
    pub fn quantile(&self, fraction: f64) -> Option<f32> {
        let total = self.values.len();
        if total == 0 {
            return None;
        }
        let rank = ((total - 1) as f64 * fraction.clamp(0.0, 1.0)).round() as usize;
        let mut below = 0;
        for (bin, &count) in self.counts.iter().enumerate() {
            below += count as usize;
            if below > rank {
                return Some(QUANTILE_MIN_DB + (bin as f32 + 0.5) * QUANTILE_BIN_DB);
            }
        }
        None
    }

    /// The quantile of the values kept (the centre of its bin, dB); `None` when there are
    /// none.
    pub fn value(&mut self) -> Option<f32> {
        let total = self.values.len();
        if total == 0 {
            return None;
        }
        let rank = ((total - 1) as f64 * self.fraction).round() as usize;
        while self.below > rank {
            self.bin -= 1;
            self.below -= self.counts[self.bin] as usize;
        }
        while self.below + self.counts[self.bin] as usize <= rank {
            self.below += self.counts[self.bin] as usize;
            self.bin += 1;
        }
        Some(QUANTILE_MIN_DB + (self.bin as f32 + 0.5) * QUANTILE_BIN_DB)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_minimum_and_maximum_match_a_naive_scan() {
        let values: Vec<f32> = (0..200)
            .map(|i| ((i * 37 % 23) as f32) - (i % 5) as f32)
            .collect();
        for keep_max in [false, true] {
            let mut s = SlidingExtreme::new(keep_max);
            for (i, &v) in values.iter().enumerate() {
                let got = s.push_window(i as u64, v, 7);
                let window = &values[i.saturating_sub(6)..=i];
                let want = if keep_max {
                    window.iter().copied().fold(f32::MIN, f32::max)
                } else {
                    window.iter().copied().fold(f32::MAX, f32::min)
                };
                assert_eq!(got, want, "at {i}, max {keep_max}");
            }
        }
    }
    #[test]
    fn sliding_quantile_matches_a_sorted_window_to_half_a_db() {
        let values: Vec<f32> = (0..3000)
            .map(|i| -60.0 + ((i * 7919 % 613) as f32) * 0.07 - ((i / 400) % 3) as f32 * 9.0)
            .collect();
        for (fraction, window) in [(0.5, 200_usize), (0.1, 57), (0.9, 1000), (0.5, 1)] {
            let mut q = SlidingQuantile::new(fraction);
            for (i, &v) in values.iter().enumerate() {
                q.push(i as u64, v);
                // Evict in bursts, as a detector that skips frames would.
                if i % 3 == 0 {
                    q.evict_before((i + 1).saturating_sub(window) as u64);
                }
                let first = if i % 3 == 0 {
                    (i + 1).saturating_sub(window)
                } else {
                    q_first(i, window)
                };
                let mut kept: Vec<f32> = values[first..=i].to_vec();
                kept.sort_by(f32::total_cmp);
                let want = kept[((kept.len() - 1) as f64 * fraction).round() as usize];
                let got = q.value().unwrap();
                assert_eq!(q.len(), kept.len(), "at {i}");
                assert!(
                    (got - want).abs() <= 0.5,
                    "at {i}: {got} vs {want} (q {fraction}, window {window})"
                );
                // Any other quantile of the same window, by the scan.
                let other = 1.0 - fraction * 0.8;
                let want = kept[((kept.len() - 1) as f64 * other).round() as usize];
                let got = q.quantile(other).unwrap();
                assert!(
                    (got - want).abs() <= 0.5,
                    "at {i}: {got} vs {want} (scanned q {other}, window {window})"
                );
            }
        }
        let mut empty = SlidingQuantile::new(0.5);
        assert!(empty.value().is_none() && empty.is_empty());
        assert!(empty.quantile(0.25).is_none());
    }

    /// The first index kept at `i` when the last eviction ran at the last multiple of 3.
    fn q_first(i: usize, window: usize) -> usize {
        let last = i - i % 3;
        (last + 1).saturating_sub(window)
    }
}
