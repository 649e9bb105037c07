//! Training in the worker, one step at a time: progress after every step, Stop honoured
//! between steps (the loop yields to the event loop so the Stop message can arrive), the
//! intervention kept for steered predictions, and the λM sweep.

use actscale::compute_error::ComputeError;
use actscale::model::Model;
use actscale::protocol::{EngineError, Response, SplitMetrics, SweepPoint, TaskChoice, TrainProgress, TrainRequest};
use actscale::steer::convergence::PATIENCE;
use actscale::steer::heat::heat_from;
use actscale::steer::hyper::{Hyper, Selection};
use actscale::steer::metrics::{Metrics, evaluate};
use actscale::steer::prompts::Example;
use actscale::steer::train::Trainer;
use actscale::tasks;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::device_lost;
use super::state::{Engine, Learned};

/// A task's test flip rate is measured every this many steps (and after the last).
const TEST_EVERY: usize = 10;

pub fn stop(e: &Engine) {
    e.stop.set(true);
}

/// Stops a run or sweep in progress and waits until its current step has ended, so that what
/// comes next (another model, another backend, an applied intervention) never meets a run that
/// is still going, and a run never stores an intervention made for a model no longer loaded.
pub async fn stop_and_wait(e: &Engine) {
    if e.training.get() {
        stop(e);
        while e.training.get() {
            yield_to_event_loop().await;
        }
    }
}

pub(super) fn stop_requested(e: &Engine) -> bool {
    e.stop.get()
}

/// Lets queued messages (Stop, Steer) run before the next step.
pub(super) async fn yield_to_event_loop() {
    after_ms(0).await
}

/// Resolves after `ms` milliseconds; messages run meanwhile.
pub(super) async fn after_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
        let _ = scope.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = JsFuture::from(promise).await;
}

fn split_metrics(m: &Metrics) -> SplitMetrics {
    SplitMetrics {
        prompts: m.prompts,
        flip_rate: m.flip_rate,
        delta_pos: m.logit_diff_pos,
        delta_neg: m.logit_diff_neg,
        delta_base: m.logit_diff_base,
        kl_pos: m.kl_pos,
        kl_neg: m.kl_neg,
    }
}

/// Marks training as running until dropped (also when a step fails).
pub(super) struct Running<'a>(&'a Engine);

impl Running<'_> {
    pub(super) fn start(e: &Engine) -> Result<Running<'_>, String> {
        if e.training.get() {
            return Err("a run is already going: press Stop first".into());
        }
        e.stop.set(false);
        e.training.set(true);
        Ok(Running(e))
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.training.set(false);
    }
}

/// The model and the (train, test) prompts of a request.
fn prepare(e: &Engine, req: &TrainRequest) -> Result<(std::rc::Rc<Model>, Vec<Example>, Vec<Example>), String> {
    let model = e.model().ok_or("the model is not loaded yet")?;
    let (train, test) = tasks::build(&model.tokenizer, req.task, &req.prompt, &req.from, &req.to, req.seed)?;
    tasks::check_lengths(req.method, &train, &test)?;
    Ok((model, train, test))
}

pub async fn train(e: &Engine, req: TrainRequest, send: impl Fn(Response)) -> Response {
    let _running = match Running::start(e) {
        Ok(r) => r,
        Err(why) => return Response::TrainFailed(EngineError::Refused(why)),
    };
    match train_steps(e, &req, &send).await {
        Ok((stopped, converged)) => Response::TrainDone { stopped, converged },
        Err(error) => failed(e, error, &send).await,
    }
}

/// Trains, reporting every step; whether the user stopped it, and why the stopping rule did.
async fn train_steps(
    e: &Engine,
    req: &TrainRequest,
    send: &impl Fn(Response),
) -> Result<(bool, Option<String>), ComputeError> {
    let (model, train, test) = prepare(e, req)?;
    let selection = Selection { sites: req.sites.clone(), ..Selection::default() };
    let mut trainer = trainer_for(req, &model, selection, req.hyper.clone(), &train)?;
    let shown = &train[0];
    send(Response::TrainStarted {
        prompt: shown.text.clone(),
        tokens: tasks::roles::labelled(
            req.task,
            shown,
            shown.ids.iter().map(|&i| model.tokenizer.token_text(i)).collect(),
        ),
        n_layers: model.net.config.n_layers,
        params: trainer.selection_mask().iter().filter(|m| **m > 0.0).count(),
        method: req.method,
        from: model.tokenizer.token_text(shown.from),
        to: model.tokenizer.token_text(shown.to),
        corrupt: tasks::roles::natural_corrupt(req.task, shown, &model.tokenizer),
    });
    while !trainer.done() {
        if stop_requested(e) {
            break;
        }
        let start = js_sys::Date::now();
        let r = trainer.step(&model).await?;
        let iv = trainer.intervention();
        let test_flip_rate = if !test.is_empty() && (r.step % TEST_EVERY == 0 || trainer.done()) {
            Some(evaluate(&model, &iv, &test, req.hyper.margin).await?.flip_rate)
        } else {
            None
        };
        let heat = heat_from(&model, &iv, &shown.ids, trainer.params_read().to_vec()).await?;
        if !e.model().is_some_and(|m| std::rc::Rc::ptr_eq(&m, &model)) {
            return Err("the model changed during training; the run was stopped".into());
        }
        e.set_learned(Learned {
            iv,
            request: req.clone(),
            examples: train.clone(),
            params: trainer.params_read().to_vec(),
        });
        send(Response::TrainProgress(TrainProgress {
            report: r,
            steps: req.hyper.steps,
            test_flip_rate,
            ms: js_sys::Date::now() - start,
            heat,
        }));
        yield_to_event_loop().await;
    }
    if req.task != TaskChoice::Pair {
        let iv = trainer.intervention();
        let train_m = evaluate(&model, &iv, &train, req.hyper.margin).await?;
        let test_m = evaluate(&model, &iv, &test, req.hyper.margin).await?;
        send(Response::TaskMetrics { seed: req.seed, train: split_metrics(&train_m), test: split_metrics(&test_m) });
    }
    Ok((!trainer.done(), trainer.converged().map(String::from)))
}

/// A run's failure; when the device under it failed and that device is WebGPU, the engine first
/// moves to the CPU (the page hears `BackendLost`, then the model and the intervention learned so
/// far on the CPU).
async fn failed(e: &Engine, error: ComputeError, send: &impl Fn(Response)) -> Response {
    Response::TrainFailed(failure(e, error, send).await)
}

/// A computation's failure as the page hears it (after the move to the CPU when WebGPU failed).
pub(super) async fn failure(e: &Engine, error: ComputeError, send: &impl Fn(Response)) -> EngineError {
    match error {
        ComputeError::Device(why) if device_lost::on_webgpu(e) => {
            device_lost::fall_back_to_cpu(e, &why, send).await;
            EngineError::BackendLost(format!(
                "WebGPU failed during this run ({}); the run stopped and the engine now runs on the CPU",
                device_lost::first_line(&why)
            ))
        }
        other => EngineError::Failed(other.to_string()),
    }
}

/// A trainer with the stopping rule when the request asks for it.
fn trainer_for(
    req: &TrainRequest,
    model: &Model,
    selection: Selection,
    hyper: Hyper,
    train: &[Example],
) -> Result<Trainer, String> {
    let trainer = Trainer::new(model, req.method, selection, hyper, train)?;
    Ok(if req.until_converged { trainer.until_converged(PATIENCE) } else { trainer })
}

/// Trains once per λM; each point is measured on the test split for tasks, else on the prompt.
pub async fn sweep(e: &Engine, req: TrainRequest, lambdas: Vec<f32>, send: impl Fn(Response)) -> Response {
    let _running = match Running::start(e) {
        Ok(r) => r,
        Err(why) => return Response::TrainFailed(EngineError::Refused(why)),
    };
    if lambdas.is_empty() || lambdas.len() > 16 || lambdas.iter().any(|l| !l.is_finite() || *l < 0.0) {
        return Response::TrainFailed(EngineError::Refused("a sweep needs 1 to 16 values of λM, each ≥ 0".into()));
    }
    match sweep_points(e, &req, &lambdas, &send).await {
        Ok(stopped) => Response::SweepDone { stopped },
        Err(error) => failed(e, error, &send).await,
    }
}

async fn sweep_points(
    e: &Engine,
    req: &TrainRequest,
    lambdas: &[f32],
    send: &impl Fn(Response),
) -> Result<bool, ComputeError> {
    let (model, train, test) = prepare(e, req)?;
    let measured_on = if test.is_empty() { &train } else { &test };
    for &lambda_m in lambdas {
        let hyper = Hyper { lambda_m, ..req.hyper.clone() };
        let selection = Selection { sites: req.sites.clone(), ..Selection::default() };
        let mut trainer = trainer_for(req, &model, selection, hyper, &train)?;
        while !trainer.done() {
            if stop_requested(e) {
                return Ok(true);
            }
            trainer.step(&model).await?;
            yield_to_event_loop().await;
        }
        let m = evaluate(&model, &trainer.intervention(), measured_on, req.hyper.margin).await?;
        send(Response::SweepPoint(SweepPoint {
            lambda_m,
            nonzero: m.nonzero,
            flip_rate: m.flip_rate,
            delta_pos: m.logit_diff_pos,
            delta_neg: m.logit_diff_neg,
        }));
    }
    Ok(false)
}
