//! Interpretation against independent numbers: activation patching against a numpy forward
//! (scripts/make-patching-fixtures.py), its defining properties, and the batched α-set
//! measurements against the trainer's own metrics.
#![cfg(not(target_arch = "wasm32"))]
// Native tests read tensors synchronously; the browser build may not (clippy.toml).
#![allow(clippy::disallowed_methods)]

mod common;

use std::cell::RefCell;

use actscale::interpret::capture::Activations;
use actscale::interpret::directions::directions;
use actscale::interpret::keep_k::InterpretJob;
use actscale::interpret::patch_share;
use actscale::interpret::patching::{PatchAt, PatchJob, PatchMap};
use actscale::interpret::scale_sets::{SetKind, measure};
use actscale::interpret::units::MapShape;
use actscale::model::Model;
use actscale::model::hook::{Hook, Site};
use actscale::model::transformer::Positions;
use actscale::steer::hyper::{Method, Selection};
use actscale::steer::intervention::Intervention;
use actscale::steer::metrics::evaluate;
use actscale::tasks::pair::pair;
use burn::tensor::{Tensor, TensorData};
use common::*;
use futures_lite::future::block_on;

/// Rust vs numpy on one effect. Each logit of this f32 forward is within 1e-3 of llama.cpp's
/// f32 run (tests/model_reference.rs), and the numpy f64 forward within 1e-3 of the same run
/// (the script refuses to write otherwise; it measured 3.8e-5): 2e-3 per logit between the two.
/// An effect is Δ(patched) − Δ(clean), a signed sum of four logits: 4 × 2e-3.
const EFFECT_TOL: f32 = 8e-3;

fn patch_map(model: &Model, clean: &[u32], corrupt: &[u32], from: u32, to: u32) -> PatchMap {
    let job = block_on(PatchJob::new(model, clean, corrupt, from, to)).expect("patching starts");
    run(model, job)
}

fn run(model: &Model, mut job: PatchJob) -> PatchMap {
    while !job.is_done() {
        block_on(job.step(model)).expect("a layer patches");
    }
    job.result()
}

fn worst_diff(map: &PatchMap, case: &serde_json::Value) -> f32 {
    let mut worst = (map.delta_clean - case["delta_clean"].as_f64().unwrap() as f32).abs();
    worst = worst.max((map.delta_corrupt - case["delta_corrupt"].as_f64().unwrap() as f32).abs());
    for site in Site::ALL {
        let expected = case[site.name()].as_array().unwrap();
        for (ours, theirs) in map.shape.rows(&map.effects, site).iter().zip(expected) {
            for (a, b) in ours.iter().zip(floats(theirs)) {
                worst = worst.max((a - b).abs());
            }
        }
    }
    // Per head: [layer][head][position].
    let heads = map.heads.as_ref().expect("the per-head map was asked for");
    let ours = heads.shape.nested(&heads.values);
    let theirs = case["attn_head"].as_array().expect("the fixture has per-head maps");
    assert_eq!(ours.len(), theirs.len());
    for (ours, theirs) in ours.iter().zip(theirs) {
        for (ours, theirs) in ours.iter().zip(theirs.as_array().unwrap()) {
            for (a, b) in ours.iter().zip(floats(theirs)) {
                worst = worst.max((a - b).abs());
            }
        }
    }
    worst
}

#[test]
fn patching_equals_the_numpy_reference_on_the_2_layer_and_the_real_model_per_site_and_per_head() {
    let fixture: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo_path("tests/data/patching/smollm2.json")).expect("fixture"))
            .unwrap();
    let (mut largest_effect, mut largest_head) = (0.0f32, 0.0f32);
    for case in fixture["cases"].as_array().unwrap() {
        let model = match case["n_layers"].as_u64().unwrap() {
            2 => two_layer_model(),
            _ => real_model(),
        };
        let ids = ids_of(&case["ids"]);
        let corrupt = ids_of(&case["corrupt_ids"]);
        let text = |k: &str| case[k].as_str().unwrap();
        let ex = pair(&model.tokenizer, text("prompt"), text("answer_from"), text("answer_to")).unwrap();
        assert_eq!(
            (ex.ids.clone(), ex.from, ex.to),
            (ids.clone(), case["from_id"].as_u64().unwrap() as u32, case["to_id"].as_u64().unwrap() as u32)
        );
        assert_eq!(model.tokenizer.encode(text("corrupt")).unwrap(), corrupt);
        let map = run(model, block_on(PatchJob::new(model, &ids, &corrupt, ex.from, ex.to)).unwrap().with_heads(model));
        assert_eq!(map.shape, MapShape::sites(model.net.config.n_layers, ids.len()));
        let worst = worst_diff(&map, case);
        largest_effect = map.effects.iter().fold(largest_effect, |m, e| m.max(e.abs()));
        let heads = &map.heads.as_ref().unwrap().values;
        largest_head = heads.iter().fold(largest_head, |m, e| m.max(e.abs()));
        eprintln!("{:?} ({} layers): worst |ours − numpy| {worst:.2e}", text("prompt"), map.shape.n_layers);
        assert!(
            worst < EFFECT_TOL,
            "{:?} on {} layers differs from numpy by {worst}",
            text("prompt"),
            map.shape.n_layers
        );
    }
    // The maps are not near zero, so the comparison can fail.
    assert!(largest_effect > 1.0, "largest effect {largest_effect}");
    assert!(largest_head > 0.1, "largest per-head effect {largest_head}");
}

#[test]
fn patching_with_the_clean_runs_own_activations_changes_nothing() {
    let model = two_layer_model();
    let ex = pair(&model.tokenizer, "The capital of Italy is", " Rome", " Paris").unwrap();
    // Every position: the prompts are the same, so by default nothing would be patched.
    let job = block_on(PatchJob::new(model, &ex.ids, &ex.ids, ex.from, ex.to)).unwrap().patch_shared_prefix();
    let map = run(model, job);
    let worst = map.effects.iter().fold(0.0f32, |m, e| m.max(e.abs()));
    // The patched rows run the same numbers in batches of other shapes (other kernels, other
    // summation order): each Δ within 2 × 1e-3 of exact (see EFFECT_TOL), an effect within 4e-3.
    assert!(worst < 4e-3, "patching in the clean run's own activations moved Δ by {worst}");
    assert_eq!(map.delta_clean, map.delta_corrupt);
}

#[test]
fn positions_before_the_prompts_differ_are_not_patched_and_the_rest_are_as_with_every_position() {
    let model = two_layer_model();
    // Answers whose Δ the 2-layer model's units move by more than 0.1 (" Rome"/" Paris": 0.04).
    let ex = pair(&model.tokenizer, "The capital of Italy is", ",", " the").unwrap();
    let corrupt = model.tokenizer.encode("The capital of France is").unwrap();
    let first = ex.ids.iter().zip(&corrupt).position(|(a, b)| a != b).unwrap();
    assert!(first > 0 && first < ex.ids.len(), "the prompts share a prefix and differ within it");
    let skipped = patch_map(model, &ex.ids, &corrupt, ex.from, ex.to);
    let job = block_on(PatchJob::new(model, &ex.ids, &corrupt, ex.from, ex.to)).unwrap().patch_shared_prefix();
    let every = run(model, job);
    for (u, (a, b)) in skipped.effects.iter().zip(&every.effects).enumerate() {
        let p = u % ex.ids.len();
        if p < first {
            assert_eq!(*a, 0.0, "unit {u} before the first difference");
            // The rows that patch it anyway reproduce the clean run (as in the test above).
            assert!(b.abs() < 4e-3, "unit {u}: {b}");
        } else {
            // The same rows, in groups of other shapes.
            assert!((a - b).abs() < 4e-3, "unit {u}: {a} vs {b}");
        }
    }
    let largest = skipped.effects.iter().fold(0.0f32, |m, e| m.max(e.abs()));
    assert!(largest > 0.1, "the map is not all zeros: {largest}");
}

#[test]
fn patching_in_one_pass_per_layer_gives_the_map_of_one_pass_for_all() {
    let model = two_layer_model();
    let ex = pair(&model.tokenizer, "The capital of Italy is", ",", " the").unwrap();
    let corrupt = model.tokenizer.encode("The capital of France is").unwrap();
    let start = || block_on(PatchJob::new(model, &ex.ids, &corrupt, ex.from, ex.to)).unwrap().with_heads(model);
    let (one, per_layer) = (start(), start().holding(1));
    // Blocks 1 … L, then blocks l + 1 … L for each layer l.
    let n = model.net.config.n_layers;
    assert_eq!((one.progress().1, per_layer.progress().1), (n, n * (n + 1) / 2));
    let (one, per_layer) = (run(model, one), run(model, per_layer));
    let pairs = one.effects.iter().zip(&per_layer.effects);
    let heads = one.heads.as_ref().unwrap().values.iter().zip(&per_layer.heads.as_ref().unwrap().values);
    for (a, b) in pairs.chain(heads) {
        // The same rows in groups of other shapes: as in the test above.
        assert!((a - b).abs() < 4e-3, "{a} vs {b}");
    }
    assert!(one.effects.iter().any(|e| e.abs() > 0.1));
}

#[test]
fn two_shares_of_layers_joined_give_the_whole_map() {
    let model = two_layer_model();
    let ex = pair(&model.tokenizer, "The capital of Italy is", ",", " the").unwrap();
    let corrupt = model.tokenizer.encode("The capital of France is").unwrap();
    let start = || block_on(PatchJob::new(model, &ex.ids, &corrupt, ex.from, ex.to)).unwrap().with_heads(model);
    let n = model.net.config.n_layers;
    let cut = patch_share::cut(n);
    assert!(0 < cut && cut < n, "both shares patch a layer");
    let (first, second) = (start().only_layers(0..cut), start().only_layers(cut..n));
    // Each share runs only its layers' rows: blocks cut … L for the second, 1 … L for the first.
    assert_eq!((first.progress().1, second.progress().1), (n, n - cut));
    let (whole, mut joined, second) = (run(model, start()), run(model, first), run(model, second));
    assert!(joined.effects.iter().zip(&whole.effects).any(|(a, b)| a != b), "the first share alone is not the map");
    joined.take_layers(&second, cut..n).unwrap();
    let pairs = joined.effects.iter().zip(&whole.effects);
    let heads = joined.heads.as_ref().unwrap().values.iter().zip(&whole.heads.as_ref().unwrap().values);
    for (a, b) in pairs.chain(heads) {
        // The same rows in groups of other shapes: as in the tests above.
        assert!((a - b).abs() < 4e-3, "{a} vs {b}");
    }
    // A map of other prompts' shape is refused, not joined.
    let other = model.tokenizer.encode("The capital of France is in").unwrap();
    let short = pair(&model.tokenizer, "The capital of Italy is in", ",", " the").unwrap();
    let other = run(model, block_on(PatchJob::new(model, &short.ids, &other, short.from, short.to)).unwrap());
    assert!(joined.take_layers(&other, cut..n).is_err());
}

/// Records the residual stream after `layer` while patching.
struct PatchAndRecord {
    patch: PatchAt,
    after: RefCell<Option<Tensor<3>>>,
}

impl Hook for PatchAndRecord {
    fn site(&self, site: Site, layer: usize, h: Tensor<3>) -> Tensor<3> {
        self.patch.site(site, layer, h)
    }
    fn resid(&self, layer: usize, h: &Tensor<3>) {
        if layer == self.patch.layer + 1 {
            *self.after.borrow_mut() = Some(h.clone());
        }
    }
}

fn values(t: Tensor<3>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

#[test]
fn patching_every_unit_of_a_layer_adds_the_corrupted_runs_outputs_of_that_layer() {
    let model = two_layer_model();
    let clean = pair(&model.tokenizer, "The capital of Italy is", " Rome", " Paris").unwrap();
    let corrupt = model.tokenizer.encode("The capital of France is").unwrap();
    let (c, k) = (Activations::record(model, &clean.ids).unwrap(), Activations::record(model, &corrupt).unwrap());
    let t = clean.ids.len();
    let device = model.net.device();
    for layer in 0..model.net.config.n_layers {
        let all = || Tensor::<3>::from_data(TensorData::new(vec![1.0f32; t], [1, t, 1]), device);
        let hook = PatchAndRecord {
            patch: PatchAt {
                layer,
                take: [all(), all()],
                source: [k.at(Site::AttnOut, layer).clone(), k.at(Site::MlpOut, layer).clone()],
                heads: None,
            },
            after: RefCell::new(None),
        };
        model.net.forward_from(layer, c.resid[layer].clone(), &hook, Positions::Last).unwrap();
        let after = values(hook.after.into_inner().expect("the residual after the layer was seen"));
        // resid_{l+1} = resid_l(clean) + attn_l(corrupt) + mlp_l(corrupt): the layer's whole
        // contribution is the corrupted run's.
        let expected =
            values(c.resid[layer].clone() + k.at(Site::AttnOut, layer).clone() + k.at(Site::MlpOut, layer).clone());
        let clean_after = values(c.resid[layer + 1].clone());
        let scale = expected.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        let worst = after.iter().zip(&expected).fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
        // Three f32 additions of values up to `scale`, rounded in another order: a few ulps.
        assert!(worst <= 4.0 * f32::EPSILON * scale, "layer {layer}: {worst} (scale {scale})");
        let moved = after.iter().zip(&clean_after).fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
        assert!(moved > 0.1, "layer {layer}: the patch changed the residual by only {moved}");
    }
}

#[test]
fn alpha_sets_measured_in_one_batch_equal_the_metrics_of_each_intervention() {
    let model = two_layer_model();
    let examples = vec![
        pair(&model.tokenizer, "Rome is in", " Italy", " France").unwrap(),
        pair(&model.tokenizer, "Paris is in", " France", " Italy").unwrap(),
    ];
    let c = &model.net.config;
    let shape = MapShape::sites(c.n_layers, 3);
    let sets: Vec<Vec<f32>> =
        (0..3).map(|s| (0..shape.len()).map(|i| 0.8 * ((i * 7 + s * 3) as f32 * 0.9).sin()).collect()).collect();
    let measured = block_on(measure(model, &SetKind::Scalars(shape), &sets, &examples)).unwrap();
    for (set, m) in sets.iter().zip(&measured) {
        let zero = Intervention::zeros(
            Method::ActivScalar,
            Selection::default(),
            (c.n_layers, c.d_model, c.n_heads),
            3,
            model.net.device(),
        );
        let iv = zero.with_values(set.clone()).unwrap();
        let e = block_on(evaluate(model, &iv, &examples, 0.0)).unwrap();
        let pairs = [
            (m.flip_rate, e.flip_rate),
            (m.delta_pos, e.logit_diff_pos),
            (m.delta_neg, e.logit_diff_neg),
            (m.kl_pos, e.kl_pos),
            (m.kl_neg, e.kl_neg),
        ];
        for (a, b) in pairs {
            // Same model, other batch shape: within the 1e-3 per-logit bound, twice for a Δ.
            assert!((a - b).abs() < 2e-3, "batched {m:?} vs one at a time {e:?}");
        }
    }
    assert_ne!(measured[0], measured[1], "different sets measure differently");
}

#[test]
fn the_keep_top_k_curve_ends_at_the_whole_intervention_and_k_star_is_its_first_full_flip() {
    let model = two_layer_model();
    let examples = vec![pair(&model.tokenizer, "The capital of Italy is", " Rome", " Paris").unwrap()];
    let shape = MapShape::sites(model.net.config.n_layers, 5);
    // α at attn_out of both layers at the last position (what training learned on this prompt,
    // rounded: alone the first flips it both ways) and two small ones elsewhere.
    let mut alpha = vec![0.0f32; shape.len()];
    for (i, a) in [(9, 0.48f32), (4, 0.26), (10, 0.05), (17, -0.02)] {
        alpha[i] = a;
    }
    let mut job = InterpretJob::new(shape, alpha.clone(), examples.clone(), vec!["a".into(); 5], 7).unwrap();
    while !job.is_done() {
        block_on(job.step(model, 16)).unwrap();
    }
    let r = job.result();
    assert_eq!(r.units.iter().map(|u| shape.index(u.unit)).collect::<Vec<_>>(), vec![9, 4, 10, 17]);
    assert_eq!(r.keep_k.iter().map(|p| p.k).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    let whole = block_on(measure(model, &SetKind::Scalars(shape), &[alpha.clone()], &examples)).unwrap().remove(0);
    // Keeping every unit is the intervention itself (the same numbers in another batch shape).
    let near = |a: f32, b: f32| (a - b).abs() < 2e-3;
    let all = &r.keep_k[3].metrics;
    assert!(all.flip_rate == whole.flip_rate && near(all.delta_pos, whole.delta_pos) && near(all.kl_neg, whole.kl_neg));
    assert_eq!(r.k_star, Some(1), "{:?}", r.keep_k);
    assert!(r.keep_k.iter().all(|p| p.metrics.flip_rate == 1.0), "{:?}", r.keep_k);
    // Leave-one-out of the top unit is the set without it.
    let mut without = alpha.clone();
    without[9] = 0.0;
    let loo = block_on(measure(model, &SetKind::Scalars(shape), &[without], &examples)).unwrap().remove(0);
    assert!(near(r.units[0].loo_delta_pos, loo.delta_pos) && near(r.units[0].loo_delta_neg, loo.delta_neg));
    assert!(!near(r.units[0].loo_delta_pos, whole.delta_pos), "leaving the top unit out changes Δ");
    // At k = n every random draw is the whole set.
    let last = r.random.last().unwrap();
    assert_eq!((last.k, last.draws, last.flip_sd), (4, 20, 0.0));
    assert_eq!(last.flip_mean, whole.flip_rate);
    let first = &r.random[0];
    assert_eq!((first.k, first.draws), (1, 20));
    assert!(first.flip_mean < 1.0, "some single random units do not flip it: {first:?}");
}

/// f32 sums over the model width d: each dot product or norm within d·ε of exact relative to
/// ‖v‖‖h‖, so a cosine within d·ε (576 · 1.2e-7 ≈ 7e-5 on these models).
fn cosine_tol(d: usize) -> f32 {
    d as f32 * f32::EPSILON
}

fn cos64(a: &[f32], b: &[f32]) -> f64 {
    let dot = |x: &[f32], y: &[f32]| x.iter().zip(y).map(|(p, q)| *p as f64 * *q as f64).sum::<f64>();
    dot(a, b) / (dot(a, a).sqrt() * dot(b, b).sqrt())
}

#[test]
fn steer_vec_cosines_are_one_minus_one_and_zero_along_against_and_across_the_activation() {
    let model = two_layer_model();
    let c = &model.net.config;
    let d = c.d_model;
    let a = pair(&model.tokenizer, "Rome is in", " Italy", " France").unwrap();
    let b = pair(&model.tokenizer, "Paris is in", " France", " Italy").unwrap();
    assert_eq!(a.ids.len(), b.ids.len());
    let rows =
        |ids: &[u32]| Activations::record(model, ids).unwrap().unit_rows().into_data().try_to_vec::<f32>().unwrap();
    let (ha, hb) = (rows(&a.ids), rows(&b.ids));
    let unit = |h: &[f32], u: usize| h[u * d..(u + 1) * d].to_vec();
    // Unit 0: 2·h; unit 1: −h/2; unit 2: across h (a fixed pattern minus its projection on h).
    let mut v = vec![0.0f32; ha.len()];
    v[..d].copy_from_slice(&unit(&ha, 0).iter().map(|x| 2.0 * x).collect::<Vec<_>>());
    v[d..2 * d].copy_from_slice(&unit(&ha, 1).iter().map(|x| -0.5 * x).collect::<Vec<_>>());
    let h2: Vec<f64> = unit(&ha, 2).iter().map(|&x| x as f64).collect();
    let r: Vec<f64> = (0..d).map(|i| (i as f64 * 0.37).sin()).collect();
    let proj = r.iter().zip(&h2).map(|(p, q)| p * q).sum::<f64>() / h2.iter().map(|q| q * q).sum::<f64>();
    for i in 0..d {
        v[2 * d + i] = (r[i] - proj * h2[i]) as f32;
    }
    let zero = Intervention::zeros(
        Method::SteerVec,
        Selection::default(),
        (c.n_layers, d, c.n_heads),
        a.ids.len(),
        model.net.device(),
    );
    let iv = zero.with_values(v.clone()).unwrap();
    let tol = cosine_tol(d);

    let one = block_on(directions(model, &iv, std::slice::from_ref(&a))).unwrap();
    assert!((one.cos[0] - 1.0).abs() < tol && (one.cos[1] + 1.0).abs() < tol, "{:?}", &one.cos[..3]);
    assert!(one.cos[2].abs() < tol, "across h: {}", one.cos[2]);
    assert!(one.cos[3..].iter().all(|&x| x == 0.0), "units with v = 0 have cos 0");
    let norm0 = 2.0 * h2_norm(&unit(&ha, 0));
    assert!((one.norm[0] - norm0).abs() <= tol * norm0, "‖v‖ {} vs {norm0}", one.norm[0]);
    assert!(one.norm[3..].iter().all(|&x| x == 0.0));

    // Over two prompts, the mean of each prompt's cosine (h differs between them).
    let two = block_on(directions(model, &iv, &[a.clone(), b.clone()])).unwrap();
    for u in 0..3 {
        let expected = (cos64(&unit(&v, u), &unit(&ha, u)) + cos64(&unit(&v, u), &unit(&hb, u))) / 2.0;
        assert!((two.cos[u] as f64 - expected).abs() < tol as f64, "unit {u}: {} vs {expected}", two.cos[u]);
    }
    assert!((two.cos[0] - 1.0).abs() > 10.0 * tol, "the second prompt's h points elsewhere");
    assert_eq!(two.norm, one.norm);
}

fn h2_norm(h: &[f32]) -> f32 {
    h.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt() as f32
}
