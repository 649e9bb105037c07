//! A second engine worker that patches a share of the layers on another core
//! (`interpret::patch_share`), so that a patching map takes about half the time. The engine's
//! wasm runs on one thread; a browser runs each worker on its own, so a second worker with its
//! own copy of the model is how patching gets a second core.
//!
//! The helper starts at the first patching on the CPU backend (on a machine with two cores or
//! more), loads the model from the bytes this worker kept, and stays for later patchings; a new
//! model or backend drops it (`Engine::set_loaded`). Its uncaught errors end it without
//! reaching this worker (`Request::ServeAsHelper`): this worker hears of them on a
//! BroadcastChannel, and patches the helper's layers itself.

use std::cell::RefCell;
use std::ops::Range;
use std::rc::{Rc, Weak};

use gloo_worker::WorkerBridge;
use js_sys::{Function, Reflect};
use wasm_bindgen::prelude::*;

use actscale::backend::BackendKind;
use actscale::interpret::report::PatchMap;
use actscale::protocol::{Job, Request, Response};

use super::state::Loaded;
use super::{EngineWorker, spawn};

/// What a share handed to the helper came to.
pub enum Outcome {
    Map(PatchMap),
    Stopped,
    /// The helper failed or refused (why): this worker patches the share's layers itself.
    Failed(String),
}

/// What the helper is doing.
enum Phase {
    /// Loading the model; a share's request waits to be sent once it is loaded.
    Loading {
        waiting: Option<Request>,
    },
    Idle,
    Working,
    /// Gone for good: it died or could not load the model.
    Gone,
}

struct Inner {
    /// The helper (set right after it starts; its answers reach `heard`).
    bridge: Option<WorkerBridge<EngineWorker>>,
    phase: Phase,
    /// The share under way: (steps done, steps) as the helper reports them.
    progress: (usize, usize),
    /// The outcome of the last share, until `Share::outcome` takes it.
    outcome: Option<Outcome>,
}

pub struct PatchHelper {
    inner: Rc<RefCell<Inner>>,
    /// The BroadcastChannel the helper's uncaught errors arrive on, and its listener.
    channel: JsValue,
    _on_death: Closure<dyn FnMut(String)>,
}

impl Drop for PatchHelper {
    fn drop(&mut self) {
        // Dropping the bridge (with `inner`) ends the worker; the channel must stop listening too.
        if let Ok(close) = Reflect::get(&self.channel, &"close".into()) {
            let _ = close.unchecked_into::<Function>().call0(&self.channel);
        }
    }
}

/// Whether a helper can help here: not in a browser that cannot start a worker from a worker
/// (or lacks BroadcastChannel), nor on one core, nor where the browser says it has under 4 GB of
/// memory for a second copy of the model.
fn supported() -> bool {
    let scope = js_sys::global();
    let has = |name: &str| Reflect::has(&scope, &name.into()).unwrap_or(false);
    let navigator = Reflect::get(&scope, &"navigator".into()).unwrap_or(JsValue::UNDEFINED);
    let number = |name: &str| Reflect::get(&navigator, &name.into()).ok().and_then(|v| v.as_f64());
    has("Worker")
        && has("BroadcastChannel")
        && !number("hardwareConcurrency").is_some_and(|n| n < 2.0)
        && !number("deviceMemory").is_some_and(|gb| gb < 4.0)
}

impl PatchHelper {
    /// Starts a helper on the CPU backend with `loaded`'s model; None where it cannot help.
    pub fn start(loaded: &Loaded) -> Option<PatchHelper> {
        if !supported() {
            return None;
        }
        let inner = Rc::new(RefCell::new(Inner {
            bridge: None,
            phase: Phase::Loading { waiting: None },
            progress: (0, 0),
            outcome: None,
        }));
        let name = format!("actscale-helper-{}", (js_sys::Math::random() * 1e15) as u64);
        let on_death = {
            let inner = Rc::downgrade(&inner);
            Closure::<dyn FnMut(String)>::new(move |why: String| {
                failed(&inner, format!("the second worker stopped: {why}"))
            })
        };
        let listen = Function::new_with_args(
            "name, onDeath",
            "const c = new BroadcastChannel(name); c.onmessage = (e) => onDeath(String(e.data)); return c;",
        );
        let channel = listen.call2(&JsValue::NULL, &name.clone().into(), on_death.as_ref()).ok()?;
        let bridge = {
            let inner = Rc::downgrade(&inner);
            spawn(move |response| heard(&inner, response))
        };
        bridge.send(Request::ServeAsHelper { channel: name });
        bridge.send(Request::PreferBackend(BackendKind::Cpu));
        bridge.send(Request::LoadModelBytes { name: loaded.info.name.clone(), bytes: loaded.bytes.to_vec() });
        inner.borrow_mut().bridge = Some(bridge);
        Some(PatchHelper { inner, channel, _on_death: on_death })
    }

    /// Hands the helper a share (a `Request::PatchLayers` of `layers`): None when it is gone or
    /// still busy with one before (a stopped one that has not ended yet).
    pub fn begin(self: &Rc<Self>, request: Request, layers: Range<usize>) -> Option<Share> {
        let mut inner = self.inner.borrow_mut();
        match &mut inner.phase {
            Phase::Loading { waiting: waiting @ None } => *waiting = Some(request),
            Phase::Idle => {
                inner.send(request);
                inner.phase = Phase::Working;
            }
            _ => return None,
        }
        inner.progress = (0, 0);
        inner.outcome = None;
        Some(Share { helper: self.clone(), layers })
    }
}

/// The engine's helper: none tried yet (or dropped with the model it had), started, or not
/// possible here (`supported`).
#[derive(Default)]
pub enum HelperSlot {
    #[default]
    NotTried,
    Started(Rc<PatchHelper>),
    Unavailable,
}

/// The global that holds, in a helper, the BroadcastChannel its death is told on.
const DEATH_CHANNEL: &str = "actscaleDeathChannel";

/// In the helper: its uncaught errors are told on the BroadcastChannel `name`
/// (`close_on_uncaught_error`).
pub fn serve(name: &str) {
    let open = Function::new_with_args("name", "return new BroadcastChannel(name);");
    if let Ok(channel) = open.call1(&JsValue::NULL, &name.into()) {
        let _ = Reflect::set(&js_sys::global(), &DEATH_CHANNEL.into(), &channel);
    }
}

/// After an uncaught error (a panic's message, a wasm trap, out of memory) the wasm instance is
/// not usable: the worker closes itself, freeing its memory, while the error still reaches the
/// page (which starts a fresh worker). A helper (`serve`) instead keeps the error from the
/// worker that started it, which would take it as its own and close; it tells that worker on
/// its channel, and closes a moment later, so that the message leaves first. Plain JS, so that
/// it runs whatever state the wasm is in; the timer is the one from before anything could
/// replace it.
pub fn close_on_uncaught_error() {
    let make = Function::new_with_args(
        "channel",
        "const later = self.setTimeout.bind(self); \
         return (e) => { \
           const c = self[channel]; \
           if (!c) { self.close(); return; } \
           e.preventDefault(); \
           try { c.postMessage(String(e.message)); } catch (_) {} \
           later(() => self.close(), 200); \
         };",
    );
    if let Ok(listener) = make.call1(&JsValue::NULL, &DEATH_CHANNEL.into()) {
        let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
        let _ = scope.add_event_listener_with_callback("error", listener.unchecked_ref());
    }
}

/// A share of a patching map that the helper runs.
pub struct Share {
    helper: Rc<PatchHelper>,
    pub layers: Range<usize>,
}

impl Share {
    /// (steps done, steps) as the helper last reported them.
    pub fn progress(&self) -> (usize, usize) {
        self.helper.inner.borrow().progress
    }

    /// The share's outcome once it has one.
    pub fn outcome(&self) -> Option<Outcome> {
        self.helper.inner.borrow_mut().outcome.take()
    }

    /// Takes the share back if the helper has not started it (it is still loading the model):
    /// true if it did, and the helper never runs it.
    pub fn withdraw(&self) -> bool {
        match &mut self.helper.inner.borrow_mut().phase {
            Phase::Loading { waiting } => waiting.take().is_some(),
            _ => false,
        }
    }

    /// Stop was pressed: the helper stops before its next step (or never starts the share).
    pub fn stop(&self) {
        if !self.withdraw() {
            let inner = self.helper.inner.borrow();
            if let Phase::Working = inner.phase {
                inner.send(Request::Stop);
            }
        }
    }
}

impl Inner {
    fn send(&self, request: Request) {
        if let Some(bridge) = &self.bridge {
            bridge.send(request);
        }
    }
}

/// The helper is gone: a share it had fails with `why`.
fn failed(inner: &Weak<RefCell<Inner>>, why: String) {
    let Some(inner) = inner.upgrade() else { return };
    let mut inner = inner.borrow_mut();
    if matches!(inner.phase, Phase::Working | Phase::Loading { waiting: Some(_) }) {
        inner.outcome = Some(Outcome::Failed(why));
    }
    inner.phase = Phase::Gone;
}

/// An answer from the helper.
fn heard(inner: &Weak<RefCell<Inner>>, response: Response) {
    let Some(strong) = inner.upgrade() else { return };
    let mut me = strong.borrow_mut();
    match response {
        Response::ModelReady(_) => {
            if let Phase::Loading { waiting } = &mut me.phase {
                me.phase = match waiting.take() {
                    Some(request) => {
                        me.send(request);
                        Phase::Working
                    }
                    None => Phase::Idle,
                };
            }
        }
        Response::LoadFailed(why) => {
            drop(me);
            failed(inner, format!("the second worker could not load the model: {why}"));
        }
        Response::JobProgress { job: Job::Patch, done, total } => me.progress = (done, total),
        Response::PatchedLayers(result) => {
            me.outcome = Some(match result {
                Ok(map) => Outcome::Map(map),
                Err(why) => Outcome::Failed(format!("the second worker: {why}")),
            });
            me.phase = Phase::Idle;
        }
        Response::JobStopped(Job::Patch) => {
            me.outcome = Some(Outcome::Stopped);
            me.phase = Phase::Idle;
        }
        _ => {}
    }
}
