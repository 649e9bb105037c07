//! What the page does with each answer of the worker.

use leptos::prelude::*;

use actscale::protocol::{AppliedState, Response};
use actscale::steer::hyper::Method;

use super::heatmap::Heat;
use super::page::{Continuation, ExportFor, Page};
use super::share;
use super::train_panel::TrainState;
use super::{EngineState, ModelState};

pub fn heat_label(m: Method) -> &'static str {
    match m {
        Method::ActivScalar => "α",
        Method::SteerVec => "‖v‖",
        Method::DynScalar => "α(h) on this prompt",
    }
}

pub fn handle(page: Page, response: Response) {
    // A dead engine's late messages (a future that still ran) must not bring a run back to life.
    if page.engine_fault.get_untracked().is_some() {
        return;
    }
    match response {
        Response::SelfCheck(report) => page.engine.set(EngineState::Ready(report)),
        Response::LoadProgress { loaded, total } => page.model.set(ModelState::Loading { loaded, total }),
        Response::ModelReady(info) => {
            page.load_error.set(None);
            page.has_intervention.set(false);
            page.steered.set(None);
            page.ready_info.set_value(Some(info.clone()));
            page.model.set(ModelState::Ready(info));
            share::apply_pending(page);
        }
        Response::LoadFailed(why) => match page.ready_info.get_value() {
            // An earlier model is still loaded: keep using it and say why the new one is not.
            Some(info) => {
                page.load_error.set(Some(why));
                page.model.set(ModelState::Ready(info));
            }
            None => page.model.set(ModelState::Failed(why)),
        },
        // Answers to an older prompt are dropped: only the current text's prediction shows.
        Response::Prediction(p) => {
            if p.prompt == page.prompt.get_untracked() {
                page.prediction.set(Some(p));
            }
        }
        Response::TrainStarted { prompt, tokens, n_layers, method, .. } => {
            // A task trains on its own prompts: show and steer the first one.
            if prompt != page.prompt.get_untracked() {
                page.prompt.set(prompt.clone());
            }
            page.steer_prompt.set_value(prompt);
            page.history.set(vec![]);
            page.task_metrics.set(None);
            page.cell.set(None);
            page.heat.set(Some(Heat { tokens, n_layers, values: vec![], what: heat_label(method) }));
        }
        Response::TrainProgress(mut p) => {
            page.train_state.set(TrainState::Running { step: p.step, steps: p.steps });
            let values = std::mem::take(&mut p.heat);
            page.heat.update(|h| if let Some(h) = h { h.values = values });
            page.history.update(|h| h.push(p));
            page.has_intervention.set(true);
        }
        Response::TaskMetrics { train, test } => page.task_metrics.set(Some((train, test))),
        Response::TrainDone { stopped, converged } => {
            let step = page.history.with_untracked(|h| h.last().map_or(0, |p| p.step));
            page.train_state.set(TrainState::Done { stopped, step, converged });
            page.request_steer();
        }
        Response::TrainFailed(why) => {
            page.sweeping.set(false);
            page.train_state.set(TrainState::Failed(why));
        }
        Response::SweepPoint(p) => {
            if let Some((_, method)) = page.sweep_key.get_value() {
                page.sweep.update(|s| s.push((method, p)));
            }
        }
        Response::SweepDone { .. } => page.sweeping.set(false),
        Response::Steered { beta, prediction } => {
            if (beta - page.beta.get_untracked()).abs() < 1e-6 {
                page.steered.set(Some(prediction));
            }
        }
        Response::Generated { prompt, plain, steered, error } => {
            if prompt == page.prompt.get_untracked() {
                page.continuation.set(Continuation::Done { plain, steered, error });
            }
        }
        Response::Edited { heat } => {
            page.heat.update(|h| if let Some(h) = h { h.values = heat });
            page.request_steer();
        }
        Response::Exported(result) => match (page.export_for.get_value(), result) {
            (_, Err(why)) => page.share_message.set(Some((false, why))),
            (Some(ExportFor::File), Ok(saved)) => share::download(page, saved),
            (_, Ok(saved)) => share::make_link(page, saved),
        },
        Response::Applied(Ok(state)) => restore(page, state),
        Response::Applied(Err(why)) => page.share_message.set(Some((false, format!("The shared intervention cannot be used: {why}")))),
        Response::Error(message) => page.error.set(Some(message)),
    }
}

/// Shows a shared intervention as if it had just been learned here.
fn restore(page: Page, s: AppliedState) {
    let st = page.settings;
    st.task.set(s.task);
    st.from.set(s.from);
    st.to.set(s.to);
    st.method.set(s.saved.method);
    st.sites.set(s.saved.selection.sites.clone());
    st.hyper.set(s.saved.hyper.clone());
    page.prompt.set(s.prompt.clone());
    page.steer_prompt.set_value(s.prompt);
    page.beta.set(s.saved.beta);
    page.history.set(vec![]);
    page.task_metrics.set(None);
    page.cell.set(None);
    page.heat.set(Some(Heat { tokens: s.tokens, n_layers: s.saved.n_layers, values: s.heat, what: heat_label(s.saved.method) }));
    page.has_intervention.set(true);
    page.train_state.set(TrainState::Restored);
    page.share_message.set(Some((true, "Restored the shared intervention: the steered predictions use it.".into())));
    page.steered.set(None);
    page.request_steer();
}
