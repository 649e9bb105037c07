//! Sharing: a permalink in the URL fragment (made and read here, applied by the worker), and
//! the full-precision JSON file. A bad link or file gives a message and changes nothing else.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use actscale::page_state::interpret_view;
use actscale::permalink::{self, PermalinkError};
use actscale::protocol::Request;
use actscale::steer::hyper::Method;
use actscale::steer::saved::SavedIntervention;

use super::file_picker::FilePicker;
use super::page::Page;
use super::state::view::ExportFor;

/// Links longer than this may be cut by chat apps and mail clients (browsers open them).
const LONG_LINK: usize = 8000;

/// The fragment of the page's address when it carries a link ("s=…"), without the '#'.
pub fn location_fragment() -> Option<String> {
    let hash = web_sys::window()?.location().hash().ok()?;
    let f = hash.trim_start_matches('#');
    f.starts_with(&format!("{}=", permalink::KEY)).then(|| f.to_string())
}

/// The page's address without its fragment: the base of new links.
fn base_url() -> String {
    let href = web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default();
    href.split('#').next().unwrap_or_default().to_string()
}

/// Opens a link's fragment now, or once the model is loaded.
pub fn open_fragment(page: Page, fragment: String) {
    page.view.pending_fragment.set_value(Some(fragment));
    if page.model_ready() {
        apply_pending(page);
    }
}

/// Decodes the waiting fragment (if any) and asks the worker to apply it.
pub fn apply_pending(page: Page) {
    let Some(fragment) = page.view.pending_fragment.try_update_value(|f| f.take()).flatten() else { return };
    let (payload, view) = interpret_view::split(&fragment);
    match permalink::decode(payload) {
        Ok(saved) => {
            let note = match view {
                Ok(view) => {
                    page.interp.pending_view.set_value(view);
                    String::new()
                }
                Err(why) => format!(" (its interpret view is left out: {why})"),
            };
            page.view.share_message.set(Some((true, format!("Opening the shared intervention…{note}"))));
            page.stop_run_for("open the shared intervention");
            page.send(Request::Apply(saved));
        }
        Err(e) => page
            .view
            .share_message
            .set(Some((false, format!("This link cannot be opened: {e}. The page keeps its current state.")))),
    }
}

/// Turns the worker's export into a link: shown, put in the address bar (so Back returns to
/// the state before) and copied to the clipboard.
pub fn make_link(page: Page, mut saved: SavedIntervention) {
    saved.beta = page.view.beta.get_untracked();
    match permalink::link(&base_url(), &saved) {
        Ok(link) => {
            let link = link + &page.interp.view().to_fragment_tail();
            if let Some(w) = web_sys::window() {
                if let Ok(h) = w.history() {
                    let _ = h.push_state_with_url(&JsValue::NULL, "", Some(&link));
                }
                let _ = w.navigator().clipboard().write_text(&link);
            }
            let note = if link.len() > LONG_LINK { " It is long: some chat apps cut long links, so “Export file” is safer." } else { "" };
            page.view.share_message.set(Some((true, format!("Link ready ({} characters) and copied.{note}", link.len()))));
            page.view.link.set(Some(link));
        }
        Err(PermalinkError::TooLarge { chars, max }) => page.view.share_message.set(Some((
            false,
            format!("This intervention is too large for a link ({chars} characters; a link holds {max}). Use “Export file” instead."),
        ))),
        Err(e) => page.view.share_message.set(Some((false, format!("No link: {e}")))),
    }
}

/// Saves the worker's export as a JSON file.
pub fn download(page: Page, mut saved: SavedIntervention) {
    saved.beta = page.view.beta.get_untracked();
    let json = match serde_json::to_string_pretty(&saved) {
        Ok(j) => j,
        Err(e) => return page.view.share_message.set(Some((false, e.to_string()))),
    };
    let saved_ok = (|| -> Result<(), JsValue> {
        let parts = js_sys::Array::of1(&JsValue::from_str(&json));
        let opts = web_sys::BlobPropertyBag::new();
        opts.set_type("application/json");
        let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts)?;
        let url = web_sys::Url::create_object_url_with_blob(&blob)?;
        let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
        let a: web_sys::HtmlAnchorElement = document.create_element("a")?.unchecked_into();
        a.set_href(&url);
        a.set_download("actscale-intervention.json");
        a.click();
        web_sys::Url::revoke_object_url(&url)
    })();
    page.view.share_message.set(Some(match saved_ok {
        Ok(()) => (true, "Saved actscale-intervention.json.".into()),
        Err(e) => (false, format!("Could not save the file: {e:?}")),
    }));
}

/// Reads an intervention file the user picked and applies it.
fn import(page: Page, file: web_sys::File) {
    spawn_local(async move {
        let text = match JsFuture::from(file.text()).await {
            Ok(t) => t.as_string().unwrap_or_default(),
            Err(e) => return page.view.share_message.set(Some((false, format!("Could not read the file: {e:?}")))),
        };
        match SavedIntervention::from_json(&text) {
            Ok(saved) => {
                page.view.share_message.set(Some((true, format!("Opening {}…", file.name()))));
                page.stop_run_for("open the imported intervention");
                page.send(Request::Apply(saved));
            }
            Err(e) => page.view.share_message.set(Some((false, format!("{}: {e}", file.name())))),
        }
    });
}

fn export(page: Page, purpose: ExportFor) {
    page.view.export_for.set_value(Some(purpose));
    page.send(Request::Export);
}

#[component]
pub fn Share(page: Page) -> impl IntoView {
    let none = move || !page.run.has_intervention.get();
    let message = move || {
        page.view.share_message.get().map(|(ok, text)| {
            view! { <p id="share-message" class=if ok { "ok" } else { "error" } role=if ok { "status" } else { "alert" }>{text}</p> }
        })
    };
    let steer_vec_note = move || {
        (page.run.settings.method.get() == Method::SteerVec)
            .then(|| view! { <p class="muted">"steer-vec has a d-vector per position: usually too large for a link — export a file."</p> })
    };
    view! {
        <section class="panel share" aria-label="Share">
            <h2>"Share"</h2>
            <div class="buttons">
                <button id="copy-link" disabled=none on:click=move |_| export(page, ExportFor::Link)>"Copy link"</button>
                <button id="export-file" disabled=none on:click=move |_| export(page, ExportFor::File)>"Export file"</button>
                <FilePicker id="import-file" label="Import file" accept=".json,application/json" on_file=Callback::new(move |f| import(page, f)) />
            </div>
            {steer_vec_note}
            {move || page.view.link.get().map(|l| view! {
                <input id="share-link" class="share-link" type="text" readonly aria-label="link to this intervention" prop:value=l />
            })}
            {message}
        </section>
    }
}
