//! Leptos components of the page. They send requests to the engine worker and render its
//! answers; they never touch tensors.

mod backend_switch;
mod cell_editor;
mod continuation;
mod engine_fault;
mod engine_link;
mod file_picker;
mod heatmap;
mod line_chart;
mod model_loader;
mod model_status;
mod page;
mod predictions;
mod responses;
mod self_check_panel;
mod share;
mod status_line;
mod steered;
mod sweep;
mod task_metrics;
mod train_panel;

use leptos::prelude::*;

use actscale::backend::BackendKind;
use actscale::protocol::{
    DEFAULT_MODEL_SHA256, DEFAULT_MODEL_URL, ModelInfo, Request, SelfCheckReport, TaskChoice, TrainProgress,
    TrainRequest,
};
use backend_switch::BackendSwitch;
use cell_editor::CellEditor;
use continuation::ContinuationPanel;
use engine_fault::EngineFault;
use engine_link::EngineLink;
use heatmap::Heatmap;
use line_chart::{LineChart, Series};
use model_loader::{ModelLoader, ModelSource};
use model_status::ModelStatus;
use page::{Continuation, Page, TOP_K};
use predictions::Predictions;
use self_check_panel::SelfCheckPanel;
use share::Share;
use status_line::StatusLine;
use steered::Steered;
use sweep::Sweep;
use task_metrics::TaskMetrics;
use train_panel::{TrainPanel, TrainState};

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

/// A parameter of the page's address (`?name=value`), decoded; None when absent or empty.
fn query_param(name: &str) -> Option<String> {
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    let prefix = format!("{name}=");
    search
        .trim_start_matches('?')
        .split('&')
        .find_map(|kv| kv.strip_prefix(prefix.as_str()))
        .and_then(|v| js_sys::decode_uri_component(v).ok())
        .map(String::from)
        .filter(|v| !v.is_empty())
}

/// The content of `<meta name="…" content="…">` in the page, if present and not empty.
fn meta(name: &str) -> Option<String> {
    let doc = web_sys::window()?.document()?;
    let el = doc.query_selector(&format!("meta[name=\"{name}\"]")).ok()??;
    el.get_attribute("content").filter(|v| !v.trim().is_empty())
}

/// The model to load: `?model=URL` in the page's address (any file, no hash to check), else the
/// build's default model with its SHA-256 (`scripts/site-config.sh` sets both in index.html).
fn model_to_load() -> ModelSource {
    match query_param("model") {
        Some(url) => ModelSource::Url { url, sha256: None },
        None => ModelSource::Url {
            url: meta("actscale-model-url").unwrap_or_else(|| DEFAULT_MODEL_URL.into()),
            sha256: Some(meta("actscale-model-sha256").unwrap_or_else(|| DEFAULT_MODEL_SHA256.into())),
        },
    }
}

/// Starts the engine worker (at page open, and after the worker died): the backend (`backend`,
/// else the one in use before, else `?backend=`), the self-check, then the model (the one in
/// use before, else the page's default). A worker started before is dropped: its late answers
/// go nowhere.
fn start_engine(page: Page, backend: Option<BackendKind>) {
    let backend = backend.or_else(|| page.ready_info.get_value().map(|i| i.backend)).or_else(backend_param);
    page.ready_info.set_value(None);
    page.connect(EngineLink::spawn(move |response| responses::handle(page, response)));
    if let Some(kind) = backend {
        page.send(Request::PreferBackend(kind));
    }
    page.send(Request::SelfCheck);
    let source = page.model_source.get_value().unwrap_or_else(model_to_load);
    model_loader::load(page, source);
}

/// `?backend=cpu` or `?backend=webgpu`: the backend to use instead of the engine's choice.
fn backend_param() -> Option<BackendKind> {
    query_param("backend").and_then(|v| BackendKind::parse(&v))
}

/// One chart series from the training history.
fn series(page: Page, name: &'static str, color: &'static str, f: fn(&TrainProgress) -> Option<f32>) -> Series {
    let points = page.history.with(|h| h.iter().filter_map(|p| f(p).map(|y| (p.step as f32, y))).collect());
    Series { name, color, points }
}

#[component]
pub fn App() -> impl IntoView {
    let page = Page::new();
    engine_fault::watch(page);
    start_engine(page, None);

    // A link's fragment: now, and whenever it changes (pasted links, Back and Forward).
    if let Some(f) = share::location_fragment() {
        share::open_fragment(page, f);
    }
    let _ = window_event_listener(leptos::ev::hashchange, move |_| {
        if let Some(f) = share::location_fragment() {
            share::open_fragment(page, f);
        }
    });

    // Predict whenever the model is ready and the prompt changes.
    Effect::new(move |_| {
        let text = page.prompt.get();
        if matches!(page.model.get(), ModelState::Ready(_)) {
            page.continuation.set(Continuation::None);
            page.send(Request::Predict { prompt: text, top_k: TOP_K });
        }
    });

    let s = page.settings;
    let request = Signal::derive(move || TrainRequest {
        task: s.task.get(),
        seed: 0,
        prompt: page.prompt.get(),
        from: s.from.get(),
        to: s.to.get(),
        method: s.method.get(),
        sites: s.sites.get(),
        hyper: s.hyper.get(),
        until_converged: s.until_converged.get(),
    });
    let on_train = Callback::new(move |()| {
        if page.run_in_progress() {
            return; // a second press (or Enter) while the first run goes on
        }
        let req = request.get_untracked();
        page.steer_prompt.set_value(req.prompt.clone());
        page.steered.set(None);
        page.train_state.set(TrainState::Running { step: 0, steps: req.hyper.steps });
        page.send(Request::Train(req));
    });
    let on_stop = Callback::new(move |()| page.send(Request::Stop));
    let on_pick =
        Callback::new(move |(token, to): (String, bool)| if to { s.to.set(token) } else { s.from.set(token) });
    let on_beta = Callback::new(move |b: f32| {
        page.beta.set(b);
        if page.has_intervention.get_untracked() {
            page.request_steer();
        }
    });
    let on_cell = Callback::new(move |c| page.cell.set(Some(c)));

    let sparsity = Signal::derive(move || {
        vec![
            series(page, "non-zero", "#2f6fde", |p| Some(p.nonzero as f32)),
            series(page, "ℓ1", "#d35400", |p| Some(p.l1)),
        ]
    });
    let effectiveness = Signal::derive(move || {
        vec![
            series(page, "Δ at β=+1", "#c0392b", |p| Some(p.delta_pos)),
            series(page, "Δ at β=−1", "#2980b9", |p| Some(p.delta_neg)),
            series(page, "loss", "#555", |p| Some(p.loss)),
            series(page, "faith KL", "#8e44ad", |p| Some(p.faith)),
        ]
    });
    let flips = Signal::derive(move || {
        vec![
            series(page, "train (batch)", "#2f6fde", |p| Some(p.flip_rate)),
            series(page, "test", "#27ae60", |p| p.test_flip_rate),
        ]
    });
    let is_task = move || s.task.get() != TaskChoice::Pair;

    view! {
        <header class="top">
            <h1>"actscale"</h1>
            <p class="tagline">"Learn sparse activation scalars that steer a language model — in your browser."</p>
        </header>
        <EngineFault page=page />
        <main class="layout" inert=move || page.engine_fault.get().is_some()>
            <div class="column">
                <section class="panel prompt-panel" aria-label="Prompt">
                    <label for="prompt">"Prompt"</label>
                    <textarea id="prompt" rows="3"
                        prop:value=move || page.prompt.get()
                        on:input=move |ev| page.prompt.set(event_target_value(&ev))
                    ></textarea>
                    <ModelStatus model=page.model.read_only() />
                    <BackendSwitch page=page />
                    <ModelLoader page=page />
                    {move || page.error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                </section>
                <TrainPanel settings=s state=page.train_state.read_only() on_train=on_train on_stop=on_stop />
                <Share page=page />
            </div>
            <div class="column">
                <section class="panel results" id="results" aria-label="Predictions">
                    <h2>"Next-token predictions"</h2>
                    <Predictions prediction=page.prediction.read_only() model=page.model.read_only() on_pick=on_pick />
                </section>
                <Steered before=page.prediction.read_only() after=page.steered.read_only() beta=page.beta.read_only() on_beta=on_beta />
                <ContinuationPanel page=page />
            </div>
            <div class="column">
                <section class="panel" aria-label="Learned scalars">
                    <h2>"Where the intervention acts"</h2>
                    <Heatmap heat=page.heat.read_only() on_cell=on_cell />
                    <CellEditor page=page />
                    <TaskMetrics page=page />
                </section>
                <section class="panel charts" aria-label="Charts">
                    <LineChart id="chart-sparsity" title="Sparsity" x_label="step" y_label="non-zero / ℓ1" series=sparsity />
                    <LineChart id="chart-effectiveness" title="Effectiveness" x_label="step" y_label="logit difference / loss" series=effectiveness />
                    {move || is_task().then(|| view! {
                        <LineChart id="chart-flips" title="Flip rate" x_label="step" y_label="share flipped" series=flips />
                    })}
                </section>
                <Sweep page=page request=request />
            </div>
        </main>
        <section class="panel self-check-wrap"><SelfCheckPanel engine=page.engine.read_only() /></section>
        <StatusLine engine=page.engine.read_only() model=page.model.read_only() />
    }
}
