//! The three-term objective on one equal-length batch:
//! L = mean over prompts of [max(0, m − Δ|β=+1) + max(0, m + Δ|β=−1)] + λF·Σ_β KL(p₀ ‖ p_β),
//! with Δ = z[y_to] − z[y_from] at the last position and p over the vocabulary without the two
//! answers (renormalised). Minimality (ℓ1) is added by the trainer.
//!
//! The arithmetic lives in [`Baseline::from_logits`] and [`Terms::from_logits`], which take
//! logits and no model, so that a unit test can check it on numbers computed by hand.

use burn::tensor::activation::{log_softmax, relu};
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

use super::intervention::Intervention;
use super::prompts::Batch;
use crate::model::Model;
use crate::model::error::ModelError;
use crate::model::hook::{Hook, NoHook};
use crate::model::transformer::Positions;

const MASKED: f32 = -1.0e9;

/// What the unmodified model says on a batch, and index tensors for the two β halves.
pub struct Baseline {
    /// The batch twice: rows 0..B run at β = +1, rows B..2B at β = −1.
    pub ids2: Vec<Vec<u32>>,
    pub betas: Vec<f32>,
    /// [2B, 1] answer ids
    to_idx: Tensor<2, Int>,
    from_idx: Tensor<2, Int>,
    /// [2B, V] true at the two answers of each row
    answer_mask: Tensor<2, Bool>,
    /// [2B, V] log p₀ over the vocabulary without the answers (detached)
    logp0: Tensor<2>,
    /// [2B, 1] +1 for the β = +1 half, −1 for the other
    sign: Tensor<2>,
    /// [2B, 1] Δ of the unmodified model
    pub delta0: Tensor<2>,
    pub n_prompts: usize,
}

fn int_column(values: Vec<u32>, device: &Device) -> Tensor<2, Int> {
    let n = values.len();
    let v: Vec<i32> = values.into_iter().map(|x| x as i32).collect();
    Tensor::from_data(TensorData::new(v, [n, 1]), device)
}

impl Baseline {
    /// Runs the unmodified model once on the B prompts (both β halves share its output).
    pub fn new(model: &Model, batch: &Batch) -> Result<Baseline, ModelError> {
        let logits0 = model.net.forward(&batch.ids, &NoHook, Positions::Last)?;
        let [b, _, v] = logits0.dims();
        Self::from_logits(logits0.reshape([b, v]), batch)
    }

    /// The baseline from the unmodified model's last-position logits `[B, V]` of `batch`.
    pub fn from_logits(logits0: Tensor<2>, batch: &Batch) -> Result<Baseline, ModelError> {
        let device = logits0.device();
        let [b, v] = logits0.dims();
        if b != batch.len() || b == 0 {
            return Err(ModelError::BadInput(format!("{b} rows of logits for a batch of {} prompts", batch.len())));
        }
        let twice = |x: &Vec<u32>| x.iter().chain(x.iter()).copied().collect::<Vec<u32>>();
        let (to, from) = (twice(&batch.to), twice(&batch.from));
        let mut mask = vec![false; 2 * b * v];
        for (row, (&t, &f)) in to.iter().zip(&from).enumerate() {
            if t as usize >= v || f as usize >= v {
                return Err(ModelError::BadInput(format!("answer id {t} or {f} is outside the vocabulary")));
            }
            mask[row * v + t as usize] = true;
            mask[row * v + f as usize] = true;
        }
        let answer_mask = Tensor::<2, Bool>::from_data(TensorData::new(mask, [2 * b, v]), &device);
        let ids2: Vec<Vec<u32>> = batch.ids.iter().chain(batch.ids.iter()).cloned().collect();
        let logits0 = Tensor::cat(vec![logits0.clone(), logits0], 0).detach();
        let to_idx = int_column(to, &device);
        let from_idx = int_column(from, &device);
        let delta0 = logits0.clone().gather(1, to_idx.clone()) - logits0.clone().gather(1, from_idx.clone());
        let logp0 = log_softmax(logits0.mask_fill(answer_mask.clone(), MASKED), 1).detach();
        let betas: Vec<f32> = (0..2 * b).map(|i| if i < b { 1.0 } else { -1.0 }).collect();
        Ok(Baseline {
            sign: Tensor::from_data(TensorData::new(betas.clone(), [2 * b, 1]), &device),
            ids2,
            betas,
            to_idx,
            from_idx,
            delta0,
            answer_mask,
            logp0,
            n_prompts: b,
        })
    }
}

/// The loss terms of one batch as tensors (so that `total` can be differentiated).
pub struct Terms {
    /// L_eff + λF·L_faith
    pub total: Tensor<1>,
    pub eff: Tensor<1>,
    pub faith: Tensor<1>,
    /// [2B, 1] Δ = z[to] − z[from]; rows 0..B at β = +1, B..2B at β = −1
    pub delta: Tensor<2>,
    /// [2B, 1] KL(p₀ ‖ p_β) per row
    pub kl: Tensor<2>,
}

/// The terms with the intervention `iv` applied at β = +1 and β = −1.
pub fn terms(
    model: &Model,
    iv: &Intervention,
    base: &Baseline,
    margin: f32,
    lambda_f: f32,
) -> Result<Terms, ModelError> {
    terms_with_hook(model, &iv.hook(&base.betas), base, margin, lambda_f)
}

/// The terms with any hook on the baseline's 2B rows (the hook reads row i's β from
/// `base.betas[i]`); `terms` is this with an intervention's hook.
pub fn terms_with_hook(
    model: &Model,
    hook: &dyn Hook,
    base: &Baseline,
    margin: f32,
    lambda_f: f32,
) -> Result<Terms, ModelError> {
    let rows = base.ids2.len();
    let v = model.net.config.vocab_size;
    let logits = model.net.forward(&base.ids2, hook, Positions::Last)?.reshape([rows, v]);
    Ok(Terms::from_logits(logits, base, margin, lambda_f))
}

impl Terms {
    /// The terms from the steered last-position logits `[2B, V]` (rows as in `base.ids2`).
    pub fn from_logits(logits: Tensor<2>, base: &Baseline, margin: f32, lambda_f: f32) -> Terms {
        let delta = logits.clone().gather(1, base.to_idx.clone()) - logits.clone().gather(1, base.from_idx.clone());
        let n = base.n_prompts as f32;
        // β = +1 wants Δ ≥ m, β = −1 wants Δ ≤ −m: both are max(0, m − sign·Δ).
        let eff = relu((base.sign.clone() * delta.clone()).neg().add_scalar(margin)).sum().div_scalar(n);
        let logq = log_softmax(logits.mask_fill(base.answer_mask.clone(), MASKED), 1);
        let kl = (base.logp0.clone().exp() * (base.logp0.clone() - logq)).sum_dim(1);
        let faith = kl.clone().sum().div_scalar(n);
        let total = eff.clone() + faith.clone().mul_scalar(lambda_f);
        Terms { total, eff, faith, delta, kl }
    }
}

#[cfg(test)]
#[path = "objective_tests.rs"]
mod tests;
