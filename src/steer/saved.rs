//! A learned intervention as a JSON document (CLI files, the page's export/import): full
//! precision, validated on the way in.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::hyper::{Hyper, Method, Selection};
use super::intervention::Intervention;
use super::prompts::Example;
use crate::readback::to_vec;

pub const FORMAT: &str = "actscale-intervention";
pub const VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedIntervention {
    pub format: String,
    pub version: u32,
    pub method: Method,
    pub selection: Selection,
    pub hyper: Hyper,
    pub n_layers: usize,
    pub d_model: usize,
    pub n_positions: usize,
    /// How the task was made (e.g. "pair", "ccc"), and the training prompts.
    pub task: String,
    pub examples: Vec<Example>,
    /// The parameters, row-major in the layout of `Intervention`.
    pub params: Vec<f32>,
}

impl SavedIntervention {
    pub async fn from_intervention(iv: &Intervention, hyper: &Hyper, task: &str, examples: &[Example]) -> Result<Self, String> {
        Ok(SavedIntervention {
            format: FORMAT.into(),
            version: VERSION,
            method: iv.method,
            selection: iv.selection.clone(),
            hyper: hyper.clone(),
            n_layers: iv.n_layers,
            d_model: iv.d_model,
            n_positions: iv.n_positions,
            task: task.into(),
            examples: examples.to_vec(),
            params: to_vec(iv.params.clone().detach()).await?,
        })
    }

    pub fn from_json(text: &str) -> Result<Self, String> {
        let s: SavedIntervention =
            serde_json::from_str(text).map_err(|e| format!("not an actscale intervention file: {e}"))?;
        if s.format != FORMAT {
            return Err(format!("not an actscale intervention file (format {:?})", s.format));
        }
        if s.version != VERSION {
            return Err(format!("intervention file version {} is not supported (this build reads {VERSION})", s.version));
        }
        Ok(s)
    }

    /// Rebuilds the intervention on `device` for a model of the given size.
    pub fn to_intervention(&self, n_layers: usize, d_model: usize, device: &Device) -> Result<Intervention, String> {
        if n_layers != self.n_layers || d_model != self.d_model {
            return Err(format!(
                "this intervention was learned on a model with {} layers and width {}; the loaded model has {n_layers} and {d_model}",
                self.n_layers, self.d_model
            ));
        }
        if self.n_positions > 4096 || self.selection.layers.iter().any(|&l| l >= n_layers) {
            return Err("the intervention's positions or layers are out of range for this model".into());
        }
        let iv = Intervention::zeros(self.method, self.selection.clone(), n_layers, d_model, self.n_positions, device);
        iv.with_values(self.params.clone())
    }
}
