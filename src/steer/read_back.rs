//! A training step's one read-back, by name: `Trainer::step` concatenates the loss, every
//! batch's statistics and the updated parameters into one tensor and reads it in one transfer
//! (on WebGPU every read is a GPU round trip); [`ReadBackLayout`] says where each value sits.

use std::ops::Range;

/// Where each value sits in a step's one read-back: the loss at [`LOSS_AT`], then for each
/// batch its L_eff, L_faith, Δ(β=+1) for its B prompts and Δ(β=−1) for them, then the updated
/// parameters to the end.
pub struct ReadBackLayout {
    batches: Vec<BatchSlots>,
    params_from: usize,
}

const LOSS_AT: usize = 0;

/// One batch's places in the read-back, and its weight in the loss.
struct BatchSlots {
    weight: f32,
    eff_at: usize,
    faith_at: usize,
    delta_pos: Range<usize>,
    delta_neg: Range<usize>,
}

/// A step's values as read back, summed over its prompts.
pub struct StepValues {
    pub loss: f32,
    pub eff: f32,
    pub faith: f32,
    pub prompts: usize,
    pub delta_pos_sum: f32,
    pub delta_neg_sum: f32,
    pub flips: usize,
    pub worst_pos: f32,
    pub worst_neg: f32,
    pub params: Vec<f32>,
}

impl ReadBackLayout {
    /// The layout for batches of (weight, prompts), in the order `Trainer::objective` concatenates.
    pub fn new(batches: &[(f32, usize)]) -> ReadBackLayout {
        let mut at = LOSS_AT + 1;
        let batches = batches
            .iter()
            .map(|&(weight, b)| {
                let slots = BatchSlots {
                    weight,
                    eff_at: at,
                    faith_at: at + 1,
                    delta_pos: at + 2..at + 2 + b,
                    delta_neg: at + 2 + b..at + 2 + 2 * b,
                };
                at += 2 + 2 * b;
                slots
            })
            .collect();
        ReadBackLayout { batches, params_from: at }
    }

    pub fn read(&self, values: &[f32]) -> StepValues {
        let mut v = StepValues {
            loss: values[LOSS_AT],
            eff: 0.0,
            faith: 0.0,
            prompts: 0,
            delta_pos_sum: 0.0,
            delta_neg_sum: 0.0,
            flips: 0,
            worst_pos: f32::INFINITY,
            worst_neg: f32::NEG_INFINITY,
            // The soft threshold leaves a pruned negative α at −0; `+ 0.0` makes it +0, as every
            // other way back to these parameters (a link, a file, an engine restart) has it.
            params: values[self.params_from..].iter().map(|p| p + 0.0).collect(),
        };
        for batch in &self.batches {
            v.eff += batch.weight * values[batch.eff_at];
            v.faith += batch.weight * values[batch.faith_at];
            for (&pos, &neg) in values[batch.delta_pos.clone()].iter().zip(&values[batch.delta_neg.clone()]) {
                v.prompts += 1;
                v.delta_pos_sum += pos;
                v.delta_neg_sum += neg;
                v.flips += usize::from(pos > 0.0 && neg < 0.0);
                v.worst_pos = v.worst_pos.min(pos);
                v.worst_neg = v.worst_neg.max(neg);
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two batches of 2 and 1 prompts: every value lands where the layout says.
    #[test]
    fn the_layout_reads_each_batch_and_the_parameters_by_name() {
        let layout = ReadBackLayout::new(&[(2.0 / 3.0, 2), (1.0 / 3.0, 1)]);
        #[rustfmt::skip]
        let values = [
            9.0,                              // loss
            3.0, 0.5, 2.5, -1.0, -3.0, -0.5,  // batch 1: eff, faith, Δ+ × 2, Δ− × 2
            6.0, 2.0, 1.5, 0.25,              // batch 2: eff, faith, Δ+, Δ−
            0.1, -0.0, 0.3,                   // parameters
        ];
        let v = layout.read(&values);
        assert_eq!(v.loss, 9.0);
        assert!((v.eff - (2.0 / 3.0 * 3.0 + 1.0 / 3.0 * 6.0)).abs() < 1e-6);
        assert!((v.faith - (2.0 / 3.0 * 0.5 + 1.0 / 3.0 * 2.0)).abs() < 1e-6);
        assert_eq!(v.prompts, 3);
        assert_eq!((v.delta_pos_sum, v.delta_neg_sum), (2.5 - 1.0 + 1.5, -3.0 - 0.5 + 0.25));
        // Flipped both ways: the first prompt only (the second has Δ+ < 0, the third Δ− > 0).
        assert_eq!(v.flips, 1);
        assert_eq!((v.worst_pos, v.worst_neg), (-1.0, 0.25));
        assert_eq!(v.params, vec![0.1, 0.0, 0.3]);
        assert!(v.params[1].is_sign_positive(), "−0 reads back as +0");
    }
}
