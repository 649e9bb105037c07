//! Interpreting what was learned, the paper's second half: which units carry the behaviour
//! (ranked units, leave-one-out, keep-top-k and the minimal k*), and how that compares with the
//! standard ways of localising a behaviour on the same prompts (activation patching, attribution).
//! A *unit* is (site, layer, position), or per head (layer, head, position) (`heads`); Δ = z[to] − z[from] at the last position, as in the
//! objective. `units` and `agreement` are burn-free so the page can use them.

pub mod agreement;
pub mod heads;
pub mod patch_share;
pub mod report;
pub mod units;

#[cfg(feature = "engine")]
pub mod attribution;
#[cfg(feature = "engine")]
pub mod capture;
#[cfg(feature = "engine")]
pub mod directions;
#[cfg(feature = "engine")]
pub mod keep_k;
#[cfg(feature = "engine")]
pub mod patching;
#[cfg(feature = "engine")]
pub mod scale_sets;
