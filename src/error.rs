//! One error type for everything that can go wrong with one recording or one setting.

use std::path::PathBuf;

/// Why a recording could not be analysed, or why a setting was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be opened or read.
    #[error("cannot read file: {}", io_reason(.0))]
    Io(#[from] std::io::Error),
    /// The file is empty (zero bytes).
    #[error("empty file (0 bytes)")]
    Empty,
    /// The file is not audio in a format we read, or its container is broken.
    #[error("not a readable audio file: {0}")]
    Format(String),
    /// The audio is in a format we recognise but do not support.
    #[error("unsupported audio: {0}")]
    Unsupported(String),
    /// The audio decoded, but holds nothing to analyse.
    #[error("no audio samples in the file")]
    NoSamples,
    /// A setting is unknown, of the wrong type or out of range.
    #[error("config: {0}")]
    Config(String),
    /// An agent manifest, an agent pattern or a report input is unusable.
    #[error("{0}")]
    Report(String),
    /// A bug: the analysis panicked on this file (please report it with the file).
    #[error("internal error (please report this file): {0}")]
    Internal(String),
    /// A path given on the command line does not exist.
    #[error("{}: no such file or folder", .0.display())]
    NoSuchPath(PathBuf),
}

/// A lowercase one-line reason for an I/O error, without the OS error number.
pub fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::NotFound => "no such file or folder".into(),
        ErrorKind::PermissionDenied => "permission denied".into(),
        ErrorKind::IsADirectory => "is a folder, not a file".into(),
        ErrorKind::UnexpectedEof => "the file ends early".into(),
        _ => {
            let text = e.to_string();
            let text = match text.find(" (os error") {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            let mut chars = text.chars();
            match chars.next() {
                Some(c) => c.to_lowercase().chain(chars).collect(),
                None => "input/output error".into(),
            }
        }
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
