//! The loaded model and what the worker does with it.

use std::cell::RefCell;
use std::rc::Rc;

use actscale::model::Model;
use actscale::model::predict::{last_logits, top_k};
use actscale::protocol::{ModelInfo, Prediction, Response};

use super::backends;
use super::fetch::fetch_bytes;

thread_local! {
    static MODEL: RefCell<Option<Rc<Model>>> = const { RefCell::new(None) };
}

pub fn current() -> Option<Rc<Model>> {
    MODEL.with(|m| m.borrow().clone())
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Downloads and loads a model. On failure the previous model stays loaded.
pub async fn load_from_url(url: &str, progress: impl Fn(u64, Option<u64>)) -> Response {
    let start = now_ms();
    let bytes = match fetch_bytes(url, progress).await {
        Ok(b) => b,
        Err(e) => return Response::LoadFailed(e),
    };
    let (device, backend) = backends::active().await;
    match Model::from_bytes(bytes, &device) {
        Ok(model) => {
            let c = &model.llama.config;
            let info = ModelInfo {
                name: url.rsplit('/').next().unwrap_or(url).to_string(),
                n_layers: c.n_layers,
                d_model: c.d_model,
                vocab_size: c.vocab_size,
                backend,
                load_ms: now_ms() - start,
            };
            MODEL.with(|m| *m.borrow_mut() = Some(Rc::new(model)));
            Response::ModelReady(info)
        }
        Err(e) => Response::LoadFailed(format!("{url}: {e}")),
    }
}

pub async fn predict(prompt: String, k: usize) -> Response {
    let Some(model) = current() else {
        return Response::Error("no model is loaded yet".into());
    };
    let fail = |prompt: String, error: String| {
        Response::Prediction(Prediction { prompt, ids: vec![], tokens: vec![], top: vec![], error: Some(error) })
    };
    let ids = match model.tokenizer.encode(&prompt) {
        Ok(ids) => ids,
        Err(e) => return fail(prompt, e.to_string()),
    };
    let tokens = ids.iter().map(|&i| model.tokenizer.token_text(i)).collect();
    match last_logits(&model, &ids).await {
        Ok(logits) => {
            let top = top_k(&logits, k, &model.tokenizer);
            Response::Prediction(Prediction { prompt, ids, tokens, top, error: None })
        }
        Err(e) => fail(prompt, e.to_string()),
    }
}
