//! The worker's compute backends and which one runs the model: what the user picked, else
//! WebGPU on a hardware adapter, else the CPU (no adapter, or a software one that is slower).

use actscale::backend::{BackendKind, cpu_device, init_webgpu};
use actscale::protocol::SelfCheckReport;
use actscale::self_check;
use burn::tensor::Device;

use super::adapter;
use super::state::Engine;

/// The WebGPU device, or why there is none.
pub async fn webgpu(e: &Engine) -> Result<Device, String> {
    if let Some(why) = e.webgpu_lost.borrow().clone() {
        return Err(why);
    }
    e.webgpu.get_or_init(init_webgpu()).await.clone()
}

async fn software_renderer(e: &Engine) -> Option<String> {
    if let Some(known) = e.software.borrow().clone() {
        return known;
    }
    let got = adapter::software_renderer().await;
    *e.software.borrow_mut() = Some(got.clone());
    got
}

/// The backend models load on, and why (shown in the page's status line).
pub struct Choice {
    pub device: Device,
    pub kind: BackendKind,
    pub reason: String,
}

impl Choice {
    fn cpu(reason: String) -> Choice {
        Choice { device: cpu_device(), kind: BackendKind::Cpu, reason }
    }
}

pub async fn choice(e: &Engine) -> Choice {
    let picked = e.preferred.get();
    if picked == Some(BackendKind::Cpu) {
        return Choice::cpu("your choice".into());
    }
    let device = match webgpu(e).await {
        Ok(device) => device,
        Err(why) => return Choice::cpu(format!("WebGPU unavailable: {why}")),
    };
    if picked == Some(BackendKind::WebGpu) {
        return Choice { device, kind: BackendKind::WebGpu, reason: "your choice".into() };
    }
    match software_renderer(e).await {
        Some(name) => Choice::cpu(format!(
            "this browser's WebGPU adapter is a software renderer ({name}), slower than the CPU backend"
        )),
        None => {
            Choice { device, kind: BackendKind::WebGpu, reason: "this browser has a hardware WebGPU adapter".into() }
        }
    }
}

/// WebGPU failed for good in this worker (its device was lost): the CPU from now on, and the
/// self-check and backend switch say why WebGPU is gone.
pub fn webgpu_lost(e: &Engine, why: &str) {
    *e.webgpu_lost.borrow_mut() = Some(format!("the WebGPU device was lost ({why})"));
    set_preferred(e, BackendKind::Cpu);
}

/// Records the user's pick without checking it (the page's `?backend=` before anything loads;
/// `choice` falls back to the CPU, saying why, when WebGPU is asked for and missing).
pub fn set_preferred(e: &Engine, kind: BackendKind) {
    e.preferred.set(Some(kind));
}

/// Chooses the backend for models loaded from now on; fails when WebGPU is asked for and the
/// browser has none.
pub async fn prefer(e: &Engine, kind: BackendKind) -> Result<(), String> {
    if kind == BackendKind::WebGpu {
        webgpu(e).await.map_err(|why| format!("WebGPU is not available: {why}"))?;
    }
    set_preferred(e, kind);
    Ok(())
}

pub async fn self_check_report(e: &Engine) -> SelfCheckReport {
    let cpu = self_check::run(&cpu_device(), BackendKind::Cpu).await;
    let (webgpu_unavailable, webgpu) = match webgpu(e).await {
        Ok(device) => (None, Some(self_check::run(&device, BackendKind::WebGpu).await)),
        Err(why) => (Some(why), None),
    };
    let Choice { kind, reason, .. } = choice(e).await;
    SelfCheckReport { active: kind, reason, webgpu_unavailable, cpu, webgpu }
}
