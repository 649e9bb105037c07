//! Many ActivScalar α-sets on the same prompts in one forward pass: row i of the batch scales
//! the activation at every unit by (1 + A[i, unit]). The keep-top-k curve, leave-one-out and the
//! random baseline are each a list of α-sets; this measures them in batches of rows.

use burn::tensor::{Tensor, TensorData};

use super::report::SetMetrics;
use super::units::MapShape;
use crate::compute_error::ComputeError;
use crate::model::Model;
use crate::model::hook::{Hook, NoHook, Site};
use crate::model::transformer::Positions;
use crate::readback::to_vec;
use crate::steer::objective::{Baseline, Terms};
use crate::steer::prompts::{Batch, Example, batches};

/// Rows of one forward pass at most (the batch's activations are rows × positions × d).
const MAX_ROWS: usize = 256;

/// Each row's scale at every unit: h · (1 + A[row, r, position]), r = site · n_layers + layer.
pub struct RowScales {
    n_layers: usize,
    /// [rows, 2 · n_layers, positions]
    alpha: Tensor<3>,
}

impl Hook for RowScales {
    fn site(&self, site: Site, layer: usize, h: Tensor<3>) -> Tensor<3> {
        let [rows, t, _] = h.dims();
        let r = site.index() * self.n_layers + layer;
        h * self.alpha.clone().narrow(1, r, 1).reshape([rows, t, 1]).add_scalar(1.0)
    }
}

/// The metrics of each α-set (each `shape.len()` values in the units' order) on `examples`,
/// which must all have `shape.positions` tokens.
pub async fn measure(
    model: &Model,
    shape: MapShape,
    sets: &[Vec<f32>],
    examples: &[Example],
) -> Result<Vec<SetMetrics>, ComputeError> {
    let mut out = vec![SetMetrics::default(); sets.len()];
    let mut prompts = 0usize;
    for batch in batches(examples) {
        if batch.positions() != shape.positions {
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
            let m = measure_chunk(model, shape, chunk, &batch, logits0.clone()).await?;
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
    shape: MapShape,
    chunk: &[Vec<f32>],
    batch: &Batch,
    logits0: Tensor<2>,
) -> Result<Vec<SetMetrics>, ComputeError> {
    let (b, g, t) = (batch.len(), chunk.len(), shape.positions);
    // The batch g times: Baseline's rows are then [set 0's b prompts, set 1's, …] at β = +1,
    // and the same again at β = −1.
    let repeated = Batch {
        ids: (0..g).flat_map(|_| batch.ids.iter().cloned()).collect(),
        from: (0..g).flat_map(|_| batch.from.iter().copied()).collect(),
        to: (0..g).flat_map(|_| batch.to.iter().copied()).collect(),
    };
    let base = Baseline::from_logits(Tensor::cat(vec![logits0; g], 0), &repeated).map_err(|e| e.to_string())?;
    let per_row = shape.len();
    let mut alpha = Vec::with_capacity(2 * g * b * per_row);
    for sign in [1.0f32, -1.0] {
        for set in chunk {
            if set.len() != per_row {
                return Err(format!("an α-set has {} values, the map {per_row}", set.len()).into());
            }
            for _ in 0..b {
                alpha.extend(set.iter().map(|a| sign * a));
            }
        }
    }
    let rows = 2 * g * b;
    let device = model.net.device();
    let alpha = Tensor::from_data(TensorData::new(alpha, [rows, 2 * shape.n_layers, t]), device);
    let hook = RowScales { n_layers: shape.n_layers, alpha };
    let v = model.net.config.vocab_size;
    let logits = model.net.forward(&base.ids2, &hook, Positions::Last).map_err(|e| e.to_string())?.reshape([rows, v]);
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
