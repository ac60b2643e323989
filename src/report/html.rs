//! The supervisor's report: `DIR/index.html` (team overview, sortable table), a page per
//! agent (`DIR/report/agents/`), a page per call (`DIR/report/calls/`), `DIR/agents.csv` and,
//! on request, PNG plots (`DIR/png/`). Pages open from disk with no network: styles,
//! scripts and SVG plots are inline. Every file is written atomically.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::report::agents::{self, rule_label, AgentSummary, CallDigest};
use crate::report::export::{write_atomic, AtomicFile};
use crate::report::extsort::{bytes, Record, Sorter, Spool};
use crate::report::fonts;
use crate::report::model::CallReport;
use crate::report::plots::{
    self, GapCounts, GapHistogram, Overview, PerCall, Plot, Timeline, Trend,
};

/// Footnote of a PNG in which a name was replaced by its team-table number.
const PNG_NAME_NOTE: &str =
    "agent N = row N of the team table in index.html (no font here can draw the name)";

/// How the report is made.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// The targets drawn in the plots (the checks are judged before, see
    /// [`agents::rejudge`]).
    pub config: Config,
    /// Also write PNG plots under `DIR/png/`.
    pub png: bool,
}

/// What was written.
#[derive(Debug, Clone, Default)]
pub struct ReportOutcome {
    /// Agents in the report.
    pub agents: usize,
    /// Calls analysed.
    pub calls: usize,
    /// Lines with an error (listed, not plotted).
    pub failed: usize,
    /// Files written.
    pub files_written: usize,
    /// Things the user should know (missing fonts, plots that could not be drawn).
    pub notes: Vec<String>,
}

/// Escapes text for HTML.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a relative link (each path segment), keeping `/`.
pub fn href(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A file-name-safe form of an agent's name (letters of any script, digits, `-`, `_`),
/// unique among `used` (case-insensitively).
pub fn slug(name: &str, used: &mut HashSet<String>) -> String {
    let mut base: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    if base.trim_matches('_').is_empty() {
        base = "agent".into();
    }
    let mut candidate = base.clone();
    let mut n = 2;
    while !used.insert(candidate.to_lowercase()) {
        candidate = format!("{base}-{n}");
        n += 1;
    }
    candidate
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI','Noto Sans CJK SC',\
'WenQuanYi Micro Hei','Microsoft YaHei',sans-serif;margin:1.2em auto;max-width:1160px;\
padding:0 1em;color:#222}h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.15em;margin-top:1.6em;\
border-bottom:1px solid #ddd}table{border-collapse:collapse;font-size:.9em;margin:.5em 0}\
th,td{padding:.25em .6em;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}\
th{background:#f5f5f5;white-space:normal;vertical-align:bottom;font-size:.92em}\
.scroll{overflow-x:auto;max-width:100%}th.l,td.l{text-align:left}\
table.sortable th{cursor:pointer}table.sortable th:after{content:' \\2195';color:#aaa}\
td.wrap{white-space:normal;text-align:left;min-width:16em}\
.pass{color:#2e7d32;font-weight:600}.fail{color:#c62828;font-weight:600}.mid{color:#ef6c00}\
.na{color:#999}.note{background:#fff8e1;border-left:4px solid #ffb300;padding:.4em .8em}\
figure{margin:.6em 0;display:inline-block;vertical-align:top}svg{max-width:100%;height:auto}\
.cards{display:flex;flex-wrap:wrap;gap:.6em}.card{border:1px solid #ddd;border-radius:6px;\
padding:.4em .8em;min-width:9em}.card b{display:block;font-size:1.3em}nav a{margin-right:1em}\
.muted{color:#666;font-size:.9em}";

const SORT_JS: &str = "document.querySelectorAll('table.sortable').forEach(function(t){\
t.querySelectorAll('th').forEach(function(th,i){th.addEventListener('click',function(){\
var b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows);\
var asc=th.getAttribute('data-dir')!=='asc';\
t.querySelectorAll('th').forEach(function(h){h.removeAttribute('data-dir')});\
th.setAttribute('data-dir',asc?'asc':'desc');\
rows.sort(function(x,y){var a=x.cells[i].getAttribute('data-v'),c=y.cells[i].getAttribute('data-v');\
if(a===null)a=x.cells[i].textContent;if(c===null)c=y.cells[i].textContent;\
var na=parseFloat(a),nc=parseFloat(c),r;\
if(a===''&&c!=='')r=1;else if(c===''&&a!=='')r=-1;\
else if(!isNaN(na)&&!isNaN(nc))r=na-nc;else r=a.localeCompare(c,'zh');\
return asc?r:-r});rows.forEach(function(r){b.appendChild(r)})})})});";

fn page(title: &str, body: &str) -> String {
    format!("{}{body}{}", page_head(title), page_tail())
}

/// A page up to its body.
fn page_head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{}</title><style>{STYLE}</style></head><body>\n",
        esc(title)
    )
}

/// A page after its body.
fn page_tail() -> String {
    format!("\n<script>{SORT_JS}</script></body></html>\n")
}

fn fmt(v: Option<f64>, digits: usize) -> String {
    v.filter(|x| x.is_finite())
        .map(|x| format!("{x:.digits$}"))
        .unwrap_or_default()
}

/// A table cell with a sort value.
fn num_cell(v: Option<f64>, digits: usize, class: &str) -> String {
    let text = fmt(v, digits);
    if text.is_empty() {
        "<td data-v=\"\" class=\"na\">-</td>".into()
    } else {
        format!("<td data-v=\"{text}\" class=\"{class}\">{text}</td>")
    }
}

/// A share of calls as a percentage, green at 90 % and above, red below 70 %.
fn share_cell(v: Option<f64>) -> String {
    let class = match v {
        Some(s) if s >= 0.9 => "pass",
        Some(s) if s < 0.7 => "fail",
        Some(_) => "mid",
        None => "na",
    };
    num_cell(v.map(|s| 100.0 * s), 0, class)
}

fn band_class(v: Option<f64>, lo: f64, hi: f64) -> &'static str {
    match v {
        Some(x) if x >= lo && x <= hi => "pass",
        Some(_) => "fail",
        None => "na",
    }
}

fn svg_or_note<P: Plot>(plot: &P, notes: &std::sync::Mutex<Vec<String>>) -> String {
    match plots::to_svg(plot) {
        Ok(svg) => format!("<figure>{svg}</figure>"),
        Err(e) => {
            if let Ok(mut n) = notes.lock() {
                if !n.contains(&e) {
                    n.push(e.clone());
                }
            }
            format!("<p class=\"note\">plot not drawn: {}</p>", esc(&e))
        }
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

struct AgentPlots {
    rate: PerCall,
    loudness: PerCall,
    gaps: GapHistogram,
    greeting: PerCall,
    trend: Trend,
}

fn agent_plots(name: &str, entry: &AgentEntry, config: &Config) -> AgentPlots {
    let calls = &entry.calls;
    let per_call = |rule: &str, value: &dyn Fn(&CallDigest) -> Option<f64>| {
        calls
            .iter()
            .map(|c| match c.error() {
                None => (value(c), c.pass_of(rule)),
                Some(_) => (None, None),
            })
            .unzip::<_, _, Vec<_>, Vec<_>>()
    };
    let (rate_v, rate_p) = per_call("speaking_rate", &|c| c.rate_spm());
    let (level_v, level_p) = per_call("loudness", &|c| c.level_dbov());
    let (greet_v, greet_p) = per_call("greeting_latency", &|c| c.greeting_s());
    AgentPlots {
        rate: PerCall {
            title: format!("Speaking rate per call: {name}"),
            y_label: "syllables / min".into(),
            values: rate_v,
            pass: rate_p,
            band: Some((config.rate.min_spm, config.rate.max_spm)),
            target: Some(config.rate.target_spm),
            limit: None,
            bars: false,
            rule_label: format!(
                "target band {:.0}-{:.0} /min",
                config.rate.min_spm, config.rate.max_spm
            ),
        },
        loudness: PerCall {
            title: format!("Speech level per call: {name}"),
            y_label: "active speech level (dBov)".into(),
            values: level_v,
            pass: level_p,
            band: Some((config.loudness.min_dbov, config.loudness.max_dbov)),
            target: None,
            limit: None,
            bars: false,
            rule_label: format!(
                "band {:.0} to {:.0} dBov",
                config.loudness.min_dbov, config.loudness.max_dbov
            ),
        },
        gaps: GapHistogram {
            title: format!("Silence gaps between speech: {name}"),
            gaps: entry.gaps.clone(),
            limit_s: config.silence.gap_limit_s,
        },
        greeting: PerCall {
            title: format!("Greeting latency per call: {name}"),
            y_label: "seconds to first word".into(),
            values: greet_v,
            pass: greet_p,
            band: None,
            target: None,
            limit: Some(config.silence.greeting_limit_s),
            bars: true,
            rule_label: format!("limit {} s", config.silence.greeting_limit_s),
        },
        trend: Trend {
            title: format!("Trend over dates: {name}"),
            points: agents::trend_digests(&calls.iter().collect::<Vec<_>>()),
            rate_band: (config.rate.min_spm, config.rate.max_spm),
            loudness_band: (config.loudness.min_dbov, config.loudness.max_dbov),
        },
    }
}

struct Written {
    count: std::sync::atomic::AtomicUsize,
}

impl Written {
    fn write(&self, path: &Path, text: &str) -> Result<()> {
        write_atomic(path, text.as_bytes())
            .map_err(|e| Error::Report(format!("{}: cannot write: {e}", path.display())))?;
        self.count
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// Writes a file as `write` makes it.
    fn write_with(
        &self,
        path: &Path,
        write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
    ) -> Result<()> {
        let mut file = AtomicFile::create(path)
            .map_err(|e| Error::Report(format!("{}: cannot write: {e}", path.display())))?;
        write(&mut file)
            .and_then(|()| file.commit())
            .map_err(|e| Error::Report(format!("{}: cannot write: {e}", path.display())))?;
        self.count
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// Counts a PNG written, or notes why it was not (PNGs are optional: no error).
    fn png(&self, result: std::result::Result<(), String>, notes: &std::sync::Mutex<Vec<String>>) {
        match result {
            Ok(()) => {
                self.count
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Err(e) => {
                notes.lock().map(|mut v| v.push(format!("png: {e}"))).ok();
            }
        }
    }
}

/// What every page needs of an agent: the summary, the page name and the number of calls.
struct AgentInfo {
    summary: AgentSummary,
    slug: String,
    calls: usize,
}

/// The calls of one agent (oldest first) while the agent's page is written.
struct AgentEntry<'a> {
    info: &'a AgentInfo,
    calls: Vec<CallDigest>,
    gaps: GapCounts,
}

fn call_page_name(index: usize) -> String {
    format!("{:04}.html", index + 1)
}

/// Writes `agents.csv`, `index.html`, the agent and call pages (and PNGs on request) into
/// `dir` from the results of an analysis.
pub fn write_report(
    dir: &Path,
    calls: &[CallReport],
    options: &ReportOptions,
) -> Result<ReportOutcome> {
    let mut builder = ReportBuilder::default();
    for c in calls {
        builder.add(c);
    }
    builder.write(dir, options, |each| {
        calls.iter().try_for_each(|c| each(c.clone()))
    })
}

/// One call with a page, while the report is gathered: its agent, order of arrival, the
/// lengths of its gaps (for the agent's histogram; none for a call not analysed) and
/// its digest. Sorted by agent, date, file, then arrival.
struct Gathered {
    agent: Box<str>,
    arrival: u32,
    gaps_s: Vec<f64>,
    digest: CallDigest,
}

impl Record for Gathered {
    fn encode(&self, out: &mut Vec<u8>) {
        bytes::put_str(out, &self.agent);
        bytes::put_u32(out, self.arrival);
        bytes::put_u32(out, self.gaps_s.len() as u32);
        for g in &self.gaps_s {
            bytes::put_f64(out, *g);
        }
        self.digest.encode(out);
    }

    fn decode(mut input: &[u8]) -> std::io::Result<Gathered> {
        let input = &mut input;
        let agent = bytes::get_str(input)?.into();
        let arrival = bytes::get_u32(input)?;
        let n = bytes::get_u32(input)? as usize;
        let mut gaps_s = Vec::with_capacity(n.min(input.len() / 8));
        for _ in 0..n {
            gaps_s.push(bytes::get_f64(input)?);
        }
        let digest = CallDigest::decode(input)?;
        Ok(Gathered {
            agent,
            arrival,
            gaps_s,
            digest,
        })
    }

    fn memory_bytes(&self) -> usize {
        self.agent.len() + 8 * self.gaps_s.len() + self.digest.heap_bytes()
    }
}

/// The report's order of calls: by agent (as text), then date, file and arrival.
fn by_agent_date_file(a: &Gathered, b: &Gathered) -> std::cmp::Ordering {
    (&a.agent, a.digest.date(), a.digest.file(), a.arrival).cmp(&(
        &b.agent,
        b.digest.date(),
        b.digest.file(),
        b.arrival,
    ))
}

/// Where the page of a call is (its agent's number and its page number), by order of
/// arrival; the file checks that the second pass hands over the same calls.
struct PagePlace {
    arrival: u32,
    agent: u32,
    page: u32,
    file: Box<str>,
}

impl Record for PagePlace {
    fn encode(&self, out: &mut Vec<u8>) {
        for n in [self.arrival, self.agent, self.page] {
            bytes::put_u32(out, n);
        }
        bytes::put_str(out, &self.file);
    }

    fn decode(mut input: &[u8]) -> std::io::Result<PagePlace> {
        let input = &mut input;
        Ok(PagePlace {
            arrival: bytes::get_u32(input)?,
            agent: bytes::get_u32(input)?,
            page: bytes::get_u32(input)?,
            file: bytes::get_str(input)?.into(),
        })
    }

    fn memory_bytes(&self) -> usize {
        self.file.len()
    }
}

fn by_arrival(a: &PagePlace, b: &PagePlace) -> std::cmp::Ordering {
    a.arrival.cmp(&b.arrival)
}

/// Bytes of calls held in memory before they are sorted into a temporary file (and while
/// agent pages are written, unless one agent has more).
pub const RUN_BYTES: usize = 1 << 20;

fn temporary(e: std::io::Error) -> Error {
    Error::Report(format!("the report's temporary file: {e}"))
}

/// Builds the report of any number of calls in two passes over them: [`ReportBuilder::add`]
/// each call, then [`ReportBuilder::write`] with a way to go over the same calls again, in
/// the same order, for the call pages.
///
/// Memory does not grow with the number of calls: a [`CallDigest`] per call is kept until
/// [`RUN_BYTES`] are gathered, then sorted by agent into an anonymous temporary file
/// (see [`super::extsort`]); the agents' pages are written from the merged runs an agent at a
/// time, so memory is that of the largest agent's digests (its medians and its page need
/// all of them), plus a summary per agent and the list of files that could not be
/// analysed (the index page lists them).
pub struct ReportBuilder {
    calls: Sorter<Gathered>,
    /// Where the temporary files go, and how large the runs are.
    temp_dir: PathBuf,
    run_bytes: usize,
    /// The first error of a temporary file (reported by [`ReportBuilder::write`]).
    error: Option<std::io::Error>,
    /// Calls that could not be analysed: file, agent, reason (listed on the index page).
    failed: Vec<(Box<str>, Box<str>, Box<str>)>,
    analysed: usize,
    first_date: Option<String>,
    last_date: Option<String>,
    attributable: u32,
}

impl Default for ReportBuilder {
    /// Temporary files (when the calls do not fit in [`RUN_BYTES`]) in the system's
    /// temporary folder.
    fn default() -> ReportBuilder {
        ReportBuilder::new(&std::env::temp_dir())
    }
}

/// Calls with an agent, or with a result, get pages; the others (lines of calls.jsonl that
/// are not results) are listed on the index page only.
fn attributable(c: &CallReport) -> bool {
    c.agent.is_some() || c.error.is_none()
}

impl ReportBuilder {
    /// A builder whose temporary files go in `temp_dir` (the output folder: same disk;
    /// the files are anonymous, so nothing stays there).
    pub fn new(temp_dir: &Path) -> ReportBuilder {
        ReportBuilder::with_run_bytes(temp_dir, RUN_BYTES)
    }

    /// [`ReportBuilder::new`] with runs of `run_bytes` (for tests: the report does not
    /// depend on it).
    pub fn with_run_bytes(temp_dir: &Path, run_bytes: usize) -> ReportBuilder {
        ReportBuilder {
            calls: Sorter::new(temp_dir, run_bytes, by_agent_date_file),
            temp_dir: temp_dir.to_path_buf(),
            run_bytes,
            error: None,
            failed: Vec::new(),
            analysed: 0,
            first_date: None,
            last_date: None,
            attributable: 0,
        }
    }

    /// Takes in one call (first pass).
    pub fn add(&mut self, c: &CallReport) {
        match &c.error {
            None => self.analysed += 1,
            Some(e) => self.failed.push((
                c.file.as_str().into(),
                agents::agent_of(c).into(),
                e.as_str().into(),
            )),
        }
        if let Some(d) = &c.date {
            if self.first_date.as_ref().is_none_or(|f| d < f) {
                self.first_date = Some(d.clone());
            }
            if self.last_date.as_ref().is_none_or(|l| d > l) {
                self.last_date = Some(d.clone());
            }
        }
        if !attributable(c) {
            return;
        }
        let gaps_s = match c.error {
            None => c
                .silence
                .iter()
                .flat_map(|s| &s.gaps)
                .map(|g| g[1] - g[0])
                .collect(),
            Some(_) => Vec::new(),
        };
        let call = Gathered {
            agent: agents::agent_of(c).into(),
            arrival: self.attributable,
            gaps_s,
            digest: CallDigest::of(c),
        };
        self.attributable += 1;
        if self.error.is_none() {
            if let Err(e) = self.calls.push(call) {
                self.error = Some(e);
            }
        }
    }

    /// Calls taken in so far.
    pub fn len(&self) -> usize {
        self.analysed + self.failed.len()
    }

    /// True before the first call.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the report into `dir`. `replay` must hand every call given to
    /// [`ReportBuilder::add`] to its argument again, in the same order; the call pages are
    /// written from them a few at a time.
    pub fn write(
        self,
        dir: &Path,
        options: &ReportOptions,
        replay: impl FnOnce(&mut dyn FnMut(CallReport) -> Result<()>) -> Result<()>,
    ) -> Result<ReportOutcome> {
        if let Some(e) = self.error {
            return Err(temporary(e));
        }
        let config = &options.config;
        let written = Written {
            count: std::sync::atomic::AtomicUsize::new(0),
        };
        let notes = std::sync::Mutex::new(Vec::<String>::new());
        if let Some(n) = &fonts::status().note {
            if fonts::status().family.is_none() || options.png {
                notes.lock().map(|mut v| v.push(n.clone())).ok();
            }
        }

        // First pass over the sorted calls, an agent at a time: the agents' summaries and
        // page names, each call's page (sorted back into order of arrival), and the calls
        // again in a spool for the agent pages (which follow the index page).
        let mut places = Sorter::new(&self.temp_dir, self.run_bytes, by_arrival);
        let mut spool = Spool::new(&self.temp_dir).map_err(temporary)?;
        let mut infos: Vec<AgentInfo> = Vec::new();
        let mut used = HashSet::new();
        let mut digests: Vec<CallDigest> = Vec::new();
        let mut current: Option<Box<str>> = None;
        let mut close = |name: &str, digests: &mut Vec<CallDigest>, infos: &mut Vec<AgentInfo>| {
            infos.push(AgentInfo {
                summary: agents::summarize_digests(name, &digests.iter().collect::<Vec<_>>()),
                slug: slug(name, &mut used),
                calls: digests.len(),
            });
            digests.clear();
        };
        for call in self.calls.finish().map_err(temporary)? {
            let call = call.map_err(temporary)?;
            if current.as_deref() != Some(&*call.agent) {
                if let Some(name) = current.take() {
                    close(&name, &mut digests, &mut infos);
                }
                current = Some(call.agent.clone());
            }
            places
                .push(PagePlace {
                    arrival: call.arrival,
                    agent: infos.len() as u32,
                    page: digests.len() as u32,
                    file: call.digest.file().into(),
                })
                .map_err(temporary)?;
            spool.push(&call).map_err(temporary)?;
            digests.push(call.digest);
        }
        if let Some(name) = current.take() {
            close(&name, &mut digests, &mut infos);
        }
        drop(digests);
        let summaries: Vec<AgentSummary> = infos.iter().map(|e| e.summary.clone()).collect();

        let csv = agents::to_csv(&summaries)
            .map_err(|e| Error::Report(format!("cannot format agents.csv: {e}")))?;
        written.write(&dir.join("agents.csv"), &csv)?;

        let with_calls: Vec<AgentSummary> =
            summaries.iter().filter(|s| s.calls > 0).cloned().collect();
        let overview = Overview {
            summaries: &with_calls,
            config,
            numbers: (1..=summaries.len())
                .filter(|&n| summaries[n - 1].calls > 0)
                .collect(),
        };
        let span = match (&self.first_date, &self.last_date) {
            (Some(a), Some(b)) if a == b => format!(", {a}"),
            (Some(a), Some(b)) => format!(", {a} to {b}"),
            _ => String::new(),
        };
        let index = index_page(
            &infos,
            self.analysed,
            &span,
            &self.failed,
            config,
            &svg_or_note(&overview, &notes),
            &notes,
        );
        written.write(&dir.join("index.html"), &index)?;

        // The agent pages, from the spool: a few agents at a time in parallel (as many as
        // there are threads, within the run budget unless one agent alone is larger).
        let report_dir = dir.join("report");
        let write_agent = |number: usize, entry: &AgentEntry| -> Result<()> {
            let name = &entry.info.summary.agent;
            let p = agent_plots(name, entry, config);
            written.write_with(
                &report_dir
                    .join("agents")
                    .join(format!("{}.html", entry.info.slug)),
                |out| agent_page(entry, config, &p, &notes, out),
            )?;
            if options.png && entry.info.summary.calls > 0 {
                let out = dir.join("png").join(&entry.info.slug);
                let label = fonts::png_text(name, &format!("agent {}", number + 1));
                let note = (label != *name).then_some(PNG_NAME_NOTE);
                let mut p = agent_plots(&label, entry, config);
                p.trend.title = format!("Trend over dates: {label}");
                let results = [
                    plots::to_png(&p.rate, &out.join("speaking_rate.png"), note),
                    plots::to_png(&p.loudness, &out.join("loudness.png"), note),
                    plots::to_png(&p.gaps, &out.join("gaps.png"), note),
                    plots::to_png(&p.greeting, &out.join("greeting.png"), note),
                    plots::to_png(&p.trend, &out.join("trend.png"), note),
                ];
                for r in results {
                    written.png(r, &notes);
                }
            }
            Ok(())
        };
        let threads = rayon::current_num_threads().max(1);
        let mut batch: Vec<(usize, AgentEntry)> = Vec::new();
        let mut batch_bytes = 0usize;
        let mut entry: Option<(usize, AgentEntry)> = None;
        let mut number = 0usize;
        let mut spooled = spool.finish().map_err(temporary)?;
        loop {
            let call = spooled.next().transpose().map_err(temporary)?;
            let same = match (&entry, &call) {
                (Some((_, e)), Some(c)) => e.info.summary.agent == *c.agent,
                _ => false,
            };
            if !same {
                if let Some(done) = entry.take() {
                    batch.push(done);
                    if batch.len() >= threads || batch_bytes >= self.run_bytes || call.is_none() {
                        batch
                            .par_iter()
                            .try_for_each(|(number, entry)| write_agent(*number, entry))?;
                        batch.clear();
                        batch_bytes = 0;
                    }
                }
                let Some(c) = &call else { break };
                let info = infos
                    .get(number)
                    .ok_or_else(|| Error::Report("the report's temporary file changed".into()))?;
                if info.summary.agent != *c.agent {
                    return Err(Error::Report("the report's temporary file changed".into()));
                }
                entry = Some((
                    number,
                    AgentEntry {
                        info,
                        calls: Vec::with_capacity(info.calls),
                        gaps: GapCounts::default(),
                    },
                ));
                number += 1;
            }
            let (Some(call), Some((_, e))) = (call, entry.as_mut()) else {
                break;
            };
            batch_bytes += call.memory_bytes() + std::mem::size_of::<CallDigest>();
            for g in &call.gaps_s {
                e.gaps.add(*g);
            }
            e.calls.push(call.digest);
        }

        // Second pass: a page per call, written a batch at a time in parallel.
        const BATCH: usize = 64;
        let mut places = places.finish().map_err(temporary)?;
        let mut batch: Vec<(u32, u32, CallReport)> = Vec::with_capacity(BATCH);
        let mut seen = 0u32;
        let write_batch = |batch: &mut Vec<(u32, u32, CallReport)>| -> Result<()> {
            batch
                .par_iter()
                .try_for_each(|(a, i, call)| -> Result<()> {
                    let info = &infos[*a as usize];
                    let html = call_page(info, *i as usize, call, config, &notes);
                    written.write(
                        &report_dir
                            .join("calls")
                            .join(&info.slug)
                            .join(call_page_name(*i as usize)),
                        &html,
                    )
                })?;
            batch.clear();
            Ok(())
        };
        replay(&mut |call: CallReport| -> Result<()> {
            if !attributable(&call) {
                return Ok(());
            }
            let k = seen;
            seen += 1;
            let place = places.next().transpose().map_err(temporary)?;
            let place = place.filter(|p| {
                p.arrival == k && *p.file == *call.file && (p.agent as usize) < infos.len()
            });
            let Some(place) = place else {
                return Err(Error::Report(format!(
                    "the calls changed while the report was written (at {})",
                    call.file
                )));
            };
            batch.push((place.agent, place.page, call));
            if batch.len() == BATCH {
                write_batch(&mut batch)?;
            }
            Ok(())
        })?;
        write_batch(&mut batch)?;
        if seen != self.attributable {
            return Err(Error::Report(
                "the calls changed while the report was written (fewer calls)".into(),
            ));
        }

        if options.png && !with_calls.is_empty() {
            let replaced = with_calls
                .iter()
                .any(|a| !fonts::status().renders(&a.agent));
            let note = replaced.then_some(PNG_NAME_NOTE);
            let overview_png = dir.join("png").join("overview.png");
            written.png(plots::to_png(&overview, &overview_png, note), &notes);
        }
        let mut notes = notes.into_inner().unwrap_or_default();
        notes.dedup();
        Ok(ReportOutcome {
            agents: infos.len(),
            calls: self.analysed,
            failed: self.failed.len(),
            files_written: written.count.into_inner(),
            notes,
        })
    }
}

fn targets_line(config: &Config) -> String {
    format!(
        "Targets: speaking rate {:.0}-{:.0} syllables/min (target {:.0}); greeting within {} s; \
         no gap of {} s or more (dead air); speech level {:.0} to {:.0} dBov; F0 spread at least \
         {} semitones; overtalk at most {:.0} % of the agent's talk time.",
        config.rate.min_spm,
        config.rate.max_spm,
        config.rate.target_spm,
        config.silence.greeting_limit_s,
        config.silence.gap_limit_s,
        config.loudness.min_dbov,
        config.loudness.max_dbov,
        config.pitch.min_spread_semitones,
        100.0 * config.overtalk.max_share
    )
}

fn notes_html(notes: &std::sync::Mutex<Vec<String>>) -> String {
    let list = notes.lock().map(|n| n.clone()).unwrap_or_default();
    list.iter()
        .map(|n| format!("<p class=\"note\">{}</p>", esc(n)))
        .collect()
}

fn index_page(
    entries: &[AgentInfo],
    ok: usize,
    span: &str,
    failed: &[(Box<str>, Box<str>, Box<str>)],
    config: &Config,
    overview_svg: &str,
    notes: &std::sync::Mutex<Vec<String>>,
) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>Agent voice report</h1><p class=\"muted\">{} agents, {ok} calls analysed{span}{}. \
         {}</p>",
        entries.len(),
        if failed.is_empty() {
            String::new()
        } else {
            format!(
                ", {} file{} could not be analysed",
                failed.len(),
                if failed.len() == 1 { "" } else { "s" }
            )
        },
        esc(&targets_line(config))
    );
    b.push_str(&notes_html(notes));
    b.push_str(
        "<nav><a href=\"agents.csv\">agents.csv</a><a href=\"calls.csv\">calls.csv</a>\
<a href=\"calls.jsonl\">calls.jsonl</a></nav>",
    );
    b.push_str(
        "<h2>Team</h2><p class=\"muted\">Click a column to sort. Shares are of the calls \
where the rule could be judged: green 90 % and above, red below 70 %. Percentiles, longest gaps \
and pitch are in agents.csv and on each agent's page.</p>\
<div class=\"scroll\"><table class=\"sortable\"><thead><tr><th>#</th><th class=\"l\">Agent</th><th>Calls</th>\
<th>Talk time (min)</th><th>Rate median (/min)</th>\
<th>Rate in band (%)</th><th>Greeted in time (%)</th><th>Dead-air gaps per call</th>\
<th>Level median (dBov)</th><th>Level in band (%)</th><th>Overtalk per call</th>\
<th title=\"Calls whose background voices lie within the flag's range of the agent: their gaps and \
greeting are less certain\">Loud background voices (%)</th>\
<th class=\"l\">Top coaching points</th></tr></thead><tbody>",
    );
    for (number, e) in entries.iter().enumerate() {
        let s = &e.summary;
        let _ = write!(
            b,
            "<tr><td>{}</td><td class=\"l\"><a href=\"{}\">{}</a></td><td>{}</td>{}{}{}{}{}{}{}{}{}\
             <td class=\"wrap\">{}</td></tr>",
            number + 1,
            href(&format!("report/agents/{}.html", e.slug)),
            esc(&s.agent),
            s.calls,
            num_cell(Some(s.talk_time_s / 60.0), 1, ""),
            num_cell(
                s.rate_median_spm,
                0,
                band_class(s.rate_median_spm, config.rate.min_spm, config.rate.max_spm)
            ),
            share_cell(s.rate_in_band_share),
            share_cell(s.greeting_pass_share),
            num_cell(s.dead_air_per_call, 2, ""),
            num_cell(
                s.loudness_median_dbov,
                1,
                band_class(
                    s.loudness_median_dbov,
                    config.loudness.min_dbov,
                    config.loudness.max_dbov
                )
            ),
            share_cell(s.loudness_in_band_share),
            num_cell(s.overtalk_per_call, 2, ""),
            num_cell(s.background_voices_share.map(|x| 100.0 * x), 0, ""),
            esc(&agents::coaching_text(&s.coaching, 3)),
        );
    }
    b.push_str("</tbody></table></div>");
    b.push_str("<h2>Overview</h2>");
    b.push_str(overview_svg);
    if !failed.is_empty() {
        b.push_str(
            "<h2>Files that could not be analysed</h2><table><thead><tr>\
<th class=\"l\">File</th><th class=\"l\">Agent</th><th class=\"l\">Reason</th></tr></thead><tbody>",
        );
        for (file, agent, error) in failed {
            let _ = write!(
                b,
                "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td></tr>",
                esc(file),
                esc(agent),
                esc(error)
            );
        }
        b.push_str("</tbody></table>");
    }
    page("Agent voice report", &b)
}

fn agent_page(
    entry: &AgentEntry,
    config: &Config,
    p: &AgentPlots,
    notes: &std::sync::Mutex<Vec<String>>,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let s = &entry.info.summary;
    // Written as it is made: the plots one at a time, the calls' rows in pieces.
    let mut b = page_head(&format!("{}: agent voice report", s.agent));
    let _ = write!(
        b,
        "<nav><a href=\"../../index.html\">&larr; Team overview</a></nav><h1>{}</h1>\
         <p class=\"muted\">{} calls analysed{}{}. {}</p>",
        esc(&s.agent),
        s.calls,
        match (&s.first_date, &s.last_date) {
            (Some(a), Some(z)) if a == z => format!(", {a}"),
            (Some(a), Some(z)) => format!(", {a} to {z}"),
            _ => String::new(),
        },
        if s.failed_files > 0 {
            format!(
                ", {} file{} could not be analysed",
                s.failed_files,
                if s.failed_files == 1 { "" } else { "s" }
            )
        } else {
            String::new()
        },
        esc(&targets_line(config))
    );
    let pct = |v: Option<f64>| {
        v.map(|x| format!("{:.0} %", 100.0 * x))
            .unwrap_or_else(|| "-".into())
    };
    let cards = [
        (
            "Speaking rate (median)",
            s.rate_median_spm
                .map(|v| format!("{v:.0} /min"))
                .unwrap_or_else(|| "-".into()),
            band_class(s.rate_median_spm, config.rate.min_spm, config.rate.max_spm),
        ),
        ("Rate in band", pct(s.rate_in_band_share), ""),
        ("Greeted in time", pct(s.greeting_pass_share), ""),
        (
            "Dead-air gaps per call",
            fmt(s.dead_air_per_call, 2),
            if s.dead_air_per_call.unwrap_or(0.0) > 0.0 {
                "fail"
            } else {
                "pass"
            },
        ),
        (
            "Speech level (median)",
            s.loudness_median_dbov
                .map(|v| format!("{v:.1} dBov"))
                .unwrap_or_else(|| "-".into()),
            band_class(
                s.loudness_median_dbov,
                config.loudness.min_dbov,
                config.loudness.max_dbov,
            ),
        ),
        (
            "F0 spread (median)",
            s.pitch_spread_semitones
                .map(|v| format!("{v:.1} st"))
                .unwrap_or_else(|| "-".into()),
            "",
        ),
    ];
    b.push_str("<div class=\"cards\">");
    for (label, value, class) in cards {
        let _ = write!(
            b,
            "<div class=\"card\">{}<b class=\"{class}\">{}</b></div>",
            esc(label),
            esc(&value)
        );
    }
    b.push_str("</div>");
    b.push_str("<h2>Coaching points</h2>");
    if s.coaching.is_empty() {
        b.push_str("<p class=\"pass\">Every judged rule passed on every call.</p>");
    } else {
        b.push_str("<ol>");
        for c in s.coaching.iter().take(5) {
            let _ = write!(
                b,
                "<li><b>{}</b>: failed on {} of {} calls</li>",
                esc(rule_label(&c.rule)),
                c.failed,
                c.judged
            );
        }
        b.push_str("</ol>");
    }
    b.push_str(&notes_html(notes));
    if s.calls > 0 {
        b.push_str("<h2>Plots</h2>");
        out.write_all(b.as_bytes())?;
        b.clear();
        // One plot at a time.
        out.write_all(svg_or_note(&p.rate, notes).as_bytes())?;
        out.write_all(svg_or_note(&p.loudness, notes).as_bytes())?;
        out.write_all(svg_or_note(&p.gaps, notes).as_bytes())?;
        out.write_all(svg_or_note(&p.greeting, notes).as_bytes())?;
        out.write_all(svg_or_note(&p.trend, notes).as_bytes())?;
    }
    b.push_str(
        "<h2>Calls</h2><p class=\"muted\">Oldest first; click a column to sort, a file to \
see its timeline.</p><div class=\"scroll\"><table class=\"sortable\"><thead><tr><th>#</th><th class=\"l\">Date</th>\
<th class=\"l\">File</th><th>Length (s)</th><th>Rate (/min)</th><th>Greeting (s)</th>\
<th>Dead-air gaps</th><th>Longest gap (s)</th><th>Level (dBov)</th><th>Overtalk spans</th>\
<th class=\"l\">Failed rules</th></tr></thead><tbody>",
    );
    for (i, c) in entry.calls.iter().enumerate() {
        if b.len() >= 1 << 16 {
            out.write_all(b.as_bytes())?;
            b.clear();
        }
        let link = href(&format!(
            "../calls/{}/{}",
            entry.info.slug,
            call_page_name(i)
        ));
        let name = esc(file_name(c.file()));
        if let Some(e) = c.error() {
            let _ = write!(
                b,
                "<tr><td>{}</td><td class=\"l\">{}</td><td class=\"l\">{name}</td>\
                 <td class=\"l fail\" colspan=\"8\">not analysed: {}</td></tr>",
                i + 1,
                esc(c.date().unwrap_or("")),
                esc(e)
            );
            continue;
        }
        let class = |rule: &str| match c.pass_of(rule) {
            Some(true) => "pass",
            Some(false) => "fail",
            None => "",
        };
        let _ = write!(
            b,
            "<tr><td>{}</td><td class=\"l\">{}</td><td class=\"l\"><a href=\"{link}\">{name}</a></td>\
             {}{}{}<td>{}</td>{}{}<td>{}</td><td class=\"wrap\">{}</td></tr>",
            i + 1,
            esc(c.date().unwrap_or("")),
            num_cell(c.duration_s(), 1, ""),
            num_cell(c.rate_spm(), 0, class("speaking_rate")),
            num_cell(c.greeting_s(), 2, class("greeting_latency")),
            c.silence().map(|s| s.0.to_string()).unwrap_or_default(),
            num_cell(c.silence().map(|s| s.1), 1, class("dead_air")),
            num_cell(c.level_dbov(), 1, class("loudness")),
            c.overtalk_spans()
                .map(|n| n.to_string())
                .unwrap_or_else(|| "-".into()),
            esc(&c
                .failed_rules()
                .iter()
                .map(|r| rule_label(r))
                .collect::<Vec<_>>()
                .join(", ")),
        );
    }
    b.push_str("</tbody></table></div>");
    b.push_str(&page_tail());
    out.write_all(b.as_bytes())
}

/// A rule's value and limit as people read them: `251 /min` and `100 to 140 /min`,
/// shares as percentages, and `at most` for maxima.
fn rule_text(rule: &str, value: Option<f64>, limit: &serde_json::Value) -> (String, String) {
    let (scale, digits, unit) = match rule {
        "speaking_rate" => (1.0, 0, " /min"),
        "greeting_latency" | "dead_air" | "response_latency" => (1.0, 2, " s"),
        "loudness" => (1.0, 1, " dBov"),
        "clipping" => (100.0, 2, " %"),
        "overtalk" => (100.0, 1, " %"),
        "pitch" => (1.0, 0, " Hz"),
        "intonation" => (1.0, 1, " semitones"),
        _ => (1.0, 2, ""),
    };
    // A value that rounds to zero is shown as 0, never "-0.0".
    let show = |v: f64| {
        let x = v * scale;
        let x = if x.abs() < 0.5 * 10f64.powi(-(digits as i32)) {
            0.0
        } else {
            x
        };
        format!("{x:.digits$}{unit}")
    };
    let value = value
        .filter(|v| v.is_finite())
        .map(show)
        .unwrap_or_else(|| "-".into());
    let limit = match limit {
        serde_json::Value::Array(a) if a.len() == 2 => match (a[0].as_f64(), a[1].as_f64()) {
            (Some(lo), Some(hi)) => {
                format!("{:.digits$} to {:.digits$}{unit}", lo * scale, hi * scale)
            }
            _ => String::new(),
        },
        serde_json::Value::Number(n) => match (rule, n.as_f64()) {
            ("intonation", Some(v)) => format!("at least {}", show(v)),
            ("dead_air", Some(v)) => format!("no gap of {} or more", show(v)),
            (_, Some(v)) => format!("at most {}", show(v)),
            _ => String::new(),
        },
        _ => String::new(),
    };
    (value, limit)
}

fn spans_text(spans: &[[f64; 2]]) -> String {
    if spans.is_empty() {
        return "none".into();
    }
    spans
        .iter()
        .map(|s| format!("{:.1}-{:.1} s ({:.1} s)", s[0], s[1], s[1] - s[0]))
        .collect::<Vec<_>>()
        .join(", ")
}

fn call_page(
    entry: &AgentInfo,
    i: usize,
    c: &CallReport,
    config: &Config,
    notes: &std::sync::Mutex<Vec<String>>,
) -> String {
    let mut b = String::new();
    let agent_link = href(&format!("../../agents/{}.html", entry.slug));
    let _ = write!(
        b,
        "<nav><a href=\"../../../index.html\">&larr; Team overview</a><a href=\"{agent_link}\">\
         &larr; {}</a>",
        esc(&entry.summary.agent)
    );
    if i > 0 {
        let _ = write!(b, "<a href=\"{}\">previous call</a>", call_page_name(i - 1));
    }
    if i + 1 < entry.calls {
        let _ = write!(b, "<a href=\"{}\">next call</a>", call_page_name(i + 1));
    }
    let _ = write!(
        b,
        "</nav><h1>Call {} of {}: {}</h1><p class=\"muted\">{}</p>",
        i + 1,
        entry.calls,
        esc(file_name(&c.file)),
        esc(&[
            Some(format!("agent {}", entry.summary.agent)),
            c.date.clone(),
            c.call_id.as_ref().map(|id| format!("call id {id}")),
            c.duration_s.map(|d| format!("{d:.1} s")),
            c.layout.clone(),
            c.codec.clone(),
            c.sample_rate.map(|r| format!("{r} Hz")),
            Some(c.file.clone()),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · "))
    );
    if let Some(e) = &c.error {
        let _ = write!(b, "<p class=\"fail\">Not analysed: {}</p>", esc(e));
        return page(&format!("{}: not analysed", file_name(&c.file)), &b);
    }
    b.push_str(
        "<h2>Rules</h2><table><thead><tr><th class=\"l\">Rule</th><th>Value</th>\
<th class=\"l\">Limit</th><th class=\"l\">Result</th></tr></thead><tbody>",
    );
    let mut checks: Vec<(&String, &crate::report::model::Check)> =
        c.checks.iter().flatten().collect();
    let order = |r: &str| {
        agents::RULE_ORDER
            .iter()
            .position(|x| *x == r)
            .unwrap_or(99)
    };
    checks.sort_by_key(|(k, _)| order(k));
    for (rule, check) in checks {
        let (class, result) = match check.pass {
            Some(true) => ("pass", "pass"),
            Some(false) => ("fail", "FAIL"),
            None => ("na", "report only"),
        };
        let (value, limit) = rule_text(rule, check.value, &check.limit);
        let _ = write!(
            b,
            "<tr><td class=\"l\">{}</td><td>{}</td><td class=\"l\">{}</td>\
             <td class=\"l {class}\">{result}</td></tr>",
            esc(&rule.replace('_', " ")),
            esc(&value),
            esc(&limit),
        );
    }
    b.push_str("</tbody></table>");
    b.push_str("<h2>Timeline</h2>");
    let timeline = Timeline {
        title: format!("{} ({})", file_name(&c.file), entry.summary.agent),
        call: c,
        config,
    };
    b.push_str(&svg_or_note(&timeline, notes));
    let silence = c.silence.as_ref();
    let _ = write!(
        b,
        "<h2>Details</h2><p><b>Dead air:</b> {}</p>",
        esc(&spans_text(
            silence.map(|s| s.long_gaps.as_slice()).unwrap_or(&[])
        ))
    );
    if let Some(x) = &c.interaction {
        let _ = write!(
            b,
            "<p><b>Overtalk:</b> {}</p><p><b>Response latencies:</b> {}</p>",
            esc(&spans_text(&x.overtalk)),
            esc(&if x.response_latencies_s.is_empty() {
                "none".to_string()
            } else {
                x.response_latencies_s
                    .iter()
                    .map(|v| format!("{v:.2} s"))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
        );
    }
    if !c.warnings.is_empty() {
        let _ = write!(b, "<p class=\"note\">{}</p>", esc(&c.warnings.join("; ")));
    }
    page(&format!("{}: call timeline", file_name(&c.file)), &b)
}

/// Reads `calls.jsonl`: the results, and for each line that is not a result an error entry
/// naming the line (with no agent: such entries are listed on the index page only).
pub fn read_calls_jsonl(path: &Path) -> Result<(Vec<CallReport>, Vec<CallReport>)> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::Report(format!(
            "{}: {}",
            path.display(),
            crate::pipeline::io_reason(&e)
        ))
    })?;
    let mut calls = Vec::new();
    let mut unreadable = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<CallReport>(line) {
            Ok(c) => calls.push(c),
            Err(e) => unreadable.push(CallReport {
                file: format!("{} line {}", path.display(), i + 1),
                error: Some(format!("not a result line: {e}")),
                ..CallReport::default()
            }),
        }
    }
    Ok((calls, unreadable))
}

/// Pages of the report for a results folder (for tests and tools).
pub fn report_paths(dir: &Path) -> BTreeMap<&'static str, PathBuf> {
    BTreeMap::from([
        ("index", dir.join("index.html")),
        ("agents_csv", dir.join("agents.csv")),
        ("agents", dir.join("report").join("agents")),
        ("calls", dir.join("report").join("calls")),
        ("png", dir.join("png")),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_links() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(
            href("report/agents/张伟.html"),
            "report/agents/%E5%BC%A0%E4%BC%9F.html"
        );
        assert_eq!(href("a b#c"), "a%20b%23c");
    }

    #[test]
    fn rule_values_read_naturally() {
        let j = |t: &str| serde_json::from_str::<serde_json::Value>(t).unwrap();
        assert_eq!(
            rule_text("speaking_rate", Some(251.223), &j("[100, 140]")),
            ("251 /min".to_string(), "100 to 140 /min".to_string())
        );
        assert_eq!(
            rule_text("overtalk", Some(0.959), &j("0.1")),
            ("95.9 %".to_string(), "at most 10.0 %".to_string())
        );
        assert_eq!(
            rule_text("greeting_latency", None, &j("2.0")),
            ("-".to_string(), "at most 2.00 s".to_string())
        );
    }

    #[test]
    fn call_pages_come_from_the_second_pass_and_a_changed_replay_is_refused() {
        let call = |file: &str, agent: &str, date: &str| CallReport {
            file: file.into(),
            agent: Some(agent.into()),
            date: Some(date.into()),
            duration_s: Some(3.0),
            ..CallReport::default()
        };
        // Given out of date order: pages are numbered by date within each agent.
        let calls = vec![
            call("in/ann/late.wav", "ann", "2024-02-02"),
            call("in/bob/one.wav", "bob", "2024-01-01"),
            call("in/ann/early.wav", "ann", "2024-01-01"),
        ];
        let dir = tempfile::tempdir().unwrap();
        let outcome = write_report(dir.path(), &calls, &ReportOptions::default()).unwrap();
        assert_eq!((outcome.agents, outcome.calls, outcome.failed), (2, 3, 0));
        let page = |p: &str| std::fs::read_to_string(dir.path().join(p)).unwrap();
        assert!(page("report/calls/ann/0001.html").contains("early.wav"));
        assert!(page("report/calls/ann/0002.html").contains("late.wav"));
        assert!(page("report/calls/bob/0001.html").contains("one.wav"));

        let gathered = || {
            let mut b = ReportBuilder::default();
            calls.iter().for_each(|c| b.add(c));
            b
        };
        let swapped = gathered().write(dir.path(), &ReportOptions::default(), |each| {
            each(calls[2].clone())?;
            each(calls[1].clone())?;
            each(calls[0].clone())
        });
        assert!(swapped.is_err());
        let fewer = gathered().write(dir.path(), &ReportOptions::default(), |each| {
            each(calls[0].clone())
        });
        assert!(fewer.is_err());
    }

    /// Every file under `dir` and its bytes.
    fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut files = BTreeMap::new();
        for e in walkdir::WalkDir::new(dir) {
            let e = e.unwrap();
            if e.file_type().is_file() {
                let rel = e.path().strip_prefix(dir).unwrap().to_path_buf();
                files.insert(rel, std::fs::read(e.path()).unwrap());
            }
        }
        files
    }

    #[test]
    fn report_does_not_depend_on_the_run_size() {
        use crate::report::model::{LoudnessReport, RateReport, SilenceReport, SpeechReport};
        // Four agents (one with most calls), dates out of order, the same file and date
        // given twice (ties: order of arrival), calls that could not be analysed and a
        // line that is not a result.
        let calls: Vec<CallReport> = (0..90)
            .map(|i| {
                let agent = ["ann", "bob", "张伟", "ann", "ann", "zed"][i % 6];
                let mut c = CallReport {
                    file: format!("in/{agent}/call_{}.wav", i % 7),
                    agent: Some(agent.into()),
                    date: (i % 11 != 3).then(|| format!("2024-01-{:02}", 1 + (i * 5) % 4)),
                    duration_s: Some(30.0 + i as f64),
                    ..CallReport::default()
                };
                if i % 13 == 5 {
                    c.error = Some("cannot decode".into());
                    return c;
                }
                let gaps: Vec<[f64; 2]> = (0..i % 4)
                    .map(|g| [g as f64 * 5.0, g as f64 * 5.0 + 0.4 * (i % 9) as f64])
                    .collect();
                c.loudness = Some(LoudnessReport {
                    active_speech_level_dbov: Some(-30.0 + (i % 13) as f64),
                    ..Default::default()
                });
                c.speech = Some(SpeechReport {
                    talk_time_s: 10.0 + (i % 5) as f64,
                    ..Default::default()
                });
                c.rate = Some(RateReport {
                    speaking_rate_spm: Some(90.0 + (i * 37 % 80) as f64),
                    ..Default::default()
                });
                c.silence = Some(SilenceReport {
                    longest_gap_s: gaps.iter().map(|g| g[1] - g[0]).fold(0.0, f64::max),
                    gaps,
                    greeting_latency_s: Some(0.3 * (i % 10) as f64),
                    ..Default::default()
                });
                agents::rejudge(&mut c, &Config::default());
                c
            })
            .chain([CallReport {
                file: "calls.jsonl line 7".into(),
                error: Some("not a result line".into()),
                ..CallReport::default()
            }])
            .collect();
        let report = |run_bytes: usize| {
            let temp = tempfile::tempdir().unwrap();
            let out = tempfile::tempdir().unwrap();
            let mut b = ReportBuilder::with_run_bytes(temp.path(), run_bytes);
            calls.iter().for_each(|c| b.add(c));
            let spilled = b.calls.runs() > 0;
            let outcome = b
                .write(out.path(), &ReportOptions::default(), |each| {
                    calls.iter().try_for_each(|c| each(c.clone()))
                })
                .unwrap();
            // The temporary files are gone.
            assert_eq!(std::fs::read_dir(temp.path()).unwrap().count(), 0);
            (spilled, outcome.agents, tree(out.path()))
        };
        let (spilled, agents, in_memory) = report(usize::MAX);
        assert!(!spilled);
        assert_eq!(agents, 4);
        // Pages of every call with a page, agents.csv, index and agent pages.
        assert_eq!(in_memory.len(), 90 + 2 + 4);
        for run_bytes in [1, 700, 5000] {
            let (spilled, _, on_disk) = report(run_bytes);
            assert!(spilled);
            assert_eq!(
                on_disk.keys().collect::<Vec<_>>(),
                in_memory.keys().collect::<Vec<_>>()
            );
            for (path, bytes) in &in_memory {
                assert!(
                    on_disk[path] == *bytes,
                    "{} differs at run size {run_bytes}",
                    path.display()
                );
            }
        }
    }

    #[test]
    fn slugs_keep_chinese_and_are_unique() {
        let mut used = HashSet::new();
        assert_eq!(slug("张伟", &mut used), "张伟");
        assert_eq!(slug("a/b c", &mut used), "a_b_c");
        assert_eq!(slug("A_B_C", &mut used), "A_B_C-2");
        assert_eq!(slug("../", &mut used), "agent");
        assert_eq!(slug("", &mut used), "agent-2");
    }
}
