//! The method of the paper: interventions at the hook sites (ActivScalar, SteerVec, DynScalar),
//! the three-term objective, a step-at-a-time trainer and the metrics. `hyper` (the settings),
//! `layout`, `example` and `saved` are built without the `engine` feature so the page can use
//! them (links, file import/export).

pub mod example;
pub mod hyper;
pub mod layout;
pub mod saved;

#[cfg(feature = "engine")]
pub mod adam;
#[cfg(feature = "engine")]
pub mod convergence;
#[cfg(feature = "engine")]
pub mod generate;
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
pub mod prox;
#[cfg(feature = "engine")]
mod read_back;
#[cfg(feature = "engine")]
mod saved_engine;
#[cfg(feature = "engine")]
pub mod train;
