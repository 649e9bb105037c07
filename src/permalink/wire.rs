//! Body bytes ↔ link text: a format-version byte, then the body deflated (raw deflate), all as
//! base64url without padding. The version sits outside the deflate stream so that a later
//! format may change the compression and still be recognised.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use miniz_oxide::inflate::{TINFLStatus, decompress_to_vec_with_limit};

use super::error::PermalinkError;
use super::{FORMAT_VERSION, MAX_INFLATED, MAX_LINK_CHARS};

/// Deflate level (0–10); 9 is within a few bytes of 10 on link-sized bodies and faster.
const LEVEL: u8 = 9;

pub fn pack(body: &[u8]) -> String {
    let mut bytes = vec![FORMAT_VERSION];
    bytes.extend(miniz_oxide::deflate::compress_to_vec(body, LEVEL));
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The body of a payload. The caller has checked its length; inflating stops at `MAX_INFLATED`.
pub fn unpack(payload: &str) -> Result<Vec<u8>, PermalinkError> {
    debug_assert!(payload.len() <= MAX_LINK_CHARS);
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.as_bytes())
        .map_err(|_| PermalinkError::Damaged("it has characters a link of this kind cannot have".into()))?;
    let (&version, deflated) = bytes.split_first().ok_or(PermalinkError::NoIntervention)?;
    if version > FORMAT_VERSION {
        return Err(PermalinkError::NewerVersion(version));
    }
    if version != FORMAT_VERSION {
        return Err(PermalinkError::Damaged(format!("unknown format {version}")));
    }
    decompress_to_vec_with_limit(deflated, MAX_INFLATED).map_err(|e| {
        PermalinkError::Damaged(match e.status {
            TINFLStatus::HasMoreOutput => format!("it unpacks to more than {} MiB", MAX_INFLATED >> 20),
            _ => "its compressed data is corrupt".into(),
        })
    })
}
