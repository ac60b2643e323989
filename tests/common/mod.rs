//! Helpers shared by the integration tests.

use std::path::Path;

/// Writes a mono 16-bit WAV of `seconds` at `rate` Hz whose sample at time t (seconds) is
/// `sample(t)`, full scale 1.0.
pub fn write_mono_wav(path: &Path, rate: u32, seconds: f64, mut sample: impl FnMut(f64) -> f64) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create wav");
    for i in 0..(rate as f64 * seconds).round() as usize {
        let v = sample(i as f64 / rate as f64);
        w.write_sample((v * 32767.0) as i16).expect("write wav");
    }
    w.finalize().expect("finish wav");
}
