//! Everything the page knows, as signals that the components read and the worker's answers set.

use leptos::prelude::*;

use actscale::steer::hyper::Method;
use actscale::protocol::{ModelInfo, Prediction, Request, SelfCheckReport, SplitMetrics, SweepPoint, TrainProgress};

use super::engine_link::EngineLink;
use super::heatmap::Heat;
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
    /// Why the engine worker died (it cannot run anything after that).
    pub engine_fault: RwSignal<Option<String>>,
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
    /// A link's fragment waiting for the model to be ready.
    pub pending_fragment: StoredValue<Option<String>>,
    link_cell: StoredValue<Option<EngineLink>, LocalStorage>,
}

impl Page {
    pub fn new() -> Self {
        Page {
            engine: RwSignal::new(EngineState::Starting),
            engine_fault: RwSignal::new(None),
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
            pending_fragment: StoredValue::new(None),
            link_cell: StoredValue::new_local(None),
        }
    }

    pub fn connect(&self, link: EngineLink) {
        self.link_cell.set_value(Some(link));
    }

    pub fn send(&self, request: Request) {
        self.link_cell.with_value(|l| if let Some(l) = l { l.send(request) });
    }

    /// Asks for the steered top-k at the current β.
    pub fn request_steer(&self) {
        self.send(Request::Steer { prompt: self.steer_prompt.get_value(), beta: self.beta.get_untracked(), top_k: TOP_K });
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
