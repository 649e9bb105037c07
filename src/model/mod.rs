//! The language model: GGUF reader, tokenizer and the transformer forward pass (llama, qwen2,
//! gpt2, gptneox) with hook sites.
//! Only `site` and `id` are built without the `engine` feature.

pub mod id;
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
pub mod kernels;
#[cfg(feature = "engine")]
pub mod layers;
#[cfg(feature = "engine")]
pub mod load;
#[cfg(feature = "engine")]
pub mod memory;
#[cfg(feature = "engine")]
pub mod predict;
#[cfg(feature = "engine")]
pub mod pretokenizer;
#[cfg(feature = "engine")]
pub mod rope;
#[cfg(feature = "engine")]
pub mod tokenizer;
#[cfg(feature = "engine")]
pub mod transformer;
#[cfg(feature = "engine")]
pub mod weights;

#[cfg(feature = "engine")]
pub use load::Model;
