//! The CPU / WebGPU switch. WebGPU is offered whenever the browser has an adapter (also a
//! software one, which the engine does not pick by itself); switching reloads the model onto
//! the other backend.

use leptos::prelude::*;

use actscale::backend::BackendKind;
use actscale::protocol::Request;

use super::page::Page;
use super::state::engine::ModelState;

#[component]
pub fn BackendSwitch(page: Page) -> impl IntoView {
    let current = move || match page.engine.model.get() {
        ModelState::Ready(info) => Some(info.backend),
        _ => None,
    };
    let webgpu_ok = move || page.report().is_some_and(|r| r.webgpu_unavailable.is_none());
    // The backend asked for, shown checked while the model moves onto it.
    let wanted = RwSignal::new(None::<BackendKind>);
    let checked = move |kind| match page.engine.model.get() {
        ModelState::Ready(info) => info.backend == kind,
        _ => wanted.get() == Some(kind),
    };
    let choose = move |kind: BackendKind| {
        if current() == Some(kind) {
            return;
        }
        wanted.set(Some(kind));
        // The predictions shown came from the other backend: the new one predicts afresh.
        page.view.prediction.set(None);
        page.engine.model.set(ModelState::Loading { loaded: 0, total: None });
        page.stop_run_for("switch the backend");
        page.send(Request::SetBackend(kind));
    };
    view! {
        <fieldset class="backend-switch" disabled=move || current().is_none()>
            <legend>"backend"</legend>
            {[BackendKind::Cpu, BackendKind::WebGpu].into_iter().map(|kind| view! {
                <label class="check">
                    <input type="radio" name="backend" id=format!("backend-{}", kind.label().to_lowercase())
                           prop:checked=move || checked(kind)
                           disabled=move || kind == BackendKind::WebGpu && !webgpu_ok()
                           on:change=move |_| choose(kind) />
                    {kind.label()}
                </label>
            }).collect_view()}
            {move || page.report().and_then(|r| r.webgpu_unavailable).map(|why| view! {
                <span class="muted" id="webgpu-unavailable" title=why.clone()>{
                    if why.contains("device was lost") { " (WebGPU failed: its device was lost)" } else { " (no WebGPU in this browser)" }
                }</span>
            })}
        </fieldset>
    }
}
