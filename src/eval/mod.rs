//! Accuracy evaluations against hand-made truth (`agentvoice eval ...`).
//!
//! Shared here: a tab-separated manifest reader and the error statistics every
//! evaluation prints.

pub mod audibility;
pub mod calls;
pub mod rate;

use std::collections::HashMap;
use std::path::Path;

/// Error statistics of estimates against true values.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ErrorStats {
    /// Pairs compared.
    pub n: usize,
    /// Mean absolute percentage error, % (pairs with a true value of 0 left out).
    pub mape_pct: Option<f64>,
    /// Mean absolute error, in the values' unit.
    pub mae: Option<f64>,
    /// Mean signed error (estimate minus truth), in the values' unit.
    pub bias: Option<f64>,
    /// Pearson correlation of estimates and truth (`None` under 3 pairs or with no spread).
    pub pearson_r: Option<f64>,
}

/// Computes the statistics of `(estimate, truth)` pairs.
pub fn error_stats(pairs: &[(f64, f64)]) -> ErrorStats {
    let n = pairs.len();
    if n == 0 {
        return ErrorStats::default();
    }
    let nf = n as f64;
    let mae = pairs.iter().map(|(e, t)| (e - t).abs()).sum::<f64>() / nf;
    let bias = pairs.iter().map(|(e, t)| e - t).sum::<f64>() / nf;
    let pct: Vec<f64> = pairs
        .iter()
        .filter(|(_, t)| *t != 0.0)
        .map(|(e, t)| (e - t).abs() / t.abs() * 100.0)
        .collect();
    let mape_pct = (!pct.is_empty()).then(|| pct.iter().sum::<f64>() / pct.len() as f64);
    ErrorStats {
        n,
        mape_pct,
        mae: Some(mae),
        bias: Some(bias),
        pearson_r: pearson(pairs),
    }
}

/// Pearson correlation of the pairs; `None` under 3 pairs or when either side is constant.
pub fn pearson(pairs: &[(f64, f64)]) -> Option<f64> {
    if pairs.len() < 3 {
        return None;
    }
    let n = pairs.len() as f64;
    let (mx, my) = pairs
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// A tab-separated table with a header row: each row maps column name to value.
#[derive(Debug, Clone, Default)]
pub struct Manifest {
    /// Column names, in order.
    pub columns: Vec<String>,
    /// Rows, in file order.
    pub rows: Vec<HashMap<String, String>>,
}

impl Manifest {
    /// Reads a TSV file; blank lines and lines starting with `#` are skipped.
    pub fn read(path: &Path) -> std::io::Result<Manifest> {
        Ok(Manifest::parse(&std::fs::read_to_string(path)?))
    }

    /// Parses TSV text (header row first).
    pub fn parse(text: &str) -> Manifest {
        let mut lines = text
            .lines()
            .map(|l| l.trim_end_matches('\r'))
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
        let columns: Vec<String> = match lines.next() {
            Some(h) => h.split('\t').map(|c| c.trim().to_string()).collect(),
            None => return Manifest::default(),
        };
        let rows = lines
            .map(|l| {
                columns
                    .iter()
                    .cloned()
                    .zip(l.split('\t').map(|v| v.trim().to_string()))
                    .collect()
            })
            .collect();
        Manifest { columns, rows }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_of_known_pairs() {
        let s = error_stats(&[(11.0, 10.0), (18.0, 20.0), (30.0, 30.0)]);
        assert_eq!(s.n, 3);
        assert!((s.mae.unwrap_or(0.0) - 1.0).abs() < 1e-12);
        assert!((s.bias.unwrap_or(0.0) - (-1.0 / 3.0)).abs() < 1e-12);
        assert!((s.mape_pct.unwrap_or(0.0) - 20.0 / 3.0).abs() < 1e-9);
        assert!(s.pearson_r.unwrap_or(0.0) > 0.98);
        assert_eq!(pearson(&[(1.0, 2.0), (2.0, 2.0), (3.0, 2.0)]), None);
        let neg = pearson(&[(1.0, 3.0), (2.0, 2.0), (3.0, 1.0)]).unwrap_or(0.0);
        assert!((neg + 1.0).abs() < 1e-12);
        assert_eq!(error_stats(&[]).n, 0);
    }

    #[test]
    fn manifest_rows_map_columns() {
        let m = Manifest::parse("file\tsyllables\n# note\na.wav\t12\n\nb.wav\t7\r\n");
        assert_eq!(m.columns, vec!["file", "syllables"]);
        assert_eq!(m.rows.len(), 2);
        assert_eq!(m.rows[1]["file"], "b.wav");
        assert_eq!(m.rows[1]["syllables"], "7");
    }
}
