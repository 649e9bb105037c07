//! The engine worker: owns burn and the backends, answers `protocol::Request`s.
//! Shared by the worker binary (which registers it) and the page (which only spawns it, so
//! none of the burn code below is linked into the page).

use std::cell::RefCell;

use actscale::backend::{BackendKind, cpu_device, init_webgpu};
use actscale::protocol::{Request, Response, SelfCheckReport};
use actscale::self_check;
use burn::tensor::Device;
use gloo_worker::{HandlerId, Worker, WorkerScope};

/// Path of the worker's loader script in `dist/` (Trunk's `data-loader-shim`).
pub const WORKER_PATH: &str = "./actscale-worker_loader.js";

pub struct EngineWorker;

pub enum Done {
    Reply(HandlerId, Response),
}

thread_local! {
    // burn initialises WebGPU once per worker: keep the outcome.
    static WEBGPU: RefCell<Option<Result<Device, String>>> = const { RefCell::new(None) };
}

async fn webgpu() -> Result<Device, String> {
    if let Some(known) = WEBGPU.with(|w| w.borrow().clone()) {
        return known;
    }
    let got = init_webgpu().await;
    WEBGPU.with(|w| *w.borrow_mut() = Some(got.clone()));
    got
}

async fn self_check_report() -> SelfCheckReport {
    let cpu = self_check::run(&cpu_device(), BackendKind::Cpu).await;
    match webgpu().await {
        Ok(device) => SelfCheckReport {
            active: BackendKind::WebGpu,
            webgpu_unavailable: None,
            cpu,
            webgpu: Some(self_check::run(&device, BackendKind::WebGpu).await),
        },
        Err(why) => SelfCheckReport {
            active: BackendKind::Cpu,
            webgpu_unavailable: Some(why),
            cpu,
            webgpu: None,
        },
    }
}

impl Worker for EngineWorker {
    type Message = Done;
    type Input = Request;
    type Output = Response;

    fn create(_scope: &WorkerScope<Self>) -> Self {
        EngineWorker
    }

    fn update(&mut self, scope: &WorkerScope<Self>, msg: Done) {
        match msg {
            Done::Reply(id, response) => scope.respond(id, response),
        }
    }

    fn received(&mut self, scope: &WorkerScope<Self>, msg: Request, id: HandlerId) {
        match msg {
            Request::SelfCheck => scope.send_future(async move {
                Done::Reply(id, Response::SelfCheck(self_check_report().await))
            }),
        }
    }
}
