//! Synthetic signals with known answers, through the same streaming analyzer as files.

use agentvoice::audio::Layout;
use agentvoice::{Analyzer, CallReport, Config};

const TAU: f64 = std::f64::consts::TAU;

fn sine(rate: u32, freq: f64, dbfs: f64, seconds: f64) -> Vec<f32> {
    let amplitude = 10f64.powf(dbfs / 20.0);
    (0..(rate as f64 * seconds).round() as usize)
        .map(|i| (amplitude * (TAU * freq * i as f64 / rate as f64).sin()) as f32)
        .collect()
}

fn interleave(left: &[f32], right: &[f32]) -> Vec<f32> {
    left.iter().zip(right).flat_map(|(&l, &r)| [l, r]).collect()
}

fn analyze(
    config: &Config,
    rate: u32,
    channels: usize,
    layout: Layout,
    samples: &[f32],
) -> CallReport {
    let mut a = Analyzer::new(config, rate, channels, layout);
    for block in samples.chunks(4096 * channels) {
        a.push_interleaved(block);
    }
    a.finish()
}

/// EBU Tech 3341 cases 1-5: stereo 1 kHz sines at 48 kHz, integrated loudness +-0.1 LU.
#[test]
fn ebu_tech_3341_cases_1_to_5() {
    let rate = 48_000;
    // (name, [(level_dbfs, seconds), ...], expected_lufs)
    type Case<'a> = (&'a str, &'a [(f64, f64)], f64);
    let cases: [Case; 5] = [
        ("case 1", &[(-23.0, 20.0)], -23.0),
        ("case 2", &[(-33.0, 20.0)], -33.0),
        (
            "case 3",
            &[(-36.0, 10.0), (-23.0, 60.0), (-36.0, 10.0)],
            -23.0,
        ),
        (
            "case 4",
            &[
                (-72.0, 10.0),
                (-36.0, 10.0),
                (-23.0, 60.0),
                (-36.0, 10.0),
                (-72.0, 10.0),
            ],
            -23.0,
        ),
        (
            "case 5",
            &[(-26.0, 20.0), (-20.0, 20.1), (-26.0, 20.0)],
            -23.0,
        ),
    ];
    let config = Config::default();
    for (name, parts, expected) in cases {
        let mono: Vec<f32> = parts
            .iter()
            .flat_map(|&(db, s)| sine(rate, 1000.0, db, s))
            .collect();
        let stereo = interleave(&mono, &mono);
        let r = analyze(
            &config,
            rate,
            2,
            Layout::Stereo { agent_channel: 0 },
            &stereo,
        );
        let lufs = r.file_integrated_lufs.expect("integrated loudness");
        assert!(
            (lufs - expected).abs() <= 0.1,
            "{name}: {lufs} LUFS, expected {expected}"
        );
        // One channel alone is 3 dB lower (the mono convention: no dual-mono weighting).
        let agent = r
            .loudness
            .as_ref()
            .and_then(|l| l.integrated_lufs)
            .expect("agent loudness");
        assert!(
            (agent - (expected - 3.01)).abs() <= 0.1,
            "{name}: agent {agent} LUFS"
        );
    }
}

/// A voice-like tone: a 140 Hz harmonic complex, amplitude-modulated at 4 Hz like syllables.
fn voice_like(rate: u32, seconds: f64, dbfs: f64) -> Vec<f32> {
    voice_like_f0(rate, seconds, dbfs, 140.0, 4.0)
}

/// A harmonic voice at `f0_hz` with `syllables_hz` syllables per second.
fn voice_like_f0(rate: u32, seconds: f64, dbfs: f64, f0_hz: f64, syllables_hz: f64) -> Vec<f32> {
    let amplitude = 10f64.powf(dbfs / 20.0);
    (0..(rate as f64 * seconds).round() as usize)
        .map(|i| {
            let t = i as f64 / rate as f64;
            let harmonics: f64 = (1..=12)
                .map(|h| (TAU * f0_hz * h as f64 * t).sin() / h as f64)
                .sum();
            let syllables = 0.6 + 0.4 * (TAU * syllables_hz * t).sin();
            (amplitude * 0.5 * harmonics * syllables) as f32
        })
        .collect()
}

fn silence(rate: u32, seconds: f64) -> Vec<f32> {
    vec![0.0; (rate as f64 * seconds).round() as usize]
}

/// Tone bursts at known times: greeting latency and gaps within 10 ms of the truth widened by
/// the configured boundary padding.
#[test]
fn bursts_give_known_gaps_and_greeting_latency() {
    let rate = 8_000;
    let config = Config::default();
    let (pad, pad_end) = (config.vad.pad_s, config.vad.pad_end_s);
    // 1.5 s silence, 3 s speech, 2.5 s gap, 2 s speech, 1 s gap, 1 s speech, 1 s silence
    let mut signal = silence(rate, 1.5);
    signal.extend(voice_like(rate, 3.0, -20.0));
    signal.extend(silence(rate, 2.5));
    signal.extend(voice_like(rate, 2.0, -20.0));
    signal.extend(silence(rate, 1.0));
    signal.extend(voice_like(rate, 1.0, -20.0));
    signal.extend(silence(rate, 1.0));
    let r = analyze(&config, rate, 1, Layout::AgentOnly, &signal);
    let silence_report = r.silence.expect("silence section");
    let greet = silence_report.greeting_latency_s.expect("greeting latency");
    assert!((greet - (1.5 - pad)).abs() <= 0.01, "greeting {greet}");
    let gaps = &silence_report.gaps;
    assert_eq!(gaps.len(), 2, "{gaps:?}");
    let expected = [[4.5 + pad_end, 7.0 - pad], [9.0 + pad_end, 10.0 - pad]];
    for (got, want) in gaps.iter().zip(expected) {
        assert!(
            (got[0] - want[0]).abs() <= 0.01 && (got[1] - want[1]).abs() <= 0.01,
            "{got:?} vs {want:?}"
        );
    }
    assert_eq!(silence_report.long_gaps.len(), 1);
    assert!(r.checks.as_ref().unwrap()["dead_air"].pass == Some(false));
    assert!(r.checks.as_ref().unwrap()["greeting_latency"].pass == Some(true));
}

/// Two channels with a known overlap: the overtalk span, who started it, the response.
#[test]
fn two_channels_with_known_overtalk() {
    let rate = 8_000;
    let config = Config::default();
    let (pad, pad_end) = (config.vad.pad_s, config.vad.pad_end_s);
    // agent: speech 1.0-4.0 and 7.0-9.0; customer: speech 3.5-6.0
    let mut agent = silence(rate, 1.0);
    agent.extend(voice_like(rate, 3.0, -20.0));
    agent.extend(silence(rate, 3.0));
    agent.extend(voice_like(rate, 2.0, -20.0));
    agent.extend(silence(rate, 1.0));
    // The customer's own voice (another pitch and pace): the same waveform in phase would
    // be a perfect copy of the agent, which is what a leak is.
    let mut customer = silence(rate, 3.5);
    customer.extend(voice_like_f0(rate, 2.5, -22.0, 190.0, 5.0));
    customer.extend(silence(rate, 4.0));
    let r = analyze(
        &config,
        rate,
        2,
        Layout::Stereo { agent_channel: 0 },
        &interleave(&agent, &customer),
    );
    let i = r.interaction.expect("interaction section");
    assert_eq!(i.overtalk.len(), 1, "{:?}", i.overtalk);
    let span = i.overtalk[0];
    assert!(
        (span[0] - (3.5 - pad)).abs() <= 0.01 && (span[1] - (4.0 + pad_end)).abs() <= 0.01,
        "{span:?}"
    );
    assert_eq!(
        i.overtalk_started_by,
        vec![agentvoice::conversation::Party::Agent]
    );
    assert_eq!(i.response_latencies_s.len(), 1);
    assert!(
        (i.response_latencies_s[0] - (1.0 - pad - pad_end)).abs() <= 0.01,
        "{:?}",
        i.response_latencies_s
    );
    let share = i.agent_talk_share.unwrap();
    assert!((share - 5.0 / 7.5).abs() < 0.02, "{share}");
}

/// The customer leaks into the agent's channel 40 ms late and 25 dB down (an echo path no
/// zero-lag correlation sees): the leak is neither agent speech nor overtalk.
#[test]
fn a_delayed_faint_leak_of_the_customer_is_not_the_agent() {
    let rate = 8_000;
    let config = Config::default();
    // agent: speech 1.0-3.0 and 7.0-9.0; customer: speech 3.5-6.0
    let mut agent = silence(rate, 1.0);
    agent.extend(voice_like(rate, 2.0, -22.0));
    agent.extend(silence(rate, 4.0));
    agent.extend(voice_like(rate, 2.0, -22.0));
    agent.extend(silence(rate, 1.0));
    let mut customer = silence(rate, 3.5);
    customer.extend(voice_like_f0(rate, 2.5, -24.0, 190.0, 5.0));
    customer.extend(silence(rate, 4.0));
    let delay = (0.04 * rate as f64) as usize;
    let gain = 10f32.powf(-25.0 / 20.0);
    for (i, a) in agent.iter_mut().enumerate().skip(delay) {
        *a += gain * customer[i - delay];
    }
    let r = analyze(
        &config,
        rate,
        2,
        Layout::Stereo { agent_channel: 0 },
        &interleave(&agent, &customer),
    );
    let segments = &r.speech.as_ref().unwrap().segments;
    assert_eq!(segments.len(), 2, "{segments:?}");
    assert!(
        segments.iter().all(|s| s[1] < 3.5 || s[0] > 6.0),
        "{segments:?}"
    );
    let i = r.interaction.expect("interaction section");
    assert!(i.overtalk.is_empty(), "{:?}", i.overtalk);
}

/// Silence is measured as "nothing", never as NaN or minus infinity.
#[test]
fn silence_has_no_speech_and_null_levels() {
    let config = Config::default();
    let r = analyze(&config, 16_000, 1, Layout::AgentOnly, &silence(16_000, 5.0));
    assert!(r.speech.as_ref().unwrap().segments.is_empty());
    assert_eq!(r.loudness.as_ref().unwrap().integrated_lufs, None);
    assert_eq!(r.silence.as_ref().unwrap().greeting_latency_s, None);
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains("NaN") && !json.contains("inf"), "{json}");
}
