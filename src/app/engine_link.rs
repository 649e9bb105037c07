//! The page's handle on the engine worker.

use gloo_worker::WorkerBridge;

use crate::worker::{EngineWorker, spawn};
use actscale::protocol::{Request, Response};

pub struct EngineLink {
    bridge: WorkerBridge<EngineWorker>,
}

impl EngineLink {
    /// Starts the worker; `on_response` gets every answer it sends.
    pub fn spawn(on_response: impl Fn(Response) + 'static) -> Self {
        EngineLink { bridge: spawn(on_response) }
    }

    pub fn send(&self, request: Request) {
        self.bridge.send(request);
    }
}
