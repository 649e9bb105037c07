//! A training run: what the user sets before pressing Train, where the run is, what it
//! reported step by step, a task's metrics, the λM sweep, and the intervention it leaves.

use leptos::prelude::*;

use actscale::model::site::Site;
use actscale::protocol::{SplitMetrics, SweepPoint, TaskChoice, TrainProgress};
use actscale::steer::hyper::{Hyper, Method};

/// Where training is.
#[derive(Clone, Debug, PartialEq)]
pub enum TrainState {
    Idle,
    Running {
        step: usize,
        steps: usize,
    },
    /// `stopped_for`: what the page stopped the run for (a load, a backend switch, a link).
    Done {
        stopped: bool,
        step: usize,
        converged: Option<String>,
        stopped_for: Option<&'static str>,
    },
    Failed(String),
    /// An intervention from a link or file is in use.
    Restored,
}

/// Everything the user sets before pressing Train.
#[derive(Clone, Copy)]
pub struct Settings {
    pub task: RwSignal<TaskChoice>,
    /// A task's seed: which prompts train and which test.
    pub seed: RwSignal<u64>,
    pub from: RwSignal<String>,
    pub to: RwSignal<String>,
    pub method: RwSignal<Method>,
    pub sites: RwSignal<Vec<Site>>,
    pub hyper: RwSignal<Hyper>,
    /// Stop once the stopping rule holds (on by default).
    pub until_converged: RwSignal<bool>,
}

impl Settings {
    pub fn new() -> Self {
        Settings {
            task: RwSignal::new(TaskChoice::Pair),
            seed: RwSignal::new(0),
            from: RwSignal::new(" Rome".into()),
            to: RwSignal::new(" Paris".into()),
            method: RwSignal::new(Method::ActivScalar),
            sites: RwSignal::new(Site::ALL.to_vec()),
            hyper: RwSignal::new(Hyper::for_one_prompt(Method::ActivScalar)),
            until_converged: RwSignal::new(true),
        }
    }
}

/// A task run's metrics on its two splits, and the seed that drew them.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskResult {
    pub seed: u64,
    pub train: SplitMetrics,
    pub test: SplitMetrics,
}

/// The run's signals.
#[derive(Clone, Copy)]
pub struct Run {
    pub settings: Settings,
    pub train_state: RwSignal<TrainState>,
    pub history: RwSignal<Vec<TrainProgress>>,
    pub task_metrics: RwSignal<Option<TaskResult>>,
    /// λM sweep points per method, for one set of prompts (`sweep::prompts_key`): a sweep replaces
    /// its own method's points and keeps the others', so the chart compares methods.
    pub sweep: RwSignal<Vec<(Method, SweepPoint)>>,
    pub sweep_key: StoredValue<Option<(String, Method)>>,
    pub sweeping: RwSignal<bool>,
    /// Why the page stopped the run in progress (shown when the worker says it stopped).
    pub stopped_for: StoredValue<Option<&'static str>>,
    /// Whether the worker holds an intervention (learned, edited or restored).
    pub has_intervention: RwSignal<bool>,
    /// The prompt the intervention belongs to (steered predictions use it).
    pub steer_prompt: StoredValue<String>,
}

impl Run {
    pub fn new() -> Self {
        Run {
            settings: Settings::new(),
            train_state: RwSignal::new(TrainState::Idle),
            history: RwSignal::new(vec![]),
            task_metrics: RwSignal::new(None),
            sweep: RwSignal::new(vec![]),
            sweep_key: StoredValue::new(None),
            sweeping: RwSignal::new(false),
            stopped_for: StoredValue::new(None),
            has_intervention: RwSignal::new(false),
            steer_prompt: StoredValue::new(String::new()),
        }
    }
}
