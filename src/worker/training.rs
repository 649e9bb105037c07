//! Training in the worker, one step at a time: progress after every step, Stop honoured
//! between steps (the loop yields to the event loop so the Stop message can arrive), and the
//! learned intervention kept for steered predictions.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use actscale::model::predict::{last_logits_hooked, top_k};
use actscale::protocol::{Prediction, Response, TrainProgress, TrainRequest};
use actscale::steer::heat::heat;
use actscale::steer::hyper::Selection;
use actscale::steer::intervention::Intervention;
use actscale::steer::train::Trainer;
use actscale::tasks::pair::pair;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::engine::current;

thread_local! {
    static STOP: Cell<bool> = const { Cell::new(false) };
    static TRAINING: Cell<bool> = const { Cell::new(false) };
    static LEARNED: RefCell<Option<Rc<Intervention>>> = const { RefCell::new(None) };
}

pub fn stop() {
    STOP.with(|s| s.set(true));
}

/// Lets queued messages (Stop, Steer) run before the next step.
async fn yield_to_event_loop() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
        let _ = scope.set_timeout_with_callback(&resolve);
    });
    let _ = JsFuture::from(promise).await;
}

pub async fn train(req: TrainRequest, send: impl Fn(Response)) -> Response {
    let Some(model) = current() else { return Response::TrainFailed("the model is not loaded yet".into()) };
    if TRAINING.with(Cell::get) {
        return Response::TrainFailed("training is already running: press Stop first".into());
    }
    let example = match pair(&model.tokenizer, &req.prompt, &req.from, &req.to) {
        Ok(e) => e,
        Err(e) => return Response::TrainFailed(e),
    };
    let selection = Selection { sites: req.sites.clone(), ..Selection::default() };
    let mut trainer = match Trainer::new(&model, req.method, selection, req.hyper.clone(), std::slice::from_ref(&example)) {
        Ok(t) => t,
        Err(e) => return Response::TrainFailed(e),
    };
    STOP.with(|s| s.set(false));
    TRAINING.with(|t| t.set(true));
    let mask = trainer.iv.mask.clone().into_data_async().await.ok().and_then(|d| d.try_to_vec::<f32>().ok()).unwrap_or_default();
    send(Response::TrainStarted {
        tokens: example.ids.iter().map(|&i| model.tokenizer.token_text(i)).collect(),
        n_layers: model.llama.config.n_layers,
        params: mask.iter().filter(|m| **m > 0.0).count(),
        method: req.method,
    });
    let mut stopped = false;
    let result = loop {
        if trainer.done() {
            break Ok(());
        }
        if STOP.with(Cell::get) {
            stopped = true;
            break Ok(());
        }
        let start = js_sys::Date::now();
        let r = match trainer.step(&model).await {
            Ok(r) => r,
            Err(e) => break Err(e),
        };
        let iv = trainer.intervention();
        let heat = match heat(&model, &iv, &example.ids).await {
            Ok(h) => h,
            Err(e) => break Err(e),
        };
        LEARNED.with(|l| *l.borrow_mut() = Some(Rc::new(iv)));
        send(Response::TrainProgress(TrainProgress {
            step: r.step,
            steps: req.hyper.steps,
            loss: r.loss,
            eff: r.eff,
            faith: r.faith,
            l1: r.l1,
            nonzero: r.nonzero,
            delta_pos: r.delta_pos,
            delta_neg: r.delta_neg,
            flip_rate: r.flip_rate,
            ms: js_sys::Date::now() - start,
            heat,
        }));
        yield_to_event_loop().await;
    };
    TRAINING.with(|t| t.set(false));
    match result {
        Ok(()) => Response::TrainDone { stopped },
        Err(e) => Response::TrainFailed(e),
    }
}

/// Top-k of `prompt` with the learned intervention at `beta`.
pub async fn steer(prompt: String, beta: f32, k: usize) -> Response {
    let fail = |prompt: String, error: String| Response::Steered {
        beta,
        prediction: Prediction { prompt, ids: vec![], tokens: vec![], top: vec![], error: Some(error) },
    };
    let Some(model) = current() else { return fail(prompt, "the model is not loaded yet".into()) };
    let Some(iv) = LEARNED.with(|l| l.borrow().clone()) else {
        return fail(prompt, "nothing learned yet: press Train".into());
    };
    if !beta.is_finite() || !(-1.0..=1.0).contains(&beta) {
        return fail(prompt, format!("β must be between −1 and 1, not {beta}"));
    }
    let ids = match model.tokenizer.encode(&prompt) {
        Ok(ids) => ids,
        Err(e) => return fail(prompt, e.to_string()),
    };
    let c = &model.llama.config;
    if let Err(e) = iv.check_fits(c.n_layers, c.d_model, ids.len()) {
        return fail(prompt, e);
    }
    let tokens = ids.iter().map(|&i| model.tokenizer.token_text(i)).collect();
    match last_logits_hooked(&model, &ids, &iv.hook(&[beta])).await {
        Ok(logits) => Response::Steered {
            beta,
            prediction: Prediction { prompt, ids, tokens, top: top_k(&logits, k, &model.tokenizer), error: None },
        },
        Err(e) => fail(prompt, e.to_string()),
    }
}
