//! Leptos components of the page. They send requests to the engine worker and render its
//! answers; they never touch tensors.

mod engine_link;
mod heatmap;
mod line_chart;
mod model_status;
mod predictions;
mod self_check_panel;
mod status_line;
mod steered;
mod train_panel;

use leptos::prelude::*;

use actscale::protocol::{DEFAULT_MODEL_URL, ModelInfo, Prediction, Request, Response, SelfCheckReport, TrainProgress, TrainRequest};
use actscale::steer::hyper::Method;
use engine_link::EngineLink;
use heatmap::{Heat, Heatmap};
use line_chart::{LineChart, Series};
use model_status::ModelStatus;
use predictions::Predictions;
use self_check_panel::SelfCheckPanel;
use status_line::StatusLine;
use steered::Steered;
use train_panel::{Settings, TrainPanel, TrainState};

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

/// The model to load: `?model=URL` in the page's address, else the default model.
fn model_url() -> String {
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    search
        .trim_start_matches('?')
        .split('&')
        .find_map(|kv| kv.strip_prefix("model="))
        .and_then(|v| js_sys::decode_uri_component(v).ok())
        .map(String::from)
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_MODEL_URL.to_string())
}

fn heat_label(m: Method) -> &'static str {
    match m {
        Method::ActivScalar => "α",
        Method::SteerVec => "‖v‖",
        Method::DynScalar => "α(h) on this prompt",
    }
}

#[component]
pub fn App() -> impl IntoView {
    let (engine, set_engine) = signal(EngineState::Starting);
    let (model, set_model) = signal(ModelState::Loading { loaded: 0, total: None });
    let (prompt, set_prompt) = signal(String::from("The capital of Italy is"));
    let (prediction, set_prediction) = signal(None::<Prediction>);
    let (error, set_error) = signal(None::<String>);
    let settings = Settings::new();
    let (train_state, set_train_state) = signal(TrainState::Idle);
    let (history, set_history) = signal(Vec::<TrainProgress>::new());
    let (heat, set_heat) = signal(None::<Heat>);
    let (beta, set_beta) = signal(1.0f32);
    let (steered, set_steered) = signal(None::<Prediction>);
    let trained_prompt = StoredValue::new(String::new());
    let link_cell = StoredValue::new_local(None::<EngineLink>);
    let send = move |r: Request| link_cell.with_value(|l| if let Some(l) = l { l.send(r) });
    let request_steer = move || send(Request::Steer { prompt: trained_prompt.get_value(), beta: beta.get_untracked(), top_k: TOP_K });

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
        Response::TrainStarted { tokens, n_layers, method, .. } => {
            set_history.set(vec![]);
            set_heat.set(Some(Heat { tokens, n_layers, values: vec![], what: heat_label(method) }));
        }
        Response::TrainProgress(mut p) => {
            set_train_state.set(TrainState::Running { step: p.step, steps: p.steps });
            let values = std::mem::take(&mut p.heat);
            set_heat.update(|h| if let Some(h) = h { h.values = values });
            set_history.update(|h| h.push(p));
        }
        Response::TrainDone { stopped } => {
            let step = history.with_untracked(|h| h.last().map_or(0, |p| p.step));
            set_train_state.set(TrainState::Done { stopped, step });
            request_steer();
        }
        Response::TrainFailed(why) => set_train_state.set(TrainState::Failed(why)),
        Response::Steered { beta: b, prediction } => {
            if (b - beta.get_untracked()).abs() < 1e-6 {
                set_steered.set(Some(prediction));
            }
        }
        Response::Error(message) => set_error.set(Some(message)),
    });
    link.send(Request::SelfCheck);
    link.send(Request::LoadModelUrl { url: model_url() });
    link_cell.set_value(Some(link));

    // Predict whenever the model is ready and the prompt changes.
    Effect::new(move |_| {
        let text = prompt.get();
        if matches!(model.get(), ModelState::Ready(_)) {
            send(Request::Predict { prompt: text, top_k: TOP_K });
        }
    });

    let on_train = Callback::new(move |()| {
        let req = TrainRequest {
            prompt: prompt.get_untracked(),
            from: settings.from.get_untracked(),
            to: settings.to.get_untracked(),
            method: settings.method.get_untracked(),
            sites: settings.sites.get_untracked(),
            hyper: settings.hyper.get_untracked(),
        };
        trained_prompt.set_value(req.prompt.clone());
        set_steered.set(None);
        set_train_state.set(TrainState::Running { step: 0, steps: req.hyper.steps });
        send(Request::Train(req));
    });
    let on_stop = Callback::new(move |()| send(Request::Stop));
    let on_pick = Callback::new(move |(token, to): (String, bool)| {
        if to { settings.to.set(token) } else { settings.from.set(token) }
    });
    let on_beta = Callback::new(move |b: f32| {
        set_beta.set(b);
        if matches!(train_state.get_untracked(), TrainState::Done { .. } | TrainState::Running { .. }) {
            request_steer();
        }
    });

    let series = move |f: fn(&TrainProgress) -> f32| move || history.with(|h| h.iter().map(|p| (p.step as f32, f(p))).collect::<Vec<_>>());
    let sparsity = Signal::derive(move || {
        vec![
            Series { name: "non-zero", color: "#2f6fde", points: series(|p| p.nonzero as f32)() },
            Series { name: "ℓ1", color: "#d35400", points: series(|p| p.l1)() },
        ]
    });
    let effectiveness = Signal::derive(move || {
        vec![
            Series { name: "Δ at β=+1", color: "#c0392b", points: series(|p| p.delta_pos)() },
            Series { name: "Δ at β=−1", color: "#2980b9", points: series(|p| p.delta_neg)() },
            Series { name: "loss", color: "#555", points: series(|p| p.loss)() },
        ]
    });

    view! {
        <header class="top">
            <h1>"actscale"</h1>
            <p class="tagline">"Learn sparse activation scalars that steer a language model — in your browser."</p>
        </header>
        <main class="layout">
            <div class="column">
                <section class="panel prompt-panel" aria-label="Prompt">
                    <label for="prompt">"Prompt"</label>
                    <textarea id="prompt" rows="3"
                        prop:value=move || prompt.get()
                        on:input=move |ev| set_prompt.set(event_target_value(&ev))
                    ></textarea>
                    <ModelStatus model=model />
                    {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                </section>
                <TrainPanel settings=settings state=train_state on_train=on_train on_stop=on_stop />
            </div>
            <div class="column">
                <section class="panel results" id="results" aria-label="Predictions">
                    <h2>"Next-token predictions"</h2>
                    <Predictions prediction=prediction model=model on_pick=on_pick />
                </section>
                <Steered before=prediction after=steered beta=beta on_beta=on_beta />
            </div>
            <div class="column">
                <section class="panel" aria-label="Learned scalars">
                    <h2>"Where the intervention acts"</h2>
                    <Heatmap heat=heat />
                </section>
                <section class="panel charts" aria-label="Charts">
                    <LineChart id="chart-sparsity" title="Sparsity" x_label="step" y_label="non-zero / ℓ1" series=sparsity />
                    <LineChart id="chart-effectiveness" title="Effectiveness" x_label="step" y_label="logit difference" series=effectiveness />
                </section>
            </div>
        </main>
        <section class="panel self-check-wrap"><SelfCheckPanel engine=engine /></section>
        <StatusLine engine=engine model=model />
    }
}
