//! What an interpretation and a patching run found, burn-free: the worker sends these to the
//! page, the CLI prints them.

use serde::{Deserialize, Serialize};

use super::heads::{HeadMap, HeadShape};
use super::units::{MapShape, Unit};
use crate::model::site::Site;

/// A patching map: Δ of both runs and each unit's effect, in the units' order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatchMap {
    pub shape: MapShape,
    pub delta_clean: f32,
    pub delta_corrupt: f32,
    pub effects: Vec<f32>,
    /// The per-head effects, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heads: Option<HeadMap>,
}

/// What one α-set does on the prompts (at β = +1 the set, at β = −1 its negation).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SetMetrics {
    /// Share of prompts with Δ > 0 at β = +1 and Δ < 0 at β = −1.
    pub flip_rate: f32,
    pub delta_pos: f32,
    pub delta_neg: f32,
    pub kl_pos: f32,
    pub kl_neg: f32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RankedUnit {
    #[serde(flatten)]
    pub unit: Unit,
    /// The first training prompt's token at this position.
    pub token: String,
    pub alpha: f32,
    /// Mean Δ at β = +1 and β = −1 with only this unit's α set to 0.
    pub loo_delta_pos: f32,
    pub loo_delta_neg: f32,
}

/// A DynScalar probe (site, layer): the mean |α| it produces over the prompts' positions, and Δ
/// with it switched off.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RankedProbe {
    #[serde(with = "super::units::site_name")]
    pub site: Site,
    pub layer: usize,
    pub mean_abs_alpha: f32,
    pub loo_delta_pos: f32,
    pub loo_delta_neg: f32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeepPoint {
    pub k: usize,
    #[serde(flatten)]
    pub metrics: SetMetrics,
}

/// A SteerVec's two maps in the units' order (`interpret::directions`): ‖v_u‖ and the training
/// prompts' mean cos(v_u, h_u).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Directions {
    pub norm: Vec<f32>,
    pub cos: Vec<f32>,
}

/// The flip rate of k units drawn at random among the non-zero ones: mean and sample sd.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RandomPoint {
    pub k: usize,
    pub flip_mean: f32,
    pub flip_sd: f32,
    pub draws: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interpretation {
    /// Non-zero units, largest |α| first (ties by parameter index); empty for a DynScalar.
    pub units: Vec<RankedUnit>,
    /// A DynScalar's probes that produce any α, largest mean |α| first; the keep-top-k curve
    /// and k* then count probes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub probes: Vec<RankedProbe>,
    pub keep_k: Vec<KeepPoint>,
    /// The smallest k whose top-k flips every training prompt both ways.
    pub k_star: Option<usize>,
    pub random: Vec<RandomPoint>,
}

impl Interpretation {
    /// The DynScalar parameters [w | b] (rows of `cols` values, row r = probe r) with only the
    /// top `k` probes' rows left.
    pub fn keep_top_probes(&self, n_layers: usize, params: &[f32], cols: usize, k: usize) -> Vec<f32> {
        let rows: Vec<usize> = self.probes.iter().take(k).map(|p| p.site.index() * n_layers + p.layer).collect();
        super::units::keep_rows(params, cols, &rows)
    }

    /// The α values that keep only the top `k` units (in the units' order).
    pub fn keep_top(&self, shape: MapShape, k: usize) -> Vec<f32> {
        let mut out = vec![0.0; shape.len()];
        for u in self.units.iter().take(k) {
            out[shape.index(u.unit)] = u.alpha;
        }
        out
    }
}

/// Activation patching and attribution on one prompt pair, each map in the units' order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatchReport {
    pub shape: MapShape,
    pub tokens: Vec<String>,
    pub delta_clean: f32,
    pub delta_corrupt: f32,
    /// Δ(clean with u patched from the corrupted run) − Δ(clean).
    pub effects: Vec<f32>,
    /// g(u) = ∂Δ/∂α_u at α = 0.
    pub gradient: Vec<f32>,
    /// AtP(u) = (h_u(corrupt) − h_u(clean)) · ∂Δ/∂h_u.
    pub atp: Vec<f32>,
    /// The same three maps per attention head, when asked for.
    #[serde(default)]
    pub heads: Option<HeadPatchReport>,
    /// Which engine workers ran the patched rows.
    #[serde(default)]
    pub on: PatchedOn,
}

/// Which engine workers ran a patching map's rows (`worker::patch_helper`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum PatchedOn {
    /// The engine worker alone.
    #[default]
    OneWorker,
    /// The engine worker and a helper, each on a share of the layers (`patch_share`).
    TwoWorkers,
    /// The helper failed (why); the engine worker patched its layers too.
    HelperFailed(String),
}

/// Patching, g and AtP per (layer, head, position), in `HeadShape::index` order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeadPatchReport {
    pub shape: HeadShape,
    pub effects: Vec<f32>,
    pub gradient: Vec<f32>,
    pub atp: Vec<f32>,
}

/// A SteerVec's maps as the page gets them, with their shape and token labels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DirectionsReport {
    pub directions: Directions,
    pub shape: MapShape,
    pub tokens: Vec<String>,
}

/// An interpretation as the page gets it: the result, with the map's shape and labels and the
/// α it is of (the whole intervention, also while only its top k are in use).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InterpretReport {
    pub interpretation: Interpretation,
    pub shape: MapShape,
    pub tokens: Vec<String>,
    pub alpha: Vec<f32>,
    /// Measured on the first `prompts` of the intervention's `training_prompts`.
    pub prompts: usize,
    pub training_prompts: usize,
}
