//! The loaded model and what the worker does with it.

use std::cell::RefCell;
use std::rc::Rc;

use actscale::backend::BackendKind;
use actscale::model::Model;
use actscale::model::id::ModelId;
use actscale::model::predict::{last_logits, top_k};
use actscale::protocol::{ModelInfo, Prediction, Response};

use super::backends;
use super::digest::file_hash;
use super::fetch::fetch_bytes;

/// The model in use, with the file it came from (kept so that a backend switch can reload it).
pub struct Loaded {
    pub model: Rc<Model>,
    pub info: ModelInfo,
    bytes: Rc<Vec<u8>>,
}

thread_local! {
    static LOADED: RefCell<Option<Rc<Loaded>>> = const { RefCell::new(None) };
}

pub fn current() -> Option<Rc<Model>> {
    LOADED.with(|m| m.borrow().as_ref().map(|l| l.model.clone()))
}

pub fn current_info() -> Option<ModelInfo> {
    LOADED.with(|m| m.borrow().as_ref().map(|l| l.info.clone()))
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Downloads and loads a model. On failure the previous model stays loaded.
pub async fn load_from_url(url: &str, progress: impl Fn(u64, Option<u64>)) -> Response {
    let start = now_ms();
    match fetch_bytes(url, progress).await {
        Ok(bytes) => load_bytes(url.rsplit('/').next().unwrap_or(url).to_string(), Rc::new(bytes), start).await,
        Err(e) => Response::LoadFailed(e),
    }
}

/// Loads a GGUF's bytes on the active backend. On failure the previous model stays loaded.
pub async fn load_bytes(name: String, bytes: Rc<Vec<u8>>, start: f64) -> Response {
    let backends::Choice { device, kind: backend, .. } = backends::choice().await;
    let hash = file_hash(&bytes).await;
    match Model::from_bytes(bytes.to_vec(), &device) {
        Ok(model) => {
            let c = &model.llama.config;
            let info = ModelInfo {
                name,
                n_layers: c.n_layers,
                d_model: c.d_model,
                vocab_size: c.vocab_size,
                backend,
                load_ms: now_ms() - start,
                id: ModelId { hash, n_layers: c.n_layers, d_model: c.d_model },
            };
            let loaded = Loaded { model: Rc::new(model), info: info.clone(), bytes };
            LOADED.with(|m| *m.borrow_mut() = Some(Rc::new(loaded)));
            super::learned::forget();
            Response::ModelReady(info)
        }
        Err(e) => Response::LoadFailed(format!("{name}: {e}")),
    }
}

/// Switches backend and reloads the model onto it.
pub async fn set_backend(kind: BackendKind) -> Response {
    if let Err(e) = backends::prefer(kind).await {
        return Response::LoadFailed(e);
    }
    let Some(loaded) = LOADED.with(|m| m.borrow().clone()) else {
        return Response::LoadFailed("no model is loaded yet".into());
    };
    load_bytes(loaded.info.name.clone(), loaded.bytes.clone(), now_ms()).await
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
