//! Leptos components of the page. They send requests to the engine worker and render its
//! answers; they never touch tensors.

mod backend_switch;
mod cell_editor;
mod continuation;
mod engine_fault;
mod engine_link;
mod engine_start;
mod file_picker;
mod head_map;
mod heatmap;
mod interpret_panel;
mod line_chart;
mod model_loader;
mod model_status;
mod page;
mod predictions;
mod responses;
mod self_check_panel;
mod share;
mod state;
mod status_line;
mod steered;
mod sweep;
mod task_metrics;
mod train_panel;

use leptos::prelude::*;

use actscale::protocol::{Request, TaskChoice, TrainProgress, TrainRequest};
use backend_switch::BackendSwitch;
use cell_editor::CellEditor;
use continuation::ContinuationPanel;
use engine_fault::EngineFault;
use heatmap::Heatmap;
use interpret_panel::InterpretPanel;
use line_chart::{LineChart, Series};
use model_loader::ModelLoader;
use model_status::ModelStatus;
use page::{Page, TOP_K};
use predictions::Predictions;
use self_check_panel::SelfCheckPanel;
use share::Share;
use state::engine::ModelState;
use state::run::TrainState;
use state::view::Continuation;
use status_line::StatusLine;
use steered::Steered;
use sweep::Sweep;
use task_metrics::TaskMetrics;
use train_panel::TrainPanel;

/// One chart series from the training history.
fn series(page: Page, name: &'static str, color: &'static str, f: fn(&TrainProgress) -> Option<f32>) -> Series {
    let points = page.run.history.with(|h| h.iter().filter_map(|p| f(p).map(|y| (p.report.step as f32, y))).collect());
    Series { name, color, points }
}

#[component]
pub fn App() -> impl IntoView {
    let page = Page::new();
    engine_fault::watch(page);
    engine_start::start_engine(page, None);

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
        let text = page.view.prompt.get();
        if matches!(page.engine.model.get(), ModelState::Ready(_)) {
            page.view.continuation.set(Continuation::None);
            page.send(Request::Predict { prompt: text, top_k: TOP_K });
        }
    });

    let s = page.run.settings;
    let request = Signal::derive(move || TrainRequest {
        task: s.task.get(),
        seed: s.seed.get(),
        prompt: page.view.prompt.get(),
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
        page.run.steer_prompt.set_value(req.prompt.clone());
        page.view.steered.set(None);
        page.run.train_state.set(TrainState::Running { step: 0, steps: req.hyper.steps });
        page.send(Request::Train(req));
    });
    let on_stop = Callback::new(move |()| page.send(Request::Stop));
    let on_pick =
        Callback::new(move |(token, to): (String, bool)| if to { s.to.set(token) } else { s.from.set(token) });
    let on_beta = Callback::new(move |b: f32| {
        page.view.beta.set(b);
        if page.run.has_intervention.get_untracked() {
            page.request_steer();
        }
    });
    let on_cell = Callback::new(move |c| page.view.cell.set(Some(c)));

    let sparsity = Signal::derive(move || {
        vec![
            series(page, "non-zero", "#2f6fde", |p| Some(p.report.nonzero as f32)),
            series(page, "ℓ1", "#d35400", |p| Some(p.report.l1)),
        ]
    });
    let effectiveness = Signal::derive(move || {
        vec![
            series(page, "Δ at β=+1", "#c0392b", |p| Some(p.report.delta_pos)),
            series(page, "Δ at β=−1", "#2980b9", |p| Some(p.report.delta_neg)),
            series(page, "loss", "#555", |p| Some(p.report.loss)),
            series(page, "faith KL", "#8e44ad", |p| Some(p.report.faith)),
        ]
    });
    let flips = Signal::derive(move || {
        vec![
            series(page, "train (batch)", "#2f6fde", |p| Some(p.report.flip_rate)),
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
        <main class="layout" inert=move || page.engine.fault.get().is_some()>
            <div class="column">
                <section class="panel prompt-panel" aria-label="Prompt">
                    <label for="prompt">"Prompt"</label>
                    <textarea id="prompt" rows="3"
                        prop:value=move || page.view.prompt.get()
                        on:input=move |ev| page.view.prompt.set(event_target_value(&ev))
                    ></textarea>
                    <ModelStatus model=page.engine.model.read_only() />
                    <BackendSwitch page=page />
                    <ModelLoader page=page />
                    {move || page.view.error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                </section>
                <TrainPanel settings=s state=page.run.train_state.read_only() on_train=on_train on_stop=on_stop />
                <Share page=page />
            </div>
            <div class="column">
                <section class="panel results" id="results" aria-label="Predictions">
                    <h2>"Next-token predictions"</h2>
                    <Predictions prediction=page.view.prediction.read_only() model=page.engine.model.read_only() on_pick=on_pick />
                </section>
                <Steered before=page.view.prediction.read_only() after=page.view.steered.read_only() beta=page.view.beta.read_only() on_beta=on_beta />
                <ContinuationPanel page=page />
            </div>
            <div class="column">
                <section class="panel" aria-label="Learned scalars">
                    <h2>"Where the intervention acts"</h2>
                    <Heatmap heat=page.view.heat.read_only() on_cell=on_cell />
                    <head_map::HeadAlphaMap heat=page.view.heat.read_only() />
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
            <div class="column wide">
                <InterpretPanel page=page />
            </div>
        </main>
        <section class="panel self-check-wrap"><SelfCheckPanel engine=page.engine.state.read_only() /></section>
        <StatusLine engine=page.engine.state.read_only() model=page.engine.model.read_only() />
    }
}
