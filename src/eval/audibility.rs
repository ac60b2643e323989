//! Whether a gap's boundary can be heard at all: how far the line's band energy rises over
//! its noise around it (for `eval calls --misses`). A truth whose speech ends half a second
//! after the last sound above the noise cannot be matched by any detector reading the
//! audio; a miss beside audible speech is the detector's.

use std::path::Path;

use crate::audio::AudioSource;
use crate::features::{FrameExtractor, HOP_S};
use crate::Result;

/// Band energy of one 10 ms frame: `(start_s, energy_db)`.
pub type EnergyFrame = (f64, f32);

/// The band energy frames of each channel of the recording at `path` whose middle lies
/// inside one of `windows_s` (`[start_s, end_s]`), read block by block: memory grows with
/// the windows, not with the recording.
pub fn band_energy_in(path: &Path, windows_s: &[[f64; 2]]) -> Result<Vec<Vec<EnergyFrame>>> {
    let mut source = AudioSource::open(path)?;
    let spec = source.spec();
    let channels = spec.channels.max(1);
    let mut extractors: Vec<FrameExtractor> = (0..channels)
        .map(|_| FrameExtractor::energy_only(spec.sample_rate))
        .collect();
    let mut out = vec![Vec::new(); channels];
    let mut channel = Vec::new();
    let inside = |t: f64| windows_s.iter().any(|w| t >= w[0] && t < w[1]);
    while let Some(block) = source.next_block()? {
        for (c, fx) in extractors.iter_mut().enumerate() {
            channel.clear();
            channel.extend(block.iter().skip(c).step_by(channels));
            fx.push(&channel, |f| {
                if inside(f.start_s + HOP_S / 2.0) {
                    out[c].push((f.start_s, f.energy_db));
                }
            });
        }
    }
    Ok(out)
}

/// The median band energy of the frames inside `span_s`, dB (`None` without frames).
pub fn noise_db(frames: &[EnergyFrame], span_s: [f64; 2]) -> Option<f32> {
    let mut inside: Vec<f32> = frames
        .iter()
        .filter(|f| f.0 >= span_s[0] && f.0 < span_s[1])
        .map(|f| f.1)
        .collect();
    if inside.is_empty() {
        return None;
    }
    inside.sort_by(f32::total_cmp);
    Some(inside[inside.len() / 2])
}

/// The frames inside `span_s` whose energy lies more than `margin_db` over `noise_db`.
fn sounds(
    frames: &[EnergyFrame],
    span_s: [f64; 2],
    noise_db: f32,
    margin_db: f32,
) -> impl DoubleEndedIterator<Item = &EnergyFrame> {
    frames
        .iter()
        .filter(move |f| f.0 >= span_s[0] && f.0 < span_s[1] && f.1 > noise_db + margin_db)
}

/// The end of the last frame inside `span_s` whose energy lies more than `margin_db` over
/// `noise_db`, seconds.
pub fn last_sound_s(
    frames: &[EnergyFrame],
    span_s: [f64; 2],
    noise_db: f32,
    margin_db: f32,
) -> Option<f64> {
    sounds(frames, span_s, noise_db, margin_db)
        .next_back()
        .map(|f| f.0 + HOP_S)
}

/// The start of the first frame inside `span_s` whose energy lies more than `margin_db`
/// over `noise_db`, seconds.
pub fn first_sound_s(
    frames: &[EnergyFrame],
    span_s: [f64; 2],
    noise_db: f32,
    margin_db: f32,
) -> Option<f64> {
    sounds(frames, span_s, noise_db, margin_db)
        .next()
        .map(|f| f.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames of 10 ms from 0 s: `level(t)` dB.
    fn frames(duration_s: f64, level: impl Fn(f64) -> f32) -> Vec<EnergyFrame> {
        (0..(duration_s * 100.0).round() as usize)
            .map(|i| {
                let t = i as f64 * 0.01;
                (t, level(t))
            })
            .collect()
    }

    #[test]
    fn the_last_and_first_sounds_over_the_noise_are_found() {
        // Speech at -30 dB until 2.0 s and from 5.0 s, noise at -60 dB between, with a
        // faint tail (-57 dB, 3 dB over the noise) from 2.0 to 2.4 s.
        let fs = frames(7.0, |t| match t {
            t if !(2.0..5.0).contains(&t) => -30.0,
            t if t < 2.4 => -57.0,
            _ => -60.0,
        });
        let noise = noise_db(&fs, [2.3, 4.7]).unwrap();
        assert_eq!(noise, -60.0);
        let last = last_sound_s(&fs, [1.0, 3.0], noise, 6.0).unwrap();
        assert!((last - 2.0).abs() < 1e-9, "{last}");
        // With a 2 dB margin the faint tail counts.
        let last = last_sound_s(&fs, [1.0, 3.0], noise, 2.0).unwrap();
        assert!((last - 2.4).abs() < 1e-9, "{last}");
        let first = first_sound_s(&fs, [4.0, 6.0], noise, 6.0).unwrap();
        assert!((first - 5.0).abs() < 1e-9, "{first}");
        assert_eq!(last_sound_s(&fs, [2.5, 4.5], noise, 6.0), None);
        assert_eq!(noise_db(&fs, [8.0, 9.0]), None);
    }

    #[test]
    fn energies_are_kept_only_inside_the_windows() {
        // One second of a 1 kHz tone at 16 kHz, written as a WAV.
        let dir = std::env::temp_dir().join(format!("agentvoice-aud-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tone.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 16000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        for i in 0..16000 {
            let x = (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / 16000.0).sin();
            w.write_sample((x * 8000.0) as i16).unwrap();
            w.write_sample(0i16).unwrap();
        }
        w.finalize().unwrap();
        let per_channel = band_energy_in(&path, &[[0.2, 0.3], [0.5, 0.55]]).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(per_channel.len(), 2);
        for frames in &per_channel {
            assert_eq!(frames.len(), 15, "{frames:?}");
            let middle_inside = |t: f64| (0.2..0.3).contains(&t) || (0.5..0.55).contains(&t);
            assert!(
                frames.iter().all(|f| middle_inside(f.0 + 0.005)),
                "{frames:?}"
            );
        }
        // The tone's channel stands far over the silent one.
        assert!(
            per_channel[0][0].1 > per_channel[1][0].1 + 40.0,
            "{per_channel:?}"
        );
    }
}
