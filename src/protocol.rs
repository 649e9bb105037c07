//! Messages between the page (main thread) and the engine worker. Plain serde types, so the
//! page can speak to the worker without linking burn.

use serde::{Deserialize, Serialize};

use crate::backend::BackendKind;
use crate::interpret::report::{DirectionsReport, InterpretReport, PatchMap, PatchReport};
use crate::model::id::ModelId;
use crate::model::site::Site;
use crate::self_check::SelfCheckResult;
use crate::steer::hyper::{Hyper, Method};
use crate::steer::saved::SavedIntervention;

/// The longest continuation the worker generates (each token is one forward pass).
pub const MAX_NEW_TOKENS: usize = 100;

/// Where the default model lives in the built site (Trunk copies `static/` into `dist/`), and
/// the SHA-256 of that file (`MODEL_SHA256` in scripts/common.sh). A build may point the page
/// elsewhere (`scripts/site-config.sh` fills `dist/index.html`'s `actscale-model-*` meta tags,
/// which the page reads in `app::model_to_load`).
pub const DEFAULT_MODEL_URL: &str = "static/models/smollm2-135m-instruct-q4_1.gguf";
pub const DEFAULT_MODEL_SHA256: &str = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Request {
    /// Run the autodiff self-check on every backend the worker can reach.
    SelfCheck,
    /// Download a GGUF (relative URLs resolve against the site) and load it; with `sha256`
    /// (64 lowercase hex digits), refuse a file whose SHA-256 differs.
    LoadModelUrl { url: String, sha256: Option<String> },
    /// Load a GGUF the user picked from disk.
    LoadModelBytes {
        name: String,
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
    },
    /// Run on this backend from now on (the model is reloaded onto it).
    SetBackend(BackendKind),
    /// Load models on this backend (the page's `?backend=`, sent before the first load). No
    /// answer: when WebGPU is asked for and missing, the self-check report says so.
    PreferBackend(BackendKind),
    /// Tokens of `prompt` and its top-k next tokens.
    Predict { prompt: String, top_k: usize },
    /// Learn an intervention that moves `prompt`'s next token from `from` to `to` (or a task's
    /// prompts); the worker answers with `TrainStarted`, one `TrainProgress` per step, then
    /// `TaskMetrics` for tasks and `TrainDone`.
    Train(TrainRequest),
    /// Train once per λM and report effectiveness vs non-zero count (`SweepPoint`s, `SweepDone`).
    Sweep { request: TrainRequest, lambdas: Vec<f32> },
    /// Stop training (or a sweep) after the current step, keeping what was learned.
    Stop,
    /// Top-k of `prompt` with the learned intervention at strength `beta` (−1..1).
    Steer { prompt: String, beta: f32, top_k: usize },
    /// Greedy continuation of `prompt`, without and with the intervention at `beta`.
    Generate { prompt: String, tokens: usize, beta: f32 },
    /// Set one ActivScalar α by hand (`value` 0 removes it).
    SetScalar { site: Site, layer: usize, position: usize, value: f32 },
    /// The learned intervention at full precision, for a file or a link.
    Export,
    /// Use this intervention (from a link or a file) as if it had been learned here.
    Apply(SavedIntervention),
    /// Which units carry the intervention in use, on its training prompts. ActivScalar
    /// (`interpret::keep_k`): `JobProgress`es, then `Interpreted` (or `JobStopped` after Stop);
    /// SteerVec: its ‖v‖ and cos(v, h) maps (`interpret::directions`), as `Directions`.
    /// Measured on the first `prompts` training prompts (0: all; a task's whole split takes
    /// minutes on the real model).
    Interpret { prompts: usize },
    /// Use only the top `k` units of the interpreted intervention (None: all of them again);
    /// answered with `Kept`. The β slider, the steered predictions and links follow it.
    KeepTop { k: Option<usize> },
    /// Activation patching and attribution of `prompt` against `corrupt` (same number of
    /// tokens): `JobProgress`es, then `Patched` (or `JobStopped`). With `heads`, per attention
    /// head too.
    Patch {
        prompt: String,
        corrupt: String,
        from: String,
        to: String,
        #[serde(default)]
        heads: bool,
    },
    /// From another engine worker, which this one then serves as its helper
    /// (`worker::patch_helper`): this worker's uncaught errors end it without reaching that
    /// one, which hears of them on the BroadcastChannel named `channel`.
    ServeAsHelper { channel: String },
    /// From another engine worker: patch the units of `layers` only, `clean` against `corrupt`
    /// (token ids, as `PatchJob::only_layers`): `JobProgress`es, then `PatchedLayers` (or
    /// `JobStopped`).
    PatchLayers { clean: Vec<u32>, corrupt: Vec<u32>, from: u32, to: u32, heads: bool, layers: std::ops::Range<usize> },
}

/// A long computation other than training, which reports progress and honours Stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Job {
    Interpret,
    Patch,
}

/// What to train on: the prompt with its two answers, or a task's train split.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskChoice {
    #[default]
    Pair,
    /// Country–capital conflicts.
    Ccc,
    /// Indirect object identification (one template).
    Ioi,
    /// IOI: train on templates 0–2, test on the held-out template 3 (other words, another
    /// length); only DynScalar takes prompts of several lengths.
    IoiMixed,
}

impl TaskChoice {
    pub const ALL: [TaskChoice; 4] = [TaskChoice::Pair, TaskChoice::Ccc, TaskChoice::Ioi, TaskChoice::IoiMixed];

    pub fn name(self) -> &'static str {
        match self {
            TaskChoice::Pair => "pair",
            TaskChoice::Ccc => "ccc",
            TaskChoice::Ioi => "ioi",
            TaskChoice::IoiMixed => "ioi-mixed",
        }
    }

    pub fn parse(s: &str) -> Option<TaskChoice> {
        TaskChoice::ALL.into_iter().find(|t| t.name() == s)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainRequest {
    #[serde(default)]
    pub task: TaskChoice,
    /// Seed of a task's train/test split.
    #[serde(default)]
    pub seed: u64,
    pub prompt: String,
    /// Answers as text with their leading space, e.g. " Italy" → " France".
    pub from: String,
    pub to: String,
    pub method: Method,
    pub sites: Vec<Site>,
    pub hyper: Hyper,
    /// Stop before `hyper.steps` once the stopping rule holds (`steer::convergence`).
    #[serde(default)]
    pub until_converged: bool,
}

impl TrainRequest {
    /// The seed a file or link records: a task's (it drew the prompts), none for one prompt.
    pub fn recorded_seed(&self) -> Option<u64> {
        (self.task != TaskChoice::Pair).then_some(self.seed)
    }
}

/// Flip rate and logit differences of an intervention on a set of prompts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SplitMetrics {
    pub prompts: usize,
    pub flip_rate: f32,
    pub delta_pos: f32,
    pub delta_neg: f32,
    pub delta_base: f32,
    pub kl_pos: f32,
    pub kl_neg: f32,
}

/// One point of a λM sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    pub lambda_m: f32,
    pub nonzero: usize,
    pub flip_rate: f32,
    pub delta_pos: f32,
    pub delta_neg: f32,
}

/// What one training step did: the trainer's report (`steer::train::Trainer::step`), which the
/// stopping rule reads and the charts draw.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    pub step: usize,
    pub loss: f32,
    pub eff: f32,
    pub faith: f32,
    /// ℓ1 / N after the step
    pub min: f32,
    pub l1: f32,
    pub nonzero: usize,
    /// mean Δ over the training prompts at β = +1 and β = −1 (before this step's update)
    pub delta_pos: f32,
    pub delta_neg: f32,
    /// share of training prompts flipped both ways (before this step's update)
    pub flip_rate: f32,
    /// the step's least-moved prompts: min Δ at β = +1, max Δ at β = −1 (for the stopping rule)
    pub worst_delta_pos: f32,
    pub worst_delta_neg: f32,
}

/// One training step as the page shows it: the trainer's report and what the worker adds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainProgress {
    pub report: StepReport,
    /// The run's step budget.
    pub steps: usize,
    /// Flip rate on a task's test split (every few steps; `None` in between and for a pair).
    #[serde(default)]
    pub test_flip_rate: Option<f32>,
    /// The step's time in the worker, with its test evaluation and heatmap.
    pub ms: f64,
    /// [site][layer][position] values for the heatmap (see `steer::heat`).
    pub heat: Vec<f32>,
}

/// Why a load, a run or a sweep did not happen, by kind: the page says the message, and can act
/// on the kind without reading it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum EngineError {
    /// Not done as asked: no model yet, a run already going, WebGPU asked for and missing,
    /// prompts or settings that do not fit.
    Refused(String),
    /// The model file cannot be used: not a GGUF, truncated, an architecture or tensor type this
    /// reader does not know, another file than the one expected.
    Model(String),
    /// The model would not fit in this browser's memory (wasm's 4 GiB, WebGPU's buffers).
    OutOfMemory(String),
    /// The model could not be downloaded (the network, the host's CORS, a cut connection).
    Download(String),
    /// WebGPU failed under the run (a lost device); the engine now runs on the CPU backend.
    BackendLost(String),
    /// It failed part-way (a loss that is not finite, a model that changed, …).
    Failed(String),
}

impl EngineError {
    /// The same error, its message prefixed with the file it is about.
    pub fn named(self, name: &str) -> EngineError {
        let prefix = |why: String| format!("{name}: {why}");
        match self {
            EngineError::Refused(w) => EngineError::Refused(prefix(w)),
            EngineError::Model(w) => EngineError::Model(prefix(w)),
            EngineError::OutOfMemory(w) => EngineError::OutOfMemory(prefix(w)),
            EngineError::Download(w) => EngineError::Download(prefix(w)),
            EngineError::BackendLost(w) => EngineError::BackendLost(prefix(w)),
            EngineError::Failed(w) => EngineError::Failed(prefix(w)),
        }
    }
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineError::Refused(why)
            | EngineError::Model(why)
            | EngineError::OutOfMemory(why)
            | EngineError::Download(why)
            | EngineError::BackendLost(why)
            | EngineError::Failed(why) => f.write_str(why),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Response {
    SelfCheck(SelfCheckReport),
    /// Bytes of the model file received so far.
    LoadProgress {
        loaded: u64,
        total: Option<u64>,
    },
    ModelReady(ModelInfo),
    /// Loading failed; the model that was loaded before (if any) is still in use.
    LoadFailed(EngineError),
    Prediction(Prediction),
    /// Training began on `prompt` (a task's first train prompt, whose tokens the heatmap shows).
    TrainStarted {
        prompt: String,
        tokens: Vec<String>,
        n_layers: usize,
        params: usize,
        method: Method,
        /// The shown prompt's answers as text (a task's own, not the pair fields').
        from: String,
        to: String,
        /// A task's natural corrupted version of the shown prompt, for patching.
        corrupt: Option<String>,
    },
    TrainProgress(TrainProgress),
    /// A task's train and test metrics after training.
    TaskMetrics {
        /// The seed that drew the prompts and the split.
        seed: u64,
        train: SplitMetrics,
        test: SplitMetrics,
    },
    /// Training ended; `stopped` when the user pressed Stop.
    TrainDone {
        stopped: bool,
        converged: Option<String>,
    },
    TrainFailed(EngineError),
    /// WebGPU failed for good (its device was lost): the engine reloads the model on the CPU
    /// (`ModelReady` follows) and puts the intervention learned so far back (`Applied`).
    BackendLost(String),
    SweepPoint(SweepPoint),
    SweepDone {
        stopped: bool,
    },
    /// The learned intervention's top-k at `beta` (`prediction.error` says why when it cannot apply).
    Steered {
        beta: f32,
        prediction: Prediction,
    },
    /// Greedy continuations without and with the intervention (`error` when it cannot run).
    Generated {
        prompt: String,
        plain: String,
        steered: Option<String>,
        error: Option<String>,
    },
    /// The heatmap after a hand edit.
    Edited {
        heat: Vec<f32>,
    },
    Exported(Result<SavedIntervention, EngineError>),
    /// An intervention from a link or file is in use: what the page should show.
    Applied(Result<AppliedState, EngineError>),
    /// A request failed; the text is for the user.
    Error(EngineError),
    /// How far an `Interpret` or `Patch` has come (`done` of `total` pieces).
    JobProgress {
        job: Job,
        done: usize,
        total: usize,
    },
    /// Stop ended the job before its result.
    JobStopped(Job),
    Interpreted(Result<InterpretReport, EngineError>),
    Directions(Result<DirectionsReport, EngineError>),
    Patched(Result<PatchReport, EngineError>),
    /// A `PatchLayers`' map: the effects of its layers (the others' are 0).
    PatchedLayers(Result<PatchMap, EngineError>),
    /// Only the top `k` units are in use now (None: all); the heatmap's new values.
    Kept {
        k: Option<usize>,
        heat: Vec<f32>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub name: String,
    /// `general.architecture`: llama, qwen2, gpt2 or gptneox.
    pub arch: String,
    pub n_layers: usize,
    pub d_model: usize,
    pub vocab_size: usize,
    pub backend: BackendKind,
    pub load_ms: f64,
    /// Content hash of the GGUF file (see `model::id`), so links name the exact model.
    pub id: ModelId,
}

/// The state restored from a link or file, with the prompt's tokens and the heatmap.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppliedState {
    pub saved: SavedIntervention,
    pub task: TaskChoice,
    pub prompt: String,
    pub from: String,
    pub to: String,
    pub tokens: Vec<String>,
    pub heat: Vec<f32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub prompt: String,
    /// Token ids and their display strings; empty with `error` set when the prompt is unusable.
    pub ids: Vec<u32>,
    pub tokens: Vec<String>,
    pub top: Vec<TopToken>,
    pub error: Option<String>,
}

/// The self-check on each backend, and which backend the worker will use.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SelfCheckReport {
    /// The backend models load on: the user's pick, else WebGPU on a hardware adapter, else CPU.
    pub active: BackendKind,
    /// Why `active` was chosen, in words for the status line.
    pub reason: String,
    /// Why WebGPU is not available, when it is not.
    pub webgpu_unavailable: Option<String>,
    pub cpu: Result<SelfCheckResult, String>,
    pub webgpu: Option<Result<SelfCheckResult, String>>,
}

/// One of the most likely next tokens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TopToken {
    pub id: u32,
    pub token: String,
    pub logit: f32,
    pub prob: f32,
}
