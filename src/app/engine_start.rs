//! Starting the engine worker, at page open and after it died: which backend, the self-check,
//! and which model (the one in use before, `?model=`, or the build's default).

use leptos::prelude::*;

use actscale::backend::BackendKind;
use actscale::protocol::{DEFAULT_MODEL_SHA256, DEFAULT_MODEL_URL, Request};

use super::engine_link::EngineLink;
use super::page::Page;
use super::state::engine::ModelSource;
use super::{model_loader, responses};

/// A parameter of the page's address (`?name=value`), decoded; None when absent or empty.
fn query_param(name: &str) -> Option<String> {
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    let prefix = format!("{name}=");
    search
        .trim_start_matches('?')
        .split('&')
        .find_map(|kv| kv.strip_prefix(prefix.as_str()))
        .and_then(|v| js_sys::decode_uri_component(v).ok())
        .map(String::from)
        .filter(|v| !v.is_empty())
}

/// The content of `<meta name="…" content="…">` in the page, if present and not empty.
fn meta(name: &str) -> Option<String> {
    let doc = web_sys::window()?.document()?;
    let el = doc.query_selector(&format!("meta[name=\"{name}\"]")).ok()??;
    el.get_attribute("content").filter(|v| !v.trim().is_empty())
}

/// The model to load: `?model=URL` in the page's address (any file, no hash to check), else the
/// build's default model with its SHA-256 (`scripts/site-config.sh` sets both in index.html).
fn model_to_load() -> ModelSource {
    match query_param("model") {
        Some(url) => ModelSource::Url { url, sha256: None },
        None => ModelSource::Url {
            url: meta("actscale-model-url").unwrap_or_else(|| DEFAULT_MODEL_URL.into()),
            sha256: Some(meta("actscale-model-sha256").unwrap_or_else(|| DEFAULT_MODEL_SHA256.into())),
        },
    }
}

/// Starts the engine worker (at page open, and after the worker died): the backend (`backend`,
/// else the one in use before, else `?backend=`), the self-check, then the model (the one in
/// use before, else the page's default). A worker started before is dropped: its late answers
/// go nowhere.
pub fn start_engine(page: Page, backend: Option<BackendKind>) {
    let backend = backend.or_else(|| page.engine.ready_info.get_value().map(|i| i.backend)).or_else(backend_param);
    page.engine.ready_info.set_value(None);
    page.connect(EngineLink::spawn(move |response| responses::handle(page, response)));
    if let Some(kind) = backend {
        page.send(Request::PreferBackend(kind));
    }
    page.send(Request::SelfCheck);
    let source = page.engine.sources.with_value(|s| s.in_use().cloned()).unwrap_or_else(model_to_load);
    model_loader::load(page, source);
}

/// `?backend=cpu` or `?backend=webgpu`: the backend to use instead of the engine's choice.
fn backend_param() -> Option<BackendKind> {
    query_param("backend").and_then(|v| BackendKind::parse(&v))
}
