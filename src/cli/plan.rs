//! The plan of `agentvoice analyze` in a memory that does not grow with the number of files.
//!
//! Every list that has one entry per file goes through the report's external merge sort
//! ([`extsort`]): records gather in memory up to [`RUN_BYTES`], then go to disk as sorted
//! runs in anonymous temporary files of the output folder (gone when closed, also after
//! `kill -9`). Below that nothing is written to disk.
//!
//! 1. [`walk`]: the folders are searched unsorted (each directory is read as it comes, so
//!    a folder of any size is not held), and each recording found is sorted by path. A
//!    folder's sorted walk gives its files in [`Path`] order (component by component, as
//!    [`walkdir`] sorts by file name), so the input order is (argument, path), and a path
//!    named twice is dropped after its first appearance (sorted by path, then argument).
//!    `--shard` takes every N-th of the same sorted, distinct paths.
//! 2. [`Keys`]: the inputs (and the paths that could not be searched) sorted by the name
//!    the results use (`file`, the path as displayed), and [`join`]ed by merging with the
//!    earlier results ([`super::resume::Previous`], sorted by the same name): each input
//!    gets its [`Planned`] slot (kept or to analyse), sorted back into input order.
//! 3. [`run`]: the slots in input order; the files to analyse are handed out in chunks,
//!    and what became of each input goes to a [`Fifo`] in input order.
//! 4. The earlier results of files not given to this run ([`Earlier`]) are sorted back
//!    into their earlier order, and come last.

use std::cmp::Ordering;
use std::io;
use std::path::{Path, PathBuf};

use agentvoice::pipeline;
use agentvoice::report::extsort::{bytes, Record, Sorted, Sorter, Spool, Spooled};
use agentvoice::report::model::SourceInfo;
use agentvoice::CallReport;

use super::batch::Shard;
use super::resume::{Entry, Place};

/// Bytes of records held in memory by each sort before it writes a run to disk.
pub const RUN_BYTES: usize = 1 << 20;

/// Files handed to the workers at once (at most; fewer when their paths are long).
pub const CHUNK_FILES: usize = 4096;

// Helpers to encode the fields of the records.

use bytes::{get_u64, put_u64};

/// A line's place (offset, then length).
pub fn put_place(out: &mut Vec<u8>, p: Place) {
    put_u64(out, p.offset);
    put_u64(out, p.len);
}

/// What [`put_place`] wrote.
pub fn get_place(input: &mut &[u8]) -> io::Result<Place> {
    Ok(Place {
        offset: get_u64(input)?,
        len: get_u64(input)?,
    })
}

/// A path as it is (its bytes, on Unix; elsewhere as text).
pub fn put_path(out: &mut Vec<u8>, path: &Path) {
    #[cfg(unix)]
    let b = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str());
    #[cfg(not(unix))]
    let text = path.to_string_lossy();
    #[cfg(not(unix))]
    let b = text.as_bytes();
    bytes::put_u32(out, b.len() as u32);
    out.extend_from_slice(b);
}

/// A path written by [`put_path`].
pub fn get_path(input: &mut &[u8]) -> io::Result<PathBuf> {
    let n = bytes::get_u32(input)? as usize;
    let b = bytes::take(input, n)?;
    #[cfg(unix)]
    let path = PathBuf::from(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b));
    #[cfg(not(unix))]
    let path = PathBuf::from(String::from_utf8_lossy(b).into_owned());
    Ok(path)
}

/// Bytes of a path in memory.
fn path_bytes(path: &Path) -> usize {
    path.as_os_str().len()
}

/// An earlier result's size and modification time.
pub fn put_source(out: &mut Vec<u8>, s: Option<&SourceInfo>) {
    match s {
        None => out.push(0),
        Some(s) => {
            out.push(1 + u8::from(s.modified_unix_ns.is_some()));
            put_u64(out, s.size_bytes);
            let ns = s.modified_unix_ns.unwrap_or(0);
            put_u64(out, (ns >> 64) as u64);
            put_u64(out, ns as u64);
        }
    }
}

/// What [`put_source`] wrote.
pub fn get_source(input: &mut &[u8]) -> io::Result<Option<SourceInfo>> {
    let flag = bytes::get_u8(input)?;
    if flag == 0 {
        return Ok(None);
    }
    let size_bytes = get_u64(input)?;
    let ns = (u128::from(get_u64(input)?) << 64) | u128::from(get_u64(input)?);
    Ok(Some(SourceInfo {
        size_bytes,
        modified_unix_ns: (flag == 2).then_some(ns),
    }))
}

/// Reads sorted records one ahead, so runs of equal keys can be taken together.
pub struct Stream<T, I: Iterator<Item = io::Result<T>>> {
    iter: I,
    head: Option<T>,
}

impl<T, I: Iterator<Item = io::Result<T>>> Stream<T, I> {
    /// Reads the first record.
    pub fn new(mut iter: I) -> io::Result<Stream<T, I>> {
        let head = iter.next().transpose()?;
        Ok(Stream { iter, head })
    }

    /// The next record, not taken.
    pub fn peek(&self) -> Option<&T> {
        self.head.as_ref()
    }

    /// Takes the next record.
    pub fn next(&mut self) -> io::Result<Option<T>> {
        let head = self.head.take();
        if head.is_some() {
            self.head = self.iter.next().transpose()?;
        }
        Ok(head)
    }
}

/// Records kept in the order they come: in memory up to a byte budget, then all of them
/// in an anonymous temporary file.
pub struct Fifo<T: Record> {
    dir: PathBuf,
    budget: usize,
    memory: Vec<T>,
    bytes: usize,
    spool: Option<Spool<T>>,
}

impl<T: Record> Fifo<T> {
    /// An empty queue whose file (if it needs one) goes in `dir`.
    pub fn new(dir: &Path, budget: usize) -> Fifo<T> {
        Fifo {
            dir: dir.to_path_buf(),
            budget,
            memory: Vec::new(),
            bytes: 0,
            spool: None,
        }
    }

    /// Appends one record.
    pub fn push(&mut self, record: T) -> io::Result<()> {
        if let Some(spool) = &mut self.spool {
            return spool.push(&record);
        }
        self.bytes += record.memory_bytes() + std::mem::size_of::<T>();
        self.memory.push(record);
        if self.bytes >= self.budget {
            let mut spool = Spool::new(&self.dir)?;
            for r in self.memory.drain(..) {
                spool.push(&r)?;
            }
            self.memory = Vec::new();
            self.spool = Some(spool);
        }
        Ok(())
    }

    /// True once the records went to disk.
    #[cfg(test)]
    pub fn spilled(&self) -> bool {
        self.spool.is_some()
    }

    /// The records, from the first.
    pub fn finish(self) -> io::Result<FifoIter<T>> {
        Ok(match self.spool {
            Some(spool) => FifoIter::Disk(spool.finish()?),
            None => FifoIter::Memory(self.memory.into_iter()),
        })
    }
}

/// The records of a [`Fifo`], read back one at a time.
pub enum FifoIter<T> {
    /// All in memory.
    Memory(std::vec::IntoIter<T>),
    /// From the temporary file.
    Disk(Spooled<T>),
}

impl<T: Record> Iterator for FifoIter<T> {
    type Item = io::Result<T>;

    fn next(&mut self) -> Option<io::Result<T>> {
        match self {
            FifoIter::Memory(records) => records.next().map(Ok),
            FifoIter::Disk(records) => records.next(),
        }
    }
}

/// A recording found while searching the inputs: which argument named it (0-based), and
/// its path.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The argument (its position on the command line; 0 for all with `--shard`).
    pub arg: u32,
    /// The path, as searching found it.
    pub path: PathBuf,
}

impl Record for Found {
    fn encode(&self, out: &mut Vec<u8>) {
        bytes::put_u32(out, self.arg);
        put_path(out, &self.path);
    }

    fn decode(mut b: &[u8]) -> io::Result<Found> {
        Found::take(&mut b)
    }

    fn memory_bytes(&self) -> usize {
        path_bytes(&self.path)
    }
}

impl Found {
    /// Reads a record off the front of `input`.
    fn take(input: &mut &[u8]) -> io::Result<Found> {
        Ok(Found {
            arg: bytes::get_u32(input)?,
            path: get_path(input)?,
        })
    }
}

/// By path (a path named twice is then found side by side, its first appearance first).
fn by_path(a: &Found, b: &Found) -> Ordering {
    a.path.cmp(&b.path).then(a.arg.cmp(&b.arg))
}

/// A path that could not be searched, and where it goes among the others.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The argument it came from.
    pub arg: u32,
    /// Its place in the argument's sorted walk: a path, and whether it comes just after
    /// that folder (an error reading a folder's list, which names no path).
    pub at: PathBuf,
    /// See `at`.
    pub in_folder: bool,
    /// The path named in the outputs.
    pub path: PathBuf,
    /// What went wrong, one line.
    pub reason: String,
}

impl Record for Problem {
    fn encode(&self, out: &mut Vec<u8>) {
        bytes::put_u32(out, self.arg);
        put_path(out, &self.at);
        out.push(u8::from(self.in_folder));
        put_path(out, &self.path);
        bytes::put_str(out, &self.reason);
    }

    fn decode(mut b: &[u8]) -> io::Result<Problem> {
        let input = &mut b;
        Ok(Problem {
            arg: bytes::get_u32(input)?,
            at: get_path(input)?,
            in_folder: bytes::get_u8(input)? != 0,
            path: get_path(input)?,
            reason: bytes::get_str(input)?.to_string(),
        })
    }

    fn memory_bytes(&self) -> usize {
        path_bytes(&self.at) + path_bytes(&self.path) + self.reason.len()
    }
}

/// The order in which a sorted walk meets the problems.
fn by_walk(a: &Problem, b: &Problem) -> Ordering {
    a.arg
        .cmp(&b.arg)
        .then_with(|| a.at.cmp(&b.at))
        .then(a.in_folder.cmp(&b.in_folder))
}

/// The inputs as searched: recordings by path, problems in input order.
pub struct Walked {
    /// Recordings, to be sorted by path.
    pub found: Sorter<Found>,
    /// Paths that could not be searched, to be sorted in input order.
    pub problems: Sorter<Problem>,
}

/// Searches the inputs, as [`pipeline::collect_inputs`] does (files as given, folders
/// recursively following symbolic links but never around a loop, audio extensions only),
/// without holding the list: sorts go to `dir` beyond `run_bytes`. The problems come in
/// the same order too, except errors that name no path other than an error reading a
/// folder's list (a link whose target cannot be opened to check for a loop, a race):
/// those go first in their folder rather than at their entry.
pub fn walk(paths: &[PathBuf], dir: &Path, run_bytes: usize) -> io::Result<Walked> {
    let mut found = Sorter::new(dir, run_bytes, by_path);
    let mut problems = Sorter::new(dir, run_bytes, by_walk);
    for (arg, path) in paths.iter().enumerate() {
        let arg = u32::try_from(arg).unwrap_or(u32::MAX);
        let problem = |at: &Path, in_folder: bool, p: PathBuf, reason: String| Problem {
            arg,
            at: at.to_path_buf(),
            in_folder,
            path: p,
            reason,
        };
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => {
                problems.push(problem(path, false, path.clone(), pipeline::io_reason(&e)))?;
                continue;
            }
        };
        if !meta.is_dir() {
            found.push(Found {
                arg,
                path: path.clone(),
            })?;
            continue;
        }
        // The folder being read at each depth: an error reading a folder's list names no
        // path, and a sorted walk gives it first in that folder.
        let mut folders: Vec<PathBuf> = Vec::new();
        for entry in walkdir::WalkDir::new(path).follow_links(true) {
            match entry {
                Ok(e) if e.file_type().is_dir() => {
                    folders.truncate(e.depth());
                    folders.push(e.into_path());
                }
                Ok(e) if e.file_type().is_file() && pipeline::has_audio_extension(e.path()) => {
                    found.push(Found {
                        arg,
                        path: e.into_path(),
                    })?
                }
                Ok(_) => {}
                Err(e) => {
                    let reason = if e.loop_ancestor().is_some() {
                        "symbolic link loop, skipped".to_string()
                    } else if let Some(io) = e.io_error() {
                        pipeline::io_reason(io)
                    } else {
                        e.to_string()
                    };
                    let p = match e.path() {
                        Some(p) => {
                            problems.push(problem(p, false, p.to_path_buf(), reason))?;
                            continue;
                        }
                        None => path.clone(),
                    };
                    let folder = e.depth().checked_sub(1).and_then(|d| folders.get(d));
                    let (at, in_folder) = folder.map_or((path, false), |f| (f, true));
                    problems.push(problem(at, in_folder, p, reason))?;
                }
            }
        }
    }
    Ok(Walked { found, problems })
}

/// The name results use for a path (`CallReport::file`).
pub fn file_name_of(path: &Path) -> String {
    path.display().to_string()
}

/// An input or a path that could not be searched, by the name results use.
#[derive(Debug, Clone, PartialEq)]
pub struct Keyed {
    /// The name (`file` of its result).
    pub key: String,
    /// The input (argument and path); `None` for a path that could not be searched.
    pub input: Option<Found>,
}

impl Record for Keyed {
    fn encode(&self, out: &mut Vec<u8>) {
        bytes::put_str(out, &self.key);
        match &self.input {
            Some(f) => {
                out.push(1);
                f.encode(out);
            }
            None => out.push(0),
        }
    }

    fn decode(mut b: &[u8]) -> io::Result<Keyed> {
        let input = &mut b;
        let key = bytes::get_str(input)?.to_string();
        let found = match bytes::get_u8(input)? {
            0 => None,
            _ => Some(Found::take(input)?),
        };
        Ok(Keyed { key, input: found })
    }

    fn memory_bytes(&self) -> usize {
        self.key.len() + self.input.as_ref().map_or(0, Record::memory_bytes)
    }
}

fn by_key(a: &Keyed, b: &Keyed) -> Ordering {
    a.key.cmp(&b.key)
}

/// The inputs and problems by name, ready to [`join`] with the earlier results.
pub struct Keys {
    sorter: Sorter<Keyed>,
}

impl Keys {
    /// An empty sort in `dir`.
    pub fn new(dir: &Path, run_bytes: usize) -> Keys {
        Keys {
            sorter: Sorter::new(dir, run_bytes, by_key),
        }
    }

    /// A path that could not be searched: an earlier result by its name is not kept
    /// after this run's.
    pub fn push_problem(&mut self, p: &Problem) -> io::Result<()> {
        self.sorter.push(Keyed {
            key: file_name_of(&p.path),
            input: None,
        })
    }

    /// The recordings found, each path once (where it first appears), or this run's
    /// shard of them.
    pub fn push_files(
        &mut self,
        found: impl Iterator<Item = io::Result<Found>>,
        shard: Option<Shard>,
    ) -> io::Result<()> {
        let mut last: Option<PathBuf> = None;
        let mut position = 0;
        for f in found {
            let mut f = f?;
            if last.as_deref() == Some(f.path.as_path()) {
                continue;
            }
            last = Some(f.path.clone());
            if let Some(shard) = shard {
                let mine = shard.takes(position);
                position += 1;
                if !mine {
                    continue;
                }
                // A shard's inputs come in sorted order, whichever argument named them.
                f.arg = 0;
            }
            self.sorter.push(Keyed {
                key: file_name_of(&f.path),
                input: Some(f),
            })?;
        }
        Ok(())
    }
}

/// An earlier result reused for an input this run: what it needs if the input is not
/// analysed after all (a stopped run keeps the earlier result after its own).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pending {
    /// Position of the earlier result in the earlier order.
    pub order: u64,
    /// Its line in `calls.jsonl`.
    pub place: Place,
    /// Other inputs have the same name (paths that display alike).
    pub shared: bool,
}

/// What to do with one input.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// Unchanged since an earlier run: its line in the old `calls.jsonl`.
    Kept(Place),
    /// To analyse; the earlier result by its name, if there is one.
    Todo(Option<Pending>),
}

/// One input with what to do with it, sorted in input order.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// The input.
    pub input: Found,
    /// What to do.
    pub kind: Kind,
}

impl Record for Planned {
    fn encode(&self, out: &mut Vec<u8>) {
        self.input.encode(out);
        match self.kind {
            Kind::Kept(place) => {
                out.push(0);
                put_place(out, place);
            }
            Kind::Todo(None) => out.push(1),
            Kind::Todo(Some(p)) => {
                out.push(2 + u8::from(p.shared));
                put_u64(out, p.order);
                put_place(out, p.place);
            }
        }
    }

    fn decode(mut b: &[u8]) -> io::Result<Planned> {
        let input = &mut b;
        let found = Found::take(input)?;
        let kind = match bytes::get_u8(input)? {
            0 => Kind::Kept(get_place(input)?),
            1 => Kind::Todo(None),
            k => Kind::Todo(Some(Pending {
                shared: k == 3,
                order: get_u64(input)?,
                place: get_place(input)?,
            })),
        };
        Ok(Planned { input: found, kind })
    }

    fn memory_bytes(&self) -> usize {
        self.input.memory_bytes()
    }
}

/// The input order: by argument, then path (a folder's sorted walk).
fn by_input(a: &Planned, b: &Planned) -> Ordering {
    a.input
        .arg
        .cmp(&b.input.arg)
        .then_with(|| a.input.path.cmp(&b.input.path))
}

/// An earlier result that may be kept after this run's: its place in the earlier order
/// and in `calls.jsonl`, and whether an input of this run was given it after all.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Earlier {
    /// Position in the earlier order.
    pub order: u64,
    /// The line.
    pub place: Place,
    /// Given to this run (so not kept after it).
    pub seen: bool,
}

impl Record for Earlier {
    fn encode(&self, out: &mut Vec<u8>) {
        put_u64(out, self.order);
        put_place(out, self.place);
        out.push(u8::from(self.seen));
    }

    fn decode(mut b: &[u8]) -> io::Result<Earlier> {
        let input = &mut b;
        Ok(Earlier {
            order: get_u64(input)?,
            place: get_place(input)?,
            seen: bytes::get_u8(input)? != 0,
        })
    }

    fn memory_bytes(&self) -> usize {
        0
    }
}

fn by_order(a: &Earlier, b: &Earlier) -> Ordering {
    a.order.cmp(&b.order)
}

/// The plan: every input's slot in input order, and the earlier results that may be kept.
pub struct Plan {
    /// The inputs in input order.
    pub slots: Sorted<Planned>,
    /// Inputs to analyse.
    pub todo: usize,
    /// Inputs whose earlier result is reused.
    pub kept: usize,
    /// Earlier results not given to this run so far (more come while analysing).
    pub earlier: Sorter<Earlier>,
    /// Where temporary files go, and how large the runs are.
    dir: PathBuf,
    run_bytes: usize,
}

/// Merges the inputs and problems (by name) with the earlier results (by name, each name
/// once, as [`super::resume::recover`] gives them): an input whose earlier result is a success
/// with this run's settings, and whose size and modification time are unchanged, keeps
/// it (unless `force`); the others are analysed. Earlier results of names not given to
/// this run are kept after this run's.
pub fn join(
    keys: Keys,
    previous: impl Iterator<Item = io::Result<Entry>>,
    force: bool,
    dir: &Path,
    run_bytes: usize,
) -> io::Result<Plan> {
    let mut keys = Stream::new(keys.sorter.finish()?)?;
    let mut previous = Stream::new(previous)?;
    let mut slots = Sorter::new(dir, run_bytes, by_input);
    let mut earlier = Sorter::new(dir, run_bytes, by_order);
    let (mut todo, mut kept) = (0, 0);
    let mut group: Vec<(Found, Option<Place>)> = Vec::new();
    loop {
        let key = match (keys.peek(), previous.peek()) {
            (None, None) => break,
            (Some(k), None) => k.key.clone(),
            (None, Some(e)) => e.key.clone(),
            (Some(k), Some(e)) => k.key.as_str().min(e.key.as_str()).to_string(),
        };
        let entry = match previous.peek() {
            Some(e) if e.key == key => previous.next()?,
            _ => None,
        };
        let reusable = entry
            .as_ref()
            .filter(|_| !force)
            .and_then(|e| Some((e.reusable.as_ref()?, e.place)));
        let mut problem = false;
        while keys.peek().is_some_and(|k| k.key == key) {
            let Some(k) = keys.next()? else { break };
            match k.input {
                Some(input) => {
                    let place = reusable.and_then(|(before, place)| {
                        (pipeline::source_info(&input.path).as_ref() == Some(before))
                            .then_some(place)
                    });
                    group.push((input, place));
                }
                None => problem = true,
            }
        }
        let any_kept = group.iter().any(|(_, place)| place.is_some());
        let to_do = group.len() - group.iter().filter(|(_, p)| p.is_some()).count();
        let pending = entry
            .as_ref()
            .filter(|_| !any_kept && !problem)
            .map(|e| Pending {
                order: e.order,
                place: e.place,
                shared: to_do > 1,
            });
        if let (Some(p), true) = (pending, group.is_empty()) {
            earlier.push(Earlier {
                order: p.order,
                place: p.place,
                seen: false,
            })?;
        }
        for (input, place) in group.drain(..) {
            let kind = match place {
                Some(place) => {
                    kept += 1;
                    Kind::Kept(place)
                }
                None => {
                    todo += 1;
                    Kind::Todo(pending)
                }
            };
            slots.push(Planned { input, kind })?;
        }
    }
    Ok(Plan {
        slots: slots.finish()?,
        todo,
        kept,
        earlier,
        dir: dir.to_path_buf(),
        run_bytes,
    })
}

/// What became of a file handed to the workers.
pub enum Analysed {
    /// Its line is in the journal.
    Journaled(Place),
    /// The journal could not take it: held in memory.
    Held(Box<CallReport>),
}

/// What became of one input, in input order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Done {
    /// Unchanged since an earlier run: its line in the old `calls.jsonl`.
    Kept(Place),
    /// Analysed now: its line in the journal.
    Journaled(Place),
    /// Analysed now, held in memory (see [`Outcome::held`]).
    Held(u32),
    /// Not analysed (the run was stopped first).
    Stopped,
}

impl Record for Done {
    fn encode(&self, out: &mut Vec<u8>) {
        match *self {
            Done::Kept(p) => {
                out.push(0);
                put_place(out, p);
            }
            Done::Journaled(p) => {
                out.push(1);
                put_place(out, p);
            }
            Done::Held(i) => {
                out.push(2);
                bytes::put_u32(out, i);
            }
            Done::Stopped => out.push(3),
        }
    }

    fn decode(mut b: &[u8]) -> io::Result<Done> {
        let input = &mut b;
        Ok(match bytes::get_u8(input)? {
            0 => Done::Kept(get_place(input)?),
            1 => Done::Journaled(get_place(input)?),
            2 => Done::Held(bytes::get_u32(input)?),
            _ => Done::Stopped,
        })
    }

    fn memory_bytes(&self) -> usize {
        0
    }
}

/// What a run did: every input's result in input order, and the earlier results kept
/// after them.
pub struct Outcome {
    /// Each input's result, in input order.
    pub done: FifoIter<Done>,
    /// Results the journal could not take.
    pub held: Vec<CallReport>,
    /// Places of the earlier results of files this run was not given (or did not get to),
    /// in their earlier order.
    pub rest: Rest,
    /// Inputs not analysed because the run was stopped.
    pub not_done: usize,
}

/// Goes over the inputs in input order, handing the files to analyse to `analyse` in
/// chunks (it returns one result per path, `None` for a file it did not get to), and
/// gathers what became of each.
pub fn run(
    plan: Plan,
    chunk_files: usize,
    mut analyse: impl FnMut(&[&Path]) -> Vec<Option<Analysed>>,
) -> io::Result<Outcome> {
    let Plan {
        mut slots,
        mut earlier,
        dir,
        run_bytes,
        ..
    } = plan;
    let mut done = Fifo::new(&dir, run_bytes);
    let mut held = Vec::new();
    let mut not_done = 0;
    let mut chunk: Vec<Planned> = Vec::new();
    let (mut chunk_todo, mut chunk_bytes) = (0, 0);
    loop {
        let next = slots.next().transpose()?;
        if let Some(p) = next {
            chunk_todo += usize::from(matches!(p.kind, Kind::Todo(_)));
            chunk_bytes += p.memory_bytes() + std::mem::size_of::<Planned>();
            chunk.push(p);
            if chunk_todo < chunk_files.max(1) && chunk_bytes < run_bytes {
                continue;
            }
        }
        if chunk.is_empty() {
            break;
        }
        let paths: Vec<&Path> = chunk
            .iter()
            .filter(|p| matches!(p.kind, Kind::Todo(_)))
            .map(|p| p.input.path.as_path())
            .collect();
        let mut results = if paths.is_empty() {
            Vec::new()
        } else {
            analyse(&paths)
        }
        .into_iter();
        drop(paths);
        for p in chunk.drain(..) {
            let pending = match p.kind {
                Kind::Kept(place) => {
                    done.push(Done::Kept(place))?;
                    continue;
                }
                Kind::Todo(pending) => pending,
            };
            let result = match results.next().flatten() {
                Some(Analysed::Journaled(place)) => Done::Journaled(place),
                Some(Analysed::Held(r)) => {
                    held.push(*r);
                    Done::Held((held.len() - 1) as u32)
                }
                None => {
                    not_done += 1;
                    Done::Stopped
                }
            };
            // An input not analysed keeps its earlier result after this run's; when
            // several inputs share the name, one analysed is enough to replace it.
            if let Some(e) = pending {
                let finished = result != Done::Stopped;
                if !finished || e.shared {
                    earlier.push(Earlier {
                        order: e.order,
                        place: e.place,
                        seen: finished,
                    })?;
                }
            }
            done.push(result)?;
        }
        (chunk_todo, chunk_bytes) = (0, 0);
    }
    Ok(Outcome {
        done: done.finish()?,
        held,
        rest: Rest {
            earlier: Stream::new(earlier.finish()?)?,
        },
        not_done,
    })
}

/// The places of the earlier results kept after this run's, in their earlier order.
pub struct Rest {
    earlier: Stream<Earlier, Sorted<Earlier>>,
}

impl Iterator for Rest {
    type Item = io::Result<Place>;

    fn next(&mut self) -> Option<io::Result<Place>> {
        loop {
            let first = match self.earlier.next() {
                Ok(Some(e)) => e,
                Ok(None) => return None,
                Err(e) => return Some(Err(e)),
            };
            let mut seen = first.seen;
            while self.earlier.peek().is_some_and(|e| e.order == first.order) {
                match self.earlier.next() {
                    Ok(Some(e)) => seen |= e.seen,
                    Ok(None) => break,
                    Err(e) => return Some(Err(e)),
                }
            }
            if !seen {
                return Some(Ok(first.place));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use agentvoice::report::export;

    use super::super::resume;
    use super::*;

    /// Every path a test tree is searched with, and its output folder.
    struct Tree {
        _dir: tempfile::TempDir,
        root: PathBuf,
        out: PathBuf,
    }

    fn touch(path: &Path, size: usize) {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(path, vec![b'x'; size]).unwrap();
    }

    /// Folders and files whose walk order is not the order of their paths as text
    /// (`a/x` before `a.wav`), names in any case and script, links to folders, to
    /// nowhere and around a loop.
    fn tree(extra_files: usize) -> Tree {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("in");
        let r = &root;
        for (i, name) in [
            "a/x.wav",
            "a.wav",
            "a.b/y.wav",
            "a/c/d/z.WAV",
            "a/c/notes.txt",
            "b/ä.flac",
            "b/B.mp3",
            "b/-.wav",
            "b/b.wave",
            "c/ignored.ogg",
        ]
        .iter()
        .enumerate()
        {
            touch(&r.join(name), 10 + i);
        }
        for i in 0..extra_files {
            touch(
                &r.join(format!("many/{:02}/call_{i:04}.wav", i % 7)),
                20 + i % 5,
            );
        }
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            use std::os::unix::fs::symlink;
            symlink(r.join("a"), r.join("link_to_a")).unwrap();
            symlink(r.join("nowhere.wav"), r.join("b/broken.wav")).unwrap();
            symlink(r.join("a"), r.join("a/c/up")).unwrap();
            // Two names that display alike (not UTF-8): one name in the results.
            for b in [&b"b/\xff.wav"[..], b"b/\xfe.wav"] {
                touch(&r.join(std::ffi::OsStr::from_bytes(b)), 7);
            }
        }
        let out = dir.path().join("out");
        std::fs::create_dir_all(&out).unwrap();
        Tree {
            root: root.clone(),
            out,
            _dir: dir,
        }
    }

    /// The arguments of the runs: folders, a file also in a folder, a missing path, a
    /// folder given twice (once spelled differently), a folder inside another.
    fn arguments(t: &Tree) -> Vec<PathBuf> {
        let r = &t.root;
        vec![
            r.join("b"),
            r.join("a.b/y.wav"),
            r.to_path_buf(),
            r.join("missing.wav"),
            PathBuf::from(format!("{}/", r.join("a").display())),
            r.join("b"),
            r.join("a.wav"),
        ]
    }

    /// What a run of the plan gives, with the files handed out for analysis.
    #[derive(Debug, PartialEq)]
    struct Ran {
        outputs: Vec<String>,
        problems: Vec<(PathBuf, String)>,
        handed: Vec<PathBuf>,
        kept: usize,
        todo: usize,
    }

    /// The plan end to end as `analyze` runs it, with a pretend analysis that journals
    /// nothing and does not get to the files in `stopped`.
    fn ran(
        args: &[PathBuf],
        out: &Path,
        shard: Option<Shard>,
        force: bool,
        stopped: &HashSet<PathBuf>,
        run_bytes: usize,
        chunk: usize,
    ) -> Ran {
        let walked = walk(args, out, run_bytes).unwrap();
        let mut keys = Keys::new(out, run_bytes);
        let mut problems = Fifo::new(out, run_bytes);
        let mut listed = Vec::new();
        for p in walked.problems.finish().unwrap() {
            let p = p.unwrap();
            keys.push_problem(&p).unwrap();
            listed.push((p.path.clone(), p.reason.clone()));
            problems.push(p).unwrap();
        }
        keys.push_files(walked.found.finish().unwrap(), shard)
            .unwrap();
        let mut previous = resume::recover(out, "fp", run_bytes).unwrap();
        let plan = join(keys, previous.take_entries(), force, out, run_bytes).unwrap();
        let (kept, todo) = (plan.kept, plan.todo);
        let mut handed: Vec<PathBuf> = Vec::new();
        let outcome = run(plan, chunk, |paths| {
            assert!(!paths.is_empty() && paths.len() <= chunk.max(1));
            paths
                .iter()
                .map(|p| {
                    handed.push(p.to_path_buf());
                    let place = Place {
                        offset: handed.len() as u64 - 1,
                        len: 0,
                    };
                    (!stopped.contains(*p)).then_some(Analysed::Journaled(place))
                })
                .collect()
        })
        .unwrap();
        let mut reader = previous.reader().unwrap();
        let mut line = |place: Place| {
            let r = reader.as_mut().unwrap();
            String::from_utf8(r.read(place.offset, place.len).unwrap().to_vec()).unwrap()
        };
        let mut outputs = Vec::new();
        let mut not_done = 0;
        for d in outcome.done {
            match d.unwrap() {
                Done::Kept(place) => outputs.push(format!("kept {}", line(place))),
                Done::Journaled(place) => {
                    outputs.push(format!("new {}", handed[place.offset as usize].display()))
                }
                Done::Held(_) => panic!("nothing is held"),
                Done::Stopped => not_done += 1,
            }
        }
        assert_eq!(not_done, outcome.not_done);
        for p in problems.finish().unwrap() {
            outputs.push(format!("problem {}", p.unwrap().path.display()));
        }
        for place in outcome.rest {
            outputs.push(format!("earlier {}", line(place.unwrap())));
        }
        Ran {
            outputs,
            problems: listed,
            handed,
            kept,
            todo,
        }
    }

    /// The plan as `analyze` made it with everything in memory (a hash table of the
    /// earlier results by file), for comparison.
    fn reference(
        args: &[PathBuf],
        out: &Path,
        shard: Option<Shard>,
        force: bool,
        stopped: &HashSet<PathBuf>,
    ) -> Ran {
        let (mut files, problems) = pipeline::collect_inputs(args);
        if let Some(s) = shard {
            files = s.select(files);
        }
        // File -> (first position, last line, size and time when reusable).
        let mut index: HashMap<String, (usize, String, Option<SourceInfo>)> = HashMap::new();
        let text = std::fs::read_to_string(out.join(resume::JSONL_NAME)).unwrap_or_default();
        for l in text.split_inclusive('\n') {
            let Ok(r) = export::parse_line(l.as_bytes()) else {
                continue;
            };
            let reusable = r
                .source
                .filter(|_| r.error.is_none() && r.settings_fingerprint.as_deref() == Some("fp"));
            let n = index.len();
            let e = index.entry(r.file).or_insert((n, String::new(), None));
            (e.1, e.2) = (l.to_string(), reusable);
        }
        let mut seen = HashSet::new();
        let mut outputs = Vec::new();
        let mut handed = Vec::new();
        let (mut kept, mut todo) = (0, 0);
        for f in &files {
            let key = f.display().to_string();
            let earlier = index.get(&key).filter(|_| !force);
            match earlier.filter(|e| e.2.is_some() && e.2 == pipeline::source_info(f)) {
                Some(e) => {
                    kept += 1;
                    seen.insert(key);
                    outputs.push(format!("kept {}", e.1));
                }
                None => {
                    todo += 1;
                    handed.push(f.clone());
                    if !stopped.contains(f) {
                        seen.insert(key);
                        outputs.push(format!("new {}", f.display()));
                    }
                }
            }
        }
        for p in &problems {
            seen.insert(p.path.display().to_string());
            outputs.push(format!("problem {}", p.path.display()));
        }
        let mut rest: Vec<&(usize, String, Option<SourceInfo>)> = index
            .iter()
            .filter(|(k, _)| !seen.contains(*k))
            .map(|(_, e)| e)
            .collect();
        rest.sort_by_key(|e| e.0);
        outputs.extend(rest.iter().map(|e| format!("earlier {}", e.1)));
        Ran {
            outputs,
            problems: problems.into_iter().map(|p| (p.path, p.reason)).collect(),
            handed,
            kept,
            todo,
        }
    }

    /// An earlier result for `file`: of the file as it is now (or another size), with
    /// this run's settings (or others), a success (or not).
    fn earlier_line(file: &str, source: Option<SourceInfo>, fp: &str, error: bool) -> String {
        let r = CallReport {
            file: file.into(),
            source,
            settings_fingerprint: Some(fp.into()),
            error: error.then(|| "could not decode".into()),
            duration_s: Some(file.len() as f64),
            ..CallReport::default()
        };
        export::to_json_line(&r) + "\n"
    }

    /// Earlier results: of every other input as it is now, one of a changed file, one
    /// with other settings, one failed, files not given to this run, a path that cannot
    /// be searched, repeated lines (concatenated shards) and a torn line; optionally the
    /// journal of a killed run.
    fn earlier(t: &Tree, with_journal: bool) {
        let (files, _) = pipeline::collect_inputs(&arguments(t));
        let mut lines = Vec::new();
        for (i, f) in files.iter().enumerate() {
            let key = f.display().to_string();
            let now = pipeline::source_info(f);
            match i % 9 {
                1 => {}
                2 => lines.push(earlier_line(&key, now, "other", false)),
                3 => lines.push(earlier_line(&key, now, "fp", true)),
                4 => {
                    let changed = now.map(|s| SourceInfo {
                        size_bytes: s.size_bytes + 1,
                        ..s
                    });
                    lines.push(earlier_line(&key, changed, "fp", false))
                }
                _ => lines.push(earlier_line(&key, now, "fp", false)),
            }
            if i % 5 == 0 {
                lines.push(earlier_line(&format!("gone/{i}.wav"), None, "fp", false));
            }
        }
        let missing = t.root.join("missing.wav").display().to_string();
        lines.insert(3, earlier_line(&missing, None, "fp", false));
        let n = lines.len();
        let repeated = lines[n / 2].clone();
        lines.push(repeated);
        lines.insert(n / 3, "{\"file\":\"torn\n".into());
        std::fs::write(t.out.join(resume::JSONL_NAME), lines.concat()).unwrap();
        if with_journal {
            let journal = [
                earlier_line(&files[1].display().to_string(), None, "fp", false),
                earlier_line("gone/journal.wav", None, "fp", false),
                lines[n / 4].clone(),
            ];
            std::fs::write(t.out.join(resume::JOURNAL_NAME), journal.concat()).unwrap();
        }
    }

    #[test]
    fn the_walk_finds_what_collect_inputs_finds_in_input_order() {
        let t = tree(40);
        let args = arguments(&t);
        let none = HashSet::new();
        let expected = reference(&args, &t.out, None, false, &none);
        assert!(expected.handed.len() > 50, "{:?}", expected.handed);
        assert!(expected.problems.len() >= 2, "{:?}", expected.problems);
        for run_bytes in [usize::MAX, 1, 200, 5000] {
            for chunk in [1, 7, CHUNK_FILES] {
                let got = ran(&args, &t.out, None, false, &none, run_bytes, chunk);
                assert_eq!(
                    got, expected,
                    "runs of {run_bytes} bytes, chunks of {chunk}"
                );
            }
        }
        // Nothing is left in the output folder.
        assert_eq!(std::fs::read_dir(&t.out).unwrap().count(), 0);
    }

    #[test]
    fn shards_take_what_select_takes() {
        let t = tree(30);
        let args = arguments(&t);
        let none = HashSet::new();
        for count in 1..=4 {
            for index in 1..=count {
                let shard = Some(Shard { index, count });
                let expected = reference(&args, &t.out, shard, false, &none);
                for run_bytes in [usize::MAX, 1, 300] {
                    let got = ran(&args, &t.out, shard, false, &none, run_bytes, 5);
                    assert_eq!(got, expected, "{index}/{count}, runs of {run_bytes} bytes");
                }
            }
        }
    }

    #[test]
    fn plan_with_earlier_results_equals_the_in_memory_plan() {
        for with_journal in [false, true] {
            let t = tree(60);
            earlier(&t, with_journal);
            let args = arguments(&t);
            // The first run folds the journal in; then calls.jsonl stays as it is.
            let none = HashSet::new();
            let first = ran(&args, &t.out, None, false, &none, 1, 3);
            assert!(!t.out.join(resume::JOURNAL_NAME).exists());
            assert_eq!(first, reference(&args, &t.out, None, false, &none));
            let all = first.handed.iter().cloned().collect::<HashSet<_>>();
            // Stopped before some files, before all, or not at all.
            let some: HashSet<PathBuf> = first.handed.iter().step_by(3).cloned().collect();
            for (force, stopped) in [
                (false, &none),
                (true, &none),
                (false, &some),
                (true, &some),
                (false, &all),
            ] {
                let expected = reference(&args, &t.out, None, force, stopped);
                assert!(expected.kept > 10 || force, "{}", expected.kept);
                assert!(expected.outputs.iter().any(|o| o.starts_with("earlier")));
                for run_bytes in [usize::MAX, 1, 150, 4000] {
                    for chunk in [1, 4, CHUNK_FILES] {
                        let got = ran(&args, &t.out, None, force, stopped, run_bytes, chunk);
                        assert_eq!(
                            got, expected,
                            "journal {with_journal}, force {force}, stopped {}, runs of {run_bytes} bytes, chunks of {chunk}",
                            stopped.len()
                        );
                    }
                }
            }
            // Shards of the same, with earlier results.
            for index in 1..=3 {
                let shard = Some(Shard { index, count: 3 });
                let expected = reference(&args, &t.out, shard, false, &some);
                for run_bytes in [usize::MAX, 1] {
                    let got = ran(&args, &t.out, shard, false, &some, run_bytes, 4);
                    assert_eq!(got, expected, "shard {index}/3, runs of {run_bytes}");
                }
            }
        }
    }

    #[test]
    fn fifo_gives_back_what_it_took_in_memory_or_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let records: Vec<Found> = (0..500)
            .map(|i| Found {
                arg: i % 3,
                path: PathBuf::from("x".repeat(i as usize % 40)),
            })
            .collect();
        for budget in [usize::MAX, 1, 1000] {
            let mut fifo = Fifo::new(dir.path(), budget);
            for r in &records {
                fifo.push(r.clone()).unwrap();
            }
            assert_eq!(fifo.spilled(), budget != usize::MAX);
            let back: Vec<Found> = fifo.finish().unwrap().map(Result::unwrap).collect();
            assert!(back == records, "budget {budget}");
        }
    }
}
