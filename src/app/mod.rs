//! Leptos components of the page. They send requests to the engine worker and render its
//! answers; they never touch tensors.

mod engine_link;
mod model_status;
mod predictions;
mod self_check_panel;
mod status_line;

use leptos::prelude::*;

use actscale::protocol::{DEFAULT_MODEL_URL, ModelInfo, Prediction, Request, Response, SelfCheckReport};
use engine_link::EngineLink;
use model_status::ModelStatus;
use predictions::Predictions;
use self_check_panel::SelfCheckPanel;
use status_line::StatusLine;

/// What the page knows about the engine worker.
#[derive(Clone, Debug, Default)]
pub enum EngineState {
    #[default]
    Starting,
    Ready(SelfCheckReport),
}

/// The model's loading state.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelState {
    Loading { loaded: u64, total: Option<u64> },
    Ready(ModelInfo),
    Failed(String),
}

const TOP_K: usize = 10;

#[component]
pub fn App() -> impl IntoView {
    let (engine, set_engine) = signal(EngineState::Starting);
    let (model, set_model) = signal(ModelState::Loading { loaded: 0, total: None });
    let (prompt, set_prompt) = signal(String::from("The capital of Italy is"));
    let (prediction, set_prediction) = signal(None::<Prediction>);
    let (error, set_error) = signal(None::<String>);

    let link = EngineLink::spawn(move |response| match response {
        Response::SelfCheck(report) => set_engine.set(EngineState::Ready(report)),
        Response::LoadProgress { loaded, total } => set_model.set(ModelState::Loading { loaded, total }),
        Response::ModelReady(info) => set_model.set(ModelState::Ready(info)),
        Response::LoadFailed(why) => set_model.set(ModelState::Failed(why)),
        // Answers to an older prompt are dropped: only the current text's prediction shows.
        Response::Prediction(p) => {
            if p.prompt == prompt.get_untracked() {
                set_prediction.set(Some(p));
            }
        }
        Response::Error(message) => set_error.set(Some(message)),
    });
    link.send(Request::SelfCheck);
    link.send(Request::LoadModelUrl { url: DEFAULT_MODEL_URL.into() });
    let link = StoredValue::new_local(link);

    // Predict whenever the model is ready and the prompt changes.
    Effect::new(move |_| {
        let text = prompt.get();
        if matches!(model.get(), ModelState::Ready(_)) {
            link.with_value(|l| l.send(Request::Predict { prompt: text, top_k: TOP_K }));
        }
    });

    view! {
        <header class="top">
            <h1>"actscale"</h1>
            <p class="tagline">"Learn sparse activation scalars that steer a language model — in your browser."</p>
        </header>
        <main class="layout">
            <section class="panel prompt-panel" aria-label="Prompt">
                <label for="prompt">"Prompt"</label>
                <textarea
                    id="prompt"
                    rows="3"
                    prop:value=move || prompt.get()
                    on:input=move |ev| set_prompt.set(event_target_value(&ev))
                ></textarea>
                <ModelStatus model=model />
                {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            </section>
            <section class="panel results" id="results" aria-label="Results">
                <h2>"Next-token predictions"</h2>
                <Predictions prediction=prediction model=model />
                <SelfCheckPanel engine=engine />
            </section>
        </main>
        <StatusLine engine=engine model=model />
    }
}
