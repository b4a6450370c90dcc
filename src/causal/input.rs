//! What every structure learner checks before it starts: enough rows and columns, finite
//! values, no constant column where a learner cannot use one, and settings in range. One error
//! type for all of them, so the page words these problems the same way for every learner.

use nalgebra::DMatrix;
use thiserror::Error;

/// A problem with the data or the settings a learner was given.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum InputError {
    #[error("the data has {n_rows} row{}; {learner} needs at least {min}{why}", if *n_rows == 1 { "" } else { "s" })]
    TooFewRows {
        learner: &'static str,
        n_rows: usize,
        min: usize,
        /// Why, as a clause starting with a space (" to estimate covariances"), or empty.
        why: &'static str,
    },
    #[error("the data has {n_cols} column{}; a causal graph needs at least 2 variables", if *n_cols == 1 { "" } else { "s" })]
    TooFewColumns { n_cols: usize },
    #[error("{}", non_finite_text(*row, *col, *value, &[]))]
    NonFinite { row: usize, col: usize, value: f64 },
    #[error("{}", constant_text(*col, &[]))]
    ConstantColumn { col: usize },
    #[error("{name} is {value}; it must be {allowed}")]
    InvalidParameter {
        name: &'static str,
        value: String,
        allowed: &'static str,
    },
}

impl InputError {
    /// A short heading for the page.
    pub fn title(&self) -> &'static str {
        match self {
            InputError::TooFewRows { .. } => "Not enough rows",
            InputError::TooFewColumns { .. } => "Not enough columns",
            InputError::NonFinite { .. } => "Data is not all numbers",
            InputError::ConstantColumn { .. } => "A column is constant",
            InputError::InvalidParameter { .. } => "Invalid setting",
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> String {
        self.hint_named(&[])
    }

    /// The message, with columns named from `names` (a learner sees a bare matrix and knows
    /// only their numbers; the caller that knows the names passes them).
    pub fn detail_named(&self, names: &[String]) -> String {
        match *self {
            InputError::NonFinite { row, col, value } => non_finite_text(row, col, value, names),
            InputError::ConstantColumn { col } => constant_text(col, names),
            _ => self.to_string(),
        }
    }

    /// [`InputError::hint`], with columns named from `names`.
    pub fn hint_named(&self, names: &[String]) -> String {
        match self {
            InputError::TooFewRows { .. } => {
                "Load a dataset with more observations (hundreds of rows give usable results)."
                    .into()
            }
            InputError::TooFewColumns { .. } => {
                "Keep at least two numeric columns: un-drop columns or load a wider dataset.".into()
            }
            InputError::NonFinite { col, .. } => format!(
                "Remove or fix the row, or drop the column {} before learning.",
                column(*col, names)
            ),
            InputError::ConstantColumn { col } => format!(
                "Drop the column {} in the preview: it carries no information.",
                column(*col, names)
            ),
            InputError::InvalidParameter { name, .. } => {
                format!("Change {name} in the settings, or reset the settings to their defaults.")
            }
        }
    }
}

/// Column `col` as a message names it: `"PKA"` when `names` has it, else its number from 1.
fn column(col: usize, names: &[String]) -> String {
    names
        .get(col)
        .map_or_else(|| (col + 1).to_string(), |n| format!("\"{n}\""))
}

fn non_finite_text(row: usize, col: usize, value: f64, names: &[String]) -> String {
    format!(
        "the value in row {} of column {} is {value}, not a finite number",
        row + 1,
        column(col, names)
    )
}

fn constant_text(col: usize, names: &[String]) -> String {
    format!(
        "column {} is constant, so its variance is zero and it carries no information",
        column(col, names)
    )
}

/// The checks a learner asks for.
#[derive(Debug, Clone, Copy)]
pub struct DataRequirements {
    pub learner: &'static str,
    pub min_rows: usize,
    /// Why `min_rows` (a clause starting with a space, or empty).
    pub why: &'static str,
    /// Refuse a column whose values are all equal.
    pub no_constant_columns: bool,
}

impl DataRequirements {
    /// Checks the n × d data `x`: columns first, then rows, then every value, then constancy.
    pub fn check(&self, x: &DMatrix<f64>) -> Result<(), InputError> {
        let (n, d) = x.shape();
        if d < 2 {
            return Err(InputError::TooFewColumns { n_cols: d });
        }
        if n < self.min_rows {
            return Err(InputError::TooFewRows {
                learner: self.learner,
                n_rows: n,
                min: self.min_rows,
                why: self.why,
            });
        }
        for row in 0..n {
            for col in 0..d {
                let value = x[(row, col)];
                if !value.is_finite() {
                    return Err(InputError::NonFinite { row, col, value });
                }
            }
        }
        if self.no_constant_columns {
            for col in 0..d {
                let first = x[(0, col)];
                if x.column(col).iter().all(|&v| v == first) {
                    return Err(InputError::ConstantColumn { col });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_problem_is_named_with_a_hint() {
        let req = DataRequirements {
            learner: "PC",
            min_rows: 5,
            why: " for the Fisher z test",
            no_constant_columns: true,
        };
        let narrow = DMatrix::from_element(10, 1, 1.0);
        assert_eq!(
            req.check(&narrow),
            Err(InputError::TooFewColumns { n_cols: 1 })
        );
        let short = DMatrix::from_fn(3, 2, |i, j| (i + j) as f64);
        let e = req.check(&short).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the data has 3 rows; PC needs at least 5 for the Fisher z test"
        );
        let mut bad = DMatrix::from_fn(6, 2, |i, j| (i * (j + 1)) as f64);
        bad[(4, 1)] = f64::NAN;
        assert!(matches!(
            req.check(&bad),
            Err(InputError::NonFinite { row: 4, col: 1, .. })
        ));
        let constant = DMatrix::from_fn(6, 2, |i, j| if j == 0 { 1.0 } else { i as f64 });
        assert_eq!(
            req.check(&constant),
            Err(InputError::ConstantColumn { col: 0 })
        );
        let lenient = DataRequirements {
            no_constant_columns: false,
            ..req
        };
        assert_eq!(lenient.check(&constant), Ok(()));
        for e in [
            InputError::ConstantColumn { col: 0 },
            InputError::TooFewColumns { n_cols: 1 },
        ] {
            assert!(!e.title().is_empty() && !e.hint().is_empty());
        }
    }
}
