//! The method of the paper: interventions at the hook sites (ActivScalar, SteerVec, DynScalar),
//! the three-term objective, a step-at-a-time trainer and the metrics. `hyper` (the settings)
//! is built without the `engine` feature so the page can use it.

pub mod hyper;

#[cfg(feature = "engine")]
pub mod heat;
#[cfg(feature = "engine")]
pub mod intervention;
#[cfg(feature = "engine")]
pub mod metrics;
#[cfg(feature = "engine")]
pub mod objective;
#[cfg(feature = "engine")]
pub mod prompts;
#[cfg(feature = "engine")]
pub mod saved;
#[cfg(feature = "engine")]
pub mod train;
