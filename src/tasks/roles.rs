//! The roles of a task prompt's positions, so that maps over positions read as the template's
//! parts rather than as token indices:
//! - IOI ("When {A} and {B} went …, {B} gave a {O} to"): IO (the indirect object, the answer the
//!   model prefers), S1 and S2 (the subject's two mentions), END (the last token);
//! - CCC ("The capital of {country} is {other}. Q: What is the capital of {country}? A:"):
//!   COUNTRY1, CONTEXT (the conflicting capital, the answer β = +1 steers to), COUNTRY2, END.
//!
//! Found from the example's own ids: the answers are single tokens and the names are too.

use crate::model::tokenizer::Tokenizer;
use crate::protocol::TaskChoice;
use crate::steer::prompts::Example;

/// One label per position (None: no role).
pub fn roles(task: TaskChoice, e: &Example) -> Vec<Option<&'static str>> {
    let t = e.ids.len();
    let mut out = vec![None; t];
    let at = |id: u32| e.ids.iter().enumerate().filter(move |(_, x)| **x == id).map(|(i, _)| i);
    match task {
        TaskChoice::Pair => return out,
        TaskChoice::Ioi | TaskChoice::IoiMixed => {
            if let Some(io) = at(e.from).next() {
                out[io] = Some("IO");
            }
            let mut s = at(e.to);
            if let (Some(s1), Some(s2)) = (s.next(), s.next()) {
                out[s1] = Some("S1");
                out[s2] = Some("S2");
            }
        }
        TaskChoice::Ccc => {
            if let Some(context) = at(e.to).next() {
                out[context] = Some("CONTEXT");
                // "{country} is {other}": the country is two tokens before the other capital.
                if let Some(country) = context.checked_sub(2).map(|i| e.ids[i]) {
                    let mut c = at(country);
                    if let (Some(c1), Some(c2)) = (c.next(), c.next()) {
                        out[c1] = Some("COUNTRY1");
                        out[c2] = Some("COUNTRY2");
                    }
                }
            }
        }
    }
    if t > 0 {
        out[t - 1] = Some("END");
    }
    out
}

/// The task's natural corrupted prompt for `e`, with the same tokens but one: IOI repeats the
/// other name (S2 becomes the IO name), CCC asks about another country (both mentions, a
/// country that is one token too). None for a pair, or when the roles are not found.
pub fn natural_corrupt(task: TaskChoice, e: &Example, tokenizer: &Tokenizer) -> Option<String> {
    let r = roles(task, e);
    let at = |role: &str| r.iter().position(|x| *x == Some(role));
    let swap = |position: usize, new: &str| {
        let mut ids = e.ids.clone();
        ids[position] = tokenizer.token_id(new)?;
        Some(ids)
    };
    let ids = match task {
        TaskChoice::Pair => return None,
        TaskChoice::Ioi | TaskChoice::IoiMixed => {
            let io = tokenizer.token_text(e.from);
            swap(at("S2")?, &io)?
        }
        TaskChoice::Ccc => {
            let country = tokenizer.token_text(e.ids[at("COUNTRY1")?]);
            let other = super::ccc::pairs()
                .into_iter()
                .map(|(c, _)| format!(" {c}"))
                .find(|c| *c != country && tokenizer.token_id(c).is_some())?;
            let mut ids = swap(at("COUNTRY1")?, &other)?;
            ids[at("COUNTRY2")?] = ids[at("COUNTRY1")?];
            ids
        }
    };
    Some(tokenizer.decode(&ids))
}

/// Token labels with the role in front ("S2: John"), for a task's maps.
pub fn labelled(task: TaskChoice, e: &Example, tokens: Vec<String>) -> Vec<String> {
    tokens
        .into_iter()
        .zip(roles(task, e))
        .map(|(tok, role)| match role {
            Some(r) => format!("{r}:{tok}"),
            None => tok,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(ids: &[u32], from: u32, to: u32) -> Example {
        Example { text: String::new(), ids: ids.to_vec(), from, to }
    }

    #[test]
    fn ioi_roles_by_hand() {
        // When(1) Mary(10) and(2) John(20) went(3) …(4), John(20) gave(5) to(6)
        let e = example(&[1, 10, 2, 20, 3, 4, 20, 5, 6], 10, 20);
        let r = roles(TaskChoice::Ioi, &e);
        assert_eq!(r, vec![None, Some("IO"), None, Some("S1"), None, None, Some("S2"), None, Some("END")]);
    }

    #[test]
    fn ccc_roles_by_hand() {
        // The capital of France(30) is(4) Rome(40) .(5) Q … capital of France(30) ?(6) A:(7)
        let e = example(&[1, 2, 3, 30, 4, 40, 5, 8, 2, 3, 30, 6, 7], 50, 40);
        let r = roles(TaskChoice::Ccc, &e);
        assert_eq!((r[3], r[5], r[10], r[12]), (Some("COUNTRY1"), Some("CONTEXT"), Some("COUNTRY2"), Some("END")));
        assert_eq!(r.iter().filter(|x| x.is_some()).count(), 4);
        assert_eq!(roles(TaskChoice::Pair, &e), vec![None; 13], "a pair has no roles");
        assert_eq!(
            labelled(TaskChoice::Ccc, &example(&[40, 9], 1, 40), vec!["a".into(), "b".into()]),
            ["CONTEXT:a", "END:b"]
        );
    }
}
