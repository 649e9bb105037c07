//! What the heatmap shows for an intervention on one prompt, as [site][layer][position]:
//! ActivScalar its α; SteerVec the norm ‖v‖; DynScalar the α = w·ĥ + b it produced on the prompt.

use std::cell::RefCell;

use burn::tensor::Tensor;

use super::hyper::Method;
use super::intervention::{Intervention, dyn_alpha};
use crate::compute_error::ComputeError;
use crate::model::Model;
use crate::model::hook::{Hook, Site};
use crate::model::transformer::Positions;
use crate::readback::to_vec;

/// Records α (`dyn_alpha`) of a DynScalar at every site while passing activations through unchanged.
struct DynAlphas<'a> {
    iv: &'a Intervention,
    masked: Tensor<2>,
    alphas: RefCell<Vec<(usize, Tensor<3>)>>,
}

impl Hook for DynAlphas<'_> {
    fn site(&self, site: Site, layer: usize, h: Tensor<3>) -> Tensor<3> {
        let r = site.index() * self.iv.n_layers + layer;
        let alpha = dyn_alpha(&self.masked, r, &h);
        self.alphas.borrow_mut().push((r, alpha.detach()));
        h
    }
}

/// Values [2 · n_layers · positions], row r = site · n_layers + layer, then position.
pub async fn heat(model: &Model, iv: &Intervention, ids: &[u32]) -> Result<Vec<f32>, ComputeError> {
    let values = to_vec((iv.params.clone() * iv.mask.clone()).detach()).await?;
    heat_from(model, iv, ids, values).await
}

/// `heat` from the masked parameters already on the host (the trainer reads them each step):
/// no transfer for ActivScalar and SteerVec, one for DynScalar's α on the prompt.
pub async fn heat_from(
    model: &Model,
    iv: &Intervention,
    ids: &[u32],
    values: Vec<f32>,
) -> Result<Vec<f32>, ComputeError> {
    let t = ids.len();
    let rows = Site::ALL.len() * iv.n_layers;
    match iv.method {
        Method::ActivScalar => Ok(values),
        Method::SteerVec => {
            let d = iv.d_model;
            Ok(values.chunks(d.max(1)).map(|v| v.iter().map(|x| x * x).sum::<f32>().sqrt()).collect())
        }
        Method::DynScalar => {
            let hook =
                DynAlphas { iv, masked: (iv.params.clone() * iv.mask.clone()).detach(), alphas: RefCell::new(vec![]) };
            model.net.forward(&[ids.to_vec()], &hook, Positions::Last).map_err(|e| e.to_string())?;
            let alphas = hook.alphas.into_inner();
            let mut out = vec![0.0f32; rows * t];
            if alphas.is_empty() {
                return Ok(out);
            }
            // Every site's α [1, t, 1] in one read.
            let rows_read: Vec<usize> = alphas.iter().map(|(r, _)| *r).collect();
            let all = to_vec(Tensor::cat(alphas.into_iter().map(|(_, a)| a.reshape([t])).collect(), 0)).await?;
            for (i, r) in rows_read.into_iter().enumerate() {
                out[r * t..(r + 1) * t].copy_from_slice(&all[i * t..(i + 1) * t]);
            }
            Ok(out)
        }
    }
}
