//! Everything the page knows, as signals that the components read and the worker's answers set.

use leptos::prelude::*;

use actscale::protocol::{ModelInfo, Prediction, Request, SelfCheckReport, SplitMetrics, SweepPoint, TrainProgress};
use actscale::steer::hyper::Method;

use actscale::steer::saved::SavedIntervention;

use super::engine_fault::EngineNotice;
use super::engine_link::EngineLink;
use super::heatmap::Heat;
use super::model_loader::ModelSource;
use super::train_panel::{Settings, TrainState};
use super::{EngineState, ModelState};

/// The next-token lists show this many tokens.
pub const TOP_K: usize = 10;

/// A heatmap cell picked for a hand edit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cell {
    pub site: actscale::model::site::Site,
    pub layer: usize,
    pub position: usize,
    pub value: f32,
}

/// Greedy continuations without and with the intervention.
#[derive(Clone, Debug, PartialEq)]
pub enum Continuation {
    None,
    Running,
    Done { plain: String, steered: Option<String>, error: Option<String> },
}

/// What the worker's export is for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ExportFor {
    Link,
    File,
}

#[derive(Clone, Copy)]
pub struct Page {
    pub engine: RwSignal<EngineState>,
    /// Why the engine worker died, once it kept dying and the page gave up restarting it.
    pub engine_fault: RwSignal<Option<String>>,
    /// What the page says after it restarted a dead engine.
    pub engine_notice: RwSignal<Option<EngineNotice>>,
    /// When the engine died (ms since the epoch), to stop restarting one that keeps dying.
    pub engine_deaths: StoredValue<Vec<f64>>,
    /// The page's copy of the worker's intervention, exported after every change (a finished
    /// run, an edit, an applied link or file), so that a restarted engine gets it back.
    pub last_saved: StoredValue<Option<SavedIntervention>>,
    /// The intervention to apply once a restarted engine has loaded the model.
    pub restore_after_restart: StoredValue<Option<SavedIntervention>>,
    /// The next `Applied` puts the page's intervention back (after a restart or a WebGPU loss)
    /// rather than opening a shared one.
    pub putting_back: StoredValue<bool>,
    /// The model in use, and the one loading.
    pub model_source: StoredValue<Option<ModelSource>, LocalStorage>,
    pub pending_source: StoredValue<Option<ModelSource>, LocalStorage>,
    pub model: RwSignal<ModelState>,
    /// The model in use (kept while another one loads).
    pub ready_info: StoredValue<Option<ModelInfo>>,
    /// Why the last model load failed while an earlier model stays in use.
    pub load_error: RwSignal<Option<String>>,
    pub prompt: RwSignal<String>,
    pub prediction: RwSignal<Option<Prediction>>,
    pub error: RwSignal<Option<String>>,
    pub settings: Settings,
    pub train_state: RwSignal<TrainState>,
    pub history: RwSignal<Vec<TrainProgress>>,
    pub heat: RwSignal<Option<Heat>>,
    /// Whether the worker holds an intervention (learned, edited or restored).
    pub has_intervention: RwSignal<bool>,
    pub beta: RwSignal<f32>,
    pub steered: RwSignal<Option<Prediction>>,
    pub task_metrics: RwSignal<Option<(SplitMetrics, SplitMetrics)>>,
    /// λM sweep points per method, for one set of prompts (`sweep::prompts_key`): a sweep replaces
    /// its own method's points and keeps the others', so the chart compares methods.
    pub sweep: RwSignal<Vec<(Method, SweepPoint)>>,
    pub sweep_key: StoredValue<Option<(String, Method)>>,
    pub sweeping: RwSignal<bool>,
    pub continuation: RwSignal<Continuation>,
    pub cell: RwSignal<Option<Cell>>,
    /// The last link made or opened, and the share panel's message.
    pub link: RwSignal<Option<String>>,
    pub share_message: RwSignal<Option<(bool, String)>>,
    pub export_for: StoredValue<Option<ExportFor>>,
    /// The prompt the intervention belongs to (steered predictions use it).
    pub steer_prompt: StoredValue<String>,
    /// Why the page stopped the run in progress (shown when the worker says it stopped).
    pub stopped_for: StoredValue<Option<&'static str>>,
    /// A link's fragment waiting for the model to be ready.
    pub pending_fragment: StoredValue<Option<String>>,
    link_cell: StoredValue<Option<EngineLink>, LocalStorage>,
}

impl Page {
    pub fn new() -> Self {
        Page {
            engine: RwSignal::new(EngineState::Starting),
            engine_fault: RwSignal::new(None),
            engine_notice: RwSignal::new(None),
            engine_deaths: StoredValue::new(vec![]),
            last_saved: StoredValue::new(None),
            restore_after_restart: StoredValue::new(None),
            putting_back: StoredValue::new(false),
            model_source: StoredValue::new_local(None),
            pending_source: StoredValue::new_local(None),
            model: RwSignal::new(ModelState::Loading { loaded: 0, total: None }),
            ready_info: StoredValue::new(None),
            load_error: RwSignal::new(None),
            prompt: RwSignal::new("The capital of Italy is".into()),
            prediction: RwSignal::new(None),
            error: RwSignal::new(None),
            settings: Settings::new(),
            train_state: RwSignal::new(TrainState::Idle),
            history: RwSignal::new(vec![]),
            heat: RwSignal::new(None),
            has_intervention: RwSignal::new(false),
            beta: RwSignal::new(1.0),
            steered: RwSignal::new(None),
            task_metrics: RwSignal::new(None),
            sweep: RwSignal::new(vec![]),
            sweep_key: StoredValue::new(None),
            sweeping: RwSignal::new(false),
            continuation: RwSignal::new(Continuation::None),
            cell: RwSignal::new(None),
            link: RwSignal::new(None),
            share_message: RwSignal::new(None),
            export_for: StoredValue::new(None),
            steer_prompt: StoredValue::new(String::new()),
            stopped_for: StoredValue::new(None),
            pending_fragment: StoredValue::new(None),
            link_cell: StoredValue::new_local(None),
        }
    }

    pub fn connect(&self, link: EngineLink) {
        self.link_cell.set_value(Some(link));
    }

    pub fn send(&self, request: Request) {
        self.link_cell.with_value(|l| {
            if let Some(l) = l {
                l.send(request)
            }
        });
    }

    /// Whether a training run or a sweep is in progress.
    pub fn run_in_progress(&self) -> bool {
        self.sweeping.get_untracked() || matches!(self.train_state.get_untracked(), TrainState::Running { .. })
    }

    /// Before a load, a backend switch or an applied intervention: stops the run in progress
    /// (the worker also waits for its step to end before it goes on) and says what for.
    pub fn stop_run_for(&self, what: &'static str) {
        if self.run_in_progress() {
            self.stopped_for.set_value(Some(what));
            self.send(Request::Stop);
        }
    }

    /// Refreshes the page's copy of the worker's intervention (`last_saved`).
    pub fn keep_copy(&self) {
        self.send(Request::Export);
    }

    /// Asks for the steered top-k at the current β.
    pub fn request_steer(&self) {
        self.send(Request::Steer {
            prompt: self.steer_prompt.get_value(),
            beta: self.beta.get_untracked(),
            top_k: TOP_K,
        });
    }

    pub fn model_ready(&self) -> bool {
        matches!(self.model.get_untracked(), ModelState::Ready(_))
    }

    /// The self-check report, once the worker sent it.
    pub fn report(&self) -> Option<SelfCheckReport> {
        match self.engine.get() {
            EngineState::Ready(r) => Some(r),
            EngineState::Starting => None,
        }
    }
}
