//! The model's download/load progress and, once loaded, what it is.

use leptos::prelude::*;

use super::state::engine::ModelState;

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

#[component]
pub fn ModelStatus(model: ReadSignal<ModelState>) -> impl IntoView {
    move || match model.get() {
        ModelState::Loading { loaded, total } => {
            let label = match total {
                Some(t) => format!("Loading model… {} of {}", mb(loaded), mb(t)),
                None => format!("Loading model… {}", mb(loaded)),
            };
            let (value, max) = match total {
                Some(t) if t > 0 => (loaded as f64, t as f64),
                _ => (0.0, 1.0),
            };
            view! {
                <div class="model-status loading" id="model-status">
                    <progress id="model-progress" max=max value=value aria-label="model download"></progress>
                    <span>{label}</span>
                </div>
            }
            .into_any()
        }
        ModelState::Ready(info) => view! {
            <div class="model-status ready" id="model-status">
                {format!(
                    "{} — {} layers, d = {}, {} tokens, {}; loaded in {:.1} s",
                    info.name, info.n_layers, info.d_model, info.vocab_size, info.arch, info.load_ms / 1e3
                )}
            </div>
        }
        .into_any(),
        ModelState::Failed(why) => view! {
            <div class="model-status failed error" id="model-status" role="alert">
                {format!("The model could not be loaded: {why}")}
            </div>
        }
        .into_any(),
    }
}
