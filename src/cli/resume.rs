//! Incremental and interrupted runs of `agentvoice analyze`.
//!
//! Results land in `DIR/calls.jsonl` and `DIR/calls.csv`, each written to a temporary file
//! and renamed over the old one, so a reader (or a run killed at any moment) sees either
//! the previous complete files or the new complete ones. While a run works, each finished
//! recording's line is appended to `DIR/.calls.journal.jsonl` and flushed; a run killed
//! with `kill -9` leaves its finished work there, and the next run folds it into
//! `calls.jsonl` before starting. A recording already in `calls.jsonl` with the same path,
//! size and modification time is not analysed again (unless `--force`); failed ones are
//! retried. SIGINT and SIGTERM stop the run cleanly: files in progress finish, nothing new
//! starts, and the outputs are written.
//!
//! Memory does not hold the results: earlier results are an index of `calls.jsonl` (file,
//! place of the line, size and modification time: about 150 bytes a file), this run's
//! results are places in the journal, and the outputs are streamed from those lines one at
//! a time.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context;

use agentvoice::pipeline;
use agentvoice::report::export::{self, AtomicFile, CsvRows, JsonLines, LineReader};
use agentvoice::report::model::SourceInfo;
use agentvoice::CallReport;

/// The results file, one JSON object per recording.
pub const JSONL_NAME: &str = "calls.jsonl";
/// The flat table, one row per recording.
pub const CSV_NAME: &str = "calls.csv";
/// Lines of finished recordings of a run in progress (or killed).
pub const JOURNAL_NAME: &str = ".calls.journal.jsonl";

/// Where a line is: byte offset and length (newline included) in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// Byte offset of the line.
    pub offset: u64,
    /// Length in bytes, the newline included.
    pub len: u64,
}

/// Which file a kept line is in while an interrupted run is folded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Results,
    Journal,
}

/// What is remembered of one earlier result: where its line is, and what decides whether
/// the file must be analysed again. 48 bytes plus the path.
#[derive(Debug)]
struct Kept {
    /// Position in the earlier order (first appearance of the file).
    order: u32,
    /// Length of the line, bytes (newline included).
    len: u32,
    /// Byte offset of the line.
    offset: u64,
    /// Size and modification time (nanoseconds since the epoch, as two halves) of the
    /// file when analysed.
    size_bytes: u64,
    modified_ns: [u64; 2],
    /// [`Kept::REUSABLE`] (no error, same settings, size known), [`Kept::MODIFIED`] (the
    /// modification time is known), [`Kept::JOURNAL`] (the line is in the journal) and
    /// [`Kept::SEEN`] (given to this run, so not among the results kept after its own).
    flags: u8,
}

impl Kept {
    const REUSABLE: u8 = 1;
    const MODIFIED: u8 = 2;
    const JOURNAL: u8 = 4;
    const SEEN: u8 = 8;

    fn place(&self) -> Place {
        Place {
            offset: self.offset,
            len: u64::from(self.len),
        }
    }

    fn origin(&self) -> Origin {
        match self.flags & Kept::JOURNAL {
            0 => Origin::Results,
            _ => Origin::Journal,
        }
    }

    /// Points at a line and remembers what can be reused of it.
    fn set(&mut self, origin: Origin, place: Place, reusable: Option<SourceInfo>) {
        self.offset = place.offset;
        self.len = place.len as u32;
        self.flags &= Kept::SEEN;
        if origin == Origin::Journal {
            self.flags |= Kept::JOURNAL;
        }
        if let Some(s) = reusable {
            self.flags |= Kept::REUSABLE;
            self.size_bytes = s.size_bytes;
            if let Some(ns) = s.modified_unix_ns {
                self.flags |= Kept::MODIFIED;
                self.modified_ns = [(ns >> 64) as u64, ns as u64];
            }
        }
    }

    /// The size and modification time, when the result can be reused.
    fn reusable(&self) -> Option<SourceInfo> {
        (self.flags & Kept::REUSABLE != 0).then(|| SourceInfo {
            size_bytes: self.size_bytes,
            modified_unix_ns: (self.flags & Kept::MODIFIED != 0)
                .then(|| (u128::from(self.modified_ns[0]) << 64) | u128::from(self.modified_ns[1])),
        })
    }
}

/// Results kept from earlier runs: an index of `calls.jsonl` by file (the lines stay on
/// disk and are read again when the outputs are written).
#[derive(Debug, Default)]
pub struct Previous {
    index: HashMap<Box<str>, Kept>,
    path: PathBuf,
}

impl Previous {
    /// Adds or replaces the result for `file` (a later line replaces an earlier one and
    /// keeps its position).
    fn upsert(
        &mut self,
        file: String,
        origin: Origin,
        place: Place,
        reusable: Option<SourceInfo>,
    ) -> anyhow::Result<()> {
        if place.len > u64::from(u32::MAX) || self.index.len() >= u32::MAX as usize {
            anyhow::bail!(
                "{}: a line of 4 GB, or 4 billion lines",
                self.path.display()
            );
        }
        let order = self.index.len() as u32;
        self.index
            .entry(file.into_boxed_str())
            .or_insert(Kept {
                order,
                len: 0,
                offset: 0,
                size_bytes: 0,
                modified_ns: [0; 2],
                flags: 0,
            })
            .set(origin, place, reusable);
        Ok(())
    }

    /// Where the earlier successful result for `path` is in `calls.jsonl`, when neither the
    /// file nor the settings have changed since.
    pub fn unchanged(&self, path: &Path) -> Option<Place> {
        let kept = self.index.get(path.display().to_string().as_str())?;
        let before = kept.reusable()?;
        let now = pipeline::source_info(path)?;
        (before == now).then(|| kept.place())
    }

    /// Marks `file` as given to this run: its earlier result is not kept after this run's.
    pub fn mark_seen(&mut self, file: &str) {
        if let Some(k) = self.index.get_mut(file) {
            k.flags |= Kept::SEEN;
        }
    }

    /// The places of the earlier results for files this run was not given, in their
    /// earlier order.
    pub fn rest(&self) -> Vec<Place> {
        let mut rest: Vec<(u32, Place)> = self
            .index
            .values()
            .filter(|k| k.flags & Kept::SEEN == 0)
            .map(|k| (k.order, k.place()))
            .collect();
        rest.sort_by_key(|(order, _)| *order);
        rest.into_iter().map(|(_, p)| p).collect()
    }

    /// Number of results kept.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// A reader of the kept lines (`None` when there is no `calls.jsonl`).
    pub fn reader(&self) -> anyhow::Result<Option<LineReader>> {
        if self.index.is_empty() {
            return Ok(None);
        }
        LineReader::open(&self.path)
            .map(Some)
            .with_context(|| format!("{}: cannot read", self.path.display()))
    }
}

/// Indexes the JSON lines of `path`; a line that does not parse (a line torn by a kill)
/// is skipped and counted.
fn scan(
    path: &Path,
    origin: Origin,
    fingerprint: &str,
    into: &mut Previous,
) -> anyhow::Result<usize> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e).with_context(|| format!("{}: cannot read", path.display())),
    };
    let mut lines = JsonLines::new(BufReader::with_capacity(1 << 16, file));
    let mut unreadable = 0;
    while let Some(line) = lines
        .next_line()
        .with_context(|| format!("{}: cannot read", path.display()))?
    {
        match line.result {
            Ok(r) => {
                let reusable = r.source.filter(|_| {
                    r.error.is_none() && r.settings_fingerprint.as_deref() == Some(fingerprint)
                });
                let place = Place {
                    offset: line.offset,
                    len: line.len,
                };
                into.upsert(r.file, origin, place, reusable)?;
            }
            Err(_) => unreadable += 1,
        }
    }
    Ok(unreadable)
}

/// Loads the index of earlier results from `dir` (`fingerprint`: the settings of this
/// run, see [`pipeline::settings_fingerprint`]): `calls.jsonl`, then the journal of a run
/// that did not finish. When a journal is found it is folded into `calls.jsonl` and
/// `calls.csv` at once (atomically) and removed, so the new run starts from one complete
/// file. One line is in memory at a time.
pub fn recover(dir: &Path, fingerprint: &str) -> anyhow::Result<Previous> {
    remove_stale_temporaries(dir);
    let jsonl = dir.join(JSONL_NAME);
    let mut previous = Previous {
        path: jsonl.clone(),
        ..Previous::default()
    };
    let bad = scan(&jsonl, Origin::Results, fingerprint, &mut previous)?;
    if bad > 0 {
        eprintln!(
            "agentvoice: {}: {bad} unreadable lines ignored",
            jsonl.display()
        );
    }
    let journal = dir.join(JOURNAL_NAME);
    if journal.exists() {
        let before = previous.len();
        scan(&journal, Origin::Journal, fingerprint, &mut previous)?;
        eprintln!(
            "agentvoice: resuming an interrupted run: {} results recovered from {}",
            previous.len() - before,
            journal.display()
        );
        fold(dir, &mut previous)?;
        std::fs::remove_file(&journal)
            .with_context(|| format!("{}: cannot remove", journal.display()))?;
    }
    Ok(previous)
}

/// Removes the temporary `calls.jsonl` and `calls.csv` of runs killed while writing them
/// (`.calls.jsonl.tmp<pid>`: as large as the results); best effort.
fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let own = std::process::id().to_string();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let stale = [JSONL_NAME, CSV_NAME].iter().any(|base| {
            name.strip_prefix(&format!(".{base}.tmp"))
                .is_some_and(|pid| {
                    !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()) && pid != own
                })
        });
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Rewrites `calls.jsonl` and `calls.csv` from the kept lines (earlier results and the
/// journal's), in their order; the index then points into the new `calls.jsonl`.
fn fold(dir: &Path, previous: &mut Previous) -> anyhow::Result<()> {
    let mut order: Vec<(u32, &str)> = previous
        .index
        .iter()
        .map(|(file, k)| (k.order, &**file))
        .collect();
    order.sort_unstable();
    let files: Vec<Box<str>> = order.into_iter().map(|(_, f)| f.into()).collect();
    let mut results = match previous.path.exists() {
        true => Some(LineReader::open(&previous.path)?),
        false => None,
    };
    let journal_path = dir.join(JOURNAL_NAME);
    let mut journal = LineReader::open(&journal_path)
        .with_context(|| format!("{}: cannot read", journal_path.display()))?;
    let mut out = Outputs::create(dir)?;
    for file in files {
        let Some(kept) = previous.index.get_mut(&file) else {
            continue;
        };
        let (reader, path) = match kept.origin() {
            Origin::Results => (results.as_mut(), &previous.path),
            Origin::Journal => (Some(&mut journal), &journal_path),
        };
        let report = read_at(reader, path, kept.place())?;
        let place = out.write(&report)?;
        let reusable = kept.reusable();
        kept.set(Origin::Results, place, reusable);
    }
    drop((results, journal));
    out.commit()
}

/// The result on the line at `place` of `path`, read with `reader`.
pub fn read_at(
    reader: Option<&mut LineReader>,
    path: &Path,
    place: Place,
) -> anyhow::Result<CallReport> {
    let reader = reader
        .with_context(|| format!("{}: missing (it was there a moment ago)", path.display()))?;
    let bytes = reader
        .read(place.offset, place.len)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    export::parse_line(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{}: changed while this run was using it (line at byte {}: {e})",
            path.display(),
            place.offset
        )
    })
}

/// `calls.jsonl` and `calls.csv` being written, a result at a time, each to a temporary
/// file renamed over the old one by [`Outputs::commit`] (a run killed before leaves the old
/// files whole).
pub struct Outputs {
    jsonl: AtomicFile,
    csv: CsvRows<AtomicFile>,
    jsonl_path: PathBuf,
    csv_path: PathBuf,
    offset: u64,
}

impl Outputs {
    /// Starts both files in `dir`.
    pub fn create(dir: &Path) -> anyhow::Result<Outputs> {
        let jsonl_path = dir.join(JSONL_NAME);
        let csv_path = dir.join(CSV_NAME);
        let jsonl = AtomicFile::create(&jsonl_path)
            .with_context(|| format!("{}: cannot write", jsonl_path.display()))?;
        let csv_file = AtomicFile::create(&csv_path)
            .with_context(|| format!("{}: cannot write", csv_path.display()))?;
        let csv = CsvRows::new(csv_file)
            .with_context(|| format!("{}: cannot write", csv_path.display()))?;
        Ok(Outputs {
            jsonl,
            csv,
            jsonl_path,
            csv_path,
            offset: 0,
        })
    }

    /// Appends one result; returns where its line is in the new `calls.jsonl`.
    pub fn write(&mut self, report: &CallReport) -> anyhow::Result<Place> {
        let mut line = export::to_json_line(report);
        line.push('\n');
        self.jsonl
            .write_all(line.as_bytes())
            .with_context(|| format!("{}: cannot write", self.jsonl_path.display()))?;
        self.csv
            .write(report)
            .with_context(|| format!("{}: cannot write", self.csv_path.display()))?;
        let place = Place {
            offset: self.offset,
            len: line.len() as u64,
        };
        self.offset += place.len;
        Ok(place)
    }

    /// Puts both files in place: `calls.jsonl`, then `calls.csv`.
    pub fn commit(self) -> anyhow::Result<()> {
        let csv = self
            .csv
            .into_inner()
            .with_context(|| format!("{}: cannot write", self.csv_path.display()))?;
        self.jsonl
            .commit()
            .with_context(|| format!("{}: cannot write", self.jsonl_path.display()))?;
        csv.commit()
            .with_context(|| format!("{}: cannot write", self.csv_path.display()))
    }
}

/// Appends finished results to the journal, one flushed line each.
pub struct Journal {
    /// The file and the length written so far.
    file: Mutex<(File, u64)>,
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
        let len = file
            .metadata()
            .with_context(|| format!("{}: cannot open", path.display()))?
            .len();
        Ok(Journal {
            file: Mutex::new((file, len)),
            path,
        })
    }

    /// Appends one result as a single write of one whole line; returns where it is.
    pub fn append(&self, report: &CallReport) -> anyhow::Result<Place> {
        let mut line = export::to_json_line(report);
        line.push('\n');
        let mut guard = self
            .file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (file, len) = &mut *guard;
        match file.write_all(line.as_bytes()).and_then(|()| file.flush()) {
            Ok(()) => {
                let place = Place {
                    offset: *len,
                    len: line.len() as u64,
                };
                *len += place.len;
                Ok(place)
            }
            Err(e) => {
                // Part of the line may be there: go on from the file's real end.
                if let Ok(m) = file.metadata() {
                    *len = m.len();
                }
                Err(e).with_context(|| format!("{}: cannot write", self.path.display()))
            }
        }
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
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

#[cfg(test)]
mod tests {
    use super::*;

    fn line(file: &str, duration_s: f64, error: Option<&str>) -> String {
        let r = CallReport {
            file: file.into(),
            duration_s: Some(duration_s),
            error: error.map(Into::into),
            source: Some(SourceInfo {
                size_bytes: 10,
                modified_unix_ns: Some(1),
            }),
            settings_fingerprint: Some("fp".into()),
            ..CallReport::default()
        };
        format!("{}\n", export::to_json_line(&r))
    }

    fn results(dir: &Path) -> Vec<(String, Option<f64>)> {
        std::fs::read_to_string(dir.join(JSONL_NAME))
            .unwrap()
            .lines()
            .map(|l| {
                let r: CallReport = serde_json::from_str(l).unwrap();
                (r.file, r.duration_s)
            })
            .collect()
    }

    #[test]
    fn journal_folds_in_place_keeping_first_position_and_last_result() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // calls.jsonl with a duplicate (concatenated parts) and a torn line.
        let jsonl = [
            line("a.wav", 1.0, None),
            line("b.wav", 2.0, None),
            "{\"file\":\"torn".to_string() + "\n",
            line("a.wav", 1.5, None),
            line("c.wav", 3.0, Some("bad")),
        ]
        .concat();
        std::fs::write(d.join(JSONL_NAME), jsonl).unwrap();
        // The journal of a killed run: b again, a new d, and a torn last line.
        let journal = [line("b.wav", 2.5, None), line("d.wav", 4.0, None)].concat() + "{\"fi";
        std::fs::write(d.join(JOURNAL_NAME), journal).unwrap();

        // A killed run's half-written outputs, and a file that only looks like one.
        std::fs::write(d.join(".calls.jsonl.tmp99999999"), "{\"fi").unwrap();
        std::fs::write(d.join(".calls.csv.tmp99999999"), "file").unwrap();
        std::fs::write(d.join(".calls.jsonl.tmp-notes"), "mine").unwrap();
        let mut previous = recover(d, "fp").unwrap();
        assert!(!d.join(JOURNAL_NAME).exists());
        assert!(!d.join(".calls.jsonl.tmp99999999").exists());
        assert!(!d.join(".calls.csv.tmp99999999").exists());
        assert!(d.join(".calls.jsonl.tmp-notes").exists());
        assert_eq!(
            results(d),
            vec![
                ("a.wav".into(), Some(1.5)),
                ("b.wav".into(), Some(2.5)),
                ("c.wav".into(), Some(3.0)),
                ("d.wav".into(), Some(4.0)),
            ]
        );
        let csv = std::fs::read_to_string(d.join(CSV_NAME)).unwrap();
        assert_eq!(csv.lines().count(), 5);
        // The index points into the new file.
        let mut reader = previous.reader().unwrap();
        previous.mark_seen("b.wav");
        let rest: Vec<String> = previous
            .rest()
            .into_iter()
            .map(|p| {
                read_at(reader.as_mut(), &d.join(JSONL_NAME), p)
                    .unwrap()
                    .file
            })
            .collect();
        assert_eq!(rest, ["a.wav", "c.wav", "d.wav"]);
    }

    #[test]
    fn only_unchanged_successes_with_the_same_settings_are_reused() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let audio = d.join("x.wav");
        std::fs::write(&audio, b"0123456789").unwrap();
        let now = pipeline::source_info(&audio).unwrap();
        let r = |fp: &str, error: Option<&str>| {
            export::to_json_line(&CallReport {
                file: audio.display().to_string(),
                source: Some(now.clone()),
                settings_fingerprint: Some(fp.into()),
                error: error.map(Into::into),
                ..CallReport::default()
            }) + "\n"
        };
        std::fs::write(d.join(JSONL_NAME), r("fp", None)).unwrap();
        assert!(recover(d, "fp").unwrap().unchanged(&audio).is_some());
        assert!(recover(d, "other").unwrap().unchanged(&audio).is_none());
        std::fs::write(d.join(JSONL_NAME), r("fp", Some("bad"))).unwrap();
        assert!(recover(d, "fp").unwrap().unchanged(&audio).is_none());
        std::fs::write(d.join(JSONL_NAME), r("fp", None)).unwrap();
        std::fs::write(&audio, b"0123456789ab").unwrap();
        assert!(recover(d, "fp").unwrap().unchanged(&audio).is_none());
    }

    #[test]
    fn journal_places_read_back_the_lines() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path()).unwrap();
        let reports: Vec<CallReport> = (0..5)
            .map(|i| CallReport {
                file: format!("{i}.wav"),
                duration_s: Some(f64::from(i)),
                ..CallReport::default()
            })
            .collect();
        let places: Vec<Place> = reports.iter().map(|r| journal.append(r).unwrap()).collect();
        let mut reader = LineReader::open(journal.path()).unwrap();
        // Out of order, as parallel workers finish.
        for i in [3, 0, 4, 1, 2] {
            let back = read_at(Some(&mut reader), journal.path(), places[i]).unwrap();
            assert_eq!(back, reports[i]);
        }
        journal.remove().unwrap();
        assert!(!dir.path().join(JOURNAL_NAME).exists());
    }
}
