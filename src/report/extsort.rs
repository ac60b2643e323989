//! External merge sort, so a report of any number of calls holds a bounded number of them:
//! records are gathered up to a byte budget, sorted (stably) and written as a run to one
//! anonymous temporary file, then the runs are merged k ways (with extra merge passes
//! when there are more than [`FAN_IN`] runs). The output equals a stable in-memory sort.
//!
//! The temporary files are anonymous (`O_TMPFILE` on Linux, created and unlinked at once
//! elsewhere, see [`tempfile::tempfile_in`]): they vanish when closed, also when the
//! process is killed, so a crash leaves nothing behind. Nothing is written to disk when
//! every record fits in the budget.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// A record that can be written to and read back from a run, exactly.
pub trait Record: Sized {
    /// Appends the record's bytes to `out`.
    fn encode(&self, out: &mut Vec<u8>);
    /// Reads a record back from the bytes [`Record::encode`] wrote.
    fn decode(bytes: &[u8]) -> io::Result<Self>;
    /// About how many bytes the record holds in memory, its heap included.
    fn memory_bytes(&self) -> usize;
}

/// Runs merged at once; more runs are first merged in groups of this many.
pub const FAN_IN: usize = 64;

/// Read buffer of each run while merging, bytes.
const READ_BUFFER: usize = 32 << 10;

/// The order of records: a plain function, so the merge heap can hold it.
pub type Compare<T> = fn(&T, &T) -> Ordering;

/// One temporary file and the runs in it (byte offset and length of each).
struct Spill {
    file: File,
    runs: Vec<(u64, u64)>,
}

/// Sorts records of any number with a bounded memory: push them, then [`Sorter::finish`].
pub struct Sorter<T: Record> {
    dir: PathBuf,
    run_bytes: usize,
    cmp: Compare<T>,
    buffer: Vec<T>,
    buffered_bytes: usize,
    spill: Option<Spill>,
    records: u64,
}

/// An error of a temporary file, naming its folder.
fn temp_error(dir: &Path, e: io::Error) -> io::Error {
    io::Error::new(
        e.kind(),
        format!("temporary file in {}: {e}", dir.display()),
    )
}

impl<T: Record> Sorter<T> {
    /// A sorter that keeps up to about `run_bytes` of records in memory (at least one
    /// record) and spills sorted runs into an anonymous file in `dir`.
    pub fn new(dir: &Path, run_bytes: usize, cmp: Compare<T>) -> Sorter<T> {
        Sorter {
            dir: dir.to_path_buf(),
            run_bytes,
            cmp,
            buffer: Vec::new(),
            buffered_bytes: 0,
            spill: None,
            records: 0,
        }
    }

    /// Records pushed so far.
    pub fn len(&self) -> u64 {
        self.records
    }

    /// True before the first record.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Runs written to disk so far.
    pub fn runs(&self) -> usize {
        self.spill.as_ref().map_or(0, |s| s.runs.len())
    }

    /// Adds one record; writes a run when the budget is reached.
    pub fn push(&mut self, record: T) -> io::Result<()> {
        self.buffered_bytes += record.memory_bytes() + std::mem::size_of::<T>();
        self.buffer.push(record);
        self.records += 1;
        if self.buffered_bytes >= self.run_bytes {
            self.write_run()?;
        }
        Ok(())
    }

    /// Sorts the buffer and appends it to the temporary file as one run.
    fn write_run(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        self.buffer.sort_by(self.cmp);
        if self.spill.is_none() {
            let file = tempfile::tempfile_in(&self.dir).map_err(|e| temp_error(&self.dir, e))?;
            self.spill = Some(Spill {
                file,
                runs: Vec::new(),
            });
        }
        let Some(spill) = self.spill.as_mut() else {
            return Ok(());
        };
        let start = spill.runs.last().map_or(0, |&(o, l)| o + l);
        let mut out = BufWriter::with_capacity(READ_BUFFER, Positioned::new(&spill.file, start));
        let mut bytes = Vec::new();
        let mut len = 0u64;
        for r in self.buffer.drain(..) {
            len += write_record(&mut out, &r, &mut bytes)?;
        }
        out.flush().map_err(|e| temp_error(&self.dir, e))?;
        spill.runs.push((start, len));
        self.buffered_bytes = 0;
        self.buffer.shrink_to(1024);
        Ok(())
    }

    /// Every record pushed, in order (ties in the order they were pushed).
    pub fn finish(mut self) -> io::Result<Sorted<T>> {
        if self.spill.is_none() {
            self.buffer.sort_by(self.cmp);
            return Ok(Sorted {
                inner: Inner::Memory(self.buffer.into_iter()),
            });
        }
        self.write_run()?;
        let Some(mut spill) = self.spill.take() else {
            return Ok(Sorted {
                inner: Inner::Memory(Vec::new().into_iter()),
            });
        };
        // More runs than can be merged at once: merge groups into a new file, again.
        while spill.runs.len() > FAN_IN {
            let file = tempfile::tempfile_in(&self.dir).map_err(|e| temp_error(&self.dir, e))?;
            let mut runs = Vec::new();
            let mut bytes = Vec::new();
            let mut start = 0u64;
            for group in spill.runs.chunks(FAN_IN) {
                let mut merge = Merge::new(&spill.file, group, self.cmp)?;
                let mut out = BufWriter::with_capacity(READ_BUFFER, Positioned::new(&file, start));
                let mut len = 0u64;
                while let Some(r) = merge.next_record(&spill.file)? {
                    len += write_record(&mut out, &r, &mut bytes)?;
                }
                out.flush().map_err(|e| temp_error(&self.dir, e))?;
                runs.push((start, len));
                start += len;
            }
            spill = Spill { file, runs };
        }
        let merge = Merge::new(&spill.file, &spill.runs, self.cmp)?;
        Ok(Sorted {
            inner: Inner::Disk {
                file: spill.file,
                merge,
            },
        })
    }
}

/// Writes one record (length, then bytes); returns the bytes written.
fn write_record<T: Record>(out: &mut impl Write, r: &T, bytes: &mut Vec<u8>) -> io::Result<u64> {
    bytes.clear();
    r.encode(bytes);
    let len = u32::try_from(bytes.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a record of 4 GB"))?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(bytes)?;
    Ok(4 + u64::from(len))
}

/// Writes at a position of a file shared with readers (no shared cursor).
struct Positioned<'a> {
    file: &'a File,
    offset: u64,
}

impl<'a> Positioned<'a> {
    fn new(file: &'a File, offset: u64) -> Positioned<'a> {
        Positioned { file, offset }
    }
}

impl Write for Positioned<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = write_at(self.file, buf, self.offset)?;
        self.offset += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(unix)]
fn write_at(file: &File, buf: &[u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::write_at(file, buf, offset)
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

#[cfg(windows)]
fn write_at(file: &File, buf: &[u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_write(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

/// Reads the records of one run, through its own buffer.
struct RunReader {
    /// Next byte of the run to read into the buffer, and the run's end.
    next: u64,
    end: u64,
    buf: Vec<u8>,
    /// Unread bytes are `buf[at..]`.
    at: usize,
}

impl RunReader {
    fn new((offset, len): (u64, u64)) -> RunReader {
        RunReader {
            next: offset,
            end: offset + len,
            buf: Vec::new(),
            at: 0,
        }
    }

    /// Makes sure `n` unread bytes are in the buffer; false at the end of the run.
    fn fill(&mut self, file: &File, n: usize) -> io::Result<bool> {
        if self.buf.len() - self.at >= n {
            return Ok(true);
        }
        self.buf.drain(..self.at);
        self.at = 0;
        let want = (n - self.buf.len()).max(READ_BUFFER);
        let want = want.min((self.end - self.next) as usize);
        let have = self.buf.len();
        self.buf.resize(have + want, 0);
        let mut got = 0;
        while got < want {
            match read_at(file, &mut self.buf[have + got..], self.next)? {
                0 => break,
                k => {
                    got += k;
                    self.next += k as u64;
                }
            }
        }
        self.buf.truncate(have + got);
        Ok(self.buf.len() >= n)
    }

    fn next_record<T: Record>(&mut self, file: &File) -> io::Result<Option<T>> {
        if self.buf.len() == self.at && self.next == self.end {
            return Ok(None);
        }
        let truncated = || io::Error::new(io::ErrorKind::UnexpectedEof, "temporary file cut short");
        if !self.fill(file, 4)? {
            return Err(truncated());
        }
        let mut len = [0u8; 4];
        len.copy_from_slice(&self.buf[self.at..self.at + 4]);
        let len = u32::from_le_bytes(len) as usize;
        if !self.fill(file, 4 + len)? {
            return Err(truncated());
        }
        let record = T::decode(&self.buf[self.at + 4..self.at + 4 + len])?;
        self.at += 4 + len;
        Ok(Some(record))
    }
}

/// The head record of a run in the merge heap (a min-heap by the order, then by run, so
/// ties keep the order of the runs, which is the order of arrival).
struct Head<T> {
    record: T,
    run: usize,
    cmp: Compare<T>,
}

impl<T> PartialEq for Head<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<T> Eq for Head<T> {}

impl<T> PartialOrd for Head<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Head<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.cmp)(&other.record, &self.record).then(other.run.cmp(&self.run))
    }
}

/// A k-way merge of runs of one file.
struct Merge<T> {
    readers: Vec<RunReader>,
    heap: BinaryHeap<Head<T>>,
}

impl<T: Record> Merge<T> {
    fn new(file: &File, runs: &[(u64, u64)], cmp: Compare<T>) -> io::Result<Merge<T>> {
        let mut readers: Vec<RunReader> = runs.iter().map(|&r| RunReader::new(r)).collect();
        let mut heap = BinaryHeap::with_capacity(readers.len());
        for (run, reader) in readers.iter_mut().enumerate() {
            if let Some(record) = reader.next_record(file)? {
                heap.push(Head { record, run, cmp });
            }
        }
        Ok(Merge { readers, heap })
    }

    fn next_record(&mut self, file: &File) -> io::Result<Option<T>> {
        let Some(head) = self.heap.pop() else {
            return Ok(None);
        };
        if let Some(record) = self.readers[head.run].next_record(file)? {
            self.heap.push(Head {
                record,
                run: head.run,
                cmp: head.cmp,
            });
        }
        Ok(Some(head.record))
    }
}

enum Inner<T> {
    Memory(std::vec::IntoIter<T>),
    Disk { file: File, merge: Merge<T> },
}

/// The sorted records, read back one at a time.
pub struct Sorted<T> {
    inner: Inner<T>,
}

impl<T: Record> Iterator for Sorted<T> {
    type Item = io::Result<T>;

    fn next(&mut self) -> Option<io::Result<T>> {
        match &mut self.inner {
            Inner::Memory(records) => records.next().map(Ok),
            Inner::Disk { file, merge } => merge.next_record(file).transpose(),
        }
    }
}

/// A sequential spool of records in an anonymous temporary file: written once, then read
/// back once in the same order.
pub struct Spool<T> {
    out: BufWriter<File>,
    len: u64,
    bytes: Vec<u8>,
    _record: std::marker::PhantomData<T>,
}

impl<T: Record> Spool<T> {
    /// An empty spool in `dir`.
    pub fn new(dir: &Path) -> io::Result<Spool<T>> {
        let file = tempfile::tempfile_in(dir).map_err(|e| temp_error(dir, e))?;
        Ok(Spool {
            out: BufWriter::with_capacity(READ_BUFFER, file),
            len: 0,
            bytes: Vec::new(),
            _record: std::marker::PhantomData,
        })
    }

    /// Appends one record.
    pub fn push(&mut self, record: &T) -> io::Result<()> {
        self.len += write_record(&mut self.out, record, &mut self.bytes)?;
        Ok(())
    }

    /// The records, from the first.
    pub fn finish(self) -> io::Result<Spooled<T>> {
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        Ok(Spooled {
            file,
            reader: RunReader::new((0, self.len)),
            _record: std::marker::PhantomData,
        })
    }
}

/// The records of a [`Spool`], read back one at a time.
pub struct Spooled<T> {
    file: File,
    reader: RunReader,
    _record: std::marker::PhantomData<T>,
}

impl<T: Record> Iterator for Spooled<T> {
    type Item = io::Result<T>;

    fn next(&mut self) -> Option<io::Result<T>> {
        self.reader.next_record(&self.file).transpose()
    }
}

/// Little helpers to encode fields of records.
pub mod bytes {
    use std::io;

    /// Appends a length-prefixed string.
    pub fn put_str(out: &mut Vec<u8>, s: &str) {
        put_u32(out, s.len() as u32);
        out.extend_from_slice(s.as_bytes());
    }

    /// Appends an optional string (a flag byte, then the string).
    pub fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
        match s {
            Some(s) => {
                out.push(1);
                put_str(out, s);
            }
            None => out.push(0),
        }
    }

    /// Appends a `u32`, little-endian.
    pub fn put_u32(out: &mut Vec<u8>, v: u32) {
        out.extend_from_slice(&v.to_le_bytes());
    }

    /// Appends a `u64`, little-endian.
    pub fn put_u64(out: &mut Vec<u8>, v: u64) {
        out.extend_from_slice(&v.to_le_bytes());
    }

    /// Appends an `f64`, bit for bit.
    pub fn put_f64(out: &mut Vec<u8>, v: f64) {
        put_u64(out, v.to_bits());
    }

    fn bad() -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, "temporary record cut short")
    }

    /// Takes `n` bytes off the front of `input`.
    pub fn take<'a>(input: &mut &'a [u8], n: usize) -> io::Result<&'a [u8]> {
        if input.len() < n {
            return Err(bad());
        }
        let (head, rest) = input.split_at(n);
        *input = rest;
        Ok(head)
    }

    /// Reads a `u8`.
    pub fn get_u8(input: &mut &[u8]) -> io::Result<u8> {
        Ok(take(input, 1)?[0])
    }

    /// Reads a `u32`.
    pub fn get_u32(input: &mut &[u8]) -> io::Result<u32> {
        let mut b = [0u8; 4];
        b.copy_from_slice(take(input, 4)?);
        Ok(u32::from_le_bytes(b))
    }

    /// Reads a `u64`.
    pub fn get_u64(input: &mut &[u8]) -> io::Result<u64> {
        let mut b = [0u8; 8];
        b.copy_from_slice(take(input, 8)?);
        Ok(u64::from_le_bytes(b))
    }

    /// Reads an `f64`.
    pub fn get_f64(input: &mut &[u8]) -> io::Result<f64> {
        Ok(f64::from_bits(get_u64(input)?))
    }

    /// Reads a length-prefixed string.
    pub fn get_str<'a>(input: &mut &'a [u8]) -> io::Result<&'a str> {
        let n = get_u32(input)? as usize;
        std::str::from_utf8(take(input, n)?)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "temporary record not UTF-8"))
    }

    /// Reads an optional string.
    pub fn get_opt_str<'a>(input: &mut &'a [u8]) -> io::Result<Option<&'a str>> {
        match get_u8(input)? {
            0 => Ok(None),
            _ => get_str(input).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record sorted by `key` only, so equal keys are ties told apart by `id`.
    #[derive(Debug, Clone, PartialEq)]
    struct Item {
        key: u32,
        id: u32,
        text: String,
    }

    impl Record for Item {
        fn encode(&self, out: &mut Vec<u8>) {
            bytes::put_u32(out, self.key);
            bytes::put_u32(out, self.id);
            bytes::put_str(out, &self.text);
        }

        fn decode(mut b: &[u8]) -> io::Result<Item> {
            let input = &mut b;
            Ok(Item {
                key: bytes::get_u32(input)?,
                id: bytes::get_u32(input)?,
                text: bytes::get_str(input)?.to_string(),
            })
        }

        fn memory_bytes(&self) -> usize {
            self.text.len()
        }
    }

    fn by_key(a: &Item, b: &Item) -> Ordering {
        a.key.cmp(&b.key)
    }

    /// Deterministic pseudo-random numbers (xorshift).
    fn numbers(seed: u64, n: usize) -> Vec<u64> {
        let mut x = seed.max(1);
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x
            })
            .collect()
    }

    #[test]
    fn equals_a_stable_in_memory_sort_for_any_run_size() {
        let dir = tempfile::tempdir().unwrap();
        for (seed, n, keys) in [
            (1, 0, 1),
            (2, 1, 1),
            (3, 500, 7),
            (4, 3000, 40),
            (5, 2000, 2000),
        ] {
            let items: Vec<Item> = numbers(seed, n)
                .into_iter()
                .enumerate()
                .map(|(id, r)| Item {
                    key: (r % keys) as u32,
                    id: id as u32,
                    // Records of different lengths, some longer than a read buffer.
                    text: "x".repeat(if r % 97 == 0 {
                        40_000
                    } else {
                        (r % 50) as usize
                    }),
                })
                .collect();
            let mut expected = items.clone();
            expected.sort_by(by_key);
            // From every record in its own run (more runs than FAN_IN: merge passes) to
            // everything in memory.
            for run_bytes in [1, 100, 4096, 1 << 16, usize::MAX] {
                let mut sorter = Sorter::new(dir.path(), run_bytes, by_key);
                for item in items.clone() {
                    sorter.push(item).unwrap();
                }
                let spilled = sorter.runs() > 0;
                if run_bytes == usize::MAX || n == 0 {
                    assert!(!spilled);
                } else if run_bytes == 1 || n >= 500 {
                    assert!(spilled, "n {n}, run size {run_bytes}");
                }
                let got: Vec<Item> = sorter.finish().unwrap().map(Result::unwrap).collect();
                assert!(got == expected, "seed {seed}, n {n}, run size {run_bytes}");
            }
        }
        // Nothing is left in the folder.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
