//! Which compute backend a burn `Device` runs on, in words for the UI.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

/// The backends this app can run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackendKind {
    /// burn's pure-Rust CPU backend (`Device::flex()`), natively and in wasm.
    Cpu,
    /// burn-wgpu on the browser's WebGPU.
    WebGpu,
}

impl BackendKind {
    pub fn label(self) -> &'static str {
        match self {
            BackendKind::Cpu => "CPU",
            BackendKind::WebGpu => "WebGPU",
        }
    }
}

/// The CPU device: always available.
pub fn cpu_device() -> Device {
    Device::flex()
}

/// The WebGPU device, or why there is none (e.g. no adapter in this browser).
/// burn allows one initialisation per process: call this once and keep the `Device`.
#[cfg(target_arch = "wasm32")]
pub async fn init_webgpu() -> Result<Device, String> {
    Device::wgpu_options()
        .init_async()
        .await
        .map_err(|e| format!("{e}"))
}
