//! The language model: GGUF reader, tokenizer and the llama forward pass with hook sites.

pub mod config;
pub mod error;
pub mod gguf;
pub mod hook;
pub mod llama;
pub mod tokenizer;
pub mod load;
pub mod predict;

pub use load::Model;
