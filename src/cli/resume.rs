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
//! Memory does not hold the results, nor grow with their number: earlier results are an
//! index of `calls.jsonl` (file, place of the line, size and modification time) sorted by
//! file with the external sort (on disk beyond a few thousand files, see [`super::plan`]),
//! this run's results are places in the journal, and the outputs are streamed from those
//! lines one at a time.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context;

use super::plan;
use agentvoice::report::export::{self, AtomicFile, CsvRows, JsonLines, LineReader};
use agentvoice::report::extsort::{bytes, Record, Sorted, Sorter};
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

/// An earlier result: its file, its position in the earlier order (where the file first
/// appeared), its latest line, and what decides whether the file must be analysed again.
/// While the lines are sorted by file, each line is one, numbered by its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The file (`CallReport::file`).
    pub key: String,
    /// Position in the earlier order.
    pub order: u64,
    /// The latest line for the file, in `calls.jsonl`.
    pub place: Place,
    /// Size and modification time when analysed, when the result can be reused (no
    /// error, same settings, size known).
    pub reusable: Option<SourceInfo>,
    /// The line is in the journal (only while an interrupted run is folded in).
    journal: bool,
}

impl Record for Entry {
    fn encode(&self, out: &mut Vec<u8>) {
        bytes::put_str(out, &self.key);
        bytes::put_u64(out, self.order);
        out.push(u8::from(self.journal));
        plan::put_place(out, self.place);
        plan::put_source(out, self.reusable.as_ref());
    }

    fn decode(mut b: &[u8]) -> std::io::Result<Entry> {
        let input = &mut b;
        Ok(Entry {
            key: bytes::get_str(input)?.to_string(),
            order: bytes::get_u64(input)?,
            journal: bytes::get_u8(input)? != 0,
            place: plan::get_place(input)?,
            reusable: plan::get_source(input)?,
        })
    }

    fn memory_bytes(&self) -> usize {
        self.key.len()
    }
}

/// By file (a sort that keeps ties in their order: the lines of one file in file order).
fn entry_by_file(a: &Entry, b: &Entry) -> std::cmp::Ordering {
    a.key.cmp(&b.key)
}

fn entry_by_order(a: &Entry, b: &Entry) -> std::cmp::Ordering {
    a.order.cmp(&b.order)
}

/// The lines sorted by file, a file at a time: its first position and its last line (a
/// later line replaces an earlier one and keeps its position).
struct Grouped {
    lines: plan::Stream<Entry, Sorted<Entry>>,
}

impl Iterator for Grouped {
    type Item = std::io::Result<Entry>;

    fn next(&mut self) -> Option<std::io::Result<Entry>> {
        let mut last = match self.lines.next() {
            Ok(line) => line?,
            Err(e) => return Some(Err(e)),
        };
        let order = last.order;
        while self.lines.peek().is_some_and(|l| l.key == last.key) {
            match self.lines.next() {
                Ok(Some(line)) => last = line,
                Ok(None) => break,
                Err(e) => return Some(Err(e)),
            }
        }
        Some(Ok(Entry { order, ..last }))
    }
}

/// The earlier results by file, each file once.
pub type Entries = Box<dyn Iterator<Item = std::io::Result<Entry>>>;

/// Results kept from earlier runs: sorted by file (on disk beyond a few thousand; the
/// lines stay in `calls.jsonl` and are read again when the outputs are written).
pub struct Previous {
    entries: Option<Entries>,
    path: PathBuf,
    /// `calls.jsonl` holds results.
    any: bool,
}

impl Previous {
    /// The earlier results by file, each file once (they can be taken once).
    pub fn take_entries(&mut self) -> Entries {
        self.entries
            .take()
            .unwrap_or_else(|| Box::new(std::iter::empty()))
    }

    /// A reader of the kept lines (`None` when there is no `calls.jsonl` result).
    pub fn reader(&self) -> anyhow::Result<Option<LineReader>> {
        if !self.any {
            return Ok(None);
        }
        LineReader::open(&self.path)
            .map(Some)
            .with_context(|| format!("{}: cannot read", self.path.display()))
    }
}

/// Sorts the JSON lines of `path` by file (numbering them from `seq` on); a line that
/// does not parse (a line torn by a kill) is skipped and counted.
fn scan(
    path: &Path,
    journal: bool,
    fingerprint: &str,
    seq: &mut u64,
    into: &mut Sorter<Entry>,
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
                into.push(Entry {
                    key: r.file,
                    order: *seq,
                    journal,
                    place: Place {
                        offset: line.offset,
                        len: line.len,
                    },
                    reusable,
                })?;
                *seq += 1;
            }
            Err(_) => unreadable += 1,
        }
    }
    Ok(unreadable)
}

/// Loads the earlier results from `dir` (`fingerprint`: the settings of this run, see
/// [`agentvoice::pipeline::settings_fingerprint`]): `calls.jsonl`, then the journal of a run that did
/// not finish. When a journal is found it is folded into `calls.jsonl` and `calls.csv` at
/// once (atomically) and removed, so the new run starts from one complete file. One line
/// is in memory at a time, and the sorts go to disk beyond `run_bytes`.
pub fn recover(dir: &Path, fingerprint: &str, run_bytes: usize) -> anyhow::Result<Previous> {
    remove_stale_temporaries(dir);
    let jsonl = dir.join(JSONL_NAME);
    let mut lines = Sorter::new(dir, run_bytes, entry_by_file);
    let mut seq = 0;
    let bad = scan(&jsonl, false, fingerprint, &mut seq, &mut lines)?;
    if bad > 0 {
        eprintln!(
            "agentvoice: {}: {bad} unreadable lines ignored",
            jsonl.display()
        );
    }
    let results = seq;
    let journal = dir.join(JOURNAL_NAME);
    if !journal.exists() {
        let grouped = Grouped {
            lines: plan::Stream::new(lines.finish()?)?,
        };
        return Ok(Previous {
            entries: Some(Box::new(grouped)),
            path: jsonl,
            any: results > 0,
        });
    }
    scan(&journal, true, fingerprint, &mut seq, &mut lines)?;
    let grouped = Grouped {
        lines: plan::Stream::new(lines.finish()?)?,
    };
    let mut by_order = Sorter::new(dir, run_bytes, entry_by_order);
    let mut recovered = 0;
    for entry in grouped {
        let entry = entry?;
        recovered += usize::from(entry.order >= results);
        by_order.push(entry)?;
    }
    eprintln!(
        "agentvoice: resuming an interrupted run: {recovered} results recovered from {}",
        journal.display()
    );
    let any = !by_order.is_empty();
    let entries = fold(dir, &jsonl, by_order.finish()?, run_bytes)?;
    std::fs::remove_file(&journal)
        .with_context(|| format!("{}: cannot remove", journal.display()))?;
    Ok(Previous {
        entries: Some(Box::new(entries)),
        path: jsonl,
        any,
    })
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
/// journal's, `entries` in their order); returns them by file, pointing into the new
/// `calls.jsonl`.
fn fold(
    dir: &Path,
    jsonl: &Path,
    entries: Sorted<Entry>,
    run_bytes: usize,
) -> anyhow::Result<Sorted<Entry>> {
    let mut results = match jsonl.exists() {
        true => Some(LineReader::open(jsonl)?),
        false => None,
    };
    let journal_path = dir.join(JOURNAL_NAME);
    let mut journal = LineReader::open(&journal_path)
        .with_context(|| format!("{}: cannot read", journal_path.display()))?;
    let mut out = Outputs::create(dir)?;
    let mut by_file = Sorter::new(dir, run_bytes, entry_by_file);
    for entry in entries {
        let entry = entry?;
        let (reader, path) = match entry.journal {
            false => (results.as_mut(), jsonl),
            true => (Some(&mut journal), journal_path.as_path()),
        };
        let report = read_at(reader, path, entry.place)?;
        let place = out.write(&report)?;
        by_file.push(Entry {
            place,
            journal: false,
            ..entry
        })?;
    }
    drop((results, journal));
    out.commit()?;
    Ok(by_file.finish()?)
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
        // In memory, and sorted on disk a line at a time.
        for run_bytes in [usize::MAX, 1] {
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
            let mut previous = recover(d, "fp", run_bytes).unwrap();
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
            // By file, each once, in the earlier order, pointing into the new file.
            let mut reader = previous.reader().unwrap();
            let entries: Vec<Entry> = previous.take_entries().map(Result::unwrap).collect();
            let files: Vec<&str> = entries.iter().map(|e| e.key.as_str()).collect();
            assert_eq!(files, ["a.wav", "b.wav", "c.wav", "d.wav"]);
            let orders: Vec<u64> = entries.iter().map(|e| e.order).collect();
            assert!(orders.windows(2).all(|w| w[0] < w[1]), "{orders:?}");
            for e in &entries {
                let back = read_at(reader.as_mut(), &d.join(JSONL_NAME), e.place).unwrap();
                assert_eq!(back.file, e.key);
                assert_eq!(e.reusable.is_some(), e.key != "c.wav", "{}", e.key);
            }
        }
    }

    /// Whether `audio` keeps its earlier result, as a run with these settings plans it.
    fn unchanged(d: &Path, fingerprint: &str, audio: &Path) -> bool {
        let mut previous = recover(d, fingerprint, plan::RUN_BYTES).unwrap();
        let mut keys = plan::Keys::new(d, plan::RUN_BYTES);
        let found = plan::Found {
            arg: 0,
            path: audio.to_path_buf(),
        };
        keys.push_files(std::iter::once(Ok(found)), None).unwrap();
        let plan = plan::join(keys, previous.take_entries(), false, d, plan::RUN_BYTES).unwrap();
        assert_eq!(plan.kept + plan.todo, 1);
        plan.kept == 1
    }

    #[test]
    fn only_unchanged_successes_with_the_same_settings_are_reused() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let audio = d.join("x.wav");
        std::fs::write(&audio, b"0123456789").unwrap();
        let now = agentvoice::pipeline::source_info(&audio).unwrap();
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
        assert!(unchanged(d, "fp", &audio));
        assert!(!unchanged(d, "other", &audio));
        std::fs::write(d.join(JSONL_NAME), r("fp", Some("bad"))).unwrap();
        assert!(!unchanged(d, "fp", &audio));
        std::fs::write(d.join(JSONL_NAME), r("fp", None)).unwrap();
        std::fs::write(&audio, b"0123456789ab").unwrap();
        assert!(!unchanged(d, "fp", &audio));
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
