//! Hook sites of the forward pass. An intervention implements `Hook` and transforms the
//! activation at a site; observers (tests, the UI) read it. The forward pass is written once.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// Where an intervention can act: the attention block's output (after W_o) and the MLP's
/// output (after W_down), both before they are added to the residual stream.
/// TransformerLens calls them `blocks.{l}.hook_attn_out` / `blocks.{l}.hook_mlp_out`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Site {
    AttnOut,
    MlpOut,
}

impl Site {
    pub const ALL: [Site; 2] = [Site::AttnOut, Site::MlpOut];

    pub fn name(self) -> &'static str {
        match self {
            Site::AttnOut => "attn_out",
            Site::MlpOut => "mlp_out",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

pub trait Hook {
    /// Transforms the activation `h` [batch, position, d] at `site` of `layer`.
    fn site(&self, site: Site, layer: usize, h: Tensor<3>) -> Tensor<3> {
        let _ = (site, layer);
        h
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
