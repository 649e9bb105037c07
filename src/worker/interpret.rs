//! Interpretation in the worker: which units carry the intervention in use, and keeping only its
//! top k (activation patching is `patching`). Progress after each piece, Stop honoured between
//! pieces, like training (`training::Running` marks the worker busy).

use std::rc::Rc;

use actscale::compute_error::ComputeError;
use actscale::interpret::directions::directions;
use actscale::interpret::keep_k::InterpretJob;
use actscale::interpret::report::{DirectionsReport, InterpretReport};
use actscale::interpret::units::{MapShape, keep_only, keep_rows, ranked};
use actscale::model::Model;
use actscale::protocol::{EngineError, Job, Response};
use actscale::steer::heat::heat;
use actscale::steer::hyper::Method;
use actscale::steer::prompts::Example;
use actscale::tasks::roles;

use super::state::{Engine, Learned};
use super::training::{Running, failure, stop_requested, yield_to_event_loop};

/// Rows of the batched forwards one piece of an interpretation runs (a piece is a few α-sets,
/// each 2 rows per prompt): small enough that Stop and progress come every second or so.
const ROWS_PER_PIECE: usize = 128;

/// The worker's model and ActivScalar or DynScalar intervention (units or probes to rank), or
/// why there is none.
fn ranked_method(e: &Engine) -> Result<(Rc<Model>, Rc<Learned>), EngineError> {
    let model = e.model().ok_or_else(|| EngineError::Refused("the model is not loaded yet".into()))?;
    let l = e.learned().ok_or_else(|| EngineError::Refused("nothing learned yet: train first".into()))?;
    if l.iv.method == Method::SteerVec {
        return Err(EngineError::Refused(
            "a steer-vec has no units to rank or keep: its interpretation is the ‖v‖ and cos(v, h) maps".into(),
        ));
    }
    Ok((model, l))
}

/// The first `prompts` training prompts (0 or more than there are: all of them).
fn first(l: &Learned, prompts: usize) -> &[Example] {
    let n = l.examples.len();
    &l.examples[..if prompts == 0 { n } else { prompts.min(n) }]
}

pub async fn interpret(e: &Engine, prompts: usize, send: impl Fn(Response)) -> Response {
    let _running = match Running::start(e) {
        Ok(r) => r,
        Err(why) => return Response::Interpreted(Err(EngineError::Refused(why))),
    };
    if e.learned().is_some_and(|l| l.iv.method == Method::SteerVec) {
        return Response::Directions(steer_vec_maps(e, prompts, &send).await);
    }
    let (model, l) = match ranked_method(e) {
        Ok(x) => x,
        Err(why) => return Response::Interpreted(Err(why)),
    };
    let whole = e.whole().map_or_else(|| l.params.clone(), |w| w.to_vec());
    let tokens = labels(&model, &l);
    let examples = first(&l, prompts).to_vec();
    let measured_on = examples.len();
    let prepared = match l.iv.method {
        Method::DynScalar => probe_job(&model, &l, &whole, examples).await,
        _ => {
            let shape = MapShape { n_layers: l.iv.n_layers, positions: l.iv.n_positions, heads: l.iv.n_heads };
            let job = InterpretJob::new(shape, whole.clone(), examples, tokens.clone(), 0);
            job.map(|j| (j, shape, whole.clone())).map_err(|why| EngineError::Refused(why).into())
        }
    };
    let (mut job, shape, alpha) = match prepared {
        Ok(x) => x,
        Err(JobError::Refused(why)) => return Response::Interpreted(Err(why)),
        Err(JobError::Failed(error)) => return Response::Interpreted(Err(failure(e, error, &send).await)),
    };
    let sets = (ROWS_PER_PIECE / (2 * measured_on.max(1))).max(1);
    while !job.is_done() {
        if stop_requested(e) {
            return Response::JobStopped(Job::Interpret);
        }
        if let Err(error) = job.step(&model, sets).await {
            return Response::Interpreted(Err(failure(e, error, &send).await));
        }
        let (done, total) = job.progress();
        send(Response::JobProgress { job: Job::Interpret, done, total });
        yield_to_event_loop().await;
    }
    let interpretation = job.result();
    if l.iv.method == Method::DynScalar {
        let n_layers = l.iv.n_layers;
        e.set_probe_ranks(interpretation.probes.iter().map(|p| p.site.index() * n_layers + p.layer).collect());
    }
    Response::Interpreted(Ok(InterpretReport {
        interpretation,
        shape,
        tokens,
        alpha,
        prompts: measured_on,
        training_prompts: l.examples.len(),
    }))
}

enum JobError {
    Refused(EngineError),
    Failed(ComputeError),
}

impl From<EngineError> for JobError {
    fn from(e: EngineError) -> Self {
        JobError::Refused(e)
    }
}

/// A DynScalar's probe ranking job on the whole intervention, with the map the page sets beside
/// patching: the α it produces on the first training prompt.
async fn probe_job(
    model: &Model,
    l: &Learned,
    whole: &[f32],
    examples: Vec<Example>,
) -> Result<(InterpretJob, MapShape, Vec<f32>), JobError> {
    let iv = l.iv.with_values(whole.to_vec()).map_err(EngineError::Refused)?;
    let ids = examples.first().map(|x| x.ids.clone()).unwrap_or_default();
    let alpha = heat(model, &iv, &ids).await.map_err(JobError::Failed)?;
    let job = InterpretJob::probes(model, iv, examples, 0).await.map_err(JobError::Failed)?;
    Ok((job, MapShape::sites(l.iv.n_layers, ids.len()), alpha))
}

/// A SteerVec's ‖v‖ and cos(v, h) maps on its training prompts (one forward each).
async fn steer_vec_maps(e: &Engine, prompts: usize, send: &impl Fn(Response)) -> Result<DirectionsReport, EngineError> {
    let model = e.model().ok_or_else(|| EngineError::Refused("the model is not loaded yet".into()))?;
    let l = e.learned().ok_or_else(|| EngineError::Refused("nothing learned yet: train first".into()))?;
    let tokens = labels(&model, &l);
    let shape = MapShape::sites(l.iv.n_layers, l.iv.n_positions);
    match directions(&model, &l.iv, first(&l, prompts)).await {
        Ok(directions) => Ok(DirectionsReport { directions, shape, tokens }),
        Err(error) => Err(failure(e, error, send).await),
    }
}

/// The first training prompt's tokens, labelled by role for a task.
fn labels(model: &Model, l: &Learned) -> Vec<String> {
    l.examples
        .first()
        .map(|x| roles::labelled(l.request.task, x, x.ids.iter().map(|&i| model.tokenizer.token_text(i)).collect()))
        .unwrap_or_default()
}

/// Puts only the top `k` units of the whole intervention in use (None: all of it again).
pub async fn keep_top(e: &Engine, k: Option<usize>) -> Response {
    let refuse = |why: String| Response::Error(EngineError::Refused(why));
    if e.training.get() {
        return refuse("a run is going: wait for it or press Stop".into());
    }
    let (model, l) = match ranked_method(e) {
        Ok(x) => x,
        Err(why) => return Response::Error(why),
    };
    let whole = e.whole().unwrap_or_else(|| Rc::new(l.params.clone()));
    let dyn_scalar = l.iv.method == Method::DynScalar;
    let (order, what) = match dyn_scalar {
        true => match e.probe_ranks() {
            Some(ranks) => (ranks.to_vec(), "probes that produce α"),
            None => return refuse("press Find the units first: it ranks the probes that keep-top-k keeps".into()),
        },
        false => (ranked(&whole), "units (the non-zero ones)"),
    };
    let values = match k {
        Some(k) if k == 0 || k > order.len() => {
            return refuse(format!("keep 1 to {} {what}, not {k}", order.len()));
        }
        Some(k) if dyn_scalar => keep_rows(&whole, l.iv.d_model + 1, &order[..k]),
        Some(k) => keep_only(&whole, &order[..k]),
        None => whole.to_vec(),
    };
    let iv = match l.iv.with_values(values.clone()) {
        Ok(iv) => iv,
        Err(why) => return refuse(why),
    };
    let ids = l.examples.first().map(|x| x.ids.clone()).unwrap_or_default();
    let h = match heat(&model, &iv, &ids).await {
        Ok(h) => h,
        Err(error) => return Response::Error(EngineError::Failed(error.to_string())),
    };
    let kept = Learned { iv, request: l.request.clone(), examples: l.examples.clone(), params: values };
    match k {
        Some(_) => e.set_kept(kept, whole),
        None => e.set_whole_again(kept),
    }
    Response::Kept { k, heat: h }
}
