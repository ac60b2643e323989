//! Properties of the streaming analyzer that must hold for any input:
//! any chunking of the same audio gives the same report; silence gives no speech; a gain
//! change moves every level by exactly the gain.

use agentvoice::audio::{AgentChannel, Layout, MonoRole};
use agentvoice::{Analyzer, CallReport, Config};
use proptest::prelude::*;

/// A deterministic speech-like signal: a voiced tone with syllable-rate bursts and pauses,
/// with per-channel variation so stereo channels differ.
fn speechy(seed: u64, seconds: f64, rate: u32, channels: usize, peak: f32) -> Vec<f32> {
    let frames = (seconds * rate as f64) as usize;
    let f0 = 110.0 + (seed % 90) as f64;
    let syllable_hz = 3.0 + (seed % 5) as f64 * 0.5;
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(frames * channels);
    for i in 0..frames {
        let t = i as f64 / rate as f64;
        for ch in 0..channels {
            // Each channel talks in its own 2 s turns; the other is quiet then.
            let turn = ((t / 2.0) as usize + ch).is_multiple_of(2) || channels == 1;
            let pause = (t % 3.7) > 3.0;
            let envelope = if turn && !pause {
                (std::f64::consts::PI * syllable_hz * t).sin().abs()
            } else {
                0.0
            };
            let voice: f64 = (1..=4)
                .map(|h| (2.0 * std::f64::consts::PI * f0 * h as f64 * t).sin() / h as f64)
                .sum();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            out.push((peak as f64 * (0.45 * envelope * voice + 0.003 * noise)) as f32);
        }
    }
    out
}

fn layout(channels: usize) -> Layout {
    Layout::for_channels(channels, AgentChannel::Left, MonoRole::Mixed)
}

/// Analyses `samples` pushed in blocks of the given sizes (in frames, cycled).
fn analyse(samples: &[f32], rate: u32, channels: usize, chunks_frames: &[usize]) -> CallReport {
    let mut analyzer = Analyzer::new(&Config::default(), rate, channels, layout(channels));
    let mut at = 0;
    let mut sizes = chunks_frames.iter().cycle();
    while at < samples.len() {
        let n = sizes.next().copied().unwrap_or(usize::MAX).max(1);
        let end = samples
            .len()
            .min(at.saturating_add(n.saturating_mul(channels)));
        analyzer.push_interleaved(&samples[at..end]);
        at = end;
    }
    analyzer.finish()
}

fn rate_strategy() -> impl Strategy<Value = u32> {
    prop_oneof![Just(8000u32), Just(16000u32), Just(11025u32)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Pushing the same audio in any blocks (one sample frame up to seconds) gives the
    /// identical report, field for field.
    #[test]
    fn any_chunking_gives_the_same_report(
        seed in any::<u64>(),
        seconds in 1.0f64..6.0,
        rate in rate_strategy(),
        channels in 1usize..=2,
        chunks in prop::collection::vec(1usize..5000, 1..8),
    ) {
        let samples = speechy(seed, seconds, rate, channels, 0.8);
        let whole = analyse(&samples, rate, channels, &[usize::MAX]);
        let chunked = analyse(&samples, rate, channels, &chunks);
        prop_assert_eq!(whole, chunked);
    }

    /// Digital silence, of any length, rate and channel count, has no speech, no greeting
    /// and no loudness, and nothing in it is NaN.
    #[test]
    fn silence_gives_no_speech(
        seconds in 0.0f64..8.0,
        rate in rate_strategy(),
        channels in 1usize..=2,
    ) {
        let samples = vec![0.0f32; (seconds * rate as f64) as usize * channels];
        let report = analyse(&samples, rate, channels, &[4096]);
        let speech = report.speech.as_ref().unwrap();
        prop_assert!(speech.segments.is_empty(), "{:?}", speech.segments);
        prop_assert_eq!(speech.talk_time_s, 0.0);
        prop_assert_eq!(report.silence.as_ref().unwrap().greeting_latency_s, None);
        prop_assert_eq!(report.loudness.as_ref().unwrap().integrated_lufs, None);
        if let Some(c) = &report.customer {
            prop_assert!(c.speech.segments.is_empty());
        }
        prop_assert!(report.warnings.iter().any(|w| w.contains("no speech")));
    }

    /// Steady quiet noise is not speech either.
    #[test]
    fn steady_noise_gives_no_speech(
        seed in any::<u64>(),
        level_db in -70.0f64..-30.0,
        rate in rate_strategy(),
    ) {
        let amplitude = 10f64.powf(level_db / 20.0) as f32;
        let mut state = seed | 1;
        let samples: Vec<f32> = (0..6 * rate as usize)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                amplitude * ((state >> 11) as f64 / (1u64 << 52) as f64 - 1.0) as f32
            })
            .collect();
        let report = analyse(&samples, rate, 1, &[4096]);
        let speech = report.speech.as_ref().unwrap();
        prop_assert!(speech.segments.is_empty(), "{} dB: {:?}", level_db, speech.segments);
    }

    /// Scaling the signal by `gain_db` moves integrated loudness, sample peak and true peak
    /// by exactly `gain_db` (to the 0.001 rounding of the report), and the active speech
    /// level by the gain to within its histogram's resolution.
    #[test]
    fn gain_moves_loudness_by_the_gain(
        seed in any::<u64>(),
        gain_db in -20.0f64..6.0,
        rate in rate_strategy(),
        channels in 1usize..=2,
    ) {
        let samples = speechy(seed, 5.0, rate, channels, 0.4);
        let gain = 10f64.powf(gain_db / 20.0);
        let louder: Vec<f32> = samples.iter().map(|&s| (s as f64 * gain) as f32).collect();
        let a = analyse(&samples, rate, channels, &[4096]);
        let b = analyse(&louder, rate, channels, &[4096]);
        let (la, lb) = (a.loudness.unwrap(), b.loudness.unwrap());
        let shift = |x: Option<f64>, y: Option<f64>| y.unwrap() - x.unwrap();
        let tol = 0.0021;
        prop_assert!((shift(la.integrated_lufs, lb.integrated_lufs) - gain_db).abs() < tol,
            "integrated {:?} -> {:?}, gain {}", la.integrated_lufs, lb.integrated_lufs, gain_db);
        prop_assert!((shift(la.sample_peak_dbfs, lb.sample_peak_dbfs) - gain_db).abs() < tol);
        prop_assert!((shift(la.true_peak_dbtp, lb.true_peak_dbtp) - gain_db).abs() < tol);
        prop_assert!((shift(a.file_integrated_lufs, b.file_integrated_lufs) - gain_db).abs() < tol);
        let asl = shift(la.active_speech_level_dbov, lb.active_speech_level_dbov);
        prop_assert!((asl - gain_db).abs() < 0.1, "active speech level moved {} for {}", asl, gain_db);
    }
}
