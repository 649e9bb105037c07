//! What the page does with each answer of the worker.

use leptos::prelude::*;

use actscale::backend::BackendKind;
use actscale::protocol::{AppliedState, Request, Response};
use actscale::steer::hyper::Method;

use super::engine_fault::EngineNotice;
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
            if let Some(source) = page.pending_source.try_update_value(|s| s.take()).flatten() {
                page.model_source.set_value(Some(source));
            }
            page.last_saved.set_value(None);
            if let Some(saved) = page.restore_after_restart.try_update_value(|s| s.take()).flatten() {
                page.send(Request::Apply(saved));
                page.putting_back.set_value(true);
            }
            if !page.putting_back.get_value() {
                super::engine_fault::restarted(page);
            }
            page.load_error.set(None);
            page.has_intervention.set(false);
            page.steered.set(None);
            page.ready_info.set_value(Some(info.clone()));
            page.model.set(ModelState::Ready(info));
            share::apply_pending(page);
        }
        Response::LoadFailed(why) => match {
            page.pending_source.set_value(None);
            page.restore_after_restart.set_value(None);
            page.putting_back.set_value(false);
            page.ready_info.get_value()
        } {
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
            page.heat.update(|h| {
                if let Some(h) = h {
                    h.values = values
                }
            });
            page.history.update(|h| h.push(p));
            page.has_intervention.set(true);
        }
        Response::TaskMetrics { train, test } => page.task_metrics.set(Some((train, test))),
        Response::TrainDone { stopped, converged } => {
            let step = page.history.with_untracked(|h| h.last().map_or(0, |p| p.step));
            let stopped_for = page.stopped_for.try_update_value(|w| w.take()).flatten();
            page.train_state.set(TrainState::Done { stopped, step, converged, stopped_for });
            page.request_steer();
            page.keep_copy();
        }
        Response::BackendLost(why) => {
            // The worker reloads the model on the CPU and puts the intervention back itself.
            let restoring = page.has_intervention.get_untracked();
            page.putting_back.set_value(restoring);
            // The self-check's report is stale: WebGPU is gone for this engine.
            page.engine.update(|e| {
                if let EngineState::Ready(r) = e {
                    r.active = BackendKind::Cpu;
                    r.reason = "WebGPU failed (its device was lost)".into();
                    r.webgpu_unavailable =
                        Some(format!("its device was lost ({})", why.lines().next().unwrap_or_default()));
                    r.webgpu = None;
                }
            });
            page.engine_notice.set(Some(EngineNotice::webgpu_lost(why, restoring)));
            page.prediction.set(None);
            page.model.set(ModelState::Loading { loaded: 0, total: None });
        }
        Response::TrainFailed(why) => {
            page.stopped_for.set_value(None);
            page.sweeping.set(false);
            page.train_state.set(TrainState::Failed(why));
        }
        Response::SweepPoint(p) => {
            if let Some((_, method)) = page.sweep_key.get_value() {
                page.sweep.update(|s| s.push((method, p)));
            }
        }
        Response::SweepDone { .. } => {
            page.stopped_for.set_value(None);
            page.sweeping.set(false);
        }
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
            page.heat.update(|h| {
                if let Some(h) = h {
                    h.values = heat
                }
            });
            page.request_steer();
            page.keep_copy();
        }
        Response::Exported(result) => {
            if let Ok(saved) = &result {
                page.last_saved.set_value(Some(saved.clone()));
            }
            match (page.export_for.try_update_value(|e| e.take()).flatten(), result) {
                (None, _) => {} // the page's own copy
                (Some(_), Err(why)) => page.share_message.set(Some((false, why))),
                (Some(ExportFor::File), Ok(saved)) => share::download(page, saved),
                (Some(ExportFor::Link), Ok(saved)) => share::make_link(page, saved),
            }
        }
        Response::Applied(Ok(state)) if page.putting_back.try_update_value(std::mem::take).unwrap_or(false) => {
            put_back(page, state)
        }
        Response::Applied(Ok(state)) => {
            restore(page, state);
            page.keep_copy();
        }
        Response::Applied(Err(why)) => {
            if page.putting_back.try_update_value(std::mem::take).unwrap_or(false) {
                page.engine_notice.update(|n| {
                    if let Some(n) = n {
                        n.restoring = false
                    }
                });
                super::engine_fault::restarted(page);
            }
            page.share_message.set(Some((false, format!("The shared intervention cannot be used: {why}"))));
        }
        Response::Error(message) => page.error.set(Some(message)),
    }
}

/// After an engine restart: the last intervention is in use again; the settings, prompt, charts
/// and β stay as the user left them (they never left the page).
fn put_back(page: Page, s: AppliedState) {
    page.last_saved.set_value(Some(s.saved.clone()));
    page.steer_prompt.set_value(s.prompt);
    page.heat.set(Some(Heat {
        tokens: s.tokens,
        n_layers: s.saved.n_layers,
        values: s.heat,
        what: heat_label(s.saved.method),
    }));
    page.has_intervention.set(true);
    super::engine_fault::restarted(page);
    page.request_steer();
}

/// Shows a shared intervention as if it had just been learned here.
fn restore(page: Page, s: AppliedState) {
    // A run this replaced was stopped for it (`Page::stop_run_for`): say so with the news.
    let stopped = match page.train_state.get_untracked() {
        TrainState::Done { stopped: true, step, stopped_for: Some(_), .. } => {
            format!("Training stopped at step {step}. ")
        }
        _ => String::new(),
    };
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
    page.heat.set(Some(Heat {
        tokens: s.tokens,
        n_layers: s.saved.n_layers,
        values: s.heat,
        what: heat_label(s.saved.method),
    }));
    page.has_intervention.set(true);
    page.train_state.set(TrainState::Restored);
    page.share_message
        .set(Some((true, format!("{stopped}Restored the shared intervention: the steered predictions use it."))));
    page.steered.set(None);
    page.request_steer();
}
