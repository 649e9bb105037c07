//! Why a link could not be made or read, in words a user can act on.

use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub enum PermalinkError {
    /// The text has no `#s=…` (or it is empty).
    NoIntervention,
    /// The payload is longer than `MAX_LINK_CHARS`.
    TooLarge { chars: usize, max: usize },
    /// More parameters than a link may carry (`MAX_PARAMS`).
    TooManyParams { params: usize, max: usize },
    /// Not base64url, not deflate, truncated, trailing bytes, an unknown tag…
    Damaged(String),
    /// A format version this build does not know (a newer actscale made it).
    NewerVersion(u8),
    /// It decodes but describes an intervention that fails `SavedIntervention::validate`, or
    /// (when encoding) the intervention given is itself invalid.
    Invalid(String),
}

impl fmt::Display for PermalinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PermalinkError::NoIntervention => {
                write!(f, "this link carries no intervention (expected #s=… after the address)")
            }
            PermalinkError::TooLarge { chars, max } => write!(
                f,
                "this intervention is too large for a link ({chars} characters, at most {max}); use Export file instead"
            ),
            PermalinkError::TooManyParams { params, max } => write!(
                f,
                "this intervention is too large for a link ({params} parameters, at most {max}); use Export file instead"
            ),
            PermalinkError::Damaged(why) => write!(f, "this link is damaged ({why}); copy the whole link again"),
            PermalinkError::NewerVersion(v) => write!(
                f,
                "this link was made by a newer version of actscale (format {v}); open it with the version that made it"
            ),
            PermalinkError::Invalid(why) => write!(f, "this link's intervention is not valid: {why}"),
        }
    }
}

impl std::error::Error for PermalinkError {}

impl From<PermalinkError> for String {
    fn from(e: PermalinkError) -> String {
        e.to_string()
    }
}
