//! What the page does with each answer of the worker.

use leptos::prelude::*;

use actscale::backend::BackendKind;
use actscale::page_state::recovery::Applied;
use actscale::protocol::{AppliedState, Job, Request, Response, TaskChoice};
use actscale::steer::hyper::Method;

use super::page::Page;
use super::share;
use super::state::engine::{EngineNotice, EngineState, ModelState};
use super::state::interpret::JobState;
use super::state::run::{TaskResult, TrainState};
use super::state::view::{Continuation, ExportFor, Heat, SteeredAt};

pub fn heat_label(m: Method) -> &'static str {
    match m {
        Method::ActivScalar => "α",
        Method::SteerVec => "‖v‖",
        Method::DynScalar => "α(h) on this prompt",
    }
}

pub fn handle(page: Page, response: Response) {
    // A dead engine's late messages (a future that still ran) must not bring a run back to life.
    if page.engine.fault.get_untracked().is_some() {
        return;
    }
    match response {
        Response::SelfCheck(report) => page.engine.state.set(EngineState::Ready(report)),
        Response::LoadProgress { loaded, total } => page.engine.model.set(ModelState::Loading { loaded, total }),
        Response::ModelReady(info) => {
            page.engine.sources.update_value(|s| s.ready());
            // After a restart, the page's copy of the intervention goes back to the fresh engine.
            if let Some(saved) = page.engine.recovery.try_update(|r| r.model_ready()).flatten() {
                page.send(Request::Apply(saved));
            }
            page.engine.load_error.set(None);
            page.run.has_intervention.set(false);
            page.view.steered.set(None);
            page.engine.ready_info.set_value(Some(info.clone()));
            page.engine.model.set(ModelState::Ready(info));
            share::apply_pending(page);
        }
        Response::LoadFailed(why) => match {
            page.engine.sources.update_value(|s| s.failed());
            page.engine.recovery.update(|r| r.load_failed());
            page.engine.ready_info.get_value()
        } {
            // An earlier model is still loaded: keep using it and say why the new one is not.
            Some(info) => {
                page.engine.load_error.set(Some(why.to_string()));
                page.engine.model.set(ModelState::Ready(info));
            }
            None => page.engine.model.set(ModelState::Failed(why.to_string())),
        },
        // Answers to an older prompt are dropped: only the current text's prediction shows.
        Response::Prediction(p) => {
            if p.prompt == page.view.prompt.get_untracked() {
                page.view.prediction.set(Some(p));
            }
        }
        Response::TrainStarted { prompt, tokens, n_layers, method, from, to, corrupt, .. } => {
            // A task's prompt brings its own answers and natural corruption for patching.
            let task = page.run.settings.task.get_untracked() != TaskChoice::Pair;
            page.interp.task_answers.set_value(task.then_some((from, to)));
            if let Some(c) = corrupt {
                page.interp.corrupt.set(c);
            }
            // A task trains on its own prompts: show and steer the first one.
            if prompt != page.view.prompt.get_untracked() {
                page.view.prompt.set(prompt.clone());
            }
            page.run.steer_prompt.set_value(prompt);
            page.interp.forget_interpretation();
            page.run.history.set(vec![]);
            page.run.task_metrics.set(None);
            page.view.cell.set(None);
            page.view.heat.set(Some(Heat { tokens, n_layers, values: vec![], what: heat_label(method) }));
        }
        Response::TrainProgress(mut p) => {
            page.run.train_state.set(TrainState::Running { step: p.report.step, steps: p.steps });
            let values = std::mem::take(&mut p.heat);
            page.view.heat.update(|h| {
                if let Some(h) = h {
                    h.values = values
                }
            });
            page.run.history.update(|h| h.push(p));
            page.run.has_intervention.set(true);
        }
        Response::TaskMetrics { seed, train, test } => {
            page.run.task_metrics.set(Some(TaskResult { seed, train, test }))
        }
        Response::TrainDone { stopped, converged } => {
            let step = page.run.history.with_untracked(|h| h.last().map_or(0, |p| p.report.step));
            let stopped_for = page.run.stopped_for.try_update_value(|w| w.take()).flatten();
            page.run.train_state.set(TrainState::Done { stopped, step, converged, stopped_for });
            page.request_steer();
            page.keep_copy();
        }
        Response::BackendLost(why) => {
            // The worker reloads the model on the CPU and puts the intervention back itself.
            let restoring = page.run.has_intervention.get_untracked();
            page.engine.recovery.update(|r| r.webgpu_lost(restoring));
            // The self-check's report is stale: WebGPU is gone for this engine.
            page.engine.state.update(|e| {
                if let EngineState::Ready(r) = e {
                    r.active = BackendKind::Cpu;
                    r.reason = "WebGPU failed (its device was lost)".into();
                    r.webgpu_unavailable =
                        Some(format!("its device was lost ({})", why.lines().next().unwrap_or_default()));
                    r.webgpu = None;
                }
            });
            page.engine.notice.set(Some(EngineNotice::webgpu_lost(why)));
            page.view.prediction.set(None);
            page.engine.model.set(ModelState::Loading { loaded: 0, total: None });
        }
        Response::TrainFailed(why) => {
            page.run.stopped_for.set_value(None);
            page.run.sweeping.set(false);
            page.run.train_state.set(TrainState::Failed(why.to_string()));
        }
        Response::SweepPoint(p) => {
            if let Some((_, method)) = page.run.sweep_key.get_value() {
                page.run.sweep.update(|s| s.push((method, p)));
            }
        }
        Response::SweepDone { .. } => {
            page.run.stopped_for.set_value(None);
            page.run.sweeping.set(false);
        }
        Response::Steered { beta, prediction } => {
            if (beta - page.view.beta.get_untracked()).abs() < 1e-6 {
                page.view.steered.set(Some(SteeredAt { beta, prediction }));
            }
        }
        Response::Generated { prompt, plain, steered, error } => {
            if prompt == page.view.prompt.get_untracked() {
                page.view.continuation.set(Continuation::Done { plain, steered, error });
            }
        }
        Response::Edited { heat } => {
            page.interp.forget_interpretation();
            page.view.heat.update(|h| {
                if let Some(h) = h {
                    h.values = heat
                }
            });
            page.request_steer();
            page.keep_copy();
        }
        Response::Exported(result) => {
            if let Ok(saved) = &result {
                page.engine.recovery.update(|r| r.exported(saved.clone()));
            }
            match (page.view.export_for.try_update_value(|e| e.take()).flatten(), result) {
                (None, _) => {} // the page's own copy
                (Some(_), Err(why)) => page.view.share_message.set(Some((false, why.to_string()))),
                (Some(ExportFor::File), Ok(saved)) => share::download(page, saved),
                (Some(ExportFor::Link), Ok(saved)) => share::make_link(page, saved),
            }
        }
        Response::Applied(result) => {
            let applied = result.as_ref().ok().map(|s| s.saved.clone());
            match (page.engine.recovery.try_update(|r| r.applied(applied)).unwrap_or(Applied::Opened), result) {
                (Applied::PutBack { .. }, Ok(state)) => put_back(page, state),
                (Applied::Opened, Ok(state)) => {
                    restore(page, state);
                    page.keep_copy();
                    open_view(page);
                }
                (_, Err(why)) => {
                    page.view.share_message.set(Some((false, format!("The shared intervention cannot be used: {why}"))))
                }
            }
        }
        Response::Error(message) => page.view.error.set(Some(message.to_string())),
        Response::JobProgress { job, done, total } => page.interp.job.set(JobState::Running { job, done, total }),
        Response::JobStopped(job) => page.interp.job.set(JobState::Stopped(job)),
        Response::Interpreted(Ok(report)) => {
            page.interp.job.set(JobState::Idle);
            page.interp.report.set(Some(report));
            // A link's k goes back into use once its units are known.
            if let Some(k) = page.interp.pending_keep.try_update_value(|k| k.take()).flatten() {
                page.send(Request::KeepTop { k: Some(k) });
            }
            if page.interp.pending_patch.try_update_value(std::mem::take).unwrap_or(false) {
                patch(page);
            }
        }
        Response::Directions(Ok(report)) => {
            page.interp.job.set(JobState::Idle);
            page.interp.directions.set(Some(report));
        }
        Response::Patched(Ok(report)) => {
            page.interp.job.set(JobState::Idle);
            page.interp.patch.set(Some(report));
        }
        Response::Interpreted(Err(why)) | Response::Patched(Err(why)) | Response::Directions(Err(why)) => {
            page.interp.job.set(JobState::Failed(why.to_string()))
        }
        // Only another engine worker asks for these (`worker::patch_helper`).
        Response::PatchedLayers(_) => {}
        Response::Kept { k, heat } => {
            page.interp.keep.set(k);
            // The shown steered predictions belong to the previous cut until the new ones arrive.
            page.view.steered.set(None);
            page.view.heat.update(|h| {
                if let Some(h) = h {
                    h.values = heat
                }
            });
            page.request_steer();
            page.keep_copy();
        }
    }
}

/// After an engine restart: the last intervention is in use again; the settings, prompt, charts
/// and β stay as the user left them (they never left the page).
fn put_back(page: Page, s: AppliedState) {
    page.run.steer_prompt.set_value(s.prompt);
    page.view.heat.set(Some(Heat {
        tokens: s.tokens,
        n_layers: s.saved.n_layers,
        values: s.heat,
        what: heat_label(s.saved.method),
    }));
    page.run.has_intervention.set(true);
    page.request_steer();
}

/// Shows a shared intervention as if it had just been learned here.
fn restore(page: Page, s: AppliedState) {
    // A run this replaced was stopped for it (`Page::stop_run_for`): say so with the news.
    let stopped = match page.run.train_state.get_untracked() {
        TrainState::Done { stopped: true, step, stopped_for: Some(_), .. } => {
            format!("Training stopped at step {step}. ")
        }
        _ => String::new(),
    };
    let st = page.run.settings;
    st.task.set(s.task);
    if let Some(seed) = s.saved.seed {
        st.seed.set(seed);
    }
    st.from.set(s.from);
    st.to.set(s.to);
    st.method.set(s.saved.method);
    st.sites.set(s.saved.selection.sites.clone());
    st.hyper.set(s.saved.hyper.clone());
    page.view.prompt.set(s.prompt.clone());
    page.run.steer_prompt.set_value(s.prompt);
    page.interp.forget_interpretation();
    page.view.beta.set(s.saved.beta);
    page.run.history.set(vec![]);
    page.run.task_metrics.set(None);
    page.view.cell.set(None);
    page.view.heat.set(Some(Heat {
        tokens: s.tokens,
        n_layers: s.saved.n_layers,
        values: s.heat,
        what: heat_label(s.saved.method),
    }));
    page.run.has_intervention.set(true);
    page.run.train_state.set(TrainState::Restored);
    page.view
        .share_message
        .set(Some((true, format!("{stopped}Restored the shared intervention: the steered predictions use it."))));
    page.view.steered.set(None);
    page.request_steer();
}

/// Puts a link's interpret view back: the map, the corrupted prompt, and the measurements it
/// showed (run again here: the units first, then the top k, then patching).
fn open_view(page: Page) {
    let Some(view) = page.interp.pending_view.try_update_value(|v| v.take()).flatten() else { return };
    let it = page.interp;
    it.map.set(view.map);
    it.heads.set(view.heads);
    if let Some(c) = view.corrupt {
        it.corrupt.set(c);
        it.pending_patch.set_value(true);
    }
    if view.interpreted {
        it.pending_keep.set_value(view.keep);
        it.job.set(JobState::Running { job: Job::Interpret, done: 0, total: 0 });
        page.send(Request::Interpret { prompts: it.prompts.get_untracked() });
    } else if it.pending_patch.try_update_value(std::mem::take).unwrap_or(false) {
        patch(page);
    }
}

/// Activation patching of the prompt against the panel's corrupted prompt.
pub fn patch(page: Page) {
    let s = page.run.settings;
    let (from, to) = match page.interp.task_answers.get_value() {
        Some(answers) if s.task.get_untracked() != TaskChoice::Pair => answers,
        _ => (s.from.get_untracked(), s.to.get_untracked()),
    };
    page.interp.job.set(JobState::Running { job: Job::Patch, done: 0, total: 0 });
    page.send(Request::Patch {
        prompt: page.view.prompt.get_untracked(),
        corrupt: page.interp.corrupt.get_untracked(),
        from,
        to,
        heads: page.interp.heads.get_untracked(),
    });
}
