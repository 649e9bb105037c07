//! The engine worker and its model: whether the engine is up and which backend it chose, the
//! model loading or in use and where it came from, and getting both back when the engine dies.

use leptos::prelude::*;

use actscale::page_state::model_sources::ModelSources;
use actscale::page_state::recovery::Recovery;
use actscale::protocol::{ModelInfo, SelfCheckReport};
use actscale::steer::saved::SavedIntervention;

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

/// Where a model comes from: kept by the page (`Page::sources`) so that a restarted engine
/// loads the same model again (a URL from the Cache API, a file from the user's disk).
#[derive(Clone)]
pub enum ModelSource {
    Url { url: String, sha256: Option<String> },
    File(web_sys::File),
}

/// What the page says after the engine died or lost WebGPU, while and after it gets it back
/// (how far it got is `Page::recovery`'s).
#[derive(Clone, Debug, PartialEq)]
pub struct EngineNotice {
    /// What happened, in plain words.
    pub what: &'static str,
    /// The error's own message.
    pub detail: String,
    /// The engine moved from WebGPU to the CPU backend.
    pub on_cpu: bool,
}

impl EngineNotice {
    /// WebGPU failed under a live engine, which moves to the CPU with what was learned so far.
    pub fn webgpu_lost(detail: String) -> Self {
        EngineNotice { what: "WebGPU failed (its device was lost)", detail, on_cpu: true }
    }
}

/// The engine's and the model's signals.
#[derive(Clone, Copy)]
pub struct Engine {
    pub state: RwSignal<EngineState>,
    /// Why the engine worker died, once it kept dying and the page gave up restarting it.
    pub fault: RwSignal<Option<String>>,
    /// What the page says after it restarted a dead engine (or WebGPU was lost).
    pub notice: RwSignal<Option<EngineNotice>>,
    /// When the engine died (ms since the epoch), to stop restarting one that keeps dying.
    pub deaths: StoredValue<Vec<f64>>,
    /// The page's copy of the worker's intervention, and getting it back to a restarted engine
    /// (or after a lost WebGPU): `page_state::recovery`.
    pub recovery: RwSignal<Recovery<SavedIntervention>>,
    /// The model in use, and the one loading.
    pub sources: StoredValue<ModelSources<ModelSource>, LocalStorage>,
    pub model: RwSignal<ModelState>,
    /// The model in use (kept while another one loads).
    pub ready_info: StoredValue<Option<ModelInfo>>,
    /// Why the last model load failed while an earlier model stays in use.
    pub load_error: RwSignal<Option<String>>,
}

impl Engine {
    pub fn new() -> Self {
        Engine {
            state: RwSignal::new(EngineState::Starting),
            fault: RwSignal::new(None),
            notice: RwSignal::new(None),
            deaths: StoredValue::new(vec![]),
            recovery: RwSignal::new(Recovery::default()),
            sources: StoredValue::new_local(ModelSources::default()),
            model: RwSignal::new(ModelState::Loading { loaded: 0, total: None }),
            ready_info: StoredValue::new(None),
            load_error: RwSignal::new(None),
        }
    }
}
