//! Metrics of an intervention on a prompt set (train and test reported separately):
//! effectiveness (flip rate, mean Δ at β = ±1), faithfulness (mean KL at β = ±1), minimality
//! (ℓ1 and the number of non-zero parameters).

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::hyper::Method;
use super::intervention::Intervention;
use super::objective::{Baseline, terms};
use super::prompts::{Example, batches};
use crate::compute_error::ComputeError;
use crate::model::Model;
use crate::readback::to_vec;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub l1: f32,
    pub nonzero: usize,
    /// Trainable numbers in the selection.
    pub params: usize,
}

/// Σ‖p_u‖ over the units (L_min·N, see `prox.rs`) and the number of non-zero units of parameter
/// `values` under the selection `mask`. A unit is one α (ActivScalar) or one row — a SteerVec
/// vector, a DynScalar probe — and counts as non-zero when any of its numbers is not exactly 0:
/// the proximal step makes unneeded units exactly zero, so no cut-off is needed.
pub fn counts(iv: &Intervention, values: &[f32], mask: &[f32]) -> Counts {
    let [_, cols] = iv.params.dims();
    let params = mask.iter().filter(|m| **m > 0.0).count();
    let (l1, nonzero) = match iv.method {
        Method::ActivScalar => values
            .iter()
            .zip(mask)
            .filter(|(_, m)| **m > 0.0)
            .fold((0.0, 0), |(s, n), (v, _)| (s + v.abs(), n + usize::from(*v != 0.0))),
        Method::SteerVec | Method::DynScalar => values
            .chunks(cols.max(1))
            .zip(mask.chunks(cols.max(1)))
            .filter(|(_, m)| m.iter().any(|m| *m > 0.0))
            .fold((0.0, 0), |(s, n), (row, _)| {
                let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt();
                (s + norm, n + usize::from(norm != 0.0))
            }),
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

pub async fn evaluate(
    model: &Model,
    iv: &Intervention,
    examples: &[Example],
    margin: f32,
) -> Result<Metrics, ComputeError> {
    let values = to_vec(iv.params.clone().detach()).await?;
    let mask = to_vec(iv.mask.clone()).await?;
    let Counts { l1, nonzero, params } = counts(iv, &values, &mask);
    let frozen = Intervention { params: iv.params.clone().detach(), ..iv.clone() };
    let c = &model.net.config;
    let mut m = Metrics { l1, nonzero, params, ..Metrics::default() };
    for batch in batches(examples) {
        frozen.check_fits((c.n_layers, c.d_model, c.n_heads), batch.positions())?;
        let base = Baseline::new(model, &batch).map_err(|e| e.to_string())?;
        let t = terms(model, &frozen, &base, margin, 0.0).map_err(|e| e.to_string())?;
        let b = batch.len();
        // Δ [2B], KL [2B] and the unmodified Δ (its first B rows) in one read (a GPU round trip each on WebGPU).
        let flat = |x: Tensor<2>, n: usize| x.reshape([n]);
        let all = to_vec(Tensor::cat(
            vec![flat(t.delta, 2 * b), flat(t.kl, 2 * b), flat(base.delta0.clone().narrow(0, 0, b), b)],
            0,
        ))
        .await?;
        let (delta, rest) = all.split_at(2 * b);
        let (kl, base_delta) = rest.split_at(2 * b);
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
    for x in [
        &mut m.flip_rate,
        &mut m.logit_diff_pos,
        &mut m.logit_diff_neg,
        &mut m.logit_diff_base,
        &mut m.kl_pos,
        &mut m.kl_neg,
    ] {
        *x /= n;
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::cpu_device;
    use crate::model::site::Site;
    use crate::steer::hyper::Selection;

    /// 1 layer, width 3, 2 positions: 2 sites × 1 layer × 2 positions.
    fn zeros(method: Method, selection: Selection) -> Intervention {
        Intervention::zeros(method, selection, (1, 3, 0), 2, &cpu_device())
    }

    #[test]
    fn activ_scalar_counts_every_scalar_that_is_not_exactly_zero_inside_the_selection() {
        let iv = zeros(Method::ActivScalar, Selection::default());
        let c = counts(&iv, &[0.5, -0.02, 1e-7, 0.0], &[1.0; 4]);
        assert_eq!((c.nonzero, c.params), (3, 4), "only exact zeros are zero");
        assert!((c.l1 - 0.52).abs() < 1e-6, "{c:?}");
        // Outside the selection nothing counts, whatever the value.
        let only_attn = Selection { sites: vec![Site::ALL[0]], ..Selection::default() };
        let iv = zeros(Method::ActivScalar, only_attn);
        let c = counts(&iv, &[0.5, -0.02, 3.0, 3.0], &[1.0, 1.0, 0.0, 0.0]);
        assert_eq!((c.nonzero, c.params), (2, 2));
        assert!((c.l1 - 0.52).abs() < 1e-6, "{c:?}");
    }

    #[test]
    fn steer_vec_counts_vectors_and_sums_their_norms() {
        let iv = zeros(Method::SteerVec, Selection::default());
        // Four vectors of width 3: norm 0.5, norm 0.02 (one entry), norm √3·0.005, zero.
        let values = [0.3, 0.4, 0.0, 0.0, 0.0, -0.02, 0.005, 0.005, 0.005, 0.0, 0.0, 0.0];
        let c = counts(&iv, &values, &[1.0; 12]);
        assert_eq!((c.nonzero, c.params), (3, 12), "{c:?}");
        assert!((c.l1 - (0.52 + 3f32.sqrt() * 0.005)).abs() < 1e-6, "{c:?}");
    }

    #[test]
    fn dyn_scalar_counts_probes_outside_the_selection_as_nothing() {
        let only_attn = Selection { sites: vec![Site::ALL[0]], ..Selection::default() };
        let iv = zeros(Method::DynScalar, only_attn);
        // Two probes [w | b] of width 4; the second (MLP) is outside the selection.
        let c = counts(&iv, &[0.0, 0.0, 0.0, 0.25, 9.0, 9.0, 9.0, 9.0], &[1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!((c.nonzero, c.params), (1, 4), "{c:?}");
        assert!((c.l1 - 0.25).abs() < 1e-6, "{c:?}");
    }
}
