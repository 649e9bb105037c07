//! The worker's compute backends: WebGPU when the browser gives an adapter, else the CPU.

use std::cell::RefCell;

use actscale::backend::{BackendKind, cpu_device, init_webgpu};
use actscale::protocol::SelfCheckReport;
use actscale::self_check;
use burn::tensor::Device;

thread_local! {
    // burn initialises WebGPU once per worker: keep the outcome.
    static WEBGPU: RefCell<Option<Result<Device, String>>> = const { RefCell::new(None) };
}

/// The WebGPU device, or why there is none.
pub async fn webgpu() -> Result<Device, String> {
    if let Some(known) = WEBGPU.with(|w| w.borrow().clone()) {
        return known;
    }
    let got = init_webgpu().await;
    WEBGPU.with(|w| *w.borrow_mut() = Some(got.clone()));
    got
}

/// The device the engine runs on, and which kind it is.
pub async fn active() -> (Device, BackendKind) {
    match webgpu().await {
        Ok(device) => (device, BackendKind::WebGpu),
        Err(_) => (cpu_device(), BackendKind::Cpu),
    }
}

pub async fn self_check_report() -> SelfCheckReport {
    let cpu = self_check::run(&cpu_device(), BackendKind::Cpu).await;
    match webgpu().await {
        Ok(device) => SelfCheckReport {
            active: BackendKind::WebGpu,
            webgpu_unavailable: None,
            cpu,
            webgpu: Some(self_check::run(&device, BackendKind::WebGpu).await),
        },
        Err(why) => SelfCheckReport { active: BackendKind::Cpu, webgpu_unavailable: Some(why), cpu, webgpu: None },
    }
}
