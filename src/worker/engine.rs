//! The loaded model and what the worker does with it.

use std::rc::Rc;

use actscale::backend::BackendKind;
use actscale::model::Model;
use actscale::model::id::ModelId;
use actscale::model::predict::{last_logits, top_k};
use actscale::protocol::{EngineError, ModelInfo, Prediction, Response};

use actscale::model::id::hash_of_digest;

use actscale::model::config::ModelConfig;
use actscale::model::gguf::Gguf;
use actscale::model::memory::MemoryNeed;

use super::digest::sha256;
use super::fetch::{fetch_bytes, forget_cached, keep_in_cache};
use super::state::{Engine, Loaded};
use super::{adapter, backends};

fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Downloads and loads a model; with `expected_sha256`, only the file with that SHA-256 (the
/// build's default model, which may live on another host). On failure the previous model stays
/// loaded.
pub async fn load_from_url(
    e: &Engine,
    url: &str,
    expected_sha256: Option<&str>,
    progress: impl Fn(u64, Option<u64>),
) -> Response {
    let start = now_ms();
    let fetched = match fetch_bytes(url, progress).await {
        Ok(f) => f,
        Err(why) => return Response::LoadFailed(EngineError::Download(why)),
    };
    let bytes = fetched.bytes;
    let digest = match &fetched.sha256 {
        Some(d) => d.clone(),
        None => sha256(&bytes).await,
    };
    let got = hex(&digest);
    if let Some(expected) = expected_sha256 {
        if !got.eq_ignore_ascii_case(expected.trim()) {
            // Not kept (and a cached copy dropped): the next load downloads again.
            forget_cached(url).await;
            return Response::LoadFailed(EngineError::Model(format!(
                "{url} is not the model this page was built for: its SHA-256 is {}…, expected {}… \
                 (another file on the host, or the download was changed on the way)",
                &got[..16],
                expected.get(..16).unwrap_or(expected)
            )));
        }
    }
    if fetched.sha256.is_none() {
        keep_in_cache(url, &bytes, &got);
    }
    load_bytes(
        e,
        url.rsplit('/').next().unwrap_or(url).to_string(),
        Rc::new(bytes),
        start,
        Some(hash_of_digest(&digest)),
    )
    .await
}

/// Loads a GGUF's bytes on the active backend (`hash`: its `ModelId::hash` when already known,
/// so that a download or a backend switch does not hash 90 MB again). On failure the previous
/// model stays loaded.
pub async fn load_bytes(e: &Engine, name: String, bytes: Rc<Vec<u8>>, start: f64, hash: Option<String>) -> Response {
    let backends::Choice { device, kind: backend, .. } = backends::choice(e).await;
    let hash = match hash {
        Some(h) => h,
        None => hash_of_digest(&sha256(&bytes).await),
    };
    let loaded = match Gguf::parse(bytes.to_vec()) {
        Ok(g) => match fits(&g, bytes.len() as u64, backend).await {
            Ok(()) => Model::from_gguf(&g, &device),
            Err(why) => return Response::LoadFailed(why.named(&name)),
        },
        Err(e) => Err(e.into()),
    };
    match loaded {
        Ok(model) => {
            let c = &model.net.config;
            let info = ModelInfo {
                name,
                arch: c.arch.name().to_string(),
                n_layers: c.n_layers,
                d_model: c.d_model,
                vocab_size: c.vocab_size,
                backend,
                load_ms: now_ms() - start,
                id: ModelId { hash, n_layers: c.n_layers, d_model: c.d_model },
            };
            let loaded = Loaded { model: Rc::new(model), info: info.clone(), bytes };
            e.set_loaded(loaded);
            Response::ModelReady(info)
        }
        Err(why) => Response::LoadFailed(EngineError::Model(format!("{name}: {why}"))),
    }
}

/// Whether the backend can hold the model (from its header): the worker's 4 GiB of wasm memory
/// always, and on WebGPU the largest tensor in one buffer.
async fn fits(g: &Gguf, file_len: u64, backend: BackendKind) -> Result<(), EngineError> {
    let config = ModelConfig::from_gguf(g).map_err(|e| EngineError::Model(e.to_string()))?;
    let mut need = MemoryNeed::of(&config, g.tensors(), file_len);
    if backend == BackendKind::WebGpu {
        need.weights = 0; // on the GPU; the worker keeps the file and the CPU-side bookkeeping
        if let Some((binding, buffer)) = adapter::buffer_limits().await {
            need.check_webgpu(binding, buffer).map_err(EngineError::OutOfMemory)?;
        }
    }
    need.check_wasm().map_err(EngineError::OutOfMemory)
}

/// Switches backend and reloads the model onto it.
pub async fn set_backend(e: &Engine, kind: BackendKind) -> Response {
    if let Err(why) = backends::prefer(e, kind).await {
        return Response::LoadFailed(EngineError::Refused(why));
    }
    reload_here(e).await
}

/// Loads the model in use again, on the backend chosen now (from the bytes kept).
pub async fn reload_here(e: &Engine) -> Response {
    let Some(loaded) = e.loaded() else {
        return Response::LoadFailed(EngineError::Refused("no model is loaded yet".into()));
    };
    load_bytes(e, loaded.info.name.clone(), loaded.bytes.clone(), now_ms(), Some(loaded.info.id.hash.clone())).await
}

pub async fn predict(e: &Engine, prompt: String, k: usize) -> Response {
    let Some(model) = e.model() else {
        return Response::Error(EngineError::Refused("no model is loaded yet".into()));
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
