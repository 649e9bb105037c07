//! The steering core on the model: gradients, identities, and that training flips answers.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use actscale::model::Model;
use actscale::model::hook::NoHook;
use actscale::model::transformer::Positions;
use actscale::protocol::TaskChoice;
use actscale::readback::to_vec;
use actscale::steer::hyper::{Hyper, Method, Selection};
use actscale::steer::intervention::Intervention;
use actscale::steer::metrics::evaluate;
use actscale::steer::prompts::Example;
use actscale::steer::train::Trainer;
use actscale::tasks::{build, ioi::ioi, pair::pair};
use common::*;
use futures_lite::future::block_on;

/// Mean KL(p₀ ‖ p_β) over the vocabulary without the answers: steering may move the rest of
/// the distribution a little, not reshape it (measured: ActivScalar 0.13 / 0.06 on the real
/// model, SteerVec 0.03 on the 2-layer one, DynScalar 0.42 / 0.14; a model wrecked by the
/// intervention gives 3–9).
const KL_MAX: f32 = 1.0;
/// docs/method.md "Defaults" measured 9 of 180; room for a few scalars near the cut-off landing
/// on the other side on a CPU that rounds differently.
const NONZERO_MAX: usize = 20;

fn rome(model: &Model) -> Example {
    pair(&model.tokenizer, "Rome is in", " Italy", " France").unwrap()
}

fn logits(model: &Model, ids: &[u32], hook: &dyn actscale::model::hook::Hook) -> Vec<f32> {
    block_on(to_vec(model.net.forward(&[ids.to_vec()], hook, Positions::Last).unwrap())).unwrap()
}

fn wiggle(n: usize, scale: f32) -> Vec<f32> {
    (0..n).map(|i| scale * ((i as f32 * 0.7311).sin())).collect()
}

#[test]
fn zero_parameters_leave_logits_bit_for_bit_unchanged() {
    let model = two_layer_model();
    let ex = rome(model);
    let c = &model.net.config;
    let plain = logits(model, &ex.ids, &NoHook);
    for method in Method::ALL {
        let iv = Intervention::zeros(
            method,
            Selection::default(),
            (c.n_layers, c.d_model, c.n_heads),
            ex.ids.len(),
            model.net.device(),
        );
        for beta in [1.0, -1.0] {
            assert_eq!(logits(model, &ex.ids, &iv.hook(&[beta])), plain, "{method:?} β={beta}");
        }
    }
}

#[test]
fn beta_zero_is_the_identity_for_any_parameters() {
    let model = two_layer_model();
    let ex = rome(model);
    let c = &model.net.config;
    let plain = logits(model, &ex.ids, &NoHook);
    for method in Method::ALL {
        let iv = Intervention::zeros(
            method,
            Selection::default(),
            (c.n_layers, c.d_model, c.n_heads),
            ex.ids.len(),
            model.net.device(),
        );
        let [r, k] = iv.params.dims();
        let iv = iv.with_values(wiggle(r * k, 0.5)).unwrap();
        assert_eq!(logits(model, &ex.ids, &iv.hook(&[0.0])), plain, "{method:?}");
        assert_ne!(logits(model, &ex.ids, &iv.hook(&[1.0])), plain, "{method:?} at β=1 must change something");
    }
}

// The gradient checks of all three methods are in tests/gradient.rs (they run in f64).

fn train(model: &Model, method: Method, hyper: Hyper, train: &[Example]) -> Intervention {
    let mut trainer = Trainer::new(model, method, Selection::default(), hyper, train).unwrap();
    while !trainer.done() {
        block_on(trainer.step(model)).unwrap();
    }
    trainer.intervention()
}

/// The claim for the defaults on "Rome is in" (" Italy" → " France", 180 scalars; docs/method.md
/// "Defaults"): flips both ways with few non-zero scalars, Δ ≈ +2 / −3, small KL.
#[test]
fn activ_scalar_flips_rome_is_in_both_ways_with_few_scalars_on_the_real_model() {
    let model = real_model();
    let ex = rome(model);
    let iv = train(model, Method::ActivScalar, Hyper::default(), std::slice::from_ref(&ex));
    let m = block_on(evaluate(model, &iv, &[ex], 2.0)).unwrap();
    eprintln!("Rome is in: {m:?}");
    assert!(m.logit_diff_base < 0.0, "the unmodified model prefers \" Italy\": {m:?}");
    assert_eq!(m.params, 180);
    assert_eq!(m.flip_rate, 1.0, "{m:?}");
    // The hinge asks for |Δ| ≥ m = 2; the ℓ1 pull leaves it a little short of that.
    assert!(m.logit_diff_pos > 1.0 && m.logit_diff_neg < -1.0, "{m:?}");
    assert!(m.kl_pos < KL_MAX && m.kl_neg < KL_MAX, "faithful: {m:?}");
    assert!(m.nonzero <= NONZERO_MAX, "sparse, as docs/method.md claims (9 of 180 measured): {m:?}");
}

/// SteerVec on the 2-layer model: the vectors flip the answers both ways without wrecking the
/// rest of the distribution.
#[test]
fn steer_vec_flips_rome_is_in_both_ways_on_the_two_layer_model() {
    let model = two_layer_model();
    let ex = rome(model);
    let hyper = Hyper { steps: 40, lambda_m: 1.0, ..Hyper::default() };
    let iv = train(model, Method::SteerVec, hyper, std::slice::from_ref(&ex));
    let m = block_on(evaluate(model, &iv, &[ex], 2.0)).unwrap();
    eprintln!("SteerVec, Rome is in (2 layers): {m:?}");
    assert_eq!(m.params, 2 * 2 * 3 * 576);
    assert_eq!(m.flip_rate, 1.0, "{m:?}");
    assert!(m.logit_diff_pos > 1.0 && m.logit_diff_neg < -1.0, "{m:?}");
    assert!(m.kl_pos < KL_MAX && m.kl_neg < KL_MAX, "faithful: {m:?}");
}

/// The bar of issue 33 for DynScalar with its defaults — what `actscale train --task ioi-mixed
/// --method dyn-scalar --seed S` and the page use: trained on two IOI templates, it flips ≥ 80%
/// of the held-out template's 12 prompts (another length, other words) with mean KL ≤ 0.5.
/// docs/method.md "DynScalar across seeds" has all five seeds (83–100%). Seeds 1 and 4 flip 11
/// of 12 each; the nearest flipped prompts end at Δ +0.66 (seed 1) and +0.28 (seed 4), so one
/// prompt may fall either way with another CPU's rounding and the bar still holds.
fn dyn_scalar_defaults_meet_the_held_out_bar(seed: u64) {
    let model = real_model();
    let (train_set, test) = build(&model.tokenizer, TaskChoice::IoiMixed, "", "", "", seed).unwrap();
    assert_eq!(test.len(), 12);
    assert!(test.iter().all(|t| train_set.iter().all(|r| r.ids.len() != t.ids.len())), "held-out length");
    let hyper = Hyper::defaults(Method::DynScalar, false);
    let iv = train(model, Method::DynScalar, hyper.clone(), &train_set);
    let m = block_on(evaluate(model, &iv, &test, hyper.margin)).unwrap();
    eprintln!("DynScalar, ioi-mixed seed {seed}, held-out template: {m:?}");
    assert!(m.logit_diff_base < 0.0, "the unmodified model gets IOI right: {m:?}");
    assert!(m.flip_rate >= 0.8, "seed {seed}: {m:?}");
    assert!((m.kl_pos + m.kl_neg) / 2.0 <= 0.5, "seed {seed}: {m:?}");
}

#[test]
fn dyn_scalar_defaults_flip_the_held_out_template_on_seed_1() {
    dyn_scalar_defaults_meet_the_held_out_bar(1);
}

#[test]
fn dyn_scalar_defaults_flip_the_held_out_template_on_seed_4() {
    dyn_scalar_defaults_meet_the_held_out_bar(4);
}

#[test]
fn answers_that_are_not_one_token_are_named_in_the_error() {
    let model = two_layer_model();
    let err = pair(&model.tokenizer, "Rome is in", " Italy", " Kyrgyzstanian").unwrap_err();
    assert!(err.contains("Kyrgyzstanian") && err.contains("tokens"), "{err}");
    assert!(pair(&model.tokenizer, "", " Italy", " France").unwrap_err().contains("empty"));
}

/// Limits with their reasons: training takes 128 tokens, a forward pass reads 1,024.
#[test]
fn prompts_past_the_training_and_forward_limits_are_refused_with_the_limit() {
    let model = two_layer_model();
    let long = " word".repeat(129);
    let err = pair(&model.tokenizer, &long, " Italy", " France").unwrap_err();
    assert!(err.contains("129 tokens; training takes at most 128"), "{err}");
    assert!(pair(&model.tokenizer, &" word".repeat(128), " Italy", " France").is_ok());
    let err = pair(&model.tokenizer, "Rome is in", " Italy", " Italy").unwrap_err();
    assert!(err.contains("same token"), "{err}");
    let ids = vec![vec![1u32; 1025]];
    let err = model.net.check_batch(&ids).unwrap_err().to_string();
    assert!(err.contains("1025 tokens; at most 1024"), "{err}");
    assert!(model.net.check_batch(&[vec![1u32; 1024]]).is_ok());
}

/// Minibatch runs decay the step as lr·½(1 + cos(π·t/T)) (so that the non-zero count settles);
/// a full-batch run keeps lr.
#[test]
fn minibatch_runs_decay_the_learning_rate_on_a_cosine_and_full_batch_runs_do_not() {
    let model = two_layer_model();
    let (train_set, _) = ioi(&model.tokenizer, &[0], 8, 3, 0.0).unwrap();
    let hyper = Hyper { steps: 100, batch_size: 2, lr: 0.04, ..Hyper::default() };
    let mut t = Trainer::new(model, Method::ActivScalar, Selection::default(), hyper.clone(), &train_set).unwrap();
    for (step, expected) in [(0, 0.04), (25, 0.04 * (0.5 + 0.5 * 0.5f32.sqrt())), (50, 0.02), (100, 0.0)] {
        t.step = step;
        assert!((t.lr_now() - expected).abs() < 1e-6, "step {step}: {} vs {expected}", t.lr_now());
    }
    let mut full =
        Trainer::new(model, Method::ActivScalar, Selection::default(), Hyper { batch_size: 0, ..hyper }, &train_set)
            .unwrap();
    full.step = 50;
    assert_eq!(full.lr_now(), 0.04);
}
