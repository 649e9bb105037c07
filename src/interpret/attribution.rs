//! Attribution, the linear estimates from one backward pass on the clean run:
//! - g(u) = ∂Δ/∂α_u at α = 0, which is h_u · ∂Δ/∂h_u (scaling h_u by 1 + α moves it along h_u);
//! - attribution patching AtP(u) = (h_u(corrupt) − h_u(clean)) · ∂Δ/∂h_u, the first-order
//!   estimate of the patching effect.
//!
//! Per head (`heads`), h_u is the head's output z_h at (layer, position): W_O is linear, so
//! z_h · ∂Δ/∂z_h is ∂Δ/∂α for scaling the head's contribution, and AtP is the same for it.
//!
//! ∂Δ/∂h_u is the gradient of Δ with respect to a zero steering vector added at u (SteerVec's
//! parameters), so the model needs no second forward path for it.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::capture::Activations;
use super::patching::delta;
use crate::compute_error::ComputeError;
use crate::model::Model;
use crate::model::hook::Hook;
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
        (c.n_layers, c.d_model, c.n_heads),
        ids.len(),
        model.net.device(),
    );
    let iv = Intervention { params: zero.params.clone().require_grad(), ..zero };
    let logits = model.net.forward(&[ids.to_vec()], &iv.hook(&[1.0]), Positions::Last).map_err(|e| e.to_string())?;
    let v = logits.dims()[2];
    let grads = delta(&logits.reshape([1, v]), from, to).sum().backward();
    Ok(iv.params.grad(&grads).ok_or("no gradient reached the units")?)
}

/// Adds a zero leaf to every head's output, so that its gradient is ∂Δ/∂z.
struct HeadShift {
    /// [n_layers · heads · positions, head_dim] (`heads::HeadShape::index` order).
    shift: Tensor<2>,
}

impl Hook for HeadShift {
    fn heads(&self, layer: usize, z: Tensor<4>) -> Tensor<4> {
        let [b, nh, t, hd] = z.dims();
        z + self.shift.clone().narrow(0, layer * nh * t, nh * t).reshape([1, nh, t, hd]).expand([b, nh, t, hd])
    }
}

/// ∂Δ/∂z for every head's output at every position, [n_layers · heads · positions, head_dim].
pub fn grad_at_heads(model: &Model, ids: &[u32], from: u32, to: u32) -> Result<Tensor<2>, ComputeError> {
    let c = &model.net.config;
    let rows = c.n_layers * c.n_heads * ids.len();
    let hook = HeadShift { shift: Tensor::<2>::zeros([rows, c.head_dim], model.net.device()).require_grad() };
    let logits = model.net.forward(&[ids.to_vec()], &hook, Positions::Last).map_err(|e| e.to_string())?;
    let v = logits.dims()[2];
    let grads = delta(&logits.reshape([1, v]), from, to).sum().backward();
    Ok(hook.shift.grad(&grads).ok_or("no gradient reached the heads")?)
}

/// g and AtP per head (`heads::HeadShape` order), as `attribute` does per unit.
pub async fn attribute_heads(
    model: &Model,
    ids: &[u32],
    from: u32,
    to: u32,
    clean: &Activations,
    corrupt: Option<&Activations>,
) -> Result<Attribution, ComputeError> {
    let grad = grad_at_heads(model, ids, from, to)?;
    estimates(grad, clean.head_rows(), corrupt.map(|c| c.head_rows())).await
}

/// g = h · ∂Δ/∂h and AtP = (h_corrupt − h) · ∂Δ/∂h, row by row.
async fn estimates(grad: Tensor<2>, h: Tensor<2>, corrupt: Option<Tensor<2>>) -> Result<Attribution, ComputeError> {
    let units = grad.dims()[0];
    let g = (h.clone() * grad.clone()).sum_dim(1).reshape([units]);
    match corrupt {
        None => Ok(Attribution { gradient: to_vec(g).await?, atp: None }),
        Some(c) => {
            let atp = ((c - h) * grad).sum_dim(1).reshape([units]);
            let both = to_vec(Tensor::cat(vec![g, atp], 0)).await?;
            let (g, atp) = both.split_at(units);
            Ok(Attribution { gradient: g.to_vec(), atp: Some(atp.to_vec()) })
        }
    }
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
    estimates(grad, clean.unit_rows(), corrupt.map(|c| c.unit_rows())).await
}
