//! Live coaching: the figures a live view shows and the cues it raises, read from a
//! streaming [`Analyzer`]'s state while audio is still arriving.
//!
//! Everything here is a pure function of the analyzer's speech segments, syllable nuclei and
//! short-term loudness, so it is tested without a sound card, and the live view and the final
//! per-call result come from one analysis path. Voice-activity decisions lag the audio by the
//! detector's look-ahead ([`DECISION_LAG_S`]): timers run on the decided time (the
//! "horizon"), so an alarm fires at the right moment of the audio, half a second after it on
//! the wall clock.

use crate::analyzer::{Analyzer, PartyAnalyzer};
use crate::config::Config;
use crate::conversation::{self, Span};

/// How far voice-activity decisions lag the audio pushed (the detector's look-ahead), seconds.
pub const DECISION_LAG_S: f64 = 0.5;
/// The short-term loudness window (EBU R128), seconds.
pub const SHORT_TERM_WINDOW_S: f64 = 3.0;
/// Loudness is judged only when the agent's speech fills this much of the short-term window,
/// seconds (pauses would otherwise read as "too quiet").
pub const MIN_SPEECH_FOR_LOUDNESS_S: f64 = 2.0;
/// Short-term loudness below this is silence, not a level (the BS.1770 absolute gate), LUFS.
pub const ABSOLUTE_GATE_LUFS: f64 = -70.0;
/// A party counts as speaking "now" when its last active frame is this recent, seconds.
pub const NOW_TOLERANCE_S: f64 = 0.3;
/// The rolling speaking rate needs this much talk time in its window, seconds.
pub const MIN_TALK_FOR_RATE_S: f64 = 2.0;

/// One party's analysis state as the live view reads it.
#[derive(Debug, Clone, Copy)]
pub struct PartyView<'a> {
    /// Speech segments closed so far.
    pub segments: &'a [Span],
    /// Speech in progress: `(start_s, last_active_end_s)`.
    pub open: Option<Span>,
    /// Syllable nuclei found so far, seconds.
    pub nuclei_s: &'a [f64],
    /// Short-term loudness now, LUFS.
    pub short_term_lufs: Option<f64>,
}

impl<'a> PartyView<'a> {
    /// The view of one party's analyzer chain.
    pub fn of(party: &'a PartyAnalyzer) -> PartyView<'a> {
        PartyView {
            segments: party.segments(),
            open: party.open_segment(),
            nuclei_s: party.nuclei_s(),
            short_term_lufs: party.short_term_lufs(),
        }
    }

    /// The open segment, if it is already long enough to be kept as speech.
    fn open_speech(&self, min_speech_s: f64) -> Option<Span> {
        self.open.filter(|o| o.1 - o.0 + 1e-9 >= min_speech_s)
    }

    /// The end of the latest speech (closed or in progress), seconds.
    fn last_speech_end_s(&self, min_speech_s: f64) -> Option<f64> {
        let closed = self.segments.last().map(|s| s.1);
        match (self.open_speech(min_speech_s), closed) {
            (Some(o), Some(c)) => Some(o.1.max(c)),
            (Some(o), None) => Some(o.1),
            (None, c) => c,
        }
    }

    /// Speech spans (closed and in progress) that end after `from_s`, in time order.
    fn speech_since(&self, from_s: f64, min_speech_s: f64) -> Vec<Span> {
        let first = self.segments.partition_point(|s| s.1 <= from_s);
        let mut out: Vec<Span> = self.segments[first..].to_vec();
        if let Some(o) = self.open_speech(min_speech_s) {
            if o.1 > from_s {
                out.push(o);
            }
        }
        out
    }
}

/// Where the greeting stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Greeting {
    /// The agent has not spoken yet; the call has been open this long, seconds.
    Waiting {
        /// Time since the start without a word from the agent, seconds.
        waited_s: f64,
    },
    /// The agent's first word came at this time, seconds.
    Greeted {
        /// When the agent's first speech began, seconds from the start.
        latency_s: f64,
    },
}

/// Everything the live view shows at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveStatus {
    /// Audio pushed so far, seconds.
    pub elapsed_s: f64,
    /// Audio decided by voice activity so far (the timers' clock), seconds.
    pub horizon_s: f64,
    /// The greeting timer.
    pub greeting: Greeting,
    /// Time since anyone last spoke, seconds; `None` before anyone has spoken.
    pub silence_s: Option<f64>,
    /// True while the agent is in a speech segment.
    pub agent_speaking: bool,
    /// True while the customer is in a speech segment (two-channel input only).
    pub customer_speaking: Option<bool>,
    /// True while both parties speak at once (two-channel input only).
    pub overtalk_now: bool,
    /// Overtalk so far, seconds (two-channel input only).
    pub overtalk_s: Option<f64>,
    /// Stretches of overtalk so far (two-channel input only).
    pub overtalk_count: usize,
    /// The agent's speaking rate over the last `rate_window_s`, syllables per minute of talk;
    /// `None` with less than [`MIN_TALK_FOR_RATE_S`] of talk in the window.
    pub rate_spm: Option<f64>,
    /// The window of `rate_spm`, seconds.
    pub rate_window_s: f64,
    /// The agent's short-term loudness (last 3 s), LUFS.
    pub short_term_lufs: Option<f64>,
    /// The agent's speech in the short-term loudness window, seconds.
    pub speech_in_loudness_window_s: f64,
    /// The loudness of the agent's speech: short-term loudness with the pauses in its window
    /// taken out (`short_term - 10 log10(speech share)`), LUFS; `None` with less than
    /// [`MIN_SPEECH_FOR_LOUDNESS_S`] of speech in the window.
    pub speech_lufs: Option<f64>,
}

/// The horizon: how far voice activity has decided, given the audio pushed, seconds.
pub fn horizon_s(elapsed_s: f64) -> f64 {
    (elapsed_s - DECISION_LAG_S).max(0.0)
}

/// Syllables per minute of talk between `from_s` and `to_s`: nuclei inside `speech`
/// (sorted spans) over the talk time in the window; `None` with less than
/// [`MIN_TALK_FOR_RATE_S`] of talk. The same rule as the result's rate timeline.
pub fn window_rate_spm(nuclei_s: &[f64], speech: &[Span], from_s: f64, to_s: f64) -> Option<f64> {
    let talk_s: f64 = speech
        .iter()
        .filter(|s| s.1 > from_s && s.0 < to_s)
        .map(|s| s.1.min(to_s) - s.0.max(from_s))
        .sum();
    if talk_s < MIN_TALK_FOR_RATE_S {
        return None;
    }
    let lo = nuclei_s.partition_point(|&n| n <= from_s);
    let hi = nuclei_s.partition_point(|&n| n <= to_s);
    let in_speech = nuclei_s[lo..hi.max(lo)]
        .iter()
        .filter(|&&n| speech.iter().any(|s| s.0 <= n && n <= s.1))
        .count();
    Some(in_speech as f64 * 60.0 / talk_s)
}

/// Speech time inside `[from_s, to_s]`, seconds.
fn speech_within_s(speech: &[Span], from_s: f64, to_s: f64) -> f64 {
    speech
        .iter()
        .map(|s| (s.1.min(to_s) - s.0.max(from_s)).max(0.0))
        .sum()
}

/// The live status from the parties' states after `elapsed_s` seconds of audio.
pub fn status(
    agent: &PartyView<'_>,
    customer: Option<&PartyView<'_>>,
    elapsed_s: f64,
    config: &Config,
) -> LiveStatus {
    let horizon = horizon_s(elapsed_s);
    let min_speech = config.vad.min_speech_s;

    let first_agent_onset = agent
        .segments
        .first()
        .map(|s| s.0)
        .or_else(|| agent.open_speech(min_speech).map(|o| o.0));
    let greeting = match first_agent_onset {
        Some(latency_s) => Greeting::Greeted { latency_s },
        None => Greeting::Waiting { waited_s: horizon },
    };

    let last_end = [
        agent.last_speech_end_s(min_speech),
        customer.and_then(|c| c.last_speech_end_s(min_speech)),
    ]
    .into_iter()
    .flatten()
    .reduce(f64::max);
    let agent_open = agent.open_speech(min_speech);
    let customer_open = customer.and_then(|c| c.open_speech(min_speech));
    let silence_s = last_end.map(|end| (horizon - end).max(0.0));

    let rate_window_s = config.rate.timeline_window_s;
    let from = horizon - rate_window_s;
    let recent = agent.speech_since(from.min(horizon - SHORT_TERM_WINDOW_S), min_speech);
    let rate_spm = window_rate_spm(agent.nuclei_s, &recent, from, horizon);
    let speech_in_loudness_window_s =
        speech_within_s(&recent, horizon - SHORT_TERM_WINDOW_S, horizon);

    let short_term_lufs = agent.short_term_lufs.filter(|&l| l >= ABSOLUTE_GATE_LUFS);
    // The short-term meter averages power over its whole window, pauses included: the speech
    // alone is louder by the share of the window it fills.
    let speech_lufs = short_term_lufs
        .filter(|_| speech_in_loudness_window_s + 1e-9 >= MIN_SPEECH_FOR_LOUDNESS_S)
        .map(|l| {
            let share = (speech_in_loudness_window_s / SHORT_TERM_WINDOW_S).clamp(1e-3, 1.0);
            l - 10.0 * share.log10()
        });

    let (overtalk_now, overtalk_s, overtalk_count) = match customer {
        Some(c) => {
            let speaking_now =
                |o: Option<Span>| o.is_some_and(|o| horizon - o.1 <= NOW_TOLERANCE_S);
            let now = speaking_now(agent_open) && speaking_now(customer_open);
            let mut a_all = agent.segments.to_vec();
            a_all.extend(agent_open);
            let mut c_all = c.segments.to_vec();
            c_all.extend(customer_open);
            let spans: Vec<Span> = conversation::overtalk(&a_all, &c_all, config.overtalk.min_s)
                .iter()
                .map(|o| o.span)
                .collect();
            // `+ 0.0`: an empty float sum is -0.0, which would print as "-0.0".
            (now, Some(conversation::total_s(&spans) + 0.0), spans.len())
        }
        None => (false, None, 0),
    };

    LiveStatus {
        elapsed_s,
        horizon_s: horizon,
        greeting,
        silence_s,
        agent_speaking: agent_open.is_some(),
        customer_speaking: customer.map(|_| customer_open.is_some()),
        overtalk_now,
        overtalk_s,
        overtalk_count,
        rate_spm,
        rate_window_s,
        short_term_lufs,
        speech_in_loudness_window_s,
        speech_lufs,
    }
}

/// The live status of a running analyzer.
pub fn status_of(analyzer: &Analyzer, config: &Config) -> LiveStatus {
    let agent = PartyView::of(analyzer.agent());
    let customer = analyzer.customer().map(PartyView::of);
    status(&agent, customer.as_ref(), analyzer.elapsed_s(), config)
}

/// A coaching cue: something the agent should hear now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cue {
    /// The call is open and the agent has not greeted within the limit.
    Greet,
    /// Nobody has spoken for the gap limit.
    Silence,
    /// The rolling rate is above the band.
    SlowDown,
    /// The rolling rate is below the band.
    SpeedUp,
    /// The agent's speech is quieter than the band.
    SpeakUp,
    /// The agent's speech is louder than the band.
    Softer,
    /// Both parties are speaking at once.
    Overtalk,
}

impl Cue {
    /// Every cue, in display order.
    pub const ALL: [Cue; 7] = [
        Cue::Greet,
        Cue::Silence,
        Cue::SlowDown,
        Cue::SpeedUp,
        Cue::SpeakUp,
        Cue::Softer,
        Cue::Overtalk,
    ];

    /// A stable machine-readable name.
    pub fn key(self) -> &'static str {
        match self {
            Cue::Greet => "greet",
            Cue::Silence => "silence",
            Cue::SlowDown => "slow_down",
            Cue::SpeedUp => "speed_up",
            Cue::SpeakUp => "speak_up",
            Cue::Softer => "softer",
            Cue::Overtalk => "overtalk",
        }
    }

    /// The words shown to the agent.
    pub fn text(self, config: &Config) -> String {
        match self {
            Cue::Greet => format!(
                "greet the caller ({} s)",
                trim_num(config.silence.greeting_limit_s)
            ),
            Cue::Silence => format!("{} s of silence", trim_num(config.silence.gap_limit_s)),
            Cue::SlowDown => "slow down".into(),
            Cue::SpeedUp => "a little faster".into(),
            Cue::SpeakUp => "speak up".into(),
            Cue::Softer => "a little softer".into(),
            Cue::Overtalk => "overtalk: one at a time".into(),
        }
    }
}

fn trim_num(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The cues that hold for `status`, in display order.
pub fn cues(status: &LiveStatus, config: &Config) -> Vec<Cue> {
    let mut out = Vec::new();
    if let Greeting::Waiting { waited_s } = status.greeting {
        if waited_s + 1e-9 >= config.silence.greeting_limit_s {
            out.push(Cue::Greet);
        }
    }
    if let Some(s) = status.silence_s {
        if s + 1e-9 >= config.silence.gap_limit_s {
            out.push(Cue::Silence);
        }
    }
    if let Some(r) = status.rate_spm {
        if r > config.rate.max_spm {
            out.push(Cue::SlowDown);
        } else if r < config.rate.min_spm {
            out.push(Cue::SpeedUp);
        }
    }
    // Speech loudness in LUFS reads close to the P.56 active speech level in dBov that the
    // band is set in (on the evaluation calls the integrated figures differ by 0.1 dB median).
    if let Some(l) = status.speech_lufs {
        if l < config.loudness.min_dbov {
            out.push(Cue::SpeakUp);
        } else if l > config.loudness.max_dbov {
            out.push(Cue::Softer);
        }
    }
    if status.overtalk_now {
        out.push(Cue::Overtalk);
    }
    out
}

/// A cue about the voice (rate, loudness) stays on at least this long after its condition
/// last held, so it does not flicker at a band's edge, seconds. The greeting, silence and
/// overtalk alarms end the moment their condition does.
pub const CUE_HOLD_S: f64 = 1.5;

impl Cue {
    /// How long the cue stays on after its condition last held, seconds.
    pub fn hold_s(self) -> f64 {
        match self {
            Cue::Greet | Cue::Silence | Cue::Overtalk => 0.0,
            _ => CUE_HOLD_S,
        }
    }
}

/// Remembers which cues are on, to report when each turns on and off.
#[derive(Debug, Clone, Default)]
pub struct CueTracker {
    /// Cues on, with the last time their condition held.
    on: Vec<(Cue, f64)>,
}

impl CueTracker {
    /// A tracker with no cue on.
    pub fn new() -> CueTracker {
        CueTracker::default()
    }

    /// Takes the cues whose condition holds at `t_s`; returns `(turned_on, turned_off)`.
    pub fn update(&mut self, now: &[Cue], t_s: f64) -> (Vec<Cue>, Vec<Cue>) {
        let mut started = Vec::new();
        for &cue in now {
            match self.on.iter_mut().find(|(c, _)| *c == cue) {
                Some(entry) => entry.1 = t_s,
                None => {
                    self.on.push((cue, t_s));
                    started.push(cue);
                }
            }
        }
        let mut ended = Vec::new();
        self.on.retain(|&(cue, last_s)| {
            let keep = now.contains(&cue) || t_s - last_s < cue.hold_s();
            if !keep {
                ended.push(cue);
            }
            keep
        });
        self.on.sort_by_key(|&(c, _)| c);
        (started, ended)
    }

    /// The cues on now, in display order.
    pub fn on(&self) -> Vec<Cue> {
        self.on.iter().map(|&(c, _)| c).collect()
    }

    /// True when `cue` is on.
    pub fn is_on(&self, cue: Cue) -> bool {
        self.on.iter().any(|&(c, _)| c == cue)
    }
}

/// Input level per channel over the samples pushed since the last `take`.
#[derive(Debug, Clone)]
pub struct LevelMeter {
    peak: Vec<f32>,
    sum_sq: Vec<f64>,
    frames: u64,
}

/// One channel's input level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    /// Highest sample magnitude, dB re full scale (`None` in digital silence).
    pub peak_dbfs: Option<f64>,
    /// Root-mean-square level, dB re full scale (`None` in digital silence).
    pub rms_dbfs: Option<f64>,
}

impl LevelMeter {
    /// A meter for interleaved audio with `channels` channels.
    pub fn new(channels: usize) -> LevelMeter {
        let channels = channels.max(1);
        LevelMeter {
            peak: vec![0.0; channels],
            sum_sq: vec![0.0; channels],
            frames: 0,
        }
    }

    /// Adds interleaved samples.
    pub fn push(&mut self, interleaved: &[f32]) {
        let ch = self.peak.len();
        for frame in interleaved.chunks_exact(ch) {
            for (c, &s) in frame.iter().enumerate() {
                let s = if s.is_finite() { s } else { 0.0 };
                self.peak[c] = self.peak[c].max(s.abs());
                self.sum_sq[c] += f64::from(s) * f64::from(s);
            }
            self.frames += 1;
        }
    }

    /// The levels since the last call, per channel; resets the meter.
    pub fn take(&mut self) -> Vec<Level> {
        let db = |x: f64| (x > 0.0).then(|| 20.0 * x.log10());
        let out = self
            .peak
            .iter()
            .zip(&self.sum_sq)
            .map(|(&p, &sq)| Level {
                peak_dbfs: db(f64::from(p)),
                rms_dbfs: if self.frames > 0 {
                    db((sq / self.frames as f64).sqrt())
                } else {
                    None
                },
            })
            .collect();
        self.peak.iter_mut().for_each(|p| *p = 0.0);
        self.sum_sq.iter_mut().for_each(|s| *s = 0.0);
        self.frames = 0;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::Layout;

    fn view<'a>(segments: &'a [Span], open: Option<Span>, nuclei_s: &'a [f64]) -> PartyView<'a> {
        PartyView {
            segments,
            open,
            nuclei_s,
            short_term_lufs: None,
        }
    }

    /// Elapsed audio for a given horizon.
    fn at(horizon: f64) -> f64 {
        horizon + DECISION_LAG_S
    }

    #[test]
    fn silence_alarm_fires_at_the_gap_limit() {
        let config = Config::default();
        assert_eq!(config.silence.gap_limit_s, 2.0);
        let segs = [(0.5, 1.5)];
        let agent = view(&segs, None, &[]);
        let before = status(&agent, None, at(3.49), &config);
        assert!((before.silence_s.unwrap() - 1.99).abs() < 1e-9);
        assert!(!cues(&before, &config).contains(&Cue::Silence));
        let at_limit = status(&agent, None, at(3.5), &config);
        assert!(cues(&at_limit, &config).contains(&Cue::Silence));
        // Speech resumes: the alarm stops.
        let resumed = view(&segs, Some((3.8, 4.2)), &[]);
        let s = status(&resumed, None, at(4.2), &config);
        assert_eq!(s.silence_s, Some(0.0));
        assert!(!cues(&s, &config).contains(&Cue::Silence));
    }

    #[test]
    fn silence_counts_the_customer_too() {
        let config = Config::default();
        let a = [(0.5, 1.5)];
        let c = [(1.4, 3.0)];
        let agent = view(&a, None, &[]);
        let customer = view(&c, None, &[]);
        let s = status(&agent, Some(&customer), at(4.0), &config);
        assert!((s.silence_s.unwrap() - 1.0).abs() < 1e-9);
        assert!(!cues(&s, &config).contains(&Cue::Silence));
    }

    #[test]
    fn greeting_timer_runs_until_the_first_word_then_stops() {
        let config = Config::default();
        let none: [Span; 0] = [];
        let waiting = status(&view(&none, None, &[]), None, at(1.0), &config);
        assert_eq!(waiting.greeting, Greeting::Waiting { waited_s: 1.0 });
        assert_eq!(waiting.silence_s, None);
        assert!(cues(&waiting, &config).is_empty());
        let late = status(&view(&none, None, &[]), None, at(2.0), &config);
        assert_eq!(cues(&late, &config), vec![Cue::Greet]);
        // A click shorter than the minimum speech is not a greeting.
        let click = status(&view(&none, Some((1.9, 1.95)), &[]), None, at(2.0), &config);
        assert!(matches!(click.greeting, Greeting::Waiting { .. }));
        // The first word (still in progress) stops the timer at its onset.
        let greeted = status(&view(&none, Some((1.2, 1.5)), &[]), None, at(1.5), &config);
        assert_eq!(greeted.greeting, Greeting::Greeted { latency_s: 1.2 });
        assert!(cues(&greeted, &config).is_empty());
        // Later, with the segment closed, the timer stays where it stopped.
        let segs = [(1.17, 3.0)];
        let later = status(&view(&segs, None, &[]), None, at(30.0), &config);
        assert_eq!(later.greeting, Greeting::Greeted { latency_s: 1.17 });
        assert!(!cues(&later, &config).contains(&Cue::Greet));
    }

    #[test]
    fn rolling_rate_and_its_cues() {
        let config = Config::default();
        // 10 s of talk with 30 nuclei: 180 per minute.
        let segs = [(0.0, 10.0)];
        let nuclei: Vec<f64> = (0..30).map(|i| 0.2 + i as f64 / 3.0).collect();
        let s = status(&view(&segs, None, &nuclei), None, at(10.0), &config);
        assert!(
            (s.rate_spm.unwrap() - 180.0).abs() < 1e-9,
            "{:?}",
            s.rate_spm
        );
        assert!(cues(&s, &config).contains(&Cue::SlowDown));
        // 15 in the same talk: 90 per minute.
        let slow: Vec<f64> = (0..15).map(|i| 0.2 + i as f64 * 0.66).collect();
        let s = status(&view(&segs, None, &slow), None, at(10.0), &config);
        assert!(cues(&s, &config).contains(&Cue::SpeedUp));
        // Under 2 s of talk in the window: no rate, no cue.
        let short = [(8.5, 10.0)];
        let s = status(&view(&short, None, &nuclei), None, at(10.0), &config);
        assert_eq!(s.rate_spm, None);
    }

    #[test]
    fn window_rate_ignores_nuclei_outside_speech_and_window() {
        let speech = [(0.0, 2.0), (5.0, 7.0)];
        let nuclei = [0.5, 1.0, 1.5, 3.0, 5.5, 6.0, 9.0];
        // Window (0, 10]: 4 s of talk, 5 nuclei in speech.
        assert_eq!(window_rate_spm(&nuclei, &speech, 0.0, 10.0), Some(75.0));
        // Window (1.2, 7]: 0.8 + 2 s of talk, nuclei 1.5, 5.5, 6.0.
        let r = window_rate_spm(&nuclei, &speech, 1.2, 7.0).unwrap();
        assert!((r - 3.0 * 60.0 / 2.8).abs() < 1e-9);
    }

    #[test]
    fn loudness_is_judged_only_on_enough_speech() {
        let config = Config::default();
        let segs = [(0.0, 10.0)];
        let mut agent = view(&segs, None, &[]);
        agent.short_term_lufs = Some(-40.0);
        let s = status(&agent, None, at(10.0), &config);
        assert!(cues(&s, &config).contains(&Cue::SpeakUp));
        agent.short_term_lufs = Some(-12.0);
        let s = status(&agent, None, at(10.0), &config);
        assert!(cues(&s, &config).contains(&Cue::Softer));
        // 2.4 s of speech in the window: the pauses are taken out of the reading.
        let most = [(0.0, 9.4)];
        let mut agent = view(&most, None, &[]);
        agent.short_term_lufs = Some(-32.5);
        let s = status(&agent, None, at(10.0), &config);
        let expected = -32.5 - 10.0 * (2.4f64 / 3.0).log10();
        assert!((s.speech_lufs.unwrap() - expected).abs() < 1e-9);
        assert!(
            !cues(&s, &config).contains(&Cue::SpeakUp),
            "{:?}",
            s.speech_lufs
        );
        // Only 1 s of speech in the last 3 s: a quiet reading is the pause, not the voice.
        let sparse = [(0.0, 8.0)];
        let mut agent = view(&sparse, None, &[]);
        agent.short_term_lufs = Some(-40.0);
        let s = status(&agent, None, at(10.0), &config);
        assert!(!cues(&s, &config).contains(&Cue::SpeakUp));
    }

    #[test]
    fn overtalk_now_and_so_far() {
        let config = Config::default();
        let a = [(0.0, 2.0)];
        let c = [(1.5, 3.0)];
        let agent = view(&a, Some((4.0, 5.0)), &[]);
        let customer = view(&c, Some((4.6, 5.0)), &[]);
        let s = status(&agent, Some(&customer), at(5.0), &config);
        assert!(s.overtalk_now);
        assert_eq!(s.overtalk_count, 2);
        assert!((s.overtalk_s.unwrap() - 0.9).abs() < 1e-9);
        assert!(cues(&s, &config).contains(&Cue::Overtalk));
        let alone = view(&c, None, &[]);
        let s = status(&agent, Some(&alone), at(5.0), &config);
        assert!(!s.overtalk_now);
        assert_eq!(s.overtalk_count, 1);
        // The customer paused 0.5 s ago (still inside the segment): not overtalk now.
        let paused = view(&c, Some((4.0, 4.5)), &[]);
        let s = status(&agent, Some(&paused), at(5.0), &config);
        assert!(!s.overtalk_now);
    }

    #[test]
    fn tracker_reports_changes_and_holds_voice_cues() {
        let mut t = CueTracker::new();
        assert_eq!(t.update(&[Cue::Greet], 2.0), (vec![Cue::Greet], vec![]));
        assert_eq!(t.update(&[Cue::Greet], 2.1), (vec![], vec![]));
        // Alarms end at once.
        assert_eq!(
            t.update(&[Cue::SlowDown], 2.2),
            (vec![Cue::SlowDown], vec![Cue::Greet])
        );
        // A voice cue is held for CUE_HOLD_S after its condition last held.
        assert_eq!(t.update(&[], 2.2 + CUE_HOLD_S - 0.01), (vec![], vec![]));
        assert!(t.is_on(Cue::SlowDown));
        assert_eq!(
            t.update(&[], 2.2 + CUE_HOLD_S),
            (vec![], vec![Cue::SlowDown])
        );
        assert!(t.on().is_empty());
    }

    #[test]
    fn level_meter_per_channel() {
        let mut m = LevelMeter::new(2);
        m.push(&[0.5, 0.0, -0.5, 0.0]);
        let l = m.take();
        assert!((l[0].peak_dbfs.unwrap() - 20.0 * 0.5f64.log10()).abs() < 1e-6);
        assert!((l[0].rms_dbfs.unwrap() - 20.0 * 0.5f64.log10()).abs() < 1e-6);
        assert_eq!(l[1].peak_dbfs, None);
        assert_eq!(m.take()[0].peak_dbfs, None);
    }

    /// A speech-like burst train: voiced syllables (harmonics of a gliding F0) at 5 per
    /// second over a faint noise floor.
    fn syllables(rate_hz: u32, spans: &[Span], total_s: f64) -> Vec<f32> {
        let n = (total_s * rate_hz as f64) as usize;
        let mut seed = 12345u32;
        (0..n)
            .map(|i| {
                let t = i as f64 / rate_hz as f64;
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = (seed >> 8) as f64 / (1u32 << 24) as f64 - 0.5;
                let mut x = noise * 0.002;
                if spans.iter().any(|s| t >= s.0 && t < s.1) {
                    let phase = (t * 5.0).fract();
                    let env = if phase < 0.7 {
                        (std::f64::consts::PI * phase / 0.7).sin().powi(2)
                    } else {
                        0.0
                    };
                    let f0 = 140.0 + 20.0 * (t * 0.7).sin();
                    let mut v = 0.0;
                    for h in 1..=8 {
                        v += (2.0 * std::f64::consts::PI * f0 * h as f64 * t).sin() / h as f64;
                    }
                    x += 0.1 * env * v;
                }
                x as f32
            })
            .collect()
    }

    #[test]
    fn analyzer_driven_alarm_fires_two_seconds_after_speech_ends() {
        // The same streaming analyzer as files: speech 0.8-3.0 s, then silence.
        let config = Config::default();
        let rate = 16_000;
        let audio = syllables(rate, &[(0.8, 3.0)], 7.0);
        let mut analyzer = Analyzer::new(&config, rate, 1, Layout::AgentOnly);
        let mut first_alarm = None;
        let mut greeted_at = None;
        for block in audio.chunks(160) {
            analyzer.push_interleaved(block);
            let s = status_of(&analyzer, &config);
            if let (None, Greeting::Greeted { latency_s }) = (greeted_at, s.greeting) {
                greeted_at = Some((latency_s, s.horizon_s));
            }
            if first_alarm.is_none() && cues(&s, &config).contains(&Cue::Silence) {
                first_alarm = Some(s.horizon_s);
            }
        }
        let (latency, seen_at) = greeted_at.expect("the agent's speech was found");
        assert!((latency - 0.8).abs() < 0.1, "greeting at {latency}");
        assert!(seen_at < 1.2, "greeting seen late: {seen_at}");
        let alarm = first_alarm.expect("the silence alarm fired");
        let report = analyzer.finish();
        let end = report
            .speech
            .as_ref()
            .and_then(|s| s.last_offset_s)
            .unwrap();
        assert!((end - 3.0).abs() < 0.15, "speech ended at {end}");
        assert!(
            (alarm - (end + 2.0)).abs() < 0.02,
            "alarm at {alarm}, speech ended {end}"
        );
    }
}
