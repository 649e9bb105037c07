//! The footer line that says which compute backend runs the model.

use leptos::prelude::*;

use super::{EngineState, ModelState};
use actscale::backend::BackendKind;

#[component]
pub fn StatusLine(engine: ReadSignal<EngineState>, model: ReadSignal<ModelState>) -> impl IntoView {
    let backend = move || match engine.get() {
        EngineState::Starting => "Backend: starting the engine…".to_string(),
        EngineState::Ready(report) => match (report.active, report.webgpu_unavailable) {
            (BackendKind::WebGpu, _) => "Backend: WebGPU".to_string(),
            (BackendKind::Cpu, Some(why)) => format!("Backend: CPU (WebGPU unavailable: {why})"),
            (BackendKind::Cpu, None) => "Backend: CPU".to_string(),
        },
    };
    let class = move || match engine.get() {
        EngineState::Ready(r) if r.active == BackendKind::WebGpu => "status gpu",
        EngineState::Ready(_) => "status cpu",
        EngineState::Starting => "status",
    };
    // The model runs on the backend it was loaded on.
    let text = move || match model.get() {
        ModelState::Ready(info) => format!("{} · model on {}", backend(), info.backend.label()),
        _ => backend(),
    };
    view! { <footer id="backend-status" class=class role="status">{text}</footer> }
}
