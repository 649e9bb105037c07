//! How many parameters each method has (burn-free, so links and files can be checked without
//! the engine). S = 2 sites, L layers, T positions, d model width; row r = site·L + layer:
//! - ActivScalar: α [S·L, T]
//! - SteerVec:    v [S·L·T, d]
//! - DynScalar:   [w | b] [S·L, d + 1]

use super::hyper::Method;
use crate::model::site::Site;

/// [rows, cols] of the parameter matrix. Callers with untrusted sizes use `param_count`.
pub fn shape(method: Method, n_layers: usize, d_model: usize, n_positions: usize) -> [usize; 2] {
    let rows = Site::ALL.len() * n_layers;
    match method {
        Method::ActivScalar => [rows, n_positions],
        Method::SteerVec => [rows * n_positions, d_model],
        Method::DynScalar => [rows, d_model + 1],
    }
}

/// rows·cols, or None when it overflows (usize is 32 bits in wasm).
pub fn param_count(method: Method, n_layers: usize, d_model: usize, n_positions: usize) -> Option<usize> {
    let rows = Site::ALL.len().checked_mul(n_layers)?;
    match method {
        Method::ActivScalar => rows.checked_mul(n_positions),
        Method::SteerVec => rows.checked_mul(n_positions)?.checked_mul(d_model),
        Method::DynScalar => rows.checked_mul(d_model.checked_add(1)?),
    }
}
