//! Activation patching with attribution in the worker, on a prompt and its corrupted twin:
//! progress after each block, Stop honoured between blocks. On the CPU backend a helper worker
//! patches a share of the layers on another core (`patch_helper`); this worker patches the rest,
//! then attributes while the helper finishes, and patches the helper's layers itself if it fails.

use std::ops::Range;
use std::rc::Rc;

use actscale::backend::BackendKind;
use actscale::compute_error::ComputeError;
use actscale::interpret::attribution::{attribute, attribute_heads};
use actscale::interpret::patch_share;
use actscale::interpret::patching::{PatchJob, PatchMap};
use actscale::interpret::report::{HeadPatchReport, PatchReport, PatchedOn};
use actscale::model::Model;
use actscale::protocol::{EngineError, Job, Request, Response};
use actscale::tasks::pair::pair;

use super::patch_helper::{HelperSlot, Outcome, PatchHelper, Share};
use super::state::Engine;
use super::training::{Running, after_ms, failure, stop_requested, yield_to_event_loop};

/// How often this worker looks at the helper's progress once its own share is done.
const POLL_MS: i32 = 20;

/// The prompts of a patching, as token ids, with the answers'.
struct Pair<'a> {
    clean: &'a [u32],
    corrupt: &'a [u32],
    from: u32,
    to: u32,
    heads: bool,
}

impl Pair<'_> {
    async fn job(&self, model: &Model, layers: Range<usize>) -> Result<PatchJob, ComputeError> {
        let job = PatchJob::new(model, self.clean, self.corrupt, self.from, self.to).await?.only_layers(layers);
        Ok(if self.heads { job.with_heads(model) } else { job })
    }

    fn request(&self, layers: Range<usize>) -> Request {
        Request::PatchLayers {
            clean: self.clean.to_vec(),
            corrupt: self.corrupt.to_vec(),
            from: self.from,
            to: self.to,
            heads: self.heads,
            layers,
        }
    }
}

/// The worker marked busy (`Running`), with its model; or why it cannot patch now.
fn busy_with_model(e: &Engine) -> Result<(Running<'_>, Rc<Model>), EngineError> {
    let running = Running::start(e).map_err(EngineError::Refused)?;
    let model = e.model().ok_or_else(|| EngineError::Refused("the model is not loaded yet".into()))?;
    Ok((running, model))
}

pub async fn patch(
    e: &Engine,
    prompt: String,
    corrupt: String,
    from: String,
    to: String,
    heads: bool,
    send: impl Fn(Response),
) -> Response {
    let (_running, model) = match busy_with_model(e) {
        Ok(x) => x,
        Err(why) => return Response::Patched(Err(why)),
    };
    let inputs = pair(&model.tokenizer, &prompt, &from, &to).and_then(|clean| {
        let bad = pair(&model.tokenizer, &corrupt, &from, &to).map_err(|why| format!("the corrupted prompt: {why}"))?;
        if bad.ids.len() != clean.ids.len() {
            return Err(format!(
                "the prompt has {} tokens and the corrupted prompt {}: patching needs the same number",
                clean.ids.len(),
                bad.ids.len()
            ));
        }
        Ok((clean, bad.ids))
    });
    let (clean, corrupt_ids) = match inputs {
        Ok(x) => x,
        Err(why) => return Response::Patched(Err(EngineError::Refused(why))),
    };
    let pair = Pair { clean: &clean.ids, corrupt: &corrupt_ids, from: clean.from, to: clean.to, heads };
    match patch_steps(e, &model, &pair, &send).await {
        Ok(Some(report)) => Response::Patched(Ok(report)),
        Ok(None) => Response::JobStopped(Job::Patch),
        Err(error) => Response::Patched(Err(failure(e, error, &send).await)),
    }
}

/// The helper's share of a patching of `n_layers` (the later layers), starting the helper first
/// if need be; None where this worker patches alone (WebGPU, one core, a one-layer model, a
/// browser without workers in workers, or a helper that is gone or still busy).
fn lend(e: &Engine, pair: &Pair<'_>, n_layers: usize) -> Option<Share> {
    let loaded = e.loaded()?;
    let cut = patch_share::cut(n_layers);
    if loaded.info.backend != BackendKind::Cpu || cut >= n_layers {
        return None;
    }
    let mut slot = e.helper.borrow_mut();
    if let HelperSlot::NotTried = *slot {
        *slot = match PatchHelper::start(&loaded) {
            Some(helper) => HelperSlot::Started(Rc::new(helper)),
            None => HelperSlot::Unavailable,
        };
    }
    match &*slot {
        HelperSlot::Started(helper) => helper.begin(pair.request(cut..n_layers), cut..n_layers),
        _ => None,
    }
}

async fn patch_steps(
    e: &Engine,
    model: &Model,
    pair: &Pair<'_>,
    send: &impl Fn(Response),
) -> Result<Option<PatchReport>, ComputeError> {
    let n_layers = model.net.config.n_layers;
    let share = lend(e, pair, n_layers);
    let mine = 0..share.as_ref().map_or(n_layers, |s| s.layers.start);
    let mut job = pair.job(model, mine).await?;
    // The helper's steps as this worker counts them, so that the total does not jump when the
    // helper first reports.
    let theirs = share.as_ref().map_or(0, |s| job.steps_of(s.layers.clone()));
    let progress = |own: (usize, usize)| {
        let helper = share.as_ref().map_or(0, |s| s.progress().0);
        send(Response::JobProgress { job: Job::Patch, done: own.0 + helper, total: own.1 + theirs });
    };
    if !run(e, model, &mut job, &progress).await? {
        if let Some(s) = &share {
            s.stop();
        }
        return Ok(None);
    }
    let (clean, corrupt) = job.runs();
    let a = attribute(model, pair.clean, pair.from, pair.to, clean, Some(corrupt)).await?;
    let h = match pair.heads {
        true => Some(attribute_heads(model, pair.clean, pair.from, pair.to, clean, Some(corrupt)).await?),
        false => None,
    };
    let mut map = job.result();
    let on = match &share {
        None => PatchedOn::OneWorker,
        Some(share) => {
            let left_here = match share.withdraw() {
                // The helper is still loading the model (its first patching, on a short prompt):
                // this worker patches the helper's layers sooner itself.
                true => Some(PatchedOn::OneWorker),
                false => match wait_for(e, share, || progress(job.progress())).await {
                    Some(Outcome::Map(part)) => {
                        map.take_layers(&part, share.layers.clone()).err().map(PatchedOn::HelperFailed)
                    }
                    Some(Outcome::Failed(why)) => Some(PatchedOn::HelperFailed(why)),
                    Some(Outcome::Stopped) | None => return Ok(None),
                },
            };
            match left_here {
                None => PatchedOn::TwoWorkers,
                Some(on) => {
                    match patch_here(e, model, pair, share.layers.clone(), &mut map, job.progress(), send).await? {
                        true => on,
                        false => return Ok(None),
                    }
                }
            }
        }
    };
    Ok(Some(PatchReport {
        shape: map.shape,
        tokens: pair.clean.iter().map(|&i| model.tokenizer.token_text(i)).collect(),
        delta_clean: map.delta_clean,
        delta_corrupt: map.delta_corrupt,
        heads: match (&map.heads, h) {
            (Some(patched), Some(h)) => Some(HeadPatchReport {
                shape: patched.shape,
                effects: patched.values.clone(),
                gradient: h.gradient,
                atp: h.atp.unwrap_or_default(),
            }),
            _ => None,
        },
        effects: map.effects,
        gradient: a.gradient,
        atp: a.atp.unwrap_or_default(),
        on,
    }))
}

/// The helper's outcome, with this worker's progress (`show`) whenever the helper's changes;
/// None when Stop came first (the helper is told to stop too).
async fn wait_for(e: &Engine, share: &Share, show: impl Fn()) -> Option<Outcome> {
    let mut shown = None;
    loop {
        if let Some(outcome) = share.outcome() {
            return Some(outcome);
        }
        if stop_requested(e) {
            share.stop();
            return None;
        }
        if shown != Some(share.progress()) {
            shown = Some(share.progress());
            show();
        }
        after_ms(POLL_MS).await;
    }
}

/// Patches `layers` into `map` here, the helper's share that it failed at or never started,
/// counting on from this worker's steps (done, steps): false when Stop came first.
async fn patch_here(
    e: &Engine,
    model: &Model,
    pair: &Pair<'_>,
    layers: Range<usize>,
    map: &mut PatchMap,
    (done_before, steps_before): (usize, usize),
    send: &impl Fn(Response),
) -> Result<bool, ComputeError> {
    let mut job = pair.job(model, layers.clone()).await?;
    let progress = |(done, total)| {
        send(Response::JobProgress { job: Job::Patch, done: done_before + done, total: steps_before + total })
    };
    if !run(e, model, &mut job, &progress).await? {
        return Ok(false);
    }
    map.take_layers(&job.result(), layers).map_err(ComputeError::from)?;
    Ok(true)
}

/// Runs `job` to its end, with its progress after each step: false when Stop came first.
async fn run(
    e: &Engine,
    model: &Model,
    job: &mut PatchJob,
    progress: &impl Fn((usize, usize)),
) -> Result<bool, ComputeError> {
    while !job.is_done() {
        if stop_requested(e) {
            return Ok(false);
        }
        job.step(model).await?;
        progress(job.progress());
        yield_to_event_loop().await;
    }
    Ok(true)
}

/// In the helper: patches `layers` of a map for the worker that started it.
pub async fn patch_layers(
    e: &Engine,
    (clean, corrupt): (Vec<u32>, Vec<u32>),
    (from, to): (u32, u32),
    heads: bool,
    layers: Range<usize>,
    send: impl Fn(Response),
) -> Response {
    let (_running, model) = match busy_with_model(e) {
        Ok(x) => x,
        Err(why) => return Response::PatchedLayers(Err(why)),
    };
    let pair = Pair { clean: &clean, corrupt: &corrupt, from, to, heads };
    let progress = |(done, total)| send(Response::JobProgress { job: Job::Patch, done, total });
    let ran = match pair.job(&model, layers).await {
        Ok(mut job) => run(e, &model, &mut job, &progress).await.map(|done| done.then(|| job.result())),
        Err(error) => Err(error),
    };
    match ran {
        Ok(Some(map)) => Response::PatchedLayers(Ok(map)),
        Ok(None) => Response::JobStopped(Job::Patch),
        Err(error) => Response::PatchedLayers(Err(failure(e, error, &send).await)),
    }
}
