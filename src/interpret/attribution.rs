//! Attribution, the linear estimates from one backward pass on the clean run:
//! - g(u) = ∂Δ/∂α_u at α = 0, which is h_u · ∂Δ/∂h_u (scaling h_u by 1 + α moves it along h_u);
//! - attribution patching AtP(u) = (h_u(corrupt) − h_u(clean)) · ∂Δ/∂h_u, the first-order
//!   estimate of the patching effect.
//!
//! ∂Δ/∂h_u is the gradient of Δ with respect to a zero steering vector added at u (SteerVec's
//! parameters), so the model needs no second forward path for it.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::capture::Activations;
use super::patching::delta;
use crate::compute_error::ComputeError;
use crate::model::Model;
use crate::model::transformer::Positions;
use crate::readback::to_vec;
use crate::steer::hyper::{Method, Selection};
use crate::steer::intervention::Intervention;

/// Both maps in the units' order (`units::MapShape`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    /// g(u) = ∂Δ/∂α_u at α = 0.
    pub gradient: Vec<f32>,
    /// AtP(u), when a corrupted run is given.
    pub atp: Option<Vec<f32>>,
}

/// ∂Δ/∂h_u for every unit, [units, d], from one forward and backward pass on `ids`.
pub fn grad_at_units(model: &Model, ids: &[u32], from: u32, to: u32) -> Result<Tensor<2>, ComputeError> {
    let c = &model.net.config;
    let zero = Intervention::zeros(
        Method::SteerVec,
        Selection::default(),
        c.n_layers,
        c.d_model,
        ids.len(),
        model.net.device(),
    );
    let iv = Intervention { params: zero.params.clone().require_grad(), ..zero };
    let logits = model.net.forward(&[ids.to_vec()], &iv.hook(&[1.0]), Positions::Last).map_err(|e| e.to_string())?;
    let v = logits.dims()[2];
    let grads = delta(&logits.reshape([1, v]), from, to).sum().backward();
    Ok(iv.params.grad(&grads).ok_or("no gradient reached the units")?)
}

/// g(u) on the clean run `clean` (its activations recorded), and AtP(u) with `corrupt`'s.
pub async fn attribute(
    model: &Model,
    ids: &[u32],
    from: u32,
    to: u32,
    clean: &Activations,
    corrupt: Option<&Activations>,
) -> Result<Attribution, ComputeError> {
    let grad = grad_at_units(model, ids, from, to)?;
    let h = clean.unit_rows();
    let units = grad.dims()[0];
    let g = (h.clone() * grad.clone()).sum_dim(1).reshape([units]);
    match corrupt {
        None => Ok(Attribution { gradient: to_vec(g).await?, atp: None }),
        Some(c) => {
            let atp = ((c.unit_rows() - h) * grad).sum_dim(1).reshape([units]);
            let both = to_vec(Tensor::cat(vec![g, atp], 0)).await?;
            let (g, atp) = both.split_at(units);
            Ok(Attribution { gradient: g.to_vec(), atp: Some(atp.to_vec()) })
        }
    }
}
