//! How many parameters each method has (burn-free, so links and files can be checked without
//! the engine). S = 2 sites, L layers, T positions, d model width; row r = site·L + layer:
//! - ActivScalar: α [S·L + L·H, T]; with per-head sites (H = heads, else 0), row S·L + l·H + h
//!   scales head h of layer l
//! - SteerVec:    v [S·L·T, d]
//! - DynScalar:   [w | b] [S·L, d + 1]

use super::hyper::{Method, Selection};
use crate::model::site::Site;

/// Most attention heads a file or a link may describe.
pub const MAX_HEADS: usize = 1024;

/// The heads that get their own rows: the model's `n_heads` when an ActivScalar selection names
/// attn_head, else 0.
pub fn head_rows(method: Method, selection: &Selection, n_heads: usize) -> usize {
    if method == Method::ActivScalar && selection.sites.contains(&Site::AttnHead) { n_heads } else { 0 }
}

/// [rows, cols] of the parameter matrix; `heads` from `head_rows`. Callers with untrusted sizes
/// use `param_count`.
pub fn shape(method: Method, n_layers: usize, d_model: usize, n_positions: usize, heads: usize) -> [usize; 2] {
    let rows = Site::ALL.len() * n_layers;
    match method {
        Method::ActivScalar => [rows + n_layers * heads, n_positions],
        Method::SteerVec => [rows * n_positions, d_model],
        Method::DynScalar => [rows, d_model + 1],
    }
}

/// rows·cols, or None when it overflows (usize is 32 bits in wasm).
pub fn param_count(method: Method, n_layers: usize, d_model: usize, n_positions: usize, heads: usize) -> Option<usize> {
    let rows = Site::ALL.len().checked_mul(n_layers)?;
    match method {
        Method::ActivScalar => rows.checked_add(n_layers.checked_mul(heads)?)?.checked_mul(n_positions),
        Method::SteerVec => rows.checked_mul(n_positions)?.checked_mul(d_model),
        Method::DynScalar => rows.checked_mul(d_model.checked_add(1)?),
    }
}
