//! Shared by the native tests: the real model and the reference data.
#![allow(dead_code)]
// Native tests read tensors synchronously; the browser build may not (clippy.toml).
#![allow(clippy::disallowed_methods)]

#[cfg(all(feature = "cli", not(target_arch = "wasm32")))]
pub mod cli;

use std::path::PathBuf;
use std::sync::OnceLock;

use actscale::backend::cpu_device;
use actscale::model::Model;
use actscale::model::gguf::Gguf;

pub fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The real model's bytes. Missing is a failure that names the setup command, never a skip.
pub fn model_bytes() -> Vec<u8> {
    let path = repo_path("static/models/smollm2-135m-instruct-q4_1.gguf");
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!("the default model is missing at {} ({e}); run `scripts/setup.sh model`", path.display())
    })
}

/// The real model loaded once per test binary, on the CPU backend.
pub fn real_model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| Model::from_bytes(model_bytes(), &cpu_device()).expect("the real model loads"))
}

/// A 2-layer copy of the real model (the fast test model), loaded once per test binary.
pub fn two_layer_model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        let g = Gguf::parse(model_bytes()).expect("real model parses");
        let bytes = actscale::model::gguf::writer::truncate_layers(&g, 2).expect("truncates");
        Model::from_bytes(bytes, &cpu_device()).expect("the 2-layer model loads")
    })
}

pub fn reference_logits() -> serde_json::Value {
    read_json("tests/data/smollm2-llamacpp-logits.json")
}

pub fn reference_activations() -> serde_json::Value {
    read_json("tests/data/smollm2-rome-is-in-activations.json")
}

fn read_json(rel: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(repo_path(rel)).expect("reference data in tests/data");
    serde_json::from_str(&text).expect("reference JSON parses")
}

pub fn ids_of(v: &serde_json::Value) -> Vec<u32> {
    v.as_array().expect("ids array").iter().map(|x| x.as_f64().expect("id") as u32).collect()
}

pub fn floats(v: &serde_json::Value) -> Vec<f32> {
    v.as_array().expect("array").iter().map(|x| x.as_f64().expect("number") as f32).collect()
}

/// Last-position logits of one prompt on the CPU backend.
pub fn last_logits(model: &Model, ids: &[u32]) -> Vec<f32> {
    let logits = model
        .net
        .forward(&[ids.to_vec()], &actscale::model::hook::NoHook, actscale::model::transformer::Positions::Last)
        .expect("forward runs");
    logits.into_data().try_to_vec::<f32>().expect("f32 logits")
}
