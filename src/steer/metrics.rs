//! Metrics of an intervention on a prompt set (train and test reported separately):
//! effectiveness (flip rate, mean Δ at β = ±1), faithfulness (mean KL at β = ±1), minimality
//! (ℓ1 and the number of non-zero parameters).

use serde::{Deserialize, Serialize};

use super::hyper::Method;
use super::intervention::Intervention;
use super::objective::{Baseline, terms};
use super::prompts::{Example, batches};
use crate::model::Model;
use crate::readback::to_vec;

pub use super::hyper::NONZERO;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub l1: f32,
    pub nonzero: usize,
    /// Trainable numbers in the selection.
    pub params: usize,
}

/// ℓ1 and non-zero count of parameter `values` under the selection `mask`.
pub fn counts(iv: &Intervention, values: &[f32], mask: &[f32]) -> Counts {
    let [_, cols] = iv.params.dims();
    let selected = values.iter().zip(mask).filter(|(_, m)| **m > 0.0).map(|(v, _)| *v);
    let l1 = selected.clone().map(f32::abs).sum();
    let params = mask.iter().filter(|m| **m > 0.0).count();
    let nonzero = match iv.method {
        Method::SteerVec => values
            .chunks(cols.max(1))
            .filter(|row| row.iter().map(|x| x * x).sum::<f32>().sqrt() > NONZERO)
            .count(),
        _ => selected.filter(|v| v.abs() > NONZERO).count(),
    };
    Counts { l1, nonzero, params }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub prompts: usize,
    /// Share of prompts where Δ > 0 at β = +1 AND Δ < 0 at β = −1.
    pub flip_rate: f32,
    pub logit_diff_pos: f32,
    pub logit_diff_neg: f32,
    /// Δ of the unmodified model (β = 0), for reference.
    pub logit_diff_base: f32,
    pub kl_pos: f32,
    pub kl_neg: f32,
    pub l1: f32,
    pub nonzero: usize,
    pub params: usize,
}

pub async fn evaluate(model: &Model, iv: &Intervention, examples: &[Example], margin: f32) -> Result<Metrics, String> {
    let values = to_vec(iv.params.clone().detach()).await?;
    let mask = to_vec(iv.mask.clone()).await?;
    let Counts { l1, nonzero, params } = counts(iv, &values, &mask);
    let frozen = Intervention { params: iv.params.clone().detach(), ..iv.clone() };
    let c = &model.llama.config;
    let mut m = Metrics { l1, nonzero, params, ..Metrics::default() };
    for batch in batches(examples) {
        frozen.check_fits(c.n_layers, c.d_model, batch.positions())?;
        let base = Baseline::new(model, &batch).map_err(|e| e.to_string())?;
        let t = terms(model, &frozen, &base, margin, 0.0).map_err(|e| e.to_string())?;
        let delta = to_vec(t.delta).await?;
        let kl = to_vec(t.kl).await?;
        let base_delta = to_vec(base.delta0.clone()).await?;
        let b = batch.len();
        for i in 0..b {
            m.flip_rate += f32::from(u8::from(delta[i] > 0.0 && delta[b + i] < 0.0));
            m.logit_diff_pos += delta[i];
            m.logit_diff_neg += delta[b + i];
            m.logit_diff_base += base_delta[i];
            m.kl_pos += kl[i];
            m.kl_neg += kl[b + i];
        }
        m.prompts += b;
    }
    let n = m.prompts.max(1) as f32;
    for x in [&mut m.flip_rate, &mut m.logit_diff_pos, &mut m.logit_diff_neg, &mut m.logit_diff_base, &mut m.kl_pos, &mut m.kl_neg] {
        *x /= n;
    }
    Ok(m)
}
