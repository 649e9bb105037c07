//! The model file's content hash in the worker. SHA-256 compiled to wasm takes ~5 s on the
//! default model (90 MB) here; the browser's own SubtleCrypto takes a fraction of that. sha2 stays
//! as the fallback where `crypto.subtle` is missing (a page served over plain http from a
//! non-local address). Both give the same `ModelId::hash`.

use sha2::{Digest, Sha256};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// SHA-256 of `bytes` (32 bytes; `id::hash_of_digest` makes the `ModelId::hash` of it).
pub async fn sha256(bytes: &[u8]) -> Vec<u8> {
    match subtle_sha256(bytes).await {
        Some(digest) => digest,
        None => Sha256::digest(bytes).to_vec(),
    }
}

async fn subtle_sha256(bytes: &[u8]) -> Option<Vec<u8>> {
    let scope: web_sys::WorkerGlobalScope = js_sys::global().dyn_into().ok()?;
    if !scope.is_secure_context() {
        return None;
    }
    let promise = scope.crypto().ok()?.subtle().digest_with_str_and_u8_array("SHA-256", bytes).ok()?;
    let buffer = JsFuture::from(promise).await.ok()?;
    Some(js_sys::Uint8Array::new(&buffer).to_vec())
}
