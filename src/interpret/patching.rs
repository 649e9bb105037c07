//! Activation patching, noising form: effect(u) = Δ(clean run with u's output replaced by the
//! corrupted run's at the same layer and position) − Δ(clean), for every unit.
//!
//! A row per unit: row p of layer l patches attn_out at position p, row T + p mlp_out; with
//! heads (`PatchJob::with_heads`), row 2T + h·T + p head h's output z_h (so its contribution
//! W_O[:, h-slice] · z_h). Each row runs only what its patch can reach — positions p … T−1, from
//! block l + 1 on (`PatchJob::rows_leaving`) — and the rows of many layers run through each block
//! together (`SuffixRun`), as many as `PatchJob::holding` allows: all of them for short prompts.
//! Positions before the first token where the prompts differ are not run: the corrupted run's
//! activations there are the clean run's, so their effect is 0.

use std::ops::Range;

use burn::tensor::Tensor;

pub use super::report::PatchMap;

use super::capture::Activations;
use super::heads::{HeadMap, HeadShape};
use super::units::MapShape;
use crate::compute_error::ComputeError;
use crate::model::Model;
use crate::model::hook::{Hook, NoHook, Site};
use crate::model::transformer::SuffixRun;
use crate::readback::to_vec;

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

/// Bytes of residual stream the patched rows may hold at once by default (`PatchJob::holding`).
const HELD_BYTES: usize = 256 << 20;

/// A pass under way: the rows of `layers` go through the blocks together.
struct Pass {
    layers: Range<usize>,
    /// The block the rows go through next; n_layers: their logits are read.
    block: usize,
    rows: SuffixRun,
}

/// Patches block by block (`step`), so that the worker can report progress and stop.
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
    /// The first position patched: where the prompts first differ. Before it the corrupted
    /// run's activations are the clean run's, so patching them changes nothing: effect 0.
    first: usize,
    d_model: usize,
    /// Bytes of residual stream the rows may hold at once (at least one layer's rows): the rows
    /// of as many layers as fit run through the blocks together, in passes.
    held_bytes: usize,
    /// The layers whose units this job patches (`only_layers`); the others' effects stay 0.
    layers: Range<usize>,
    pass: Option<Pass>,
    passes_done: usize,
    steps_done: usize,
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
        let first = clean.iter().zip(corrupt).position(|(a, b)| a != b).unwrap_or(clean.len());
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
            first,
            d_model: model.net.config.d_model,
            held_bytes: HELD_BYTES,
            layers: 0..model.net.config.n_layers,
            pass: None,
            passes_done: 0,
            steps_done: 0,
        })
    }

    /// Patches the positions the prompts share too, before the first token where they differ.
    /// Their effect is 0 by definition (the corrupted run's activations there are the clean
    /// run's), so this only checks that a patched row reproduces the clean run.
    pub fn patch_shared_prefix(mut self) -> Self {
        self.first = 0;
        self
    }

    /// Holds at most `bytes` of rows at once (but always one layer's): less memory, more passes
    /// over the blocks, the same effects.
    pub fn holding(mut self, bytes: usize) -> Self {
        self.held_bytes = bytes;
        self
    }

    /// Patches the units of `layers` only (within the model's): their effects are those of the
    /// whole map, the others' stay 0. Two workers each patch a share (`patch_share`).
    pub fn only_layers(mut self, layers: Range<usize>) -> Self {
        let n = self.shape.n_layers;
        self.layers = layers.start.min(n)..layers.end.min(n);
        self
    }

    /// Patches each head's output too (H·T more rows per layer).
    pub fn with_heads(mut self, model: &Model) -> Self {
        let c = &model.net.config;
        let shape = HeadShape { n_layers: c.n_layers, n_heads: c.n_heads, positions: self.shape.positions };
        self.heads = Some(HeadMap { shape, values: vec![0.0; shape.len()] });
        self
    }

    pub fn shape(&self) -> MapShape {
        self.shape
    }

    /// (steps done, steps): a step runs one block of a pass, or reads a pass's effects.
    pub fn progress(&self) -> (usize, usize) {
        (self.steps_done, self.steps_of(self.layers.clone()))
    }

    /// The steps this job would take to patch `layers` instead (what another worker's share of
    /// the same map takes).
    pub fn steps_of(&self, layers: Range<usize>) -> usize {
        self.passes_of(layers).iter().map(|p| self.shape.n_layers - p.start).sum()
    }

    pub fn is_done(&self) -> bool {
        self.passes_done == self.passes().len()
    }

    fn passes(&self) -> Vec<Range<usize>> {
        self.passes_of(self.layers.clone())
    }

    /// The layers whose rows run together, pass by pass, to patch `layers`: as many as
    /// `held_bytes` holds. None when the prompts are the same (every effect is 0).
    fn passes_of(&self, layers: Range<usize>) -> Vec<Range<usize>> {
        let t = self.shape.positions;
        if self.first >= t {
            return Vec::new();
        }
        let nh = self.heads.as_ref().map_or(0, |m| m.shape.n_heads);
        let p = t - self.first;
        let per_layer = (2 + nh) * p * (p + 1) / 2;
        let per_pass = (self.held_bytes / (4 * self.d_model * per_layer)).max(1);
        layers.clone().step_by(per_pass).map(|a| a..(a + per_pass).min(layers.end)).collect()
    }

    /// The next block of the pass under way (starting the next pass if none is): the rows of
    /// the layer before it join first. After the last block, the pass's effects are read.
    pub async fn step(&mut self, model: &Model) -> Result<(), ComputeError> {
        if self.is_done() {
            return Ok(());
        }
        let n_layers = self.shape.n_layers;
        let mut pass = match self.pass.take() {
            Some(pass) => pass,
            None => {
                let layers = self.passes()[self.passes_done].clone();
                let rows = SuffixRun::new(self.shape.positions, model.net.config.n_heads, layers.start + 1);
                Pass { block: layers.start + 1, rows, layers }
            }
        };
        let k = pass.block;
        let entering = &self.clean.resid[k];
        if pass.layers.contains(&(k - 1)) {
            let (starts, firsts) = self.rows_leaving(model, k - 1);
            pass.rows.join(entering, &starts, firsts).map_err(|e| e.to_string())?;
        }
        if k < n_layers {
            pass.rows.run_block(&model.net, entering).map_err(|e| e.to_string())?;
            pass.block += 1;
            self.pass = Some(pass);
        } else {
            let z = pass.rows.logits(&model.net, &[self.from, self.to]).map_err(|e| e.to_string())?;
            let patched = to_vec(z.clone().narrow(1, 1, 1) - z.narrow(1, 0, 1)).await?;
            self.read_effects(pass.layers.start, &patched);
            self.passes_done += 1;
        }
        self.steps_done += 1;
        Ok(())
    }

    /// Each unit's effect from the patched Δ of every row of the layers from `first_layer` on,
    /// layer by layer in `rows_leaving`'s order.
    fn read_effects(&mut self, first_layer: usize, patched: &[f32]) {
        let (first, t) = (self.first, self.shape.positions - self.first);
        let nh = self.heads.as_ref().map_or(0, |m| m.shape.n_heads);
        for (l, layer) in (first_layer..).zip(patched.chunks((2 + nh) * t)) {
            for (site, half) in [(Site::AttnOut, 0), (Site::MlpOut, 1)] {
                for i in 0..t {
                    let u = self.shape.index(super::units::Unit::at(site, l, first + i));
                    self.effects[u] = layer[half * t + i] - self.delta_clean;
                }
            }
            if let Some(map) = &mut self.heads {
                for h in 0..nh {
                    for i in 0..t {
                        map.values[map.shape.index(l, h, first + i)] = layer[2 * t + h * t + i] - self.delta_clean;
                    }
                }
            }
        }
    }

    /// The rows that patch layer `l`'s units at positions `first` … T−1 (P of them), as the
    /// residual stream leaving block l: the clean one but at the patched position. Row i patches
    /// attn_out at first + i, row P + i mlp_out, row 2P + h·P + i head h. A patch at p changes
    /// nothing before p, nor block l's attention at other positions (its inputs are the clean
    /// run's), so each row differs from the clean run leaving block l at p alone, and joins the
    /// rows from block l + 1 on. Returns each row's position and its stream there [rows, d].
    fn rows_leaving(&self, model: &Model, l: usize) -> (Vec<usize>, Tensor<2>) {
        let (first, all) = (self.first, self.shape.positions);
        let t = all - first;
        let nh = self.heads.as_ref().map_or(0, |m| m.shape.n_heads);
        let rows = |x: &Tensor<3>| {
            let d = x.dims()[2];
            x.clone().reshape([all, d]).narrow(0, first, t)
        };
        let (resid, clean_attn) = (rows(&self.clean.resid[l]), rows(self.clean.at(Site::AttnOut, l)));
        let d = resid.dims()[1];
        let corrupt_attn = rows(self.corrupt.at(Site::AttnOut, l));
        // attn_out (and each head) patched: block l's MLP reads the new stream at p.
        let mut attn = vec![corrupt_attn];
        if nh > 0 {
            // Head h at p: attn_out + W_O[:, h-slice] · (z_h corrupt − z_h clean).
            let dz = self.corrupt.heads[l].clone() - self.clean.heads[l].clone();
            let change = model.net.head_contributions(l, dz).reshape([nh, all, d]).narrow(1, first, t);
            let change = change.reshape([nh * t, d]);
            attn.push(Tensor::cat(vec![clean_attn.clone(); nh], 0) + change);
        }
        let attn = Tensor::cat(attn, 0);
        let n_attn = attn.dims()[0];
        let entering = Tensor::cat(vec![resid.clone(); n_attn / t], 0);
        let after_attn =
            model.net.finish_block(l, entering.reshape([1, n_attn, d]), attn.reshape([1, n_attn, d]), &NoHook);
        let after_attn = after_attn.reshape([n_attn, d]);
        // mlp_out patched: the clean stream after attention plus the corrupted MLP output.
        let after_mlp = resid + clean_attn + rows(self.corrupt.at(Site::MlpOut, l));
        let mut firsts = vec![after_attn.clone().narrow(0, 0, t), after_mlp];
        if n_attn > t {
            firsts.push(after_attn.narrow(0, t, n_attn - t));
        }
        let firsts = Tensor::cat(firsts, 0);
        ((0..2 + nh).flat_map(|_| first..all).collect(), firsts)
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
