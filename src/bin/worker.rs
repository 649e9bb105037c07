//! Entry point of the engine Web Worker (built by Trunk as a worker).

#[path = "../worker/mod.rs"]
mod worker;

use actscale::worker_codec::JsValues;
use gloo_worker::Registrable;

fn main() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        // Throw the panic's message as a JS error: it reaches the page as the worker's uncaught
        // error (the page then says the engine stopped), with the message rather than only
        // "unreachable". The engine is not usable after this; the page offers a reload.
        wasm_bindgen::throw_str(&format!("the engine stopped: {info}"));
    }));
    worker::EngineWorker::registrar().encoding::<JsValues>().register();
}
