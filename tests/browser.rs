//! Browser tests (wasm-pack test --headless --chrome): burn inside headless Chromium, on the CPU
//! backend and on WebGPU (SwiftShader, enabled by webdriver.json's flags).
//! The 2-layer test model and its native logits come from scripts/make-test-model.sh.
#![cfg(target_arch = "wasm32")]

use actscale::backend::{BackendKind, cpu_device, init_webgpu};
use actscale::model::Model;
use actscale::model::predict::last_logits;
use actscale::self_check::{self, X};
use wasm_bindgen::JsCast;
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

// --- The worker protocol: every message as the worker codec (plain JS values) carries it. ---

use actscale::interpret::heads::{HeadMap, HeadShape};
use actscale::interpret::report::{
    Directions, DirectionsReport, HeadPatchReport, InterpretReport, Interpretation, KeepPoint, PatchMap, PatchReport,
    PatchedOn, RandomPoint, RankedUnit, SetMetrics,
};
use actscale::interpret::units::{MapShape, Unit};
use actscale::model::id::ModelId;
use actscale::model::site::Site;
use actscale::permalink;
use actscale::protocol::{
    AppliedState, EngineError, Job, ModelInfo, Prediction, Request, Response, SelfCheckReport, SplitMetrics,
    StepReport, SweepPoint, TaskChoice, TopToken, TrainProgress, TrainRequest,
};
use actscale::steer::example::Example;
use actscale::steer::hyper::{Hyper, Method, Selection};
use actscale::steer::saved::{FORMAT, SavedIntervention, VERSION};
use actscale::worker_codec::JsValues;
use gloo_worker::Codec;

/// Encodes `v` as the worker does and decodes it on "the other side"; Debug text compares
/// every field (floats exactly).
fn through_the_worker_codec<T: serde::Serialize + serde::de::DeserializeOwned + std::fmt::Debug>(v: &T) {
    let back: T = JsValues::decode(JsValues::encode(v));
    assert_eq!(format!("{back:?}"), format!("{v:?}"));
}

fn a_saved_intervention() -> SavedIntervention {
    SavedIntervention {
        format: FORMAT.into(),
        version: VERSION,
        model: Some(ModelId::of_file(TEST_MODEL, 2, 576)),
        method: Method::ActivScalar,
        selection: Selection { sites: vec![Site::ALL[1]], layers: vec![1], positions: vec![0, 4] },
        hyper: Hyper { steps: 7, ..Hyper::default() },
        beta: -0.25,
        n_layers: 2,
        d_model: 576,
        n_positions: 5,
        n_heads: 0,
        task: "pair".into(),
        seed: Some(u64::MAX - 1), // above 2^53, as in `a_train_request`
        examples: vec![Example { text: "Rome is in".into(), ids: vec![1, 2, 3], from: 11, to: 12 }],
        params: (0..20).map(|i| if i % 7 == 0 { i as f32 * 0.5 - 3.0 } else { 0.0 }).collect(),
    }
}

fn a_train_request(task: TaskChoice) -> TrainRequest {
    TrainRequest {
        task,
        seed: u64::MAX - 2, // above 2^53: must cross as a BigInt, exactly
        prompt: "The capital of France is".into(),
        from: " Paris".into(),
        to: " London".into(),
        method: Method::DynScalar,
        sites: Site::ALL.to_vec(),
        hyper: Hyper::default(),
        until_converged: true,
    }
}

#[wasm_bindgen_test]
fn model_bytes_cross_as_one_uint8array() {
    let bytes = TEST_MODEL[..1000].to_vec();
    let js = JsValues::encode(Request::LoadModelBytes { name: "m.gguf".into(), bytes: bytes.clone() });
    let inner = js_sys::Reflect::get(&js, &"LoadModelBytes".into()).unwrap();
    let field = js_sys::Reflect::get(&inner, &"bytes".into()).unwrap();
    let array = field.dyn_into::<js_sys::Uint8Array>().expect("bytes are a Uint8Array, not a JS array of numbers");
    assert_eq!(array.to_vec(), bytes);
}

#[wasm_bindgen_test]
fn every_request_crosses_the_worker_boundary_unchanged() {
    let requests = vec![
        Request::SelfCheck,
        Request::LoadModelUrl { url: "static/models/x.gguf".into(), sha256: Some("ab".repeat(32)) },
        Request::LoadModelBytes { name: "mine.gguf".into(), bytes: TEST_MODEL[..1000].to_vec() },
        Request::SetBackend(BackendKind::WebGpu),
        Request::PreferBackend(BackendKind::Cpu),
        Request::Predict { prompt: "Ünïcode ✓ prompt".into(), top_k: 10 },
        Request::Train(a_train_request(TaskChoice::Ccc)),
        Request::Sweep { request: a_train_request(TaskChoice::Ioi), lambdas: vec![0.0, 1.5, 40.0] },
        Request::Stop,
        Request::Interpret { prompts: 8 },
        Request::KeepTop { k: Some(14) },
        Request::KeepTop { k: None },
        Request::Patch {
            prompt: "Rome is in".into(),
            corrupt: "Paris is in".into(),
            from: " Italy".into(),
            to: " France".into(),
            heads: true,
        },
        Request::ServeAsHelper { channel: "actscale-helper-12".into() },
        Request::PatchLayers { clean: vec![1, 2], corrupt: vec![1, 3], from: 4, to: 5, heads: true, layers: 9..30 },
        Request::Steer { prompt: "p".into(), beta: -1.0, top_k: 5 },
        Request::Generate { prompt: "p".into(), tokens: 20, beta: 0.5 },
        Request::SetScalar { site: Site::ALL[0], layer: 1, position: 3, value: -2.5 },
        Request::Export,
        Request::Apply(a_saved_intervention()),
        Request::Apply(SavedIntervention {
            selection: Selection { sites: vec![Site::AttnHead], layers: vec![], positions: vec![2] },
            n_heads: 9,
            params: (0..110).map(|i| if i % 11 == 0 { i as f32 * 0.25 } else { 0.0 }).collect(),
            ..a_saved_intervention()
        }),
    ];
    for r in &requests {
        through_the_worker_codec(r);
    }
}

/// An interpretation with every kind of entry (flattened units and metrics included).
fn an_interpret_report() -> InterpretReport {
    let unit = Unit::at(Site::MlpOut, 1, 0);
    let metrics = SetMetrics { flip_rate: 1.0, delta_pos: 2.5, delta_neg: -3.0, kl_pos: 0.125, kl_neg: 0.25 };
    InterpretReport {
        interpretation: Interpretation {
            units: vec![RankedUnit {
                unit,
                token: "Rome".into(),
                alpha: -0.75,
                loo_delta_pos: 0.5,
                loo_delta_neg: -1.0,
            }],
            probes: vec![],
            keep_k: vec![KeepPoint { k: 1, metrics }],
            k_star: Some(1),
            random: vec![RandomPoint { k: 1, flip_mean: 0.5, flip_sd: 0.25, draws: 20 }],
        },
        shape: MapShape::sites(2, 1),
        tokens: vec!["Rome".into()],
        alpha: vec![0.0, 0.0, 0.0, -0.75],
        prompts: 4,
        training_prompts: 28,
    }
}

#[wasm_bindgen_test]
async fn every_response_crosses_the_worker_boundary_unchanged() {
    let check = self_check::run(&cpu_device(), BackendKind::Cpu).await.unwrap();
    let prediction = Prediction {
        prompt: "Rome is in".into(),
        ids: vec![1, 2],
        tokens: vec!["Rome".into(), " is".into()],
        top: vec![TopToken { id: 7, token: " Italy".into(), logit: 12.25, prob: 0.75 }],
        error: None,
    };
    let saved = a_saved_intervention();
    let split = SplitMetrics {
        prompts: 12,
        flip_rate: 0.5,
        delta_pos: 1.0,
        delta_neg: -2.0,
        delta_base: 0.1,
        kl_pos: 0.3,
        kl_neg: 0.4,
    };
    let progress = |test| TrainProgress {
        report: StepReport {
            step: 3,
            loss: 1.5,
            eff: 1.0,
            faith: 0.25,
            min: 0.5,
            l1: 4.0,
            nonzero: 9,
            delta_pos: 2.0,
            delta_neg: -1.0,
            flip_rate: 1.0,
            worst_delta_pos: 1.75,
            worst_delta_neg: -0.5,
        },
        steps: 10,
        test_flip_rate: test,
        ms: 812.5,
        heat: vec![0.0, 1.5, -2.0],
    };
    let responses = vec![
        Response::SelfCheck(SelfCheckReport {
            active: BackendKind::Cpu,
            reason: "this browser's WebGPU adapter is a software renderer (swiftshader)".into(),
            webgpu_unavailable: Some("no adapter".into()),
            cpu: Ok(check),
            webgpu: Some(Err("failed".into())),
        }),
        Response::LoadProgress { loaded: 5 << 30, total: None },
        Response::ModelReady(ModelInfo {
            name: "m".into(),
            arch: "gpt2".into(),
            n_layers: 2,
            d_model: 576,
            vocab_size: 49152,
            backend: BackendKind::WebGpu,
            load_ms: 1.5,
            id: ModelId::of_file(TEST_MODEL, 2, 576),
        }),
        Response::LoadFailed(EngineError::Model("not a GGUF".into())),
        Response::LoadFailed(EngineError::OutOfMemory("too large".into())),
        Response::LoadFailed(EngineError::Download("cut".into())),
        Response::Prediction(prediction.clone()),
        Response::TrainStarted {
            prompt: "Rome is in".into(),
            tokens: vec!["a".into()],
            n_layers: 2,
            params: 20,
            method: Method::SteerVec,
            from: " Italy".into(),
            to: " France".into(),
            corrupt: Some("Paris is in".into()),
        },
        Response::TrainProgress(progress(None)),
        Response::TrainProgress(progress(Some(0.25))),
        Response::TaskMetrics { seed: u64::MAX - 5, train: split.clone(), test: SplitMetrics::default() },
        Response::TrainDone { stopped: true, converged: None },
        Response::TrainDone { stopped: false, converged: Some("stopped at step 63: …".into()) },
        Response::TrainFailed(EngineError::Refused("x".into())),
        Response::TrainFailed(EngineError::BackendLost("y".into())),
        Response::SweepPoint(SweepPoint {
            lambda_m: 10.0,
            nonzero: 4,
            flip_rate: 0.5,
            delta_pos: 1.0,
            delta_neg: -1.0,
        }),
        Response::SweepDone { stopped: false },
        Response::Steered { beta: 0.5, prediction },
        Response::Generated {
            prompt: "p".into(),
            plain: " a b".into(),
            steered: None,
            error: Some("no intervention".into()),
        },
        Response::Edited { heat: vec![1.0, -1.0] },
        Response::Exported(Ok(saved.clone())),
        Response::Exported(Err(EngineError::Refused("nothing learned yet".into()))),
        Response::Applied(Ok(AppliedState {
            saved: saved.clone(),
            task: TaskChoice::Pair,
            prompt: "Rome is in".into(),
            from: " Italy".into(),
            to: " France".into(),
            tokens: vec!["Rome".into()],
            heat: vec![0.5],
        })),
        Response::Applied(Err(EngineError::Refused("different model".into()))),
        Response::Error(EngineError::Failed("oops".into())),
        Response::JobProgress { job: Job::Patch, done: 3, total: 30 },
        Response::JobStopped(Job::Interpret),
        Response::Interpreted(Ok(an_interpret_report())),
        Response::Interpreted(Err(EngineError::Refused("nothing learned yet".into()))),
        Response::Directions(Ok(DirectionsReport {
            directions: Directions { norm: vec![0.0, 1.5], cos: vec![0.0, -0.25] },
            shape: MapShape::sites(1, 1),
            tokens: vec!["Rome".into()],
        })),
        Response::Directions(Err(EngineError::Refused("dyn-scalar".into()))),
        Response::Patched(Ok(PatchReport {
            shape: MapShape::sites(1, 2),
            tokens: vec!["Rome".into(), " is".into()],
            delta_clean: -1.5,
            delta_corrupt: 2.25,
            effects: vec![0.5, -0.25, 0.0, 1.0],
            gradient: vec![0.125, 0.0, -0.5, 2.0],
            atp: vec![0.25, 0.5, 0.0, -1.0],
            heads: None,
            on: PatchedOn::TwoWorkers,
        })),
        Response::PatchedLayers(Ok(PatchMap {
            shape: MapShape::sites(1, 2),
            delta_clean: -1.5,
            delta_corrupt: 2.25,
            effects: vec![0.5, -0.25, 0.0, 1.0],
            heads: Some(HeadMap { shape: HeadShape { n_layers: 1, n_heads: 2, positions: 2 }, values: vec![0.5; 4] }),
        })),
        Response::PatchedLayers(Err(EngineError::Refused("the model is not loaded yet".into()))),
        Response::Patched(Ok(PatchReport {
            shape: MapShape::sites(1, 1),
            tokens: vec!["Rome".into()],
            delta_clean: -1.5,
            delta_corrupt: 2.25,
            effects: vec![0.5, -0.25],
            gradient: vec![0.125, 0.0],
            atp: vec![0.25, 0.5],
            heads: Some(HeadPatchReport {
                shape: HeadShape { n_layers: 1, n_heads: 2, positions: 1 },
                effects: vec![0.75, -0.5],
                gradient: vec![0.0, 1.25],
                atp: vec![-2.0, 0.5],
            }),
            on: PatchedOn::HelperFailed("the second worker stopped: out of memory".into()),
        })),
        Response::Kept { k: Some(2), heat: vec![0.0, 1.5] },
        Response::Kept { k: None, heat: vec![] },
    ];
    for r in &responses {
        through_the_worker_codec(r);
    }
}

#[wasm_bindgen_test]
fn a_link_made_in_the_browser_decodes_to_the_quantised_state() {
    let saved = a_saved_intervention();
    let link = permalink::link("http://127.0.0.1:8080/", &saved).unwrap();
    assert_eq!(permalink::decode(&link).unwrap(), permalink::quantised(&saved));
    assert!(permalink::decode(&link[..link.len() - 3]).is_err(), "a cut link is an error, not a panic");
}
