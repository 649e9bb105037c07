//! The forward pass of each supported architecture against llama.cpp (issue 16 item 3): tiny
//! random-weight GGUFs of gpt2, qwen2, llama 3 (rope_freqs), llama with a tied head and gptneox
//! (Pythia: parallel residual, RoPE on a quarter of each head), with
//! llama.cpp's logits at every position (tests/data/arch, README there; each fixture also
//! records how far a forward with one convention wrong lands, all > 1e-2). Every logit at every
//! position must be within 1e-3: the same bound as the SmolLM2 reference.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::disallowed_methods)]

mod common;

use actscale::backend::cpu_device;
use actscale::model::Model;
use actscale::model::config::Arch;
use actscale::model::gguf::{Gguf, MetaValue, write_gguf};
use actscale::model::hook::NoHook;
use actscale::model::transformer::Positions;
use common::*;

const FIXTURES: [(&str, Arch); 5] = [
    ("gpt2", Arch::Gpt2),
    ("qwen2", Arch::Qwen2),
    ("llama3", Arch::Llama),
    ("llama-tied", Arch::Llama),
    ("gptneox", Arch::GptNeox),
];

fn fixture(name: &str) -> (Vec<u8>, serde_json::Value) {
    let dir = repo_path("tests/data/arch");
    let bytes = std::fs::read(dir.join(format!("{name}.gguf"))).expect("fixture gguf in tests/data/arch");
    let text = std::fs::read_to_string(dir.join(format!("{name}.expected.json"))).expect("fixture logits");
    (bytes, serde_json::from_str(&text).expect("fixture JSON parses"))
}

fn all_logits(model: &Model, ids: &[Vec<u32>]) -> Vec<f32> {
    let out = model.net.forward(ids, &NoHook, Positions::All).expect("forward runs");
    out.into_data().try_to_vec::<f32>().expect("f32 logits")
}

#[test]
fn every_architecture_matches_llama_cpp_at_every_position_within_1e_3() {
    for (name, arch) in FIXTURES {
        let (bytes, expected) = fixture(name);
        let model = Model::from_bytes(bytes, &cpu_device()).unwrap_or_else(|e| panic!("{name} loads: {e}"));
        assert_eq!(model.net.config.arch, arch, "{name}");
        let ids = ids_of(&expected["ids"]);
        let want: Vec<f32> = expected["logits"].as_array().unwrap().iter().flat_map(floats).collect();
        let ours = all_logits(&model, &[ids.clone()]);
        assert_eq!(ours.len(), want.len(), "{name}: {} positions × vocab", ids.len());
        let v = model.net.config.vocab_size;
        let mut worst = 0.0f32;
        for (i, (a, b)) in ours.iter().zip(&want).enumerate() {
            let diff = (a - b).abs();
            worst = worst.max(diff);
            assert!(diff < 1e-3, "{name}: position {} token {}: ours {a} vs llama.cpp {b}", i / v, i % v);
        }
        eprintln!("{name}: {} logits, worst |diff| = {worst:e}", ours.len());
    }
}

/// A batch of two prompts gives each prompt's own logits (learned positions and RoPE start at
/// 0 for every row), and the last-position path equals the last row of the full one.
#[test]
fn batches_and_last_position_agree_with_single_prompts() {
    for (name, _) in FIXTURES {
        let (bytes, expected) = fixture(name);
        let model = Model::from_bytes(bytes, &cpu_device()).unwrap();
        let ids = ids_of(&expected["ids"]);
        let other: Vec<u32> = ids.iter().rev().copied().collect();
        let v = model.net.config.vocab_size;
        let batch = all_logits(&model, &[ids.clone(), other.clone()]);
        let (a, b) = batch.split_at(batch.len() / 2);
        for (got, single) in [(a, all_logits(&model, &[ids.clone()])), (b, all_logits(&model, &[other.clone()]))] {
            let worst = got.iter().zip(&single).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
            assert!(worst < 1e-4, "{name}: batch row differs from the single prompt by {worst}");
        }
        let last = last_logits(&model, &ids);
        let full = all_logits(&model, &[ids]);
        let worst = last.iter().zip(&full[full.len() - v..]).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
        assert!(worst < 1e-4, "{name}: last-position logits differ from the full pass by {worst}");
    }
}

/// The fixture with one metadata entry replaced.
fn with_meta(bytes: Vec<u8>, key: &str, value: MetaValue) -> Vec<u8> {
    let g = Gguf::parse(bytes).unwrap();
    let mut meta: Vec<(String, MetaValue)> = g.metadata_entries().iter().filter(|(k, _)| k != key).cloned().collect();
    meta.push((key.to_string(), value));
    let tensors: Vec<_> =
        g.tensors().iter().map(|t| (t.name.clone(), t.dims.clone(), t.ty, g.tensor_bytes(t).unwrap())).collect();
    write_gguf(g.version(), g.alignment(), &meta, &tensors)
}

#[test]
fn what_the_forward_pass_does_not_follow_is_refused_by_name() {
    let (gpt2, _) = fixture("gpt2");
    let (qwen2, _) = fixture("qwen2");
    let cases = [
        (with_meta(gpt2.clone(), "general.architecture", MetaValue::String("gemma".into())), "gemma"),
        (with_meta(qwen2.clone(), "qwen2.rope.scaling.type", MetaValue::String("yarn".into())), "yarn"),
        (with_meta(qwen2, "qwen2.rope.dimension_count", MetaValue::U32(8)), "rope.dimension_count is 8"),
    ];
    for (i, (bytes, needle)) in cases.into_iter().enumerate() {
        match Model::from_bytes(bytes, &cpu_device()) {
            Err(e) => assert!(e.to_string().contains(needle), "case {i}: {e}"),
            Ok(_) => panic!("case {i} ({needle}) loaded"),
        }
    }
}
