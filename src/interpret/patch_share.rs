//! Dividing a patching map between two workers by layers: one patches the units of layers
//! 0 … cut−1, the other those of cut … L−1 (`PatchJob::only_layers`), and the maps are joined.
//! A browser runs each worker on its own core, so the page's map takes about half the time.

use std::ops::Range;

use super::report::PatchMap;
use super::units::Unit;
use crate::model::site::Site;

/// The work of patching layer `l`'s units, in blocks run per row: its rows go through blocks
/// l + 1 … L−1, then the logits (counted as one more).
fn work(n_layers: usize, l: usize) -> usize {
    n_layers - l
}

/// The first layer of the second share: the smallest cut whose first share (layers 0 … cut−1,
/// the more work per layer) holds at least half of the work. Rows of early layers run through
/// more blocks, so the first share has fewer layers.
pub fn cut(n_layers: usize) -> usize {
    let all: usize = (0..n_layers).map(|l| work(n_layers, l)).sum();
    let mut first = 0;
    for l in 0..n_layers {
        if 2 * first >= all {
            return l;
        }
        first += work(n_layers, l);
    }
    n_layers
}

impl PatchMap {
    /// Takes `part`'s effects at `layers` (every site, position and head): `part` patched those
    /// layers (`PatchJob::only_layers`) of the same prompts. Δ of the runs stay this map's.
    pub fn take_layers(&mut self, part: &PatchMap, layers: Range<usize>) -> Result<(), String> {
        if part.shape != self.shape || part.heads.as_ref().map(|h| h.shape) != self.heads.as_ref().map(|h| h.shape) {
            return Err("the other worker's patching map has another shape".into());
        }
        for l in layers.clone() {
            for site in [Site::AttnOut, Site::MlpOut] {
                for p in 0..self.shape.positions {
                    let u = self.shape.index(Unit::at(site, l, p));
                    self.effects[u] = part.effects[u];
                }
            }
        }
        if let (Some(mine), Some(theirs)) = (&mut self.heads, &part.heads) {
            for l in layers {
                for h in 0..mine.shape.n_heads {
                    for p in 0..mine.shape.positions {
                        let i = mine.shape.index(l, h, p);
                        mine.values[i] = theirs.values[i];
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cut_halves_the_work() {
        // 30 layers: work 30, 29, …, 1 (465 in all); 30 + … + 22 = 234 is the first sum ≥ 232.5.
        assert_eq!(cut(30), 9);
        // 2 layers: work 2 and 1; the first layer alone holds 2 of 3.
        assert_eq!(cut(2), 1);
        assert_eq!(cut(1), 1);
        assert_eq!(cut(0), 0);
    }
}
