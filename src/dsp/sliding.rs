//! Sliding minimum or maximum over a window of frame indices (a monotonic deque): O(1)
//! amortised per value, memory bounded by the window.

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
}
