//! Incremental and interrupted runs of `agentvoice analyze`.
//!
//! Results land in `DIR/calls.jsonl` and `DIR/calls.csv`, each written whole to a
//! temporary file and renamed over the old one, so a reader (or a run killed at any moment)
//! sees either the previous complete files or the new complete ones. While a run works, each
//! finished recording's line is appended to `DIR/.calls.journal.jsonl` and flushed; a run
//! killed with `kill -9` leaves its finished work there, and the next run folds it into
//! `calls.jsonl` before starting. A recording already in `calls.jsonl` with the same path,
//! size and modification time is not analysed again (unless `--force`); failed ones are
//! retried. SIGINT and SIGTERM stop the run cleanly: files in progress finish, nothing new
//! starts, and the outputs are written.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context;

use agentvoice::pipeline;
use agentvoice::report::export;
use agentvoice::CallReport;

/// The results file, one JSON object per recording.
pub const JSONL_NAME: &str = "calls.jsonl";
/// The flat table, one row per recording.
pub const CSV_NAME: &str = "calls.csv";
/// Lines of finished recordings of a run in progress (or killed).
pub const JOURNAL_NAME: &str = ".calls.journal.jsonl";

/// Results kept from earlier runs, by file, in their order.
#[derive(Debug, Default)]
pub struct Previous {
    reports: Vec<CallReport>,
    index: HashMap<String, usize>,
}

impl Previous {
    /// Adds or replaces the result for `report.file`.
    fn upsert(&mut self, report: CallReport) {
        match self.index.get(&report.file) {
            Some(&i) => self.reports[i] = report,
            None => {
                self.index.insert(report.file.clone(), self.reports.len());
                self.reports.push(report);
            }
        }
    }

    /// The earlier successful result for `path`, when neither the file nor the settings
    /// (`fingerprint`, see [`pipeline::settings_fingerprint`]) have changed since.
    pub fn unchanged(&self, path: &Path, fingerprint: &str) -> Option<&CallReport> {
        let key = path.display().to_string();
        let old = &self.reports[*self.index.get(&key)?];
        let now = pipeline::source_info(path)?;
        (old.error.is_none()
            && old.source.as_ref() == Some(&now)
            && old.settings_fingerprint.as_deref() == Some(fingerprint))
        .then_some(old)
    }

    /// Number of results kept.
    pub fn len(&self) -> usize {
        self.reports.len()
    }
}

/// Reads JSON lines; a line that does not parse (a line torn by a kill) is skipped and
/// counted.
fn read_lines(path: &Path, into: &mut Previous) -> anyhow::Result<usize> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e).with_context(|| format!("{}: cannot read", path.display())),
    };
    let mut unreadable = 0;
    for line in BufReader::new(file).lines() {
        let line = line.with_context(|| format!("{}: cannot read", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<CallReport>(&line) {
            Ok(r) => into.upsert(r),
            Err(_) => unreadable += 1,
        }
    }
    Ok(unreadable)
}

/// Loads earlier results from `dir`: `calls.jsonl`, then the journal of a run that did not
/// finish. When a journal is found it is folded into `calls.jsonl` and `calls.csv` at once
/// (atomically) and removed, so the new run starts from one complete file.
pub fn recover(dir: &Path) -> anyhow::Result<Previous> {
    let mut previous = Previous::default();
    let bad = read_lines(&dir.join(JSONL_NAME), &mut previous)?;
    if bad > 0 {
        eprintln!(
            "agentvoice: {}: {bad} unreadable lines ignored",
            dir.join(JSONL_NAME).display()
        );
    }
    let journal = dir.join(JOURNAL_NAME);
    if journal.exists() {
        let before = previous.len();
        read_lines(&journal, &mut previous)?;
        eprintln!(
            "agentvoice: resuming an interrupted run: {} results recovered from {}",
            previous.len() - before,
            journal.display()
        );
        write_outputs(dir, &previous.reports)?;
        std::fs::remove_file(&journal)
            .with_context(|| format!("{}: cannot remove", journal.display()))?;
    }
    Ok(previous)
}

/// Writes `calls.jsonl` and `calls.csv`, each atomically.
pub fn write_outputs(dir: &Path, reports: &[CallReport]) -> anyhow::Result<()> {
    let jsonl = dir.join(JSONL_NAME);
    export::write_atomic(&jsonl, export::to_jsonl(reports).as_bytes())
        .with_context(|| format!("{}: cannot write", jsonl.display()))?;
    let csv = dir.join(CSV_NAME);
    let text = export::to_csv(reports).context("cannot format calls.csv")?;
    export::write_atomic(&csv, text.as_bytes())
        .with_context(|| format!("{}: cannot write", csv.display()))?;
    Ok(())
}

/// The final list: this run's inputs in input order (new results, or the kept earlier
/// ones), then earlier results for files this run was not given, in their earlier order.
pub fn merge(previous: Previous, current: Vec<CallReport>) -> Vec<CallReport> {
    let seen: HashSet<&str> = current.iter().map(|r| r.file.as_str()).collect();
    let rest: Vec<CallReport> = previous
        .reports
        .into_iter()
        .filter(|r| !seen.contains(r.file.as_str()))
        .collect();
    let mut out = current;
    out.extend(rest);
    out
}

/// Appends finished results to the journal, one flushed line each.
pub struct Journal {
    file: Mutex<File>,
    path: PathBuf,
}

impl Journal {
    /// Creates (or appends to) the journal in `dir`.
    pub fn open(dir: &Path) -> anyhow::Result<Journal> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create", dir.display()))?;
        let path = dir.join(JOURNAL_NAME);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("{}: cannot open", path.display()))?;
        Ok(Journal {
            file: Mutex::new(file),
            path,
        })
    }

    /// Appends one result as a single write of one whole line.
    pub fn append(&self, report: &CallReport) -> anyhow::Result<()> {
        let mut line = export::to_json_line(report);
        line.push('\n');
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        file.write_all(line.as_bytes())
            .and_then(|()| file.flush())
            .with_context(|| format!("{}: cannot write", self.path.display()))
    }

    /// Removes the journal once its lines are in `calls.jsonl`.
    pub fn remove(self) -> anyhow::Result<()> {
        drop(self.file);
        std::fs::remove_file(&self.path)
            .with_context(|| format!("{}: cannot remove", self.path.display()))
    }
}

/// Set when SIGINT or SIGTERM arrives: no new file starts. A second signal ends the
/// process at once.
pub struct StopFlag {
    flag: Arc<AtomicBool>,
    signal: Arc<AtomicUsize>,
}

impl StopFlag {
    /// Installs the handlers for SIGINT and SIGTERM.
    pub fn install() -> anyhow::Result<StopFlag> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let flag = Arc::new(AtomicBool::new(false));
        let signal = Arc::new(AtomicUsize::new(0));
        for sig in [SIGINT, SIGTERM] {
            // Order matters: the first signal sets the flag, the second one exits.
            signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(&flag))
                .context("cannot install the signal handler")?;
            signal_hook::flag::register(sig, Arc::clone(&flag))
                .context("cannot install the signal handler")?;
            signal_hook::flag::register_usize(sig, Arc::clone(&signal), sig as usize)
                .context("cannot install the signal handler")?;
        }
        Ok(StopFlag { flag, signal })
    }

    /// True once a stop was asked for.
    pub fn stopped(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// The exit code for the signal received (128 + its number), if any.
    pub fn exit_code(&self) -> Option<u8> {
        let sig = self.signal.load(Ordering::SeqCst);
        (self.stopped() && sig > 0).then(|| 128u8.saturating_add(sig as u8))
    }
}
