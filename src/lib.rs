//! agentvoice measures contact-center agents' voices against a house service standard.
//!
//! The pipeline, one streaming stage per module:
//!
//! ```text
//! audio (decode, channel roles) -> features (10 ms frames: band energy, periodicity)
//!   -> loudness (BS.1770, P.56)  -> vad (speech segments) -> rate (syllable nuclei)
//!   -> pitch (F0 statistics)     -> conversation (gaps, greeting, overtalk, checks)
//!   -> report (calls.jsonl, calls.csv)
//! ```
//!
//! Every measurement is pushed blocks of samples and then finished, so memory does not
//! grow with a recording's length and files and live capture share one code path
//! ([`analyzer::Analyzer`]). Units are in the names: `_s` seconds, `_hz` hertz, `_spm`
//! syllables per minute, `_lufs`, `_dbtp`, `_dbov`, `_db`.

pub mod analyzer;
pub mod audio;
#[cfg(feature = "capture")]
pub mod capture;
pub mod config;
pub mod conversation;
pub mod dsp;
pub mod error;
pub mod eval;
pub mod features;
pub mod live;
pub mod loudness;
pub mod pipeline;
pub mod pitch;
pub mod rate;
pub mod report;
pub mod transcript;
pub mod vad;

pub use analyzer::Analyzer;
pub use config::Config;
pub use error::{Error, Result};
pub use report::CallReport;
