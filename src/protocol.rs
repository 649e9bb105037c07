//! Messages between the page (main thread) and the engine worker. Plain serde types, so the
//! page can speak to the worker without linking burn.

use serde::{Deserialize, Serialize};

use crate::backend::BackendKind;
use crate::model::site::Site;
use crate::self_check::SelfCheckResult;
use crate::steer::hyper::{Hyper, Method};

/// Where the default model lives in the built site (Trunk copies `static/` into `dist/`).
pub const DEFAULT_MODEL_URL: &str = "static/models/smollm2-135m-instruct-q4_1.gguf";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Request {
    /// Run the autodiff self-check on every backend the worker can reach.
    SelfCheck,
    /// Download a GGUF (relative URLs resolve against the site) and load it.
    LoadModelUrl { url: String },
    /// Tokens of `prompt` and its top-k next tokens.
    Predict { prompt: String, top_k: usize },
    /// Learn an intervention that moves `prompt`'s next token from `from` to `to`; the worker
    /// answers with `TrainStarted`, one `TrainProgress` per step, then `TrainDone`.
    Train(TrainRequest),
    /// Stop training after the current step, keeping what was learned.
    Stop,
    /// Top-k of `prompt` with the learned intervention at strength `beta` (−1..1).
    Steer { prompt: String, beta: f32, top_k: usize },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainRequest {
    pub prompt: String,
    /// Answers as text with their leading space, e.g. " Italy" → " France".
    pub from: String,
    pub to: String,
    pub method: Method,
    pub sites: Vec<Site>,
    pub hyper: Hyper,
}

/// One training step as the charts and the heatmap need it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainProgress {
    pub step: usize,
    pub steps: usize,
    pub loss: f32,
    pub eff: f32,
    pub faith: f32,
    pub l1: f32,
    pub nonzero: usize,
    pub delta_pos: f32,
    pub delta_neg: f32,
    pub flip_rate: f32,
    pub ms: f64,
    /// [site][layer][position] values for the heatmap (see `steer::heat`).
    pub heat: Vec<f32>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Response {
    SelfCheck(SelfCheckReport),
    /// Bytes of the model file received so far.
    LoadProgress { loaded: u64, total: Option<u64> },
    ModelReady(ModelInfo),
    /// Loading failed; the model that was loaded before (if any) is still in use.
    LoadFailed(String),
    Prediction(Prediction),
    TrainStarted { tokens: Vec<String>, n_layers: usize, params: usize, method: Method },
    TrainProgress(TrainProgress),
    /// Training ended; `stopped` when the user pressed Stop.
    TrainDone { stopped: bool },
    TrainFailed(String),
    /// The learned intervention's top-k at `beta` (`prediction.error` says why when it cannot apply).
    Steered { beta: f32, prediction: Prediction },
    /// A request failed; the text is for the user.
    Error(String),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub name: String,
    pub n_layers: usize,
    pub d_model: usize,
    pub vocab_size: usize,
    pub backend: BackendKind,
    pub load_ms: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub prompt: String,
    /// Token ids and their display strings; empty with `error` set when the prompt is unusable.
    pub ids: Vec<u32>,
    pub tokens: Vec<String>,
    pub top: Vec<TopToken>,
    pub error: Option<String>,
}

/// The self-check on each backend, and which backend the worker will use.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SelfCheckReport {
    /// The backend the engine runs on: WebGPU when the browser has an adapter, else CPU.
    pub active: BackendKind,
    /// Why WebGPU is not available, when it is not.
    pub webgpu_unavailable: Option<String>,
    pub cpu: Result<SelfCheckResult, String>,
    pub webgpu: Option<Result<SelfCheckResult, String>>,
}

/// One of the most likely next tokens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TopToken {
    pub id: u32,
    pub token: String,
    pub logit: f32,
    pub prob: f32,
}
