//! Next-token predictions: last-position logits read back asynchronously (so WebGPU works),
//! and the top-k tokens with probabilities.

use super::Model;
use super::error::ModelError;
use super::hook::{Hook, NoHook};
use super::tokenizer::Tokenizer;
use super::transformer::Positions;

pub use crate::protocol::TopToken;

/// Last-position logits of one prompt, unmodified model.
pub async fn last_logits(model: &Model, ids: &[u32]) -> Result<Vec<f32>, ModelError> {
    last_logits_hooked(model, ids, &NoHook).await
}

/// Last-position logits of one prompt with `hook` applied.
pub async fn last_logits_hooked(model: &Model, ids: &[u32], hook: &dyn Hook) -> Result<Vec<f32>, ModelError> {
    let logits = model.net.forward(&[ids.to_vec()], hook, Positions::Last)?;
    crate::readback::to_vec(logits).await.map_err(|e| ModelError::Backend(e.to_string()))
}

/// The `k` most likely next tokens (softmax over all logits), best first.
pub fn top_k(logits: &[f32], k: usize, tokenizer: &Tokenizer) -> Vec<TopToken> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let log_z = max + logits.iter().map(|&l| ((l - max) as f64).exp()).sum::<f64>().ln() as f32;
    let mut order: Vec<usize> = (0..logits.len()).collect();
    let k = k.min(order.len());
    if k == 0 {
        return Vec::new();
    }
    order.select_nth_unstable_by(k - 1, |&a, &b| logits[b].total_cmp(&logits[a]));
    order.truncate(k);
    order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]));
    order
        .into_iter()
        .map(|i| TopToken {
            id: i as u32,
            token: tokenizer.token_text(i as u32),
            logit: logits[i],
            prob: (logits[i] - log_z).exp(),
        })
        .collect()
}
