//! The hook sites an intervention can address (burn-free, so the page can name them).

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
