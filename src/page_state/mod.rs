//! The page's state machines that hold no web code, so that their transitions are tested
//! natively: getting the engine back after it dies or loses WebGPU, and the model's source.
//! The page (`src/app`) holds them in its signals.

pub mod interpret_view;
pub mod model_sources;
pub mod recovery;
