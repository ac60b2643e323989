//! Shared bench inputs: deterministic speech-like audio, and helpers to write it as WAV.
//!
//! Throughput is reported with one criterion "element" per second of audio, so criterion's
//! `elem/s` figure reads directly as "x real time" (`12.3 Kelem/s` = 12,300x real time).

#![allow(dead_code)]

use std::path::Path;

use criterion::Throughput;

/// Seconds of audio in each bench input.
pub const SECONDS: f64 = 60.0;

/// The criterion throughput of `seconds` of audio: elem/s = x real time.
pub fn realtime(seconds: f64) -> Throughput {
    Throughput::Elements(seconds.round() as u64)
}

/// A small linear congruential generator: the same "random" audio on every run.
struct Lcg(u32);

impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (self.0 >> 8) as f32 / (1u32 << 24) as f32
    }
}

/// Speech-like mono audio: talk spurts of 1-4 s (a harmonic voice gliding between 100 and
/// 220 Hz, amplitude-modulated at syllable rate) separated by 0.3-2.5 s pauses, over faint
/// noise, at about -26 dBFS while talking.
pub fn speech_like(rate_hz: u32, seconds: f64, seed: u32) -> Vec<f32> {
    let n = (rate_hz as f64 * seconds) as usize;
    let mut rng = Lcg(seed.wrapping_mul(2_654_435_761).wrapping_add(1));
    let mut out = Vec::with_capacity(n);
    let rate = rate_hz as f64;
    let mut phase = 0.0f64;
    let mut i = 0usize;
    let mut talking = seed.is_multiple_of(2);
    while i < n {
        let len_s = if talking {
            1.0 + 3.0 * rng.next() as f64
        } else {
            0.3 + 2.2 * rng.next() as f64
        };
        let len = ((len_s * rate) as usize).min(n - i);
        let f0_start = 100.0 + 120.0 * rng.next() as f64;
        let f0_end = 100.0 + 120.0 * rng.next() as f64;
        let syllable_hz = 3.5 + 2.0 * rng.next() as f64;
        for k in 0..len {
            let noise = (rng.next() - 0.5) * 0.002;
            let sample = if talking {
                let t = k as f64 / rate;
                let f0 = f0_start + (f0_end - f0_start) * k as f64 / len as f64;
                phase += 2.0 * std::f64::consts::PI * f0 / rate;
                let envelope = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * syllable_hz * t).cos();
                let voice =
                    0.05 * phase.sin() + 0.03 * (2.0 * phase).sin() + 0.02 * (3.0 * phase).sin();
                (voice * envelope) as f32 + noise
            } else {
                noise
            };
            out.push(sample);
        }
        i += len;
        talking = !talking;
    }
    out
}

/// Two speech-like channels interleaved (agent left, customer right).
pub fn stereo_like(rate_hz: u32, seconds: f64) -> Vec<f32> {
    let left = speech_like(rate_hz, seconds, 1);
    let right = speech_like(rate_hz, seconds, 2);
    left.iter()
        .zip(&right)
        .flat_map(|(&l, &r)| [l, r])
        .collect()
}

/// Writes interleaved samples as 16-bit PCM WAV.
pub fn write_wav(path: &Path, rate_hz: u32, channels: u16, samples: &[f32]) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate_hz,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create bench wav");
    for &s in samples {
        w.write_sample((s.clamp(-1.0, 1.0) * 32767.0) as i16)
            .expect("write bench wav");
    }
    w.finalize().expect("finish bench wav");
}
