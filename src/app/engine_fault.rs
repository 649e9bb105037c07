//! When the engine worker dies (a Rust panic, which the worker throws as a JS error, or a wasm
//! trap), its uncaught error reaches the page's window as an `error` event from the worker's
//! script. The page then says so at once, ends whatever it showed as running, and offers a
//! reload; nothing else on the page can work without the engine.

use leptos::prelude::*;

use super::ModelState;
use super::page::{Continuation, Page};
use super::train_panel::TrainState;

/// Scripts of the engine worker (Trunk's loader shim and the worker's wasm-bindgen glue) are
/// named after the worker binary, `actscale-worker`.
const WORKER_SCRIPT: &str = "actscale-worker";

/// Listens for the worker's uncaught errors for the page's lifetime.
pub fn watch(page: Page) {
    let _ = window_event_listener(leptos::ev::error, move |ev| {
        let Some(ev) = wasm_bindgen::JsCast::dyn_ref::<web_sys::ErrorEvent>(&ev) else { return };
        if ev.filename().contains(WORKER_SCRIPT) {
            stopped(page, ev.message());
        }
    });
}

/// What the page shows once the engine is gone: no run, load or continuation in progress.
fn stopped(page: Page, message: String) {
    if page.engine_fault.get_untracked().is_some() {
        return; // the first error says why; a trap after a panic adds nothing
    }
    let message = ["Uncaught ", "Error: ", "the engine stopped: "]
        .iter()
        .fold(message.as_str(), |m, prefix| m.strip_prefix(prefix).unwrap_or(m))
        .to_string();
    page.engine_fault.set(Some(message));
    if matches!(page.train_state.get_untracked(), TrainState::Running { .. }) {
        page.train_state.set(TrainState::Failed("the engine stopped".into()));
    }
    page.sweeping.set(false);
    if page.continuation.get_untracked() == Continuation::Running {
        page.continuation.set(Continuation::None);
    }
    if matches!(page.model.get_untracked(), ModelState::Loading { .. }) {
        page.model.set(ModelState::Failed("the engine stopped".into()));
    }
}

/// The banner over the page while the engine is gone.
#[component]
pub fn EngineFault(page: Page) -> impl IntoView {
    let reload = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.location().reload();
        }
    };
    move || {
        page.engine_fault.get().map(|why| view! {
            <div id="engine-stopped" class="engine-stopped" role="alert">
                <p>
                    <strong>"The engine stopped. "</strong>
                    "Nothing on this page can run until it is reloaded (what you trained is lost; a link you made still works). "
                    <span class="muted" id="engine-stopped-why">{why}</span>
                </p>
                <button id="engine-reload" on:click=reload>"Reload the page"</button>
            </div>
        })
    }
}
