//! `eval rate`: the syllable counter against hand counts listed in a manifest.
//!
//! The manifest is a TSV with a `file` column (paths relative to the manifest's folder) and
//! a column of true syllable counts (`syllables` by default); an optional `language` column
//! breaks the figures down. Each file is analysed as an agent-only mono recording and its
//! `rate.syllables` compared with the truth.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::{error_stats, ErrorStats, Manifest};
use crate::audio::MonoRole;
use crate::pipeline::{self, AnalysisOptions};

/// Which rows of the manifest are evaluated (by data-row number, from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Split {
    /// Every row.
    #[default]
    All,
    /// Rows 0, 2, 4, ... (the tuning half of the dev set).
    Even,
    /// Rows 1, 3, 5, ... (the held-out half).
    Odd,
}

impl Split {
    /// True when data row `row` belongs to this split.
    pub fn contains(self, row: usize) -> bool {
        match self {
            Split::All => true,
            Split::Even => row.is_multiple_of(2),
            Split::Odd => row % 2 == 1,
        }
    }
}

/// One manifest row, evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct RateItem {
    /// The recording.
    pub file: PathBuf,
    /// The `language` column, when present.
    pub language: Option<String>,
    /// True syllables.
    pub truth: f64,
    /// Estimated syllables (`None` when the file could not be analysed).
    pub estimate: Option<f64>,
    /// Why the row was not evaluated.
    pub error: Option<String>,
}

/// The figures of one evaluation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RateEvaluation {
    /// Every row evaluated, in manifest order.
    pub items: Vec<RateItem>,
    /// Statistics over all rows that have an estimate.
    pub overall: ErrorStats,
    /// Statistics per `language`.
    pub by_language: BTreeMap<String, ErrorStats>,
}

/// Evaluates the rows of the manifest at `path` in `split`, reading truth from `column`.
pub fn evaluate(
    path: &Path,
    column: &str,
    split: Split,
    options: &AnalysisOptions,
) -> std::io::Result<RateEvaluation> {
    let manifest = Manifest::read(path)?;
    let base = path.parent().unwrap_or(Path::new("."));
    for needed in ["file", column] {
        if !manifest.columns.iter().any(|c| c == needed) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("the manifest has no `{needed}` column"),
            ));
        }
    }
    let options = AnalysisOptions {
        mono: MonoRole::Agent,
        ..options.clone()
    };
    let rows: Vec<(PathBuf, Option<String>, Option<f64>)> = manifest
        .rows
        .iter()
        .enumerate()
        .filter(|(i, _)| split.contains(*i))
        .map(|(_, r)| {
            let file = base.join(r.get("file").map_or("", String::as_str));
            let language = r.get("language").filter(|l| !l.is_empty()).cloned();
            let truth = r
                .get(column)
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| v.is_finite());
            (file, language, truth)
        })
        .collect();
    let items: Vec<RateItem> = rows
        .into_par_iter()
        .map(|(file, language, truth)| {
            let Some(truth) = truth else {
                return RateItem {
                    file,
                    language,
                    truth: f64::NAN,
                    estimate: None,
                    error: Some(format!("no number in the `{column}` column")),
                };
            };
            let report = pipeline::analyze_file(&file, &options);
            let estimate = report
                .rate
                .as_ref()
                .and_then(|r| r.syllables)
                .map(|s| s as f64);
            RateItem {
                file,
                language,
                truth,
                estimate,
                error: report.error,
            }
        })
        .collect();
    Ok(summarise(items))
}

/// Computes the overall and per-language statistics of evaluated rows.
pub fn summarise(items: Vec<RateItem>) -> RateEvaluation {
    let pairs = |lang: Option<&str>| -> Vec<(f64, f64)> {
        items
            .iter()
            .filter(|i| lang.is_none() || i.language.as_deref() == lang)
            .filter_map(|i| i.estimate.map(|e| (e, i.truth)))
            .collect()
    };
    let overall = error_stats(&pairs(None));
    let mut by_language = BTreeMap::new();
    for lang in items.iter().filter_map(|i| i.language.as_deref()) {
        if !by_language.contains_key(lang) {
            by_language.insert(lang.to_string(), error_stats(&pairs(Some(lang))));
        }
    }
    RateEvaluation {
        items,
        overall,
        by_language,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(lang: &str, truth: f64, estimate: Option<f64>) -> RateItem {
        RateItem {
            file: PathBuf::from("x.wav"),
            language: Some(lang.to_string()),
            truth,
            estimate,
            error: None,
        }
    }

    #[test]
    fn splits_alternate_rows() {
        let even: Vec<usize> = (0..6).filter(|&i| Split::Even.contains(i)).collect();
        let odd: Vec<usize> = (0..6).filter(|&i| Split::Odd.contains(i)).collect();
        assert_eq!(even, vec![0, 2, 4]);
        assert_eq!(odd, vec![1, 3, 5]);
        assert!((0..6).all(|i| Split::All.contains(i)));
    }

    #[test]
    fn figures_per_language_leave_failures_out() {
        let e = summarise(vec![
            item("zh", 10.0, Some(12.0)),
            item("zh", 20.0, Some(18.0)),
            item("en", 10.0, Some(10.0)),
            item("en", 8.0, None),
        ]);
        assert_eq!(e.overall.n, 3);
        assert_eq!(e.by_language["zh"].n, 2);
        assert_eq!(e.by_language["en"].n, 1);
        assert!((e.by_language["zh"].mape_pct.unwrap_or(0.0) - 15.0).abs() < 1e-9);
        assert!((e.by_language["zh"].bias.unwrap_or(1.0)).abs() < 1e-12);
    }
}
