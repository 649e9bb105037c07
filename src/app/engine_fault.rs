//! When the engine worker dies (a Rust panic, which the worker throws as a JS error, a wasm trap
//! or out-of-memory, or any other uncaught error — the worker closes itself on one), its error
//! reaches the page's window as an `error` event from the worker's script. The page says what
//! happened, ends whatever it showed as running, starts a fresh worker, reloads the model (from
//! the Cache API, or the file the user picked) on the backend it was using, and puts the last
//! learned intervention back (`Page::last_saved`, the page's own copy). What the user typed and
//! set lives in the page and is untouched. A worker that keeps dying (`MAX_RESTARTS` within
//! `RESTART_WINDOW_MS`) is not restarted again: a banner offers a reload of the page.

use leptos::prelude::*;

use actscale::backend::BackendKind;

use super::ModelState;
use super::page::{Continuation, Page};
use super::train_panel::TrainState;

/// Scripts of the engine worker (Trunk's loader shim and the worker's wasm-bindgen glue) are
/// named after the worker binary, `actscale-worker`.
const WORKER_SCRIPT: &str = "actscale-worker";

/// More deaths than this within the window mean the fault is in what the page asks (or the
/// machine): restarting again would loop.
const MAX_RESTARTS: usize = 3;
const RESTART_WINDOW_MS: f64 = 60_000.0;
const SAME_DEATH_MS: f64 = 1_000.0;

/// Listens for the worker's uncaught errors for the page's lifetime.
pub fn watch(page: Page) {
    let _ = window_event_listener(leptos::ev::error, move |ev| {
        let Some(ev) = wasm_bindgen::JsCast::dyn_ref::<web_sys::ErrorEvent>(&ev) else { return };
        if ev.filename().contains(WORKER_SCRIPT) {
            died(page, ev.message());
        }
    });
}

/// The error's message without the prefixes the browser and our panic hook put on it.
fn plain(message: &str) -> String {
    ["Uncaught ", "Error: ", "RuntimeError: ", "the engine stopped: "]
        .iter()
        .fold(message, |m, prefix| m.strip_prefix(prefix).unwrap_or(m))
        .to_string()
}

fn died(page: Page, message: String) {
    if page.engine_fault.get_untracked().is_some() {
        return; // given up already
    }
    let now = js_sys::Date::now();
    // One death may raise more than one error (a trap after a panic's message) within moments.
    if page.engine_deaths.with_value(|d| d.last().is_some_and(|t| now - t < SAME_DEATH_MS)) {
        return;
    }
    let recent = page.engine_deaths.try_update_value(|d| {
        d.retain(|t| now - t < RESTART_WINDOW_MS);
        d.push(now);
        d.len()
    });
    let why = plain(&message);
    end_what_was_running(page);
    if recent.unwrap_or(0) > MAX_RESTARTS {
        page.engine_fault.set(Some(why));
        return;
    }
    let restoring = page.last_saved.with_value(Option::is_some);
    // It may be the GPU that failed: a fresh engine starts on the CPU (the switch brings WebGPU back).
    let on_cpu = page.ready_info.with_value(|i| i.as_ref().is_some_and(|i| i.backend == BackendKind::WebGpu));
    page.engine_notice.set(Some(EngineNotice {
        what: in_plain_words(&why),
        detail: why,
        restoring,
        done: false,
        on_cpu,
    }));
    page.restore_after_restart.set_value(page.last_saved.get_value());
    page.putting_back.set_value(false);
    super::start_engine(page, on_cpu.then_some(BackendKind::Cpu));
}

/// What the page says after the engine died, while and after it restarts it.
#[derive(Clone, Debug, PartialEq)]
pub struct EngineNotice {
    /// What happened, in plain words.
    pub what: &'static str,
    /// The error's own message.
    pub detail: String,
    /// Whether an intervention is being put back.
    pub restoring: bool,
    /// The model is loaded again (and the intervention back).
    pub done: bool,
    /// The engine moved from WebGPU to the CPU backend.
    pub on_cpu: bool,
}

impl EngineNotice {
    /// WebGPU failed under a live engine, which moves to the CPU with what was learned so far.
    pub fn webgpu_lost(detail: String, restoring: bool) -> Self {
        EngineNotice { what: "WebGPU failed (its device was lost)", detail, restoring, done: false, on_cpu: true }
    }

    fn status(&self) -> String {
        let cpu = if self.on_cpu { " on the CPU backend" } else { "" };
        // A lost device leaves the engine alive with the run's last step; a death, the last run.
        let (learned, done) = if self.what.starts_with("WebGPU") {
            ("the intervention learned so far", format!("It runs{cpu} now"))
        } else {
            ("the last learned intervention", format!("It was restarted{cpu}"))
        };
        let kept = "what you typed and set is kept";
        match (self.done, self.restoring) {
            (false, true) => format!("Restarting{cpu}: the model is reloading, then {learned} goes back; {kept}."),
            (false, false) => format!("Restarting{cpu}: the model is reloading; {kept}."),
            (true, true) => format!("{done}, with the model and {learned}; {kept}."),
            (true, false) => format!("{done}, with the model; {kept}."),
        }
    }
}

/// What kind of death an error message tells of.
fn in_plain_words(message: &str) -> &'static str {
    let m = message.to_lowercase();
    if ["out of memory", "memory allocation", "capacity overflow", "could not allocate"].iter().any(|k| m.contains(k)) {
        "it ran out of memory"
    } else if m.contains("panicked") {
        "it hit an internal error"
    } else if m.contains("unreachable") || m.contains("runtimeerror") {
        "it hit an internal error (a wasm trap)"
    } else {
        "it raised an error it could not handle"
    }
}

/// Marks the notice done: the restarted engine has the model (and the intervention) again.
pub fn restarted(page: Page) {
    page.engine_notice.update(|n| {
        if let Some(n) = n {
            n.done = true
        }
    });
}

/// No run, load or continuation is in progress once the engine is gone.
fn end_what_was_running(page: Page) {
    if matches!(page.train_state.get_untracked(), TrainState::Running { .. }) {
        page.train_state.set(TrainState::Failed(
            "the engine stopped during this run; what it learned since the last finished run is lost".into(),
        ));
    }
    page.sweeping.set(false);
    page.stopped_for.set_value(None);
    if page.continuation.get_untracked() == Continuation::Running {
        page.continuation.set(Continuation::None);
    }
    page.model.set(ModelState::Loading { loaded: 0, total: None });
}

/// The notice after a restart (dismissable), or the banner once restarts are given up.
#[component]
pub fn EngineFault(page: Page) -> impl IntoView {
    let reload = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.location().reload();
        }
    };
    let notice = move || {
        page.engine_notice.get().map(|n| view! {
            <div id="engine-restarted" class="engine-restarted" role="status" data-done=n.done.to_string()>
                <p>
                    <strong>{if n.what.starts_with("WebGPU") { format!("{}. ", n.what) } else { format!("The engine stopped: {}. ", n.what) }}</strong>
                    {n.status()}" "
                    <span class="muted" id="engine-restarted-why">{n.detail.clone()}</span>
                </p>
                <button id="engine-notice-close" on:click=move |_| page.engine_notice.set(None)>"OK"</button>
            </div>
        })
    };
    let banner = move || {
        page.engine_fault.get().map(|why| {
            view! {
                <div id="engine-stopped" class="engine-stopped" role="alert">
                    <p>
                        <strong>"The engine stopped again and again. "</strong>
                        "Nothing on this page can run until it is reloaded (a link you made still works). "
                        <span class="muted" id="engine-stopped-why">{why}</span>
                    </p>
                    <button id="engine-reload" on:click=reload>"Reload the page"</button>
                </div>
            }
        })
    };
    view! { {banner} {notice} }
}
