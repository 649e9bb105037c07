//! The llama port against an independent implementation (llama.cpp; ../shared/reference, copied
//! into tests/data): token ids, last-position logits, and activations layer by layer.
#![cfg(not(target_arch = "wasm32"))]
// Native tests read tensors synchronously; the browser build may not (clippy.toml).
#![allow(clippy::disallowed_methods)]

mod common;

use std::cell::RefCell;

use actscale::model::hook::{Hook, Site};
use actscale::model::transformer::Positions;
use burn::tensor::Tensor;
use common::*;

const PREFIXES: [&str; 3] = ["nobos", "bos", "eot"];

#[test]
fn token_ids_equal_the_reference_for_every_prompt() {
    let model = real_model();
    for r in reference_logits()["results"].as_array().unwrap() {
        let prompt = r["prompt"].as_str().unwrap();
        assert_eq!(model.tokenizer.encode(prompt).unwrap(), ids_of(&r["ids_nobos"]), "{prompt:?}");
    }
}

#[test]
fn logits_match_llama_cpp_f32_within_1e_3_for_every_prompt_and_prefix() {
    let model = real_model();
    let mut worst = 0.0f32;
    let mut checked = 0;
    for r in reference_logits()["results"].as_array().unwrap() {
        for prefix in PREFIXES {
            let ids = ids_of(&r[format!("ids_{prefix}")]);
            let ours = last_logits(model, &ids);
            let reference = &r[format!("{prefix}_f32_dequant")];
            let mut pairs: Vec<(u32, f32)> = reference["top10"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| (e["id"].as_u64().unwrap() as u32, e["logit"].as_f64().unwrap() as f32))
                .collect();
            for (token, logit) in reference["answer_logits"].as_object().unwrap() {
                let id = model.tokenizer.token_id(token).expect("answer is one token");
                pairs.push((id, logit.as_f64().unwrap() as f32));
            }
            for (id, expected) in pairs {
                let diff = (ours[id as usize] - expected).abs();
                worst = worst.max(diff);
                checked += 1;
                assert!(
                    diff < 1e-3,
                    "{:?} [{prefix}] token {id}: ours {} vs llama.cpp {expected}",
                    r["prompt"],
                    ours[id as usize]
                );
            }
        }
    }
    eprintln!("checked {checked} logits, worst |diff| = {worst:e}");
}

fn argmax(v: &[f32]) -> usize {
    v.iter().enumerate().fold(0, |best, (i, &x)| if x > v[best] { i } else { best })
}

#[test]
fn top1_equals_llama_cpp_on_the_quantised_file() {
    let model = real_model();
    for r in reference_logits()["results"].as_array().unwrap() {
        for prefix in ["nobos", "bos"] {
            let ids = ids_of(&r[format!("ids_{prefix}")]);
            let ours = last_logits(model, &ids);
            let top1 = r[prefix]["top10"][0]["id"].as_u64().unwrap() as usize;
            assert_eq!(argmax(&ours), top1, "{:?} [{prefix}]", r["prompt"]);
        }
    }
}

/// Records every residual stream and site activation of one forward pass.
#[derive(Default)]
struct Recorder {
    resid: RefCell<Vec<Tensor<3>>>,
    sites: RefCell<Vec<(Site, usize, Tensor<3>)>>,
}

impl Hook for Recorder {
    fn site(&self, site: Site, layer: usize, h: Tensor<3>) -> Tensor<3> {
        self.sites.borrow_mut().push((site, layer, h.clone()));
        h
    }
    fn resid(&self, _layer: usize, h: &Tensor<3>) {
        self.resid.borrow_mut().push(h.clone());
    }
}

/// Largest |ours − reference| / max(1, |reference|): absolute below 1, relative above, because
/// the residual stream carries a few very large values (hundreds) where f32 rounding alone
/// exceeds 1e-3 in absolute terms.
fn max_diff(ours: &Tensor<3>, reference: &serde_json::Value) -> f32 {
    let ours = ours.to_data().try_to_vec::<f32>().unwrap();
    let expected: Vec<f32> = reference.as_array().unwrap().iter().flat_map(floats).collect();
    assert_eq!(ours.len(), expected.len());
    ours.iter().zip(&expected).map(|(a, b)| (a - b).abs() / b.abs().max(1.0)).fold(0.0, f32::max)
}

#[test]
fn activations_of_rome_is_in_match_layer_by_layer() {
    let model = real_model();
    let reference = reference_activations();
    let ids = ids_of(&reference["ids"]);
    assert_eq!(ids, vec![46292, 314, 281]);
    let rec = Recorder::default();
    let logits = model.net.forward(&[ids], &rec, Positions::Last).unwrap();
    let resid = rec.resid.borrow();
    assert_eq!(resid.len(), 31);
    for (l, r) in resid.iter().enumerate() {
        let d = max_diff(r, &reference["resid"][l]);
        assert!(d < 1e-3, "resid[{l}] differs by {d}");
    }
    let sites = rec.sites.borrow();
    assert_eq!(sites.len(), 60);
    for (site, l, h) in sites.iter() {
        let d = max_diff(h, &reference[site.name()][*l]);
        assert!(d < 1e-3, "{}[{l}] differs by {d}", site.name());
    }
    let ours = logits.into_data().try_to_vec::<f32>().unwrap();
    let expected = floats(&reference["logits_last"]);
    let worst = ours.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    assert!(worst < 1e-3, "logits differ by {worst}");
}

#[test]
fn batched_prompts_give_the_same_logits_as_single_ones() {
    let model = two_layer_model();
    let a = model.tokenizer.encode("The capital of Italy is").unwrap();
    let b = model.tokenizer.encode("The capital of France is").unwrap();
    let batch = model.net.forward(&[a.clone(), b.clone()], &actscale::model::hook::NoHook, Positions::Last).unwrap();
    let batch = batch.into_data().try_to_vec::<f32>().unwrap();
    let v = model.net.config.vocab_size;
    for (i, ids) in [a, b].iter().enumerate() {
        let single = last_logits(model, ids);
        let worst = single.iter().zip(&batch[i * v..(i + 1) * v]).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
        assert!(worst < 1e-4, "prompt {i}: batched differs by {worst}");
    }
}

#[test]
fn all_positions_end_with_the_last_position() {
    let model = two_layer_model();
    let ids = model.tokenizer.encode("Rome is in").unwrap();
    let all = model.net.forward(&[ids.clone()], &actscale::model::hook::NoHook, Positions::All).unwrap();
    assert_eq!(all.dims(), [1, 3, model.net.config.vocab_size]);
    let all = all.into_data().try_to_vec::<f32>().unwrap();
    let last = last_logits(model, &ids);
    let v = last.len();
    let worst = last.iter().zip(&all[2 * v..]).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
    assert!(worst < 1e-4);
}
