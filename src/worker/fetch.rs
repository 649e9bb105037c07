//! Downloading a file inside the worker, reporting bytes as they arrive.

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStreamDefaultReader, WorkerGlobalScope};

fn js_err(context: &str, e: JsValue) -> String {
    let text = e
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"));
    format!("{context}: {text}")
}

/// The browser's cache for model files, so that a reload does not download them again.
const CACHE_NAME: &str = "actscale-models-v1";

async fn model_cache(scope: &WorkerGlobalScope) -> Option<web_sys::Cache> {
    let storage = scope.caches().ok()?;
    JsFuture::from(storage.open(CACHE_NAME)).await.ok().map(JsCast::unchecked_into)
}

/// A cached response for `url`, if the Cache API has one.
async fn cached(cache: &web_sys::Cache, url: &str) -> Option<web_sys::Response> {
    let hit = JsFuture::from(cache.match_with_str(url)).await.ok()?;
    if hit.is_undefined() || hit.is_null() { None } else { Some(hit.unchecked_into()) }
}

/// Fetches `url` (relative to the site) into memory; `progress(loaded, total)` after each chunk.
/// Successful downloads are kept in the Cache API (when the browser offers it) and read from
/// there next time.
pub async fn fetch_bytes(url: &str, progress: impl Fn(u64, Option<u64>)) -> Result<Vec<u8>, String> {
    let scope: WorkerGlobalScope = js_sys::global().unchecked_into();
    let cache = model_cache(&scope).await;
    let hit = match &cache {
        Some(c) => cached(c, url).await,
        None => None,
    };
    let response = match hit {
        Some(r) => r,
        None => {
            let response: web_sys::Response = JsFuture::from(scope.fetch_with_str(url))
                .await
                .map_err(|e| js_err(&format!("cannot download {url}"), e))?
                .unchecked_into();
            if !response.ok() {
                return Err(format!("cannot download {url}: HTTP {} {}", response.status(), response.status_text()));
            }
            // Caching is best-effort: a full disk or a private window must not stop the load.
            // It runs beside the read below, so the progress bar follows the real download.
            if let (Some(c), Ok(copy)) = (cache.clone(), response.clone()) {
                let url = url.to_string();
                wasm_bindgen_futures::spawn_local(async move {
                    let _ = JsFuture::from(c.put_with_str(&url, &copy)).await;
                });
            }
            response
        }
    };
    let total = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<u64>().ok());
    let body = response.body().ok_or_else(|| format!("{url}: the response has no body"))?;
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    // Never trust the header for more than a hint: grow as bytes arrive.
    let mut bytes = Vec::with_capacity(total.unwrap_or(0).min(1 << 31) as usize);
    progress(0, total);
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(|e| js_err("download interrupted", e))?;
        let done = Reflect::get(&chunk, &"done".into()).ok().and_then(|d| d.as_bool()).unwrap_or(true);
        if done {
            break;
        }
        let value = Reflect::get(&chunk, &"value".into()).map_err(|e| js_err("download", e))?;
        let array: Uint8Array = value.unchecked_into();
        let start = bytes.len();
        bytes.resize(start + array.length() as usize, 0);
        array.copy_to(&mut bytes[start..]);
        progress(bytes.len() as u64, total);
    }
    Ok(bytes)
}
