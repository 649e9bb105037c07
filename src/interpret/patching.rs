//! Activation patching, noising form: effect(u) = Δ(clean run with u's output replaced by the
//! corrupted run's at the same layer and position) − Δ(clean), for every unit.
//!
//! One forward per layer l, from the clean run's residual entering l (the blocks before l are
//! not run again), with 2·T rows: row p patches attn_out at position p, row T + p mlp_out.
//! With heads (`PatchJob::with_heads`), H·T rows more: row 2T + h·T + p patches head h's
//! output z_h at position p (so its contribution W_O[:, h-slice] · z_h).

use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::capture::Activations;
use super::heads::{HeadMap, HeadShape};
use super::units::MapShape;
use crate::compute_error::ComputeError;
use crate::model::Model;
use crate::model::hook::{Hook, Site};
use crate::model::transformer::Positions;
use crate::readback::to_vec;

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

/// Replaces, at one layer, the output of chosen (row, site, position)s by a source's.
pub struct PatchAt {
    pub layer: usize,
    /// Per site: [rows, positions, 1], 1 where that row takes the source's value.
    pub take: [Tensor<3>; 2],
    /// Per site: the source's output [1, positions, d].
    pub source: [Tensor<3>; 2],
    /// Per head, when heads are patched: [rows, heads, positions, 1] 1 where that row takes the
    /// source's z, and the source's z [1, heads, positions, head_dim].
    pub heads: Option<(Tensor<4>, Tensor<4>)>,
}

impl Hook for PatchAt {
    fn site(&self, site: Site, layer: usize, h: Tensor<3>) -> Tensor<3> {
        if layer != self.layer {
            return h;
        }
        let i = site.index();
        let take = self.take[i].clone();
        h.clone() + take * (self.source[i].clone() - h)
    }

    fn heads(&self, layer: usize, z: Tensor<4>) -> Tensor<4> {
        match &self.heads {
            Some((take, source)) if layer == self.layer => z.clone() + take.clone() * (source.clone() - z),
            _ => z,
        }
    }
}

/// Patches layer by layer (`step`), so that the worker can report progress and stop.
pub struct PatchJob {
    clean: Activations,
    corrupt: Activations,
    from: u32,
    to: u32,
    shape: MapShape,
    delta_clean: f32,
    delta_corrupt: f32,
    effects: Vec<f32>,
    heads: Option<HeadMap>,
    next_layer: usize,
}

impl PatchJob {
    /// Runs the clean and the corrupted prompt (same number of tokens) once each.
    pub async fn new(model: &Model, clean: &[u32], corrupt: &[u32], from: u32, to: u32) -> Result<Self, ComputeError> {
        if clean.len() != corrupt.len() {
            return Err(format!(
                "the corrupted prompt has {} tokens and the prompt {}: patching needs the same number",
                corrupt.len(),
                clean.len()
            )
            .into());
        }
        let v = model.net.config.vocab_size;
        if from as usize >= v || to as usize >= v {
            return Err(format!("answer id {from} or {to} is outside the vocabulary").into());
        }
        let clean = Activations::record(model, clean).map_err(|e| e.to_string())?;
        let corrupt = Activations::record(model, corrupt).map_err(|e| e.to_string())?;
        let both =
            to_vec(Tensor::cat(vec![delta(&clean.logits, from, to), delta(&corrupt.logits, from, to)], 0)).await?;
        let shape = MapShape::sites(model.net.config.n_layers, clean.resid[0].dims()[1]);
        Ok(PatchJob {
            clean,
            corrupt,
            from,
            to,
            shape,
            delta_clean: both[0],
            delta_corrupt: both[1],
            effects: vec![0.0; shape.len()],
            heads: None,
            next_layer: 0,
        })
    }

    /// Patches each head's output too (H·T more rows per layer's forward).
    pub fn with_heads(mut self, model: &Model) -> Self {
        let c = &model.net.config;
        let shape = HeadShape { n_layers: c.n_layers, n_heads: c.n_heads, positions: self.shape.positions };
        self.heads = Some(HeadMap { shape, values: vec![0.0; shape.len()] });
        self
    }

    pub fn shape(&self) -> MapShape {
        self.shape
    }

    /// (layers done, layers).
    pub fn progress(&self) -> (usize, usize) {
        (self.next_layer, self.shape.n_layers)
    }

    pub fn is_done(&self) -> bool {
        self.next_layer == self.shape.n_layers
    }

    /// Patches every unit of the next layer.
    pub async fn step(&mut self, model: &Model) -> Result<(), ComputeError> {
        let l = self.next_layer;
        if self.is_done() {
            return Ok(());
        }
        let t = self.shape.positions;
        let nh = self.heads.as_ref().map_or(0, |m| m.shape.n_heads);
        let rows = 2 * t + nh * t;
        let device = model.net.device();
        // Row p of the first half takes attn_out at p, row T + p of the second half mlp_out at p.
        let one_hot = |half: usize| {
            let mut m = vec![0.0f32; rows * t];
            (0..t).for_each(|p| m[(half * t + p) * t + p] = 1.0);
            Tensor::<3>::from_data(TensorData::new(m, [rows, t, 1]), device)
        };
        let heads = (nh > 0).then(|| {
            let mut m = vec![0.0f32; rows * nh * t];
            for h in 0..nh {
                (0..t).for_each(|p| m[((2 * t + h * t + p) * nh + h) * t + p] = 1.0);
            }
            (Tensor::<4>::from_data(TensorData::new(m, [rows, nh, t, 1]), device), self.corrupt.heads[l].clone())
        });
        let hook = PatchAt {
            layer: l,
            take: [one_hot(0), one_hot(1)],
            source: [self.corrupt.at(Site::AttnOut, l).clone(), self.corrupt.at(Site::MlpOut, l).clone()],
            heads,
        };
        let [_, _, d] = self.clean.resid[l].dims();
        let x = self.clean.resid[l].clone().expand([rows, t, d]);
        let v = model.net.config.vocab_size;
        let logits =
            model.net.forward_from(l, x, &hook, Positions::Last).map_err(|e| e.to_string())?.reshape([rows, v]);
        let patched = to_vec(delta(&logits, self.from, self.to).reshape([rows])).await?;
        for (site, half) in [(Site::AttnOut, 0), (Site::MlpOut, 1)] {
            for p in 0..t {
                let u = self.shape.index(super::units::Unit::at(site, l, p));
                self.effects[u] = patched[half * t + p] - self.delta_clean;
            }
        }
        if let Some(map) = &mut self.heads {
            for h in 0..nh {
                for p in 0..t {
                    map.values[map.shape.index(l, h, p)] = patched[2 * t + h * t + p] - self.delta_clean;
                }
            }
        }
        self.next_layer += 1;
        Ok(())
    }

    /// The clean and corrupted runs' activations (attribution reads them).
    pub fn runs(&self) -> (&Activations, &Activations) {
        (&self.clean, &self.corrupt)
    }

    pub fn result(&self) -> PatchMap {
        PatchMap {
            shape: self.shape,
            delta_clean: self.delta_clean,
            delta_corrupt: self.delta_corrupt,
            effects: self.effects.clone(),
            heads: self.heads.clone(),
        }
    }
}

/// Δ = z[to] − z[from] of last-position logits [rows, vocab], as [rows].
pub fn delta(logits: &Tensor<2>, from: u32, to: u32) -> Tensor<1> {
    let rows = logits.dims()[0];
    let z = |id: u32| logits.clone().narrow(1, id as usize, 1).reshape([rows]);
    z(to) - z(from)
}
