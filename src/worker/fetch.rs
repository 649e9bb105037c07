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

/// Drops `url` from the model cache (a file that failed its check must not be served again).
pub async fn forget_cached(url: &str) {
    let scope: WorkerGlobalScope = js_sys::global().unchecked_into();
    if let Some(cache) = model_cache(&scope).await {
        let _ = JsFuture::from(cache.delete_with_str(url)).await;
    }
}

/// The origin of `url` when it differs from the site's (a download that then needs CORS).
fn other_origin(scope: &WorkerGlobalScope, url: &str) -> Option<String> {
    // self.location via Reflect: web-sys's WorkerLocation feature would rebuild wgpu's web-sys.
    let location = Reflect::get(scope, &"location".into()).ok()?;
    let here = Reflect::get(&location, &"href".into()).ok()?.as_string()?;
    let there = web_sys::Url::new_with_base(url, &here).ok()?.origin();
    (there != scope.origin()).then_some(there)
}

/// Why a request failed before any response, in words a user can act on. The browser does not
/// tell a page whether CORS or the network was at fault (both are a bare TypeError), so a
/// cross-origin failure names both.
fn unreachable(scope: &WorkerGlobalScope, url: &str, e: JsValue) -> String {
    match other_origin(scope, url) {
        Some(origin) => js_err(
            &format!(
                "cannot download {url}: {origin} did not answer or refused to share the file with this page \
                 (a model on another site must be served with the header Access-Control-Allow-Origin)"
            ),
            e,
        ),
        None => js_err(&format!("cannot download {url}: the server did not answer"), e),
    }
}

fn megabytes(n: u64) -> String {
    format!("{:.1} MB", n as f64 / 1e6)
}

/// A cached response for `url`, if the Cache API has one.
async fn cached(cache: &web_sys::Cache, url: &str) -> Option<web_sys::Response> {
    let hit = JsFuture::from(cache.match_with_str(url)).await.ok()?;
    if hit.is_undefined() || hit.is_null() { None } else { Some(hit.unchecked_into()) }
}

/// A cached response's body, read at once (`progress` once, at the end).
async fn read_whole(
    url: &str,
    response: &web_sys::Response,
    progress: &impl Fn(u64, Option<u64>),
) -> Result<Vec<u8>, String> {
    let promise = response.array_buffer().map_err(|e| js_err(&format!("reading the cached copy of {url}"), e))?;
    let buffer = JsFuture::from(promise).await.map_err(|e| js_err(&format!("reading the cached copy of {url}"), e))?;
    let bytes = Uint8Array::new(&buffer).to_vec();
    progress(bytes.len() as u64, Some(bytes.len() as u64));
    Ok(bytes)
}

/// A file's bytes, and its SHA-256 when a cached copy carries it.
pub struct Fetched {
    pub bytes: Vec<u8>,
    pub sha256: Option<Vec<u8>>,
}

/// The header of a cached copy that holds its SHA-256 (hex), computed before it was cached.
const DIGEST_HEADER: &str = "x-actscale-sha256";

fn unhex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if s.len() != 64 {
        return None;
    }
    (0..32).map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()).collect()
}

/// Keeps a checked download in the Cache API with its SHA-256, so that the next visit reads it
/// from there and need not hash it again. Best-effort and in the background: a full disk or a
/// private window must not stop anything.
pub fn keep_in_cache(url: &str, bytes: &[u8], sha256_hex: &str) {
    // Copied into JS now; the put runs after this returns.
    let body = Uint8Array::from(bytes);
    let (url, digest) = (url.to_string(), sha256_hex.to_string());
    wasm_bindgen_futures::spawn_local(async move {
        let scope: WorkerGlobalScope = js_sys::global().unchecked_into();
        let Some(cache) = model_cache(&scope).await else { return };
        // `new Response(body, { headers })` through Reflect: web-sys's ResponseInit feature
        // would rebuild wgpu's web-sys.
        let headers = js_sys::Object::new();
        let _ = Reflect::set(&headers, &DIGEST_HEADER.into(), &digest.into());
        let _ = Reflect::set(&headers, &"content-length".into(), &body.length().to_string().into());
        let init = js_sys::Object::new();
        let _ = Reflect::set(&init, &"headers".into(), &headers);
        let Ok(ctor) = Reflect::get(&scope, &"Response".into()) else { return };
        let ctor: &js_sys::Function = ctor.unchecked_ref();
        let Ok(response) = Reflect::construct(ctor, &js_sys::Array::of2(&body, &init)) else { return };
        let _ = JsFuture::from(cache.put_with_str(&url, response.unchecked_ref())).await;
    });
}

/// Fetches `url` (relative to the site) into memory; `progress(loaded, total)` after each chunk.
/// A copy in the Cache API (see [`keep_in_cache`]) is read instead of the network.
pub async fn fetch_bytes(url: &str, progress: impl Fn(u64, Option<u64>)) -> Result<Fetched, String> {
    let scope: WorkerGlobalScope = js_sys::global().unchecked_into();
    let cache = model_cache(&scope).await;
    let hit = match &cache {
        Some(c) => cached(c, url).await,
        None => None,
    };
    let response = match hit {
        // In one piece: a stream read of a cached 98 MB model took 1.6 s in ~1,500 chunks, each
        // a promise and a progress message to the page; arrayBuffer() takes ~0.1 s.
        Some(r) => {
            let sha256 = r.headers().get(DIGEST_HEADER).ok().flatten().and_then(|h| unhex(&h));
            return Ok(Fetched { bytes: read_whole(url, &r, &progress).await?, sha256 });
        }
        None => {
            let response: web_sys::Response = JsFuture::from(scope.fetch_with_str(url))
                .await
                .map_err(|e| unreachable(&scope, url, e))?
                .unchecked_into();
            if !response.ok() {
                return Err(format!("cannot download {url}: HTTP {} {}", response.status(), response.status_text()));
            }
            response
        }
    };
    let header = |name: &str| response.headers().get(name).ok().flatten();
    let total = header("content-length").and_then(|v| v.parse::<u64>().ok());
    // With a content-encoding the length counts compressed bytes, so it bounds nothing below.
    let exact_total =
        total.filter(|_| header("content-encoding").is_none_or(|e| e.trim().eq_ignore_ascii_case("identity")));
    let body = response.body().ok_or_else(|| format!("{url}: the response has no body"))?;
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    // Never trust the header for more than a hint: grow as bytes arrive.
    let mut bytes = Vec::with_capacity(total.unwrap_or(0).min(1 << 31) as usize);
    progress(0, total);
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(|e| {
            let of = total.map(|t| format!(" of {}", megabytes(t))).unwrap_or_default();
            js_err(
                &format!("the download of {url} broke off after {}{of}; try again", megabytes(bytes.len() as u64)),
                e,
            )
        })?;
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
    if let Some(t) = exact_total.filter(|&t| (bytes.len() as u64) < t) {
        return Err(format!(
            "the download of {url} ended early: {} of {} arrived; try again",
            megabytes(bytes.len() as u64),
            megabytes(t)
        ));
    }
    Ok(Fetched { bytes, sha256: None })
}
