//! The engine worker: owns burn, the backends and the model; answers `protocol::Request`s.
//! Shared by the worker binary (which registers it) and the page (which only spawns it, so
//! none of the burn code behind it is linked into the page).

// The page compiles this module only to name the worker type when spawning it; the engine
// itself (burn) is compiled into the worker binary alone.
#[cfg(feature = "engine")]
mod adapter;
#[cfg(feature = "engine")]
mod backends;
#[cfg(feature = "engine")]
mod device_lost;
#[cfg(feature = "engine")]
mod digest;
#[cfg(feature = "engine")]
mod engine;
#[cfg(feature = "engine")]
mod fetch;
#[cfg(feature = "engine")]
mod interpret;
#[cfg(feature = "engine")]
mod learned;
#[cfg(feature = "engine")]
mod patch_helper;
#[cfg(feature = "engine")]
mod patching;
#[cfg(feature = "engine")]
mod state;
#[cfg(feature = "engine")]
mod training;

use actscale::protocol::{Request, Response};
use actscale::worker_codec::JsValues;
use gloo_worker::{HandlerId, Spawnable, Worker, WorkerBridge, WorkerScope};

/// Path of the worker's loader script in `dist/` (Trunk's `data-loader-shim`), from the page
/// and from the worker (both are in `dist/`).
const WORKER_PATH: &str = "./actscale-worker_loader.js";

/// Starts an engine worker; `on_response` gets every answer it sends. The page starts one; that
/// one may start a helper (`patch_helper`).
pub fn spawn(on_response: impl Fn(Response) + 'static) -> WorkerBridge<EngineWorker> {
    EngineWorker::spawner()
        .callback(on_response)
        .encoding::<JsValues>()
        .with_loader(true)
        .as_module(false)
        .spawn(WORKER_PATH)
}

/// The worker: with the engine, everything it holds (`state::Engine`), lent to each request.
pub struct EngineWorker {
    #[cfg(feature = "engine")]
    engine: std::rc::Rc<state::Engine>,
}

/// Work finished asynchronously; its answer goes back to the page that asked.
pub struct Done(HandlerId, Response);

impl Worker for EngineWorker {
    type Message = Done;
    type Input = Request;
    type Output = Response;

    fn create(_scope: &WorkerScope<Self>) -> Self {
        #[cfg(feature = "engine")]
        patch_helper::close_on_uncaught_error();
        EngineWorker {
            #[cfg(feature = "engine")]
            engine: Default::default(),
        }
    }

    fn update(&mut self, scope: &WorkerScope<Self>, Done(id, response): Done) {
        scope.respond(id, response);
    }

    #[cfg(not(feature = "engine"))]
    fn received(&mut self, _scope: &WorkerScope<Self>, _msg: Request, _id: HandlerId) {
        // Never runs: the page only spawns the worker; the worker binary has the engine.
    }

    #[cfg(feature = "engine")]
    fn received(&mut self, scope: &WorkerScope<Self>, msg: Request, id: HandlerId) {
        let scope2 = scope.clone();
        let e = self.engine.clone();
        // A load, a backend switch or an applied intervention first stops a run in progress
        // (`training::stop_and_wait`): the page says so, and nothing learned meets another model.
        match msg {
            Request::SelfCheck => {
                scope.send_future(async move { Done(id, Response::SelfCheck(backends::self_check_report(&e).await)) })
            }
            Request::LoadModelUrl { url, sha256 } => scope.send_future(async move {
                training::stop_and_wait(&e).await;
                let progress = move |loaded, total| scope2.respond(id, Response::LoadProgress { loaded, total });
                Done(id, engine::load_from_url(&e, &url, sha256.as_deref(), progress).await)
            }),
            Request::Predict { prompt, top_k } => {
                scope.send_future(async move { Done(id, engine::predict(&e, prompt, top_k).await) })
            }
            Request::Train(req) => scope.send_future(async move {
                let send = move |r| scope2.respond(id, r);
                Done(id, training::train(&e, req, send).await)
            }),
            Request::Stop => training::stop(&e),
            Request::Steer { prompt, beta, top_k } => {
                scope.send_future(async move { Done(id, learned::steer(&e, prompt, beta, top_k).await) })
            }
            Request::LoadModelBytes { name, bytes } => scope.send_future(async move {
                training::stop_and_wait(&e).await;
                Done(id, engine::load_bytes(&e, name, std::rc::Rc::new(bytes), js_sys::Date::now(), None).await)
            }),
            // Synchronous, so that it holds before the loads that follow it start.
            Request::PreferBackend(kind) => backends::set_preferred(&e, kind),
            Request::SetBackend(kind) => scope.send_future(async move {
                training::stop_and_wait(&e).await;
                Done(id, engine::set_backend(&e, kind).await)
            }),
            Request::Sweep { request, lambdas } => scope.send_future(async move {
                let send = move |r| scope2.respond(id, r);
                Done(id, training::sweep(&e, request, lambdas, send).await)
            }),
            Request::Generate { prompt, tokens, beta } => {
                scope.send_future(async move { Done(id, learned::generate(&e, prompt, tokens, beta).await) })
            }
            Request::SetScalar { site, layer, position, value } => {
                scope.send_future(async move { Done(id, learned::set_scalar(&e, site, layer, position, value).await) })
            }
            Request::Export => scope.send_future(async move { Done(id, learned::export(&e).await) }),
            Request::Apply(saved) => scope.send_future(async move {
                training::stop_and_wait(&e).await;
                Done(id, learned::apply(&e, saved).await)
            }),
            Request::Interpret { prompts } => scope.send_future(async move {
                let send = move |r| scope2.respond(id, r);
                Done(id, interpret::interpret(&e, prompts, send).await)
            }),
            Request::KeepTop { k } => scope.send_future(async move { Done(id, interpret::keep_top(&e, k).await) }),
            Request::Patch { prompt, corrupt, from, to, heads } => scope.send_future(async move {
                let send = move |r| scope2.respond(id, r);
                Done(id, patching::patch(&e, prompt, corrupt, from, to, heads, send).await)
            }),
            Request::ServeAsHelper { channel } => patch_helper::serve(&channel),
            Request::PatchLayers { clean, corrupt, from, to, heads, layers } => scope.send_future(async move {
                let send = move |r| scope2.respond(id, r);
                Done(id, patching::patch_layers(&e, (clean, corrupt), (from, to), heads, layers, send).await)
            }),
        }
    }
}
