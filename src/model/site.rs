//! The hook sites an intervention can address (burn-free, so the page can name them).

use serde::{Deserialize, Serialize};

/// Where an intervention can act: the attention block's output (after W_o) and the MLP's
/// output (after W_down), both before they are added to the residual stream, and each attention
/// head's output before W_O mixes the heads (`Hook::heads`; beyond the paper, ActivScalar only).
/// TransformerLens calls them `blocks.{l}.hook_attn_out` / `blocks.{l}.hook_mlp_out` /
/// `blocks.{l}.attn.hook_z`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Site {
    AttnOut,
    MlpOut,
    AttnHead,
}

impl Site {
    /// The sites on the residual stream, one map of layers × positions each: what `Hook::site`
    /// is called with, and the rows r = site · n_layers + layer of every per-site layout.
    pub const ALL: [Site; 2] = [Site::AttnOut, Site::MlpOut];
    /// Every site a selection may name.
    pub const SELECTABLE: [Site; 3] = [Site::AttnOut, Site::MlpOut, Site::AttnHead];

    pub fn name(self) -> &'static str {
        match self {
            Site::AttnOut => "attn_out",
            Site::MlpOut => "mlp_out",
            Site::AttnHead => "attn_head",
        }
    }

    pub fn parse(name: &str) -> Option<Site> {
        Site::SELECTABLE.into_iter().find(|s| s.name() == name)
    }

    /// The index into `ALL` (attn_head, which is not one of them, comes after).
    pub fn index(self) -> usize {
        self as usize
    }
}
