//! WebGPU can fail for good under a running engine: the device lost to a driver reset, a GPU
//! that went away, a destroyed device. The run's next read fails (the buffer cannot be mapped;
//! once cubecl hears of the loss, every read says the device is poisoned). The engine moves to
//! the CPU backend: it loads the model there again from the bytes it kept and rebuilds the
//! intervention learned so far from its host copy (`learned::host_copy`, from `Learned::params`, refreshed every step).

use actscale::backend::BackendKind;
use actscale::protocol::Response;

use super::engine::reload_here;
use super::state::Engine;
use super::{backends, learned};

/// Whether the model runs on WebGPU: then a failed read (`ComputeError::Device`: a destroyed
/// device fails its buffer maps before cubecl hears it was lost, and every read after says the
/// device is poisoned) means the GPU is gone.
pub fn on_webgpu(e: &Engine) -> bool {
    e.model_info().is_some_and(|i| i.backend == BackendKind::WebGpu)
}

/// The first line of an error (cubecl's messages go on with a backtrace).
pub fn first_line(error: &str) -> &str {
    error.lines().find(|l| !l.trim().is_empty()).unwrap_or(error).trim()
}

/// Switches to the CPU (`error`: the device's message) and tells the page: `BackendLost`, the model's `ModelReady` (or
/// `LoadFailed`), then `Applied` with the intervention learned so far.
pub async fn fall_back_to_cpu(e: &Engine, error: &str, send: &impl Fn(Response)) {
    let why = first_line(error).to_string();
    let saved = learned::host_copy(e);
    backends::webgpu_lost(e, &why);
    send(Response::BackendLost(why));
    let loaded = reload_here(e).await;
    let ready = matches!(loaded, Response::ModelReady(_));
    send(loaded);
    if let (true, Some(saved)) = (ready, saved) {
        send(learned::apply(e, saved).await);
    }
}
