//! Errors of loading and running a model, as values with messages a user can act on.

use std::fmt;

use super::gguf::GgufError;
use super::tokenizer::TokenizerError;

#[derive(Debug, Clone, PartialEq)]
pub enum ModelError {
    Gguf(GgufError),
    Tokenizer(TokenizerError),
    /// A tensor's shape does not fit the architecture the metadata describes.
    BadShape {
        tensor: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    /// The metadata describes an architecture we cannot run (e.g. head dims that do not divide).
    BadConfig(String),
    /// The input to a forward pass is unusable.
    BadInput(String),
    /// The backend failed (e.g. a WebGPU read).
    Backend(String),
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelError::Gguf(e) => write!(f, "{e}"),
            ModelError::Tokenizer(e) => write!(f, "tokenizer: {e}"),
            ModelError::BadShape { tensor, expected, found } => {
                write!(f, "tensor {tensor} has shape {found:?}, but the model's metadata implies {expected:?}")
            }
            ModelError::BadConfig(why) => write!(f, "unsupported model configuration: {why}"),
            ModelError::BadInput(why) => write!(f, "{why}"),
            ModelError::Backend(why) => write!(f, "compute backend error: {why}"),
        }
    }
}

impl std::error::Error for ModelError {}

impl From<GgufError> for ModelError {
    fn from(e: GgufError) -> Self {
        ModelError::Gguf(e)
    }
}

impl From<TokenizerError> for ModelError {
    fn from(e: TokenizerError) -> Self {
        ModelError::Tokenizer(e)
    }
}
