//! Voice activity through the streaming analyzer: chunking does not change the result, and
//! a customer leaking into the agent's channel is not taken for the agent.

use agentvoice::audio::Layout;
use agentvoice::{Analyzer, CallReport, Config};

const RATE: u32 = 8000;

/// A voiced "talker": harmonics of `f0_hz`, syllables at 4 Hz, over the given spans.
fn talker(spans: &[(f64, f64)], f0_hz: f64, amplitude: f64, seconds: f64) -> Vec<f32> {
    let n = (seconds * RATE as f64) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / RATE as f64;
            if !spans.iter().any(|&(s, e)| t >= s && t < e) {
                return 0.0;
            }
            let syllable = (std::f64::consts::PI * 4.0 * t).sin().abs();
            let voice: f64 = (1..=8)
                .map(|h| (2.0 * std::f64::consts::PI * f0_hz * h as f64 * t).sin() / h as f64)
                .sum();
            (amplitude * (0.2 + 0.8 * syllable) * voice) as f32
        })
        .collect()
}

fn noise(n: usize, amplitude: f32, seed: u32) -> Vec<f32> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state.wrapping_mul(1664525).wrapping_add(1013904223);
            (state as f32 / u32::MAX as f32 - 0.5) * 2.0 * amplitude
        })
        .collect()
}

fn analyse(interleaved: &[f32], channels: usize, layout: Layout, block: usize) -> CallReport {
    let mut analyzer = Analyzer::new(&Config::default(), RATE, channels, layout);
    for chunk in interleaved.chunks(block * channels) {
        analyzer.push_interleaved(chunk);
    }
    analyzer.finish()
}

fn agent_segments(r: &CallReport) -> Vec<[f64; 2]> {
    r.speech
        .as_ref()
        .map(|s| s.segments.clone())
        .unwrap_or_default()
}

fn customer_segments(r: &CallReport) -> Vec<[f64; 2]> {
    r.customer
        .as_ref()
        .map(|c| c.speech.segments.clone())
        .unwrap_or_default()
}

/// Asserts that a stereo call (agent left) analysed in blocks of each of `blocks` samples
/// gives `reference`'s agent and customer segments and overtalk.
fn assert_stereo_blocks_agree(interleaved: &[f32], reference: &CallReport, blocks: &[usize]) {
    let layout = Layout::Stereo { agent_channel: 0 };
    let overtalk = |r: &CallReport| r.interaction.as_ref().map(|i| i.overtalk.clone());
    for &block in blocks {
        let r = analyse(interleaved, 2, layout, block);
        assert_eq!(
            agent_segments(&r),
            agent_segments(reference),
            "block {block}"
        );
        assert_eq!(
            customer_segments(&r),
            customer_segments(reference),
            "block {block}"
        );
        assert_eq!(overtalk(&r), overtalk(reference), "block {block}");
    }
}

fn overlap(segs: &[[f64; 2]], s: f64, e: f64) -> f64 {
    segs.iter()
        .map(|g| (g[1].min(e) - g[0].max(s)).max(0.0))
        .sum()
}

/// `n` stereo frames, interleaved: sample `i` of the left channel is `left(i)`, of the
/// right `right(i)`.
fn stereo(n: usize, left: impl Fn(usize) -> f32, right: impl Fn(usize) -> f32) -> Vec<f32> {
    (0..n).flat_map(|i| [left(i), right(i)]).collect()
}

#[test]
fn block_size_does_not_change_the_segments() {
    let seconds = 12.0;
    let voice = talker(&[(0.8, 3.0), (3.6, 5.0), (7.5, 10.5)], 140.0, 0.1, seconds);
    let hiss = noise(voice.len(), 0.002, 99);
    let mono: Vec<f32> = voice.iter().zip(&hiss).map(|(a, b)| a + b).collect();
    let reference = analyse(&mono, 1, Layout::AgentOnly, 4096);
    let segs = agent_segments(&reference);
    assert!(
        segs.len() >= 2 && (segs[0][0] - 0.8).abs() < 0.1,
        "{segs:?}"
    );
    for block in [1, 37, 80, 1000] {
        let r = analyse(&mono, 1, Layout::AgentOnly, block);
        assert_eq!(agent_segments(&r), segs, "block {block}");
        assert_eq!(
            r.silence.as_ref().map(|s| s.long_gaps.clone()),
            reference.silence.as_ref().map(|s| s.long_gaps.clone()),
            "block {block}"
        );
    }
}

#[test]
fn customer_leaking_into_the_agent_channel_is_not_the_agent() {
    let seconds = 12.0;
    let agent = talker(&[(0.5, 3.5), (8.5, 11.0)], 130.0, 0.1, seconds);
    let customer = talker(&[(4.0, 7.5)], 210.0, 0.15, seconds);
    let n = agent.len();
    let (hiss_a, hiss_c) = (noise(n, 0.0005, 1), noise(n, 0.0005, 2));
    // The customer leaks into the agent channel 20 dB down.
    let interleaved = stereo(
        n,
        |i| agent[i] + 0.1 * customer[i] + hiss_a[i],
        |i| customer[i] + hiss_c[i],
    );
    let layout = Layout::Stereo { agent_channel: 0 };
    let r = analyse(&interleaved, 2, layout, 1024);
    let a = agent_segments(&r);
    let c = customer_segments(&r);
    assert!(overlap(&a, 0.5, 3.5) > 2.5, "agent lost: {a:?}");
    assert!(overlap(&a, 8.5, 11.0) > 2.0, "agent lost: {a:?}");
    assert!(
        overlap(&a, 4.2, 7.3) < 0.2,
        "leak taken for the agent: {a:?}"
    );
    assert!(overlap(&c, 4.0, 7.5) > 3.0, "customer lost: {c:?}");

    // Without the leak removal (mono mix of the agent channel alone) the leak is speech:
    // the test above can fail.
    let agent_channel: Vec<f32> = interleaved.iter().step_by(2).copied().collect();
    let alone = analyse(&agent_channel, 1, Layout::AgentOnly, 1024);
    assert!(overlap(&agent_segments(&alone), 4.2, 7.3) > 1.0);
}

#[test]
fn a_delayed_leak_is_not_the_agent_and_two_channels_do_not_depend_on_the_block_size() {
    let seconds = 12.0;
    let agent = talker(&[(0.5, 3.5), (8.5, 11.0)], 130.0, 0.1, seconds);
    let customer = talker(&[(3.2, 7.5)], 210.0, 0.08, seconds);
    let n = agent.len();
    let (hiss_a, hiss_c) = (noise(n, 0.0005, 3), noise(n, 0.0005, 4));
    // The customer leaks into the agent channel 15 ms late and 25 dB down: the zero-lag
    // correlation of the two channels does not see it.
    let delay = (0.015 * RATE as f64) as usize;
    let leak = |i: usize| i.checked_sub(delay).map_or(0.0, |j| 0.056 * customer[j]);
    let interleaved = stereo(
        n,
        |i| agent[i] + leak(i) + hiss_a[i],
        |i| customer[i] + hiss_c[i],
    );
    let layout = Layout::Stereo { agent_channel: 0 };
    let reference = analyse(&interleaved, 2, layout, 4096);
    let a = agent_segments(&reference);
    let c = customer_segments(&reference);
    assert!(
        overlap(&a, 3.9, 7.3) < 0.2,
        "leak taken for the agent: {a:?}"
    );
    assert!(overlap(&a, 0.5, 3.5) > 2.5, "agent lost: {a:?}");
    // The customer starts while the agent still talks (real overtalk, 2 dB quieter).
    assert!(overlap(&c, 3.2, 7.5) > 4.0, "customer lost: {c:?}");
    assert_stereo_blocks_agree(&interleaved, &reference, &[1, 37, 1000]);
}

/// A call where the customer talks over the agent's soft last phrase: the customer alone
/// (0.5-5.0 s), the agent (5.5-7.5 s) ending on a phrase 18 dB softer (to 9.0 s) while the
/// customer talks again (7.5-11.0 s). With `leak`, the customer also leaks into the agent's
/// line 25 dB down, 15 ms late.
fn barge_in_over_a_soft_end(leak: bool) -> Vec<f32> {
    let seconds = 12.0;
    let loud = talker(&[(5.5, 7.5)], 130.0, 0.1, seconds);
    let soft = talker(&[(7.5, 9.0)], 130.0, 0.0126, seconds);
    let customer = talker(&[(0.5, 5.0), (7.5, 11.0)], 210.0, 0.1, seconds);
    let n = loud.len();
    let (hiss_a, hiss_c) = (noise(n, 0.0005, 5), noise(n, 0.0005, 6));
    let delay = (0.015 * RATE as f64) as usize;
    let leak_gain = if leak { 0.056 } else { 0.0 };
    let leaked = |i: usize| {
        i.checked_sub(delay)
            .map_or(0.0, |j| leak_gain * customer[j])
    };
    stereo(
        n,
        |i| loud[i] + soft[i] + leaked(i) + hiss_a[i],
        |i| customer[i] + hiss_c[i],
    )
}

#[test]
fn a_soft_end_under_a_barge_in_stays_the_agent_where_nothing_leaks() {
    let interleaved = barge_in_over_a_soft_end(false);
    let layout = Layout::Stereo { agent_channel: 0 };
    let reference = analyse(&interleaved, 2, layout, 4096);
    let a = agent_segments(&reference);
    assert!(overlap(&a, 7.6, 8.9) > 1.2, "soft end cut: {a:?}");
    assert!(
        overlap(&a, 0.0, 5.3) < 0.1,
        "customer taken for the agent: {a:?}"
    );
    let overtalk = reference
        .interaction
        .as_ref()
        .map(|i| i.overtalk.clone())
        .unwrap_or_default();
    assert!(overlap(&overtalk, 7.6, 8.9) > 1.2, "overtalk {overtalk:?}");
    assert_stereo_blocks_agree(&interleaved, &reference, &[1, 37, 1000]);

    // Where the customer does leak into the agent's line, the leak rules hold: the leak
    // alone is not the agent, and under the customer the soft end is cut with it.
    let leaky = analyse(&barge_in_over_a_soft_end(true), 2, layout, 4096);
    let a = agent_segments(&leaky);
    assert!(
        overlap(&a, 0.0, 5.3) < 0.1,
        "leak taken for the agent: {a:?}"
    );
    assert!(overlap(&a, 5.6, 7.4) > 1.7, "agent lost: {a:?}");
    assert!(overlap(&a, 8.4, 9.0) < 0.1, "{a:?}");
}

/// Background voices: `voices` talkers at `amplitude`, each talking 0.6 s and pausing
/// 0.3-0.5 s on its own schedule, so the level swings as in call-center babble.
fn babble(voices: usize, amplitude: f64, seconds: f64) -> Vec<f32> {
    let mut mix = vec![0.0f32; (seconds * RATE as f64) as usize];
    for v in 0..voices {
        let period = 0.9 + 0.1 * v as f64;
        let offset = 0.23 * v as f64;
        let spans: Vec<(f64, f64)> = (0..(seconds / period) as usize + 1)
            .map(|k| (offset + k as f64 * period, offset + k as f64 * period + 0.6))
            .collect();
        let voice = talker(&spans, 110.0 + 37.0 * v as f64, amplitude, seconds);
        for (m, x) in mix.iter_mut().zip(voice) {
            *m += x;
        }
    }
    mix
}

#[test]
fn babble_on_two_channels_does_not_depend_on_the_block_size() {
    // Both lines carry babble 14-20 dB under the parties; the agent and the customer take
    // turns with a short overtalk. The babble-level median, its cap and bar, and the
    // segment rule against the other party all run; no block size may change a decision.
    let seconds = 30.0;
    let agent = talker(
        &[(1.0, 6.0), (9.0, 14.0), (20.0, 26.0)],
        130.0,
        0.1,
        seconds,
    );
    let customer = talker(&[(5.5, 8.5), (15.0, 19.0)], 210.0, 0.08, seconds);
    let (babble_a, babble_c) = (babble(4, 0.012, seconds), babble(3, 0.015, seconds));
    let interleaved = stereo(
        agent.len(),
        |i| agent[i] + babble_a[i],
        |i| customer[i] + babble_c[i],
    );
    let layout = Layout::Stereo { agent_channel: 0 };
    let reference = analyse(&interleaved, 2, layout, 4096);
    let a = agent_segments(&reference);
    let c = customer_segments(&reference);
    assert!(overlap(&a, 9.0, 14.0) > 4.0, "agent lost: {a:?}");
    assert!(overlap(&c, 15.0, 19.0) > 3.0, "customer lost: {c:?}");
    assert_stereo_blocks_agree(&interleaved, &reference, &[1, 37, 80, 1000]);
}

#[test]
fn a_call_with_loud_background_voices_is_flagged_and_a_faint_one_is_not() {
    // One line: the agent every 8 s over babble, once 14-20 dB under them, once 12 dB
    // quieter than that.
    let seconds = 40.0;
    let agent = talker(
        &[
            (1.0, 5.0),
            (9.0, 13.0),
            (17.0, 21.0),
            (25.0, 29.0),
            (33.0, 37.0),
        ],
        130.0,
        0.1,
        seconds,
    );
    let run = |babble_amplitude: f64| {
        let mix: Vec<f32> = agent
            .iter()
            .zip(babble(4, babble_amplitude, seconds))
            .map(|(a, b)| a + b)
            .collect();
        let report = analyse(&mix, 1, Layout::AgentOnly, 4096);
        assert_eq!(report, analyse(&mix, 1, Layout::AgentOnly, 37));
        report
    };
    let (loud, faint) = (run(0.012), run(0.003));
    let over_db = |r: &CallReport| {
        r.speech
            .as_ref()
            .and_then(|s| s.speech_over_background_voices_db)
    };
    let flag = |r: &CallReport| r.silence.as_ref().map(|s| s.background_voices_flag);
    let warned = |r: &CallReport| r.warnings.iter().any(|w| w.contains("background voices"));
    let (loud_db, faint_db) = (
        over_db(&loud).expect("loud"),
        over_db(&faint).expect("faint"),
    );
    // A quarter of the amplitude: 12 dB further under the agent.
    assert!(
        (faint_db - loud_db - 12.0).abs() < 2.0,
        "{loud_db} {faint_db}"
    );
    assert!(loud_db < 18.0 && faint_db > 18.0, "{loud_db} {faint_db}");
    assert_eq!((flag(&loud), warned(&loud)), (Some(true), true));
    assert_eq!((flag(&faint), warned(&faint)), (Some(false), false));
}
