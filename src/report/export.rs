//! Exporters: `calls.jsonl` (one JSON object per recording) and `calls.csv` (one flat row
//! per recording), both written atomically (a temporary file, then a rename).

use std::io::Write;
use std::path::Path;

use serde_json::Value;

use crate::report::model::{CallReport, InteractionReport, PartyReport};

/// Writes `bytes` to `path` so that readers see either the old file or the new one whole.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes)?;
    file.commit()
}

/// One JSON line (no trailing newline).
pub fn to_json_line(report: &CallReport) -> String {
    serde_json::to_string(report).unwrap_or_else(|e| {
        format!(
            "{{\"file\":{:?},\"error\":\"cannot serialise result: {e}\"}}",
            report.file
        )
    })
}

/// All reports as JSON lines.
pub fn to_jsonl(reports: &[CallReport]) -> String {
    let mut out = String::new();
    for r in reports {
        out.push_str(&to_json_line(r));
        out.push('\n');
    }
    out
}

/// Flattens nested objects into dotted keys; arrays become compact JSON text.
pub fn flatten(value: &Value, prefix: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(v, &key, out);
            }
        }
        Value::Null => out.push((prefix.to_string(), String::new())),
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        Value::Array(_) => out.push((prefix.to_string(), value.to_string())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

/// The CSV columns: every flattened key of a fully populated report, without the long
/// per-frame lists (the rate timeline), in a fixed order.
pub fn csv_columns() -> Vec<String> {
    let full = CallReport {
        customer: Some(PartyReport::default()),
        interaction: Some(InteractionReport::default()),
        loudness: Some(Default::default()),
        speech: Some(Default::default()),
        rate: Some(Default::default()),
        pitch: Some(Default::default()),
        silence: Some(Default::default()),
        source: Some(Default::default()),
        checks: Some(
            [
                "clipping",
                "dead_air",
                "greeting_latency",
                "intonation",
                "loudness",
                "overtalk",
                "pitch",
                "response_latency",
                "speaking_rate",
            ]
            .iter()
            .map(|k| {
                (
                    k.to_string(),
                    crate::report::model::Check {
                        value: None,
                        limit: Value::Null,
                        pass: None,
                    },
                )
            })
            .collect(),
        ),
        ..CallReport::default()
    };
    let mut cells = Vec::new();
    flatten(
        &serde_json::to_value(&full).unwrap_or(Value::Null),
        "",
        &mut cells,
    );
    cells
        .into_iter()
        .map(|(k, _)| k)
        .filter(|k| !k.ends_with("rate.timeline"))
        .collect()
}

/// All reports as CSV text with a header row.
pub fn to_csv(reports: &[CallReport]) -> Result<String, csv::Error> {
    let mut w = CsvRows::new(Vec::new())?;
    for r in reports {
        w.write(r)?;
    }
    let bytes = w.into_inner()?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Writes `calls.csv` rows one report at a time (the header first), so a table of any
/// number of calls needs the memory of one row.
pub struct CsvRows<W: Write> {
    columns: Vec<String>,
    writer: csv::Writer<W>,
}

impl<W: Write> CsvRows<W> {
    /// Starts the table on `out` with its header row.
    pub fn new(out: W) -> Result<CsvRows<W>, csv::Error> {
        let columns = csv_columns();
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(&columns)?;
        Ok(CsvRows { columns, writer })
    }

    /// Appends the row of one report.
    pub fn write(&mut self, report: &CallReport) -> Result<(), csv::Error> {
        let mut cells = Vec::new();
        flatten(
            &serde_json::to_value(report).unwrap_or(Value::Null),
            "",
            &mut cells,
        );
        let row = self.columns.iter().map(|c| {
            cells
                .iter()
                .find(|(k, _)| k == c)
                .map(|(_, v)| v.as_str())
                .unwrap_or_default()
        });
        self.writer.write_record(row)
    }

    /// Flushes and returns the output.
    pub fn into_inner(self) -> Result<W, csv::Error> {
        self.writer
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))
    }
}

/// How deep below an output folder [`remove_stale_temp_files`] looks (the call pages sit
/// at `report/calls/AGENT/`).
pub const STALE_TEMP_DEPTH: usize = 3;

/// Removes the temporary files [`AtomicFile`] left in `dir` and its subfolders (to
/// `depth` levels) by runs that were killed (`.NAME.tmpPID` of a process no longer
/// running); returns how many. Where a process's life cannot be checked (not Linux),
/// nothing is removed.
pub fn remove_stale_temp_files(dir: &Path, depth: usize) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if depth > 0 {
                removed += remove_stale_temp_files(&path, depth - 1);
            }
            continue;
        }
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(temp_file_pid) else {
            continue;
        };
        if kind.is_file() && !process_is_running(pid) && std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// The name of [`AtomicFile`]'s temporary file for `name`, written by process `pid`.
fn temp_file_name(name: &str, pid: u32) -> String {
    format!(".{name}.tmp{pid}")
}

/// The process id in a name made by [`temp_file_name`].
fn temp_file_pid(name: &str) -> Option<u32> {
    let (_, pid) = name.strip_prefix('.')?.rsplit_once(".tmp")?;
    if !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// Whether process `pid` still runs (this one always does); `true` where it cannot be told.
fn process_is_running(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

/// A file written through a temporary file in the same folder and renamed over `path` by
/// [`AtomicFile::commit`]: readers (and a run killed at any moment) see the old file or
/// the new one whole. Dropped without a commit, the temporary file is removed.
pub struct AtomicFile {
    path: std::path::PathBuf,
    tmp: std::path::PathBuf,
    file: Option<std::io::BufWriter<std::fs::File>>,
}

impl AtomicFile {
    /// Starts writing the new content of `path`.
    pub fn create(path: &Path) -> std::io::Result<AtomicFile> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
        let tmp = dir.join(temp_file_name(name, std::process::id()));
        let file = std::fs::File::create(&tmp)?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            tmp,
            file: Some(std::io::BufWriter::with_capacity(1 << 16, file)),
        })
    }

    /// Flushes, syncs and renames the new content over the old.
    pub fn commit(mut self) -> std::io::Result<()> {
        if let Some(w) = self.file.take() {
            let f = w.into_inner().map_err(|e| e.into_error())?;
            f.sync_all()?;
        }
        std::fs::rename(&self.tmp, &self.path)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.file {
            Some(f) => f.write(buf),
            None => Err(std::io::Error::other("file already committed")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.file {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.is_some() || self.tmp.exists() {
            self.file = None;
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// One non-blank line of a JSON-lines file.
#[derive(Debug)]
pub struct JsonLine {
    /// Line number, from 1.
    pub number: usize,
    /// Byte offset of the line's start.
    pub offset: u64,
    /// Length in bytes, the newline included.
    pub len: u64,
    /// The result it holds, or why it is not one.
    pub result: Result<CallReport, String>,
}

/// Reads `calls.jsonl` one line at a time (memory of one line), with each line's place in
/// the file so it can be read again with [`LineReader`].
pub struct JsonLines<R: std::io::BufRead> {
    reader: R,
    offset: u64,
    number: usize,
    buf: Vec<u8>,
}

impl<R: std::io::BufRead> JsonLines<R> {
    /// Lines from `reader`, which starts at offset 0.
    pub fn new(reader: R) -> JsonLines<R> {
        JsonLines {
            reader,
            offset: 0,
            number: 0,
            buf: Vec::new(),
        }
    }

    /// The next non-blank line (a torn last line without its newline included).
    pub fn next_line(&mut self) -> std::io::Result<Option<JsonLine>> {
        loop {
            self.buf.clear();
            let n = self.reader.read_until(b'\n', &mut self.buf)? as u64;
            if n == 0 {
                return Ok(None);
            }
            let offset = self.offset;
            self.offset += n;
            self.number += 1;
            if self.buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Ok(Some(JsonLine {
                number: self.number,
                offset,
                len: n,
                result: parse_line(&self.buf),
            }));
        }
    }
}

/// A result from one line of `calls.jsonl`.
pub fn parse_line(bytes: &[u8]) -> Result<CallReport, String> {
    serde_json::from_slice::<CallReport>(bytes).map_err(|e| e.to_string())
}

/// Reads lines again by their place (offset and length, as [`JsonLine`] gives them);
/// lines read in file order need no seek.
pub struct LineReader {
    reader: std::io::BufReader<std::fs::File>,
    pos: u64,
    buf: Vec<u8>,
}

impl LineReader {
    /// Opens `path` for reading lines by place.
    pub fn open(path: &Path) -> std::io::Result<LineReader> {
        Ok(LineReader {
            reader: std::io::BufReader::with_capacity(1 << 16, std::fs::File::open(path)?),
            pos: 0,
            buf: Vec::new(),
        })
    }

    /// The line at `offset`, `len` bytes long (newline included), as bytes.
    pub fn read(&mut self, offset: u64, len: u64) -> std::io::Result<&[u8]> {
        use std::io::{Read, Seek, SeekFrom};
        if offset != self.pos {
            self.reader.seek(SeekFrom::Start(offset))?;
        }
        self.buf.resize(len as usize, 0);
        let read = self.reader.read_exact(&mut self.buf);
        if read.is_err() {
            // The place is unknown after a failed read: seek next time.
            self.pos = u64::MAX;
        } else {
            self.pos = offset + len;
        }
        read?;
        Ok(&self.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_file_names_give_their_process() {
        assert_eq!(
            temp_file_pid(&temp_file_name("calls.jsonl", 1234)),
            Some(1234)
        );
        assert_eq!(temp_file_pid(".0007.html.tmp42"), Some(42));
        assert_eq!(temp_file_pid("calls.jsonl.tmp1234"), None);
        assert_eq!(temp_file_pid(".notes.tmp"), None);
        assert_eq!(temp_file_pid(".a.tmp12x"), None);
        assert_eq!(temp_file_pid(".a.tmp99999999999"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn stale_temp_files_of_dead_runs_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let pages = dir.path().join("report/calls/agent");
        std::fs::create_dir_all(&pages).unwrap();
        // Above the kernel's largest process id (2^22), so no process has it.
        let dead = [
            dir.path().join(".calls.jsonl.tmp4999999"),
            pages.join(".0001.html.tmp4999998"),
        ];
        let kept = [
            dir.path().join("calls.jsonl"),
            dir.path()
                .join(format!(".calls.csv.tmp{}", std::process::id())),
            pages.join("0001.html"),
            pages.join(".notes.tmp"),
        ];
        for f in dead.iter().chain(&kept) {
            std::fs::write(f, b"x").unwrap();
        }
        assert_eq!(remove_stale_temp_files(dir.path(), 4), 2);
        assert!(dead.iter().all(|f| !f.exists()));
        assert!(kept.iter().all(|f| f.exists()));
        // Too deep for the depth given: left alone.
        std::fs::write(&dead[1], b"x").unwrap();
        assert_eq!(remove_stale_temp_files(dir.path(), 2), 0);
        assert!(dead[1].exists());
    }
}
