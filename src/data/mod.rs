//! Datasets: named columns of f64 ready for a learner, with summaries and the errors a user can
//! meet while turning their data into one.
//!
//! [`csv_reader`] turns file bytes into a [`csv_reader::Table`] (text, problems, fixes) and then
//! into a [`Dataset`]; [`synthetic`] generates data with a known causal graph; [`examples`]
//! holds the built-in datasets.

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

pub mod csv_reader;
pub mod examples;
pub mod synthetic;

/// Named numeric columns, all of the same length: what the learners consume.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub names: Vec<String>,
    pub columns: Vec<Vec<f64>>,
}

impl Dataset {
    /// Checks the shape: at least one column, one name per column, all columns equally long.
    pub fn new(names: Vec<String>, columns: Vec<Vec<f64>>) -> Result<Dataset, DataError> {
        if columns.is_empty() {
            return Err(DataError::NoColumns);
        }
        if names.len() != columns.len() {
            return Err(DataError::NameCount {
                names: names.len(),
                columns: columns.len(),
            });
        }
        let expected = columns[0].len();
        for (name, column) in names.iter().zip(&columns).skip(1) {
            if column.len() != expected {
                return Err(DataError::LengthMismatch {
                    column: name.clone(),
                    expected,
                    found: column.len(),
                    first: names[0].clone(),
                });
            }
        }
        Ok(Dataset { names, columns })
    }

    pub fn n_rows(&self) -> usize {
        self.columns.first().map_or(0, Vec::len)
    }

    pub fn n_cols(&self) -> usize {
        self.columns.len()
    }

    /// The data as an `n_rows × n_cols` matrix (one row per observation, as the learners expect).
    pub fn to_matrix(&self) -> DMatrix<f64> {
        DMatrix::from_fn(self.n_rows(), self.n_cols(), |r, c| {
            self.columns[c].get(r).copied().unwrap_or(f64::NAN)
        })
    }

    /// Each column as `(x - mean) / sd` (sd with n - 1). A constant column becomes all zeros
    /// rather than 0/0, so a learner sees "no information" instead of NaN.
    pub fn standardized(&self) -> Dataset {
        let columns = self.columns.iter().map(|c| standardize_column(c)).collect();
        Dataset {
            names: self.names.clone(),
            columns,
        }
    }

    /// The first column whose values double precision cannot square and sum, as (column, row,
    /// value, too large): a finite value beyond ±1e150 (a sum of n squares overflows near
    /// 1e308), or a non-constant column whose values all lie within 1e-150 (its squared
    /// deviations underflow to zero). Every learner and standardizing need such sums: without
    /// this check, standardizing turned the first into zeros (and learners returned empty graphs)
    /// and the second into infinities.
    pub fn extreme_scale(&self) -> Option<(usize, usize, f64, bool)> {
        const LARGE: f64 = 1e150;
        const SMALL: f64 = 1e-150;
        self.columns.iter().enumerate().find_map(|(j, column)| {
            let finite = || column.iter().enumerate().filter(|(_, v)| v.is_finite());
            if let Some((i, &v)) = finite().max_by(|a, b| a.1.abs().total_cmp(&b.1.abs())) {
                if v.abs() > LARGE {
                    return Some((j, i, v, true));
                }
            }
            let stats = FiniteStats::of(column.iter().copied());
            if stats.min < stats.max && stats.max - stats.min < SMALL {
                let i = finite()
                    .find(|(_, &v)| v == stats.max)
                    .map_or(0, |(i, _)| i);
                return Some((j, i, stats.max, false));
            }
            None
        })
    }

    /// Checks that the columns can be told apart by a structure learner: at least as many rows
    /// as variables, and no column an exact linear combination of others (a singular
    /// covariance: a duplicated column, a sum of others, a unit conversion). Names the column
    /// and the columns it is a combination of.
    pub fn check_identifiable(&self) -> Result<(), DataError> {
        let (n, d) = (self.n_rows(), self.n_cols());
        if n <= d {
            return Err(DataError::FewerRowsThanVariables { rows: n, cols: d });
        }
        let centred: Vec<Vec<f64>> = self
            .columns
            .iter()
            .map(|column| {
                let mean = column.iter().sum::<f64>() / n as f64;
                column.iter().map(|x| x - mean).collect()
            })
            .collect();
        if clearly_independent(&centred) {
            return Ok(());
        }
        // Gram–Schmidt on the centred columns, in order: a column whose residual after
        // projecting out the earlier kept columns is (relatively) zero is a combination of them.
        let mut basis: Vec<Vec<f64>> = vec![];
        let mut basis_cols: Vec<usize> = vec![];
        for (j, mut r) in centred.into_iter().enumerate() {
            let norm0 = crate::linalg::dot_lanes(&r, &r).sqrt();
            if norm0 == 0.0 {
                continue; // constant columns are reported by the reader as their own problem
            }
            let mut used = vec![];
            for pass in 0..2 {
                for (b, &col) in basis.iter().zip(&basis_cols) {
                    let c = crate::linalg::dot_lanes(&r, b);
                    if pass == 0 && c.abs() > 1e-8 * norm0 {
                        used.push(col);
                    }
                    for (x, y) in r.iter_mut().zip(b) {
                        *x -= c * y;
                    }
                }
            }
            let norm = crate::linalg::dot_lanes(&r, &r).sqrt();
            if norm <= 1e-9 * norm0 {
                used.sort_unstable();
                used.dedup();
                return Err(DataError::Collinear {
                    column: self.names[j].clone(),
                    of: used
                        .iter()
                        .map(|&c| format!("\"{}\"", self.names[c]))
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
            basis.push(r.iter().map(|x| x / norm).collect());
            basis_cols.push(j);
        }
        Ok(())
    }

    /// Per-column statistics over the finite values; non-finite values count as missing.
    pub fn column_summaries(&self) -> Vec<ColumnSummary> {
        self.names
            .iter()
            .zip(&self.columns)
            .map(|(name, column)| {
                let stats = FiniteStats::of(column.iter().copied());
                ColumnSummary {
                    name: name.clone(),
                    kind: "number".to_string(),
                    mean: stats.mean,
                    sd: stats.sd,
                    min: stats.min,
                    max: stats.max,
                    n_missing: column.len() - stats.n,
                }
            })
            .collect()
    }
}

fn standardize_column(column: &[f64]) -> Vec<f64> {
    let stats = FiniteStats::of(column.iter().copied());
    // min == max (not sd == 0) decides constancy: the mean of a constant column can be off by an
    // ulp, which would give a tiny non-zero sd and blow rounding noise up to unit variance.
    if stats.n < 2 || stats.min == stats.max {
        return column
            .iter()
            .map(|x| if x.is_finite() { 0.0 } else { *x })
            .collect();
    }
    column.iter().map(|x| (x - stats.mean) / stats.sd).collect()
}

/// Mean, sd (n - 1), min and max over the finite values of a sequence; NaN when there are none.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct FiniteStats {
    pub n: usize,
    pub mean: f64,
    pub sd: f64,
    pub min: f64,
    pub max: f64,
}

impl FiniteStats {
    pub(crate) fn of(values: impl Iterator<Item = f64>) -> FiniteStats {
        // Welford's update: one pass, and no catastrophic cancellation on large raw intensities.
        let (mut n, mut mean, mut m2) = (0usize, 0.0f64, 0.0f64);
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        for x in values.filter(|x| x.is_finite()) {
            n += 1;
            let delta = x - mean;
            mean += delta / n as f64;
            m2 += delta * (x - mean);
            min = min.min(x);
            max = max.max(x);
        }
        if n == 0 {
            return FiniteStats {
                n,
                mean: f64::NAN,
                sd: f64::NAN,
                min: f64::NAN,
                max: f64::NAN,
            };
        }
        let sd = if n > 1 {
            (m2 / (n - 1) as f64).max(0.0).sqrt()
        } else {
            0.0
        };
        FiniteStats {
            n,
            mean,
            sd,
            min,
            max,
        }
    }
}

/// What the preview table shows for one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnSummary {
    pub name: String,
    /// "number", "text" or "mixed".
    pub kind: String,
    pub mean: f64,
    pub sd: f64,
    pub min: f64,
    pub max: f64,
    pub n_missing: usize,
}

/// Why data could not become a [`Dataset`]. The Display text is the detail (naming the column,
/// line and value); [`DataError::title`] and [`DataError::hint`] complete the message for the page.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataError {
    #[error("The data has no columns. Load a file with at least two numeric columns.")]
    NoColumns,
    #[error("{names} column names were given for {columns} columns. Give one name per column.")]
    NameCount { names: usize, columns: usize },
    #[error(
        "column \"{column}\" has {found} values but column \"{first}\" has {expected}. \
         Make every column the same length."
    )]
    LengthMismatch {
        column: String,
        expected: usize,
        found: usize,
        first: String,
    },
    #[error(
        "column \"{column}\", line {line}: expected a number, found \"{value}\". \
         Drop the column, or fix the value and drop the file again."
    )]
    NotANumber {
        column: String,
        line: usize,
        value: String,
    },
    #[error(
        "column \"{column}\" holds text (e.g. \"{example}\", {n_levels} different values), not \
         numbers. Drop the column, or encode it as numbers and drop the file again."
    )]
    TextColumn {
        column: String,
        example: String,
        n_levels: usize,
    },
    #[error(
        "column \"{column}\" has {count} missing values (first on line {line}). \
         Drop the incomplete rows or the column, or fill the values in and drop the file again."
    )]
    Missing {
        column: String,
        count: usize,
        line: usize,
    },
    #[error(
        "column \"{column}\" has no values: every entry is missing. Drop the column, or fill it \
         in and drop the file again."
    )]
    EmptyColumn { column: String },
    #[error(
        "column \"{column}\" has {count} infinite values (first on line {line}). \
         Drop those rows or the column, or fix the values and drop the file again."
    )]
    NonFinite {
        column: String,
        count: usize,
        line: usize,
    },
    #[error(
        "only {n} column{s} left to learn from; causal discovery needs at least 2. \
         Keep more columns.",
        s = if *n == 1 { "" } else { "s" }
    )]
    TooFewColumns { n: usize },
    #[error(
        "only {n} data rows left{dropped_text}; at least {min} are needed. \
         Use a file with more rows{fix}.",
        dropped_text = if *dropped > 0 { format!(" after dropping {dropped} incomplete rows") } else { String::new() },
        fix = if *dropped > 0 { ", or drop columns with many missing values instead of rows" } else { "" }
    )]
    TooFewRows {
        n: usize,
        min: usize,
        dropped: usize,
    },
    #[error("{name} = {value} is out of range: it must be {allowed}.")]
    InvalidParameter {
        name: String,
        value: String,
        allowed: String,
    },
    #[error(
        "the true graph names \"{name}\", which is not a column (columns: {known}). \
         Check the spelling of the edge list."
    )]
    UnknownNode { name: String, known: String },
    #[error("there is no column \"{name}\" to read intervention targets from.")]
    UnknownColumn { name: String },
    #[error(
        "there are {rows} rows for {cols} variables; with no more rows than variables the \
         covariance is singular and every structure is equally good."
    )]
    FewerRowsThanVariables { rows: usize, cols: usize },
    #[error(
        "column \"{column}\" is an exact linear combination of {of} (e.g. a duplicated column, \
         a total of other columns, or the same quantity in other units), so the data cannot tell \
         which of them causes what."
    )]
    Collinear { column: String, of: String },
    #[error(
        "column \"{column}\" holds {value:.3e} (line {line}): {}",
        if *large {
            "beyond ±1e150, squares reach 1e300, next to the largest number double precision \
             holds (about 1.8e308), and summed over rows they overflow, so its variance, \
             covariances and standardized values cannot be computed"
        } else {
            "its values all lie within 1e-150 of each other, and squared, such differences fall \
             to the smallest numbers double precision holds (about 2e-308) or to zero, so its \
             variance, covariances and standardized values cannot be computed"
        }
    )]
    ExtremeScale {
        column: String,
        line: usize,
        value: f64,
        large: bool,
    },
}

impl DataError {
    /// A short title for the error box.
    pub fn title(&self) -> &'static str {
        match self {
            DataError::NoColumns => "No columns",
            DataError::NameCount { .. } => "Names do not match columns",
            DataError::LengthMismatch { .. } => "Columns of different lengths",
            DataError::NotANumber { .. } => "Not a number",
            DataError::TextColumn { .. } => "Text column",
            DataError::Missing { .. } => "Missing values",
            DataError::EmptyColumn { .. } => "Empty column",
            DataError::NonFinite { .. } => "Infinite values",
            DataError::TooFewColumns { .. } => "Too few columns",
            DataError::TooFewRows { .. } => "Too few rows",
            DataError::InvalidParameter { .. } => "Setting out of range",
            DataError::UnknownNode { .. } => "Unknown node in the true graph",
            DataError::UnknownColumn { .. } => "Unknown column",
            DataError::FewerRowsThanVariables { .. } => "Fewer rows than variables",
            DataError::Collinear { .. } => "Perfectly collinear columns",
            DataError::ExtremeScale { large: true, .. } => "Values too large to compute with",
            DataError::ExtremeScale { large: false, .. } => "Values too small to compute with",
        }
    }

    /// One sentence saying what to do.
    pub fn hint(&self) -> String {
        match self {
            DataError::NoColumns | DataError::TooFewColumns { .. } => {
                "Causal discovery needs at least two numeric columns; keep or add more.".to_string()
            }
            DataError::NameCount { .. } | DataError::LengthMismatch { .. } => {
                "Every column needs a name and the same number of values.".to_string()
            }
            DataError::EmptyColumn { column } => {
                format!("Drop the column \"{column}\" in the preview.")
            }
            DataError::NotANumber { column, .. } | DataError::TextColumn { column, .. } => format!(
                "Drop the column \"{column}\" in the preview, or replace its text with numbers \
                 and load the file again."
            ),
            DataError::Missing { column, .. } | DataError::NonFinite { column, .. } => format!(
                "Tick \"drop incomplete rows\" or drop the column \"{column}\" in the preview."
            ),
            DataError::TooFewRows { dropped, .. } => {
                if *dropped > 0 {
                    "Drop the columns with many missing values instead of dropping rows."
                        .to_string()
                } else {
                    "Use a file with more rows.".to_string()
                }
            }
            DataError::InvalidParameter { name, allowed, .. } => {
                format!("Set {name} to a value that is {allowed}.")
            }
            DataError::UnknownNode { .. } => {
                "Make the edge list use exactly the column names of the data.".to_string()
            }
            DataError::UnknownColumn { .. } => {
                "Pick the intervention column again from the list of columns.".to_string()
            }
            DataError::FewerRowsThanVariables { .. } => {
                "Drop columns in the preview until there are fewer variables than rows, or load \
                 more rows."
                    .to_string()
            }
            DataError::Collinear { column, .. } => {
                format!("Drop the column \"{column}\" (or one of the columns it combines) in the preview.")
            }
            DataError::ExtremeScale { column, .. } => format!(
                "Rescale the column \"{column}\" (change its unit so that its values are near 1) and \
                 load the file again, or drop it in the preview; a causal graph does not depend on \
                 the scale of a variable."
            ),
        }
    }
}

/// A fast screen for [`Dataset::check_identifiable`]: true when no centred column is even
/// close to a combination of the earlier ones, so the exact Gram–Schmidt check cannot fail.
/// Cholesky on the columns' Gram matrix (d²n/2 multiply-adds, against Gram–Schmidt's 4d²n)
/// gives each column's squared residual norm after regressing it on the earlier non-constant
/// ones; the screen passes when each is above 1e-4 of the column's squared norm (an R² below
/// 0.9999). Those pivots carry rounding errors of about d·ε·κ relative to the column (κ the
/// earlier columns' condition number, itself bounded by the same pivots), orders of magnitude
/// below 1e-4, while Gram–Schmidt calls a column collinear only at a relative residual norm of
/// 1e-9; anything nearer to collinear is left to Gram–Schmidt, which names the columns.
fn clearly_independent(centred: &[Vec<f64>]) -> bool {
    let kept: Vec<&[f64]> = centred
        .iter()
        .map(|c| c.as_slice())
        .filter(|c| c.iter().any(|&x| x != 0.0))
        .collect();
    let m = kept.len();
    // Lower-triangular factor, row by row.
    let mut l = vec![0.0; m * m];
    for j in 0..m {
        let gjj = crate::linalg::dot_lanes(kept[j], kept[j]);
        let mut pivot = gjj;
        for k in 0..j {
            let mut v = crate::linalg::dot_lanes(kept[j], kept[k]);
            for q in 0..k {
                v -= l[j * m + q] * l[k * m + q];
            }
            let ljk = v / l[k * m + k];
            l[j * m + k] = ljk;
            pivot -= ljk * ljk;
        }
        if pivot.is_nan() || pivot <= 1e-4 * gjj {
            return false;
        }
        l[j * m + j] = pivot.sqrt();
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ds(cols: Vec<Vec<f64>>) -> Dataset {
        let names = (1..=cols.len()).map(|i| format!("X{i}")).collect();
        Dataset::new(names, cols).unwrap()
    }

    #[test]
    fn new_checks_the_shape() {
        assert_eq!(Dataset::new(vec![], vec![]), Err(DataError::NoColumns));
        assert!(matches!(
            Dataset::new(vec!["a".into()], vec![vec![1.0], vec![2.0]]),
            Err(DataError::NameCount {
                names: 1,
                columns: 2
            })
        ));
        let err = Dataset::new(
            vec!["a".into(), "b".into()],
            vec![vec![1.0, 2.0], vec![1.0]],
        )
        .unwrap_err();
        assert!(err.to_string().contains("\"b\""), "{err}");
        assert!(!err.hint().is_empty() && !err.title().is_empty());
    }

    #[test]
    fn matrix_is_rows_by_columns() {
        let d = ds(vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]]);
        let m = d.to_matrix();
        assert_eq!((m.nrows(), m.ncols()), (3, 2));
        assert_eq!(m[(2, 0)], 3.0);
        assert_eq!(m[(0, 1)], 4.0);
        assert_eq!((d.n_rows(), d.n_cols()), (3, 2));
    }

    #[test]
    fn extreme_scales_are_found_with_their_row_and_ordinary_ones_pass() {
        let ok = ds(vec![vec![1e140, -2e140, 3e140], vec![1e-140, 2e-140, 0.0]]);
        assert_eq!(ok.extreme_scale(), None);
        let large = ds(vec![vec![1.0, 2.0, 3.0], vec![1.0, -2e151, 3.0]]);
        assert_eq!(large.extreme_scale(), Some((1, 1, -2e151, true)));
        let small = ds(vec![vec![3e-160, 1e-160, 2e-160], vec![1.0, 2.0, 3.0]]);
        assert_eq!(small.extreme_scale(), Some((0, 0, 3e-160, false)));
        // A constant column, however small, is not this problem (the reader reports it).
        assert_eq!(
            ds(vec![vec![1e-200; 3], vec![1.0, 2.0, 3.0]]).extreme_scale(),
            None
        );
        // What the check prevents: standardizing 1e200s gives zeros (their sd overflows).
        let huge = ds(vec![vec![1e200, -1e200, 3e200], vec![1.0, 2.0, 3.0]]);
        assert!(huge.extreme_scale().is_some());
        assert_eq!(huge.standardized().columns[0], vec![0.0; 3]);
    }

    #[test]
    fn standardized_has_mean_zero_sd_one_and_constant_becomes_zero() {
        let d = ds(vec![vec![1.0, 2.0, 3.0, 10.0], vec![0.1, 0.1, 0.1, 0.1]]).standardized();
        let s = d.column_summaries();
        assert!(s[0].mean.abs() < 1e-12);
        assert!((s[0].sd - 1.0).abs() < 1e-12);
        assert_eq!(d.columns[1], vec![0.0; 4]);
    }

    #[test]
    fn summaries_skip_non_finite_values() {
        let d = ds(vec![
            vec![1.0, f64::NAN, 3.0, f64::INFINITY],
            vec![f64::NAN; 4],
        ]);
        let s = d.column_summaries();
        assert_eq!(s[0].n_missing, 2);
        assert_eq!((s[0].mean, s[0].min, s[0].max), (2.0, 1.0, 3.0));
        assert!((s[0].sd - 2f64.sqrt()).abs() < 1e-12);
        assert!(s[1].mean.is_nan() && s[1].sd.is_nan() && s[1].n_missing == 4);
    }

    #[test]
    fn every_error_has_title_and_hint() {
        let errors = [
            DataError::TooFewRows {
                n: 3,
                min: 10,
                dropped: 7,
            },
            DataError::TooFewColumns { n: 1 },
            DataError::Missing {
                column: "a".into(),
                count: 2,
                line: 5,
            },
        ];
        for e in errors {
            assert!(!e.title().is_empty() && !e.hint().is_empty() && !e.to_string().is_empty());
        }
        let e = DataError::TooFewRows {
            n: 3,
            min: 10,
            dropped: 7,
        };
        assert!(e.to_string().contains("only 3") && e.to_string().contains("7"));
    }

    #[test]
    fn the_fast_screen_passes_only_columns_far_from_collinear() {
        let a: Vec<f64> = (0..200).map(|k| ((k * 7919) % 101) as f64).collect();
        let b: Vec<f64> = (0..200).map(|k| ((k * 104_729) % 37) as f64).collect();
        let e: Vec<f64> = (0..200).map(|k| ((k * 31) % 17) as f64 - 8.0).collect();
        let centre = |v: &[f64]| {
            let m = v.iter().sum::<f64>() / v.len() as f64;
            v.iter().map(|x| x - m).collect::<Vec<f64>>()
        };
        let with = |c: Vec<f64>| vec![centre(&a), centre(&b), centre(&c)];
        let combo =
            |eps: f64| -> Vec<f64> { (0..200).map(|k| 2.0 * a[k] - b[k] + eps * e[k]).collect() };
        // Independent columns pass the screen; Gram–Schmidt is never needed.
        assert!(clearly_independent(&with(e.clone())));
        // A combination plus noise of relative size 1e-4 (R² above 0.9999) is left to
        // Gram–Schmidt, which finds it identifiable; an exact combination is an error.
        assert!(!clearly_independent(&with(combo(1e-3))));
        let names: Vec<String> = vec!["a".into(), "b".into(), "c".into()];
        let near = Dataset::new(names.clone(), vec![a.clone(), b.clone(), combo(1e-3)]).unwrap();
        assert_eq!(near.check_identifiable(), Ok(()));
        assert!(!clearly_independent(&with(combo(0.0))));
        let exact = Dataset::new(names, vec![a.clone(), b.clone(), combo(0.0)]).unwrap();
        assert!(matches!(
            exact.check_identifiable(),
            Err(DataError::Collinear { .. })
        ));
        // Constant (all-zero once centred) columns are skipped, as Gram–Schmidt skips them.
        assert!(clearly_independent(&[
            centre(&a),
            vec![0.0; 200],
            centre(&b)
        ]));
    }

    #[test]
    fn collinear_columns_and_too_few_rows_are_named() {
        let a: Vec<f64> = (0..50).map(|k| ((k * 7919) % 101) as f64).collect();
        let b: Vec<f64> = (0..50).map(|k| ((k * 104_729) % 37) as f64).collect();
        let total: Vec<f64> = a.iter().zip(&b).map(|(x, y)| 2.0 * x - y + 3.0).collect();
        let ok = Dataset::new(vec!["a".into(), "b".into()], vec![a.clone(), b.clone()]).unwrap();
        assert_eq!(ok.check_identifiable(), Ok(()));
        let names = vec!["a".into(), "b".into(), "total".into()];
        let bad = Dataset::new(names, vec![a.clone(), b.clone(), total]).unwrap();
        let err = bad.check_identifiable().unwrap_err();
        assert_eq!(
            err,
            DataError::Collinear {
                column: "total".into(),
                of: "\"a\", \"b\"".into()
            }
        );
        assert!(err.hint().contains("total"));
        let short = Dataset::new(
            vec!["a".into(), "b".into(), "c".into()],
            vec![a[..3].to_vec(), b[..3].to_vec(), a[3..6].to_vec()],
        )
        .unwrap();
        assert!(matches!(
            short.check_identifiable(),
            Err(DataError::FewerRowsThanVariables { rows: 3, cols: 3 })
        ));
    }
}
