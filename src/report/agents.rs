//! Per-agent aggregation: one summary per agent over their analysed calls, and `agents.csv`.
//!
//! Shares are of the calls where the rule could be judged; percentiles interpolate linearly
//! between order statistics (as numpy's default).

use std::collections::BTreeMap;

use crate::analyzer;
use crate::config::Config;
use crate::conversation;
use crate::report::model::{CallReport, PartyReport};

/// The rules in coaching order when two fail equally often (most audible to a caller first).
pub const RULE_ORDER: &[&str] = &[
    "greeting_latency",
    "dead_air",
    "speaking_rate",
    "loudness",
    "overtalk",
    "response_latency",
    "intonation",
    "clipping",
    "pitch",
];

/// A rule's name for people.
pub fn rule_label(rule: &str) -> &str {
    match rule {
        "greeting_latency" => "greeting late",
        "dead_air" => "dead air",
        "speaking_rate" => "speaking rate off target",
        "loudness" => "loudness off band",
        "overtalk" => "talks over customer",
        "response_latency" => "slow response",
        "intonation" => "monotone",
        "clipping" => "clipping",
        "pitch" => "pitch",
        other => other,
    }
}

/// How often one rule failed for an agent.
#[derive(Debug, Clone, PartialEq)]
pub struct CoachingPoint {
    /// The rule's key (as in `checks`).
    pub rule: String,
    /// Calls that failed it.
    pub failed: usize,
    /// Calls where it could be judged.
    pub judged: usize,
}

/// One agent's figures over their calls.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentSummary {
    /// The agent's name.
    pub agent: String,
    /// Calls analysed.
    pub calls: usize,
    /// Files of this agent that could not be analysed.
    pub failed_files: usize,
    /// Earliest call date, `YYYY-MM-DD`.
    pub first_date: Option<String>,
    /// Latest call date.
    pub last_date: Option<String>,
    /// Total talk time of the agent, seconds.
    pub talk_time_s: f64,
    /// Median speaking rate over calls, syllables per minute.
    pub rate_median_spm: Option<f64>,
    /// 10th percentile of the calls' speaking rates, syllables per minute.
    pub rate_p10_spm: Option<f64>,
    /// 90th percentile of the calls' speaking rates, syllables per minute.
    pub rate_p90_spm: Option<f64>,
    /// Share of calls whose speaking rate is inside the target band (0..1).
    pub rate_in_band_share: Option<f64>,
    /// Share of calls greeted in time (0..1).
    pub greeting_pass_share: Option<f64>,
    /// Median greeting latency, seconds.
    pub greeting_median_s: Option<f64>,
    /// Dead-air gaps (at least the gap limit) per call.
    pub dead_air_per_call: Option<f64>,
    /// Share of calls without dead air (0..1).
    pub dead_air_pass_share: Option<f64>,
    /// The longest gap in any call, seconds.
    pub longest_gap_s: Option<f64>,
    /// Median active speech level, dBov.
    pub loudness_median_dbov: Option<f64>,
    /// Spread of the calls' levels: 90th minus 10th percentile, dB.
    pub loudness_spread_db: Option<f64>,
    /// Share of calls whose level is inside the loudness band (0..1).
    pub loudness_in_band_share: Option<f64>,
    /// Median over calls of the F0 spread (10th to 90th percentile), semitones.
    pub pitch_spread_semitones: Option<f64>,
    /// Overtalk spans per two-channel call (`None` without two-channel calls).
    pub overtalk_per_call: Option<f64>,
    /// Share of the calls flagged for background voices (less certain gaps and greeting).
    pub background_voices_share: Option<f64>,
    /// Rules failed at least once, most often first.
    pub coaching: Vec<CoachingPoint>,
}

/// The `q` quantile (0..1) of values, interpolating linearly; `None` when empty.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    Some(v[lo] + (v[hi] - v[lo]) * (pos - lo as f64))
}

/// The median of values; `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    quantile(values, 0.5)
}

fn share(passes: impl Iterator<Item = Option<bool>>) -> Option<f64> {
    let (mut judged, mut passed) = (0usize, 0usize);
    for p in passes.flatten() {
        judged += 1;
        passed += usize::from(p);
    }
    (judged > 0).then(|| passed as f64 / judged as f64)
}

/// The pass/fail of one rule of a call, `None` when not judged.
pub fn pass_of(call: &CallReport, rule: &str) -> Option<bool> {
    call.checks.as_ref()?.get(rule)?.pass
}

/// The name calls without an agent are grouped under.
pub const UNKNOWN_AGENT: &str = "(unknown)";

/// The agent's name of a call, or [`UNKNOWN_AGENT`].
pub fn agent_of(call: &CallReport) -> &str {
    call.agent
        .as_deref()
        .filter(|a| !a.is_empty())
        .unwrap_or(UNKNOWN_AGENT)
}

/// Groups calls by agent (sorted by name); within an agent, by date then file.
pub fn group_by_agent(calls: &[CallReport]) -> BTreeMap<String, Vec<&CallReport>> {
    let mut groups: BTreeMap<String, Vec<&CallReport>> = BTreeMap::new();
    for c in calls {
        groups.entry(agent_of(c).to_string()).or_default().push(c);
    }
    for list in groups.values_mut() {
        list.sort_by(|a, b| (&a.date, &a.file).cmp(&(&b.date, &b.file)));
    }
    groups
}

/// What the per-agent report needs of one call (about 130 bytes plus the path and date,
/// instead of the whole result with its timelines), so the report of a batch holds one of
/// these per call rather than every result.
#[derive(Debug, Clone, PartialEq)]
pub struct CallDigest {
    file: Box<str>,
    date: Option<Box<str>>,
    error: Option<Box<str>>,
    /// Duration, rate, level, greeting, F0 spread, talk time and longest gap, `NaN` for
    /// none (values read from calls.jsonl are never NaN).
    values: [f64; 7],
    /// Dead-air gaps, `u32::MAX` without a silence report.
    long_gaps: u32,
    /// Overtalk spans, `u32::MAX` without an interaction report.
    overtalk_spans: u32,
    /// Pass (`0b01`) or fail (`0b10`) of each rule of [`RULE_ORDER`], two bits each.
    known_passes: u32,
    /// Pass or fail of rules not in [`RULE_ORDER`], by name.
    other_passes: Option<OtherPasses>,
    /// `silence.background_voices_flag`.
    background_voices: bool,
}

/// Rules outside [`RULE_ORDER`] and their pass, by name.
type OtherPasses = Box<[(Box<str>, bool)]>;

const DURATION: usize = 0;
const RATE: usize = 1;
const LEVEL: usize = 2;
const GREETING: usize = 3;
const SPREAD: usize = 4;
const TALK: usize = 5;
const LONGEST_GAP: usize = 6;

fn some(v: f64) -> Option<f64> {
    (!v.is_nan()).then_some(v)
}

fn count(n: u32) -> Option<u32> {
    (n != u32::MAX).then_some(n)
}

impl CallDigest {
    /// The digest of one result.
    pub fn of(call: &CallReport) -> CallDigest {
        let mut known_passes = 0u32;
        let mut other_passes = Vec::new();
        for (rule, check) in call.checks.iter().flatten() {
            let Some(pass) = check.pass else { continue };
            match RULE_ORDER.iter().position(|r| r == rule) {
                Some(i) => known_passes |= (if pass { 0b01 } else { 0b10 }) << (2 * i),
                None => other_passes.push((rule.as_str().into(), pass)),
            }
        }
        let silence = call.silence.as_ref();
        let mut values = [f64::NAN; 7];
        for (i, v) in [
            (DURATION, call.duration_s),
            (RATE, call.rate.as_ref().and_then(|r| r.speaking_rate_spm)),
            (
                LEVEL,
                call.loudness
                    .as_ref()
                    .and_then(|l| l.active_speech_level_dbov),
            ),
            (GREETING, silence.and_then(|s| s.greeting_latency_s)),
            (SPREAD, call.pitch.as_ref().and_then(|p| p.spread_semitones)),
            (TALK, call.speech.as_ref().map(|s| s.talk_time_s)),
            (LONGEST_GAP, silence.map(|s| s.longest_gap_s)),
        ] {
            values[i] = v.unwrap_or(f64::NAN);
        }
        CallDigest {
            file: call.file.as_str().into(),
            date: call.date.as_deref().map(Into::into),
            error: call.error.as_deref().map(Into::into),
            values,
            long_gaps: silence.map_or(u32::MAX, |s| {
                u32::try_from(s.long_gaps.len()).unwrap_or(u32::MAX - 1)
            }),
            overtalk_spans: call.interaction.as_ref().map_or(u32::MAX, |i| {
                u32::try_from(i.overtalk.len()).unwrap_or(u32::MAX - 1)
            }),
            known_passes,
            other_passes: (!other_passes.is_empty()).then(|| other_passes.into_boxed_slice()),
            background_voices: silence.is_some_and(|s| s.background_voices_flag),
        }
    }

    /// Whether the call's gaps and greeting were flagged as less certain for background
    /// voices (`silence.background_voices_flag`); `None` without a silence report.
    pub fn background_voices(&self) -> Option<bool> {
        count(self.long_gaps).map(|_| self.background_voices)
    }

    /// The recording's path as given.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The call's date, `YYYY-MM-DD`, when known.
    pub fn date(&self) -> Option<&str> {
        self.date.as_deref()
    }

    /// Why the file could not be analysed.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Length of the recording, seconds.
    pub fn duration_s(&self) -> Option<f64> {
        some(self.values[DURATION])
    }

    /// The agent's speaking rate, syllables per minute.
    pub fn rate_spm(&self) -> Option<f64> {
        some(self.values[RATE])
    }

    /// Active speech level, dBov.
    pub fn level_dbov(&self) -> Option<f64> {
        some(self.values[LEVEL])
    }

    /// Greeting latency, seconds.
    pub fn greeting_s(&self) -> Option<f64> {
        some(self.values[GREETING])
    }

    /// F0 spread, semitones.
    pub fn pitch_spread_semitones(&self) -> Option<f64> {
        some(self.values[SPREAD])
    }

    /// The agent's talk time, seconds (`None` without a speech report).
    pub fn talk_time_s(&self) -> Option<f64> {
        some(self.values[TALK])
    }

    /// Dead-air gaps and the longest gap in seconds (`None` without a silence report).
    pub fn silence(&self) -> Option<(u32, f64)> {
        Some((count(self.long_gaps)?, self.values[LONGEST_GAP]))
    }

    /// Overtalk spans (`None` without an interaction report).
    pub fn overtalk_spans(&self) -> Option<u32> {
        count(self.overtalk_spans)
    }

    /// The pass/fail of one rule, `None` when not judged.
    pub fn pass_of(&self, rule: &str) -> Option<bool> {
        match RULE_ORDER.iter().position(|r| *r == rule) {
            Some(i) => match (self.known_passes >> (2 * i)) & 0b11 {
                0b01 => Some(true),
                0b10 => Some(false),
                _ => None,
            },
            None => self
                .other_passes
                .iter()
                .flatten()
                .find(|(r, _)| &**r == rule)
                .map(|(_, p)| *p),
        }
    }

    /// The judged rules and their pass, by name.
    pub fn passes(&self) -> impl Iterator<Item = (&str, bool)> + '_ {
        RULE_ORDER
            .iter()
            .filter_map(|r| Some((*r, self.pass_of(r)?)))
            .chain(self.other_passes.iter().flatten().map(|(r, p)| (&**r, *p)))
    }

    /// The failed rules in coaching order (the others by name, after them).
    pub fn failed_rules(&self) -> Vec<&str> {
        let mut rules: Vec<&str> = self
            .passes()
            .filter(|(_, pass)| !pass)
            .map(|(r, _)| r)
            .collect();
        let order = |r: &str| RULE_ORDER.iter().position(|x| *x == r).unwrap_or(99);
        rules.sort_by(|a, b| order(a).cmp(&order(b)).then(a.cmp(b)));
        rules
    }

    /// Appends the digest's bytes, read back exactly by [`CallDigest::decode`] (for the
    /// report's temporary files).
    pub fn encode(&self, out: &mut Vec<u8>) {
        use crate::report::extsort::bytes::*;
        put_str(out, &self.file);
        put_opt_str(out, self.date.as_deref());
        put_opt_str(out, self.error.as_deref());
        for v in self.values {
            put_f64(out, v);
        }
        for n in [self.long_gaps, self.overtalk_spans, self.known_passes] {
            put_u32(out, n);
        }
        let others = self.other_passes.as_deref().unwrap_or(&[]);
        put_u32(out, others.len() as u32);
        for (rule, pass) in others {
            put_str(out, rule);
            out.push(u8::from(*pass));
        }
        out.push(u8::from(self.background_voices));
    }

    /// Reads a digest written by [`CallDigest::encode`] off the front of `input`.
    pub fn decode(input: &mut &[u8]) -> std::io::Result<CallDigest> {
        use crate::report::extsort::bytes::*;
        let file = get_str(input)?.into();
        let date = get_opt_str(input)?.map(Into::into);
        let error = get_opt_str(input)?.map(Into::into);
        let mut values = [0.0; 7];
        for v in &mut values {
            *v = get_f64(input)?;
        }
        let (long_gaps, overtalk_spans, known_passes) =
            (get_u32(input)?, get_u32(input)?, get_u32(input)?);
        let n = get_u32(input)? as usize;
        let mut others = Vec::with_capacity(n.min(input.len()));
        for _ in 0..n {
            others.push((get_str(input)?.into(), get_u8(input)? != 0));
        }
        let background_voices = get_u8(input)? != 0;
        Ok(CallDigest {
            file,
            date,
            error,
            values,
            long_gaps,
            overtalk_spans,
            known_passes,
            other_passes: (!others.is_empty()).then(|| others.into_boxed_slice()),
            background_voices,
        })
    }

    /// Bytes this digest holds, its heap included (for the memory figures).
    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of::<CallDigest>()
            + self.file.len()
            + self.date.as_ref().map_or(0, |d| d.len())
            + self.error.as_ref().map_or(0, |e| e.len())
            + self
                .other_passes
                .iter()
                .flatten()
                .map(|(r, _)| r.len() + std::mem::size_of::<(Box<str>, bool)>())
                .sum::<usize>()
    }
}

/// Summarises one agent's calls (lines with `error` count as failed files only).
pub fn summarize(agent: &str, calls: &[&CallReport]) -> AgentSummary {
    let digests: Vec<CallDigest> = calls.iter().map(|c| CallDigest::of(c)).collect();
    summarize_digests(agent, &digests.iter().collect::<Vec<_>>())
}

/// [`summarize`] from the calls' digests.
pub fn summarize_digests(agent: &str, calls: &[&CallDigest]) -> AgentSummary {
    let ok: Vec<&CallDigest> = calls
        .iter()
        .copied()
        .filter(|c| c.error().is_none())
        .collect();
    let values = |f: &dyn Fn(&CallDigest) -> Option<f64>| -> Vec<f64> {
        ok.iter().filter_map(|c| f(c)).collect()
    };
    let rates = values(&|c| c.rate_spm());
    let levels = values(&|c| c.level_dbov());
    let greetings = values(&|c| c.greeting_s());
    let spreads = values(&|c| c.pitch_spread_semitones());
    let with_silence: Vec<(u32, f64)> = ok.iter().filter_map(|c| c.silence()).collect();
    let overtalk: Vec<u32> = ok.iter().filter_map(|c| c.overtalk_spans()).collect();
    let dates: Vec<&str> = ok.iter().filter_map(|c| c.date()).collect();

    // Judged and failed calls per rule, rules by name (then stably in coaching order).
    let mut tally: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for c in &ok {
        for (rule, pass) in c.passes() {
            let t = tally.entry(rule).or_default();
            t.0 += 1;
            t.1 += usize::from(!pass);
        }
    }
    let mut coaching: Vec<CoachingPoint> = tally
        .into_iter()
        .filter(|(_, (_, failed))| *failed > 0)
        .map(|(rule, (judged, failed))| CoachingPoint {
            rule: rule.to_string(),
            failed,
            judged,
        })
        .collect();
    let order = |r: &str| RULE_ORDER.iter().position(|x| *x == r).unwrap_or(99);
    coaching.sort_by(|a, b| {
        b.failed
            .cmp(&a.failed)
            .then(order(&a.rule).cmp(&order(&b.rule)))
    });

    AgentSummary {
        agent: agent.to_string(),
        calls: ok.len(),
        failed_files: calls.len() - ok.len(),
        first_date: dates.iter().min().map(|d| d.to_string()),
        last_date: dates.iter().max().map(|d| d.to_string()),
        talk_time_s: ok.iter().filter_map(|c| c.talk_time_s()).sum(),
        rate_median_spm: median(&rates),
        rate_p10_spm: quantile(&rates, 0.1),
        rate_p90_spm: quantile(&rates, 0.9),
        rate_in_band_share: share(ok.iter().map(|c| c.pass_of("speaking_rate"))),
        greeting_pass_share: share(ok.iter().map(|c| c.pass_of("greeting_latency"))),
        greeting_median_s: median(&greetings),
        dead_air_per_call: (!with_silence.is_empty()).then(|| {
            with_silence.iter().map(|s| s.0 as usize).sum::<usize>() as f64
                / with_silence.len() as f64
        }),
        dead_air_pass_share: share(ok.iter().map(|c| c.pass_of("dead_air"))),
        longest_gap_s: with_silence.iter().map(|s| s.1).reduce(f64::max),
        loudness_median_dbov: median(&levels),
        loudness_spread_db: quantile(&levels, 0.9)
            .zip(quantile(&levels, 0.1))
            .map(|(a, b)| a - b),
        loudness_in_band_share: share(ok.iter().map(|c| c.pass_of("loudness"))),
        pitch_spread_semitones: median(&spreads),
        overtalk_per_call: (!overtalk.is_empty()).then(|| {
            overtalk.iter().map(|&n| n as usize).sum::<usize>() as f64 / overtalk.len() as f64
        }),
        background_voices_share: share(ok.iter().map(|c| c.background_voices())),
        coaching,
    }
}

/// Summaries of every agent, sorted by name.
pub fn summarize_all(calls: &[CallReport]) -> Vec<AgentSummary> {
    group_by_agent(calls)
        .iter()
        .map(|(agent, list)| summarize(agent, list))
        .collect()
}

/// Re-judges a stored result against `config`: long gaps are re-cut from the gaps at the
/// new limit and every check is computed again.
pub fn rejudge(call: &mut CallReport, config: &Config) {
    if call.error.is_some() {
        return;
    }
    if let Some(silence) = &mut call.silence {
        let gaps: Vec<conversation::Span> = silence.gaps.iter().map(|g| (g[0], g[1])).collect();
        let long = conversation::long_gaps(&gaps, config.silence.gap_limit_s);
        silence.long_gaps = long.iter().map(|g| [g.0, g.1]).collect();
        silence.dead_air_s = crate::report::model::round3(conversation::total_s(&long));
        if let Some(speech) = &call.speech {
            silence.background_voices_flag = analyzer::background_voices_flag(speech, config);
        }
    }
    let agent = PartyReport {
        loudness: call.loudness.clone().unwrap_or_default(),
        speech: call.speech.clone().unwrap_or_default(),
        rate: call.rate.clone().unwrap_or_default(),
        pitch: call.pitch.clone().unwrap_or_default(),
    };
    let silence = call.silence.clone().unwrap_or_default();
    call.checks = Some(analyzer::checks(
        config,
        &agent,
        &silence,
        call.interaction.as_ref(),
    ));
}

fn num(v: Option<f64>, digits: usize) -> String {
    v.filter(|x| x.is_finite())
        .map(|x| format!("{x:.digits$}"))
        .unwrap_or_default()
}

/// The coaching points as one cell: `dead air 3/10; greeting late 1/10`.
pub fn coaching_text(points: &[CoachingPoint], top: usize) -> String {
    points
        .iter()
        .take(top)
        .map(|p| format!("{} {}/{}", rule_label(&p.rule), p.failed, p.judged))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The columns of `agents.csv`.
pub const CSV_COLUMNS: &[&str] = &[
    "agent",
    "calls",
    "failed_files",
    "first_date",
    "last_date",
    "talk_time_s",
    "speaking_rate_median_spm",
    "speaking_rate_p10_spm",
    "speaking_rate_p90_spm",
    "speaking_rate_in_band_share",
    "greeting_pass_share",
    "greeting_median_s",
    "dead_air_gaps_per_call",
    "calls_without_dead_air_share",
    "longest_gap_s",
    "loudness_median_dbov",
    "loudness_spread_db",
    "loudness_in_band_share",
    "pitch_spread_median_semitones",
    "overtalk_per_call",
    "background_voices_share",
    "top_coaching_points",
];

/// `agents.csv`: a UTF-8 byte-order mark (so spreadsheet programs read Chinese names), a
/// header and one row per agent.
pub fn to_csv(summaries: &[AgentSummary]) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_COLUMNS)?;
    for s in summaries {
        w.write_record([
            s.agent.clone(),
            s.calls.to_string(),
            s.failed_files.to_string(),
            s.first_date.clone().unwrap_or_default(),
            s.last_date.clone().unwrap_or_default(),
            num(Some(s.talk_time_s), 1),
            num(s.rate_median_spm, 1),
            num(s.rate_p10_spm, 1),
            num(s.rate_p90_spm, 1),
            num(s.rate_in_band_share, 3),
            num(s.greeting_pass_share, 3),
            num(s.greeting_median_s, 2),
            num(s.dead_air_per_call, 2),
            num(s.dead_air_pass_share, 3),
            num(s.longest_gap_s, 2),
            num(s.loudness_median_dbov, 1),
            num(s.loudness_spread_db, 1),
            num(s.loudness_in_band_share, 3),
            num(s.pitch_spread_semitones, 1),
            num(s.overtalk_per_call, 2),
            num(s.background_voices_share, 3),
            coaching_text(&s.coaching, 3),
        ])?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(format!("\u{feff}{}", String::from_utf8_lossy(&bytes)))
}

/// One point of an agent's trend: the calls of one date.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendPoint {
    /// The date, `YYYY-MM-DD` (or `unknown`).
    pub date: String,
    /// Calls that day.
    pub calls: usize,
    /// Median speaking rate, syllables per minute.
    pub rate_median_spm: Option<f64>,
    /// Median active speech level, dBov.
    pub loudness_median_dbov: Option<f64>,
    /// Share of calls greeted in time (0..1).
    pub greeting_pass_share: Option<f64>,
    /// Dead-air gaps per call.
    pub dead_air_per_call: Option<f64>,
}

/// An agent's figures per date, oldest first (calls without a date last, as `unknown`).
pub fn trend(calls: &[&CallReport]) -> Vec<TrendPoint> {
    let digests: Vec<CallDigest> = calls.iter().map(|c| CallDigest::of(c)).collect();
    trend_digests(&digests.iter().collect::<Vec<_>>())
}

/// [`trend`] from the calls' digests.
pub fn trend_digests(calls: &[&CallDigest]) -> Vec<TrendPoint> {
    let mut by_date: BTreeMap<(bool, &str), Vec<&CallDigest>> = BTreeMap::new();
    for c in calls.iter().filter(|c| c.error().is_none()) {
        let key = match c.date() {
            Some(d) => (false, d),
            None => (true, "unknown"),
        };
        by_date.entry(key).or_default().push(c);
    }
    by_date
        .into_iter()
        .map(|((_, date), list)| {
            let s = summarize_digests("", &list);
            TrendPoint {
                date: date.to_string(),
                calls: s.calls,
                rate_median_spm: s.rate_median_spm,
                loudness_median_dbov: s.loudness_median_dbov,
                greeting_pass_share: s.greeting_pass_share,
                dead_air_per_call: s.dead_air_per_call,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::*;

    /// A call with the given rate, level, greeting latency and gaps, judged by the defaults.
    fn call(
        agent: &str,
        date: &str,
        rate: f64,
        level: f64,
        greet: f64,
        gaps: &[f64],
    ) -> CallReport {
        let mut t = greet;
        let mut gap_spans = Vec::new();
        for g in gaps {
            t += 1.0;
            gap_spans.push([t, t + g]);
            t += g;
        }
        let mut c = CallReport {
            file: format!("{agent}/{date}_{rate}.wav"),
            agent: Some(agent.into()),
            date: Some(date.into()),
            loudness: Some(LoudnessReport {
                active_speech_level_dbov: Some(level),
                ..Default::default()
            }),
            speech: Some(SpeechReport {
                talk_time_s: 30.0,
                first_onset_s: Some(greet),
                ..Default::default()
            }),
            rate: Some(RateReport {
                speaking_rate_spm: Some(rate),
                ..Default::default()
            }),
            silence: Some(SilenceReport {
                gaps: gap_spans,
                longest_gap_s: gaps.iter().copied().fold(0.0, f64::max),
                greeting_latency_s: Some(greet),
                ..Default::default()
            }),
            ..Default::default()
        };
        rejudge(&mut c, &Config::default());
        c
    }

    #[test]
    fn the_background_voices_flag_follows_the_settings_on_rejudging() {
        let mut c = call("li_na", "2026-11-02", 120.0, -25.0, 1.0, &[2.5]);
        assert!(!c.silence.as_ref().is_some_and(|s| s.background_voices_flag));
        c.speech = Some(SpeechReport {
            background_voices_share: Some(0.9),
            speech_over_background_voices_db: Some(14.0),
            ..c.speech.unwrap_or_default()
        });
        let flag = |c: &CallReport| c.silence.as_ref().map(|s| s.background_voices_flag);
        rejudge(&mut c, &Config::default());
        assert_eq!(flag(&c), Some(true));
        let mut config = Config::default();
        config.silence.background_voices_flag_db = 12.0;
        rejudge(&mut c, &config);
        assert_eq!(flag(&c), Some(false));
        config = Config::default();
        config.silence.background_voices_flag_share = 0.95;
        rejudge(&mut c, &config);
        assert_eq!(flag(&c), Some(false));
        // One of two calls flagged.
        rejudge(&mut c, &Config::default());
        let plain = call("li_na", "2026-11-03", 120.0, -25.0, 1.0, &[]);
        let s = summarize("li_na", &[&c, &plain]);
        assert_eq!(s.background_voices_share, Some(0.5));
        let csv = to_csv(&[s]).expect("csv");
        assert!(csv.contains(",background_voices_share,"), "{csv}");
        assert!(csv.contains(",0.500,"), "{csv}");
    }

    #[test]
    fn quantiles_interpolate() {
        let v = [10.0, 20.0, 30.0, 40.0, 50.0];
        assert_eq!(median(&v), Some(30.0));
        assert_eq!(quantile(&v, 0.1), Some(14.0));
        assert_eq!(quantile(&v, 0.9), Some(46.0));
        assert_eq!(quantile(&[7.0], 0.9), Some(7.0));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[1.0, 2.0]), Some(1.5));
    }

    #[test]
    fn one_agent_with_known_numbers() {
        let calls = vec![
            call("张伟", "2024-01-02", 110.0, -26.0, 1.0, &[0.5, 2.5]),
            call("张伟", "2024-01-01", 150.0, -35.0, 3.0, &[]),
            call("张伟", "2024-01-03", 130.0, -24.0, 1.5, &[2.0, 3.0, 1.0]),
            call("张伟", "2024-01-03", 200.0, -22.0, 0.5, &[]),
        ];
        let s = summarize_all(&calls);
        assert_eq!(s.len(), 1);
        let s = &s[0];
        assert_eq!(s.agent, "张伟");
        assert_eq!(s.calls, 4);
        assert_eq!(s.talk_time_s, 120.0);
        // Rates 110, 130, 150, 200: median 140, p10 = 110 + 0.3 * 20 = 116, p90 = 150 + 0.7 * 50.
        assert_eq!(s.rate_median_spm, Some(140.0));
        assert!((s.rate_p10_spm.unwrap() - 116.0).abs() < 1e-9);
        assert!((s.rate_p90_spm.unwrap() - 185.0).abs() < 1e-9);
        // Band 100-140: 110 and 130 pass.
        assert_eq!(s.rate_in_band_share, Some(0.5));
        // Greeting limit 2 s: 3.0 fails.
        assert_eq!(s.greeting_pass_share, Some(0.75));
        assert_eq!(s.greeting_median_s, Some(1.25));
        // Long gaps (>= 2 s): 2.5; 2.0 and 3.0 -> 3 over 4 calls.
        assert_eq!(s.dead_air_per_call, Some(0.75));
        assert_eq!(s.longest_gap_s, Some(3.0));
        // Levels -35, -26, -24, -22: median -25; band -32..-20 -> 3 of 4.
        assert_eq!(s.loudness_median_dbov, Some(-25.0));
        assert_eq!(s.loudness_in_band_share, Some(0.75));
        assert!((s.loudness_spread_db.unwrap() - (-22.6 - -32.3)).abs() < 1e-9);
        assert_eq!(s.overtalk_per_call, None);
        assert_eq!(
            (s.first_date.as_deref(), s.last_date.as_deref()),
            (Some("2024-01-01"), Some("2024-01-03"))
        );
        // Speaking rate fails 2, dead air 2, greeting 1, loudness 1: ties by coaching order.
        let order: Vec<(&str, usize)> = s
            .coaching
            .iter()
            .map(|p| (p.rule.as_str(), p.failed))
            .collect();
        assert_eq!(
            order,
            vec![
                ("dead_air", 2),
                ("speaking_rate", 2),
                ("greeting_latency", 1),
                ("loudness", 1)
            ]
        );
        assert_eq!(
            coaching_text(&s.coaching, 2),
            "dead air 2/4; speaking rate off target 2/4"
        );
        let t = trend(&group_by_agent(&calls)["张伟"]);
        assert_eq!(t.len(), 3);
        assert_eq!(t[2].date, "2024-01-03");
        assert_eq!(t[2].calls, 2);
        assert_eq!(t[2].rate_median_spm, Some(165.0));
    }

    #[test]
    fn digest_keeps_every_judged_rule() {
        let mut c = call("a", "2024-01-01", 300.0, -25.0, 3.0, &[2.5]);
        let checks = c.checks.as_mut().unwrap();
        for (rule, pass) in [("zz_custom", Some(false)), ("aa_custom", Some(true))] {
            checks.insert(
                rule.into(),
                Check {
                    value: None,
                    limit: serde_json::Value::Null,
                    pass,
                },
            );
        }
        if let Some(silence) = &mut c.silence {
            silence.background_voices_flag = true;
        }
        let d = CallDigest::of(&c);
        assert_eq!(d.background_voices(), Some(true));
        // Written and read back exactly (the report's temporary files).
        let mut bytes = Vec::new();
        d.encode(&mut bytes);
        let mut input = bytes.as_slice();
        let back = CallDigest::decode(&mut input).unwrap();
        assert!(input.is_empty());
        // Bit for bit (a missing value is NaN, which no `==` equals).
        let mut again = Vec::new();
        back.encode(&mut again);
        assert_eq!(again, bytes);
        assert_eq!(back.failed_rules(), d.failed_rules());
        assert_eq!(back.file(), d.file());
        assert_eq!(back.background_voices(), Some(true));
        assert!(CallDigest::decode(&mut &bytes[..bytes.len() - 1]).is_err());
        for rule in c.checks.as_ref().unwrap().keys() {
            assert_eq!(d.pass_of(rule), pass_of(&c, rule), "{rule}");
        }
        assert_eq!(d.pass_of("not_a_rule"), None);
        // Coaching order first, other rules by name after.
        assert_eq!(
            d.failed_rules(),
            ["greeting_latency", "dead_air", "speaking_rate", "zz_custom"]
        );
        // About 200 bytes plus the path and date for a call judged on the known rules.
        let plain = CallDigest::of(&call("a", "2024-01-01", 300.0, -25.0, 3.0, &[2.5]));
        assert!(plain.heap_bytes() < 256, "{}", plain.heap_bytes());
    }

    #[test]
    fn errors_count_apart_and_agents_sort() {
        let mut bad = CallReport {
            file: "b/x.wav".into(),
            agent: Some("b".into()),
            error: Some("empty file".into()),
            ..Default::default()
        };
        rejudge(&mut bad, &Config::default());
        assert!(bad.checks.is_none());
        let calls = vec![
            call("b", "2024-01-01", 120.0, -25.0, 1.0, &[]),
            bad,
            call("a", "2024-01-01", 120.0, -25.0, 1.0, &[]),
        ];
        let s = summarize_all(&calls);
        assert_eq!(
            s.iter().map(|x| x.agent.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!((s[1].calls, s[1].failed_files), (1, 1));
        assert!(s[1].coaching.is_empty());
    }

    #[test]
    fn rejudge_applies_new_limits() {
        let mut c = call("a", "2024-01-01", 120.0, -25.0, 1.0, &[2.5]);
        assert_eq!(pass_of(&c, "dead_air"), Some(false));
        let mut config = Config::default();
        config.silence.gap_limit_s = 3.0;
        config.rate.min_spm = 125.0;
        config.rate.max_spm = 200.0;
        rejudge(&mut c, &config);
        assert_eq!(pass_of(&c, "dead_air"), Some(true));
        assert_eq!(pass_of(&c, "speaking_rate"), Some(false));
        assert!(c.silence.as_ref().unwrap().long_gaps.is_empty());
    }

    #[test]
    fn csv_has_bom_header_and_chinese_name() {
        let calls = vec![call("王芳", "2024-01-01", 120.0, -25.0, 3.0, &[])];
        let text = to_csv(&summarize_all(&calls)).unwrap();
        assert!(text.starts_with("\u{feff}agent,calls,"));
        let row = text.lines().nth(1).unwrap();
        assert!(row.starts_with("王芳,1,0,2024-01-01,"), "{row}");
        assert!(row.ends_with("greeting late 1/1"), "{row}");
    }
}
