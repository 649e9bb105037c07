//! The footer line that says which compute backend runs the model, and why that one.

use leptos::prelude::*;

use super::state::engine::{EngineState, ModelState};
use actscale::backend::BackendKind;

/// "Backend: CPU — <why>" while loading; "… · model on X" once a model runs. When the user
/// moved the model to the other backend, the engine's reason for its default no longer applies.
fn status_text(engine: &EngineState, model: &ModelState) -> String {
    let EngineState::Ready(report) = engine else {
        // The self-check (which also says why this backend) can finish after a small model loads.
        return match model {
            ModelState::Ready(info) => format!("Backend: {} · model on {}", info.backend.label(), info.backend.label()),
            _ => "Backend: starting the engine…".to_string(),
        };
    };
    match model {
        ModelState::Ready(info) if info.backend != report.active => format!(
            "Backend: {} — your choice (default: {}, {}) · model on {}",
            info.backend.label(),
            report.active.label(),
            report.reason,
            info.backend.label()
        ),
        ModelState::Ready(info) => {
            format!("Backend: {} — {} · model on {}", report.active.label(), report.reason, info.backend.label())
        }
        _ => format!("Backend: {} — {}", report.active.label(), report.reason),
    }
}

#[component]
pub fn StatusLine(engine: ReadSignal<EngineState>, model: ReadSignal<ModelState>) -> impl IntoView {
    let class = move || {
        let on = match model.get() {
            ModelState::Ready(info) => Some(info.backend),
            _ => match engine.get() {
                EngineState::Ready(r) => Some(r.active),
                EngineState::Starting => None,
            },
        };
        match on {
            Some(BackendKind::WebGpu) => "status gpu",
            Some(BackendKind::Cpu) => "status cpu",
            None => "status",
        }
    };
    let text = move || engine.with(|e| model.with(|m| status_text(e, m)));
    view! { <footer id="backend-status" class=class role="status">{text}</footer> }
}
