//! SteerVec's location analysis (the paper contrasts it with the scalars'): for every unit u,
//! the norm ‖v_u‖ of its learned vector and cos(v_u, h_u), the cosine with the activation it is
//! added to on the unmodified run, averaged over the training prompts. Scalars can only scale
//! h_u (cos ±1 by construction); a steering vector's direction is free, and this says how far
//! from h_u's own direction it went.

use burn::tensor::Tensor;

use super::capture::Activations;
use super::report::Directions;
use crate::compute_error::ComputeError;
use crate::model::Model;
use crate::readback::to_vec;
use crate::steer::hyper::Method;
use crate::steer::intervention::Intervention;
use crate::steer::prompts::Example;

/// ‖v_u‖ and the prompts' mean cos(v_u, h_u) in the units' order (`units::MapShape`); cos is 0
/// where v_u = 0 (the proximal step switched the unit off).
pub async fn directions(model: &Model, iv: &Intervention, examples: &[Example]) -> Result<Directions, ComputeError> {
    if iv.method != Method::SteerVec {
        return Err(
            format!("the direction maps are for steer-vec interventions; this one is {}", iv.method.name()).into()
        );
    }
    if examples.is_empty() {
        return Err("no training prompts to measure cos(v, h) on".to_string().into());
    }
    let v = (iv.params.clone() * iv.mask.clone()).detach(); // [units, d]
    let units = v.dims()[0];
    let norm_v = v.clone().powf_scalar(2.0).sum_dim(1).sqrt(); // [units, 1]
    let mut cos_sum: Option<Tensor<2>> = None;
    for x in examples {
        let h = Activations::record(model, &x.ids).map_err(|e| e.to_string())?.unit_rows();
        if h.dims() != v.dims() {
            return Err(format!("a prompt of {} tokens does not fit this intervention's positions", x.ids.len()).into());
        }
        let norm_h = h.clone().powf_scalar(2.0).sum_dim(1).sqrt();
        // A zero vector (or activation) has no direction: its cosine counts as 0, not 0/0.
        let cos = (v.clone() * h).sum_dim(1) / (norm_v.clone() * norm_h).clamp_min(f32::MIN_POSITIVE);
        cos_sum = Some(match cos_sum {
            Some(s) => s + cos,
            None => cos,
        });
    }
    let mean = cos_sum.expect("at least one prompt") / examples.len() as f32;
    let both = to_vec(Tensor::cat(vec![norm_v.reshape([units]), mean.reshape([units])], 0)).await?;
    let (norm, cos) = both.split_at(units);
    Ok(Directions { norm: norm.to_vec(), cos: cos.to_vec() })
}
