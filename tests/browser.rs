//! Browser tests (wasm-pack test --headless --chrome): burn inside headless Chromium, on the CPU
//! backend and on WebGPU (SwiftShader, enabled by webdriver.json's flags).
//! The 2-layer test model and its native logits come from scripts/make-test-model.sh.
#![cfg(target_arch = "wasm32")]

use actscale::backend::{BackendKind, cpu_device, init_webgpu};
use actscale::model::Model;
use actscale::model::predict::last_logits;
use actscale::self_check::{self, X};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

static TEST_MODEL: &[u8] = include_bytes!("../static/models/test-2layer.gguf");
static NATIVE_LOGITS: &str = include_str!("../static/models/test-2layer.expected.json");

#[wasm_bindgen_test]
async fn cpu_autodiff_gradient_equals_x() {
    let r = self_check::run(&cpu_device(), BackendKind::Cpu).await.unwrap();
    assert_eq!(r.grad_a, X.to_vec());
    assert!(r.is_correct(), "{r:?}");
}

#[wasm_bindgen_test]
async fn webgpu_autodiff_gradient_equals_x() {
    // The test browser runs with --enable-unsafe-webgpu: no adapter here is a failure, not a skip.
    let device = init_webgpu().await.expect("WebGPU adapter in headless Chromium");
    let r = self_check::run(&device, BackendKind::WebGpu).await.unwrap();
    for (g, x) in r.grad_a.iter().zip(X) {
        assert!((g - x).abs() < 1e-5, "dy/da {g} != x {x}");
    }
    assert!(r.is_correct(), "{r:?}");
}

#[wasm_bindgen_test]
async fn two_layer_model_logits_equal_native_ones_on_cpu() {
    let model = Model::from_bytes(TEST_MODEL.to_vec(), &cpu_device()).expect("loads in the browser");
    let expected: serde_json::Value = serde_json::from_str(NATIVE_LOGITS).unwrap();
    let ids: Vec<u32> = expected["ids"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
    assert_eq!(model.tokenizer.encode("The capital of Italy is").unwrap(), ids);
    let ours = last_logits(&model, &ids).await.unwrap();
    let top = expected["top"].as_array().unwrap();
    assert_eq!(top.len(), ours.len(), "native file has every token's logit");
    let mut worst = 0.0f32;
    for t in top {
        let id = t["id"].as_u64().unwrap() as usize;
        let native = t["logit"].as_f64().unwrap() as f32;
        worst = worst.max((ours[id] - native).abs());
    }
    assert!(worst < 1e-4, "browser logits differ from native by {worst}");
}

#[wasm_bindgen_test]
fn truncated_and_foreign_files_give_clear_errors_in_the_browser() {
    let cut = &TEST_MODEL[..TEST_MODEL.len() / 3];
    let err = Model::from_bytes(cut.to_vec(), &cpu_device()).err().expect("a truncated file is rejected");
    assert!(err.to_string().contains("truncated"), "{err}");
    let err = Model::from_bytes(b"<html>not found</html>".to_vec(), &cpu_device()).err().expect("rejected");
    assert!(err.to_string().contains("GGUF"), "{err}");
}
