//! Interventions behind one interface: parameters in one [rows, cols] tensor, a 0/1 mask of the
//! selected entries, and a `Hook` that applies them at a dial β in [−1, 1].
//!
//! Layout (S = 2 sites, L layers, T positions, d model width; row index r = site·L + layer):
//! - ActivScalar: α [S·L, T];            h · (1 + β·α[r, t]); with per-head sites H·L rows
//!   more, z_h · (1 + β·α[S·L + l·H + h, t]) on each head's output (`layout`)
//! - SteerVec:    v [S·L·T, d];          h + β·v[r·T + t]
//! - DynScalar:   [w | b] [S·L, d + 1];  h · (1 + β·(w[r]·ĥ + b[r])), ĥ = h / (RMS(h)·d)

use burn::tensor::{Device, Tensor, TensorData};

use super::hyper::{Method, Selection};
use super::layout::{head_rows, shape};
use crate::model::hook::{Hook, Site};

#[derive(Clone)]
pub struct Intervention {
    pub method: Method,
    pub selection: Selection,
    pub n_layers: usize,
    pub d_model: usize,
    /// Prompt length the positional methods were made for (0 for DynScalar).
    pub n_positions: usize,
    /// Heads with their own α rows (`layout::head_rows`; 0: none).
    pub n_heads: usize,
    /// The parameters (a gradient leaf while training).
    pub params: Tensor<2>,
    /// 1 where the selection allows a parameter, else 0.
    pub mask: Tensor<2>,
}

impl Intervention {
    /// The identity intervention (all parameters 0) for a model of `n_layers`, `d_model` and
    /// `n_heads` (which only matters when an ActivScalar selection names attn_head).
    pub fn zeros(
        method: Method,
        selection: Selection,
        (n_layers, d_model, n_heads): (usize, usize, usize),
        n_positions: usize,
        device: &Device,
    ) -> Self {
        let t = if method.positional() { n_positions } else { 0 };
        let heads = head_rows(method, &selection, n_heads);
        let [rows, cols] = shape(method, n_layers, d_model, t, heads);
        let mask = Self::selection_mask(method, &selection, (n_layers, d_model, n_heads), t);
        Intervention {
            method,
            selection,
            n_layers,
            d_model,
            n_positions: t,
            n_heads: heads,
            params: Tensor::zeros([rows, cols], device),
            mask: Tensor::from_data(TensorData::new(mask, [rows, cols]), device),
        }
    }

    /// The 0/1 mask of the entries `selection` allows, on the host (the trainer needs it there,
    /// and reading the tensor back would be a synchronous read, which WebGPU cannot do). The
    /// model's sizes as `zeros` takes them.
    pub fn selection_mask(
        method: Method,
        selection: &Selection,
        (n_layers, d_model, n_heads): (usize, usize, usize),
        n_positions: usize,
    ) -> Vec<f32> {
        let t = if method.positional() { n_positions } else { 0 };
        let heads = head_rows(method, selection, n_heads);
        let [rows, cols] = shape(method, n_layers, d_model, t, heads);
        let mut mask = vec![0.0f32; rows * cols];
        // Per-head rows after the per-site ones: row S·L + l·H + h.
        for l in 0..n_layers {
            for h in 0..heads {
                let r = Site::ALL.len() * n_layers + l * heads + h;
                (0..t).filter(|&p| selection.has(Site::AttnHead, l, p)).for_each(|p| mask[r * cols + p] = 1.0);
            }
        }
        for (si, &site) in Site::ALL.iter().enumerate() {
            for l in 0..n_layers {
                let r = si * n_layers + l;
                match method {
                    Method::ActivScalar => {
                        (0..t).filter(|&p| selection.has(site, l, p)).for_each(|p| mask[r * cols + p] = 1.0)
                    }
                    Method::SteerVec => (0..t)
                        .filter(|&p| selection.has(site, l, p))
                        .for_each(|p| mask[(r * t + p) * cols..(r * t + p + 1) * cols].fill(1.0)),
                    Method::DynScalar => {
                        if selection.sites.contains(&site)
                            && (selection.layers.is_empty() || selection.layers.contains(&l))
                        {
                            mask[r * cols..(r + 1) * cols].fill(1.0)
                        }
                    }
                }
            }
        }
        mask
    }

    /// The same intervention with other parameter values (checked against the shape).
    pub fn with_values(&self, values: Vec<f32>) -> Result<Self, String> {
        let [rows, cols] = self.params.dims();
        if values.len() != rows * cols || values.iter().any(|v| !v.is_finite()) {
            return Err(format!("expected {} finite parameters, got {}", rows * cols, values.len()));
        }
        let params = Tensor::from_data(TensorData::new(values, [rows, cols]), &self.params.device());
        Ok(Intervention { params: params * self.mask.clone(), ..self.clone() })
    }

    /// Number of trainable numbers the selection allows.
    pub fn selected_params(&self, mask: &[f32]) -> usize {
        mask.iter().filter(|&&m| m > 0.0).count()
    }

    /// Number of (site, layer[, position]) units: the N of the ℓ1 term and of the proximal step.
    pub fn units(&self, mask: &[f32]) -> usize {
        let [_, cols] = self.mask.dims();
        match self.method {
            Method::ActivScalar => self.selected_params(mask),
            Method::SteerVec | Method::DynScalar => self.selected_params(mask) / cols.max(1),
        }
    }

    /// The hook that applies this intervention with one β per batch row ([batch] values).
    pub fn hook(&self, betas: &[f32]) -> Applied<'_> {
        let device = self.params.device();
        let n = betas.len();
        Applied {
            iv: self,
            masked: self.params.clone() * self.mask.clone(),
            beta: Tensor::from_data(TensorData::new(betas.to_vec(), [n, 1, 1]), &device),
        }
    }

    /// Checks that this intervention can run on prompts of `positions` tokens with this model.
    pub fn check_fits(
        &self,
        (n_layers, d_model, n_heads): (usize, usize, usize),
        positions: usize,
    ) -> Result<(), String> {
        if self.n_heads > 0 && self.n_heads != n_heads {
            return Err(format!(
                "the intervention has scalars for {} attention heads per layer, this model has {n_heads}",
                self.n_heads
            ));
        }
        if n_layers != self.n_layers || d_model != self.d_model {
            return Err(format!(
                "the intervention was made for a model with {} layers and width {}, this one has {n_layers} and {d_model}",
                self.n_layers, self.d_model
            ));
        }
        if self.method.positional() && positions != self.n_positions {
            return Err(format!(
                "{} has one parameter per position of a {}-token prompt; this prompt has {positions} tokens",
                self.method.name(),
                self.n_positions
            ));
        }
        Ok(())
    }
}

/// An intervention bound to β values for one forward pass.
pub struct Applied<'a> {
    iv: &'a Intervention,
    masked: Tensor<2>,
    /// [batch, 1, 1]
    beta: Tensor<3>,
}

impl Hook for Applied<'_> {
    fn heads(&self, layer: usize, z: Tensor<4>) -> Tensor<4> {
        let iv = self.iv;
        let [b, nh, t, _] = z.dims();
        if iv.n_heads == 0 || nh != iv.n_heads {
            // No per-head rows (`check_fits` refuses a model with another head count).
            return z;
        }
        let r = Site::ALL.len() * iv.n_layers + layer * nh;
        let alpha = pad_positions(self.masked.clone().narrow(0, r, nh).reshape([nh, iv.n_positions, 1]), t);
        let beta = self.beta.clone().reshape([b, 1, 1, 1]);
        z * (beta * alpha.reshape([1, nh, t, 1])).add_scalar(1.0)
    }

    fn site(&self, site: Site, layer: usize, h: Tensor<3>) -> Tensor<3> {
        let iv = self.iv;
        let [_, t, d] = h.dims();
        let r = site.index() * iv.n_layers + layer;
        match iv.method {
            Method::ActivScalar => {
                let alpha = pad_positions(self.masked.clone().narrow(0, r, 1).reshape([1, iv.n_positions, 1]), t);
                let scale = (self.beta.clone() * alpha).add_scalar(1.0);
                h * scale
            }
            Method::SteerVec => {
                let n = iv.n_positions;
                let v = pad_positions(self.masked.clone().narrow(0, r * n, n).reshape([1, n, d]), t);
                h + self.beta.clone() * v
            }
            Method::DynScalar => {
                let scale = (self.beta.clone() * dyn_alpha(&self.masked, r, &h)).add_scalar(1.0);
                h * scale
            }
        }
    }
}

/// DynScalar's α [batch, position, 1] at parameter row `r` (of the masked [w | b] parameters):
/// α = w·ĥ + b with ĥ = h / (RMS(h)·d), RMS over the model width. The probe thus reads the
/// direction of h at the scale the next block's RMSNorm sees, divided by d so that Adam's
/// per-weight steps (each ≈ lr) move α by ≈ lr·mean|ĥ·d| — as much as one ActivScalar α moves —
/// instead of by lr·‖h‖₁. On raw h (values up to the hundreds in this model) the first steps
/// overshot: 27% flips and KL 5.5 on IOI where this reaches 100% and 0.4.
pub fn dyn_alpha(masked: &Tensor<2>, r: usize, h: &Tensor<3>) -> Tensor<3> {
    let [b, t, d] = h.dims();
    let wb = masked.clone().narrow(0, r, 1);
    let w = wb.clone().narrow(1, 0, d).reshape([d, 1]);
    let bias = wb.narrow(1, d, 1).reshape([1, 1, 1]);
    let rms = h.clone().powi_scalar(2).mean_dim(2).add_scalar(PROBE_EPS).sqrt();
    let probe_input = (h.clone() / rms).div_scalar(d as f32);
    probe_input.reshape([b * t, d]).matmul(w).reshape([b, t, 1]) + bias
}

/// RMSNorm's ε in SmolLM2 (keeps an all-zero activation finite).
const PROBE_EPS: f32 = 1e-5;

/// Positional parameters [1, n, k] for a sequence of `t ≥ n` tokens: the prompt's n positions
/// keep theirs, tokens generated after the prompt get none (zeros), so a continuation runs with
/// the intervention on its prompt.
fn pad_positions(x: Tensor<3>, t: usize) -> Tensor<3> {
    let [one, n, k] = x.dims();
    if t <= n {
        return x.narrow(1, 0, t);
    }
    let zeros = Tensor::zeros([one, t - n, k], &x.device());
    Tensor::cat(vec![x, zeros], 1)
}
