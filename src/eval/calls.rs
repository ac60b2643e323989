//! Scoring results against the exact truth of synthetic calls, as `score_calls.py` does.
//!
//! The definitions follow `/work/shared/data/score_calls.py` (its docstring) with its
//! default settings: long gaps >= 2 s, boundary tolerance 0.25 s, greeting rule 2 s,
//! 10 ms frames, 1 s per unpaired response latency. Results are JSON objects (the lines of
//! calls.jsonl); nested or flat dotted keys are both read.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, Result};

/// Settings of the scorer (the reference scorer's defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreSettings {
    /// Shortest gap scored, seconds.
    pub min_gap_s: f64,
    /// Boundary tolerance for gap and overtalk matching, seconds.
    pub tol_s: f64,
    /// Greeting rule, seconds.
    pub rule_s: f64,
    /// Frame length, seconds.
    pub frame_s: f64,
    /// Alignment cost of an unpaired response latency, seconds.
    pub latency_gap_cost_s: f64,
}

impl Default for ScoreSettings {
    fn default() -> Self {
        ScoreSettings {
            min_gap_s: 2.0,
            tol_s: 0.25,
            rule_s: 2.0,
            frame_s: 0.01,
            latency_gap_cost_s: 1.0,
        }
    }
}

/// One call of the truth folder.
#[derive(Debug, Clone)]
pub struct TruthCall {
    /// The call's name: the file's basename without `.wav`.
    pub name: String,
    /// The truth JSON.
    pub truth: Value,
}

impl TruthCall {
    /// The truth's `kind` (agent_only, stereo or mixed_mono).
    pub fn kind(&self) -> &str {
        self.truth["kind"].as_str().unwrap_or("")
    }

    /// The truth's `file` (the recording's name, relative to the truth folder's parent).
    pub fn file(&self) -> String {
        self.truth["file"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("{}.wav", self.name))
    }
}

/// Basename without `.wav`; both `/` and `\` separate folders.
pub fn stem(name: &str) -> String {
    let b = name.replace('\\', "/");
    let b = b.rsplit('/').next().unwrap_or("").to_string();
    if b.to_lowercase().ends_with(".wav") {
        b[..b.len() - 4].to_string()
    } else {
        b
    }
}

/// The folder holding the truth JSON files: `dir/truth` when it exists, else `dir`.
pub fn truth_folder(dir: &Path) -> PathBuf {
    let t = dir.join("truth");
    if t.is_dir() {
        t
    } else {
        dir.to_path_buf()
    }
}

/// Reads every truth JSON (with `kind` and `target`) of a folder, sorted by file name.
/// A file that cannot be read, is not JSON or lacks those keys is passed to `on_skip`
/// with the reason, and the others are read.
pub fn load_truth(dir: &Path, mut on_skip: impl FnMut(&Path, &str)) -> Result<Vec<TruthCall>> {
    let tdir = truth_folder(dir);
    let entries =
        std::fs::read_dir(&tdir).map_err(|e| Error::Config(format!("{}: {e}", tdir.display())))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let mut out: Vec<TruthCall> = Vec::new();
    for p in paths {
        let text = match std::fs::read_to_string(&p) {
            Ok(text) => text,
            Err(e) => {
                on_skip(&p, &format!("cannot read: {e}"));
                continue;
            }
        };
        let t = match serde_json::from_str::<Value>(&text) {
            Ok(t) => t,
            Err(e) => {
                on_skip(&p, &format!("not JSON: {e}"));
                continue;
            }
        };
        if t.get("target").is_none() || t.get("kind").is_none() {
            on_skip(&p, "no `kind` and `target`: not a call's truth");
        } else {
            let fname = p.file_name().and_then(|f| f.to_str()).unwrap_or("");
            let name = stem(t["file"].as_str().unwrap_or(fname));
            match out.iter_mut().find(|c| c.name == name) {
                Some(c) => c.truth = t,
                None => out.push(TruthCall { name, truth: t }),
            }
        }
    }
    if out.is_empty() {
        return Err(Error::Config(format!(
            "no truth JSON files in {}",
            tdir.display()
        )));
    }
    Ok(out)
}

/// The number in a call's name (its digits), 0 when it has none.
pub fn call_number(name: &str) -> u64 {
    name.chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse::<u64>()
        .unwrap_or(0)
}

/// Keeps the calls of one half: `"odd"` or `"even"` call numbers; `"all"` keeps every call.
/// Tune on one half, report the other (held out).
pub fn split(truth: &mut Vec<TruthCall>, half: &str) -> Result<()> {
    match half {
        "all" => {}
        "odd" => truth.retain(|t| !call_number(&t.name).is_multiple_of(2)),
        "even" => truth.retain(|t| call_number(&t.name).is_multiple_of(2)),
        other => {
            return Err(Error::Config(format!(
                "split: expected odd, even or all, not {other:?}"
            )))
        }
    }
    Ok(())
}

/// Nested lookup (`a.b.c`), or a flat key with dots.
fn get<'a>(rec: &'a Value, dotted: &str) -> Option<&'a Value> {
    if let Some(v) = rec.get(dotted) {
        return Some(v);
    }
    let mut cur = rec;
    for part in dotted.split('.') {
        cur = cur.get(part)?;
    }
    Some(cur)
}

/// A finite number (not a bool).
fn num(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::as_f64).filter(|x| x.is_finite())
}

fn float_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
}

/// A reported span list; `None` if not a list. Items that are not pairs of numbers are dropped.
fn valid_spans(v: Option<&Value>) -> Option<Vec<[f64; 2]>> {
    let list = v?.as_array()?;
    Some(
        list.iter()
            .filter_map(|x| {
                let a = x.as_array()?;
                if a.len() < 2 {
                    return None;
                }
                Some([float_of(&a[0])?, float_of(&a[1])?])
            })
            .collect(),
    )
}

fn spans_of(v: &Value) -> Vec<[f64; 2]> {
    valid_spans(Some(v)).unwrap_or_default()
}

/// Union of spans, sorted; touching spans join.
fn merge(mut segs: Vec<[f64; 2]>) -> Vec<[f64; 2]> {
    segs.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    let mut out: Vec<[f64; 2]> = Vec::new();
    for [s, e] in segs {
        match out.last_mut() {
            Some(last) if s <= last[1] => last[1] = last[1].max(e),
            _ => out.push([s, e]),
        }
    }
    out
}

/// How many frame centres `(i + 0.5) * step` (i < n) are below `x`.
fn frame_index(x: f64, n: i64, step: f64) -> i64 {
    if x.is_nan() {
        return n;
    }
    if x <= 0.5 * step {
        return 0;
    }
    if x > (n + 1) as f64 * step {
        return n;
    }
    let mut k = ((x / step - 0.5).ceil() as i64).clamp(0, n);
    while k > 0 && ((k - 1) as f64 + 0.5) * step >= x {
        k -= 1;
    }
    while k < n && (k as f64 + 0.5) * step < x {
        k += 1;
    }
    k
}

fn frame_runs(segs: &[[f64; 2]], n: i64, step: f64) -> Vec<[i64; 2]> {
    let mut runs: Vec<[f64; 2]> = Vec::new();
    for &[s, e] in segs {
        let (i0, i1) = (frame_index(s, n, step), frame_index(e, n, step));
        if i1 > i0 {
            runs.push([i0 as f64, i1 as f64]);
        }
    }
    merge(runs)
        .into_iter()
        .map(|[a, b]| [a as i64, b as i64])
        .collect()
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    calls: u64,
    tp: i64,
    fp: i64,
    fn_: i64,
    tn: i64,
}

fn frame_counts(pred: &[[f64; 2]], truth: &[[f64; 2]], dur: f64, step: f64) -> Counts {
    let n = (dur / step).ceil() as i64;
    let (p, t) = (frame_runs(pred, n, step), frame_runs(truth, n, step));
    let npos: i64 = p.iter().map(|r| r[1] - r[0]).sum();
    let tpos: i64 = t.iter().map(|r| r[1] - r[0]).sum();
    let (mut tp, mut i, mut j) = (0i64, 0usize, 0usize);
    while i < p.len() && j < t.len() {
        let (lo, hi) = (p[i][0].max(t[j][0]), p[i][1].min(t[j][1]));
        if hi > lo {
            tp += hi - lo;
        }
        if p[i][1] < t[j][1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    Counts {
        calls: 1,
        tp,
        fp: npos - tp,
        fn_: tpos - tp,
        tn: n - (npos + tpos - tp),
    }
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.calls += o.calls;
        self.tp += o.tp;
        self.fp += o.fp;
        self.fn_ += o.fn_;
        self.tn += o.tn;
    }
}

/// Frame-level precision, recall and F1 of speech, and F1 of non-speech.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameScore {
    /// Calls scored.
    pub calls: u64,
    /// Precision of speech frames.
    pub precision: Option<f64>,
    /// Recall of speech frames.
    pub recall: Option<f64>,
    /// F1 of speech frames.
    pub f1: f64,
    /// F1 of non-speech frames.
    pub nonspeech_f1: f64,
}

fn ratio(a: i64, b: i64) -> Option<f64> {
    (b != 0).then(|| a as f64 / b as f64)
}

fn f1(p: Option<f64>, r: Option<f64>) -> f64 {
    match (p, r) {
        (Some(p), Some(r)) if p != 0.0 && r != 0.0 => 2.0 * p * r / (p + r),
        _ => 0.0,
    }
}

fn f1_of(c: &Counts) -> Option<FrameScore> {
    if c.calls == 0 {
        return None;
    }
    let p = ratio(c.tp, c.tp + c.fp);
    let r = ratio(c.tp, c.tp + c.fn_);
    let pn = ratio(c.tn, c.tn + c.fn_);
    let rn = ratio(c.tn, c.tn + c.fp);
    Some(FrameScore {
        calls: c.calls,
        precision: p,
        recall: r,
        f1: f1(p, r),
        nonspeech_f1: f1(pn, rn),
    })
}

/// Span matching counts: true / detected / matched, with P, R, F1 and mean boundary error.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SpanScore {
    /// Calls scored.
    pub calls: u64,
    /// True spans.
    pub true_count: u64,
    /// Reported spans.
    pub detected: u64,
    /// Matched pairs.
    pub tp: u64,
    /// Precision.
    pub precision: Option<f64>,
    /// Recall.
    pub recall: Option<f64>,
    /// F1.
    pub f1: Option<f64>,
    /// Mean boundary error over both ends of the matched pairs, seconds.
    pub mabe_s: Option<f64>,
}

fn prf(nt: u64, nd: u64, tp: u64) -> (Option<f64>, Option<f64>, Option<f64>) {
    let p = (nd > 0).then(|| tp as f64 / nd as f64);
    let r = (nt > 0).then(|| tp as f64 / nt as f64);
    let f = (nd > 0 || nt > 0).then(|| f1(p, r));
    (p, r, f)
}

/// One-to-one greedy matching (smallest |dstart| + |dend| first) of overlapping spans with
/// both ends within `tol`.
fn match_spans(det: &[[f64; 2]], truth: &[[f64; 2]], tol: f64) -> Vec<([f64; 2], [f64; 2])> {
    let mut cands = Vec::new();
    for (i, d) in det.iter().enumerate() {
        for (j, t) in truth.iter().enumerate() {
            let (ds, de) = ((d[0] - t[0]).abs(), (d[1] - t[1]).abs());
            if d[1].min(t[1]) - d[0].max(t[0]) > 0.0 && ds <= tol && de <= tol {
                cands.push((ds + de, i, j));
            }
        }
    }
    cands.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let (mut ud, mut ut) = (vec![false; det.len()], vec![false; truth.len()]);
    let mut pairs = Vec::new();
    for (_, i, j) in cands {
        if !ud[i] && !ut[j] {
            ud[i] = true;
            ut[j] = true;
            pairs.push((det[i], truth[j]));
        }
    }
    pairs
}

/// A call's long gaps (at least `min_gap_s`): the truth's, the detected ones and the
/// matched `(detected, true)` pairs.
struct LongGaps {
    tru: Vec<[f64; 2]>,
    dg: Vec<[f64; 2]>,
    pairs: Vec<([f64; 2], [f64; 2])>,
}

/// The long gaps of `truth` and of the result `r`, matched; `None` when the result has no
/// gap list.
fn long_gaps(truth: &Value, r: &Value, s: &ScoreSettings) -> Option<LongGaps> {
    let det = valid_spans(get(r, "silence.long_gaps"))?;
    let long = |g: &[f64; 2]| g[1] - g[0] >= s.min_gap_s - 1e-9;
    let tru: Vec<[f64; 2]> = spans_of(&truth["target"]["long_gaps"])
        .into_iter()
        .filter(long)
        .collect();
    let dg: Vec<[f64; 2]> = det.into_iter().filter(long).collect();
    let pairs = match_spans(&dg, &tru, s.tol_s);
    Some(LongGaps { tru, dg, pairs })
}

/// A long gap of the truth that no detected gap matched, or a detected gap that matched
/// none of the truth's.
#[derive(Debug, Clone, PartialEq)]
pub struct GapMiss {
    /// The call's name.
    pub call: String,
    /// The true gap, `[start_s, end_s]` (`None` for a false detection).
    pub truth: Option<[f64; 2]>,
    /// The detected gap overlapping it most (`None` when none overlaps).
    pub detected: Option<[f64; 2]>,
    /// On a true gap: the truth's role (`agent` or `customer`) whose utterance ends where
    /// the gap starts and the one whose utterance starts where it ends, if any.
    pub roles: [Option<String>; 2],
}

/// The gaps each call got wrong: the truth's long gaps no detected gap matched (within
/// `tol_s` at both ends, one to one, as [`score`] matches them) and the detected long gaps
/// that matched no true one, in call order.
pub fn gap_misses(
    truth: &[TruthCall],
    results: &BTreeMap<String, Value>,
    s: &ScoreSettings,
) -> Vec<GapMiss> {
    let mut out = Vec::new();
    for call in truth {
        let Some(r) = results.get(&call.name) else {
            continue;
        };
        if failed(r).is_some() {
            continue;
        }
        let Some(LongGaps { tru, dg, pairs }) = long_gaps(&call.truth, r, s) else {
            continue;
        };
        let overlap = |a: &[f64; 2], b: &[f64; 2]| a[1].min(b[1]) - a[0].max(b[0]);
        for g in tru.iter().filter(|g| !pairs.iter().any(|p| p.1 == **g)) {
            let detected = dg
                .iter()
                .filter(|d| overlap(d, g) > 0.0)
                .max_by(|a, b| overlap(a, g).total_cmp(&overlap(b, g)))
                .copied();
            out.push(GapMiss {
                call: call.name.clone(),
                truth: Some(*g),
                detected,
                roles: [
                    utterance_role(&call.truth, "end", g[0]),
                    utterance_role(&call.truth, "start", g[1]),
                ],
            });
        }
        for d in dg.iter().filter(|d| !pairs.iter().any(|p| p.0 == **d)) {
            // A detected gap beside a missed true one is reported with that one.
            if tru.iter().any(|g| overlap(d, g) > 0.0) {
                continue;
            }
            out.push(GapMiss {
                call: call.name.clone(),
                truth: None,
                detected: Some(*d),
                roles: [None, None],
            });
        }
    }
    out
}

/// The role (`agent`, `customer`) of the truth's utterance whose `edge` (`start` or `end`)
/// lies within 0.05 s of `at_s`.
fn utterance_role(truth: &Value, edge: &str, at_s: f64) -> Option<String> {
    ["agent", "customer"].into_iter().find_map(|role| {
        let utterances = truth.get(role)?.get("utterances")?.as_array()?;
        utterances
            .iter()
            .any(|u| u[edge].as_f64().is_some_and(|x| (x - at_s).abs() <= 0.05))
            .then(|| role.to_string())
    })
}

fn isclose(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// Order-preserving edit-distance alignment -> (reported, true) pairs.
fn align(tl: &[f64], rl: &[f64], gap: f64) -> Vec<(f64, f64)> {
    let (n, m) = (tl.len(), rl.len());
    let mut d = vec![vec![0.0f64; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i as f64 * gap;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j as f64 * gap;
    }
    for i in 1..=n {
        for j in 1..=m {
            d[i][j] = (d[i - 1][j - 1] + (tl[i - 1] - rl[j - 1]).abs())
                .min(d[i - 1][j] + gap)
                .min(d[i][j - 1] + gap);
        }
    }
    let (mut pairs, mut i, mut j) = (Vec::new(), n, m);
    while i > 0 && j > 0 {
        if isclose(d[i][j], d[i - 1][j - 1] + (tl[i - 1] - rl[j - 1]).abs()) {
            pairs.push((rl[j - 1], tl[i - 1]));
            i -= 1;
            j -= 1;
        } else if isclose(d[i][j], d[i - 1][j] + gap) {
            i -= 1;
        } else {
            j -= 1;
        }
    }
    pairs.reverse();
    pairs
}

/// Error statistics of (reported, true) pairs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErrStats {
    /// Pairs.
    pub n: usize,
    /// Mean absolute error.
    pub mae: f64,
    /// Mean absolute percentage error (pairs with true = 0 left out).
    pub mape: Option<f64>,
    /// Mean (reported - true).
    pub bias: f64,
    /// Largest absolute error.
    pub max_abs: f64,
    /// Pearson correlation (3 pairs or more, with spread).
    pub r: Option<f64>,
}

fn pearson(xs: &[f64], ys: &[f64]) -> Option<f64> {
    let n = xs.len();
    if n < 3 {
        return None;
    }
    let mx = xs.iter().sum::<f64>() / n as f64;
    let my = ys.iter().sum::<f64>() / n as f64;
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    let syy: f64 = ys.iter().map(|y| (y - my).powi(2)).sum();
    if sxx == 0.0 || syy == 0.0 {
        return None;
    }
    let sxy: f64 = xs.iter().zip(ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    Some(sxy / (sxx * syy).sqrt())
}

fn err_stats(pairs: &[(f64, f64)]) -> Option<ErrStats> {
    if pairs.is_empty() {
        return None;
    }
    let n = pairs.len() as f64;
    let ape: Vec<f64> = pairs
        .iter()
        .filter(|p| p.1 != 0.0)
        .map(|(e, t)| (e - t).abs() / t.abs() * 100.0)
        .collect();
    let est: Vec<f64> = pairs.iter().map(|p| p.0).collect();
    let tru: Vec<f64> = pairs.iter().map(|p| p.1).collect();
    Some(ErrStats {
        n: pairs.len(),
        mae: pairs.iter().map(|(e, t)| (e - t).abs()).sum::<f64>() / n,
        mape: (!ape.is_empty()).then(|| ape.iter().sum::<f64>() / ape.len() as f64),
        bias: pairs.iter().map(|(e, t)| e - t).sum::<f64>() / n,
        max_abs: pairs.iter().map(|(e, t)| (e - t).abs()).fold(0.0, f64::max),
        r: pearson(&est, &tru),
    })
}

/// Greeting latency scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GreetingScore {
    /// Error statistics, seconds.
    pub err: ErrStats,
    /// Share of calls whose pass/fail agrees with the truth.
    pub agreement: f64,
    /// True passes reported as fails.
    pub false_fail: u64,
    /// True fails reported as passes.
    pub missed_fail: u64,
}

/// Response latency scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencyScore {
    /// Calls scored.
    pub calls: usize,
    /// True latencies.
    pub true_count: usize,
    /// Reported latencies.
    pub reported: usize,
    /// Aligned pairs.
    pub aligned: usize,
    /// MAE over aligned pairs, seconds.
    pub mae_s: Option<f64>,
    /// Bias over aligned pairs, seconds.
    pub bias_s: Option<f64>,
    /// Mean |reported count - true count| per call.
    pub count_mae: f64,
}

/// Every figure of the reference scorer.
#[derive(Debug, Clone, Default)]
pub struct Scores {
    /// Calls in the truth.
    pub n_calls: usize,
    /// Syllable count errors.
    pub syllables: Option<ErrStats>,
    /// Speaking-rate errors.
    pub speaking_rate: Option<ErrStats>,
    /// Articulation-rate errors.
    pub articulation_rate: Option<ErrStats>,
    /// `rate.overall_rate_spm` against the truth's syllables per minute of file: the
    /// truth's own `speaking_rate_spm` definition (ours is per minute of talk time).
    pub file_rate: Option<ErrStats>,
    /// `rate.speaking_rate_spm` (per minute of talk time) against the truth's syllables per
    /// minute of its speech segments: the same definition on both sides.
    pub talk_rate: Option<ErrStats>,
    /// Long gaps.
    pub long_gaps: Option<SpanScore>,
    /// Long gaps on the calls whose result does not set `silence.background_voices_flag`
    /// (`[0]`) and on those that do (`[1]`).
    pub long_gaps_by_flag: [Option<SpanScore>; 2],
    /// Greeting latency.
    pub greeting: Option<GreetingScore>,
    /// Frame F1 of the target role.
    pub frame_agent: Option<FrameScore>,
    /// Frame F1 of the customer (stereo).
    pub frame_customer: Option<FrameScore>,
    /// Overtalk spans (stereo).
    pub overtalk: Option<SpanScore>,
    /// MAE of overtalk seconds per call.
    pub overtalk_seconds: Option<ErrStats>,
    /// Response latencies (stereo).
    pub response_latency: Option<LatencyScore>,
    /// Loudness vs the reference, LU.
    pub loudness: Option<ErrStats>,
    /// Calls with a result scored.
    pub scored: usize,
    /// Calls whose result has `error` set, with the error.
    pub failures: Vec<(String, String)>,
    /// Calls without a result.
    pub missing: Vec<String>,
    /// Calls by kind, in the truth's order of first appearance.
    pub kinds: Vec<(String, usize)>,
}

fn failed(rec: &Value) -> Option<String> {
    match rec.get("error") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(v) => Some(v.to_string()),
    }
}

/// Reads JSON lines: the last line for each file name counts.
pub fn load_results(path: &Path) -> Result<BTreeMap<String, Value>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
    let mut out = BTreeMap::new();
    for line in text.trim_start_matches('\u{feff}').lines() {
        if line.trim().is_empty() {
            continue;
        }
        if let Ok(v) = serde_json::from_str::<Value>(line) {
            if let Some(f) = v.get("file").map(|f| match f {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }) {
                out.insert(stem(&f), v);
            }
        }
    }
    Ok(out)
}

/// Scores results (by call name) against the truth.
pub fn score(truth: &[TruthCall], results: &BTreeMap<String, Value>, s: &ScoreSettings) -> Scores {
    let mut out = Scores {
        n_calls: truth.len(),
        ..Scores::default()
    };
    for t in truth {
        match out.kinds.iter_mut().find(|k| k.0 == t.kind()) {
            Some(k) => k.1 += 1,
            None => out.kinds.push((t.kind().to_string(), 1)),
        }
    }
    let (mut syl, mut rate, mut art, mut greet, mut lufs) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut agree_n, mut agree, mut ff, mut mf) = (0u64, 0u64, 0u64, 0u64);
    let mut gap = SpanScore::default();
    let mut gap_by_flag = [SpanScore::default(), SpanScore::default()];
    let mut gap_berr_by_flag = [Vec::new(), Vec::new()];
    let mut ot = SpanScore::default();
    let (mut gap_berr, mut ot_berr, mut ot_sec) = (Vec::new(), Vec::new(), Vec::new());
    let (mut fr, mut cfr) = (Counts::default(), Counts::default());
    let (mut lat_pairs, mut lat_cnt) = (Vec::new(), Vec::new());
    let (mut file_rate, mut talk_rate) = (Vec::new(), Vec::new());
    for call in truth {
        let Some(r) = results.get(&call.name) else {
            out.missing.push(call.name.clone());
            continue;
        };
        if let Some(e) = failed(r) {
            out.failures.push((call.name.clone(), e));
            continue;
        }
        out.scored += 1;
        let t = &call.truth;
        let tg = &t["target"];
        let tnum = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
        if let Some(v) = num(get(r, "rate.syllables")) {
            syl.push((v, tnum(&tg["syllables"])));
        }
        if let Some(v) = num(get(r, "rate.speaking_rate_spm")) {
            rate.push((v, tnum(&tg["speaking_rate_spm"])));
        }
        if let Some(v) = num(get(r, "rate.articulation_rate_spm")) {
            art.push((v, tnum(&tg["articulation_rate_spm"])));
        }
        let true_syllables = tnum(&tg["syllables"]);
        if let (Some(v), Some(d)) = (
            num(get(r, "rate.overall_rate_spm")),
            num(t.get("duration_s")),
        ) {
            if d > 0.0 {
                file_rate.push((v, true_syllables / d * 60.0));
            }
        }
        if let (Some(v), Some(sp)) = (
            num(get(r, "rate.speaking_rate_spm")),
            num(tg.get("speech_s")),
        ) {
            if sp > 0.0 {
                talk_rate.push((v, true_syllables / sp * 60.0));
            }
        }
        if let Some(LongGaps { tru, dg, pairs }) = long_gaps(t, r, s) {
            let flagged = get(r, "silence.background_voices_flag").and_then(Value::as_bool);
            let k = usize::from(flagged == Some(true));
            for (sc, berr) in [
                (&mut gap, &mut gap_berr),
                (&mut gap_by_flag[k], &mut gap_berr_by_flag[k]),
            ] {
                sc.calls += 1;
                sc.true_count += tru.len() as u64;
                sc.detected += dg.len() as u64;
                sc.tp += pairs.len() as u64;
                for (d, g) in &pairs {
                    berr.extend([(d[0] - g[0]).abs(), (d[1] - g[1]).abs()]);
                }
            }
        }
        if let Some(v) = num(get(r, "silence.greeting_latency_s")) {
            let tv = tnum(&t["greeting_latency_s"]);
            greet.push((v, tv));
            let (tp, pp) = (tv <= s.rule_s, v <= s.rule_s);
            agree_n += 1;
            agree += u64::from(tp == pp);
            ff += u64::from(tp && !pp);
            mf += u64::from(!tp && pp);
        }
        let dur = tnum(&t["duration_s"]);
        if let Some(segs) = valid_spans(get(r, "speech.segments")) {
            fr.add(frame_counts(
                &segs,
                &spans_of(&tg["segments"]),
                dur,
                s.frame_s,
            ));
        }
        if call.kind() == "stereo" {
            if let Some(cs) = valid_spans(get(r, "customer.speech.segments")) {
                cfr.add(frame_counts(
                    &cs,
                    &spans_of(&t["customer"]["segments"]),
                    dur,
                    s.frame_s,
                ));
            }
            if let Some(o) = valid_spans(get(r, "interaction.overtalk")) {
                let tru = spans_of(&t["overtalk"]);
                let pairs = match_spans(&o, &tru, s.tol_s);
                ot.calls += 1;
                ot.true_count += tru.len() as u64;
                ot.detected += o.len() as u64;
                ot.tp += pairs.len() as u64;
                for (d, g) in pairs {
                    ot_berr.extend([(d[0] - g[0]).abs(), (d[1] - g[1]).abs()]);
                }
                let secs: f64 = merge(o).iter().map(|x| x[1] - x[0]).sum();
                ot_sec.push((secs, tnum(&t["overtalk_s"])));
            }
            if let Some(Value::Array(lr)) = get(r, "interaction.response_latencies_s") {
                let lr: Vec<f64> = lr.iter().filter_map(|x| num(Some(x))).collect();
                let tl: Vec<f64> = t["response_latencies_s"]
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_f64).collect())
                    .unwrap_or_default();
                lat_pairs.extend(align(&tl, &lr, s.latency_gap_cost_s));
                lat_cnt.push((lr.len(), tl.len()));
            }
        }
        // The reference is the whole file's loudness (all channels): compare the file's
        // figure where the result has it (score_calls.py reads the agent's, which differs
        // on two-channel files).
        let reported =
            num(get(r, "file_integrated_lufs")).or(num(get(r, "loudness.integrated_lufs")));
        if let (Some(v), Some(rf)) = (reported, num(t.get("loudness_ref_lufs"))) {
            lufs.push((v, rf));
        }
    }
    out.syllables = err_stats(&syl);
    out.speaking_rate = err_stats(&rate);
    out.articulation_rate = err_stats(&art);
    out.file_rate = err_stats(&file_rate);
    out.talk_rate = err_stats(&talk_rate);
    let finish = |mut sc: SpanScore, berr: &[f64]| {
        (sc.precision, sc.recall, sc.f1) = prf(sc.true_count, sc.detected, sc.tp);
        sc.mabe_s = (!berr.is_empty()).then(|| berr.iter().sum::<f64>() / berr.len() as f64);
        (sc.calls > 0).then_some(sc)
    };
    out.long_gaps = finish(gap, &gap_berr);
    let [plain, flagged] = gap_by_flag;
    out.long_gaps_by_flag = [
        finish(plain, &gap_berr_by_flag[0]),
        finish(flagged, &gap_berr_by_flag[1]),
    ];
    out.greeting = err_stats(&greet).map(|err| GreetingScore {
        err,
        agreement: agree as f64 / agree_n.max(1) as f64,
        false_fail: ff,
        missed_fail: mf,
    });
    out.frame_agent = f1_of(&fr);
    out.frame_customer = f1_of(&cfr);
    out.overtalk = finish(ot, &ot_berr);
    out.overtalk_seconds = err_stats(&ot_sec);
    let le = err_stats(&lat_pairs);
    out.response_latency = (!lat_cnt.is_empty()).then(|| LatencyScore {
        calls: lat_cnt.len(),
        true_count: lat_cnt.iter().map(|x| x.1).sum(),
        reported: lat_cnt.iter().map(|x| x.0).sum(),
        aligned: lat_pairs.len(),
        mae_s: le.map(|e| e.mae),
        bias_s: le.map(|e| e.bias),
        count_mae: lat_cnt
            .iter()
            .map(|x| (x.0 as f64 - x.1 as f64).abs())
            .sum::<f64>()
            / lat_cnt.len() as f64,
    });
    out.loudness = err_stats(&lufs);
    out
}

fn f(v: Option<f64>, nd: usize) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:.nd$}"))
}

fn fs(v: Option<f64>, nd: usize) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:+.nd$}"))
}

fn fp(v: Option<f64>, nd: usize) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:.nd$}%"))
}

/// The scores as the reference scorer's tables.
pub fn format_tables(sc: &Scores, label: &str) -> String {
    format_tables_for(sc, label, "agentvoice")
}

/// The scores as the reference scorer's tables, rows named `system`.
pub fn format_tables_for(sc: &Scores, label: &str, system: &str) -> String {
    let mut o = String::new();
    let s = system;
    let kinds: Vec<String> = sc.kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
    let _ = writeln!(
        o,
        "== {} calls in {label} ({}); n = calls with that key reported / {}",
        sc.n_calls,
        kinds.join(", "),
        sc.n_calls
    );
    let _ = writeln!(
        o,
        "   {} calls scored, {} failed (error set), {} without a result",
        sc.scored,
        sc.failures.len(),
        sc.missing.len()
    );
    for (c, e) in sc.failures.iter().take(5) {
        let _ = writeln!(
            o,
            "   failed: {c} ({})",
            e.chars().take(60).collect::<String>()
        );
    }
    let (a, b, c) = (sc.syllables, sc.speaking_rate, sc.articulation_rate);
    let _ = writeln!(
        o,
        "\n[1] Syllables & rate  (truth: agent; all speech on mixed_mono)"
    );
    let _ = writeln!(
        o,
        "{:12} {:>3} {:>7} {:>7} {:>8} {:>5} | {:>6} {:>6} {:>6} | {:>7} {:>6} {:>6}",
        "system",
        "n",
        "MAE",
        "MAPE",
        "bias",
        "r",
        "rate n",
        "MAE",
        "MAPE",
        "artic n",
        "MAE",
        "MAPE"
    );
    let _ = writeln!(
        o,
        "{:12} {:>3} {:>7} {:>7} {:>8} {:>5} | {:>6} {:>6} {:>6} | {:>7} {:>6} {:>6}",
        s,
        a.map_or(0, |x| x.n),
        f(a.map(|x| x.mae), 1),
        fp(a.and_then(|x| x.mape), 1),
        fs(a.map(|x| x.bias), 1),
        f(a.and_then(|x| x.r), 2),
        b.map_or(0, |x| x.n),
        f(b.map(|x| x.mae), 1),
        fp(b.and_then(|x| x.mape), 1),
        c.map_or(0, |x| x.n),
        f(c.map(|x| x.mae), 1),
        fp(c.and_then(|x| x.mape), 1),
    );
    // The truth's rates divide by the file's duration and by its speech segments; ours by
    // talk time and by phonation time. The same definitions on both sides:
    let (fr_, tr_) = (sc.file_rate, sc.talk_rate);
    let _ = writeln!(
        o,
        "    same definitions: per minute of file (overall_rate_spm) n {} MAE {} MAPE {} | per minute of talk (speaking_rate_spm vs truth syllables / speech_s) n {} MAE {} MAPE {}",
        fr_.map_or(0, |x| x.n),
        f(fr_.map(|x| x.mae), 1),
        fp(fr_.and_then(|x| x.mape), 1),
        tr_.map_or(0, |x| x.n),
        f(tr_.map(|x| x.mae), 1),
        fp(tr_.and_then(|x| x.mape), 1),
    );
    let (g, gr, fa) = (sc.long_gaps, sc.greeting, sc.frame_agent);
    let _ = writeln!(
        o,
        "\n[2] Long gaps >= 2 s (tol 0.25 s), greeting latency (rule <= 2 s), frame F1 (10 ms, target role)"
    );
    let _ = writeln!(
        o,
        "{:12} {:>3} {:>4} {:>4} {:>3} {:>5} {:>5} {:>5} {:>5} | {:>3} {:>5} {:>6} {:>5} {:>2} {:>2} | {:>3} {:>5} {:>5} {:>5} {:>5}",
        "system", "n", "true", "det", "TP", "P", "R", "F1", "MABE", "n", "MAE", "bias", "agree",
        "FF", "MF", "n", "P", "R", "F1", "nsF1"
    );
    let _ = writeln!(
        o,
        "{:12} {:>3} {:>4} {:>4} {:>3} {:>5} {:>5} {:>5} {:>5} | {:>3} {:>5} {:>6} {:>5} {:>2} {:>2} | {:>3} {:>5} {:>5} {:>5} {:>5}",
        s,
        g.map_or(0, |x| x.calls),
        g.map_or(0, |x| x.true_count),
        g.map_or(0, |x| x.detected),
        g.map_or(0, |x| x.tp),
        f(g.and_then(|x| x.precision), 2),
        f(g.and_then(|x| x.recall), 2),
        f(g.and_then(|x| x.f1), 2),
        f(g.and_then(|x| x.mabe_s), 2),
        gr.map_or(0, |x| x.err.n),
        f(gr.map(|x| x.err.mae), 2),
        fs(gr.map(|x| x.err.bias), 2),
        f(gr.map(|x| x.agreement), 2),
        gr.map_or(0, |x| x.false_fail),
        gr.map_or(0, |x| x.missed_fail),
        fa.map_or(0, |x| x.calls),
        f(fa.and_then(|x| x.precision), 2),
        f(fa.and_then(|x| x.recall), 2),
        f(fa.map(|x| x.f1), 2),
        f(fa.map(|x| x.nonspeech_f1), 2),
    );
    if let [Some(plain), Some(flagged)] = sc.long_gaps_by_flag {
        for (name, g) in [("unflagged", plain), ("flagged", flagged)] {
            let _ = writeln!(
                o,
                "  long gaps, calls {name} for background voices: {} calls, {} true, {} found, {} matched, F1 {}, MABE {}",
                g.calls,
                g.true_count,
                g.detected,
                g.tp,
                f(g.f1, 3),
                f(g.mabe_s, 2),
            );
        }
    }
    let (cf, ot, lt) = (sc.frame_customer, sc.overtalk, sc.response_latency);
    if cf.is_some() || ot.is_some() || lt.is_some() {
        let _ = writeln!(
            o,
            "\n[3] Stereo interaction: customer frame F1, overtalk (tol 0.25 s), response latency (customer end -> agent start)"
        );
        let _ = writeln!(
            o,
            "{:12} {:>3} {:>6} | {:>3} {:>4} {:>4} {:>3} {:>5} {:>5} {:>5} {:>6} | {:>3} {:>4} {:>4} {:>4} {:>5} {:>6} {:>6}",
            "system", "n", "custF1", "n", "true", "det", "TP", "P", "R", "F1", "secMAE", "n", "true",
            "rep", "algn", "MAE", "bias", "cntMAE"
        );
        let _ = writeln!(
            o,
            "{:12} {:>3} {:>6} | {:>3} {:>4} {:>4} {:>3} {:>5} {:>5} {:>5} {:>6} | {:>3} {:>4} {:>4} {:>4} {:>5} {:>6} {:>6}",
            s,
            cf.map_or(0, |x| x.calls),
            f(cf.map(|x| x.f1), 2),
            ot.map_or(0, |x| x.calls),
            ot.map_or(0, |x| x.true_count),
            ot.map_or(0, |x| x.detected),
            ot.map_or(0, |x| x.tp),
            f(ot.and_then(|x| x.precision), 2),
            f(ot.and_then(|x| x.recall), 2),
            f(ot.and_then(|x| x.f1), 2),
            f(sc.overtalk_seconds.map(|x| x.mae), 2),
            lt.map_or(0, |x| x.calls),
            lt.map_or(0, |x| x.true_count),
            lt.map_or(0, |x| x.reported),
            lt.map_or(0, |x| x.aligned),
            f(lt.and_then(|x| x.mae_s), 2),
            fs(lt.and_then(|x| x.bias_s), 2),
            f(lt.map(|x| x.count_mae), 2),
        );
    }
    let l = sc.loudness;
    let _ = writeln!(
        o,
        "\n[4] Loudness vs reference (loudness_ref_lufs: the file, all channels, vs file_integrated_lufs)"
    );
    let _ = writeln!(
        o,
        "{:12} {:>3} {:>7} {:>7} {:>7}",
        "system", "n", "MAE LU", "bias", "max|d|"
    );
    let _ = writeln!(
        o,
        "{:12} {:>3} {:>7} {:>7} {:>7}",
        s,
        l.map_or(0, |x| x.n),
        f(l.map(|x| x.mae), 3),
        fs(l.map(|x| x.bias), 3),
        f(l.map(|x| x.max_abs), 3),
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn frame_index_counts_centres_below() {
        assert_eq!(frame_index(0.0, 10, 0.01), 0);
        assert_eq!(frame_index(0.015, 10, 0.01), 1);
        assert_eq!(frame_index(0.0151, 10, 0.01), 2);
        assert_eq!(frame_index(5.0, 10, 0.01), 10);
        assert_eq!(frame_index(f64::NAN, 10, 0.01), 10);
    }

    #[test]
    fn spans_match_one_to_one_within_tolerance() {
        let det = [[1.0, 3.0], [1.1, 3.1], [10.0, 13.0]];
        let tru = [[1.05, 3.05], [10.4, 13.0]];
        let p = match_spans(&det, &tru, 0.25);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].1, [1.05, 3.05]);
    }

    #[test]
    fn split_keeps_odd_or_even_call_numbers() {
        let calls = |names: &[&str]| -> Vec<TruthCall> {
            names
                .iter()
                .map(|n| TruthCall {
                    name: n.to_string(),
                    truth: json!({}),
                })
                .collect()
        };
        let names = |t: &[TruthCall]| t.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        let mut odd = calls(&["dev_001", "dev_002", "dev_013", "dev_040"]);
        split(&mut odd, "odd").unwrap();
        assert_eq!(names(&odd), ["dev_001", "dev_013"]);
        let mut even = calls(&["dev_001", "dev_002", "dev_013", "dev_040"]);
        split(&mut even, "even").unwrap();
        assert_eq!(names(&even), ["dev_002", "dev_040"]);
        assert!(split(&mut even, "third").is_err());
    }

    #[test]
    fn rates_are_also_scored_with_the_same_definitions_on_both_sides() {
        // 20 syllables in 5 s of speech in a 10 s file: 120 per minute of file, 240 per
        // minute of speech.
        let truth = vec![TruthCall {
            name: "c1".into(),
            truth: json!({
                "kind": "agent_only", "file": "c1.wav", "duration_s": 10.0,
                "target": {"syllables": 20, "speech_s": 5.0, "speaking_rate_spm": 120.0,
                           "articulation_rate_spm": 240.0}
            }),
        }];
        let result = json!({"file": "c1.wav", "rate": {"syllables": 22,
            "overall_rate_spm": 132.0, "speaking_rate_spm": 216.0}});
        let mut res = BTreeMap::new();
        res.insert("c1".to_string(), result);
        let sc = score(&truth, &res, &ScoreSettings::default());
        // The reference scorer's column compares per minute of talk with per minute of file.
        assert!((sc.speaking_rate.map_or(0.0, |x| x.mae) - 96.0).abs() < 1e-9);
        assert!((sc.file_rate.map_or(0.0, |x| x.mae) - 12.0).abs() < 1e-9);
        assert!((sc.talk_rate.map_or(0.0, |x| x.mae) - 24.0).abs() < 1e-9);
        assert!((sc.talk_rate.and_then(|x| x.mape).unwrap_or(0.0) - 10.0).abs() < 1e-9);
    }

    #[test]
    fn long_gaps_are_also_scored_apart_on_flagged_calls() {
        let truth: Vec<TruthCall> = ["c1", "c2", "c3"]
            .iter()
            .map(|name| TruthCall {
                name: name.to_string(),
                truth: json!({"kind": "agent_only", "file": format!("{name}.wav"),
                              "target": {"long_gaps": [[3.0, 6.0]]}}),
            })
            .collect();
        let mut res = BTreeMap::new();
        // c1 found and unflagged; c2 missed and flagged; c3 found, with no flag at all.
        for (name, gap, flag) in [
            ("c1", json!([[3.0, 6.0]]), json!(false)),
            ("c2", json!([]), json!(true)),
            ("c3", json!([[3.1, 6.0]]), json!(null)),
        ] {
            let silence = json!({"long_gaps": gap, "background_voices_flag": flag});
            res.insert(name.to_string(), json!({"file": name, "silence": silence}));
        }
        let sc = score(&truth, &res, &ScoreSettings::default());
        let [plain, flagged] = sc.long_gaps_by_flag;
        let (plain, flagged) = (plain.expect("unflagged"), flagged.expect("flagged"));
        assert_eq!((plain.calls, plain.true_count, plain.tp), (2, 2, 2));
        assert_eq!((flagged.calls, flagged.true_count, flagged.tp), (1, 1, 0));
        assert_eq!(flagged.f1, Some(0.0));
        assert_eq!(sc.long_gaps.map(|g| (g.calls, g.tp)), Some((3, 2)));
        let text = format_tables(&sc, "test");
        assert!(text.contains("calls flagged for background voices: 1 calls, 1 true, 0 found"));
    }

    #[test]
    fn latencies_align_in_order() {
        let p = align(&[1.0, 2.0, 3.0], &[1.1, 3.2], 1.0);
        assert_eq!(p, vec![(1.1, 1.0), (3.2, 3.0)]);
    }

    #[test]
    fn a_perfect_result_scores_perfectly_and_a_shifted_one_does_not() {
        let truth = vec![TruthCall {
            name: "c1".into(),
            truth: json!({
                "kind": "agent_only", "file": "c1.wav", "duration_s": 10.0,
                "greeting_latency_s": 1.0, "loudness_ref_lufs": -23.0,
                "target": {"segments": [[1.0, 3.0], [6.0, 9.0]], "long_gaps": [[3.0, 6.0]],
                           "syllables": 20, "speaking_rate_spm": 120.0,
                           "articulation_rate_spm": 240.0}
            }),
        }];
        let good = json!({"file": "x/c1.wav", "speech": {"segments": [[1.0, 3.0], [6.0, 9.0]]},
            "silence": {"long_gaps": [[3.0, 6.0]], "greeting_latency_s": 1.0},
            "loudness": {"integrated_lufs": -23.5}});
        let mut res = BTreeMap::new();
        res.insert("c1".to_string(), good);
        let sc = score(&truth, &res, &ScoreSettings::default());
        assert_eq!(sc.long_gaps.and_then(|g| g.f1), Some(1.0));
        assert_eq!(sc.frame_agent.map(|x| x.f1), Some(1.0));
        assert!((sc.loudness.map_or(0.0, |l| l.mae) - 0.5).abs() < 1e-12);
        let shifted = json!({"file": "c1", "speech": {"segments": [[2.0, 3.0]]},
            "silence": {"long_gaps": [[3.5, 6.0]], "greeting_latency_s": 2.5}});
        res.insert("c1".to_string(), shifted);
        let sc = score(&truth, &res, &ScoreSettings::default());
        assert_eq!(sc.long_gaps.and_then(|g| g.f1), Some(0.0));
        let fa = sc.frame_agent.map_or(0.0, |x| x.f1);
        assert!((fa - 2.0 * 100.0 / (100.0 + 500.0)).abs() < 1e-9, "{fa}");
        assert_eq!(sc.greeting.map(|g| g.agreement), Some(0.0));
    }

    #[test]
    fn gap_misses_name_the_unmatched_gaps_and_the_roles_around_them() {
        // Three true gaps: the first matched, the second detected 0.4 s early, the third
        // not detected; and one false gap.
        let truth = vec![TruthCall {
            name: "c1".into(),
            truth: json!({
                "kind": "stereo", "file": "c1.wav",
                "agent": {"utterances": [{"start": 0.5, "end": 2.0}, {"start": 12.0, "end": 14.0},
                                         {"start": 17.0, "end": 19.0}]},
                "customer": {"utterances": [{"start": 5.0, "end": 9.0}]},
                "target": {"long_gaps": [[2.0, 5.0], [9.0, 12.0], [14.0, 17.0]]}
            }),
        }];
        let mut res = BTreeMap::new();
        res.insert(
            "c1".to_string(),
            json!({"file": "c1.wav",
                   "silence": {"long_gaps": [[2.05, 4.95], [8.6, 12.0], [20.0, 23.0]]}}),
        );
        let misses = gap_misses(&truth, &res, &ScoreSettings::default());
        let role = |r: &str| Some(r.to_string());
        assert_eq!(
            misses,
            vec![
                GapMiss {
                    call: "c1".into(),
                    truth: Some([9.0, 12.0]),
                    detected: Some([8.6, 12.0]),
                    roles: [role("customer"), role("agent")],
                },
                GapMiss {
                    call: "c1".into(),
                    truth: Some([14.0, 17.0]),
                    detected: None,
                    roles: [role("agent"), role("agent")],
                },
                GapMiss {
                    call: "c1".into(),
                    truth: None,
                    detected: Some([20.0, 23.0]),
                    roles: [None, None],
                },
            ]
        );
    }
}
