//! The uncompressed body of a link: every field of a `SavedIntervention` in a fixed order (the
//! layout is in `permalink/mod.rs`). Reading bounds each size before it is used and leaves the
//! rest of the checking to `SavedIntervention::validate`.

use super::MAX_PARAMS;
use super::bytes::{Reader, Writer};
use super::error::PermalinkError;
use super::params;
use crate::model::id::ModelId;
use crate::model::site::Site;
use crate::steer::example::Example;
use crate::steer::hyper::{Hyper, Method, Selection};
use crate::steer::layout::{MAX_HEADS, param_count};
use crate::steer::saved::{
    FORMAT, MAX_BATCH_SIZE, MAX_D_MODEL, MAX_EXAMPLES, MAX_LAYERS, MAX_POSITIONS, MAX_TASK_BYTES, MAX_TEXT_BYTES,
    SavedIntervention, VERSION,
};

const HAS_MODEL: u8 = 1;
/// Flag bit: a varint seed follows (the hash, if any, first). Links without it open as before.
const HAS_SEED: u8 = 2;
const MAX_STEPS: usize = 100_000;

fn damaged(why: String) -> PermalinkError {
    PermalinkError::Damaged(why)
}

fn method_code(m: Method) -> u8 {
    match m {
        Method::ActivScalar => 0,
        Method::SteerVec => 1,
        Method::DynScalar => 2,
    }
}

/// Sorted, distinct values (a link stores selections as sets; `Selection::has` reads them so).
pub fn canonical(values: &[usize]) -> Vec<usize> {
    let mut v = values.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

/// The body of a valid `saved` (the caller has run `validate` and checked the parameter count).
pub fn write(saved: &SavedIntervention) -> Vec<u8> {
    let mut w = Writer::default();
    let hash = saved.model.as_ref().and_then(ModelId::hash_bytes);
    w.u8(if hash.is_some() { HAS_MODEL } else { 0 } | if saved.seed.is_some() { HAS_SEED } else { 0 });
    if let Some(h) = hash {
        w.bytes.extend_from_slice(&h);
    }
    if let Some(seed) = saved.seed {
        w.varint(seed);
    }
    w.u8(method_code(saved.method));
    w.usize(saved.n_layers);
    w.usize(saved.d_model);
    w.usize(saved.n_positions);
    // Bit i: Site::SELECTABLE[i]. Bit 2 (attn_head) is followed by the head count; links made
    // before per-head sites never have it, and read as they did.
    let sites = Site::SELECTABLE.iter().enumerate().filter(|(_, s)| saved.selection.sites.contains(s));
    w.u8(sites.map(|(i, _)| 1u8 << i).sum());
    if saved.selection.sites.contains(&Site::AttnHead) {
        w.usize(saved.n_heads);
    }
    write_set(&mut w, &saved.selection.layers);
    write_set(&mut w, &saved.selection.positions);
    let h = &saved.hyper;
    [h.margin, h.lambda_f, h.lambda_m, h.lr].into_iter().for_each(|x| w.f32(x));
    w.usize(h.steps);
    w.usize(h.batch_size);
    w.f32(saved.beta);
    w.str(&saved.task);
    w.usize(saved.examples.len());
    for e in &saved.examples {
        w.str(&e.text);
        w.varint(e.from.into());
        w.varint(e.to.into());
    }
    params::write(&mut w, &saved.params, saved.method == Method::ActivScalar);
    w.bytes
}

/// A set of indices as its size, then strictly increasing values as gaps.
fn write_set(w: &mut Writer, values: &[usize]) {
    let v = canonical(values);
    w.usize(v.len());
    let mut next = 0;
    for x in v {
        w.usize(x - next);
        next = x + 1;
    }
}

fn read_set(r: &mut Reader, below: usize, what: &str) -> Result<Vec<usize>, PermalinkError> {
    let n = r.usize_max(below, what)?;
    let mut out = Vec::with_capacity(n);
    let mut next = 0usize;
    for _ in 0..n {
        let x = next + r.usize_max(below, what)?; // both ≤ below ≤ MAX_POSITIONS
        if x >= below {
            return Err(damaged(format!("{what} {x} is out of range (below {below})")));
        }
        out.push(x);
        next = x + 1;
    }
    Ok(out)
}

pub fn read(bytes: &[u8]) -> Result<SavedIntervention, PermalinkError> {
    let mut r = Reader::new(bytes);
    let flags = r.u8()?;
    if flags & !(HAS_MODEL | HAS_SEED) != 0 {
        return Err(damaged(format!("unknown flags {flags:#04x}")));
    }
    let hash = if flags & HAS_MODEL != 0 {
        let b = r.take(8)?;
        Some([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
    } else {
        None
    };
    let seed = if flags & HAS_SEED != 0 { Some(r.varint()?) } else { None };
    let method = match r.u8()? {
        0 => Method::ActivScalar,
        1 => Method::SteerVec,
        2 => Method::DynScalar,
        m => return Err(damaged(format!("unknown method {m}"))),
    };
    let n_layers = r.usize_max(MAX_LAYERS, "the layer count")?;
    let d_model = r.usize_max(MAX_D_MODEL, "the model width")?;
    let n_positions = r.usize_max(MAX_POSITIONS, "the position count")?;
    let site_bits = r.u8()?;
    if site_bits >> Site::SELECTABLE.len() != 0 {
        return Err(damaged(format!("unknown sites {site_bits:#04x}")));
    }
    let sites: Vec<Site> =
        Site::SELECTABLE.iter().enumerate().filter(|(i, _)| site_bits >> i & 1 == 1).map(|(_, s)| *s).collect();
    let n_heads = if sites.contains(&Site::AttnHead) { r.usize_max(MAX_HEADS, "the head count")? } else { 0 };
    let layers = read_set(&mut r, n_layers, "layer")?;
    // DynScalar has no positions; its selection's positions are only bounded.
    let position_bound = if method.positional() { n_positions } else { MAX_POSITIONS };
    let positions = read_set(&mut r, position_bound, "position")?;
    let (margin, lambda_f, lambda_m, lr) = (r.f32()?, r.f32()?, r.f32()?, r.f32()?);
    let steps = r.usize_max(MAX_STEPS, "the step count")?;
    let batch_size = r.usize_max(MAX_BATCH_SIZE, "the batch size")?;
    let beta = r.f32()?;
    let task = r.str(MAX_TASK_BYTES, "the task name")?;
    let n_examples = r.usize_max(MAX_EXAMPLES, "the prompt count")?;
    let mut examples = Vec::with_capacity(n_examples);
    for _ in 0..n_examples {
        let text = r.str(MAX_TEXT_BYTES, "a prompt")?;
        let from = r.usize_max(u32::MAX as usize, "a token id")? as u32;
        let to = r.usize_max(u32::MAX as usize, "a token id")? as u32;
        examples.push(Example { text, ids: vec![], from, to });
    }
    let count = checked_count(method, n_layers, d_model, n_positions, n_heads)?;
    let params = params::read(&mut r, count)?;
    r.finish()?;
    Ok(SavedIntervention {
        format: FORMAT.into(),
        version: VERSION,
        model: hash.map(|h| ModelId::from_hash_bytes(h, n_layers, d_model)),
        method,
        selection: Selection { sites, layers, positions },
        hyper: Hyper { margin, lambda_f, lambda_m, lr, steps, batch_size },
        beta,
        n_layers,
        d_model,
        n_positions,
        n_heads,
        task,
        seed,
        examples,
        params,
    })
}

/// The shape's parameter count, if a link may carry that many.
pub fn checked_count(
    method: Method,
    n_layers: usize,
    d_model: usize,
    n_positions: usize,
    n_heads: usize,
) -> Result<usize, PermalinkError> {
    match param_count(method, n_layers, d_model, n_positions, n_heads) {
        Some(n) if n <= MAX_PARAMS => Ok(n),
        n => Err(PermalinkError::TooManyParams { params: n.unwrap_or(usize::MAX), max: MAX_PARAMS }),
    }
}
