//! One training prompt with its two answers (burn-free: saved interventions and links carry it).

use serde::{Deserialize, Serialize};

/// One prompt: y_from is what the model prefers, y_to where β = +1 should steer it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Example {
    pub text: String,
    /// The prompt's token ids (links leave them out: the worker tokenises `text` again).
    pub ids: Vec<u32>,
    pub from: u32,
    pub to: u32,
}
