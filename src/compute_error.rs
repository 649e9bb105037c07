//! Why a computation on the model failed, by kind rather than by message: the device under it
//! (a read that could not be done — on WebGPU a buffer that could not be mapped, or a device that
//! was lost or that cubecl marked poisoned), or anything else (a prompt that does not fit, a loss
//! that is not finite: the message says). The worker moves to the CPU backend on the first kind
//! only, and decides that by the variant, never by searching the text.

use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub enum ComputeError {
    /// Reading from the device failed; the device's own message.
    Device(String),
    /// Anything else, said in full.
    Other(String),
}

impl fmt::Display for ComputeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ComputeError::Device(why) => write!(f, "reading a tensor from the device failed: {why}"),
            ComputeError::Other(why) => f.write_str(why),
        }
    }
}

impl From<String> for ComputeError {
    fn from(why: String) -> Self {
        ComputeError::Other(why)
    }
}

impl From<&str> for ComputeError {
    fn from(why: &str) -> Self {
        ComputeError::Other(why.to_string())
    }
}

/// Where a plain message is enough (the CLI, the page's text), the error says what it is.
impl From<ComputeError> for String {
    fn from(e: ComputeError) -> Self {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kind_survives_and_the_message_says_it() {
        let device = ComputeError::Device("the device was lost".into());
        assert_eq!(String::from(device.clone()), "reading a tensor from the device failed: the device was lost");
        let other: ComputeError = "the loss became NaN".into();
        assert_eq!(other, ComputeError::Other("the loss became NaN".into()));
        assert_eq!(other.to_string(), "the loss became NaN");
        assert!(matches!(device, ComputeError::Device(_)));
    }
}
