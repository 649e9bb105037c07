//! The worker's compute backends: WebGPU when the browser gives an adapter, else the CPU.

use std::cell::{Cell, RefCell};

use actscale::backend::{BackendKind, cpu_device, init_webgpu};
use actscale::protocol::SelfCheckReport;
use actscale::self_check;
use burn::tensor::Device;

thread_local! {
    // burn initialises WebGPU once per worker: keep the outcome.
    static WEBGPU: RefCell<Option<Result<Device, String>>> = const { RefCell::new(None) };
    // What the user picked in the page (None: WebGPU when there is one).
    static PREFERRED: Cell<Option<BackendKind>> = const { Cell::new(None) };
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

/// The device the engine runs on, and which kind it is: the user's choice, else WebGPU when
/// there is an adapter, else the CPU.
pub async fn active() -> (Device, BackendKind) {
    if PREFERRED.with(Cell::get) == Some(BackendKind::Cpu) {
        return (cpu_device(), BackendKind::Cpu);
    }
    match webgpu().await {
        Ok(device) => (device, BackendKind::WebGpu),
        Err(_) => (cpu_device(), BackendKind::Cpu),
    }
}

/// Chooses the backend for models loaded from now on; fails when WebGPU is asked for and the
/// browser has none.
pub async fn prefer(kind: BackendKind) -> Result<(), String> {
    if kind == BackendKind::WebGpu {
        webgpu().await.map_err(|why| format!("WebGPU is not available: {why}"))?;
    }
    PREFERRED.with(|p| p.set(Some(kind)));
    Ok(())
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
