//! The page's handle on the engine worker.

use gloo_worker::{Spawnable, WorkerBridge};

use crate::worker::{EngineWorker, WORKER_PATH};
use actscale::protocol::{Request, Response};

pub struct EngineLink {
    bridge: WorkerBridge<EngineWorker>,
}

impl EngineLink {
    /// Starts the worker; `on_response` gets every answer it sends.
    pub fn spawn(on_response: impl Fn(Response) + 'static) -> Self {
        let bridge = EngineWorker::spawner()
            .callback(on_response)
            .with_loader(true)
            .as_module(false)
            .spawn(WORKER_PATH);
        EngineLink { bridge }
    }

    pub fn send(&self, request: Request) {
        self.bridge.send(request);
    }
}
