//! A learned intervention as a JSON document (CLI files, the page's export/import) and as what a
//! permalink carries: full precision, validated on the way in. Burn-free, so the page can read
//! and check one; `saved_engine` turns it into an `Intervention` and back.

use serde::{Deserialize, Serialize};

use super::example::Example;
use super::hyper::{Hyper, Method, Selection};
use super::layout::{MAX_HEADS, param_count};
use crate::model::id::ModelId;
use crate::model::site::Site;

pub const FORMAT: &str = "actscale-intervention";
/// v1 files without `model` and `beta` still read (both fields have defaults).
pub const VERSION: u32 = 1;

/// Bounds on what a file or a link may describe: far above real models and prompts, low enough
/// that nothing derived from one allocates without limit.
pub const MAX_LAYERS: usize = 1024;
pub const MAX_D_MODEL: usize = 16384;
/// Most tokens a prompt to train on may have (the UI and the CLI refuse longer ones). A step's
/// time and memory grow with the prompt: at 128 tokens one step of the default model takes 1.9 s
/// natively (about 5 s in the browser, 150 steps 12 minutes) and 340 MB beyond the weights
/// (`actscale bench-train --tokens 128`).
pub const MAX_PROMPT_TOKENS: usize = 128;
/// Token positions of a prompt: no more than training takes, as every intervention in a file or
/// a link was trained (or could be) on its prompts.
pub const MAX_POSITIONS: usize = MAX_PROMPT_TOKENS;
pub const MAX_EXAMPLES: usize = 256;
/// Bytes of UTF-8 in one prompt.
pub const MAX_TEXT_BYTES: usize = 4096;
pub const MAX_TASK_BYTES: usize = 256;
pub const MAX_BATCH_SIZE: usize = 100_000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedIntervention {
    pub format: String,
    pub version: u32,
    /// The model it was learned on (None in files written before model ids existed).
    #[serde(default)]
    pub model: Option<ModelId>,
    pub method: Method,
    pub selection: Selection,
    pub hyper: Hyper,
    /// The dial β in [−1, 1] the intervention is shown at.
    #[serde(default = "one")]
    pub beta: f32,
    pub n_layers: usize,
    pub d_model: usize,
    pub n_positions: usize,
    /// Attention heads per layer with their own α rows, when the selection names attn_head
    /// (absent, 0, otherwise: files and links from before per-head sites read unchanged).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub n_heads: usize,
    /// How the task was made (e.g. "pair", "ccc"), and the training prompts.
    pub task: String,
    /// The seed that drew a task's prompts and its train/test split (None: one prompt, or a file
    /// or link made before seeds were recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    pub examples: Vec<Example>,
    /// The parameters, row-major in the layout of `Intervention` (see `layout`).
    pub params: Vec<f32>,
}

fn one() -> f32 {
    1.0
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl SavedIntervention {
    pub fn from_json(text: &str) -> Result<Self, String> {
        let s: SavedIntervention =
            serde_json::from_str(text).map_err(|e| format!("not an actscale intervention file: {e}"))?;
        s.validate()?;
        Ok(s)
    }

    /// Everything a file or a link must satisfy before anything is built from it.
    pub fn validate(&self) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!("not an actscale intervention file (format {:?})", self.format));
        }
        if self.version != VERSION {
            return Err(format!(
                "intervention file version {} is not supported (this build reads {VERSION})",
                self.version
            ));
        }
        let (l, d, t) = (self.n_layers, self.d_model, self.n_positions);
        if !(1..=MAX_LAYERS).contains(&l) || !(1..=MAX_D_MODEL).contains(&d) || t > MAX_POSITIONS {
            return Err(format!(
                "{l} layers, width {d}, {t} positions is out of range (at most {MAX_LAYERS}, {MAX_D_MODEL}, {MAX_POSITIONS})"
            ));
        }
        if let Some(m) = &self.model {
            m.validate()?;
            if m.n_layers != l || m.d_model != d {
                return Err(format!(
                    "the model id ({} layers, width {}) does not match the intervention ({l}, {d})",
                    m.n_layers, m.d_model
                ));
            }
        }
        self.validate_selection()?;
        self.hyper.validate()?;
        if self.hyper.batch_size > MAX_BATCH_SIZE {
            return Err(format!("batch size {} is too large (at most {MAX_BATCH_SIZE})", self.hyper.batch_size));
        }
        if !self.beta.is_finite() || !(-1.0..=1.0).contains(&self.beta) {
            return Err(format!("β must be in [−1, 1], not {}", self.beta));
        }
        self.validate_prompts()?;
        let want = param_count(self.method, l, d, t, self.n_heads).ok_or("the parameter count overflows")?;
        if self.params.len() != want {
            return Err(format!(
                "{} with these sizes has {want} parameters, the file has {}",
                self.method.name(),
                self.params.len()
            ));
        }
        if let Some(i) = self.params.iter().position(|v| !v.is_finite()) {
            return Err(format!("parameter {i} is {}, not a finite number", self.params[i]));
        }
        Ok(())
    }

    fn validate_selection(&self) -> Result<(), String> {
        let s = &self.selection;
        if Site::SELECTABLE.iter().any(|site| s.sites.iter().filter(|x| *x == site).count() > 1) {
            return Err(format!("a site is listed twice: {:?}", s.sites));
        }
        let per_head = s.sites.contains(&Site::AttnHead);
        if per_head && self.method != Method::ActivScalar {
            return Err(format!("attn_head is a site of activ-scalar only, not of {}", self.method.name()));
        }
        match (per_head, self.n_heads) {
            (true, h) if !(1..=MAX_HEADS).contains(&h) || self.d_model % h != 0 => {
                return Err(format!(
                    "{h} attention heads is not a head count for width {} (1 to {MAX_HEADS}, dividing the width)",
                    self.d_model
                ));
            }
            (false, h) if h != 0 => {
                return Err(format!("{h} heads given, but the selection has no attn_head"));
            }
            _ => {}
        }
        if s.layers.len() > MAX_LAYERS {
            return Err(format!("{} layers listed (at most {MAX_LAYERS})", s.layers.len()));
        }
        if let Some(&bad) = s.layers.iter().find(|&&x| x >= self.n_layers) {
            return Err(format!("layer {bad} is out of range: the model has {} layers", self.n_layers));
        }
        // DynScalar ignores positions (it has none), so they are only bounded there.
        let positions = if self.method.positional() { self.n_positions } else { MAX_POSITIONS };
        if s.positions.len() > MAX_POSITIONS {
            return Err(format!("{} positions listed (at most {MAX_POSITIONS})", s.positions.len()));
        }
        if let Some(&bad) = s.positions.iter().find(|&&x| x >= positions) {
            return Err(format!("position {bad} is out of range: the prompt has {positions} positions"));
        }
        Ok(())
    }

    fn validate_prompts(&self) -> Result<(), String> {
        if self.task.len() > MAX_TASK_BYTES {
            return Err(format!("the task name is {} bytes long (at most {MAX_TASK_BYTES})", self.task.len()));
        }
        if self.examples.len() > MAX_EXAMPLES {
            return Err(format!("{} prompts (at most {MAX_EXAMPLES})", self.examples.len()));
        }
        for e in &self.examples {
            if e.text.len() > MAX_TEXT_BYTES || e.ids.len() > MAX_POSITIONS {
                return Err(format!(
                    "a prompt is too long ({} bytes, {} tokens; at most {MAX_TEXT_BYTES} bytes and {MAX_POSITIONS} tokens, the most training takes)",
                    e.text.len(),
                    e.ids.len()
                ));
            }
        }
        Ok(())
    }

    /// Number of non-zero parameters.
    pub fn nonzero(&self) -> usize {
        self.params.iter().filter(|v| **v != 0.0).count()
    }
}
