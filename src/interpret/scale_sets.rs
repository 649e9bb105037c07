//! Many variants of an intervention on the same prompts in one forward pass, one per batch row:
//! ActivScalar α-sets (row i scales the activation at every unit by 1 + A[i, unit]) or subsets
//! of a DynScalar's probes (row i runs only the probes its set keeps). The keep-top-k curve,
//! leave-one-out and the random baseline are each a list of such sets; this measures them in
//! batches of rows.

use burn::tensor::{Tensor, TensorData};

use super::report::SetMetrics;
use super::units::MapShape;
use crate::compute_error::ComputeError;
use crate::model::Model;
use crate::model::hook::{Hook, NoHook, Site};
use crate::model::transformer::Positions;
use crate::readback::to_vec;
use crate::steer::intervention::{Intervention, dyn_alpha};
use crate::steer::objective::{Baseline, Terms};
use crate::steer::prompts::{Batch, Example, batches};

/// Rows of one forward pass at most (the batch's activations are rows × positions × d).
const MAX_ROWS: usize = 256;

/// Each row's scale at every unit: h · (1 + A[row, r, position]), r = site · n_layers + layer;
/// per head z_h · (1 + A[row, S · n_layers + layer · heads + h, position]).
pub struct RowScales {
    shape: MapShape,
    /// [rows, shape.rows_count(), positions]
    alpha: Tensor<3>,
}

impl Hook for RowScales {
    fn site(&self, site: Site, layer: usize, h: Tensor<3>) -> Tensor<3> {
        let [rows, t, _] = h.dims();
        let r = site.index() * self.shape.n_layers + layer;
        h * self.alpha.clone().narrow(1, r, 1).reshape([rows, t, 1]).add_scalar(1.0)
    }

    fn heads(&self, layer: usize, z: Tensor<4>) -> Tensor<4> {
        let [rows, nh, t, _] = z.dims();
        if self.shape.heads == 0 || nh != self.shape.heads {
            return z;
        }
        let r = Site::ALL.len() * self.shape.n_layers + layer * nh;
        z * self.alpha.clone().narrow(1, r, nh).reshape([rows, nh, t, 1]).add_scalar(1.0)
    }
}

/// Each row runs a DynScalar with only some of its probes: α = (w·ĥ + b) · on[row, r] at probe
/// r = site · n_layers + layer, where `on` holds the row's β for a kept probe and 0 otherwise.
pub struct RowProbes {
    n_layers: usize,
    /// The DynScalar's masked [w | b] (`Intervention::hook` applies the same).
    masked: Tensor<2>,
    /// [rows, 2 · n_layers]
    on: Tensor<2>,
}

impl Hook for RowProbes {
    fn site(&self, site: Site, layer: usize, h: Tensor<3>) -> Tensor<3> {
        let rows = h.dims()[0];
        let r = site.index() * self.n_layers + layer;
        let alpha = dyn_alpha(&self.masked, r, &h);
        h * (self.on.clone().narrow(1, r, 1).reshape([rows, 1, 1]) * alpha).add_scalar(1.0)
    }
}

/// What the values of a set mean.
#[derive(Clone)]
pub enum SetKind {
    /// An ActivScalar's α at every unit, in `MapShape` order; prompts must have its positions.
    Scalars(MapShape),
    /// Which probes of this DynScalar run: one value per probe (r = site · n_layers + layer),
    /// 0 for a probe switched off. Prompts may have any length.
    Probes(Intervention),
}

impl SetKind {
    /// Values in one set.
    pub fn set_len(&self) -> usize {
        match self {
            SetKind::Scalars(shape) => shape.len(),
            SetKind::Probes(iv) => Site::ALL.len() * iv.n_layers,
        }
    }

    /// The hook for `rows` rows, given each row's set already multiplied by its β.
    fn hook(&self, signed: Vec<f32>, rows: usize, device: &burn::tensor::Device) -> Box<dyn Hook> {
        match self {
            SetKind::Scalars(shape) => {
                let dims = [rows, shape.rows_count(), shape.positions];
                Box::new(RowScales { shape: *shape, alpha: Tensor::from_data(TensorData::new(signed, dims), device) })
            }
            SetKind::Probes(iv) => {
                let on = signed.iter().map(|&v| if v == 0.0 { 0.0 } else { v.signum() }).collect();
                Box::new(RowProbes {
                    n_layers: iv.n_layers,
                    masked: (iv.params.clone() * iv.mask.clone()).detach(),
                    on: Tensor::from_data(TensorData::new(on, [rows, 2 * iv.n_layers]), device),
                })
            }
        }
    }
}

/// The metrics of each set (each `kind.set_len()` values) on `examples`; for ActivScalar α-sets
/// every prompt must have the map's positions.
pub async fn measure(
    model: &Model,
    kind: &SetKind,
    sets: &[Vec<f32>],
    examples: &[Example],
) -> Result<Vec<SetMetrics>, ComputeError> {
    let mut out = vec![SetMetrics::default(); sets.len()];
    let mut prompts = 0usize;
    for batch in batches(examples) {
        if let SetKind::Scalars(shape) = kind
            && batch.positions() != shape.positions
        {
            return Err(format!(
                "a prompt has {} tokens; the α-sets are for {} positions",
                batch.positions(),
                shape.positions
            )
            .into());
        }
        let b = batch.len();
        let logits0 = model.net.forward(&batch.ids, &NoHook, Positions::Last).map_err(|e| e.to_string())?;
        let v = logits0.dims()[2];
        let logits0 = logits0.reshape([b, v]).detach();
        let per_forward = (MAX_ROWS / (2 * b)).max(1);
        for (c, chunk) in sets.chunks(per_forward).enumerate() {
            let m = measure_chunk(model, kind, chunk, &batch, logits0.clone()).await?;
            for (i, s) in m.into_iter().enumerate() {
                let o = &mut out[c * per_forward + i];
                o.flip_rate += s.flip_rate;
                o.delta_pos += s.delta_pos;
                o.delta_neg += s.delta_neg;
                o.kl_pos += s.kl_pos;
                o.kl_neg += s.kl_neg;
            }
        }
        prompts += b;
    }
    let n = prompts.max(1) as f32;
    for o in &mut out {
        for x in [&mut o.flip_rate, &mut o.delta_pos, &mut o.delta_neg, &mut o.kl_pos, &mut o.kl_neg] {
            *x /= n;
        }
    }
    Ok(out)
}

/// Sums (not means) over the batch's prompts for each set of `chunk`.
async fn measure_chunk(
    model: &Model,
    kind: &SetKind,
    chunk: &[Vec<f32>],
    batch: &Batch,
    logits0: Tensor<2>,
) -> Result<Vec<SetMetrics>, ComputeError> {
    let (b, g) = (batch.len(), chunk.len());
    // The batch g times: Baseline's rows are then [set 0's b prompts, set 1's, …] at β = +1,
    // and the same again at β = −1.
    let repeated = Batch {
        ids: (0..g).flat_map(|_| batch.ids.iter().cloned()).collect(),
        from: (0..g).flat_map(|_| batch.from.iter().copied()).collect(),
        to: (0..g).flat_map(|_| batch.to.iter().copied()).collect(),
    };
    let base = Baseline::from_logits(Tensor::cat(vec![logits0; g], 0), &repeated).map_err(|e| e.to_string())?;
    let per_row = kind.set_len();
    let mut alpha = Vec::with_capacity(2 * g * b * per_row);
    for sign in [1.0f32, -1.0] {
        for set in chunk {
            if set.len() != per_row {
                return Err(format!("a set has {} values, the intervention {per_row}", set.len()).into());
            }
            for _ in 0..b {
                alpha.extend(set.iter().map(|a| sign * a));
            }
        }
    }
    let rows = 2 * g * b;
    let hook = kind.hook(alpha, rows, model.net.device());
    let v = model.net.config.vocab_size;
    let logits =
        model.net.forward(&base.ids2, hook.as_ref(), Positions::Last).map_err(|e| e.to_string())?.reshape([rows, v]);
    let terms = Terms::from_logits(logits, &base, 0.0, 0.0);
    let all = to_vec(Tensor::cat(vec![terms.delta.reshape([rows]), terms.kl.reshape([rows])], 0)).await?;
    let (delta, kl) = all.split_at(rows);
    Ok((0..g)
        .map(|s| {
            let mut m = SetMetrics::default();
            for p in 0..b {
                let (pos, neg) = (s * b + p, g * b + s * b + p);
                m.flip_rate += f32::from(u8::from(delta[pos] > 0.0 && delta[neg] < 0.0));
                m.delta_pos += delta[pos];
                m.delta_neg += delta[neg];
                m.kl_pos += kl[pos];
                m.kl_neg += kl[neg];
            }
            m
        })
        .collect())
}
