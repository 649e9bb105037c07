//! The steering core on the model: gradients, identities, and that training flips answers.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use actscale::model::Model;
use actscale::model::hook::NoHook;
use actscale::model::llama::Positions;
use actscale::readback::to_vec;
use actscale::steer::hyper::{Hyper, Method, Selection};
use actscale::steer::intervention::Intervention;
use actscale::steer::metrics::evaluate;
use actscale::steer::objective::{Baseline, terms};
use actscale::steer::prompts::{Example, batches};
use actscale::steer::train::Trainer;
use actscale::tasks::{ioi::ioi, pair::pair};
use common::*;
use futures_lite::future::block_on;

fn rome(model: &Model) -> Example {
    pair(&model.tokenizer, "Rome is in", " Italy", " France").unwrap()
}

fn logits(model: &Model, ids: &[u32], hook: &dyn actscale::model::hook::Hook) -> Vec<f32> {
    block_on(to_vec(model.llama.forward(&[ids.to_vec()], hook, Positions::Last).unwrap())).unwrap()
}

fn wiggle(n: usize, scale: f32) -> Vec<f32> {
    (0..n).map(|i| scale * ((i as f32 * 0.7311).sin())).collect()
}

#[test]
fn zero_parameters_leave_logits_bit_for_bit_unchanged() {
    let model = two_layer_model();
    let ex = rome(model);
    let c = &model.llama.config;
    let plain = logits(model, &ex.ids, &NoHook);
    for method in Method::ALL {
        let iv = Intervention::zeros(method, Selection::default(), c.n_layers, c.d_model, ex.ids.len(), model.llama.device());
        for beta in [1.0, -1.0] {
            assert_eq!(logits(model, &ex.ids, &iv.hook(&[beta])), plain, "{method:?} β={beta}");
        }
    }
}

#[test]
fn beta_zero_is_the_identity_for_any_parameters() {
    let model = two_layer_model();
    let ex = rome(model);
    let c = &model.llama.config;
    let plain = logits(model, &ex.ids, &NoHook);
    for method in Method::ALL {
        let iv = Intervention::zeros(method, Selection::default(), c.n_layers, c.d_model, ex.ids.len(), model.llama.device());
        let [r, k] = iv.params.dims();
        let iv = iv.with_values(wiggle(r * k, 0.5)).unwrap();
        assert_eq!(logits(model, &ex.ids, &iv.hook(&[0.0])), plain, "{method:?}");
        assert_ne!(logits(model, &ex.ids, &iv.hook(&[1.0])), plain, "{method:?} at β=1 must change something");
    }
}

#[test]
fn autodiff_gradient_matches_central_finite_differences() {
    let model = two_layer_model();
    let ex = rome(model);
    let c = &model.llama.config;
    let base = Baseline::new(model, &batches(std::slice::from_ref(&ex))[0]).unwrap();
    let iv = Intervention::zeros(Method::ActivScalar, Selection::default(), c.n_layers, c.d_model, ex.ids.len(), model.llama.device());
    let [rows, cols] = iv.params.dims();
    let values = wiggle(rows * cols, 0.3);
    let mut leaf = iv.with_values(values.clone()).unwrap();
    leaf.params = leaf.params.require_grad();
    let loss = |iv: &Intervention| terms(model, iv, &base, 2.0, 1.0).unwrap().total;
    let grads = loss(&leaf).backward();
    let grad = block_on(to_vec(leaf.params.grad(&grads).unwrap())).unwrap();
    let h = 1e-2f32;
    let mut checked = 0;
    for i in 0..rows * cols {
        if grad[i].abs() < 1e-2 {
            continue; // too small to compare against f32 finite differences
        }
        let at = |delta: f32| {
            let mut v = values.clone();
            v[i] += delta;
            block_on(to_vec(loss(&iv.with_values(v).unwrap()))).unwrap()[0] as f64
        };
        let fd = ((at(h) - at(-h)) / (2.0 * h as f64)) as f32;
        let rel = (grad[i] - fd).abs() / grad[i].abs().max(fd.abs());
        assert!(rel < 1e-2, "α[{i}]: autodiff {} vs finite difference {fd} (relative error {rel})", grad[i]);
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} gradients were large enough to check");
}

#[test]
fn activ_scalar_flips_rome_is_in_both_ways_on_the_real_model() {
    let model = real_model();
    let ex = rome(model);
    let hyper = Hyper::default();
    let mut trainer = Trainer::new(model, Method::ActivScalar, Selection::default(), hyper, std::slice::from_ref(&ex)).unwrap();
    let first = block_on(trainer.step(model)).unwrap();
    assert_eq!(first.flip_rate, 0.0, "untrained: β = ±1 give the same Δ, no flip");
    while !trainer.done() {
        block_on(trainer.step(model)).unwrap();
    }
    let m = block_on(evaluate(model, &trainer.intervention(), &[ex], 2.0)).unwrap();
    eprintln!("Rome is in: {m:?}");
    assert_eq!(m.flip_rate, 1.0, "{m:?}");
    assert!(m.logit_diff_pos > 0.0 && m.logit_diff_neg < 0.0, "{m:?}");
    assert!(m.nonzero < m.params / 2, "the proximal step keeps it sparse: {m:?}");
}

#[test]
fn dyn_scalar_flips_held_out_lengths_better_than_untrained() {
    let model = two_layer_model();
    let (train, _) = ioi(&model.tokenizer, &[0, 1], 6, 7, 0.0).unwrap();
    let (test, _) = ioi(&model.tokenizer, &[3], 6, 8, 0.0).unwrap();
    assert!(test.iter().all(|t| train.iter().all(|r| r.ids.len() != t.ids.len())), "held-out length");
    let hyper = Hyper { steps: 40, lambda_m: 1.0, ..Hyper::default() };
    let untrained = {
        let c = &model.llama.config;
        Intervention::zeros(Method::DynScalar, Selection::default(), c.n_layers, c.d_model, 0, model.llama.device())
    };
    let before = block_on(evaluate(model, &untrained, &test, 2.0)).unwrap();
    let mut trainer = Trainer::new(model, Method::DynScalar, Selection::default(), hyper, &train).unwrap();
    while !trainer.done() {
        block_on(trainer.step(model)).unwrap();
    }
    let after = block_on(evaluate(model, &trainer.intervention(), &test, 2.0)).unwrap();
    eprintln!("held-out: before {before:?}\nafter {after:?}");
    assert!(after.flip_rate > before.flip_rate, "before {before:?} after {after:?}");
}

#[test]
fn answers_that_are_not_one_token_are_named_in_the_error() {
    let model = two_layer_model();
    let err = pair(&model.tokenizer, "Rome is in", " Italy", " Kyrgyzstanian").unwrap_err();
    assert!(err.contains("Kyrgyzstanian") && err.contains("tokens"), "{err}");
    assert!(pair(&model.tokenizer, "", " Italy", " France").unwrap_err().contains("empty"));
}
