//! Hook sites of the forward pass. An intervention implements `Hook` and transforms the
//! activation at a site; observers (tests, the UI) read it. The forward pass is written once.

use burn::tensor::Tensor;

pub use super::site::Site;

pub trait Hook {
    /// Transforms the activation `h` [batch, position, d] at `site` of `layer`.
    fn site(&self, site: Site, layer: usize, h: Tensor<3>) -> Tensor<3> {
        let _ = (site, layer);
        h
    }

    /// Transforms the attention heads' outputs `z` [batch, head, position, head_dim] of `layer`,
    /// before W_O mixes them into attn_out: head h's contribution is W_O[:, h-slice] · z_h
    /// (`Transformer::head_contributions`), so scaling or replacing z_h does the same to it.
    fn heads(&self, layer: usize, z: Tensor<4>) -> Tensor<4> {
        let _ = layer;
        z
    }

    /// Sees the residual stream [batch, position, d] entering `layer` (`layer == n_layers`: after
    /// the last block, before the final norm).
    fn resid(&self, layer: usize, h: &Tensor<3>) {
        let _ = (layer, h);
    }
}

/// The unmodified model.
pub struct NoHook;

impl Hook for NoHook {}
