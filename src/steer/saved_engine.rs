//! A `SavedIntervention` from a trained `Intervention` and back (needs burn, so engine-only).

use burn::tensor::Device;

use super::example::Example;
use super::hyper::Hyper;
use super::intervention::Intervention;
use super::saved::{FORMAT, MAX_POSITIONS, SavedIntervention, VERSION};
use crate::model::config::ModelConfig;
use crate::readback::to_vec;

impl SavedIntervention {
    /// The intervention at full precision, at β = 1 and without a model id (callers that know
    /// the model file set `model`).
    pub async fn from_intervention(
        iv: &Intervention,
        hyper: &Hyper,
        task: &str,
        examples: &[Example],
    ) -> Result<Self, String> {
        let params = to_vec(iv.params.clone().detach()).await?;
        Ok(Self::with_params(iv, hyper, task, examples, params))
    }

    /// The same from a host copy of the parameters (no read from the device, which may be gone).
    pub fn with_params(iv: &Intervention, hyper: &Hyper, task: &str, examples: &[Example], params: Vec<f32>) -> Self {
        SavedIntervention {
            format: FORMAT.into(),
            version: VERSION,
            model: None,
            method: iv.method,
            selection: iv.selection.clone(),
            hyper: hyper.clone(),
            beta: 1.0,
            n_layers: iv.n_layers,
            d_model: iv.d_model,
            n_positions: iv.n_positions,
            n_heads: iv.n_heads,
            task: task.into(),
            seed: None,
            examples: examples.to_vec(),
            params,
        }
    }

    /// Rebuilds the intervention on `device` for a model of this configuration.
    pub fn to_intervention(&self, c: &ModelConfig, device: &Device) -> Result<Intervention, String> {
        let (n_layers, d_model) = (c.n_layers, c.d_model);
        if n_layers != self.n_layers || d_model != self.d_model {
            return Err(format!(
                "this intervention was learned on a model with {} layers and width {}; the loaded model has {n_layers} and {d_model}",
                self.n_layers, self.d_model
            ));
        }
        if self.n_heads != 0 && self.n_heads != c.n_heads {
            return Err(format!(
                "this intervention scales {} attention heads per layer; the loaded model has {}",
                self.n_heads, c.n_heads
            ));
        }
        self.validate()?;
        debug_assert!(self.n_positions <= MAX_POSITIONS);
        let iv = Intervention::zeros(
            self.method,
            self.selection.clone(),
            (n_layers, d_model, c.n_heads),
            self.n_positions,
            device,
        );
        iv.with_values(self.params.clone())
    }
}
