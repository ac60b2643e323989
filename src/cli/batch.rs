//! Batch comfort for `analyze`: `--shard K/N` (a deterministic part of the inputs, so a
//! scheduler can spread a corpus over machines) and a progress bar on a terminal.

use std::io::IsTerminal;
#[cfg(test)]
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use agentvoice::CallReport;

/// Part `index` (1-based) of `count` equal parts of the sorted input list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which part, 1..=count.
    pub index: usize,
    /// How many parts.
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not K/N (for example 1/4)"))?;
        let parse = |v: &str, what: &str| {
            v.trim()
                .parse::<usize>()
                .map_err(|_| format!("`{s}`: {what} `{v}` is not a whole number"))
        };
        let (index, count) = (parse(k, "K")?, parse(n, "N")?);
        if count == 0 || index == 0 || index > count {
            return Err(format!(
                "`{s}`: K must be between 1 and N, and N at least 1"
            ));
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// This shard's files: the inputs are sorted (and duplicates dropped), and the file at
    /// position `i` (0-based) belongs to shard `i mod N + 1`. Every file is in exactly one
    /// shard, the shards differ in size by at most one file, and the split depends only on
    /// the list of paths, so every machine must be given the same inputs. (`analyze` takes
    /// the same files with [`Shard::takes`] from the inputs sorted on disk.)
    #[cfg(test)]
    pub fn select(&self, mut files: Vec<PathBuf>) -> Vec<PathBuf> {
        files.sort();
        files.dedup();
        files
            .into_iter()
            .enumerate()
            .filter(|(i, _)| self.takes(*i))
            .map(|(_, f)| f)
            .collect()
    }

    /// True when the file at `position` (0-based) of the sorted, distinct inputs is in
    /// this shard.
    pub fn takes(&self, position: usize) -> bool {
        position % self.count == self.index - 1
    }
}

/// Files done, audio rate (x real time) and ETA on stderr when it is a terminal; silent
/// otherwise (pipes, logs, batch schedulers).
pub struct Progress {
    bar: ProgressBar,
    audio_ms: AtomicU64,
    started: Instant,
}

impl Progress {
    /// A progress display for `files` recordings.
    pub fn new(files: usize) -> Progress {
        let bar = if std::io::stderr().is_terminal() {
            let bar =
                ProgressBar::with_draw_target(Some(files as u64), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{bar:30} {pos}/{len} files  {per_sec}  {msg}  ETA {eta}",
            ) {
                bar.set_style(style);
            }
            bar
        } else {
            ProgressBar::hidden()
        };
        Progress {
            bar,
            audio_ms: AtomicU64::new(0),
            started: Instant::now(),
        }
    }

    /// Counts one finished recording.
    pub fn record(&self, report: &CallReport) {
        let ms = (report.duration_s.unwrap_or(0.0) * 1000.0) as u64;
        let total_ms = self.audio_ms.fetch_add(ms, Ordering::Relaxed) + ms;
        let wall_s = self.started.elapsed().as_secs_f64();
        if wall_s > 0.0 {
            let speed = total_ms as f64 / 1000.0 / wall_s;
            self.bar.set_message(format!("{speed:.0}x real time"));
        }
        self.bar.inc(1);
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_k_of_n() {
        assert_eq!("2/5".parse(), Ok(Shard { index: 2, count: 5 }));
        for bad in ["0/2", "3/2", "1/0", "1", "a/2", "1/b", "", "-1/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn every_file_in_exactly_one_shard() {
        // Unsorted input with a duplicate: the shards still partition the distinct files.
        let mut files: Vec<PathBuf> = (0..23)
            .map(|i| PathBuf::from(format!("d{}/call_{:02}.wav", i % 3, (i * 7) % 23)))
            .collect();
        files.push(files[4].clone());
        let mut distinct = files.clone();
        distinct.sort();
        distinct.dedup();
        for count in 1..=6 {
            let mut seen: Vec<PathBuf> = Vec::new();
            let mut sizes = Vec::new();
            for index in 1..=count {
                let part = Shard { index, count }.select(files.clone());
                sizes.push(part.len());
                seen.extend(part);
            }
            seen.sort();
            assert_eq!(seen, distinct, "N = {count}");
            let (lo, hi) = (sizes.iter().min(), sizes.iter().max());
            assert!(hi.zip(lo).is_some_and(|(h, l)| h - l <= 1), "{sizes:?}");
        }
    }

    #[test]
    fn shard_does_not_depend_on_input_order() {
        let files: Vec<PathBuf> = (0..10).map(|i| PathBuf::from(format!("{i}.wav"))).collect();
        let mut reversed = files.clone();
        reversed.reverse();
        let shard = Shard { index: 2, count: 3 };
        assert_eq!(shard.select(files), shard.select(reversed));
    }
}
