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
    let mut job = block_on(PatchJob::new(model, clean, corrupt, from, to)).unwrap().with_heads(model);
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
            let site_effect = map.effects[map.shape.index(Unit { site: Site::AttnOut, layer, position: p })];
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
