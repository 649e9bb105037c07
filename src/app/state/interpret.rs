//! The interpret panel's state: the corrupted prompt, the job in progress, the interpretation
//! (or a SteerVec's direction maps) and the patching maps it got, which map it shows, and how many top units are in use.

use leptos::prelude::*;

use actscale::interpret::report::{DirectionsReport, InterpretReport, PatchReport};
use actscale::page_state::interpret_view::InterpretView;
pub use actscale::page_state::interpret_view::MapChoice;
use actscale::protocol::Job;

/// Training prompts an interpretation measures by default: a task's whole split takes minutes
/// on the real model, and the first few say which units carry it.
pub const DEFAULT_PROMPTS: usize = 8;

/// Where the panel's job is.
#[derive(Clone, Debug, PartialEq)]
pub enum JobState {
    Idle,
    Running { job: Job, done: usize, total: usize },
    Stopped(Job),
    Failed(String),
}

#[derive(Clone, Copy)]
pub struct Interp {
    pub corrupt: RwSignal<String>,
    /// Interpret on the first this many training prompts (0: all of them).
    pub prompts: RwSignal<usize>,
    pub job: RwSignal<JobState>,
    pub report: RwSignal<Option<InterpretReport>>,
    /// A SteerVec's ‖v‖ and cos(v, h) maps.
    pub directions: RwSignal<Option<DirectionsReport>>,
    pub patch: RwSignal<Option<PatchReport>>,
    pub map: RwSignal<MapChoice>,
    /// Patch per attention head too.
    pub heads: RwSignal<bool>,
    /// The per-head map's position (None: each head's largest |value| over positions).
    pub head_position: RwSignal<Option<usize>>,
    /// The top k units in use (None: all of them).
    pub keep: RwSignal<Option<usize>>,
    /// A task's shown prompt's own answers, which patching uses instead of the pair fields.
    pub task_answers: StoredValue<Option<(String, String)>>,
    /// A link's view, put back once the intervention it came with is in use.
    pub pending_view: StoredValue<Option<InterpretView>>,
    /// A link's k, applied once its interpretation is back.
    pub pending_keep: StoredValue<Option<usize>>,
    /// A link's patching, run once its interpretation is back.
    pub pending_patch: StoredValue<bool>,
}

impl Interp {
    pub fn new() -> Self {
        Interp {
            corrupt: RwSignal::new("The capital of France is".into()),
            prompts: RwSignal::new(DEFAULT_PROMPTS),
            job: RwSignal::new(JobState::Idle),
            report: RwSignal::new(None),
            directions: RwSignal::new(None),
            patch: RwSignal::new(None),
            map: RwSignal::new(MapChoice::default()),
            heads: RwSignal::new(false),
            head_position: RwSignal::new(None),
            keep: RwSignal::new(None),
            task_answers: StoredValue::new(None),
            pending_view: StoredValue::new(None),
            pending_keep: StoredValue::new(None),
            pending_patch: StoredValue::new(false),
        }
    }

    /// A new intervention is in use: what was found about the old one no longer holds.
    pub fn forget_interpretation(&self) {
        self.report.set(None);
        self.directions.set(None);
        self.keep.set(None);
    }

    pub fn running(&self) -> bool {
        matches!(self.job.get_untracked(), JobState::Running { .. })
    }

    /// What a link made now carries of the panel.
    pub fn view(&self) -> InterpretView {
        InterpretView {
            map: self.map.get_untracked(),
            interpreted: self.report.with_untracked(Option::is_some),
            keep: self.keep.get_untracked(),
            corrupt: self.patch.with_untracked(Option::is_some).then(|| self.corrupt.get_untracked()),
            heads: self.patch.with_untracked(|p| p.as_ref().is_some_and(|p| p.heads.is_some())),
        }
    }
}
