//! Who is the agent of a call, and when was it: a manifest CSV (`file,agent,date[,call_id]`)
//! wins; else a file-name pattern with a named group `agent`; else the parent folder's name.
//! The date comes from the manifest, else a date in the file name (`YYYY-MM-DD`, `YYYYMMDD`,
//! also with `_` or `.`), else the file's modification time (UTC).

use std::collections::HashMap;
use std::path::Path;

use regex::Regex;

use crate::error::{Error, Result};
use crate::pipeline::agent_from_path;
use crate::report::model::CallReport;

/// One manifest row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestEntry {
    /// The agent's name.
    pub agent: String,
    /// The call's date, `YYYY-MM-DD`.
    pub date: Option<String>,
    /// The call's identifier.
    pub call_id: Option<String>,
}

/// The agent manifest: rows keyed by the recording's path (as written in the manifest,
/// `\` read as `/`, a leading `./` dropped).
#[derive(Debug, Clone, Default)]
pub struct Manifest {
    by_path: HashMap<String, ManifestEntry>,
    by_name: HashMap<String, Option<ManifestEntry>>,
}

fn normalize_path(path: &str) -> String {
    let p = path.trim().replace('\\', "/");
    let mut p = p.as_str();
    while let Some(rest) = p.strip_prefix("./") {
        p = rest;
    }
    p.to_string()
}

impl Manifest {
    /// Reads a manifest file (UTF-8, with or without a byte-order mark).
    pub fn from_file(path: &Path) -> Result<Manifest> {
        let bytes = std::fs::read(path).map_err(|e| {
            Error::Report(format!(
                "{}: {}",
                path.display(),
                crate::pipeline::io_reason(&e)
            ))
        })?;
        Manifest::from_bytes(&bytes).map_err(|e| Error::Report(format!("{}: {e}", path.display())))
    }

    /// Parses manifest CSV text. The first row is a header when its first cell is `file`
    /// (then the columns `file`, `agent`, `date`, `call_id` may come in any order); otherwise
    /// the columns are `file,agent[,date[,call_id]]`.
    pub fn from_bytes(bytes: &[u8]) -> std::result::Result<Manifest, String> {
        let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(bytes);
        let mut columns = [Some(0usize), Some(1), Some(2), Some(3)];
        let mut manifest = Manifest::default();
        for (row, record) in reader.byte_records().enumerate() {
            let line = row + 1;
            let record = record.map_err(|e| format!("line {line}: {e}"))?;
            let cells: Vec<String> = record
                .iter()
                .map(|c| String::from_utf8(c.to_vec()))
                .collect::<std::result::Result<_, _>>()
                .map_err(|_| format!("line {line}: not UTF-8 (save the manifest as CSV UTF-8)"))?;
            if cells.iter().all(|c| c.is_empty()) || cells[0].starts_with('#') {
                continue;
            }
            if row == 0 && cells[0].eq_ignore_ascii_case("file") {
                let find = |name: &str| cells.iter().position(|c| c.eq_ignore_ascii_case(name));
                columns = [find("file"), find("agent"), find("date"), find("call_id")];
                if columns[1].is_none() {
                    return Err("line 1: the header has no `agent` column".into());
                }
                continue;
            }
            let cell = |i: usize| {
                columns[i]
                    .and_then(|c| cells.get(c))
                    .filter(|s| !s.is_empty())
                    .cloned()
            };
            let file = cell(0).ok_or_else(|| format!("line {line}: no file name"))?;
            let agent = cell(1).ok_or_else(|| format!("line {line}: no agent for {file}"))?;
            let date = match cell(2) {
                Some(d) => Some(
                    normalize_date(&d)
                        .ok_or_else(|| format!("line {line}: `{d}` is not a date (YYYY-MM-DD)"))?,
                ),
                None => None,
            };
            let entry = ManifestEntry {
                agent,
                date,
                call_id: cell(3),
            };
            let key = normalize_path(&file);
            let name = key.rsplit('/').next().unwrap_or(&key).to_string();
            manifest
                .by_name
                .entry(name)
                .and_modify(|e| *e = None)
                .or_insert_with(|| Some(entry.clone()));
            manifest.by_path.insert(key, entry);
        }
        Ok(manifest)
    }

    /// Rows in the manifest.
    pub fn len(&self) -> usize {
        self.by_path.len()
    }

    /// True when the manifest has no rows.
    pub fn is_empty(&self) -> bool {
        self.by_path.is_empty()
    }

    /// The row of a recording: the same path, else the longest manifest path that the
    /// recording's path ends with, else the only row with its file name.
    pub fn lookup(&self, file: &str) -> Option<&ManifestEntry> {
        let key = normalize_path(file);
        if let Some(e) = self.by_path.get(&key) {
            return Some(e);
        }
        for (i, _) in key.match_indices('/') {
            if let Some(e) = self.by_path.get(&key[i + 1..]) {
                return Some(e);
            }
        }
        let name = key.rsplit('/').next().unwrap_or(&key);
        self.by_name.get(name).and_then(Option::as_ref)
    }
}

/// How agents and dates are found (`--manifest`, `--agent-pattern`).
#[derive(Debug, Clone, Default)]
pub struct IdentityRules {
    pattern: Option<Regex>,
    manifest: Option<Manifest>,
}

/// Where each call's agent came from, counted over a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityStats {
    /// Calls named by the manifest.
    pub from_manifest: usize,
    /// Calls named by the file-name pattern.
    pub from_pattern: usize,
    /// Calls named by their folder (or kept from the stored result).
    pub from_folder: usize,
    /// Files the pattern did not match (their folder name was used).
    pub pattern_misses: usize,
    /// The first of them.
    pub first_pattern_miss: Option<String>,
}

impl IdentityRules {
    /// Rules from an optional pattern (a regex with a named group `agent`, matched against
    /// the file name) and an optional manifest.
    pub fn new(pattern: Option<&str>, manifest: Option<Manifest>) -> Result<IdentityRules> {
        let pattern = match pattern {
            Some(p) => {
                let re = Regex::new(p)
                    .map_err(|e| Error::Report(format!("--agent-pattern: {}", one_line(&e))))?;
                if !re.capture_names().any(|n| n == Some("agent")) {
                    return Err(Error::Report(format!(
                        "--agent-pattern `{p}` has no group named agent, e.g. `^(?P<agent>[^_]+)_`"
                    )));
                }
                Some(re)
            }
            None => None,
        };
        Ok(IdentityRules { pattern, manifest })
    }

    /// The agent the pattern finds in a file name.
    pub fn agent_from_pattern(&self, file_name: &str) -> Option<String> {
        let caps = self.pattern.as_ref()?.captures(file_name)?;
        let agent = caps.name("agent")?.as_str().trim();
        (!agent.is_empty()).then(|| agent.to_string())
    }

    /// Sets the call's agent, date and call id. With `keep_stored`, an agent or date the
    /// result already has is kept unless the manifest (or, for the agent, the pattern)
    /// gives one.
    pub fn apply(&self, report: &mut CallReport, keep_stored: bool, stats: &mut IdentityStats) {
        let path = Path::new(&report.file);
        let entry = self.manifest.as_ref().and_then(|m| m.lookup(&report.file));
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(&report.file);
        if let Some(e) = entry {
            report.agent = Some(e.agent.clone());
            report.call_id = e.call_id.clone().or(report.call_id.take());
            stats.from_manifest += 1;
        } else if let Some(agent) = self.agent_from_pattern(file_name) {
            report.agent = Some(agent);
            stats.from_pattern += 1;
        } else {
            if self.pattern.is_some() {
                stats.pattern_misses += 1;
                if stats.first_pattern_miss.is_none() {
                    stats.first_pattern_miss = Some(report.file.clone());
                }
            }
            if !(keep_stored && report.agent.is_some()) {
                report.agent = agent_from_path(path);
            }
            stats.from_folder += 1;
        }
        let manifest_date = entry.and_then(|e| e.date.clone());
        if manifest_date.is_some() {
            report.date = manifest_date;
        } else if !(keep_stored && report.date.is_some()) {
            report.date = date_from_name(file_name).or_else(|| {
                report
                    .source
                    .as_ref()
                    .and_then(|s| s.modified_unix_ns)
                    .map(date_from_unix_ns)
            });
        }
    }
}

fn one_line(e: &regex::Error) -> String {
    e.to_string()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

fn valid_ymd(year: &str, month: &str, day: &str) -> Option<String> {
    let (y, m, d): (i64, u32, u32) = (year.parse().ok()?, month.parse().ok()?, day.parse().ok()?);
    ((1900..=2199).contains(&y) && (1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m))
        .then(|| format!("{y:04}-{m:02}-{d:02}"))
}

/// The first valid date written in a file name as `YYYY-MM-DD` (or with `_`, `.`) or
/// `YYYYMMDD` (a run of exactly eight digits), as `YYYY-MM-DD`.
pub fn date_from_name(name: &str) -> Option<String> {
    static DIGITS: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let digits = DIGITS.get_or_init(|| Regex::new(r"\d+").expect("constant regex"));
    let runs: Vec<regex::Match> = digits.find_iter(name).collect();
    for (i, run) in runs.iter().enumerate() {
        let text = run.as_str();
        if text.len() == 8 {
            if let Some(d) = valid_ymd(&text[..4], &text[4..6], &text[6..]) {
                return Some(d);
            }
        }
        if let [y, m, d] = &runs[i..(i + 3).min(runs.len())] {
            let separated = |a: &regex::Match, b: &regex::Match| {
                b.start() == a.end() + 1 && matches!(name.as_bytes()[a.end()], b'-' | b'_' | b'.')
            };
            if y.as_str().len() == 4
                && m.as_str().len() <= 2
                && d.as_str().len() <= 2
                && separated(y, m)
                && separated(m, d)
            {
                if let Some(date) = valid_ymd(y.as_str(), m.as_str(), d.as_str()) {
                    return Some(date);
                }
            }
        }
    }
    None
}

/// A date typed in a manifest (`YYYY-MM-DD`, `YYYY/MM/DD`, `YYYY.MM.DD`, `YYYYMMDD`) as
/// `YYYY-MM-DD`; `None` when it is not a valid date.
pub fn normalize_date(text: &str) -> Option<String> {
    let t = text.trim();
    let parts: Vec<&str> = t.split(['-', '/', '.', '_']).collect();
    match parts.as_slice() {
        [y, m, d] if y.len() == 4 => valid_ymd(y, m, d),
        [ymd] if ymd.len() == 8 && ymd.bytes().all(|b| b.is_ascii_digit()) => {
            valid_ymd(&ymd[..4], &ymd[4..6], &ymd[6..])
        }
        _ => None,
    }
}

/// The UTC calendar date of a time given in nanoseconds since the Unix epoch.
pub fn date_from_unix_ns(ns: u128) -> String {
    let days = (ns / 86_400_000_000_000) as i64;
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::SourceInfo;

    fn call(file: &str) -> CallReport {
        CallReport {
            file: file.into(),
            ..CallReport::default()
        }
    }

    #[test]
    fn dates_in_file_names() {
        assert_eq!(
            date_from_name("zhang_2024-04-12_0930.wav").as_deref(),
            Some("2024-04-12")
        );
        assert_eq!(
            date_from_name("call20240229x.wav").as_deref(),
            Some("2024-02-29")
        );
        assert_eq!(
            date_from_name("2023_12_31.flac").as_deref(),
            Some("2023-12-31")
        );
        // Not a leap year, month 13, and a date hidden in a longer number.
        assert_eq!(date_from_name("20230229.wav"), None);
        assert_eq!(date_from_name("2024-13-01.wav"), None);
        assert_eq!(date_from_name("id1202404121.wav"), None);
        assert_eq!(date_from_name("0412.wav"), None);
        // A bad date first, a good one later.
        assert_eq!(
            date_from_name("20249999_20240105.wav").as_deref(),
            Some("2024-01-05")
        );
    }

    #[test]
    fn manifest_dates_normalise() {
        assert_eq!(normalize_date("2024/4/2").as_deref(), Some("2024-04-02"));
        assert_eq!(normalize_date("20240402").as_deref(), Some("2024-04-02"));
        assert_eq!(normalize_date("2024-02-30"), None);
        assert_eq!(normalize_date("yesterday"), None);
    }

    #[test]
    fn unix_time_to_utc_date() {
        assert_eq!(date_from_unix_ns(0), "1970-01-01");
        // 2024-02-29T23:59:59Z and one second later.
        assert_eq!(
            date_from_unix_ns(1_709_251_199 * 1_000_000_000),
            "2024-02-29"
        );
        assert_eq!(
            date_from_unix_ns(1_709_251_200 * 1_000_000_000),
            "2024-03-01"
        );
    }

    #[test]
    fn folder_name_is_the_default_agent_and_mtime_the_date() {
        let rules = IdentityRules::default();
        let mut stats = IdentityStats::default();
        let mut r = call("recordings/张伟/0412.wav");
        r.source = Some(SourceInfo {
            size_bytes: 1,
            modified_unix_ns: Some(1_700_000_000 * 1_000_000_000),
        });
        rules.apply(&mut r, false, &mut stats);
        assert_eq!(r.agent.as_deref(), Some("张伟"));
        assert_eq!(r.date.as_deref(), Some("2023-11-14"));
        assert_eq!(stats.from_folder, 1);
    }

    #[test]
    fn pattern_names_the_agent_and_misses_fall_back() {
        let rules = IdentityRules::new(Some(r"^(?P<agent>[^_]+)_"), None).unwrap();
        let mut stats = IdentityStats::default();
        let mut r = call("in/李娜_20240105_01.wav");
        rules.apply(&mut r, false, &mut stats);
        assert_eq!(r.agent.as_deref(), Some("李娜"));
        assert_eq!(r.date.as_deref(), Some("2024-01-05"));
        let mut miss = call("in/nounderscore.wav");
        rules.apply(&mut miss, false, &mut stats);
        assert_eq!(miss.agent.as_deref(), Some("in"));
        assert_eq!(stats.from_pattern, 1);
        assert_eq!(stats.pattern_misses, 1);
        assert_eq!(
            stats.first_pattern_miss.as_deref(),
            Some("in/nounderscore.wav")
        );
    }

    #[test]
    fn pattern_without_agent_group_is_refused() {
        let e = IdentityRules::new(Some(r"^([^_]+)_"), None).unwrap_err();
        assert!(e.to_string().contains("agent"), "{e}");
        assert!(IdentityRules::new(Some(r"(?P<agent>"), None).is_err());
    }

    #[test]
    fn manifest_wins_over_pattern_and_folder() {
        let text = "\u{feff}file,agent,date,call_id\n\
                    rec/a.wav,王芳,2024/03/05,C-1\n\
                    b.wav,Bob,,\n\
                    x/dup.wav,X,,\n\
                    y/dup.wav,Y,,\n";
        let m = Manifest::from_bytes(text.as_bytes()).unwrap();
        assert_eq!(m.len(), 4);
        let rules = IdentityRules::new(Some(r"^(?P<agent>\w+)"), Some(m)).unwrap();
        let mut stats = IdentityStats::default();
        let mut a = call("/data/rec/a_20240101.wav");
        a.file = "/data/rec/a.wav".into();
        rules.apply(&mut a, false, &mut stats);
        assert_eq!(a.agent.as_deref(), Some("王芳"));
        assert_eq!(a.date.as_deref(), Some("2024-03-05"));
        assert_eq!(a.call_id.as_deref(), Some("C-1"));
        // Matched by file name; no manifest date, so the date comes from elsewhere.
        let mut b = call("deep/folder/b.wav");
        rules.apply(&mut b, false, &mut stats);
        assert_eq!(b.agent.as_deref(), Some("Bob"));
        // Two rows share the file name: the path decides.
        let mut y = call("top/y/dup.wav");
        rules.apply(&mut y, false, &mut stats);
        assert_eq!(y.agent.as_deref(), Some("Y"));
        // Ambiguous by name alone: falls to the pattern.
        let mut z = call("z/dup.wav");
        rules.apply(&mut z, false, &mut stats);
        assert_eq!(z.agent.as_deref(), Some("dup"));
        assert_eq!(stats.from_manifest, 3);
    }

    #[test]
    fn manifest_without_header_and_errors() {
        let m = Manifest::from_bytes("a.wav,Ann,20240102\n# comment\n\n".as_bytes()).unwrap();
        assert_eq!(
            m.lookup("a.wav").unwrap().date.as_deref(),
            Some("2024-01-02")
        );
        let e = Manifest::from_bytes(b"a.wav,Ann,notadate\n").unwrap_err();
        assert!(e.contains("line 1") && e.contains("notadate"), "{e}");
        let e = Manifest::from_bytes(b"a.wav\n").unwrap_err();
        assert!(e.contains("no agent"), "{e}");
        let e = Manifest::from_bytes(b"file,agent\na.wav,\xd5\xc5\n").unwrap_err();
        assert!(e.contains("UTF-8"), "{e}");
    }

    #[test]
    fn keep_stored_keeps_agent_and_date() {
        let rules = IdentityRules::default();
        let mut stats = IdentityStats::default();
        let mut r = call("folder/c_20240101.wav");
        r.agent = Some("stored".into());
        r.date = Some("2020-01-01".into());
        rules.apply(&mut r, true, &mut stats);
        assert_eq!(r.agent.as_deref(), Some("stored"));
        assert_eq!(r.date.as_deref(), Some("2020-01-01"));
        rules.apply(&mut r, false, &mut stats);
        assert_eq!(r.agent.as_deref(), Some("folder"));
        assert_eq!(r.date.as_deref(), Some("2024-01-01"));
    }
}
