//! True (inter-sample) peak of one channel, BS.1770-4 Annex 2, computed exactly as the
//! `ebur128` crate (and libebur128) does, but skipping the stretches that cannot raise it.
//!
//! The signal is upsampled 4x (2x at 96 kHz and above) by a 48-tap Hann-windowed sinc, and
//! the peak is the largest magnitude of the upsampled values. The filter is FIR, so each
//! upsampled value depends only on the last `taps` input samples, and its magnitude is at
//! most `gain * max|x|` over them, where `gain` is the largest sum of absolute coefficients
//! of one phase. A stretch of output whose bound does not exceed the peak found so far
//! cannot change the maximum and is skipped; the rest is computed with the same f32
//! coefficients in the same order as the crate, so the result is bit-identical. On speech
//! most of the signal is well below its peak, so few stretches are computed.

/// Total filter length (libebur128's choice).
const TAPS: usize = 48;
/// Outputs whose bound is checked together.
const CHUNK: usize = 64;
/// Headroom on the bound for f32 rounding in the filter sums (12-24 terms: < 2e-6).
const BOUND_MARGIN: f32 = 1.0 + 1e-4;

/// The largest magnitude in `x` (NaN ignored), in a form the compiler vectorises.
fn max_abs(x: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let mut chunks = x.chunks_exact(8);
    for c in &mut chunks {
        for (l, &v) in lanes.iter_mut().zip(c) {
            let a = v.abs();
            *l = if a > *l { a } else { *l };
        }
    }
    let tail = chunks
        .remainder()
        .iter()
        .fold(0.0f32, |m, &v| m.max(v.abs()));
    lanes.iter().fold(tail, |m, &l| m.max(l))
}

/// Streaming true-peak meter for one channel.
#[derive(Debug, Clone)]
pub struct TruePeak {
    /// `taps[k][phase]`: tap `k` (k = 0 the newest sample) of each phase; with 2x
    /// oversampling phases 2 and 3 are zero (their outputs, 0, never raise the peak).
    taps: Vec<[f32; 4]>,
    active_taps: usize,
    gain: f32,
    /// The last `active_taps - 1` samples, then the samples of the block being processed.
    work: Vec<f32>,
    true_peak: f32,
    sample_peak: f32,
}

impl TruePeak {
    /// A meter at `sample_rate_hz`. At 192 kHz and above, as in libebur128, there is no
    /// oversampling and the true peak is the sample peak.
    pub fn new(sample_rate_hz: u32) -> TruePeak {
        let (factor, oversample) = match sample_rate_hz {
            0..=95_999 => (4, true),
            96_000..=191_999 => (2, true),
            _ => (2, false),
        };
        let active_taps = TAPS / factor;
        let window = TAPS as f64;
        let pi = std::f64::consts::PI;
        let coefficients: Vec<f32> = (0..TAPS)
            .map(|j| {
                let j = j as f64;
                let w = 0.5 * (1.0 - (2.0 * pi * j / window).cos());
                let m = j - window / 2.0;
                (if m.abs() > 0.000001 {
                    w * (m * pi / factor as f64).sin() / (m * pi / factor as f64)
                } else {
                    w
                }) as f32
            })
            .collect();
        let gain = (0..factor)
            .map(|p| {
                (0..active_taps)
                    .map(|k| coefficients[k * factor + p].abs())
                    .sum::<f32>()
            })
            .fold(0.0f32, f32::max);
        let taps = (0..active_taps)
            .map(|k| {
                std::array::from_fn(|p| {
                    if p < factor {
                        coefficients[k * factor + p]
                    } else {
                        0.0
                    }
                })
            })
            .collect();
        TruePeak {
            taps,
            active_taps,
            // An infinite bound would compute everything; zero computes nothing.
            gain: if oversample { gain * BOUND_MARGIN } else { 0.0 },
            work: vec![0.0; active_taps - 1],
            true_peak: 0.0,
            sample_peak: 0.0,
        }
    }

    /// Adds the samples `interleaved[offset], interleaved[offset + stride], ...`.
    pub fn push_strided(&mut self, interleaved: &[f32], offset: usize, stride: usize) {
        let history = self.active_taps - 1;
        self.work.truncate(history);
        if stride <= 1 {
            self.work
                .extend_from_slice(interleaved.get(offset..).unwrap_or(&[]));
        } else {
            self.work
                .extend(interleaved.iter().skip(offset).step_by(stride));
        }
        let outputs = self.work.len() - history;
        let mut start = 0;
        while start < outputs {
            let end = (start + CHUNK).min(outputs);
            // Inputs that reach outputs start..end: work[start .. end + history].
            let max_new = max_abs(&self.work[start + history..end + history]);
            let max_in = max_new.max(max_abs(&self.work[start..start + history]));
            self.sample_peak = self.sample_peak.max(max_new);
            if max_in * self.gain > self.true_peak {
                for n in start..end {
                    self.output_peak(n);
                }
            }
            start = end;
        }
        let keep_from = self.work.len() - history;
        self.work.copy_within(keep_from.., 0);
        self.work.truncate(history);
    }

    /// Upsampled values for the input `work[n + history]` (window `work[n ..= n + history]`).
    #[inline]
    fn output_peak(&mut self, n: usize) {
        let window = &self.work[n..n + self.active_taps];
        // Four phases at once, each summed over the taps in the crate's order.
        let mut y = [0.0f32; 4];
        for (tap, &x) in self.taps.iter().zip(window.iter().rev()) {
            for (acc, &c) in y.iter_mut().zip(tap) {
                *acc += x * c;
            }
        }
        for v in y {
            let a = v.abs();
            if a > self.true_peak {
                self.true_peak = a;
            }
        }
    }

    /// The true peak so far, linear (at least the sample peak).
    pub fn peak(&self) -> f64 {
        (self.true_peak as f64).max(self.sample_peak as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ebur128::{EbuR128, Mode};

    fn crate_true_peak(rate: u32, channels: usize, interleaved: &[f32], block: usize) -> Vec<f64> {
        let mut m = EbuR128::new(channels as u32, rate, Mode::TRUE_PEAK).expect("meter");
        for b in interleaved.chunks(block * channels) {
            m.add_frames_f32(b).expect("add");
        }
        (0..channels)
            .map(|c| m.true_peak(c as u32).expect("true peak"))
            .collect()
    }

    #[test]
    fn identical_to_the_ebur128_crate() {
        // Bursts of tones near a quarter of the rate (large inter-sample overs), noise and
        // silence at varying levels, on two channels, in uneven blocks.
        let mut state = 99u32;
        let mut noise = || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        for rate in [8_000u32, 16_000, 44_100, 96_000] {
            let frames = rate as usize * 2;
            let mut interleaved = Vec::with_capacity(frames * 2);
            for i in 0..frames {
                let t = i as f64 / rate as f64;
                let burst = ((t * 7.0) as usize % 3) as f32 * 0.3;
                let tone = (2.0 * std::f64::consts::PI * (rate as f64 / 4.1) * t + 0.7).sin();
                interleaved.push(burst * tone as f32 + 0.01 * noise());
                interleaved.push(if i % 1000 < 300 { 0.0 } else { 0.4 * noise() });
            }
            for block in [1usize, 7, 1024] {
                let expected = crate_true_peak(rate, 2, &interleaved, block);
                let mut ours = [TruePeak::new(rate), TruePeak::new(rate)];
                for b in interleaved.chunks(block * 2) {
                    for (c, m) in ours.iter_mut().enumerate() {
                        m.push_strided(b, c, 2);
                    }
                }
                let got: Vec<f64> = ours.iter().map(TruePeak::peak).collect();
                assert_eq!(got, expected, "{rate} Hz, blocks of {block}");
                assert!(got[0] > 0.6, "{got:?}");
            }
        }
    }

    #[test]
    fn sample_peak_at_192_khz_as_the_crate() {
        let signal: Vec<f32> = (0..20_000)
            .map(|i| (0.5 * (i as f64 * 1.3).sin()) as f32)
            .collect();
        let mut ours = TruePeak::new(192_000);
        ours.push_strided(&signal, 0, 1);
        assert_eq!(
            vec![ours.peak()],
            crate_true_peak(192_000, 1, &signal, 4096)
        );
        assert!(ours.peak() > 0.49);
    }
}
