//! The page's handle on the engine worker.

use gloo_worker::{Spawnable, WorkerBridge};

use crate::worker::EngineWorker;
use actscale::protocol::{Request, Response};
use actscale::worker_codec::JsValues;

/// Path of the worker's loader script in `dist/` (Trunk's `data-loader-shim`).
const WORKER_PATH: &str = "./actscale-worker_loader.js";

pub struct EngineLink {
    bridge: WorkerBridge<EngineWorker>,
}

impl EngineLink {
    /// Starts the worker; `on_response` gets every answer it sends.
    pub fn spawn(on_response: impl Fn(Response) + 'static) -> Self {
        let bridge = EngineWorker::spawner()
            .callback(on_response)
            .encoding::<JsValues>()
            .with_loader(true)
            .as_module(false)
            .spawn(WORKER_PATH);
        EngineLink { bridge }
    }

    pub fn send(&self, request: Request) {
        self.bridge.send(request);
    }
}
