//! Small streaming primitives: biquad filters and percentile histograms.

mod histogram;
mod sliding;
mod true_peak;

pub use histogram::LogHistogram;
pub use sliding::{SlidingExtreme, SlidingQuantile};
pub use true_peak::TruePeak;

/// A second-order IIR section (RBJ cookbook), processed sample by sample.
#[derive(Debug, Clone, Copy)]
pub struct Biquad {
    b0: f32,
    b1: f32,
    b2: f32,
    a1: f32,
    a2: f32,
    z1: f32,
    z2: f32,
    since_flush: u32,
}

impl Biquad {
    fn from_coefficients(b: [f64; 3], a: [f64; 3]) -> Biquad {
        let a0 = a[0];
        Biquad {
            b0: (b[0] / a0) as f32,
            b1: (b[1] / a0) as f32,
            b2: (b[2] / a0) as f32,
            a1: (a[1] / a0) as f32,
            a2: (a[2] / a0) as f32,
            z1: 0.0,
            z2: 0.0,
            since_flush: 0,
        }
    }

    /// A high-pass at `cutoff_hz` with quality `q` (0.7071 = Butterworth).
    pub fn high_pass(sample_rate_hz: f64, cutoff_hz: f64, q: f64) -> Biquad {
        let w0 = 2.0 * std::f64::consts::PI * cutoff_hz / sample_rate_hz;
        let (sin, cos) = w0.sin_cos();
        let alpha = sin / (2.0 * q);
        Biquad::from_coefficients(
            [(1.0 + cos) / 2.0, -(1.0 + cos), (1.0 + cos) / 2.0],
            [1.0 + alpha, -2.0 * cos, 1.0 - alpha],
        )
    }

    /// A low-pass at `cutoff_hz` with quality `q`.
    pub fn low_pass(sample_rate_hz: f64, cutoff_hz: f64, q: f64) -> Biquad {
        let w0 = 2.0 * std::f64::consts::PI * cutoff_hz / sample_rate_hz;
        let (sin, cos) = w0.sin_cos();
        let alpha = sin / (2.0 * q);
        Biquad::from_coefficients(
            [(1.0 - cos) / 2.0, 1.0 - cos, (1.0 - cos) / 2.0],
            [1.0 + alpha, -2.0 * cos, 1.0 - alpha],
        )
    }

    /// Filters one sample (transposed direct form II).
    ///
    /// Every 64 samples, states that have decayed below the smallest normal f32 (about
    /// 1e-38, -760 dBFS) are set to zero: after digital silence they would otherwise stay
    /// subnormal, and arithmetic on subnormals is many times slower on x86. Such values are
    /// far below anything measured. (Checking every sample would lengthen the filter's
    /// dependency chain; the counter does not.)
    #[inline]
    pub fn process(&mut self, x: f32) -> f32 {
        let y = self.b0 * x + self.z1;
        self.z1 = self.b1 * x - self.a1 * y + self.z2;
        self.z2 = self.b2 * x - self.a2 * y;
        self.since_flush = self.since_flush.wrapping_add(1);
        if self.since_flush.is_multiple_of(64) {
            self.z1 = flush_subnormal(self.z1);
            self.z2 = flush_subnormal(self.z2);
        }
        y
    }
}

/// Zero for subnormal values (magnitude below `f32::MIN_POSITIVE`), else the value.
#[inline]
fn flush_subnormal(v: f32) -> f32 {
    if v.abs() < f32::MIN_POSITIVE {
        0.0
    } else {
        v
    }
}

/// Converts a power ratio to decibels, with a floor instead of minus infinity.
#[inline]
pub fn power_db(power: f64) -> f64 {
    10.0 * power.max(1e-20).log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gain_at(filter: Biquad, rate: f64, freq: f64) -> f64 {
        let mut f = filter;
        let n = (rate * 0.5) as usize;
        let mut energy_in = 0.0;
        let mut energy_out = 0.0;
        for i in 0..n {
            let x = (2.0 * std::f64::consts::PI * freq * i as f64 / rate).sin() as f32;
            let y = f.process(x);
            if i > n / 2 {
                energy_in += (x * x) as f64;
                energy_out += (y * y) as f64;
            }
        }
        power_db(energy_out / energy_in)
    }

    #[test]
    fn decay_after_silence_skips_subnormals() {
        // An impulse, then digital silence: the tail decays to exactly zero after at most
        // one flush period of subnormal values (slow on x86).
        for mut f in [
            Biquad::low_pass(16000.0, 900.0, std::f64::consts::FRAC_1_SQRT_2),
            Biquad::high_pass(8000.0, 200.0, std::f64::consts::FRAC_1_SQRT_2),
        ] {
            let mut outputs = vec![f.process(1.0)];
            outputs.extend((0..200_000).map(|_| f.process(0.0)));
            let subnormal = outputs
                .iter()
                .filter(|y| **y != 0.0 && !y.is_normal())
                .count();
            assert!(subnormal <= 64, "{subnormal} subnormal outputs");
            assert_eq!(outputs.last(), Some(&0.0));
            assert!(outputs[1..100].iter().any(|y| y.abs() > 1e-3));
        }
    }

    #[test]
    fn butterworth_is_3db_down_at_cutoff() {
        let hp = Biquad::high_pass(8000.0, 300.0, std::f64::consts::FRAC_1_SQRT_2);
        assert!((gain_at(hp, 8000.0, 300.0) + 3.01).abs() < 0.2);
        assert!(gain_at(hp, 8000.0, 2000.0).abs() < 0.2);
        let lp = Biquad::low_pass(16000.0, 3400.0, std::f64::consts::FRAC_1_SQRT_2);
        assert!((gain_at(lp, 16000.0, 3400.0) + 3.01).abs() < 0.2);
        assert!(gain_at(lp, 16000.0, 7000.0) < -20.0);
    }
}
