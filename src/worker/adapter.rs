//! What kind of WebGPU adapter this browser gives: a software renderer (SwiftShader, llvmpipe,
//! WARP…) runs this model far slower than burn's CPU backend (87 s vs ~2 s to load the default
//! model here), so the engine must know before it picks a default.

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Names that software WebGPU/Vulkan/D3D renderers report in `GPUAdapterInfo`.
const SOFTWARE_RENDERERS: [&str; 5] = ["swiftshader", "llvmpipe", "lavapipe", "softpipe", "basic render"];

/// `Some(name)` when the browser's default adapter is a software renderer; `None` for a
/// hardware adapter, or when there is no adapter at all (burn's own init says why then).
pub async fn software_renderer() -> Option<String> {
    let info = adapter_info().await?;
    let text = |key: &str| Reflect::get(&info, &key.into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
    let fallback = Reflect::get(&info, &"isFallbackAdapter".into()).ok().and_then(|v| v.as_bool()) == Some(true);
    let fields = [text("architecture"), text("description"), text("device"), text("vendor")];
    let named = fields.iter().find(|f| {
        let f = f.to_lowercase();
        SOFTWARE_RENDERERS.iter().any(|s| f.contains(s))
    });
    match (named, fallback) {
        (Some(name), _) => Some(name.clone()),
        (None, true) => Some("a fallback adapter".into()),
        (None, false) => None,
    }
}

/// The adapter's (maxStorageBufferBindingSize, maxBufferSize): cubecl asks for the adapter's
/// own limits when it creates the device, so these bound one tensor's buffer.
pub async fn buffer_limits() -> Option<(u64, u64)> {
    let limits = Reflect::get(&adapter().await?, &"limits".into()).ok()?;
    let limit = |key: &str| Reflect::get(&limits, &key.into()).ok().and_then(|v| v.as_f64()).map(|v| v as u64);
    Some((limit("maxStorageBufferBindingSize")?, limit("maxBufferSize")?))
}

/// `navigator.gpu.requestAdapter()`'s `info`.
async fn adapter_info() -> Option<JsValue> {
    Reflect::get(&adapter().await?, &"info".into()).ok().filter(|i| !i.is_undefined())
}

/// `navigator.gpu.requestAdapter()`, through plain JS reflection (the WebGPU bindings of
/// web-sys are unstable API).
async fn adapter() -> Option<JsValue> {
    let navigator = Reflect::get(&js_sys::global(), &"navigator".into()).ok()?;
    let gpu = Reflect::get(&navigator, &"gpu".into()).ok().filter(|g| !g.is_undefined() && !g.is_null())?;
    let request: Function = Reflect::get(&gpu, &"requestAdapter".into()).ok()?.dyn_into().ok()?;
    let promise: Promise = request.call0(&gpu).ok()?.dyn_into().ok()?;
    JsFuture::from(promise).await.ok().filter(|a| !a.is_null() && !a.is_undefined())
}
