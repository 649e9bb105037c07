//! A set of prompts with two answers each, tokenised and grouped by length for batching.

pub use super::example::Example;

/// Examples of equal length, run as one batch.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    pub ids: Vec<Vec<u32>>,
    pub from: Vec<u32>,
    pub to: Vec<u32>,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
    pub fn positions(&self) -> usize {
        self.ids.first().map_or(0, Vec::len)
    }

    /// Splits into batches of at most `size` prompts (`0`: one batch).
    pub fn chunks(&self, size: usize) -> Vec<Batch> {
        if size == 0 || size >= self.len() {
            return vec![self.clone()];
        }
        (0..self.len())
            .step_by(size)
            .map(|s| {
                let e = (s + size).min(self.len());
                Batch { ids: self.ids[s..e].to_vec(), from: self.from[s..e].to_vec(), to: self.to[s..e].to_vec() }
            })
            .collect()
    }
}

/// Groups examples into equal-length batches (in order of first appearance).
pub fn batches(examples: &[Example]) -> Vec<Batch> {
    let mut out: Vec<Batch> = Vec::new();
    for e in examples {
        match out.iter_mut().find(|b| b.positions() == e.ids.len()) {
            Some(b) => {
                b.ids.push(e.ids.clone());
                b.from.push(e.from);
                b.to.push(e.to);
            }
            None => out.push(Batch { ids: vec![e.ids.clone()], from: vec![e.from], to: vec![e.to] }),
        }
    }
    out
}
