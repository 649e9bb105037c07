//! Which compute backend a burn `Device` runs on, in words for the UI.

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
    /// The `?backend=` value: "cpu" or "webgpu" (any case).
    pub fn parse(s: &str) -> Option<BackendKind> {
        [BackendKind::Cpu, BackendKind::WebGpu].into_iter().find(|k| k.label().eq_ignore_ascii_case(s))
    }

    pub fn label(self) -> &'static str {
        match self {
            BackendKind::Cpu => "CPU",
            BackendKind::WebGpu => "WebGPU",
        }
    }
}

/// The CPU device: always available.
#[cfg(feature = "engine")]
pub fn cpu_device() -> burn::tensor::Device {
    burn::tensor::Device::flex()
}

/// The WebGPU device, or why there is none (e.g. no adapter in this browser).
/// burn allows one initialisation per process: call this once and keep the `Device`.
#[cfg(all(target_arch = "wasm32", feature = "engine"))]
pub async fn init_webgpu() -> Result<burn::tensor::Device, String> {
    burn::tensor::Device::wgpu_options().init_async().await.map_err(|e| {
        let e = e.to_string();
        if e.to_lowercase().contains("adapter") { "this browser gives no WebGPU adapter".to_string() } else { e }
    })
}
