//! The language model: GGUF reader, tokenizer and the llama forward pass with hook sites.
//! Only `site` is built without the `engine` feature.

pub mod site;

#[cfg(feature = "engine")]
pub mod config;
#[cfg(feature = "engine")]
pub mod error;
#[cfg(feature = "engine")]
pub mod gguf;
#[cfg(feature = "engine")]
pub mod hook;
#[cfg(feature = "engine")]
pub mod llama;
#[cfg(feature = "engine")]
pub mod load;
#[cfg(feature = "engine")]
pub mod predict;
#[cfg(feature = "engine")]
pub mod tokenizer;

#[cfg(feature = "engine")]
pub use load::Model;
