//! One prompt with two answers: y_from (what the model prefers) and y_to.

use crate::model::tokenizer::Tokenizer;
use crate::steer::prompts::Example;

use super::single_token;

pub use crate::steer::saved::MAX_PROMPT_TOKENS;

pub fn pair(tokenizer: &Tokenizer, prompt: &str, from: &str, to: &str) -> Result<Example, String> {
    if prompt.trim().is_empty() {
        return Err("the prompt is empty: type some text".into());
    }
    let ids = tokenizer.encode(prompt).map_err(|e| e.to_string())?;
    if ids.len() > MAX_PROMPT_TOKENS {
        return Err(format!(
            "the prompt has {} tokens; training takes at most {MAX_PROMPT_TOKENS} (a step's time and memory grow with the prompt)",
            ids.len()
        ));
    }
    let from_id = single_token(tokenizer, from)?;
    let to_id = single_token(tokenizer, to)?;
    if from_id == to_id {
        return Err(format!("the two answers are the same token {from:?}"));
    }
    Ok(Example { text: prompt.to_string(), ids, from: from_id, to: to_id })
}
