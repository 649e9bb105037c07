//! The method of the paper: interventions at the hook sites (ActivScalar, SteerVec, DynScalar),
//! the three-term objective, a step-at-a-time trainer and the metrics.

pub mod hyper;
pub mod intervention;
pub mod metrics;
pub mod objective;
pub mod prompts;
pub mod saved;
pub mod train;
