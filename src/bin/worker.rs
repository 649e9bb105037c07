//! Entry point of the engine Web Worker (built by Trunk as a worker).

#[path = "../worker/mod.rs"]
mod worker;

use gloo_worker::Registrable;

fn main() {
    console_error_panic_hook::set_once();
    worker::EngineWorker::registrar().register();
}
