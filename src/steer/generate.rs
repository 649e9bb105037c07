//! Greedy continuation of a prompt, with or without an intervention: the page shows both side by
//! side. No KV cache: each new token runs the whole sequence again (short continuations only).

use crate::model::Model;
use crate::model::hook::{Hook, NoHook};
use crate::model::predict::last_logits_hooked;

use super::intervention::Intervention;

/// Longest continuation the page may ask for.
pub const MAX_NEW_TOKENS: usize = 64;

/// The `n_new` greedily chosen next tokens of `ids`; `steer` applies an intervention at β
/// (positional methods act on the prompt's positions only).
pub async fn greedy(
    model: &Model,
    ids: &[u32],
    n_new: usize,
    steer: Option<(&Intervention, f32)>,
) -> Result<Vec<u32>, String> {
    if ids.is_empty() {
        return Err("the prompt is empty".into());
    }
    if let Some((iv, _)) = steer {
        let c = &model.net.config;
        iv.check_fits((c.n_layers, c.d_model, c.n_heads), ids.len())?;
    }
    let applied = steer.map(|(iv, beta)| iv.hook(&[beta]));
    let hook: &dyn Hook = match &applied {
        Some(a) => a,
        None => &NoHook,
    };
    let mut seq = ids.to_vec();
    for _ in 0..n_new.min(MAX_NEW_TOKENS) {
        let logits = last_logits_hooked(model, &seq, hook).await.map_err(|e| e.to_string())?;
        let next = logits.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i as u32);
        let Some(next) = next else { break };
        seq.push(next);
        if model.tokenizer.is_control(next) {
            break;
        }
    }
    Ok(seq.split_off(ids.len()))
}
