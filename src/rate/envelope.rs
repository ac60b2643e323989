//! Sub-band energy envelopes at the 10 ms frame hop, from raw samples (realfft).
//!
//! Frame `k` covers the `window` samples that end where the feature extractor's frame `k`
//! ends (sample `(k + 1) * hop`), so envelopes and voice-activity decisions line up by frame
//! index. The bands span 300-3400 Hz at every sample rate, so wideband and telephone audio
//! are measured on the same part of the spectrum.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

/// Number of sub-bands.
pub const BANDS: usize = 6;
/// Lowest band edge, Hz.
pub const LOW_HZ: f64 = 300.0;
/// Highest band edge, Hz.
pub const HIGH_HZ: f64 = 3400.0;
/// Analysis window, seconds.
pub const WINDOW_S: f64 = 0.016;

/// Band energies of one frame (linear power, mean square re full scale).
pub type BandFrame = [f32; BANDS];

/// Streaming sub-band envelope extractor for one channel.
pub struct BandEnvelope {
    hop: usize,
    ring: Vec<f32>,
    ring_pos: usize,
    fill: usize,
    seen: u64,
    index: u64,
    window: Vec<f32>,
    fft: Arc<dyn RealToComplex<f32>>,
    input: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    /// `[first_bin, end_bin)` of each band.
    bins: [(usize, usize); BANDS],
    /// Scale from summed |X|^2 to mean-square power.
    norm: f32,
}

impl BandEnvelope {
    /// An extractor at `sample_rate_hz` with a frame every `hop` samples.
    pub fn new(sample_rate_hz: u32, hop: usize) -> BandEnvelope {
        let rate = f64::from(sample_rate_hz.max(1));
        let hop = hop.max(1);
        let win = ((rate * WINDOW_S).round() as usize).max(8);
        let fft_len = win.next_power_of_two();
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(fft_len);
        let window: Vec<f32> = (0..win)
            .map(|i| {
                let x = std::f64::consts::PI * 2.0 * (i as f64 + 0.5) / win as f64;
                (0.5 - 0.5 * x.cos()) as f32
            })
            .collect();
        let window_power: f32 = window.iter().map(|w| w * w).sum();
        let bin_hz = rate / fft_len as f64;
        let nyquist_bin = fft_len / 2;
        let mut bins = [(0usize, 0usize); BANDS];
        let top = HIGH_HZ.min(rate * 0.45);
        let ratio = (top / LOW_HZ).max(1.0).powf(1.0 / BANDS as f64);
        for (j, b) in bins.iter_mut().enumerate() {
            let lo = LOW_HZ * ratio.powi(j as i32);
            let hi = LOW_HZ * ratio.powi(j as i32 + 1);
            let first = ((lo / bin_hz).round() as usize).min(nyquist_bin);
            let end = ((hi / bin_hz).round() as usize).clamp(first + 1, nyquist_bin + 1);
            *b = (first, end);
        }
        let spectrum = fft.make_output_vec();
        let scratch = fft.make_scratch_vec();
        BandEnvelope {
            hop,
            ring: vec![0.0; win],
            ring_pos: 0,
            fill: 0,
            seen: 0,
            index: 0,
            window,
            input: vec![0.0; fft_len],
            fft,
            spectrum,
            scratch,
            bins,
            norm: 2.0 / (window_power.max(1e-12) * fft_len as f32),
        }
    }

    /// Adds samples; calls `on_frame(index, bands)` for every completed frame.
    pub fn push(&mut self, samples: &[f32], mut on_frame: impl FnMut(u64, &BandFrame)) {
        let win = self.ring.len();
        let mut rest = samples;
        while !rest.is_empty() {
            let take = (self.hop - self.fill).min(rest.len());
            let (now, later) = rest.split_at(take);
            // Copy into the ring in at most two contiguous pieces.
            let mut src = now;
            while !src.is_empty() {
                let n = (win - self.ring_pos).min(src.len());
                let dst = &mut self.ring[self.ring_pos..self.ring_pos + n];
                for (d, &x) in dst.iter_mut().zip(&src[..n]) {
                    *d = if x.is_finite() { x } else { 0.0 };
                }
                self.ring_pos = (self.ring_pos + n) % win;
                src = &src[n..];
            }
            rest = later;
            self.fill += take;
            self.seen += take as u64;
            if self.fill == self.hop {
                self.fill = 0;
                let bands = self.analyse();
                on_frame(self.index, &bands);
                self.index += 1;
            }
        }
    }

    /// Frames produced so far.
    pub fn frames(&self) -> u64 {
        self.index
    }

    fn analyse(&mut self) -> BandFrame {
        let win = self.ring.len();
        // Oldest sample first: the ring from its write position, then from its start.
        let (newer, older) = self.ring.split_at(self.ring_pos);
        let (w_older, w_newer) = self.window.split_at(older.len());
        let (in_older, rest) = self.input.split_at_mut(older.len());
        let (in_newer, padding) = rest.split_at_mut(newer.len());
        for ((d, &x), &w) in in_older.iter_mut().zip(older).zip(w_older) {
            *d = x * w;
        }
        for ((d, &x), &w) in in_newer.iter_mut().zip(newer).zip(w_newer) {
            *d = x * w;
        }
        padding.fill(0.0);
        debug_assert_eq!(older.len() + newer.len(), win);
        let mut bands = [0.0f32; BANDS];
        if self
            .fft
            .process_with_scratch(&mut self.input, &mut self.spectrum, &mut self.scratch)
            .is_err()
        {
            return bands;
        }
        for (b, &(first, end)) in bands.iter_mut().zip(&self.bins) {
            let sum: f32 = self.spectrum[first..end].iter().map(|c| c.norm_sqr()).sum();
            *b = sum * self.norm;
        }
        bands
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate: u32, hz: f64, seconds: f64, amp: f32) -> Vec<f32> {
        (0..(rate as f64 * seconds) as usize)
            .map(|i| amp * (2.0 * std::f64::consts::PI * hz * i as f64 / rate as f64).sin() as f32)
            .collect()
    }

    #[test]
    fn a_tone_lands_in_its_band_with_its_power() {
        for rate in [8000u32, 16000, 44100] {
            let hop = (rate as f64 * 0.01).round() as usize;
            let mut env = BandEnvelope::new(rate, hop);
            let mut frames = Vec::new();
            env.push(&tone(rate, 1200.0, 0.5, 0.5), |_, b| frames.push(*b));
            assert_eq!(frames.len(), 50);
            let last = frames[40];
            let total: f32 = last.iter().sum();
            // A sine of amplitude 0.5 has mean square 0.125.
            assert!((total / 0.125 - 1.0).abs() < 0.25, "{rate}: {total}");
            let loudest = (0..BANDS)
                .max_by(|&a, &b| last[a].total_cmp(&last[b]))
                .unwrap_or(0);
            let (first, end) = env.bins[loudest];
            let bin_hz = rate as f64 / env.input.len() as f64;
            assert!(first as f64 * bin_hz <= 1300.0 && end as f64 * bin_hz >= 1100.0);
        }
    }

    #[test]
    fn out_of_band_tones_are_left_out() {
        let mut env = BandEnvelope::new(16000, 160);
        let mut last = [0.0; BANDS];
        env.push(&tone(16000, 100.0, 0.3, 0.5), |_, b| last = *b);
        let total: f32 = last.iter().sum();
        assert!(total < 0.125 * 0.05, "{total}");
    }
}
