//! Permalinks: a `SavedIntervention` in the fragment of a URL (`…/#s=<payload>`), so a learned
//! intervention can be shared as a link. Burn-free and web-free: the page, the CLI and the
//! tests call the same functions.
//!
//! payload = base64url without padding of
//!   u8 FORMAT_VERSION, then raw deflate of the body:
//!   u8 flags (bit 0: a model hash follows, bit 1: a seed follows)
//!   [8 bytes: first 8 bytes of the GGUF's SHA-256]   [varint seed: it drew a task's prompts]
//!   u8 method (0 activ-scalar, 1 steer-vec, 2 dyn-scalar)
//!   varint n_layers, varint d_model, varint n_positions   (also the model id's sizes)
//!   u8 sites (bit i = Site::SELECTABLE[i]: attn_out, mlp_out, attn_head)
//!   [varint n_heads: only with attn_head; links made before per-head sites never have it]
//!   varint n, n × varint gap    selection layers    (sorted, distinct: x = previous + 1 + gap)
//!   varint n, n × varint gap    selection positions
//!   f32 margin, f32 λF, f32 λM, f32 lr, varint steps, varint batch_size
//!   f32 beta
//!   varint len, UTF-8 task
//!   varint n, n × (varint len, UTF-8 text, varint from, varint to)   examples (no token ids)
//!   params (see `params`): varint count, then dense f16 or sparse (gap, f16) pairs
//! Varints are LEB128; f32 and f16 little-endian. Nothing may follow the params.
//!
//! What a link restores is `quantised(x)`: parameters rounded to f16, ActivScalar's then to an
//! int8 grid with a power-of-two step (≤ 1/64 of its largest |α|); exact zeros (the units the
//! proximal step switched off) stored sparsely, which keeps links short; selections as sorted
//! sets; example token ids left out (the worker tokenises again).

mod body;
mod bytes;
mod error;
mod params;
mod wire;

pub use error::PermalinkError;

use crate::model::site::Site;
use crate::steer::hyper::Method;
use crate::steer::saved::{FORMAT, SavedIntervention, VERSION};

/// The fragment key: links end in `#s=<payload>`.
pub const KEY: &str = "s";
/// Version of the binary layout above (the first byte of every payload).
pub const FORMAT_VERSION: u8 = 1;
/// Longest payload encoded or decoded. A dense DynScalar on the default model (34,620 f16
/// parameters that deflate cannot shrink) is ~84K characters; Chromium and Firefox open URLs of
/// megabytes. Chat apps may cut long links, so the page says when a link is long.
pub const MAX_LINK_CHARS: usize = 128 * 1024;
/// Most parameters a link may carry (SteerVec on a 10-token prompt of the default model has 345,600).
/// With it, every valid body is below `MAX_INFLATED`.
pub const MAX_PARAMS: usize = 1 << 20;
/// Bound on the inflated body, so a small hostile payload cannot expand without limit.
pub const MAX_INFLATED: usize = 4 << 20;

/// The payload of `saved`'s link (what follows `#s=`).
pub fn encode(saved: &SavedIntervention) -> Result<String, PermalinkError> {
    saved.validate().map_err(PermalinkError::Invalid)?;
    body::checked_count(saved.method, saved.n_layers, saved.d_model, saved.n_positions, saved.n_heads)?;
    let raw = body::write(&SavedIntervention { params: link_params(saved), ..saved.clone() });
    debug_assert!(raw.len() <= MAX_INFLATED, "bounded by MAX_PARAMS and the text limits");
    let payload = wire::pack(&raw);
    if payload.len() > MAX_LINK_CHARS {
        return Err(PermalinkError::TooLarge { chars: payload.len(), max: MAX_LINK_CHARS });
    }
    Ok(payload)
}

/// `s=<payload>`: the URL fragment without its `#`.
pub fn fragment(saved: &SavedIntervention) -> Result<String, PermalinkError> {
    Ok(format!("{KEY}={}", encode(saved)?))
}

/// `base` without any fragment it had, then `#s=<payload>`.
pub fn link(base: &str, saved: &SavedIntervention) -> Result<String, PermalinkError> {
    let base = base.split('#').next().unwrap_or(base);
    Ok(format!("{base}#{}", fragment(saved)?))
}

/// Whether `saved` can be shared as a link (else the page offers Export file).
pub fn fits(saved: &SavedIntervention) -> bool {
    encode(saved).is_ok()
}

/// The intervention in a full URL, `#s=…`, `s=…` or a bare payload. Never panics; every size is
/// bounded before it is allocated, and the result passes `SavedIntervention::validate`.
pub fn decode(link_or_fragment: &str) -> Result<SavedIntervention, PermalinkError> {
    let payload = payload_of(link_or_fragment)?;
    if payload.len() > MAX_LINK_CHARS {
        return Err(PermalinkError::TooLarge { chars: payload.len(), max: MAX_LINK_CHARS });
    }
    let raw = wire::unpack(payload)?;
    let saved = body::read(&raw)?;
    saved.validate().map_err(PermalinkError::Invalid)?;
    Ok(saved)
}

/// Where the payload is: after `s=` in the fragment (other `&`-separated keys are skipped), or
/// the whole text when it looks like a bare payload.
fn payload_of(text: &str) -> Result<&str, PermalinkError> {
    let text = text.trim();
    let (has_hash, frag) = match text.split_once('#') {
        Some((_, f)) => (true, f),
        None => (false, text),
    };
    let prefix = format!("{KEY}=");
    let found = frag.split('&').find_map(|part| part.strip_prefix(prefix.as_str()));
    let payload = match found {
        Some(p) => p,
        // An address without our fragment is not a payload; a bare payload has no '=', ':' or '/'.
        None if has_hash || frag.contains(['=', ':', '/']) => return Err(PermalinkError::NoIntervention),
        None => frag,
    };
    if payload.is_empty() {
        return Err(PermalinkError::NoIntervention);
    }
    Ok(payload)
}

/// Exactly what `decode(&encode(saved)?)` returns for a valid `saved`: parameters through f16,
/// sites in `Site::SELECTABLE` order, layers and positions sorted and distinct, no example token ids.
pub fn quantised(saved: &SavedIntervention) -> SavedIntervention {
    let mut q = saved.clone();
    q.format = FORMAT.into();
    q.version = VERSION;
    q.selection.sites = Site::SELECTABLE.into_iter().filter(|s| saved.selection.sites.contains(s)).collect();
    q.selection.layers = body::canonical(&saved.selection.layers);
    q.selection.positions = body::canonical(&saved.selection.positions);
    q.examples.iter_mut().for_each(|e| e.ids.clear());
    q.params = link_params(saved);
    q
}

/// The parameters as a link stores them: f16 (ActivScalar: then the int8 grid), so that
/// encoding a decoded link changes nothing. No cut-off: a unit the trainer kept stays non-zero
/// unless f16 or the grid rounds it to 0 (|α| below half a grid step).
fn link_params(saved: &SavedIntervention) -> Vec<f32> {
    let mut p: Vec<f32> = saved.params.iter().map(|&v| params::quantise(v)).collect();
    if saved.method == Method::ActivScalar {
        params::to_int8_grid(&mut p);
    }
    p
}
