//! Prompt sets with two answers each: a single pair, country–capital conflicts (CCC), and
//! indirect object identification (IOI), with a seeded train/test split.

pub mod ccc;
pub mod ioi;
pub mod pair;
pub mod split;

use crate::model::tokenizer::Tokenizer;

/// The id of `answer` when it is exactly one token, else a message saying how it tokenises.
pub fn single_token(tokenizer: &Tokenizer, answer: &str) -> Result<u32, String> {
    if answer.is_empty() {
        return Err("an answer is empty: type a word (usually with a leading space, e.g. \" France\")".into());
    }
    let ids = tokenizer.encode(answer).map_err(|e| e.to_string())?;
    match ids.as_slice() {
        [id] => Ok(*id),
        _ => {
            let parts: Vec<String> = ids.iter().map(|&i| format!("{:?}", tokenizer.token_text(i))).collect();
            Err(format!(
                "the answer {answer:?} is {} tokens ({}); answers must be a single token — try a leading space or a shorter word",
                ids.len(),
                parts.join(" + ")
            ))
        }
    }
}
