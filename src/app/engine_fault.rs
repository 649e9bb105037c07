//! When the engine worker dies (a Rust panic, which the worker throws as a JS error, a wasm trap
//! or out-of-memory, or any other uncaught error — the worker closes itself on one), its error
//! reaches the page's window as an `error` event from the worker's script. The page says what
//! happened, ends whatever it showed as running, starts a fresh worker, reloads the model (from
//! the Cache API, or the file the user picked) on the backend it was using, and puts the last
//! learned intervention back (`Page::recovery`, which holds the page's own copy). What the user typed and
//! set lives in the page and is untouched. A worker that keeps dying (`MAX_RESTARTS` within
//! `RESTART_WINDOW_MS`) is not restarted again: a banner offers a reload of the page.

use leptos::prelude::*;

use actscale::backend::BackendKind;
use actscale::page_state::recovery::NoticeStatus;

use super::page::Page;
use super::state::engine::{EngineNotice, ModelState};
use super::state::run::TrainState;
use super::state::view::Continuation;

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
    if page.engine.fault.get_untracked().is_some() {
        return; // given up already
    }
    let now = js_sys::Date::now();
    // One death may raise more than one error (a trap after a panic's message) within moments.
    if page.engine.deaths.with_value(|d| d.last().is_some_and(|t| now - t < SAME_DEATH_MS)) {
        return;
    }
    let recent = page.engine.deaths.try_update_value(|d| {
        d.retain(|t| now - t < RESTART_WINDOW_MS);
        d.push(now);
        d.len()
    });
    let why = plain(&message);
    end_what_was_running(page);
    if recent.unwrap_or(0) > MAX_RESTARTS {
        page.engine.fault.set(Some(why));
        return;
    }
    page.engine.recovery.update(|r| {
        r.engine_died();
    });
    // It may be the GPU that failed: a fresh engine starts on the CPU (the switch brings WebGPU back).
    let on_cpu = page.engine.ready_info.with_value(|i| i.as_ref().is_some_and(|i| i.backend == BackendKind::WebGpu));
    page.engine.notice.set(Some(EngineNotice { what: in_plain_words(&why), detail: why, on_cpu }));
    super::engine_start::start_engine(page, on_cpu.then_some(BackendKind::Cpu));
}

/// The notice's text: what happened, and how far getting the engine back has come.
fn notice_text(n: &EngineNotice, NoticeStatus { restoring, done }: NoticeStatus) -> String {
    let cpu = if n.on_cpu { " on the CPU backend" } else { "" };
    // A lost device leaves the engine alive with the run's last step; a death, the last run.
    let (learned, back) = if n.what.starts_with("WebGPU") {
        ("the intervention learned so far", format!("It runs{cpu} now"))
    } else {
        ("the last learned intervention", format!("It was restarted{cpu}"))
    };
    let kept = "what you typed and set is kept";
    match (done, restoring) {
        (false, true) => format!("Restarting{cpu}: the model is reloading, then {learned} goes back; {kept}."),
        (false, false) => format!("Restarting{cpu}: the model is reloading; {kept}."),
        (true, true) => format!("{back}, with the model and {learned}; {kept}."),
        (true, false) => format!("{back}, with the model; {kept}."),
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

/// No run, load or continuation is in progress once the engine is gone.
fn end_what_was_running(page: Page) {
    if matches!(page.run.train_state.get_untracked(), TrainState::Running { .. }) {
        page.run.train_state.set(TrainState::Failed(
            "the engine stopped during this run; what it learned since the last finished run is lost".into(),
        ));
    }
    page.run.sweeping.set(false);
    page.run.stopped_for.set_value(None);
    if page.view.continuation.get_untracked() == Continuation::Running {
        page.view.continuation.set(Continuation::None);
    }
    page.engine.model.set(ModelState::Loading { loaded: 0, total: None });
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
        let status = page.engine.recovery.with(|r| r.notice()).unwrap_or(NoticeStatus { restoring: false, done: true });
        page.engine.notice.get().map(|n| view! {
            <div id="engine-restarted" class="engine-restarted" role="status" data-done=status.done.to_string()>
                <p>
                    <strong>{if n.what.starts_with("WebGPU") { format!("{}. ", n.what) } else { format!("The engine stopped: {}. ", n.what) }}</strong>
                    {notice_text(&n, status)}" "
                    <span class="muted" id="engine-restarted-why">{n.detail.clone()}</span>
                </p>
                <button id="engine-notice-close" on:click=move |_| page.engine.notice.set(None)>"OK"</button>
            </div>
        })
    };
    let banner = move || {
        page.engine.fault.get().map(|why| {
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
