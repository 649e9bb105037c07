//! Loading another llama-family GGUF: from a file on disk or from a URL. The worker keeps the
//! current model until the new one has loaded; a rejected file gets the reader's message.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen_futures::JsFuture;

use actscale::protocol::Request;

use super::file_picker::FilePicker;
use super::page::Page;
use super::state::engine::{ModelSource, ModelState};

/// Asks the worker to load `source` (a run in progress is stopped first).
pub fn load(page: Page, source: ModelSource) {
    page.stop_run_for("load another model");
    page.engine.sources.update_value(|s| s.loading(source.clone()));
    match source {
        ModelSource::Url { url, sha256 } => page.send(Request::LoadModelUrl { url, sha256 }),
        ModelSource::File(file) => load_file(page, file),
    }
}

/// Reads the picked file and hands its bytes to the worker.
fn load_file(page: Page, file: web_sys::File) {
    let name = file.name();
    page.engine.model.set(ModelState::Loading { loaded: 0, total: Some(file.size() as u64) });
    spawn_local(async move {
        match JsFuture::from(file.array_buffer()).await {
            Ok(buffer) => {
                let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
                page.engine
                    .model
                    .set(ModelState::Loading { loaded: bytes.len() as u64, total: Some(bytes.len() as u64) });
                page.send(Request::LoadModelBytes { name, bytes });
            }
            Err(e) => page.engine.load_error.set(Some(format!("{name}: could not read the file ({e:?})"))),
        }
    });
}

#[component]
pub fn ModelLoader(page: Page) -> impl IntoView {
    let url = RwSignal::new(String::new());
    let load_url = move || {
        let u = url.get_untracked().trim().to_string();
        if u.is_empty() {
            page.engine.load_error.set(Some("type the URL of a .gguf file".into()));
            return;
        }
        page.engine.model.set(ModelState::Loading { loaded: 0, total: None });
        load(page, ModelSource::Url { url: u, sha256: None });
    };
    view! {
        <details class="model-loader">
            <summary>"Load another model"</summary>
            <FilePicker id="model-file" label="GGUF file…" accept=".gguf" on_file=Callback::new(move |f| load(page, ModelSource::File(f))) />
            <form class="url-row" on:submit=move |ev| { ev.prevent_default(); load_url(); }>
                <input id="model-url" type="url" placeholder="https://…/model.gguf" aria-label="model URL"
                       prop:value=move || url.get() on:input=move |ev| url.set(event_target_value(&ev)) />
                <button id="model-url-load" type="submit">"Load"</button>
            </form>
        </details>
        // Outside the details: the message shows even when the loader is folded away.
        {move || page.engine.load_error.get().map(|e| view! { <p class="error" id="model-load-error" role="alert">{e}</p> })}
    }
}
