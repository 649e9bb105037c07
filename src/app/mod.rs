//! Leptos components of the page.

mod engine_link;
mod self_check_panel;
mod status_line;

use leptos::prelude::*;

use actscale::protocol::{Request, Response, SelfCheckReport};
use engine_link::EngineLink;
use self_check_panel::SelfCheckPanel;
use status_line::StatusLine;

/// What the page knows about the engine worker.
#[derive(Clone, Debug, Default)]
pub enum EngineState {
    #[default]
    Starting,
    Ready(SelfCheckReport),
    Failed(String),
}

#[component]
pub fn App() -> impl IntoView {
    let (engine, set_engine) = signal(EngineState::Starting);
    let (prompt, set_prompt) = signal(String::from("Rome is in"));

    let link = EngineLink::spawn(move |response| match response {
        Response::SelfCheck(report) => set_engine.set(EngineState::Ready(report)),
        Response::Error(message) => set_engine.set(EngineState::Failed(message)),
    });
    link.send(Request::SelfCheck);
    // The page lives as long as the worker: keep the link for the page's lifetime.
    StoredValue::new_local(link);

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
            </section>
            <section class="panel results" id="results" aria-label="Results">
                <h2>"Results"</h2>
                <p class="muted">"Predictions, learned scalars and charts will appear here."</p>
                <SelfCheckPanel engine=engine />
            </section>
        </main>
        <StatusLine engine=engine />
    }
}
