//! Numerical optimizers as steppable state machines: the caller owns the loop and the
//! objective, and calls `step` once per iteration (see [`crate::run`]).

pub mod lbfgsb;

pub use lbfgsb::{Lbfgsb, LbfgsbParams, Objective};
