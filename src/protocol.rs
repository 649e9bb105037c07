//! Messages between the page (main thread) and the engine worker. Plain serde types, so the
//! page can speak to the worker without linking burn.

use serde::{Deserialize, Serialize};

use crate::backend::BackendKind;
use crate::self_check::SelfCheckResult;

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
