//! Browser tests (wasm-pack test --headless --chrome): burn autodiff inside headless Chromium,
//! on the CPU backend and on WebGPU (SwiftShader, enabled by webdriver.json's flags).
#![cfg(target_arch = "wasm32")]

use actscale::backend::{BackendKind, cpu_device, init_webgpu};
use actscale::self_check::{self, X};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

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
