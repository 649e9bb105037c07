//! Messages between the page (main thread) and the engine worker. Plain serde types, so the
//! page can speak to the worker without linking burn.

use serde::{Deserialize, Serialize};

use crate::backend::BackendKind;
use crate::self_check::SelfCheckResult;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Request {
    /// Run the autodiff self-check on every backend the worker can reach.
    SelfCheck,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Response {
    SelfCheck(SelfCheckReport),
    /// A request failed; the text is for the user.
    Error(String),
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
