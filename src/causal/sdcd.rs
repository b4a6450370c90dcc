//! SDCD, Stable Differentiable Causal Discovery (Nazaret, Hong, Azizi & Blei 2023), following
//! the reference package `sdcd` 0.1.4 (azizilab/sdcd: `sdcd/models/_sdcd.py`, `modules.py`):
//! one small MLP per variable with a Gaussian likelihood whose variance is predicted, a
//! pre-selection stage without acyclicity constraint that prunes candidate edges, and a second
//! stage on the pruned model with the spectral-radius penalty γ·ρ(A), its gradient taken from
//! warm-started power iteration.
//!
//! Forward and backward passes are hand-written over flat buffers (the model is small and the
//! same every minibatch), so training allocates nothing after construction. They run in single
//! precision, as the reference's model does (`create_intervention_dataset` makes a
//! `torch.FloatTensor` and the modules are float32), which lets them take four lanes per SIMD
//! instruction instead of two; the parameters, Adam and the penalties stay in f64, and each
//! variable's share of the loss is added up in f64 (see [`Real`]).
//!
//! The learner is steppable: one [`Sdcd::step`] is one minibatch of Adam; epoch-end work
//! (validation, early stopping, the γ freeze, the stage switch, the final DAG) runs inside the
//! step that ends the epoch.

use nalgebra::DMatrix;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::ops::Range;
use thiserror::Error;

use super::input::{DataRequirements, InputError};
use super::{numpy_sign, GraphKind, Knowledge, LearnedGraph, Learner, Rethreshold};
use crate::f32x4::F4;
use crate::f64x2::F2;
use crate::fastmath;
use crate::graph::DiGraph;
use crate::run::{Progress, StepOutcome, StopReason};

/// Settings of SDCD. The defaults are those of the reference `sdcd` 0.1.4: the dictionaries
/// `_DEFAULT_STAGE1_KWARGS`, `_DEFAULT_STAGE2_KWARGS`, `_DEFAULT_MODEL_KWARGS` and the keyword
/// defaults of `_train` and `SDCD.train` in `sdcd/models/_sdcd.py`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SdcdParams {
    /// Hidden units of each variable's MLP (`dim_hidden=10`; one hidden layer, `num_layers=1`).
    pub hidden_units: usize,
    /// Minibatch size of both stages and of validation (`batch_size=256`).
    pub batch_size: usize,
    /// Fraction of rows held out for validation (`val_fraction=0.2`, a random split).
    pub val_fraction: f64,
    /// The validation loss is computed every this many epochs (`n_epochs_check_validation=20`).
    pub validate_every: usize,
    /// Stop a stage after this many validations without improvement (`early_stopping_patience
    /// =10`; in stage 2 only counted while γ is frozen, as in `_train`).
    pub patience: usize,
    /// Stage 1 (pre-selection): Adam learning rate (`learning_rate=2e-3`).
    pub stage1_lr: f64,
    /// Stage 1: L1 weight α on the first-layer weights (`alpha=1e-2`).
    pub stage1_l1: f64,
    /// Stage 1: L2 weight β on all weights and biases (`beta=2e-4`).
    pub stage1_l2: f64,
    /// Stage 1: maximum epochs (`n_epochs=2000`).
    pub stage1_epochs: usize,
    /// Edges with stage-1 adjacency A_ij above this survive into stage 2 (`mask_threshold=0.2`).
    pub mask_threshold: f64,
    /// Stage 2: Adam learning rate (`learning_rate=1e-3`).
    pub stage2_lr: f64,
    /// Stage 2: L1 weight α (`alpha=5e-4`).
    pub stage2_l1: f64,
    /// Stage 2: L2 weight β (`beta=5e-3`).
    pub stage2_l2: f64,
    /// Stage 2: maximum epochs (`n_epochs=2000`).
    pub stage2_epochs: usize,
    /// Stage 2: γ grows by about this per epoch (`gamma_increment=0.005`, linear schedule
    /// `np.linspace(0, gamma_increment * n_epochs, n_epochs)`, so the exact step is
    /// `gamma_increment · n / (n − 1)`).
    pub gamma_increment: f64,
    /// Stage 2: stop raising γ once {A > `freeze_gamma_threshold`} is acyclic
    /// (`freeze_gamma_at_dag=True`).
    pub freeze_gamma_at_dag: bool,
    /// (`freeze_gamma_threshold=0.01`)
    pub freeze_gamma_threshold: f64,
    /// Final edges need A_ij ≥ this; also the graph whose cyclicity un-freezes γ
    /// (`threshold=0.1`).
    pub threshold: f64,
    /// Power-iteration steps per update for ρ(A)'s eigenvectors (`power_iteration_n_steps=15`).
    pub power_iteration_steps: usize,
    /// Standardize each column before learning (`SDCD(standard_scale=False)`).
    pub standardize: bool,
    /// Seed of the split, the initial weights and the shuffling (the reference calls
    /// `set_random_seed_all(0)`; its torch stream cannot be reproduced here).
    pub seed: u64,
}

impl Default for SdcdParams {
    fn default() -> Self {
        SdcdParams {
            hidden_units: 10,
            batch_size: 256,
            val_fraction: 0.2,
            validate_every: 20,
            patience: 10,
            stage1_lr: 2e-3,
            stage1_l1: 1e-2,
            stage1_l2: 2e-4,
            stage1_epochs: 2000,
            mask_threshold: 0.2,
            stage2_lr: 1e-3,
            stage2_l1: 5e-4,
            stage2_l2: 5e-3,
            stage2_epochs: 2000,
            gamma_increment: 0.005,
            freeze_gamma_at_dag: true,
            freeze_gamma_threshold: 0.01,
            threshold: 0.1,
            power_iteration_steps: 15,
            standardize: false,
            seed: 0,
        }
    }
}

impl SdcdParams {
    /// Checks every setting, naming the first bad one.
    pub fn validate(&self) -> Result<(), SdcdError> {
        let bad = |name: &'static str, value: String, allowed: &'static str| {
            Err(SdcdError::Input(InputError::InvalidParameter {
                name,
                value,
                allowed,
            }))
        };
        let count = |name: &'static str, v: usize, max: usize, allowed: &'static str| {
            if v == 0 || v > max {
                bad(name, v.to_string(), allowed)
            } else {
                Ok(())
            }
        };
        count(
            "the hidden units",
            self.hidden_units,
            1000,
            "between 1 and 1000, e.g. 10",
        )?;
        count(
            "the batch size",
            self.batch_size,
            100_000,
            "between 1 and 100000, e.g. 256",
        )?;
        count(
            "the validation interval",
            self.validate_every,
            100_000,
            "at least 1 epoch, e.g. 20",
        )?;
        count(
            "the patience",
            self.patience,
            100_000,
            "at least 1 validation, e.g. 10",
        )?;
        count(
            "the stage-1 epochs",
            self.stage1_epochs,
            1_000_000,
            "between 1 and 1000000, e.g. 2000",
        )?;
        count(
            "the stage-2 epochs",
            self.stage2_epochs,
            1_000_000,
            "between 1 and 1000000, e.g. 2000",
        )?;
        count(
            "the power-iteration steps",
            self.power_iteration_steps,
            10_000,
            "between 1 and 10000, e.g. 15",
        )?;
        // Comparisons are written so that NaN fails them.
        if !(self.val_fraction > 0.0 && self.val_fraction < 1.0) {
            return bad(
                "the validation fraction",
                self.val_fraction.to_string(),
                "strictly between 0 and 1, e.g. 0.2",
            );
        }
        let rates = [
            ("the stage-1 learning rate", self.stage1_lr, "e.g. 0.002"),
            ("the stage-2 learning rate", self.stage2_lr, "e.g. 0.001"),
        ];
        for (name, v, _) in rates {
            if !(v > 0.0 && v <= 10.0) {
                return bad(name, v.to_string(), "a number in (0, 10], e.g. 0.001");
            }
        }
        let nonneg = [
            ("the stage-1 L1 weight α", self.stage1_l1),
            ("the stage-1 L2 weight β", self.stage1_l2),
            ("the stage-2 L1 weight α", self.stage2_l1),
            ("the stage-2 L2 weight β", self.stage2_l2),
            ("the γ increment", self.gamma_increment),
            ("the mask threshold", self.mask_threshold),
            ("the freeze threshold", self.freeze_gamma_threshold),
            ("the edge threshold", self.threshold),
        ];
        for (name, v) in nonneg {
            if !(v >= 0.0 && v.is_finite()) {
                return bad(name, v.to_string(), "a finite number ≥ 0");
            }
        }
        // `_train` asserts this: a DAG at the freeze threshold must be a DAG at the threshold.
        if self.freeze_gamma_at_dag && self.freeze_gamma_threshold > self.threshold {
            return bad(
                "the freeze threshold",
                self.freeze_gamma_threshold.to_string(),
                "at most the edge threshold (e.g. 0.01 with threshold 0.1)",
            );
        }
        Ok(())
    }
}

/// Why SDCD cannot run on the given data, interventions or settings.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SdcdError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("the intervention mask has {found} rows{}; the data has {n_rows} rows and {n_cols} columns", if let Some(c) = bad_row_cols { format!(" and row {} has {} entries", c.0 + 1, c.1) } else { String::new() })]
    InterventionShape {
        found: usize,
        n_rows: usize,
        n_cols: usize,
        /// (row, its length) of the first row of the wrong length.
        bad_row_cols: Option<(usize, usize)>,
    },
    #[error("row {} names the intervened variable \"{name}\", which is not a column (columns: {known})", row + 1)]
    UnknownTarget {
        row: usize,
        name: String,
        known: String,
    },
    #[error("there are {found} intervention labels for {n_rows} rows")]
    LabelCount { found: usize, n_rows: usize },
}

impl SdcdError {
    /// A short heading for the page.
    pub fn title(&self) -> &'static str {
        match self {
            SdcdError::Input(e) => e.title(),
            SdcdError::InterventionShape { .. } | SdcdError::LabelCount { .. } => {
                "Interventions do not match the data"
            }
            SdcdError::UnknownTarget { .. } => "Unknown intervention target",
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> String {
        match self {
            SdcdError::Input(e) => e.hint(),
            SdcdError::InterventionShape { .. } | SdcdError::LabelCount { .. } => {
                "Give one intervention entry per data row (or none to treat all rows as \
                 observational)."
                    .into()
            }
            SdcdError::UnknownTarget { .. } => {
                "Write targets with the exact column names, several joined by '+', ',', ';' or \
                 '|'; leave the cell empty or write 'obs' for an observational row."
                    .into()
            }
        }
    }
}

/// Turns per-row intervention labels into an n × d mask (`true` = that variable was intervened
/// on in that row). A label is empty or `obs` for an observational row, otherwise column names
/// joined by `,` (the reference's separator in `_create_intervention_dataset_helper`), `+`, `;`
/// or `|`; surrounding spaces are ignored. Unlike the reference, which silently drops a name it
/// does not know, an unknown name is an error naming the row.
pub fn intervention_mask_from_labels(
    labels: &[String],
    names: &[String],
) -> Result<Vec<Vec<bool>>, SdcdError> {
    let d = names.len();
    labels
        .iter()
        .enumerate()
        .map(|(row, label)| {
            let mut mask = vec![false; d];
            for part in label.split([',', '+', ';', '|']) {
                let part = part.trim();
                if part.is_empty() || part.eq_ignore_ascii_case("obs") {
                    continue;
                }
                match names.iter().position(|n| n.trim() == part) {
                    Some(j) => mask[j] = true,
                    None => {
                        return Err(SdcdError::UnknownTarget {
                            row,
                            name: part.to_string(),
                            known: names.join(", "),
                        })
                    }
                }
            }
            Ok(mask)
        })
        .collect()
}

/// What the run is doing, for the page and tests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SdcdStats {
    /// 1 (pre-selection) or 2 (acyclicity-constrained).
    pub stage: u8,
    /// Epochs completed in the current stage.
    pub epoch: usize,
    /// Mean training loss (likelihood + penalties) over the last completed epoch.
    pub loss: f64,
    /// The last validation loss (sum of per-batch mean NLLs, as the reference), NaN before.
    pub val_loss: f64,
    /// The current penalty weight γ (0 in stage 1).
    pub gamma: f64,
    /// Whether γ is frozen (a DAG was reached).
    pub gamma_frozen: bool,
    /// The power-iteration estimate uᵀAv / uᵀv of ρ(A), the penalty's value (NaN in stage 1).
    pub spectral_radius: f64,
    /// Candidate edges the stage allows (stage 2: those that survived the pre-selection).
    pub n_candidate_edges: usize,
}

/// The per-variable MLPs of `AutoEncoderLayers(shared_layers=False, model_variance_flavor="nn")`
/// with one hidden layer: for variable j, h = σ(Σ_i x_i W[i, j, :] + b1[j]), mean = wo[j]·h +
/// bo[j], variance = softplus(wv[j]·h + bv[j]). All parameters live in one flat vector.
struct Net {
    d: usize,
    h: usize,
    /// Allowed inputs i → j (`DispatcherLayer.mask`), row-major d × d.
    mask: Vec<bool>,
    /// For each target j, its allowed inputs i in increasing order.
    parents: Vec<Vec<usize>>,
    /// [W (d·d·h, index (i·d + j)·h + k) | b1 (d·h) | wo (d·h) | bo (d) | wv (d·h) | bv (d)].
    theta: Vec<f64>,
}

/// Offsets of the blocks in `Net::theta`.
#[derive(Clone, Copy)]
struct Layout {
    b1: usize,
    wo: usize,
    bo: usize,
    wv: usize,
    bv: usize,
    len: usize,
}

impl Layout {
    /// The blocks after W, each with one run per variable: (offset, run length) of b1, wo,
    /// bo, wv and bv.
    fn per_variable(&self, h: usize) -> [(usize, usize); 5] {
        [
            (self.b1, h),
            (self.wo, h),
            (self.bo, 1),
            (self.wv, h),
            (self.bv, 1),
        ]
    }

    fn new(d: usize, h: usize) -> Layout {
        let b1 = d * d * h;
        let wo = b1 + d * h;
        let bo = wo + d * h;
        let wv = bo + d;
        let bv = wv + d * h;
        Layout {
            b1,
            wo,
            bo,
            wv,
            bv,
            len: bv + d,
        }
    }
}

impl Net {
    /// A fresh model as the reference initializes it. `DispatcherLayer.reset_parameters_
    /// bounded_eigenvalues` draws into `self.weight`, which is the masked product
    /// `_weight * mask`, a temporary: the first-layer weights therefore start at exactly 0 and
    /// only its bias gets U(±1/(d·√h)). The output and variance heads (`LinearParallel`) get
    /// U(±1/√h) for weights and biases.
    fn new(d: usize, h: usize, mask: Vec<bool>, rng: &mut ChaCha8Rng) -> Net {
        let lay = Layout::new(d, h);
        let mut theta = vec![0.0; lay.len];
        let b_first = 1.0 / d as f64 / (h as f64).sqrt();
        for t in &mut theta[lay.b1..lay.wo] {
            *t = rng.random_range(-b_first..b_first);
        }
        let b_head = 1.0 / (h as f64).sqrt();
        for t in &mut theta[lay.wo..lay.len] {
            *t = rng.random_range(-b_head..b_head);
        }
        let parents = (0..d)
            .map(|j| (0..d).filter(|&i| mask[i * d + j]).collect())
            .collect();
        Net {
            d,
            h,
            mask,
            parents,
            theta,
        }
    }

    fn layout(&self) -> Layout {
        Layout::new(self.d, self.h)
    }

    /// The ranges of `theta` that train for variables `targets`: their allowed first-layer
    /// weights and their biases and heads. The rest (masked weights) is 0 with a zero
    /// gradient, and Adam leaves it at 0, so the per-parameter loops skip it; so do the other
    /// shards' parameters in a split run.
    fn active_for(&self, targets: Range<usize>) -> Vec<(usize, usize)> {
        active_ranges(&self.mask, self.h, targets)
    }

    /// A_ij = ‖W[i, j, :]‖₂ (`DispatcherLayer.get_adjacency_matrix`, `adjacency_p=2`).
    fn adjacency_into(&self, a: &mut [f64]) {
        let h = self.h;
        for (ij, out) in a.iter_mut().enumerate() {
            *out = if self.mask[ij] {
                self.theta[ij * h..(ij + 1) * h]
                    .iter()
                    .map(|w| w * w)
                    .sum::<f64>()
                    .sqrt()
            } else {
                0.0
            };
        }
    }

    fn n_candidates(&self) -> usize {
        self.mask.iter().filter(|&&m| m).count()
    }
}

/// The trainable parameters of variables `targets`' networks as maximal runs of `theta`
/// indices: their allowed first-layer weights W[i, j, ·] and their biases and heads.
fn active_ranges(mask: &[bool], h: usize, targets: Range<usize>) -> Vec<(usize, usize)> {
    let d = mask.len().isqrt();
    let lay = Layout::new(d, h);
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut add = |a: usize, b: usize| match runs.last_mut() {
        Some(last) if last.1 == a => last.1 = b,
        _ => runs.push((a, b)),
    };
    for i in 0..d {
        for j in targets.clone() {
            if mask[i * d + j] {
                add((i * d + j) * h, (i * d + j + 1) * h);
            }
        }
    }
    let (j0, j1) = (targets.start, targets.end);
    for (at, per) in lay.per_variable(h) {
        add(at + j0 * per, at + j1 * per);
    }
    runs
}

/// The scalar type of the forward and backward passes: [`Fwd`] (f32) in training, f64 in the
/// tests that compare with a float64 torch model and with finite differences. The functions
/// are branch-free for f32, so the loops over a batch's rows vectorize.
trait Real:
    Copy
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::AddAssign
    + 'static
{
    const ZERO: Self;
    const ONE: Self;
    /// Rounds an f64 to this type.
    fn of(x: f64) -> Self;
    fn wide(self) -> f64;
    /// σ(z) = 1/(1 + e^(−z)).
    fn sigmoid(self) -> Self;
    /// softplus(z) with torch's `threshold=20`, and its derivative σ(z).
    fn softplus(self) -> (Self, Self);
    /// ln x for x > 0.
    fn ln(self) -> Self;
    /// [`Real::sigmoid`] of each value in `z` (rows a multiple of [`LANES`]).
    #[inline(always)]
    fn sigmoid_rows(z: &mut [Self]) {
        for zr in z {
            *zr = zr.sigmoid();
        }
    }

    /// Each row's likelihood term and its gradients (rows a multiple of [`LANES`]): with
    /// (var, var') = softplus(vpre) and res = x − mean, `term` gets
    /// keep·(½res²/var + ½ln var + ½ln 2π), and `mean` and `vpre` are replaced by the gradients
    /// of keep·term/b at the two heads (`inv_b` = 1/b).
    #[inline(always)]
    fn likelihood_rows(
        (x, keep): (&[Self], &[Self]),
        mean: &mut [Self],
        vpre: &mut [Self],
        term: &mut [Self],
        inv_b: Self,
    ) {
        let (half, c) = (Self::of(0.5), Self::of(HALF_LN_2PI));
        for ((((m, v), t), &x), &kr) in mean
            .iter_mut()
            .zip(vpre.iter_mut())
            .zip(term.iter_mut())
            .zip(x)
            .zip(keep)
        {
            let (var, dvar) = v.softplus();
            let res = x - *m;
            let inv_var = Self::ONE / var;
            let q = res * res * inv_var;
            *t = kr * (half * q + half * var.ln() + c);
            *m = Self::ZERO - kr * res * inv_var * inv_b;
            *v = kr * (half * inv_var - half * q * inv_var) * dvar * inv_b;
        }
    }

    /// Variable j's first-layer pre-activations for the batch's `nb` rows: column k of `hid`
    /// (stride `cap`) gets b1[k] + Σ_i W[i, j, k]·x_i over `parents` in order, each product
    /// added one after another; W[i, j, k] is `th[(i·d + j)·h + k]`. `pack` is scratch of
    /// 4·d·h values.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn hidden_pre(
        th: &[Self],
        b1: &[Self],
        (d, j): (usize, usize),
        parents: &[usize],
        x: &[Self],
        (cap, nb): (usize, usize),
        hid: &mut [Self],
        _pack: &mut [Self],
    ) {
        let h = b1.len();
        for (k, &b) in b1.iter().enumerate() {
            let z = &mut hid[k * cap..k * cap + nb];
            z.fill(b);
            // Four inputs per pass over the rows (one load and store of z per four products),
            // added one after another as a pass per input would: the same bits.
            let quads = parents.len() / 4 * 4;
            for p4 in parents[..quads].chunks_exact(4) {
                let p4: [usize; 4] = p4.try_into().unwrap();
                let w = p4.map(|i| th[(i * d + j) * h + k]);
                let [x0, x1, x2, x3] = p4.map(|i| &x[i * cap..i * cap + nb]);
                for ((((zr, &a), &b), &c), &e) in z.iter_mut().zip(x0).zip(x1).zip(x2).zip(x3) {
                    *zr = *zr + w[0] * a + w[1] * b + w[2] * c + w[3] * e;
                }
            }
            for &i in &parents[quads..] {
                let w = th[(i * d + j) * h + k];
                for (zr, &xr) in z.iter_mut().zip(&x[i * cap..i * cap + nb]) {
                    *zr += w * xr;
                }
            }
        }
    }

    /// The heads for the batch's rows: mean[r] = bo + Σ_k wo[k]·hid[k·cap + r] (units in
    /// order, added one after another), vpre likewise from bv and wv.
    #[inline(always)]
    fn heads(
        (bo, bv): (Self, Self),
        (wo, wv): (&[Self], &[Self]),
        hid: &[Self],
        cap: usize,
        mean: &mut [Self],
        vpre: &mut [Self],
    ) {
        let nb = mean.len();
        mean.fill(bo);
        vpre.fill(bv);
        for (k, (&wo, &wv)) in wo.iter().zip(wv).enumerate() {
            for ((m, v), &a) in mean
                .iter_mut()
                .zip(vpre.iter_mut())
                .zip(&hid[k * cap..k * cap + nb])
            {
                *m += wo * a;
                *v += wv * a;
            }
        }
    }

    /// Backward through one hidden unit with activations `a` and the heads' gradients `gm`,
    /// `gv`: returns Σ gm·a and Σ gv·a (as [`dot`] takes them), replaces a by the gradient at
    /// the pre-activation (gm·wo + gv·wv)·a·(1 − a), σ' = σ(1 − σ), and returns its Σ (as
    /// [`sum`] takes it).
    #[inline(always)]
    fn unit_backward(gm: &[Self], gv: &[Self], a: &mut [Self], wo: Self, wv: Self) -> [Self; 3] {
        let (dm, dv) = (dot(gm, a), dot(gv, a));
        for ((a, &gm), &gv) in a.iter_mut().zip(gm).zip(gv) {
            *a = (gm * wo + gv * wv) * *a * (Self::ONE - *a);
        }
        [dm, dv, sum(a)]
    }

    /// Adds Σ_r x_r·hid[k·cap + r] over the `x.len()` rows (a multiple of [`LANES`]) to `out[k]`
    /// for each k, each sum taken as [`dot`] takes it.
    #[inline(always)]
    fn dots_into(x: &[Self], hid: &[Self], cap: usize, out: &mut [Self]) {
        let nb = x.len();
        for (k, o) in out.iter_mut().enumerate() {
            *o += dot(x, &hid[k * cap..k * cap + nb]);
        }
    }
}

impl Real for f64 {
    const ZERO: f64 = 0.0;
    const ONE: f64 = 1.0;
    #[inline(always)]
    fn of(x: f64) -> f64 {
        x
    }
    #[inline(always)]
    fn wide(self) -> f64 {
        self
    }
    #[inline(always)]
    fn sigmoid(self) -> f64 {
        1.0 / (1.0 + fastmath::exp_core(-self))
    }
    #[inline(always)]
    fn softplus(self) -> (f64, f64) {
        if self > 20.0 {
            (self, 1.0)
        } else {
            // One exp: σ(z) = eᶻ/(1 + eᶻ).
            let e = fastmath::exp(self);
            (fastmath::ln_1p(e), e / (1.0 + e))
        }
    }
    #[inline(always)]
    fn ln(self) -> f64 {
        fastmath::ln(self)
    }
}

impl Real for f32 {
    const ZERO: f32 = 0.0;
    const ONE: f32 = 1.0;
    #[inline(always)]
    fn of(x: f64) -> f32 {
        x as f32
    }
    #[inline(always)]
    fn wide(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn sigmoid(self) -> f32 {
        1.0 / (1.0 + fastmath::exp_core_f32(-self))
    }
    /// Four lanes at a time, the same bits as [`Real::sigmoid`] (LLVM left that loop scalar).
    #[inline(always)]
    fn sigmoid_rows(z: &mut [f32]) {
        let one = F4::splat(1.0);
        for q in z.chunks_exact_mut(4) {
            let q: &mut [f32; 4] = q.try_into().unwrap();
            let e = fastmath::exp_core_f32x4(F4::load(q).neg());
            one.div(one.add(e)).store(q);
        }
    }
    /// Four lanes at a time, the same bits as the default (which LLVM vectorized natively but
    /// left scalar in wasm), with [`Real::softplus`]'s branches as selects.
    #[inline(always)]
    fn likelihood_rows(
        (x, keep): (&[f32], &[f32]),
        mean: &mut [f32],
        vpre: &mut [f32],
        term: &mut [f32],
        inv_b: f32,
    ) {
        let (zero, one, half) = (F4::splat(0.0), F4::splat(1.0), F4::splat(0.5));
        let (c, inv_b) = (F4::splat(HALF_LN_2PI as f32), F4::splat(inv_b));
        for r in (0..term.len()).step_by(4) {
            let v = F4::at(vpre, r);
            // softplus(v) and σ(v), as `softplus` computes them.
            let e = fastmath::exp_core_f32x4(v.bits_and(0x7fff_ffff).neg());
            let u = one.add(e);
            let du = u.sub(one);
            let log1p = du
                .eq(zero)
                .select(e, fastmath::ln_core_f32x4(u).mul(e.div(du)));
            let dvar = v.ge(zero).select(one.div(u), e.div(u));
            let var = v.max(zero).add(log1p);
            let (m, kr) = (F4::at(mean, r), F4::at(keep, r));
            let res = F4::at(x, r).sub(m);
            let inv_var = one.div(var);
            let q = res.mul(res).mul(inv_var);
            let ln_var = fastmath::ln_core_f32x4(var);
            kr.mul(half.mul(q).add(half.mul(ln_var)).add(c))
                .put(term, r);
            zero.sub(kr.mul(res).mul(inv_var).mul(inv_b)).put(mean, r);
            kr.mul(half.mul(inv_var).sub(half.mul(q).mul(inv_var)))
                .mul(dvar)
                .mul(inv_b)
                .put(vpre, r);
        }
    }
    /// max(z, 0) + ln(1 + e^(−|z|)), with ln(1 + e) corrected for the rounding of 1 + e
    /// (Goldberg 1991, Theorem 4) and e itself where 1 + e rounds to 1. Above z = 20 the
    /// second term is below half an ulp of z, so this is z there, as torch's threshold gives.
    #[inline(always)]
    fn softplus(self) -> (f32, f32) {
        let e = fastmath::exp_core_f32(-self.abs());
        let u = 1.0 + e;
        let du = u - 1.0;
        let log1p = if du == 0.0 {
            e
        } else {
            fastmath::ln_core_f32(u) * (e / du)
        };
        let sig = if self >= 0.0 { 1.0 / u } else { e / u };
        // A comparison, not `max`: in wasm `f32::max` is a call to libm's `fmaxf` per lane.
        (if self > 0.0 { self } else { 0.0 } + log1p, sig)
    }
    #[inline(always)]
    fn ln(self) -> f32 {
        fastmath::ln_core_f32(self)
    }

    /// Register-blocked: eight rows of four (then two, then one) hidden units stay in registers
    /// while the inputs stream by, one load of each input's rows for all the units; the
    /// weights are first laid out in `pack` by input, unit and lane (each repeated four times),
    /// so the loop loads them ready to multiply.
    #[inline(always)]
    fn hidden_pre(
        th: &[f32],
        b1: &[f32],
        (d, j): (usize, usize),
        parents: &[usize],
        x: &[f32],
        (cap, nb): (usize, usize),
        hid: &mut [f32],
        pack: &mut [f32],
    ) {
        let h = b1.len();
        let pack = &mut pack[..4 * h * parents.len()];
        for (&i, wp) in parents.iter().zip(pack.chunks_exact_mut(4 * h)) {
            let w = &th[(i * d + j) * h..(i * d + j + 1) * h];
            for (lanes, &wk) in wp.chunks_exact_mut(4).zip(w) {
                lanes.fill(wk);
            }
        }
        let pack = &*pack;
        for r0 in (0..nb).step_by(LANES) {
            let mut k = 0;
            while k + 4 <= h {
                hidden_tile::<4>(pack, b1, parents, x, (cap, r0, k), hid);
                k += 4;
            }
            if k + 2 <= h {
                hidden_tile::<2>(pack, b1, parents, x, (cap, r0, k), hid);
                k += 2;
            }
            if k < h {
                hidden_tile::<1>(pack, b1, parents, x, (cap, r0, k), hid);
            }
        }
    }

    /// Eight rows of both heads stay in registers while the units stream by.
    #[inline(always)]
    fn heads(
        (bo, bv): (f32, f32),
        (wo, wv): (&[f32], &[f32]),
        hid: &[f32],
        cap: usize,
        mean: &mut [f32],
        vpre: &mut [f32],
    ) {
        let nb = mean.len();
        for r0 in (0..nb).step_by(LANES) {
            let (mut m, mut v) = ([F4::splat(bo); 2], [F4::splat(bv); 2]);
            for (k, (&wo, &wv)) in wo.iter().zip(wv).enumerate() {
                let a = &hid[k * cap + r0..k * cap + r0 + LANES];
                let (a0, a1) = (F4::at(a, 0), F4::at(a, 4));
                let (wo, wv) = (F4::splat(wo), F4::splat(wv));
                m = [m[0].add(wo.mul(a0)), m[1].add(wo.mul(a1))];
                v = [v[0].add(wv.mul(a0)), v[1].add(wv.mul(a1))];
            }
            m[0].put(mean, r0);
            m[1].put(mean, r0 + 4);
            v[0].put(vpre, r0);
            v[1].put(vpre, r0 + 4);
        }
    }

    /// The three sums and the update in one pass over the rows.
    #[inline(always)]
    fn unit_backward(gm: &[f32], gv: &[f32], a: &mut [f32], wo: f32, wv: f32) -> [f32; 3] {
        let (wo, wv, one) = (F4::splat(wo), F4::splat(wv), F4::splat(1.0));
        let mut acc = [[F4::splat(0.0); 2]; 3];
        for ((a, gm), gv) in a
            .chunks_exact_mut(LANES)
            .zip(gm.chunks_exact(LANES))
            .zip(gv.chunks_exact(LANES))
        {
            for (l, at) in [0, 4].into_iter().enumerate() {
                let (x, m, v) = (F4::at(a, at), F4::at(gm, at), F4::at(gv, at));
                acc[0][l] = acc[0][l].add(m.mul(x));
                acc[1][l] = acc[1][l].add(v.mul(x));
                let g = m.mul(wo).add(v.mul(wv)).mul(x).mul(one.sub(x));
                acc[2][l] = acc[2][l].add(g);
                g.put(a, at);
            }
        }
        acc.map(|[lo, hi]| {
            let mut lanes = [0.0; LANES];
            lanes[..4].copy_from_slice(&lo.to_array());
            lanes[4..].copy_from_slice(&hi.to_array());
            lane_sum(lanes)
        })
    }

    /// Register-blocked: four (then two, then one) sums at once, each input row loaded once
    /// for all of them.
    #[inline(always)]
    fn dots_into(x: &[f32], hid: &[f32], cap: usize, out: &mut [f32]) {
        let h = out.len();
        let mut k = 0;
        while k + 4 <= h {
            dots_tile::<4>(x, hid, cap, k, out);
            k += 4;
        }
        if k + 2 <= h {
            dots_tile::<2>(x, hid, cap, k, out);
            k += 2;
        }
        if k < h {
            dots_tile::<1>(x, hid, cap, k, out);
        }
    }
}

/// [`Real::hidden_pre`] for rows `r0..r0 + 8` of units `k0..k0 + KB`: the same additions in
/// the same order, in registers.
#[inline(always)]
fn hidden_tile<const KB: usize>(
    pack: &[f32],
    b1: &[f32],
    parents: &[usize],
    x: &[f32],
    (cap, r0, k0): (usize, usize, usize),
    hid: &mut [f32],
) {
    let h = b1.len();
    let mut acc: [[F4; 2]; KB] = std::array::from_fn(|q| [F4::splat(b1[k0 + q]); 2]);
    for (&i, wp) in parents.iter().zip(pack.chunks_exact(4 * h)) {
        let xs = &x[i * cap + r0..i * cap + r0 + LANES];
        let (xa, xb) = (F4::at(xs, 0), F4::at(xs, 4));
        let w = &wp[4 * k0..4 * (k0 + KB)];
        for (a, wq) in acc.iter_mut().zip(w.chunks_exact(4)) {
            let wq = F4::at(wq, 0);
            a[0] = a[0].add(wq.mul(xa));
            a[1] = a[1].add(wq.mul(xb));
        }
    }
    for (q, [a, b]) in acc.into_iter().enumerate() {
        a.put(hid, (k0 + q) * cap + r0);
        b.put(hid, (k0 + q) * cap + r0 + 4);
    }
}

/// [`Real::dots_into`] for units `k0..k0 + KB`: lane l of a sum takes rows r ≡ l (mod 8) in
/// order, then the lanes are added in order, as [`dot`] does.
#[inline(always)]
fn dots_tile<const KB: usize>(x: &[f32], hid: &[f32], cap: usize, k0: usize, out: &mut [f32]) {
    let nb = x.len();
    let cols: [&[f32]; KB] = std::array::from_fn(|q| &hid[(k0 + q) * cap..(k0 + q) * cap + nb]);
    let mut acc = [[F4::splat(0.0); 2]; KB];
    for r0 in (0..nb).step_by(LANES) {
        let (xa, xb) = (F4::at(x, r0), F4::at(x, r0 + 4));
        for (a, col) in acc.iter_mut().zip(&cols) {
            a[0] = a[0].add(xa.mul(F4::at(col, r0)));
            a[1] = a[1].add(xb.mul(F4::at(col, r0 + 4)));
        }
    }
    for (q, [a, b]) in acc.into_iter().enumerate() {
        let mut lanes = [0.0; LANES];
        lanes[..4].copy_from_slice(&a.to_array());
        lanes[4..].copy_from_slice(&b.to_array());
        out[k0 + q] += lane_sum(lanes);
    }
}

/// The forward and backward passes' scalar in training (the reference's float32).
type Fwd = f32;

/// A sum over a batch's rows runs as this many partial sums, rows r ≡ l (mod LANES) in lane
/// l, then over the lanes: two 4-lane f32 registers, independent chains of additions.
const LANES: usize = 8;

/// Reused buffers for one minibatch, batch-major: each variable's (and each hidden unit's)
/// values for the batch's rows are contiguous, so every pass is a loop over rows that
/// vectorizes (four f32 rows per instruction in 128-bit SIMD). The rows are padded to a
/// multiple of [`LANES`] with x = 0 and keep = 0, which makes the padding's loss and gradient
/// exactly 0.
struct Work<T> {
    /// Row capacity (a multiple of LANES): the stride between columns.
    cap: usize,
    /// Rows in the batch, and rounded up to LANES.
    rows: usize,
    padded: usize,
    /// x[i·cap + r].
    x: Vec<T>,
    /// 1 where variable j's likelihood counts in row r (not intervened), keep[j·cap + r].
    keep: Vec<T>,
    /// hid[(j·h + k)·cap + r]: activations, then (backward) the gradient at the
    /// pre-activations.
    hid: Vec<T>,
    /// Means and variance pre-activations, then ∂NLL/∂mean and ∂NLL/∂(variance
    /// pre-activation), [j·cap + r].
    g_mean: Vec<T>,
    g_vpre: Vec<T>,
    /// One variable's likelihood terms for the batch's rows, summed once complete.
    term: Vec<T>,
    /// Scratch for [`Real::hidden_pre`].
    pack: Vec<T>,
}

impl<T: Real> Work<T> {
    fn new(d: usize, h: usize, max_rows: usize) -> Work<T> {
        let cap = max_rows.div_ceil(LANES) * LANES;
        Work {
            cap,
            rows: 0,
            padded: 0,
            x: vec![T::ZERO; d * cap],
            keep: vec![T::ZERO; d * cap],
            hid: vec![T::ZERO; d * h * cap],
            g_mean: vec![T::ZERO; d * cap],
            g_vpre: vec![T::ZERO; d * cap],
            term: vec![T::ZERO; cap],
            pack: vec![T::ZERO; 4 * d * h],
        }
    }

    /// Starts a batch of `rows` rows: the padding rows get x = 0 and keep = 0.
    fn start(&mut self, rows: usize) {
        assert!(rows <= self.cap);
        self.rows = rows;
        self.padded = rows.div_ceil(LANES) * LANES;
        let d = self.x.len() / self.cap;
        for j in 0..d {
            for r in rows..self.padded {
                self.x[j * self.cap + r] = T::ZERO;
                self.keep[j * self.cap + r] = T::ZERO;
            }
        }
    }

    /// Starts a batch of the given rows of column-major data `x` and keep flags `keep`
    /// (`x[j·n + r]`): a gather down each column, whose reads stay within one column.
    fn gather(&mut self, rows: &[usize], x: &[T], keep: &[T], n: usize) {
        self.start(rows.len());
        let (cap, b) = (self.cap, rows.len());
        let cols = x.chunks_exact(n).zip(keep.chunks_exact(n));
        let dest = self
            .x
            .chunks_exact_mut(cap)
            .zip(self.keep.chunks_exact_mut(cap));
        for ((xc, kc), (xo, ko)) in cols.zip(dest) {
            for ((xo, ko), &r) in xo[..b].iter_mut().zip(&mut ko[..b]).zip(rows) {
                *xo = xc[r];
                *ko = kc[r];
            }
        }
    }

    /// Sets row `r` of the batch from a row of data and its keep flags.
    #[cfg(test)]
    fn set_row(&mut self, r: usize, x: &[T], keep: &[T]) {
        for (j, (&xj, &kj)) in x.iter().zip(keep).enumerate() {
            self.x[j * self.cap + r] = xj;
            self.keep[j * self.cap + r] = kj;
        }
    }
}

const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// Σ of the lanes of `acc`, in order.
#[inline(always)]
fn lane_sum<T: Real>(acc: [T; LANES]) -> T {
    let mut s = acc[0];
    for &a in &acc[1..] {
        s += a;
    }
    s
}

/// Σ_r a_r b_r over rows a multiple of LANES long, lane by lane, then over the lanes.
#[inline(always)]
fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    let mut acc = [T::ZERO; LANES];
    for (u, v) in a.chunks_exact(LANES).zip(b.chunks_exact(LANES)) {
        for l in 0..LANES {
            acc[l] += u[l] * v[l];
        }
    }
    lane_sum(acc)
}

/// Σ_r a_r over rows a multiple of LANES long, lane by lane, then over the lanes.
#[inline(always)]
fn sum<T: Real>(a: &[T]) -> T {
    let mut acc = [T::ZERO; LANES];
    for u in a.chunks_exact(LANES) {
        for l in 0..LANES {
            acc[l] += u[l];
        }
    }
    lane_sum(acc)
}

/// The Gaussian NLL of the batch in `work` for parameters `th` (the model's, rounded to `T`),
/// variables `targets` only: `nll[j]` gets the sum of variable j's terms over the rows (divide
/// the sum over j by the batch size for `reconstruction_loss`, [`batch_nll`]), and, when `grad`
/// is given, the gradient of the batch's mean NLL is added into it. Every sum over rows is
/// taken lane by lane (rows r ≡ l mod LANES in order), then over the lanes: the same order
/// natively and in wasm. Each variable's terms and gradient depend on its own network only, so
/// any split of the targets gives the same bits.
fn nll_batch<T: Real>(
    net: &Net,
    th: &[T],
    work: &mut Work<T>,
    targets: Range<usize>,
    nll: &mut [f64],
    grad: Option<&mut [T]>,
) {
    let (d, h) = (net.d, net.h);
    let lay = net.layout();
    let (cap, b, nb) = (work.cap, work.rows, work.padded);
    let inv_b = T::of(1.0 / b as f64);
    for j in targets.clone() {
        // Hidden units: b1 + Σ_i x_i W[i, j, k] (inputs in increasing order), then σ.
        let hid = &mut work.hid[j * h * cap..(j + 1) * h * cap];
        T::hidden_pre(
            th,
            &th[lay.b1 + j * h..lay.b1 + (j + 1) * h],
            (d, j),
            &net.parents[j],
            &work.x,
            (cap, nb),
            hid,
            &mut work.pack,
        );
        for k in 0..h {
            let z = &mut hid[k * cap..k * cap + nb];
            if net.parents[j].is_empty() {
                // Without inputs a unit is σ(b1) in every row.
                z.fill(z[0].sigmoid());
            } else {
                T::sigmoid_rows(z);
            }
        }
        // The heads, then each row's likelihood term and its gradients.
        let (mean, vpre) = (
            &mut work.g_mean[j * cap..j * cap + nb],
            &mut work.g_vpre[j * cap..j * cap + nb],
        );
        T::heads(
            (th[lay.bo + j], th[lay.bv + j]),
            (
                &th[lay.wo + j * h..lay.wo + (j + 1) * h],
                &th[lay.wv + j * h..lay.wv + (j + 1) * h],
            ),
            &work.hid[j * h * cap..(j + 1) * h * cap],
            cap,
            mean,
            vpre,
        );
        let (xj, keep) = (
            &work.x[j * cap..j * cap + nb],
            &work.keep[j * cap..j * cap + nb],
        );
        let term = &mut work.term[..nb];
        T::likelihood_rows((xj, keep), mean, vpre, term, inv_b);
        nll[j] = sum(term).wide();
    }
    if let Some(g) = grad {
        heads_grad(net, th, work, targets.clone(), g);
        first_layer_grad(net, work, targets, g);
    }
}

/// The batch's mean NLL from every variable's sum of terms ([`nll_batch`]), added in variable
/// order whichever worker computed them.
fn batch_nll(nll: &[f64], rows: usize) -> f64 {
    nll.iter().sum::<f64>() / rows as f64
}

/// Backward through the heads: adds the gradients of the output and variance heads and of
/// the first layer's bias into `g`, and replaces each activation in `work.hid` by the gradient
/// at its pre-activation.
// Kept out of `nll_batch` (both backward passes): inlined there, the forward loops' registers
// came out worse, 2–3 % slower natively.
#[inline(never)]
fn heads_grad<T: Real>(
    net: &Net,
    th: &[T],
    work: &mut Work<T>,
    targets: Range<usize>,
    g: &mut [T],
) {
    let h = net.h;
    let lay = net.layout();
    let (cap, nb) = (work.cap, work.padded);
    for j in targets {
        let (gm, gv) = (
            &work.g_mean[j * cap..j * cap + nb],
            &work.g_vpre[j * cap..j * cap + nb],
        );
        g[lay.bo + j] += sum(gm);
        g[lay.bv + j] += sum(gv);
        for k in 0..h {
            let (wo, wv) = (th[lay.wo + j * h + k], th[lay.wv + j * h + k]);
            let col = (j * h + k) * cap;
            let a = &mut work.hid[col..col + nb];
            let [dm, dv, db] = T::unit_backward(gm, gv, a, wo, wv);
            g[lay.wo + j * h + k] += dm;
            g[lay.wv + j * h + k] += dv;
            g[lay.b1 + j * h + k] += db;
        }
    }
}

/// Adds Σ_r x_ri ∂z_rjk to the first layer's weight gradient, with `work.hid` holding the
/// pre-activation gradients ∂z.
#[inline(never)]
fn first_layer_grad<T: Real>(net: &Net, work: &Work<T>, targets: Range<usize>, g: &mut [T]) {
    let (d, h) = (net.d, net.h);
    let (cap, nb) = (work.cap, work.padded);
    for j in targets {
        let hid = &work.hid[j * h * cap..(j + 1) * h * cap];
        for &i in &net.parents[j] {
            let base = (i * d + j) * h;
            T::dots_into(
                &work.x[i * cap..i * cap + nb],
                hid,
                cap,
                &mut g[base..base + h],
            );
        }
    }
}

/// Adds the gradients of α·Σ|W| (masked first layer; torch's |x|' is sign(x), 0 at 0),
/// β·Σθ² (`l2_reg_all_weights`: every parameter) and, with eigenvectors `(u, v, c)`,
/// γ·Σ_ij c u_i v_j A_ij (`dag_reg_power_grad`: the eigenvector factor is detached) to `grad`
/// for the parameters of variables `targets`' networks, and writes each such variable's share
/// of the penalties' value (its W[·, j, ·], its biases and heads, column j of A) to `pen[j]`.
/// `adj` must hold the current adjacency when `eig` is given.
#[allow(clippy::too_many_arguments)]
fn add_penalties(
    net: &Net,
    alpha: f64,
    beta: f64,
    gamma: f64,
    eig: Option<(&[f64], &[f64], f64)>,
    adj: &[f64],
    targets: Range<usize>,
    grad: &mut [f64],
    pen: &mut [f64],
) {
    let (d, h) = (net.d, net.h);
    let lay = net.layout();
    let theta = &net.theta;
    // Each parameter's gradient gets its L1 term, then its L2 term, then the spectral one, in
    // that order whatever the grouping. The values are only reported (in the epoch's training
    // loss); their sums run per block in two lanes.
    for j in targets {
        let (mut l1, mut l2, mut dag) = (0.0, 0.0, 0.0);
        for i in (0..d).filter(|&i| net.mask[i * d + j]) {
            let block = (i * d + j) * h..(i * d + j + 1) * h;
            let (w, g) = (&theta[block.clone()], &mut grad[block]);
            let (abs, sq) = penalize_block(Some(alpha), 2.0 * beta, w, g);
            l1 += abs;
            l2 += sq;
            if let Some((u, v, c)) = eig {
                let a = adj[i * d + j];
                dag += c * u[i] * v[j] * a;
                // ∂A_ij/∂W_ijk = W_ijk / A_ij, 0 at A_ij = 0 as torch's norm backward.
                if a > 0.0 && gamma != 0.0 {
                    let s = gamma * c * u[i] * v[j] / a;
                    for (g, &w) in g.iter_mut().zip(w) {
                        *g += s * w;
                    }
                }
            }
        }
        for (at, per) in lay.per_variable(h) {
            let block = at + j * per..at + (j + 1) * per;
            l2 += penalize_block(None, 2.0 * beta, &theta[block.clone()], &mut grad[block]).1;
        }
        pen[j] = alpha * l1 + beta * l2 + gamma * dag;
    }
}

/// Adds α·sign(w) (when `alpha` is given), then 2β·w to each gradient of the block `w`, two
/// lanes at a time (LLVM left these loops scalar in wasm) with the same operations on each
/// element; returns Σ|w| and Σw².
#[inline(always)]
fn penalize_block(alpha: Option<f64>, two_beta: f64, w: &[f64], g: &mut [f64]) -> (f64, f64) {
    let pairs = w.len() / 2 * 2;
    let (alpha2, two_beta2) = (F2::splat(alpha.unwrap_or(0.0)), F2::splat(two_beta));
    let (mut abs2, mut sq2) = (F2::splat(0.0), F2::splat(0.0));
    for (g, w) in g[..pairs].chunks_exact_mut(2).zip(w.chunks_exact(2)) {
        let (g, w): (&mut [f64; 2], _) = (g.try_into().unwrap(), F2::load(w.try_into().unwrap()));
        let mut gn = F2::load(g);
        if alpha.is_some() {
            abs2 = abs2.add(w.abs());
            gn = gn.add(alpha2.mul(w.numpy_sign()));
        }
        sq2 = sq2.add(w.mul(w));
        gn.add(two_beta2.mul(w)).store(g);
    }
    let ([a0, a1], [s0, s1]) = (abs2.to_array(), sq2.to_array());
    let (mut abs, mut sq) = (a0 + a1, s0 + s1);
    for (g, &w) in g[pairs..].iter_mut().zip(&w[pairs..]) {
        if let Some(alpha) = alpha {
            abs += w.abs();
            *g += alpha * numpy_sign(w);
        }
        sq += w * w;
        *g += two_beta * w;
    }
    (abs, sq)
}

/// torch.optim.Adam with its defaults (betas 0.9, 0.999, eps 1e-8, no weight decay: the
/// reference adds its L1/L2 penalties to the loss instead).
struct Adam {
    lr: f64,
    t: i32,
    m: Vec<f64>,
    v: Vec<f64>,
}

impl Adam {
    const B1: f64 = 0.9;
    const B2: f64 = 0.999;
    const EPS: f64 = 1e-8;

    fn new(lr: f64, len: usize) -> Adam {
        Adam {
            lr,
            t: 0,
            m: vec![0.0; len],
            v: vec![0.0; len],
        }
    }

    /// One step on the parameters in `ranges` (the others' gradients must be 0 and their
    /// moments are, so Adam would leave them as they are).
    fn step(&mut self, theta: &mut [f64], grad: &[f64], ranges: &[(usize, usize)]) {
        self.t += 1;
        let bc1 = 1.0 - Self::B1.powi(self.t);
        let bc2_sqrt = (1.0 - Self::B2.powi(self.t)).sqrt();
        let step = self.lr / bc1;
        for &(a, b) in ranges {
            Self::update(
                step,
                bc2_sqrt,
                &mut theta[a..b],
                &grad[a..b],
                &mut self.m[a..b],
                &mut self.v[a..b],
            );
        }
    }

    #[inline(always)]
    fn update(
        step: f64,
        bc2_sqrt: f64,
        theta: &mut [f64],
        grad: &[f64],
        m: &mut [f64],
        v: &mut [f64],
    ) {
        // Two lanes at a time (LLVM left this loop scalar), the same operations in the same
        // order as the scalar tail.
        let pairs = theta.len() / 2 * 2;
        let (b1, c1) = (F2::splat(Self::B1), F2::splat(1.0 - Self::B1));
        let (b2, c2) = (F2::splat(Self::B2), F2::splat(1.0 - Self::B2));
        let (step2, bc2, eps) = (F2::splat(step), F2::splat(bc2_sqrt), F2::splat(Self::EPS));
        for (((p, g), m), v) in theta[..pairs]
            .chunks_exact_mut(2)
            .zip(grad.chunks_exact(2))
            .zip(m.chunks_exact_mut(2))
            .zip(v.chunks_exact_mut(2))
        {
            let (p, m, v): (&mut [f64; 2], &mut [f64; 2], &mut [f64; 2]) = (
                p.try_into().unwrap(),
                m.try_into().unwrap(),
                v.try_into().unwrap(),
            );
            let g = F2::load(g.try_into().unwrap());
            let mn = b1.mul(F2::load(m)).add(c1.mul(g));
            let vn = b2.mul(F2::load(v)).add(c2.mul(g).mul(g));
            let pn = F2::load(p).sub(step2.mul(mn).div(vn.sqrt().div(bc2).add(eps)));
            mn.store(m);
            vn.store(v);
            pn.store(p);
        }
        for (((p, &g), m), v) in theta[pairs..]
            .iter_mut()
            .zip(&grad[pairs..])
            .zip(m[pairs..].iter_mut())
            .zip(v[pairs..].iter_mut())
        {
            *m = Self::B1 * *m + (1.0 - Self::B1) * g;
            *v = Self::B2 * *v + (1.0 - Self::B2) * g * g;
            *p -= step * *m / (v.sqrt() / bc2_sqrt + Self::EPS);
        }
    }
}

/// `PowerIterationGradient`: left (u) and right (v) leading eigenvectors of A + 1e-6, warm
/// started across updates; ∇ρ(A) ≈ u vᵀ / (uᵀv + 1e-6).
struct PowerIteration {
    d: usize,
    n_iter: usize,
    u: Vec<f64>,
    v: Vec<f64>,
    nu: Vec<f64>,
    nv: Vec<f64>,
    /// A + 1e-6 for the current update.
    shifted: Vec<f64>,
}

impl PowerIteration {
    fn new(d: usize, n_iter: usize, a: &[f64]) -> PowerIteration {
        let e = 1.0 / (d as f64).sqrt();
        let mut p = PowerIteration {
            d,
            n_iter,
            u: vec![e; d],
            v: vec![e; d],
            nu: vec![0.0; d],
            nv: vec![0.0; d],
            shifted: vec![0.0; d * d],
        };
        p.iterate(a);
        p
    }

    /// `n_iter` steps of u ← normalize((A + 1e-6)ᵀu), v ← normalize((A + 1e-6)v). Four rows
    /// of A at a time: four independent sums for v (each over j in order) and, for u, the
    /// four rows' terms added in row order, so the bits of a row at a time.
    fn iterate(&mut self, a: &[f64]) {
        let d = self.d;
        for (s, &x) in self.shifted.iter_mut().zip(a) {
            *s = x + 1e-6;
        }
        for _ in 0..self.n_iter {
            self.nu.iter_mut().for_each(|x| *x = 0.0);
            let (u, v) = (&self.u[..d], &self.v[..d]);
            let nu = &mut self.nu[..d];
            let mut quads = self.shifted.chunks_exact(4 * d);
            for (q, rows) in (&mut quads).enumerate() {
                let (r0, rest) = rows.split_at(d);
                let (r1, rest) = rest.split_at(d);
                let (r2, r3) = rest.split_at(d);
                let ui: [f64; 4] = u[4 * q..4 * q + 4].try_into().unwrap();
                let mut s = [0.0; 4];
                for j in 0..d {
                    let (a0, a1, a2, a3) = (r0[j], r1[j], r2[j], r3[j]);
                    s[0] += a0 * v[j];
                    s[1] += a1 * v[j];
                    s[2] += a2 * v[j];
                    s[3] += a3 * v[j];
                    nu[j] = nu[j] + a0 * ui[0] + a1 * ui[1] + a2 * ui[2] + a3 * ui[3];
                }
                self.nv[4 * q..4 * q + 4].copy_from_slice(&s);
            }
            let done = (d / 4) * 4;
            for (i, row) in quads.remainder().chunks_exact(d).enumerate() {
                let i = done + i;
                let mut s = 0.0;
                for j in 0..d {
                    s += row[j] * v[j];
                    nu[j] += row[j] * u[i];
                }
                self.nv[i] = s;
            }
            normalize(&mut self.nu);
            normalize(&mut self.nv);
            std::mem::swap(&mut self.u, &mut self.nu);
            std::mem::swap(&mut self.v, &mut self.nv);
        }
    }

    /// Updates the eigenvectors on A and returns the penalty uᵀAv/(uᵀv + 1e-6) ≈ ρ(A); the
    /// gradient with respect to A_ij is `u_i v_j / (uᵀv + 1e-6)`, see [`Self::coef`].
    fn update(&mut self, a: &[f64]) -> f64 {
        self.iterate(a);
        let c = self.coef();
        let d = self.d;
        let mut val = 0.0;
        for i in 0..d {
            for j in 0..d {
                val += self.u[i] * self.v[j] * a[i * d + j];
            }
        }
        val * c
    }

    fn coef(&self) -> f64 {
        1.0 / (self.u.iter().zip(&self.v).map(|(a, b)| a * b).sum::<f64>() + 1e-6)
    }
}

fn normalize(x: &mut [f64]) {
    let n = x.iter().map(|v| v * v).sum::<f64>().sqrt();
    if n > 0.0 {
        x.iter_mut().for_each(|v| *v /= n);
    }
}

/// Whether the graph {A_ij > t} is acyclic (`nx.is_directed_acyclic_graph(nx.DiGraph(B > t))`).
fn is_dag_above(a: &[f64], d: usize, t: f64) -> bool {
    let mut g = DiGraph::empty(d);
    for i in 0..d {
        for j in 0..d {
            if a[i * d + j] > t {
                if i == j {
                    return false;
                }
                g.add_edge(i, j);
            }
        }
    }
    g.is_acyclic()
}

/// `SDCD.adjacency_dag_at_threshold`: edges by decreasing weight, each added unless it would
/// close a cycle, until the weights fall below `threshold`. `required` edges are placed first
/// (an extension for background knowledge; empty in the reference).
pub fn dag_at_threshold(a: &DMatrix<f64>, threshold: f64, required: &[(usize, usize)]) -> DiGraph {
    let d = a.nrows();
    let mut g = DiGraph::empty(d);
    let reaches = |g: &DiGraph, from: usize, to: usize| {
        let mut seen = vec![false; d];
        let mut stack = vec![from];
        seen[from] = true;
        while let Some(n) = stack.pop() {
            if n == to {
                return true;
            }
            for (c, seen_c) in seen.iter_mut().enumerate() {
                if !*seen_c && g.has_edge(n, c) {
                    *seen_c = true;
                    stack.push(c);
                }
            }
        }
        false
    };
    for &(i, j) in required {
        if i < d && j < d && !reaches(&g, j, i) {
            g.add_edge(i, j);
        }
    }
    // Row-major order then a stable sort, as Python's `list.sort` on `itertools.product`.
    let mut edges: Vec<(usize, usize, f64)> = (0..d * d)
        .map(|k| (k / d, k % d, a[(k / d, k % d)]))
        .filter(|e| !e.2.is_nan())
        .collect();
    edges.sort_by(|x, y| y.2.total_cmp(&x.2));
    for (i, j, w) in edges {
        if w < threshold {
            break;
        }
        // nx.has_path(g, i, i) is true, so self-loops are never added.
        if !reaches(&g, j, i) {
            g.add_edge(i, j);
        }
    }
    g
}

/// Row-major n × d values as column-major single precision (`out[j·n + r]`).
fn column_major(m: &[f64], d: usize) -> Vec<Fwd> {
    (0..d)
        .flat_map(|j| m.iter().skip(j).step_by(d).map(|&v| v as Fwd))
        .collect()
}

/// SDCD in progress.
pub struct Sdcd {
    d: usize,
    params: SdcdParams,
    /// Data, n × d column-major (`x[j·n + r]`; standardized if asked, in f64, then rounded to
    /// f32).
    x: Vec<Fwd>,
    /// 1 where a row's variable is not intervened on, n × d column-major.
    keep: Vec<Fwd>,
    train_rows: Vec<usize>,
    val_rows: Vec<usize>,
    allowed: Vec<bool>,
    required: Vec<(usize, usize)>,
    rng: ChaCha8Rng,
    net: Net,
    adam: Adam,
    grad: Vec<f64>,
    /// The parameters rounded to [`Fwd`] for a minibatch's passes, and their gradient there.
    theta_fwd: Vec<Fwd>,
    grad_fwd: Vec<Fwd>,
    work: Work<Fwd>,
    adj: Vec<f64>,
    power: Option<PowerIteration>,
    stage: u8,
    epoch: usize,
    batch: usize,
    last_loss: f64,
    val_loss: f64,
    gamma: f64,
    gamma_idx: usize,
    gamma_cap: Option<f64>,
    rho: f64,
    best_val: f64,
    best_theta: Option<Vec<f64>>,
    /// Stage 1: the adjacency (every shard's columns) at the best validation so far.
    best_adj: Option<Vec<f64>>,
    patience_counter: usize,
    version: usize,
    /// Adjacency of the final model (`_adj_matrix`), once done.
    final_adj: Option<DMatrix<f64>>,
    done: Option<StopReason>,
    /// This instance's share of stage 1 ([`Sdcd::shard`]): shard `shard` of `n_shards`.
    shard: usize,
    n_shards: usize,
    /// The variables whose networks this instance trains now (stage 1: its shard's; stage 2:
    /// all), and their parameters as runs of `theta` ([`Net::active_for`]).
    targets: Range<usize>,
    active: Vec<(usize, usize)>,
    /// Per variable: the batch's NLL sum and penalty share, and the epoch's Σ over batches of
    /// NLL sum / rows + penalty share.
    nll_j: Vec<f64>,
    pen_j: Vec<f64>,
    epoch_rec: Vec<f64>,
    /// Stage 1: the targets' epoch records since the last report, epoch by epoch.
    window: Vec<f64>,
    /// Batches per epoch.
    n_batches: usize,
    /// Shard 0 at a stage-1 report point: its own report, kept until every other shard's has
    /// come.
    pending: Option<ShardReport>,
    /// Another shard's reports not yet handed out ([`Sdcd::take_report`]).
    outbox: VecDeque<ShardReport>,
}

/// What one shard of SDCD's stage 1 tells the others at each validation epoch and at the
/// stage's last epoch ([`Sdcd::shard`]). With every shard's report, each shard takes the same
/// decisions (early stopping, divergence) from the same numbers, added in variable order, so a
/// run split into shards gives the same bits as one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardReport {
    /// The variables j whose networks the shard trains, `targets.0 .. targets.1`.
    pub targets: (usize, usize),
    /// Stage-1 epochs completed.
    pub epoch: usize,
    /// For each epoch since the previous report, for each target: Σ over the epoch's batches
    /// of (its NLL terms' sum / the batch's rows + its share of the penalties).
    pub train: Vec<f64>,
    /// For each validation batch, for each target: its NLL terms' sum; empty when this epoch
    /// is not validated.
    pub val: Vec<f64>,
    /// A_ij for every i and each target j, row by row: `adjacency[i·n + (j − targets.0)]`
    /// with n targets.
    pub adjacency: Vec<f64>,
}

impl Sdcd {
    /// Prepares SDCD on raw data `x` (n rows × d columns). `interventions`, if given, is an
    /// n × d mask: `true` where that row's variable was set by an intervention, so its
    /// likelihood term is left out (`mask_interventions_oh` in the reference).
    pub fn new(
        x: &DMatrix<f64>,
        params: SdcdParams,
        knowledge: &Knowledge,
        interventions: Option<&[Vec<bool>]>,
    ) -> Result<Sdcd, SdcdError> {
        params.validate()?;
        // Rows are checked below: how many SDCD needs depends on the validation fraction.
        DataRequirements {
            learner: "SDCD",
            min_rows: 0,
            why: "",
            no_constant_columns: false,
        }
        .check(x)?;
        let (n, d) = x.shape();
        // `int(val_fraction * N)` validation rows must be ≥ 1, and a training row must remain.
        let n_val = (params.val_fraction * n as f64).floor() as usize;
        if n_val < 1 || n_val >= n {
            let min = (1.0 / params.val_fraction).ceil() as usize;
            return Err(InputError::TooFewRows {
                learner: "SDCD",
                n_rows: n,
                min: min.max(2),
                why: " rows to hold out a validation set",
            }
            .into());
        }
        let mut keep = vec![1.0; n * d];
        if let Some(m) = interventions {
            let bad_row = m.iter().position(|r| r.len() != d);
            if m.len() != n || bad_row.is_some() {
                return Err(SdcdError::InterventionShape {
                    found: m.len(),
                    n_rows: n,
                    n_cols: d,
                    bad_row_cols: bad_row.map(|r| (r, m[r].len())),
                });
            }
            for (r, row) in m.iter().enumerate() {
                for (j, &iv) in row.iter().enumerate() {
                    if iv {
                        keep[r * d + j] = 0.0;
                    }
                }
            }
        }
        let mut data = vec![0.0f64; n * d];
        for r in 0..n {
            for j in 0..d {
                data[r * d + j] = x[(r, j)];
            }
        }
        if params.standardize {
            // TorchStandardScaler: population sd, + 1e-7.
            for j in 0..d {
                let mean = (0..n).map(|r| data[r * d + j]).sum::<f64>() / n as f64;
                let var = (0..n)
                    .map(|r| (data[r * d + j] - mean).powi(2))
                    .sum::<f64>()
                    / n as f64;
                let sd = var.sqrt() + 1e-7;
                for r in 0..n {
                    data[r * d + j] = (data[r * d + j] - mean) / sd;
                }
            }
        }
        let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
        // torch.utils.data.random_split: one permutation, the first N − int(f·N) rows train.
        let mut perm: Vec<usize> = (0..n).collect();
        perm.shuffle(&mut rng);
        let val_rows = perm.split_off(n - n_val);
        let train_rows = perm;
        let allowed = knowledge.allowed_mask(d);
        let required: Vec<(usize, usize)> = knowledge
            .required
            .iter()
            .copied()
            .filter(|&(i, j)| i < d && j < d && i != j)
            .collect();
        let h = params.hidden_units;
        let net = Net::new(d, h, allowed.clone(), &mut rng);
        let active = net.active_for(0..d);
        let len = net.theta.len();
        let b = params.batch_size.min(n);
        Ok(Sdcd {
            d,
            x: column_major(&data, d),
            keep: column_major(&keep, d),
            train_rows,
            val_rows,
            allowed,
            required,
            adam: Adam::new(params.stage1_lr, len),
            grad: vec![0.0; len],
            theta_fwd: vec![0.0; len],
            grad_fwd: vec![0.0; len],
            work: Work::new(d, h, b),
            adj: vec![0.0; d * d],
            power: None,
            net,
            rng,
            params,
            stage: 1,
            epoch: 0,
            batch: 0,
            last_loss: f64::NAN,
            val_loss: f64::NAN,
            gamma: 0.0,
            gamma_idx: 0,
            gamma_cap: None,
            rho: f64::NAN,
            best_val: f64::INFINITY,
            best_theta: None,
            best_adj: None,
            patience_counter: 0,
            version: 0,
            final_adj: None,
            done: None,
            shard: 0,
            n_shards: 1,
            targets: 0..d,
            active,
            nll_j: vec![0.0; d],
            pen_j: vec![0.0; d],
            epoch_rec: vec![0.0; d],
            window: Vec::new(),
            n_batches: 0,
            pending: None,
            outbox: VecDeque::new(),
        })
    }

    /// Makes this run shard `shard` of `n_shards` of stage 1, which is split by variable: each
    /// shard trains the networks of a contiguous block of variables (their data, batches and
    /// random draws are the same in every shard). The other shards hand a [`ShardReport`] to
    /// shard 0 at each validation epoch and at the stage's last epoch ([`Sdcd::take_report`])
    /// and train on without waiting; shard 0 waits for them there ([`Sdcd::awaits_reports`],
    /// [`Sdcd::receive_reports`]), takes the decisions (early stopping, divergence) from every
    /// shard's numbers, then runs stage 2 alone, with the same result as an unsplit run, bit for
    /// bit. The other shards are not needed after that ([`Sdcd::shards_needed`]): only their
    /// reported adjacency enters stage 2, and the model of a later epoch, had they gone past
    /// the stop, is never used. For several workers: stage 1 is most of the work, and only
    /// its early stopping couples the variables.
    pub fn shard(mut self, shard: usize, n_shards: usize) -> Sdcd {
        assert!(shard < n_shards && self.stage == 1 && self.epoch == 0 && self.batch == 0);
        let d = self.d;
        self.shard = shard;
        self.n_shards = n_shards;
        self.targets = shard * d / n_shards..(shard + 1) * d / n_shards;
        self.active = self.net.active_for(self.targets.clone());
        self
    }

    /// A shard other than 0: its next report for shard 0, oldest first.
    pub fn take_report(&mut self) -> Option<ShardReport> {
        self.outbox.pop_front()
    }

    /// Whether shard 0 waits for the other shards' reports (its steps do nothing meanwhile).
    pub fn awaits_reports(&self) -> bool {
        self.pending.is_some()
    }

    /// Whether the other shards still work for this one (shard 0 in stage 1).
    pub fn shards_needed(&self) -> bool {
        self.n_shards > 1 && self.shard == 0 && self.stage == 1 && self.done.is_none()
    }

    /// Shard 0: every other shard's report for the current report point, in any order; then
    /// the run goes on, or stage 1 ends.
    pub fn receive_reports(&mut self, others: Vec<ShardReport>) -> Result<(), String> {
        let Some(own) = self.pending.clone() else {
            return Err("no report is awaited".into());
        };
        // Epochs and validation batches in this report point, from shard 0's own report.
        let width = (own.targets.1 - own.targets.0).max(1);
        let (epochs, val_batches) = (own.train.len() / width, own.val.len() / width);
        let mut all = others;
        all.push(own.clone());
        all.sort_by_key(|r| r.targets.0);
        let mut next = 0;
        for r in &all {
            let n = r.targets.1.saturating_sub(r.targets.0);
            if r.targets.0 != next
                || r.epoch != own.epoch
                || r.train.len() != epochs * n
                || r.val.len() != val_batches * n
                || r.adjacency.len() != self.d * n
            {
                return Err(format!(
                    "a shard's report does not fit: targets {:?} at epoch {} with {} training \
                     values, this shard is at epoch {}",
                    r.targets,
                    r.epoch,
                    r.train.len(),
                    own.epoch
                ));
            }
            next = r.targets.1;
        }
        if next != self.d {
            return Err(format!(
                "the shards' reports cover {next} of {} variables",
                self.d
            ));
        }
        self.pending = None;
        self.resolve(&all);
        Ok(())
    }

    fn stage_epochs(&self) -> usize {
        if self.stage == 1 {
            self.params.stage1_epochs
        } else {
            self.params.stage2_epochs
        }
    }

    /// γ of epoch index `idx` on `np.linspace(0, increment · n, n)`.
    fn gamma_at(&self, idx: usize) -> f64 {
        if self.stage == 1 {
            return 0.0;
        }
        let n = self.params.stage2_epochs;
        if n <= 1 {
            return 0.0;
        }
        self.params.gamma_increment * n as f64 * idx as f64 / (n - 1) as f64
    }

    /// Loads rows `rows` into the batch buffers.
    fn load(&mut self, rows_from: usize, rows_to: usize, val: bool) {
        let d = self.d;
        let rows = if val {
            &self.val_rows[rows_from..rows_to]
        } else {
            &self.train_rows[rows_from..rows_to]
        };
        self.work
            .gather(rows, &self.x, &self.keep, self.x.len() / d);
    }

    /// Rounds the targets' trainable parameters into `theta_fwd` for the next passes (the
    /// others are 0 there since the model was made).
    fn round_theta(&mut self) {
        for &(a, b) in &self.active {
            for (t, &p) in self.theta_fwd[a..b].iter_mut().zip(&self.net.theta[a..b]) {
                *t = p as Fwd;
            }
        }
    }

    /// One Adam step on the targets' parameters with the next minibatch of the current epoch;
    /// adds each target's loss to `epoch_rec`.
    fn train_batch(&mut self) {
        let bs = self.params.batch_size;
        let from = self.batch * bs;
        let to = (from + bs).min(self.train_rows.len());
        self.load(from, to, false);
        self.round_theta();
        for &(a, b) in &self.active {
            self.grad_fwd[a..b].iter_mut().for_each(|g| *g = 0.0);
        }
        nll_batch(
            &self.net,
            &self.theta_fwd,
            &mut self.work,
            self.targets.clone(),
            &mut self.nll_j,
            Some(&mut self.grad_fwd),
        );
        for &(a, b) in &self.active {
            for (g, &gf) in self.grad[a..b].iter_mut().zip(&self.grad_fwd[a..b]) {
                *g = gf as f64;
            }
        }
        let (alpha, beta) = if self.stage == 1 {
            (self.params.stage1_l1, self.params.stage1_l2)
        } else {
            (self.params.stage2_l1, self.params.stage2_l2)
        };
        let targets = self.targets.clone();
        if let Some(power) = &mut self.power {
            self.net.adjacency_into(&mut self.adj);
            self.rho = power.update(&self.adj);
            let eig = (power.u.as_slice(), power.v.as_slice(), power.coef());
            add_penalties(
                &self.net,
                alpha,
                beta,
                self.gamma,
                Some(eig),
                &self.adj,
                targets.clone(),
                &mut self.grad,
                &mut self.pen_j,
            );
        } else {
            add_penalties(
                &self.net,
                alpha,
                beta,
                0.0,
                None,
                &self.adj,
                targets.clone(),
                &mut self.grad,
                &mut self.pen_j,
            );
        }
        self.adam
            .step(&mut self.net.theta, &self.grad, &self.active);
        self.batch += 1;
        let rows = (to - from) as f64;
        for j in targets {
            self.epoch_rec[j] += self.nll_j[j] / rows + self.pen_j[j];
        }
    }

    /// The targets' NLL sums over each validation batch (unshuffled), batch by batch.
    fn validation_records(&mut self) -> Vec<f64> {
        let bs = self.params.batch_size;
        let n_val = self.val_rows.len();
        let mut out = Vec::new();
        let mut from = 0;
        self.round_theta();
        while from < n_val {
            let to = (from + bs).min(n_val);
            self.load(from, to, true);
            let targets = self.targets.clone();
            nll_batch(
                &self.net,
                &self.theta_fwd,
                &mut self.work,
                targets.clone(),
                &mut self.nll_j,
                None,
            );
            out.extend_from_slice(&self.nll_j[targets]);
            from = to;
        }
        out
    }

    /// `sum(reconstruction_loss(batch))` over the validation batches from every variable's
    /// sums (`val`, batch by batch, d per batch), in variable order.
    fn validation_loss(&self, val: &[f64]) -> f64 {
        let (bs, n_val) = (self.params.batch_size, self.val_rows.len());
        val.chunks_exact(self.d)
            .enumerate()
            .map(|(k, nll)| batch_nll(nll, (n_val - k * bs).min(bs)))
            .sum()
    }

    /// The mean training loss of an epoch from every variable's record, in variable order.
    fn epoch_loss(&self, rec: &[f64]) -> f64 {
        rec.iter().sum::<f64>() / self.n_batches as f64
    }

    /// The end-of-epoch part of `_train`: validation every `validate_every` epochs, the γ
    /// freeze/unfreeze, early stopping. Returns true when the stage ends.
    fn end_epoch(&mut self) -> bool {
        self.n_batches = self.batch;
        self.batch = 0;
        let epoch = self.epoch;
        self.epoch += 1;
        if self.stage == 1 {
            return self.end_epoch_stage1(epoch);
        }
        self.last_loss = self.epoch_loss(&self.epoch_rec);
        self.epoch_rec.fill(0.0);
        self.version += 1;
        if !self.last_loss.is_finite() {
            self.finish_stage(Some("the training loss is no longer a finite number"));
            return true;
        }
        let freeze = self.params.freeze_gamma_at_dag;
        if epoch.is_multiple_of(self.params.validate_every) {
            self.net.adjacency_into(&mut self.adj);
            if epoch > 1 && freeze && self.gamma_cap.is_none() {
                if is_dag_above(&self.adj, self.d, self.params.freeze_gamma_threshold) {
                    self.gamma_cap = Some(self.gamma);
                }
            } else if freeze
                && self.gamma_cap.is_some()
                && !is_dag_above(&self.adj, self.d, self.params.threshold)
            {
                self.gamma_cap = None;
                self.patience_counter = 0;
            }
            let val = self.validation_records();
            self.val_loss = self.validation_loss(&val);
            if !freeze || self.gamma_cap.is_some() {
                if self.val_loss < self.best_val {
                    self.best_val = self.val_loss;
                    self.best_theta = Some(self.net.theta.clone());
                    self.patience_counter = 0;
                } else {
                    self.patience_counter += 1;
                }
                if self.patience_counter >= self.params.patience {
                    if let Some(best) = self.best_theta.take() {
                        self.net.theta = best;
                    }
                    self.finish_stage(None);
                    return true;
                }
            }
        }
        if self.epoch >= self.stage_epochs() {
            self.finish_stage(Some(""));
            return true;
        }
        false
    }

    /// Stage 1's epoch end: the epoch's record joins the window; at a validation epoch and
    /// at the last epoch, this shard's report is made: shard 0's decisions wait for every
    /// shard's ([`Sdcd::resolve`]), another shard's report goes out and it trains on. Unsplit,
    /// the decisions follow at once, and the loss is shown every epoch.
    fn end_epoch_stage1(&mut self, epoch: usize) -> bool {
        let targets = self.targets.clone();
        self.window
            .extend_from_slice(&self.epoch_rec[targets.clone()]);
        if self.n_shards == 1 {
            self.last_loss = self.epoch_loss(&self.epoch_rec);
            self.version += 1;
        }
        self.epoch_rec.fill(0.0);
        let validate = epoch.is_multiple_of(self.params.validate_every);
        if !validate && self.epoch < self.stage_epochs() {
            return false;
        }
        self.net.adjacency_into(&mut self.adj);
        let adjacency = (0..self.d)
            .flat_map(|i| self.adj[i * self.d + targets.start..i * self.d + targets.end].to_vec())
            .collect();
        let val = if validate {
            self.validation_records()
        } else {
            Vec::new()
        };
        let report = ShardReport {
            targets: (targets.start, targets.end),
            epoch: self.epoch,
            train: std::mem::take(&mut self.window),
            val,
            adjacency,
        };
        if self.shard > 0 {
            self.outbox.push_back(report);
            if self.epoch >= self.stage_epochs() {
                self.done = Some(StopReason::LimitReached(
                    "this shard's part of stage 1 is done; stage 2 runs in the first shard".into(),
                ));
                return true;
            }
            return false;
        }
        if self.n_shards > 1 {
            self.pending = Some(report);
            return false;
        }
        self.resolve(&[report]);
        self.stage != 1 || self.done.is_some()
    }

    /// Stage 1's decisions at a report point from every shard's report (sorted by target):
    /// the training loss, divergence, early stopping on the validation loss, the epoch limit,
    /// from the same numbers in the same order however the run is split.
    fn resolve(&mut self, reports: &[ShardReport]) {
        let d = self.d;
        // Every variable's values, gathered in variable order.
        let gather = |part: fn(&ShardReport) -> &Vec<f64>| -> Vec<f64> {
            let groups =
                part(&reports[0]).len() / (reports[0].targets.1 - reports[0].targets.0).max(1);
            let mut out = vec![0.0; groups * d];
            for r in reports {
                let n = r.targets.1 - r.targets.0;
                for (g, vals) in part(r).chunks_exact(n.max(1)).enumerate().take(groups) {
                    out[g * d + r.targets.0..g * d + r.targets.1].copy_from_slice(&vals[..n]);
                }
            }
            out
        };
        let train = gather(|r| &r.train);
        let val = gather(|r| &r.val);
        for r in reports {
            let n = r.targets.1 - r.targets.0;
            for i in 0..d {
                self.adj[i * d + r.targets.0..i * d + r.targets.1]
                    .copy_from_slice(&r.adjacency[i * n..(i + 1) * n]);
            }
        }
        let losses: Vec<f64> = train
            .chunks_exact(d)
            .map(|rec| self.epoch_loss(rec))
            .collect();
        if let Some(&last) = losses.last() {
            self.last_loss = last;
        }
        if self.n_shards > 1 {
            self.version += 1;
        }
        if losses.iter().any(|l| !l.is_finite()) {
            self.finish_stage(Some("the training loss is no longer a finite number"));
            return;
        }
        if !val.is_empty() {
            self.val_loss = self.validation_loss(&val);
            if self.val_loss < self.best_val {
                self.best_val = self.val_loss;
                self.best_theta = Some(self.net.theta.clone());
                self.best_adj = Some(self.adj.clone());
                self.patience_counter = 0;
            } else {
                self.patience_counter += 1;
            }
            if self.patience_counter >= self.params.patience {
                if let (Some(theta), Some(adj)) = (self.best_theta.take(), self.best_adj.take()) {
                    self.net.theta = theta;
                    self.adj = adj;
                }
                self.finish_stage(None);
                return;
            }
        }
        if self.epoch >= self.stage_epochs() {
            self.finish_stage(Some(""));
        }
    }

    /// Ends the current stage: `limit` is None after early stopping, Some("") at the epoch
    /// limit, Some(why) on divergence. In stage 1, `adj` must hold every shard's adjacency.
    fn finish_stage(&mut self, limit: Option<&str>) {
        let d = self.d;
        if self.stage == 2 {
            self.net.adjacency_into(&mut self.adj);
        }
        if self.stage == 1 && limit.is_none_or(|w| w.is_empty()) {
            // Stage 2 gets a fresh model whose first layer only sees the edges with
            // A_ij > mask_threshold (and the required ones).
            let mut mask: Vec<bool> = (0..d * d)
                .map(|k| self.allowed[k] && self.adj[k] > self.params.mask_threshold)
                .collect();
            for &(i, j) in &self.required {
                if self.allowed[i * d + j] {
                    mask[i * d + j] = true;
                }
            }
            self.net = Net::new(d, self.params.hidden_units, mask, &mut self.rng);
            self.adam = Adam::new(self.params.stage2_lr, self.net.theta.len());
            self.targets = 0..d;
            self.active = self.net.active_for(0..d);
            // Only the new model's trainable entries are written from now on.
            self.theta_fwd.iter_mut().for_each(|t| *t = 0.0);
            self.grad_fwd.iter_mut().for_each(|g| *g = 0.0);
            self.grad.iter_mut().for_each(|g| *g = 0.0);
            self.net.adjacency_into(&mut self.adj);
            self.power = Some(PowerIteration::new(
                d,
                self.params.power_iteration_steps,
                &self.adj,
            ));
            self.stage = 2;
            self.epoch = 0;
            self.gamma_idx = 0;
            self.gamma_cap = None;
            self.best_val = f64::INFINITY;
            self.best_theta = None;
            self.best_adj = None;
            self.patience_counter = 0;
            return;
        }
        let a = DMatrix::from_row_slice(d, d, &self.adj);
        self.final_adj = Some(a);
        self.done = Some(match limit {
            None => StopReason::Converged,
            Some("") => StopReason::LimitReached(format!(
                "stage {} ran all its {} epochs without early stopping",
                self.stage,
                self.stage_epochs()
            )),
            Some(why) => StopReason::LimitReached(why.to_string()),
        });
    }

    /// One minibatch of Adam; at the end of an epoch, the epoch-end bookkeeping too.
    pub fn step(&mut self) -> StepOutcome {
        if let Some(reason) = &self.done {
            return StepOutcome::Finished(reason.clone());
        }
        if self.pending.is_some() {
            // A split run waits for the other shards' reports.
            return StepOutcome::Continue;
        }
        if self.batch == 0 {
            // DataLoader(shuffle=True): a new order each epoch.
            self.train_rows.shuffle(&mut self.rng);
            self.gamma = match self.gamma_cap {
                Some(g) => g,
                None => {
                    let g = self.gamma_at(self.gamma_idx);
                    self.gamma_idx += 1;
                    g
                }
            };
        }
        self.train_batch();
        if self.batch * self.params.batch_size >= self.train_rows.len() && self.end_epoch() {
            if let Some(reason) = &self.done {
                return StepOutcome::Finished(reason.clone());
            }
        }
        StepOutcome::Continue
    }

    /// Stage, epoch, losses, γ and the ρ(A) estimate.
    pub fn stats(&self) -> SdcdStats {
        SdcdStats {
            stage: self.stage,
            epoch: self.epoch,
            loss: self.last_loss,
            val_loss: self.val_loss,
            gamma: self.gamma,
            gamma_frozen: self.gamma_cap.is_some(),
            spectral_radius: self.rho,
            n_candidate_edges: self.net.n_candidates(),
        }
    }

    /// Fraction: each stage is half; within a stage, epochs over the maximum.
    pub fn progress(&self) -> Progress {
        let s = self.stats();
        let rho = if s.spectral_radius.is_nan() {
            "–".to_string()
        } else {
            format!("{:.1e}", s.spectral_radius)
        };
        let split = if s.stage == 1 && self.n_shards > 1 {
            format!(" · {} workers", self.n_shards)
        } else {
            String::new()
        };
        let label = format!(
            "stage {} · epoch {} · loss {:.3} · γ {:.3}{} · ρ(A) {rho}{split}",
            s.stage,
            s.epoch,
            s.loss,
            s.gamma,
            if s.gamma_frozen { " (frozen)" } else { "" }
        );
        let within = s.epoch as f64 / self.stage_epochs() as f64;
        let fraction = if self.done.is_some() {
            1.0
        } else {
            (0.5 * (f64::from(s.stage) - 1.0 + within)).clamp(0.0, 1.0)
        };
        Progress { fraction, label }
    }

    /// The adjacency A_ij = ‖W[i, j, :]‖₂ of the current model (the final model once done).
    pub fn current_weights(&self) -> DMatrix<f64> {
        if let Some(a) = &self.final_adj {
            return a.clone();
        }
        let d = self.d;
        let mut a = vec![0.0; d * d];
        self.net.adjacency_into(&mut a);
        if self.stage == 1 && self.n_shards > 1 {
            // The other shards' columns as of their last reports.
            for (ij, out) in a.iter_mut().enumerate() {
                if !self.targets.contains(&(ij % d)) {
                    *out = self.adj[ij];
                }
            }
        }
        DMatrix::from_row_slice(d, d, &a)
    }

    /// The DAG of `adjacency_dag_at_threshold(A, threshold)` weighted by A, with why the run
    /// stopped (or "not finished").
    pub fn result(&self) -> LearnedGraph {
        let a = self.current_weights();
        let d = self.d;
        let raw_weights: Vec<f64> = (0..d * d).map(|k| a[(k / d, k % d)]).collect();
        let rethreshold = Rethreshold::GreedyDag {
            required: self.required.clone(),
        };
        let kept = rethreshold.apply(&a, self.params.threshold);
        let weights = (0..d * d).map(|k| kept[(k / d, k % d)]).collect();
        let stop = self
            .done
            .clone()
            .unwrap_or_else(|| StopReason::LimitReached("stopped before finishing".into()));
        LearnedGraph {
            n_nodes: d,
            weights,
            raw_weights,
            stop,
            kind: GraphKind::Dag,
            rethreshold,
        }
    }
}

impl Learner for Sdcd {
    fn step(&mut self) -> StepOutcome {
        Sdcd::step(self)
    }
    fn progress(&self) -> Progress {
        Sdcd::progress(self)
    }
    fn version(&self) -> usize {
        self.version
    }
    fn current_weights(&self) -> DMatrix<f64> {
        Sdcd::current_weights(self)
    }
    fn result(&self) -> LearnedGraph {
        Sdcd::result(self)
    }
    fn take_report(&mut self) -> Option<ShardReport> {
        Sdcd::take_report(self)
    }
    fn awaits_reports(&self) -> bool {
        Sdcd::awaits_reports(self)
    }
    fn shards_needed(&self) -> bool {
        Sdcd::shards_needed(self)
    }
    fn receive_reports(&mut self, reports: Vec<ShardReport>) -> Result<(), String> {
        Sdcd::receive_reports(self, reports)
    }
    fn curve_point(&self) -> Vec<(&'static str, f64)> {
        let s = self.stats();
        vec![
            ("loss", s.loss),
            ("gamma", s.gamma),
            ("spectral-radius", s.spectral_radius),
            ("stage", f64::from(s.stage)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_distr::StandardNormal;

    /// The batch's mean NLL over every variable, with its gradient added into `grad` if given.
    fn mean_nll<T: Real>(net: &Net, th: &[T], work: &mut Work<T>, grad: Option<&mut [T]>) -> f64 {
        let mut nll = vec![0.0; net.d];
        nll_batch(net, th, work, 0..net.d, &mut nll, grad);
        batch_nll(&nll, work.rows)
    }

    impl Sdcd {
        /// The validation loss of the current model (unsplit runs).
        fn validation_now(&mut self) -> f64 {
            let val = self.validation_records();
            self.validation_loss(&val)
        }
    }

    /// Every variable's penalties added into `grad`; returns their total value.
    fn penalties(
        net: &Net,
        (alpha, beta, gamma): (f64, f64, f64),
        eig: Option<(&[f64], &[f64], f64)>,
        adj: &[f64],
        grad: &mut [f64],
    ) -> f64 {
        let mut pen = vec![0.0; net.d];
        add_penalties(net, alpha, beta, gamma, eig, adj, 0..net.d, grad, &mut pen);
        pen.iter().sum()
    }

    /// Linear-Gaussian rows X_j = Σ_i W_ij X_i + N(0, 1), nodes in index order (W upper
    /// triangular), with an optional hard intervention N(0, 1) on `target`.
    fn simulate(w: &DMatrix<f64>, n: usize, seed: u64, target: Option<usize>) -> DMatrix<f64> {
        let d = w.nrows();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut x = DMatrix::zeros(n, d);
        for r in 0..n {
            for j in 0..d {
                let mut v: f64 = rng.sample(StandardNormal);
                if target != Some(j) {
                    for i in 0..j {
                        v += w[(i, j)] * x[(r, i)];
                    }
                }
                x[(r, j)] = v;
            }
        }
        x
    }

    fn chain(d: usize) -> DMatrix<f64> {
        let mut w = DMatrix::zeros(d, d);
        for i in 0..d - 1 {
            w[(i, i + 1)] = if i % 2 == 0 { 1.5 } else { -1.2 };
        }
        w
    }

    fn quick() -> SdcdParams {
        SdcdParams {
            stage1_epochs: 300,
            stage2_epochs: 300,
            gamma_increment: 0.05,
            ..SdcdParams::default()
        }
    }

    fn run(s: &mut Sdcd) -> usize {
        let mut steps = 0;
        while let StepOutcome::Continue = s.step() {
            steps += 1;
            assert!(steps < 1_000_000);
        }
        steps
    }

    /// Parses `name v1 v2 ...` lines of loss_grad.txt (written by scripts/goldens/sdcd.py).
    fn golden_lines() -> Vec<(String, Vec<f64>)> {
        include_str!("../../tests/data/sdcd/loss_grad.txt")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let mut it = l.split_whitespace();
                let name = it.next().unwrap().to_string();
                (name, it.map(|v| v.parse().unwrap()).collect())
            })
            .collect()
    }

    /// The loss and gradient of the model in `loss_grad.txt` (a float64 torch model) computed
    /// with passes in `T`, and what torch computed.
    fn reference_model_loss_grad<T: Real>() {
        let g = golden_lines();
        let get = |n: &str| &g.iter().find(|(k, _)| k == n).unwrap().1;
        let (d, h) = (get("d")[0] as usize, get("h")[0] as usize);
        let mask: Vec<bool> = get("mask").iter().map(|&m| m != 0.0).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut net = Net::new(d, h, mask, &mut rng);
        let lay = net.layout();
        let blocks = [
            ("layers.0._weight", 0, lay.b1),
            ("layers.0.bias", lay.b1, lay.wo),
            ("output_layer.weight", lay.wo, lay.bo),
            ("output_layer.bias", lay.bo, lay.wv),
            ("var_layer.weight", lay.wv, lay.bv),
            ("var_layer.bias", lay.bv, lay.len),
        ];
        for (name, a, b) in blocks {
            net.theta[a..b].copy_from_slice(get(name));
        }
        // torch keeps _weight at masked entries; they are multiplied by 0 in its forward.
        for (ij, &m) in net.mask.clone().iter().enumerate() {
            if !m {
                net.theta[ij * h..(ij + 1) * h]
                    .iter_mut()
                    .for_each(|w| *w = 0.0);
            }
        }
        let x = get("x");
        let b = x.len() / d;
        let round = |v: &[f64]| v.iter().map(|&x| T::of(x)).collect::<Vec<T>>();
        // Seven rows: one padding row in the passes.
        assert_eq!(b % LANES, 7);
        let mut work = Work::new(d, h, b);
        work.start(b);
        for r in 0..b {
            work.set_row(
                r,
                &round(&x[r * d..(r + 1) * d]),
                &round(&get("keep")[r * d..(r + 1) * d]),
            );
        }
        let mut grad_t = round(&vec![0.0; lay.len]);
        let nll = mean_nll(&net, &round(&net.theta), &mut work, Some(&mut grad_t));
        let mut grad: Vec<f64> = grad_t.iter().map(|g| g.wide()).collect();
        // f64 passes must agree with torch's float64 to rounding; f32 ones (training's) to
        // f32's precision: sums of a few dozen terms of size 1, each off by 2⁻²⁴ relative.
        let tol = if std::mem::size_of::<T>() == 8 {
            1e-9
        } else {
            2e-5
        };
        // The model was built with A = 0 (first layer at 0), then the loss iterated once more.
        let mut power = PowerIteration::new(d, 15, &vec![0.0; d * d]);
        let mut adj = vec![0.0; d * d];
        net.adjacency_into(&mut adj);
        power.update(&adj);
        let eig = (power.u.as_slice(), power.v.as_slice(), power.coef());
        let pen = penalties(
            &net,
            (get("alpha")[0], get("beta")[0], get("gamma")[0]),
            Some(eig),
            &adj,
            &mut grad,
        );
        let want = get("loss")[0];
        assert!(
            (nll + pen - want).abs() < tol * want.abs(),
            "{} vs {want}",
            nll + pen
        );
        for (name, a, b) in blocks {
            let want = get(&format!("grad.{name}"));
            for (k, (&got, &w)) in grad[a..b].iter().zip(want).enumerate() {
                if name == "layers.0._weight" && !net.mask[k / h] {
                    continue; // torch's gradient there is 2β·_weight on a dead weight.
                }
                assert!(
                    (got - w).abs() < tol * (1.0 + w.abs()),
                    "{name}[{k}]: {got} vs {w}"
                );
            }
        }
    }

    #[test]
    fn loss_and_gradient_match_the_reference_model() {
        reference_model_loss_grad::<f64>();
    }

    #[test]
    fn single_precision_passes_match_the_reference_model_to_f32_precision() {
        reference_model_loss_grad::<f32>();
    }

    #[test]
    fn batch_loss_matches_a_row_by_row_computation() {
        // Six variables with up to five inputs each (the four-input passes and the single
        // ones), thirteen rows (three padding rows), one intervened term.
        let (d, b) = (6, 13);
        for h in [3, 10] {
            let mut rng = ChaCha8Rng::seed_from_u64(21 + h as u64);
            let mask: Vec<bool> = (0..d * d)
                .map(|ij| ij / d != ij % d && (ij % d < 3 || rng.random_range(0.0..1.0) < 0.5))
                .collect();
            let mut net = Net::new(d, h, mask.clone(), &mut rng);
            for (p, t) in net.theta.iter_mut().enumerate() {
                if p >= d * d * h || mask[p / h] {
                    *t = rng.random_range(-1.0..1.0);
                }
            }
            let x: Vec<f64> = (0..b * d).map(|_| rng.random_range(-2.0..2.0)).collect();
            let mut keep = vec![1.0; b * d];
            keep[7] = 0.0;
            let mut work = Work::new(d, h, b);
            work.start(b);
            for r in 0..b {
                work.set_row(r, &x[r * d..(r + 1) * d], &keep[r * d..(r + 1) * d]);
            }
            let got = mean_nll(&net, &net.theta, &mut work, None);
            let lay = net.layout();
            let th = &net.theta;
            let mut want = 0.0;
            for r in 0..b {
                for j in 0..d {
                    let (mut mean, mut vpre) = (th[lay.bo + j], th[lay.bv + j]);
                    for k in 0..h {
                        let mut z = th[lay.b1 + j * h + k];
                        for i in 0..d {
                            if mask[i * d + j] {
                                z += x[r * d + i] * th[(i * d + j) * h + k];
                            }
                        }
                        let a = 1.0 / (1.0 + (-z).exp());
                        mean += th[lay.wo + j * h + k] * a;
                        vpre += th[lay.wv + j * h + k] * a;
                    }
                    let var = vpre.exp().ln_1p();
                    let res = x[r * d + j] - mean;
                    want +=
                        keep[r * d + j] * (0.5 * res * res / var + 0.5 * var.ln() + HALF_LN_2PI);
                }
            }
            want /= b as f64;
            assert!(
                (got - want).abs() < 1e-12 * want.abs(),
                "h = {h}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let (d, h, b) = (3, 4, 5);
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mask = vec![false, true, true, true, false, false, true, true, false];
        let mut net = Net::new(d, h, mask.clone(), &mut rng);
        for (ij, &m) in mask.iter().enumerate() {
            if m {
                for k in 0..h {
                    net.theta[ij * h + k] = rng.random_range(-1.0..1.0);
                }
            }
        }
        let x: Vec<f64> = (0..b * d).map(|_| rng.random_range(-2.0..2.0)).collect();
        let mut keep = vec![1.0; b * d];
        keep[4] = 0.0;
        let load = |max_rows: usize| {
            let mut work = Work::new(d, h, max_rows);
            work.start(b);
            for r in 0..b {
                work.set_row(r, &x[r * d..(r + 1) * d], &keep[r * d..(r + 1) * d]);
            }
            work
        };
        // The buffers' capacity (the stride between columns) changes nothing.
        let (mut work, mut wide) = (load(b), load(40));
        let mut g_wide = vec![0.0; net.theta.len()];
        let mut g_narrow = vec![0.0; net.theta.len()];
        let l_narrow = mean_nll(&net, &net.theta, &mut work, Some(&mut g_narrow));
        let l_wide = mean_nll(&net, &net.theta, &mut wide, Some(&mut g_wide));
        assert_eq!(l_narrow.to_bits(), l_wide.to_bits());
        assert_eq!(g_narrow, g_wide);
        let (u, v, c) = (vec![0.3, 0.5, 0.8], vec![0.6, 0.2, 0.7], 1.3);
        let mut total = |net: &Net, grad: &mut [f64]| {
            let nll = mean_nll(net, &net.theta, &mut work, Some(grad));
            let mut adj = vec![0.0; d * d];
            net.adjacency_into(&mut adj);
            nll + penalties(net, (0.01, 0.02, 0.7), Some((&u, &v, c)), &adj, grad)
        };
        let mut grad = vec![0.0; net.theta.len()];
        total(&net, &mut grad);
        let mut scratch = vec![0.0; net.theta.len()];
        for p in 0..net.theta.len() {
            if p < d * d * h && !mask[p / h] {
                continue;
            }
            let eps = 1e-6;
            let orig = net.theta[p];
            net.theta[p] = orig + eps;
            let fp = total(&net, &mut scratch);
            net.theta[p] = orig - eps;
            let fm = total(&net, &mut scratch);
            net.theta[p] = orig;
            let fd = (fp - fm) / (2.0 * eps);
            assert!(
                (fd - grad[p]).abs() < 1e-6 * (1.0 + fd.abs()),
                "θ[{p}]: {fd} vs {}",
                grad[p]
            );
        }
    }

    #[test]
    fn single_precision_softplus_and_sigmoid_follow_torch() {
        // Against the f64 versions (torch's formulas, threshold 20) from z = −87, where
        // e^z nears f32's smallest normal, to 100: within a few f32 ulps, and exactly z above
        // 20. Below −87 the exponential is clamped, so the variance stays at least e^−87.
        let ulps = |got: f32, want: f64| {
            let ulp = (want as f32).abs() as f64 * f32::EPSILON as f64;
            (got as f64 - want).abs() / ulp
        };
        let mut worst: f64 = 0.0;
        for i in 0..=37_400 {
            let z = -87.0 + i as f64 * 0.005;
            let (sp, sig) = (z as f32).softplus();
            let (want_sp, want_sig) = (z as f32 as f64).softplus();
            worst = worst.max(ulps(sp, want_sp)).max(ulps(sig, want_sig));
            if z > 20.0 {
                assert_eq!(sp, z as f32);
            }
        }
        assert!(worst <= 6.0, "worst {worst} ulps");
        for z in [-88.0f32, -100.0, -1e4] {
            let (sp, sig) = z.softplus();
            assert!(
                (1.6e-38..1.7e-38).contains(&sp) && sig == sp,
                "{z}: {sp} {sig}"
            );
        }
    }

    #[test]
    fn adam_matches_torch_first_steps() {
        // torch.optim.Adam(lr=0.1) on f(p) = p², p0 = 1: the first step moves by lr exactly.
        let mut adam = Adam::new(0.1, 1);
        let mut p = [1.0];
        adam.step(&mut p, &[2.0], &[(0, 1)]);
        assert!((p[0] - 0.9).abs() < 1e-7, "{}", p[0]);
        let p0_after_one = p[0];
        let g = 2.0 * p[0];
        adam.step(&mut p, &[g], &[(0, 1)]);
        let m = 0.9 * (0.1 * 2.0) + 0.1 * g;
        let v = 0.999 * (0.001 * 4.0) + 0.001 * g * g;
        let (bc1, bc2) = (1.0 - 0.9f64.powi(2), 1.0 - 0.999f64.powi(2));
        let want = 0.9 + (p0_after_one - 0.9) - 0.1 / bc1 * m / (v.sqrt() / bc2.sqrt() + 1e-8);
        assert!((p[0] - want).abs() < 1e-12);
    }

    #[test]
    fn power_iteration_finds_the_spectral_radius() {
        // A 3-cycle with weights 2: ρ = 2; a DAG: ρ ≈ 0 (only the 1e-6 shift).
        let d = 3;
        let mut a = vec![0.0; 9];
        a[1] = 2.0;
        a[5] = 2.0;
        a[6] = 2.0;
        a[3] = 0.5;
        let mut p = PowerIteration::new(d, 15, &[0.0; 9]);
        let mut rho = 0.0;
        for _ in 0..20 {
            rho = p.update(&a);
        }
        let exact = nalgebra::DMatrix::from_row_slice(3, 3, &a)
            .complex_eigenvalues()
            .iter()
            .map(|z| z.norm())
            .fold(0.0, f64::max);
        assert!((rho - exact).abs() < 1e-3 * exact, "{rho} vs {exact}");
        // ρ is homogeneous: a tenth of the weights, a tenth of the penalty.
        let small: Vec<f64> = a.iter().map(|v| v * 0.1).collect();
        let mut p = PowerIteration::new(d, 15, &[0.0; 9]);
        for _ in 0..20 {
            rho = p.update(&small);
        }
        assert!((rho - 0.1 * exact).abs() < 1e-3 * exact, "{rho}");
    }

    #[test]
    fn dag_at_threshold_adds_edges_by_weight_without_cycles() {
        let a = DMatrix::from_row_slice(3, 3, &[0.0, 0.9, 0.05, 0.0, 0.0, 0.8, 0.5, 0.3, 0.0]);
        // 0→1 (0.9), 1→2 (0.8), 2→0 (0.5) closes a cycle, 2→1 (0.3) too, 0→2 below 0.1.
        let g = dag_at_threshold(&a, 0.1, &[]);
        assert_eq!(g.edges(), vec![(0, 1), (1, 2)]);
        // Required 2→0 first: then 1→2 would close 2→0→1→2, and 2→1 fits.
        let g = dag_at_threshold(&a, 0.1, &[(2, 0)]);
        assert_eq!(g.edges(), vec![(0, 1), (2, 0), (2, 1)]);
        assert!(dag_at_threshold(&a, 0.95, &[]).edges().is_empty());
    }

    #[test]
    fn labels_become_an_intervention_mask() {
        let names: Vec<String> = ["PKC", "PIP2", "pakts473"].map(String::from).to_vec();
        let labels: Vec<String> = [
            "",
            "obs",
            "PKC",
            " PIP2 + pakts473",
            "PKC;PIP2",
            "PKC|PIP2,pakts473",
        ]
        .map(String::from)
        .to_vec();
        let m = intervention_mask_from_labels(&labels, &names).unwrap();
        assert_eq!(m[0], vec![false; 3]);
        assert_eq!(m[1], vec![false; 3]);
        assert_eq!(m[2], vec![true, false, false]);
        assert_eq!(m[3], vec![false, true, true]);
        assert_eq!(m[4], vec![true, true, false]);
        assert_eq!(m[5], vec![true; 3]);
        let err = intervention_mask_from_labels(&["PKC+Raf".to_string()], &names).unwrap_err();
        assert!(matches!(err, SdcdError::UnknownTarget { row: 0, .. }));
        assert!(
            err.to_string().contains("row 1") && err.to_string().contains("\"Raf\""),
            "{err}"
        );
        assert_eq!(err.title(), "Unknown intervention target");
    }

    #[test]
    fn intervened_terms_do_not_count() {
        let x = simulate(&chain(3), 50, 1, None);
        let mut iv = vec![vec![false; 3]; 50];
        iv[7][1] = true;
        let s = Sdcd::new(&x, SdcdParams::default(), &Knowledge::default(), Some(&iv)).unwrap();
        // Column-major: variable 1 of row 7 of 50.
        assert_eq!(s.keep[50 + 7], 0.0);
        assert_eq!(s.keep.iter().filter(|&&k| k == 0.0).count(), 1);
        let mut x2 = x.clone();
        x2[(7, 1)] = 1e6;
        let mut a = Sdcd::new(&x, quick(), &Knowledge::default(), Some(&iv)).unwrap();
        let mut b = Sdcd::new(&x2, quick(), &Knowledge::default(), Some(&iv)).unwrap();
        // Row 7's X2 only enters as an input, where the first layer is still 0 at the start.
        let row = a.train_rows.iter().position(|&r| r == 7);
        let pos = a.val_rows.iter().position(|&r| r == 7);
        assert!(row.is_some() || pos.is_some());
        assert_eq!(a.validation_now(), b.validation_now());
        a.step();
        b.step();
    }

    /// X1 → X2 → X3 → X4 with tanh, sin and square mechanisms and noise sd 0.5.
    fn nonlinear_chain(n: usize, seed: u64) -> DMatrix<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut x = DMatrix::zeros(n, 4);
        for r in 0..n {
            let e: Vec<f64> = (0..4).map(|_| rng.sample(StandardNormal)).collect();
            x[(r, 0)] = e[0];
            x[(r, 1)] = 2.0 * (2.0 * x[(r, 0)]).tanh() + 0.5 * e[1];
            x[(r, 2)] = 2.0 * (1.5 * x[(r, 1)]).sin() + 0.5 * e[2];
            x[(r, 3)] = 0.5 * x[(r, 2)] * x[(r, 2)] + 0.5 * e[3];
        }
        x
    }

    /// Every true pair is adjacent (directions and an extra edge or two vary with the seed in
    /// short runs, for the reference too).
    fn assert_skeleton_found(truth: &[(usize, usize)], got: &DiGraph, max_extra: usize) {
        for &(i, j) in truth {
            assert!(
                got.has_edge(i, j) || got.has_edge(j, i),
                "{i}–{j} missing: {:?}",
                got.edges()
            );
        }
        assert!(
            got.n_edges() <= truth.len() + max_extra,
            "{:?}",
            got.edges()
        );
    }

    #[test]
    fn learns_a_chain_with_short_stages() {
        let x = nonlinear_chain(600, 0);
        let p = SdcdParams {
            standardize: true,
            ..quick()
        };
        let mut s = Sdcd::new(&x, p, &Knowledge::default(), None).unwrap();
        assert_eq!(s.stats().stage, 1);
        assert_eq!(s.version(), 0);
        let steps = run(&mut s);
        assert!(steps > 100);
        let r = s.result();
        let g = r.graph();
        assert!(g.is_acyclic());
        assert_skeleton_found(&[(0, 1), (1, 2), (2, 3)], &g, 1);
        let st = s.stats();
        assert_eq!(st.stage, 2);
        assert!(st.spectral_radius.is_finite() && st.gamma > 0.0);
        assert!(s.version() > 2);
        let p = s.progress();
        assert_eq!(p.fraction, 1.0);
        assert!(
            p.label.contains("stage 2") && p.label.contains("γ"),
            "{}",
            p.label
        );
        assert_eq!(s.step(), StepOutcome::Finished(r.stop.clone()));
    }

    /// Epoch, training loss and validation loss as shown at report points.
    type Shown = Vec<(usize, f64, f64)>;

    /// Runs SDCD split into `n` shards in turn, handing the other shards' reports to shard 0
    /// as the page's workers do; returns shard 0, finished, with its step count, the losses it
    /// showed at each report point, and why the other shards stopped when run to their end.
    fn run_split(
        x: &DMatrix<f64>,
        p: &SdcdParams,
        knowledge: &Knowledge,
        iv: Option<&[Vec<bool>]>,
        n: usize,
    ) -> (Sdcd, usize, Shown, Vec<StopReason>) {
        let mut shards: Vec<Sdcd> = (0..n)
            .map(|k| Sdcd::new(x, p.clone(), knowledge, iv).unwrap().shard(k, n))
            .collect();
        let (mut steps, mut shown) = (0, Vec::new());
        let mut lead = shards.remove(0);
        while lead.done.is_none() {
            while lead.done.is_none() && !lead.awaits_reports() {
                lead.step();
                steps += 1;
                assert!(steps < 1_000_000);
            }
            if !lead.awaits_reports() {
                break;
            }
            assert!(lead.shards_needed());
            let epoch = lead.pending.as_ref().unwrap().epoch;
            let mut others = Vec::new();
            for s in &mut shards {
                // The other shards never wait: each report comes in order, one per point.
                let report = loop {
                    if let Some(r) = s.take_report() {
                        break r;
                    }
                    assert!(s.done.is_none() && !s.awaits_reports());
                    s.step();
                };
                assert_eq!(report.epoch, epoch);
                others.push(report);
            }
            lead.step();
            assert!(lead.awaits_reports(), "shard 0 waits for the others");
            lead.receive_reports(others).unwrap();
            let st = lead.stats();
            shown.push((st.epoch, st.loss, st.val_loss));
        }
        assert!(!lead.shards_needed());
        let rest = shards
            .iter_mut()
            .map(|s| {
                while s.done.is_none() {
                    s.step();
                }
                s.done.clone().unwrap()
            })
            .collect();
        (lead, steps, shown, rest)
    }

    /// The losses an unsplit run shows at the epochs where a split run's shards report.
    fn run_unsplit(s: &mut Sdcd, report_epochs: &[usize]) -> (usize, Shown) {
        let (mut steps, mut shown) = (0, Vec::new());
        while let StepOutcome::Continue = s.step() {
            steps += 1;
            let st = s.stats();
            if st.stage == 1
                && report_epochs.contains(&st.epoch)
                && s.batch == 0
                && shown.last().is_none_or(|&(e, _, _)| e != st.epoch)
            {
                shown.push((st.epoch, st.loss, st.val_loss));
            }
        }
        (steps + 1, shown)
    }

    #[test]
    fn a_run_split_into_shards_gives_the_same_bits() {
        let x = nonlinear_chain(600, 3);
        let mut iv = vec![vec![false; 4]; 600];
        for (r, row) in iv.iter_mut().enumerate().step_by(7) {
            row[r % 4] = true;
        }
        let mut forbid = Knowledge::default();
        forbid.forbidden.push((3, 0));
        type Case<'a> = (SdcdParams, Knowledge, Option<&'a [Vec<bool>]>);
        let cases: [Case; 3] = [
            // Early stopping ends stage 1 (patience 2 of validations every 5 epochs).
            (
                SdcdParams {
                    validate_every: 5,
                    patience: 2,
                    ..quick()
                },
                Knowledge::default(),
                None,
            ),
            // Stage 1 runs to its epoch limit (not a validation epoch: 83 % 20 ≠ 0).
            (
                SdcdParams {
                    stage1_epochs: 83,
                    stage2_epochs: 30,
                    seed: 4,
                    ..quick()
                },
                forbid,
                Some(&iv),
            ),
            // Standardized, smaller batches.
            (
                SdcdParams {
                    standardize: true,
                    batch_size: 100,
                    stage1_epochs: 60,
                    stage2_epochs: 20,
                    ..quick()
                },
                Knowledge::default(),
                None,
            ),
        ];
        for (case, (p, knowledge, iv)) in cases.iter().enumerate() {
            let mut one = Sdcd::new(&x, p.clone(), knowledge, *iv).unwrap();
            for n in [2, 3, 4] {
                let (split, steps, shown, rest) = run_split(&x, p, knowledge, *iv, n);
                let report_epochs: Vec<usize> = shown.iter().map(|s| s.0).collect();
                assert!(shown.len() >= 2, "case {case}: {shown:?}");
                if n == 2 {
                    let (one_steps, one_shown) = run_unsplit(&mut one, &report_epochs);
                    assert_eq!(steps, one_steps, "case {case}");
                    // What the page shows at each report point: epoch, training and validation
                    // loss, to the bit.
                    let bits = |v: &[(usize, f64, f64)]| -> Vec<(usize, u64, u64)> {
                        v.iter()
                            .map(|&(e, l, vl)| (e, l.to_bits(), vl.to_bits()))
                            .collect()
                    };
                    // The last report point ends stage 1, after which the unsplit run's next
                    // observation is already stage 2's.
                    let n_shown = shown.len() - 1;
                    assert_eq!(
                        bits(&shown[..n_shown]),
                        bits(&one_shown[..n_shown]),
                        "case {case}"
                    );
                }
                let (a, b) = (one.result(), split.result());
                let raw_bits = |r: &LearnedGraph| -> Vec<u64> {
                    r.raw_weights.iter().map(|w| w.to_bits()).collect()
                };
                assert_eq!(raw_bits(&a), raw_bits(&b), "case {case}, {n} shards");
                assert_eq!(a.weights, b.weights, "case {case}, {n} shards");
                assert_eq!(a.stop, b.stop, "case {case}, {n} shards");
                assert_eq!(one.stats(), split.stats(), "case {case}, {n} shards");
                assert_eq!(rest.len(), n - 1);
                for r in rest {
                    assert!(r.text().contains("stage 1 is done"), "{r:?}");
                }
            }
            assert!(one.stats().stage == 2, "case {case} reached stage 2");
        }
    }

    #[test]
    fn shard_0_refuses_reports_that_do_not_fit() {
        let x = nonlinear_chain(200, 1);
        let p = SdcdParams {
            validate_every: 5,
            ..quick()
        };
        let mut a = Sdcd::new(&x, p.clone(), &Knowledge::default(), None)
            .unwrap()
            .shard(0, 2);
        let mut b = Sdcd::new(&x, p, &Knowledge::default(), None)
            .unwrap()
            .shard(1, 2);
        assert!(
            a.receive_reports(Vec::new()).is_err(),
            "nothing is awaited yet"
        );
        while !a.awaits_reports() {
            a.step();
        }
        // Shard 0 waits, and its steps do nothing meanwhile; it sends no report.
        let epoch = a.stats().epoch;
        a.step();
        assert_eq!(a.stats().epoch, epoch);
        assert!(a.take_report().is_none());
        let own = a.pending.clone().unwrap();
        assert_eq!(own.targets, (0, 2));
        // Its own report again does not cover the other variables.
        assert!(a.receive_reports(vec![own.clone()]).is_err());
        assert!(a.receive_reports(Vec::new()).is_err());
        // Shard 1 reports and trains on without waiting.
        let theirs = loop {
            if let Some(r) = b.take_report() {
                break r;
            }
            b.step();
        };
        assert!(!b.awaits_reports() && !b.shards_needed());
        b.step();
        let mut late = theirs.clone();
        late.epoch += 1;
        assert!(a.receive_reports(vec![late]).is_err());
        a.receive_reports(vec![theirs]).unwrap();
        assert!(!a.awaits_reports() && a.shards_needed());
        // Shard 0 shows the whole graph: its own columns and shard 1's as reported.
        let w = a.current_weights();
        let mut full = vec![0.0; 16];
        a.net.adjacency_into(&mut full);
        assert!(
            w[(0, 3)] > 0.0 && full[3] == 0.0,
            "column 3 comes from the report"
        );
    }

    #[test]
    fn interventional_chain_skeleton() {
        // X1 → X2 → X3 with hard interventions on X2 and X3. Short runs of the reference on
        // such data (checked with sdcd 0.1.4) find the skeleton but may still orient X3 → X2.
        let truth = chain(3);
        let obs = simulate(&truth, 400, 3, None);
        let i2 = simulate(&truth, 200, 4, Some(1));
        let i3 = simulate(&truth, 200, 5, Some(2));
        let mut rows = Vec::new();
        let mut iv = Vec::new();
        for (m, t) in [(&obs, None), (&i2, Some(1)), (&i3, Some(2))] {
            for r in 0..m.nrows() {
                rows.push(m.row(r).clone_owned());
                iv.push((0..3).map(|j| Some(j) == t).collect::<Vec<_>>());
            }
        }
        let x = DMatrix::from_rows(&rows);
        let mut s = Sdcd::new(&x, quick(), &Knowledge::default(), Some(&iv)).unwrap();
        run(&mut s);
        assert_skeleton_found(&[(0, 1), (1, 2)], &s.result().graph(), 0);
    }

    #[test]
    fn forbidden_edges_never_get_weight() {
        let truth = chain(3);
        let x = simulate(&truth, 300, 6, None);
        let k = Knowledge {
            forbidden: vec![(0, 1), (1, 0)],
            ..Knowledge::default()
        };
        let p = SdcdParams {
            stage1_epochs: 40,
            stage2_epochs: 40,
            ..quick()
        };
        let mut s = Sdcd::new(&x, p, &k, None).unwrap();
        while let StepOutcome::Continue = s.step() {
            let w = s.current_weights();
            assert_eq!((w[(0, 1)], w[(1, 0)]), (0.0, 0.0));
        }
        assert!(!s.result().graph().has_edge(0, 1));
    }

    /// The page says SDCD always keeps a required edge: here one the data does not support
    /// (0 → 2 in a chain 0 → 1 → 2, where 0 and 2 are independent given 1).
    #[test]
    fn a_required_edge_always_appears() {
        let truth = chain(3);
        let x = simulate(&truth, 300, 6, None);
        let k = Knowledge {
            required: vec![(0, 2)],
            ..Knowledge::default()
        };
        let p = SdcdParams {
            stage1_epochs: 40,
            stage2_epochs: 40,
            ..quick()
        };
        let mut s = Sdcd::new(&x, p, &k, None).unwrap();
        run(&mut s);
        assert!(s.result().graph().has_edge(0, 2));
    }

    #[test]
    fn bad_input_is_an_error_naming_it() {
        let x = simulate(&chain(3), 50, 1, None);
        let k = Knowledge::default();
        let mut bad = x.clone();
        bad[(4, 2)] = f64::NAN;
        let e = Sdcd::new(&bad, SdcdParams::default(), &k, None)
            .err()
            .unwrap();
        assert!(e.to_string().contains("row 5 of column 3"), "{e}");
        let e = Sdcd::new(&x.rows(0, 4).into_owned(), SdcdParams::default(), &k, None)
            .err()
            .unwrap();
        assert!(matches!(
            e,
            SdcdError::Input(InputError::TooFewRows { n_rows: 4, .. })
        ));
        let e = Sdcd::new(
            &x.columns(0, 1).into_owned(),
            SdcdParams::default(),
            &k,
            None,
        )
        .err()
        .unwrap();
        assert!(matches!(
            e,
            SdcdError::Input(InputError::TooFewColumns { .. })
        ));
        let iv = vec![vec![false; 3]; 49];
        let e = Sdcd::new(&x, SdcdParams::default(), &k, Some(&iv))
            .err()
            .unwrap();
        assert!(matches!(e, SdcdError::InterventionShape { .. }), "{e}");
        let mut iv = vec![vec![false; 3]; 50];
        iv[10] = vec![true];
        let e = Sdcd::new(&x, SdcdParams::default(), &k, Some(&iv))
            .err()
            .unwrap();
        assert!(e.to_string().contains("row 11 has 1"), "{e}");
        for p in [
            SdcdParams {
                hidden_units: 0,
                ..Default::default()
            },
            SdcdParams {
                val_fraction: 1.0,
                ..Default::default()
            },
            SdcdParams {
                stage1_lr: f64::NAN,
                ..Default::default()
            },
            SdcdParams {
                stage2_l1: -1.0,
                ..Default::default()
            },
            SdcdParams {
                freeze_gamma_threshold: 0.5,
                ..Default::default()
            },
            SdcdParams {
                stage2_epochs: 0,
                ..Default::default()
            },
        ] {
            let e = p.validate().unwrap_err();
            assert_eq!(e.title(), "Invalid setting");
            assert!(e.hint().contains("Change"), "{}", e.hint());
        }
        SdcdParams::default().validate().unwrap();
    }
}
