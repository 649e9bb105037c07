//! Entry point of the engine Web Worker (built by Trunk as a worker).

#[path = "../worker/mod.rs"]
mod worker;

use actscale::worker_codec::JsValues;
use gloo_worker::Registrable;

// wasm-ld's runner of static constructors (inventory registrations in burn's and cubecl's crates).
#[cfg(target_arch = "wasm32")]
unsafe extern "C" {
    fn __wasm_call_ctors();
}

fn main() {
    // Run the static constructors once, here. A module that never calls them is linked as a
    // "command", and wasm-ld then wraps *every* export — each call from JS: malloc, free, an
    // externref slot, a closure — in a call to all of them (`*_command_export`): in a profile of
    // training in the page, 27% of the worker's time went to re-running them.
    #[cfg(target_arch = "wasm32")]
    unsafe {
        __wasm_call_ctors()
    };
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        // Throw the panic's message as a JS error: it reaches the page as the worker's uncaught
        // error (the page then says the engine stopped), with the message rather than only
        // "unreachable". The engine is not usable after this; the page starts a new one.
        wasm_bindgen::throw_str(&format!("the engine stopped: {info}"));
    }));
    // Creating the worker also closes it on an uncaught error (`patch_helper::close_on_uncaught_error`).
    worker::EngineWorker::registrar().encoding::<JsValues>().register();
}
