//! Prompt sets with two answers each: a single pair, country–capital conflicts (CCC), and
//! indirect object identification (IOI), with a seeded train/test split.

pub mod ccc;
pub mod ioi;
pub mod pair;
pub mod roles;
pub mod split;

use crate::model::tokenizer::Tokenizer;
use crate::protocol::TaskChoice;
use crate::steer::hyper::Method;
use crate::steer::prompts::Example;

/// Share of a task's prompts held out for testing (the page and the CLI default).
pub const TEST_SHARE: f32 = 0.3;
/// IOI prompts the page makes from one template.
pub const IOI_PER_TEMPLATE: usize = 24;

/// (train, test) prompts of a task; a pair has no test prompts.
pub fn build(
    tokenizer: &Tokenizer,
    task: TaskChoice,
    prompt: &str,
    from: &str,
    to: &str,
    seed: u64,
) -> Result<(Vec<Example>, Vec<Example>), String> {
    match task {
        TaskChoice::Pair => Ok((vec![pair::pair(tokenizer, prompt, from, to)?], vec![])),
        TaskChoice::Ccc => ccc::ccc(tokenizer, seed, TEST_SHARE),
        TaskChoice::Ioi => ioi::ioi(tokenizer, &[0], IOI_PER_TEMPLATE, seed, TEST_SHARE),
        TaskChoice::IoiMixed => ioi::mixed(tokenizer, IOI_PER_TEMPLATE, seed),
    }
}

/// A positional method learns one parameter per position of its training prompts, so it cannot
/// be tested on prompts of another length: refused before training, not after it.
pub fn check_lengths(method: Method, train: &[Example], test: &[Example]) -> Result<(), String> {
    let Some(n) = train.first().map(|x| x.ids.len()) else { return Ok(()) };
    match test.iter().find(|x| x.ids.len() != n) {
        Some(x) if method.positional() => Err(format!(
            "{} needs prompts of one length (a parameter per position): the training prompts have {n} tokens, the test prompts {}; dyn-scalar handles mixed lengths",
            method.name(),
            x.ids.len()
        )),
        _ => Ok(()),
    }
}

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
