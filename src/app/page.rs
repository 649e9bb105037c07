//! Everything the page knows, as signals that the components read and the worker's answers set.

use leptos::prelude::*;

use actscale::protocol::{Request, SelfCheckReport};

use super::engine_link::EngineLink;
use super::state::engine::{Engine, EngineState, ModelState};
use super::state::interpret::Interp;
use super::state::run::{Run, TrainState};
use super::state::view::View;

/// The next-token lists show this many tokens.
pub const TOP_K: usize = 10;

/// Everything the page knows: the engine and its model, the run, the view (`state`), and the
/// link to the worker.
#[derive(Clone, Copy)]
pub struct Page {
    pub engine: Engine,
    pub run: Run,
    pub view: View,
    pub interp: Interp,
    link_cell: StoredValue<Option<EngineLink>, LocalStorage>,
}

impl Page {
    pub fn new() -> Self {
        Page {
            engine: Engine::new(),
            run: Run::new(),
            view: View::new(),
            interp: Interp::new(),
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

    /// Whether a training run, a sweep, an interpretation or a patching run is in progress.
    pub fn run_in_progress(&self) -> bool {
        self.run.sweeping.get_untracked()
            || matches!(self.run.train_state.get_untracked(), TrainState::Running { .. })
            || self.interp.running()
    }

    /// Before a load, a backend switch or an applied intervention: stops the run in progress
    /// (the worker also waits for its step to end before it goes on) and says what for.
    pub fn stop_run_for(&self, what: &'static str) {
        if self.run_in_progress() {
            self.run.stopped_for.set_value(Some(what));
            self.send(Request::Stop);
        }
    }

    /// Refreshes the page's copy of the worker's intervention (`recovery`).
    pub fn keep_copy(&self) {
        self.send(Request::Export);
    }

    /// Asks for the steered top-k at the current β.
    pub fn request_steer(&self) {
        self.send(Request::Steer {
            prompt: self.run.steer_prompt.get_value(),
            beta: self.view.beta.get_untracked(),
            top_k: TOP_K,
        });
    }

    pub fn model_ready(&self) -> bool {
        matches!(self.engine.model.get_untracked(), ModelState::Ready(_))
    }

    /// The self-check report, once the worker sent it.
    pub fn report(&self) -> Option<SelfCheckReport> {
        match self.engine.state.get() {
            EngineState::Ready(r) => Some(r),
            EngineState::Starting => None,
        }
    }
}
