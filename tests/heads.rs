//! Per-head units (issue 32 item 5): each head's contribution W_O[:, h-slice] · z_h, patching a
//! head's output, and its attribution. Checked by what defines them: the heads add up to
//! attn_out on every architecture (grouped-query attention included), patching every head at a
//! position is patching attn_out there, and the clean run's own heads change nothing. The numpy
//! reference's per-head maps are in tests/interpret.rs; per-head attribution is checked in f64 in
//! tests/gradient.rs.
#![cfg(not(target_arch = "wasm32"))]
// Native tests read tensors synchronously; the browser build may not (clippy.toml).
#![allow(clippy::disallowed_methods)]

mod common;

use std::cell::RefCell;

use actscale::backend::cpu_device;
use actscale::interpret::capture::Activations;
use actscale::interpret::patching::{PatchAt, PatchJob, PatchMap, delta};
use actscale::interpret::units::Unit;
use actscale::model::Model;
use actscale::model::hook::{Hook, Site};
use actscale::model::transformer::Positions;
use actscale::tasks::pair::pair;
use burn::tensor::{Tensor, TensorData};
use common::*;
use futures_lite::future::block_on;

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

/// Records attn_out of one layer; with `zero_heads`, the heads' outputs there are set to 0
/// first (what is left of attn_out is W_O's bias, where the model has one).
struct AttnOutAt {
    layer: usize,
    zero_heads: bool,
    seen: RefCell<Option<Tensor<3>>>,
}

impl Hook for AttnOutAt {
    fn heads(&self, layer: usize, z: Tensor<4>) -> Tensor<4> {
        if self.zero_heads && layer == self.layer { z.zeros_like() } else { z }
    }
    fn site(&self, site: Site, layer: usize, h: Tensor<3>) -> Tensor<3> {
        if site == Site::AttnOut && layer == self.layer {
            *self.seen.borrow_mut() = Some(h.clone());
        }
        h
    }
}

fn attn_out(model: &Model, ids: &[u32], layer: usize, zero_heads: bool) -> Vec<f32> {
    let hook = AttnOutAt { layer, zero_heads, seen: RefCell::new(None) };
    model.net.forward(&[ids.to_vec()], &hook, Positions::Last).unwrap();
    values(hook.seen.into_inner().expect("attn_out was seen"))
}

#[test]
fn the_heads_contributions_add_up_to_attn_out_on_every_architecture() {
    for name in ["llama-tied", "llama3", "qwen2", "gpt2", "gptneox"] {
        let bytes = std::fs::read(repo_path(&format!("tests/data/arch/{name}.gguf"))).unwrap();
        let model = Model::from_bytes(bytes, &cpu_device()).unwrap();
        let c = &model.net.config;
        let ids: Vec<u32> = (0..7).map(|i| (i * 37 + 5) % c.vocab_size as u32).collect();
        let acts = Activations::record(&model, &ids).unwrap();
        for l in 0..c.n_layers {
            let per_head = model.net.head_contributions(l, acts.heads[l].clone());
            assert_eq!(per_head.dims(), [1, c.n_heads, ids.len(), c.d_model]);
            let sum = values(per_head.clone().sum_dim(1));
            let magnitude = values(per_head.abs().sum_dim(1));
            let bias = attn_out(&model, &ids, l, true);
            let whole = values(acts.at(Site::AttnOut, l).clone());
            for i in 0..whole.len() {
                // attn_out's element is one dot of length d = Σ over heads of dots of length
                // head_dim: the same products summed in another order, each sum within
                // d·ε·Σ|terms| of exact. Σ|terms| ≥ |contributions| summed, so allow twice that
                // (both sums) plus the bias's own rounding.
                let tol = 2.0 * c.d_model as f32 * f32::EPSILON * (magnitude[i] + bias[i].abs()) + f32::EPSILON;
                let diff = (sum[i] + bias[i] - whole[i]).abs();
                assert!(diff <= tol, "{name} layer {l} element {i}: Σ heads + bias off attn_out by {diff} (tol {tol})");
            }
            assert!(magnitude.iter().any(|&m| m > 1e-3), "{name}: the heads contribute something");
        }
        eprintln!("{name}: {} heads, {} KV heads: the heads add up", c.n_heads, c.n_kv_heads);
    }
}

fn head_patch_map(model: &Model, clean: &[u32], corrupt: &[u32], from: u32, to: u32) -> PatchMap {
    // Every position, the shared prefix too: with the clean run's own outputs every row must
    // reproduce the clean run.
    let mut job =
        block_on(PatchJob::new(model, clean, corrupt, from, to)).unwrap().with_heads(model).patch_shared_prefix();
    while !job.is_done() {
        block_on(job.step(model)).unwrap();
    }
    job.result()
}

#[test]
fn patching_a_head_with_the_clean_runs_own_output_changes_nothing() {
    let model = two_layer_model();
    let ex = pair(&model.tokenizer, "The capital of Italy is", " Rome", " Paris").unwrap();
    let heads = head_patch_map(model, &ex.ids, &ex.ids, ex.from, ex.to).heads.expect("per-head effects");
    assert_eq!(heads.values.len(), model.net.config.n_layers * model.net.config.n_heads * ex.ids.len());
    let worst = heads.values.iter().fold(0.0f32, |m, e| m.max(e.abs()));
    // As for the site map (tests/interpret.rs): each Δ within 2 × 1e-3 of exact, an effect 4e-3.
    assert!(worst < 4e-3, "patching in the clean run's own heads moved Δ by {worst}");
}

#[test]
fn patching_every_head_at_a_position_is_patching_attn_out_there() {
    let model = two_layer_model();
    let clean = pair(&model.tokenizer, "Rome is in", " Italy", " France").unwrap();
    let corrupt = model.tokenizer.encode("Paris is in").unwrap();
    let map = head_patch_map(model, &clean.ids, &corrupt, clean.from, clean.to);
    let (c, k) = (Activations::record(model, &clean.ids).unwrap(), Activations::record(model, &corrupt).unwrap());
    let (t, nh) = (clean.ids.len(), model.net.config.n_heads);
    let device = model.net.device();
    let mut largest = 0.0f32;
    for layer in 0..model.net.config.n_layers {
        // Row p takes every head's output at position p from the corrupted run, nothing else.
        let mut take = vec![0.0f32; t * nh * t];
        for p in 0..t {
            (0..nh).for_each(|h| take[(p * nh + h) * t + p] = 1.0);
        }
        let none = || Tensor::<3>::zeros([t, t, 1], device);
        let hook = PatchAt {
            layer,
            take: [none(), none()],
            source: [k.at(Site::AttnOut, layer).clone(), k.at(Site::MlpOut, layer).clone()],
            heads: Some((Tensor::from_data(TensorData::new(take, [t, nh, t, 1]), device), k.heads[layer].clone())),
        };
        let [_, _, d] = c.resid[layer].dims();
        let logits = model.net.forward_from(layer, c.resid[layer].clone().expand([t, t, d]), &hook, Positions::Last);
        let v = model.net.config.vocab_size;
        let patched = values(delta(&logits.unwrap().reshape([t, v]), clean.from, clean.to));
        for p in 0..t {
            let site_effect = map.effects[map.shape.index(Unit::at(Site::AttnOut, layer, p))];
            let all_heads = patched[p] - map.delta_clean;
            largest = largest.max(site_effect.abs());
            // Two f32 runs of the same patch: each Δ within 2 × 1e-3 of exact, so 4e-3 apart.
            assert!(
                (all_heads - site_effect).abs() < 4e-3,
                "layer {layer} position {p}: all heads {all_heads} vs attn_out {site_effect}"
            );
        }
    }
    assert!(largest > 0.1, "some attn_out patch moves Δ ({largest})");
    let heads = map.heads.unwrap();
    let most = heads.values.iter().fold(0.0f32, |m, e| m.max(e.abs()));
    eprintln!("largest effect: attn_out {largest}, one head {most}");
    assert!(most > 0.05, "some head's patch moves Δ ({most}; attn_out {largest})");
}

/// ActivScalar on attn_head: α = a on every head at (layer, position) is α = a on attn_out there
/// (W_O is linear and this model has none of its bias), and per-head rows leave the per-site
/// ones alone.
#[test]
fn per_head_scalars_on_every_head_are_the_attn_out_scalar() {
    use actscale::model::site::Site;
    use actscale::steer::hyper::{Method, Selection};
    use actscale::steer::intervention::Intervention;
    let model = two_layer_model();
    let c = &model.net.config;
    let ex = pair(&model.tokenizer, "The capital of France is", " Paris", " London").unwrap();
    let t = ex.ids.len();
    let dims = (c.n_layers, c.d_model, c.n_heads);
    let heads_sel = Selection { sites: vec![Site::AttnHead], ..Selection::default() };
    let per_head = Intervention::zeros(Method::ActivScalar, heads_sel, dims, t, model.net.device());
    let per_site = Intervention::zeros(Method::ActivScalar, Selection::default(), dims, t, model.net.device());
    assert_eq!(per_head.n_heads, c.n_heads);
    assert_eq!(per_head.params.dims(), [2 * c.n_layers + c.n_layers * c.n_heads, t]);
    assert_eq!(per_site.params.dims(), [2 * c.n_layers, t], "no per-head rows without attn_head");
    let (layer, position, a) = (1, t - 1, -0.8f32);
    let mut head_values = vec![0.0f32; per_head.params.dims()[0] * t];
    for h in 0..c.n_heads {
        head_values[(2 * c.n_layers + layer * c.n_heads + h) * t + position] = a;
    }
    // A value in a per-site row is masked out: the selection has attn_head only.
    head_values[position] = 5.0;
    let mut site_values = vec![0.0f32; 2 * c.n_layers * t];
    site_values[layer * t + position] = a; // attn_out is row `layer`
    let last = |iv: &Intervention| {
        let logits = model.net.forward(&[ex.ids.clone()], &iv.hook(&[1.0]), Positions::Last).unwrap();
        values(logits)
    };
    let by_heads = last(&per_head.with_values(head_values).unwrap());
    let by_site = last(&per_site.with_values(site_values).unwrap());
    let plain = last(&per_site);
    // The same products rounded in another order: each logit within the 1e-3 that the f32
    // forward keeps to llama.cpp (tests/model_reference.rs).
    let worst = by_heads.iter().zip(&by_site).fold(0.0f32, |m, (x, y)| m.max((x - y).abs()));
    assert!(worst < 1e-3, "per head vs per site: {worst}");
    let moved = by_site.iter().zip(&plain).fold(0.0f32, |m, (x, y)| m.max((x - y).abs()));
    assert!(moved > 0.1, "the scalar changes the logits ({moved})");
}

/// Last-position logits [rows, vocab] of one whole forward of the clean prompt per unit of
/// `layer`, that unit patched with `PatchAt`: row p attn_out at p, row T + p mlp_out at p, with heads row 2T + h·T + p head h.
fn whole_forward_logits(model: &Model, clean: &[u32], k: &Activations, layer: usize, heads: bool) -> Tensor<2> {
    let (c, device) = (&model.net.config, model.net.device());
    let (t, nh, v) = (clean.len(), if heads { c.n_heads } else { 0 }, c.vocab_size);
    let rows = (2 + nh) * t;
    let one_hot = |first: usize| {
        let mut m = vec![0.0f32; rows * t];
        (0..t).for_each(|p| m[(first + p) * t + p] = 1.0);
        Tensor::<3>::from_data(TensorData::new(m, [rows, t, 1]), device)
    };
    let head_take = heads.then(|| {
        let mut take = vec![0.0f32; rows * nh * t];
        for h in 0..nh {
            (0..t).for_each(|p| take[((2 * t + h * t + p) * nh + h) * t + p] = 1.0);
        }
        (Tensor::from_data(TensorData::new(take, [rows, nh, t, 1]), device), k.heads[layer].clone())
    });
    let hook = PatchAt {
        layer,
        take: [one_hot(0), one_hot(t)],
        source: [k.at(Site::AttnOut, layer).clone(), k.at(Site::MlpOut, layer).clone()],
        heads: head_take,
    };
    let logits = model.net.forward(&vec![clean.to_vec(); rows], &hook, Positions::Last).unwrap();
    logits.reshape([rows, v])
}

/// Compares a patching map, unit by unit, with `whole_forward_logits`; returns the largest effect.
fn assert_map_is_whole_forwards(
    name: &str,
    model: &Model,
    clean: &[u32],
    corrupt: &[u32],
    map: &PatchMap,
    (from, to): (u32, u32),
) -> f32 {
    let k = Activations::record(model, corrupt).unwrap();
    let (t, nh) = (clean.len(), map.heads.as_ref().map_or(0, |h| h.shape.n_heads));
    let mut largest = 0.0f32;
    for layer in 0..model.net.config.n_layers {
        let whole = values(delta(&whole_forward_logits(model, clean, &k, layer, nh > 0), from, to));
        for p in 0..t {
            let sites = [Site::AttnOut, Site::MlpOut].map(|s| map.effects[map.shape.index(Unit::at(s, layer, p))]);
            let heads = map.heads.iter().flat_map(|m| (0..nh).map(move |h| m.values[m.shape.index(layer, h, p)]));
            for (i, e) in sites.into_iter().chain(heads).enumerate() {
                let theirs = whole[i * t + p] - map.delta_clean;
                largest = largest.max(theirs.abs());
                // Two f32 runs of the same patch, each logit within 1e-3 of llama.cpp's
                // (tests/arch_reference.rs): an effect, four logits, within 8e-3.
                assert!((e - theirs).abs() < 8e-3, "{name} layer {layer} unit {i} at {p}: {e} vs {theirs}");
            }
        }
    }
    largest
}

/// The patched rows (each running only its own suffix of positions, from the block after the
/// patched one, the last block at the last position only) against one whole forward per unit
/// with `PatchAt` on every architecture: parallel residual (GPT-NeoX), learned positions (GPT-2),
/// biases (Qwen2), rope_freqs (Llama 3), grouped-query attention.
#[test]
fn patched_rows_equal_a_whole_forward_per_unit_on_every_architecture() {
    for name in ["llama-tied", "llama3", "qwen2", "gpt2", "gptneox"] {
        let bytes = std::fs::read(repo_path(&format!("tests/data/arch/{name}.gguf"))).unwrap();
        let model = Model::from_bytes(bytes, &cpu_device()).unwrap();
        let v = model.net.config.vocab_size as u32;
        let clean: Vec<u32> = (0..6).map(|i| (i * 37 + 5) % v).collect();
        // The prompts differ from position 1 on: position 0 is shared, so its effects are 0.
        let corrupt: Vec<u32> =
            clean.iter().enumerate().map(|(i, &x)| if i % 2 == 1 { (x + 11) % v } else { x }).collect();
        let map = head_patch_map(&model, &clean, &corrupt, 3, 4);
        let largest = assert_map_is_whole_forwards(name, &model, &clean, &corrupt, &map, (3, 4));
        eprintln!("{name}: largest effect {largest}");
        assert!(largest > 0.1, "{name}: some patch moves Δ ({largest})");
    }
}

/// A prompt of 64 tokens (the fixture's context) on the tiny llama fixture, with heads: a
/// layer's 384 rows (2 sites and 4 heads × 64 positions) do not fit one group (at most
/// 8192 / 64 = 128 rows of padded attention, `SuffixRun`), so each block runs several.
#[test]
fn a_long_prompts_rows_run_in_groups_and_equal_a_whole_forward_per_unit() {
    let bytes = std::fs::read(repo_path("tests/data/arch/llama-tied.gguf")).unwrap();
    let model = Model::from_bytes(bytes, &cpu_device()).unwrap();
    let c = &model.net.config;
    let v = c.vocab_size as u32;
    assert_eq!((c.context_length, c.n_heads), (64, 4), "the numbers above");
    let clean: Vec<u32> = (0..64).map(|i| (i * 37 + 5) % v).collect();
    let corrupt: Vec<u32> = clean.iter().enumerate().map(|(i, &x)| if i % 2 == 1 { (x + 11) % v } else { x }).collect();
    let map = head_patch_map(&model, &clean, &corrupt, 3, 4);
    let largest = assert_map_is_whole_forwards("64 tokens", &model, &clean, &corrupt, &map, (3, 4));
    eprintln!("64 tokens: largest effect {largest}");
    assert!(largest > 0.1, "some patch moves Δ ({largest})");
}
