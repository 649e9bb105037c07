//! Training in the browser on WebGPU (SwiftShader in headless Chromium) equals training on the
//! CPU backend: the same steps of each method, compared step by step. This is what the worker
//! does when a WebGPU browser presses Train; any synchronous tensor read on the way would panic
//! here ("Failed to read tensor data synchronously").
//!
//! The model is the tiny llama fixture with a tied head (tests/data/arch/llama-tied.gguf: 2
//! layers, d = 64, 288 tokens), the default model's architecture at a fraction of its size. The
//! property is that both backends run the same training code to the same numbers; every kernel a
//! step uses (embedding, RMSNorm, RoPE, attention, SwiGLU, the tied head, the hooks, autodiff,
//! Adam, the proximal step, the read-back) is the same at d = 64 as at d = 576, while SwiftShader,
//! which runs WebGPU on the CPU, takes seconds per step here instead of ~35 s on the 2-layer
//! SmolLM2 with its 49,152-token head. The real vocabulary is not what this compares.
#![cfg(target_arch = "wasm32")]

use actscale::backend::{cpu_device, init_webgpu};
use actscale::model::Model;
use actscale::model::predict::last_logits_hooked;
use actscale::protocol::StepReport;
use actscale::readback::to_vec;
use actscale::steer::example::Example;
use actscale::steer::hyper::{Hyper, Method, Selection};
use actscale::steer::metrics::{Metrics, evaluate};
use actscale::steer::train::Trainer;
use actscale::tasks::pair::pair;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

static TEST_MODEL: &[u8] = include_bytes!("data/arch/llama-tied.gguf");

const STEPS: usize = 3;

/// Losses and steered logits: both backends compute in f32 but sum in different orders, so
/// values agree to a few units of f32 rounding relative to their size (logits of order 1–20:
/// 1e-3 is ≥ ~100 ulps, far above reordering noise, far below what a wrong kernel gives).
const LOGIT_TOL: f32 = 1e-3;
/// Parameters after STEPS Adam steps: each step moves an entry by ≈ lr·m̂/√v̂, a ratio of
/// gradients, so backend rounding (relative ~1e-6 in g) moves it by ~lr·1e-6 per step; 1e-3
/// leaves room for a gradient entry near zero, whose ratio is less well determined.
const PARAM_TOL: f32 = 1e-3;

thread_local! {
    static GPU: std::cell::RefCell<Option<burn::tensor::Device>> = const { std::cell::RefCell::new(None) };
}

/// burn registers WebGPU once per page: every test shares the one device.
async fn gpu() -> burn::tensor::Device {
    if let Some(d) = GPU.with(|g| g.borrow().clone()) {
        return d;
    }
    // The test browser runs with --enable-unsafe-webgpu: no adapter is a failure, not a skip.
    let d = init_webgpu().await.expect("WebGPU adapter in headless Chromium");
    GPU.with(|g| *g.borrow_mut() = Some(d.clone()));
    d
}

struct Run {
    reports: Vec<StepReport>,
    params: Vec<f32>,
    steered: Vec<f32>,
}

async fn train(model: &Model, method: Method, selection: Selection) -> Run {
    // " the" and " a" are single tokens of the fixture's vocabulary (tests/data/arch/README.md).
    let ex = pair(&model.tokenizer, "the ring is in", " the", " a").unwrap();
    // λM is per unit: at λM 1 the group proximal step can switch DynScalar's probes (groups of
    // d + 1 numbers) off within 3 steps, leaving nothing to compare; 0.01 keeps them.
    let lambda_m = if method == Method::DynScalar { 0.01 } else { 1.0 };
    let hyper = Hyper { steps: STEPS, lambda_m, ..Hyper::default() };
    let mut trainer = Trainer::new(model, method, selection, hyper, std::slice::from_ref(&ex)).unwrap();
    let mut reports = vec![];
    while !trainer.done() {
        reports.push(trainer.step(model).await.unwrap());
    }
    let iv = trainer.intervention();
    let params = to_vec(iv.params.clone()).await.unwrap();
    let steered = last_logits_hooked(model, &ex.ids, &iv.hook(&[1.0])).await.unwrap();
    Run { reports, params, steered }
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[wasm_bindgen_test]
async fn every_method_trains_on_webgpu_as_on_the_cpu() {
    let on_gpu = Model::from_bytes(TEST_MODEL.to_vec(), &gpu().await).expect("the 2-layer model loads on WebGPU");
    let on_cpu = Model::from_bytes(TEST_MODEL.to_vec(), &cpu_device()).expect("and on the CPU");
    // Every method on both sites, and ActivScalar with per-head sites too (`Hook::heads`).
    let per_head = Selection { sites: actscale::model::site::Site::SELECTABLE.to_vec(), ..Selection::default() };
    let runs = Method::ALL.map(|m| (m, Selection::default())).into_iter().chain([(Method::ActivScalar, per_head)]);
    for (method, selection) in runs {
        let (g, c) = (train(&on_gpu, method, selection.clone()).await, train(&on_cpu, method, selection).await);
        for (rg, rc) in g.reports.iter().zip(&c.reports) {
            let scale = rc.loss.abs().max(1.0);
            assert!(
                (rg.loss - rc.loss).abs() <= LOGIT_TOL * scale,
                "{method:?} step {}: loss {} vs {}",
                rc.step,
                rg.loss,
                rc.loss
            );
            assert!(
                (rg.delta_pos - rc.delta_pos).abs() <= LOGIT_TOL && (rg.delta_neg - rc.delta_neg).abs() <= LOGIT_TOL,
                "{method:?}: {rg:?} vs {rc:?}"
            );
        }
        assert_eq!(g.reports.len(), STEPS);
        let params = max_diff(&g.params, &c.params);
        assert!(params <= PARAM_TOL, "{method:?}: parameters differ by {params}");
        assert!(c.params.iter().any(|&p| p != 0.0), "{method:?}: training changed nothing");
        let logits = max_diff(&g.steered, &c.steered);
        assert!(logits <= LOGIT_TOL, "{method:?}: steered logits differ by {logits}");
    }
}

/// Prompts of one token count, as a task's are (CCC's all have one length): "the kv is in",
/// "the kz is in", ...; none of these letters take part in the fixture's merges, so each word is
/// Ġ + two bytes and every prompt has the same number of tokens.
fn same_length_prompts(model: &Model, n: usize) -> Vec<Example> {
    let letters = ['k', 'v', 'z', 'q', 'x', 'j', 'y', 'l', 'u'];
    let words = letters.iter().flat_map(|a| letters.iter().map(move |b| format!("{a}{b}")));
    let examples: Vec<Example> =
        words.take(n).map(|w| pair(&model.tokenizer, &format!("the {w} is in"), " the", " a").unwrap()).collect();
    assert!(examples.iter().all(|e| e.ids.len() == examples[0].ids.len()), "one token count");
    examples
}

/// A task as the page trains it: a train split in minibatches of 4 (one Baseline each), then
/// metrics on a held-out split, as for CCC (whose country names the fixture's 288 tokens cannot
/// spell; building CCC's prompts is tested natively, in tests/tasks.rs). Also checks that the
/// parameters each step reads back with its report are the parameters the trainer holds.
async fn train_task(model: &Model) -> (Vec<StepReport>, Vec<f32>, Metrics) {
    let mut train = same_length_prompts(model, 12);
    let test = train.split_off(8);
    let hyper = Hyper { steps: 2, batch_size: 4, lambda_m: 1.0, ..Hyper::default() };
    let mut trainer = Trainer::new(model, Method::ActivScalar, Selection::default(), hyper, &train).unwrap();
    let mut reports = vec![];
    while !trainer.done() {
        reports.push(trainer.step(model).await.unwrap());
        let held = to_vec(trainer.intervention().params).await.unwrap();
        assert_eq!(trainer.params_read(), held.as_slice(), "the step's read-back is the trainer's parameters");
    }
    let iv = trainer.intervention();
    let metrics = evaluate(model, &iv, &test, trainer.hyper.margin).await.unwrap();
    (reports, to_vec(iv.params).await.unwrap(), metrics)
}

#[wasm_bindgen_test]
async fn a_task_trains_and_evaluates_on_webgpu_as_on_the_cpu() {
    let on_gpu = Model::from_bytes(TEST_MODEL.to_vec(), &gpu().await).unwrap();
    let on_cpu = Model::from_bytes(TEST_MODEL.to_vec(), &cpu_device()).unwrap();
    let (rg, pg, mg) = train_task(&on_gpu).await;
    let (rc, pc, mc) = train_task(&on_cpu).await;
    for (g, c) in rg.iter().zip(&rc) {
        assert!(
            (g.loss - c.loss).abs() <= LOGIT_TOL * c.loss.abs().max(1.0),
            "step {}: loss {} vs {}",
            c.step,
            g.loss,
            c.loss
        );
        assert!(
            (g.delta_pos - c.delta_pos).abs() <= LOGIT_TOL && (g.delta_neg - c.delta_neg).abs() <= LOGIT_TOL,
            "{g:?} vs {c:?}"
        );
    }
    assert!(max_diff(&pg, &pc) <= PARAM_TOL, "parameters differ by {}", max_diff(&pg, &pc));
    assert!(mc.prompts > 0 && mg.prompts == mc.prompts);
    for (name, g, c) in [
        ("Δ+", mg.logit_diff_pos, mc.logit_diff_pos),
        ("Δ−", mg.logit_diff_neg, mc.logit_diff_neg),
        ("Δ base", mg.logit_diff_base, mc.logit_diff_base),
    ] {
        assert!((g - c).abs() <= LOGIT_TOL, "test-split {name}: {g} vs {c}");
    }
    // KL is a mean of small differences of log-probabilities: relative to its size.
    assert!((mg.kl_pos - mc.kl_pos).abs() <= LOGIT_TOL * mc.kl_pos.max(1.0), "KL+ {} vs {}", mg.kl_pos, mc.kl_pos);
}

/// Activation patching and attribution on WebGPU equal the CPU backend's, per site and per head:
/// the same forward from a recorded residual, the same batched patched rows, the same backward. The corrupted prompt
/// has the same token count ("the kv is in" against "the ring is in" would not; two 2-letter
/// words of single bytes do).
#[wasm_bindgen_test]
async fn patching_and_attribution_on_webgpu_equal_the_cpu() {
    use actscale::interpret::attribution::{attribute, attribute_heads};
    use actscale::interpret::patching::PatchJob;
    let on_gpu = Model::from_bytes(TEST_MODEL.to_vec(), &gpu().await).expect("the fixture loads on WebGPU");
    let on_cpu = Model::from_bytes(TEST_MODEL.to_vec(), &cpu_device()).expect("and on the CPU");
    let clean = pair(&on_cpu.tokenizer, "the kv is in", " the", " a").unwrap();
    let corrupt = pair(&on_cpu.tokenizer, "the zq is in", " the", " a").unwrap().ids;
    assert_eq!(clean.ids.len(), corrupt.len());
    let mut maps = vec![];
    for model in [&on_gpu, &on_cpu] {
        let mut job = PatchJob::new(model, &clean.ids, &corrupt, clean.from, clean.to).await.unwrap().with_heads(model);
        while !job.is_done() {
            job.step(model).await.unwrap();
        }
        let (c, k) = job.runs();
        let a = attribute(model, &clean.ids, clean.from, clean.to, c, Some(k)).await.unwrap();
        let h = attribute_heads(model, &clean.ids, clean.from, clean.to, c, Some(k)).await.unwrap();
        let map = job.result();
        let head_effects = map.heads.expect("per-head effects").values;
        maps.push((map.delta_clean, map.delta_corrupt, map.effects, a.gradient, a.atp.unwrap(), head_effects, h));
    }
    let (g, c) = (&maps[0], &maps[1]);
    assert!((g.0 - c.0).abs() <= LOGIT_TOL && (g.1 - c.1).abs() <= LOGIT_TOL, "Δ {g:?} vs {c:?}");
    // Each effect and estimate is a difference of logits (or a sum of products of that size).
    let per_head = [
        ("patching per head", &g.5, &c.5),
        ("attribution per head", &g.6.gradient, &c.6.gradient),
        ("AtP per head", g.6.atp.as_ref().unwrap(), c.6.atp.as_ref().unwrap()),
    ];
    for (what, x, y) in
        [("patching", &g.2, &c.2), ("attribution", &g.3, &c.3), ("AtP", &g.4, &c.4)].into_iter().chain(per_head)
    {
        let d = max_diff(x, y);
        assert!(d <= LOGIT_TOL, "{what} differs by {d}");
    }
    assert!(c.2.iter().any(|e| e.abs() > 0.01), "patching moved Δ somewhere: {:?}", c.2);
    assert!(c.5.iter().any(|e| e.abs() > 0.01), "patching a head moved Δ somewhere: {:?}", c.5);
}
