//! The objective on numbers worked out by hand: two prompts, a 4-token vocabulary.

use burn::tensor::{Tensor, TensorData};
use futures_lite::future::block_on;

use super::{Baseline, Terms};
use crate::backend::cpu_device;
use crate::readback::to_vec;
use crate::steer::prompts::Batch;

fn logits(rows: &[[f32; 4]]) -> Tensor<2> {
    let flat: Vec<f32> = rows.iter().flatten().copied().collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), 4]), &cpu_device())
}

fn read(t: Tensor<2>) -> Vec<f32> {
    block_on(to_vec(t)).unwrap()
}

fn close(got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-5, "{got:?} vs {want:?}");
    }
}

#[test]
fn hinge_masked_kl_and_means_equal_the_hand_computation() {
    let ln3 = 3f32.ln();
    // Prompt 1: from = 0, to = 1; prompt 2: from = 2, to = 3.
    let batch = Batch { ids: vec![vec![7], vec![8]], from: vec![0, 2], to: vec![1, 3] };
    // Unmodified model. Prompt 1 without its answers keeps tokens {2, 3}: p₀ = (1/4, 3/4);
    // prompt 2 keeps {0, 1}: p₀ = (1/2, 1/2). Δ₀ = 2 − 1 = 1 and 1 − 1 = 0.
    let base = Baseline::from_logits(logits(&[[1.0, 2.0, 0.0, ln3], [0.0, 0.0, 1.0, 1.0]]), &batch).unwrap();
    assert_eq!(base.betas, [1.0, 1.0, -1.0, -1.0]);
    assert_eq!(base.ids2, [vec![7], vec![8], vec![7], vec![8]]);
    close(&read(base.delta0.clone()), &[1.0, 0.0, 1.0, 0.0]);

    // Steered rows, in the order of base.ids2: (p1, β=+1), (p2, β=+1), (p1, β=−1), (p2, β=−1).
    let steered = logits(&[
        [0.0, 3.0, ln3, 0.0],       // Δ = 3: hinge max(0, 2 − 3) = 0; q = (3/4, 1/4): KL = ½·ln 3
        [0.0, 0.0, 4.0, 1.0],       // Δ = −3: hinge max(0, 2 + 3) = 5; q = (½, ½) = p₀: KL = 0
        [2.0, 1.0, 5.0, 5.0 + ln3], // Δ = −1: hinge max(0, 2 − 1) = 1; q = (1/4, 3/4) = p₀: KL = 0
        [0.0, 4f32.ln(), 0.0, 3.0], // Δ = 3: hinge max(0, 2 + 3) = 5; q = (1/5, 4/5): KL = ln 1.25
    ]);
    let t = Terms::from_logits(steered, &base, 2.0, 0.5);
    close(&read(t.delta), &[3.0, -3.0, -1.0, 3.0]);
    let kl = [0.5 * ln3, 0.0, 0.0, 1.25f32.ln()];
    close(&read(t.kl), &kl);
    // Means over the 2 prompts (each prompt contributes both of its β rows).
    let eff = (0.0 + 5.0 + 1.0 + 5.0) / 2.0;
    let faith = kl.iter().sum::<f32>() / 2.0;
    close(&block_on(to_vec(t.eff)).unwrap(), &[eff]);
    close(&block_on(to_vec(t.faith)).unwrap(), &[faith]);
    close(&block_on(to_vec(t.total)).unwrap(), &[eff + 0.5 * faith]);
}

#[test]
fn the_answers_get_no_probability_in_the_faithfulness_term() {
    // Only the two answers change between p₀ and p_β: the KL must stay 0 however far they move.
    let batch = Batch { ids: vec![vec![1]], from: vec![0], to: vec![1] };
    let base = Baseline::from_logits(logits(&[[1.0, 2.0, 0.5, -0.5]]), &batch).unwrap();
    let t = Terms::from_logits(logits(&[[-30.0, 40.0, 0.5, -0.5], [25.0, -9.0, 0.5, -0.5]]), &base, 2.0, 1.0);
    close(&read(t.kl), &[0.0, 0.0]);
}

#[test]
fn a_batch_that_does_not_fit_the_logits_is_an_error() {
    let batch = Batch { ids: vec![vec![1]], from: vec![0], to: vec![9] };
    assert!(Baseline::from_logits(logits(&[[0.0; 4]]), &batch).is_err(), "answer outside the vocabulary");
    let two = Batch { ids: vec![vec![1], vec![2]], from: vec![0, 0], to: vec![1, 1] };
    assert!(Baseline::from_logits(logits(&[[0.0; 4]]), &two).is_err(), "one row for two prompts");
}
