//! Gradient checks of the objective for all three methods, run in f64 so that they hold on any
//! machine, and a proof that they catch a wrong gradient.
//!
//! This test binary configures burn's CPU device to compute in f64 before it creates any tensor
//! (the setting is per process, so it lives in its own binary). The model's weights are the f32
//! values of the file, held in f64; every activation, the loss and its gradient are f64.
//!
//! The check compares the autodiff gradient g with finite differences of the loss along
//! directions u (unit vectors: g/‖g‖ and seeded random ones), using the fourth-order central
//! difference D(u) = [8(L(h) − L(−h)) − (L(2h) − L(−2h))] / 12h, L(t) = loss(x + t·u).
//! Its error is at most (a) truncation h⁴·max|L⁽⁵⁾|/30 plus (b) rounding 1.5·δ/h, where δ bounds
//! the error of one f64 evaluation of L. The check passes when |D(u) − g·u| ≤ TOL·‖g‖.
//! See `TOL` for why that bound holds for a right gradient and fails for a wrong one.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::sync::OnceLock;

use actscale::interpret::attribution::{attribute, attribute_heads, grad_at_units};
use actscale::interpret::capture::Activations;
use actscale::interpret::units::{MapShape, Unit};
use actscale::model::Model;
use actscale::model::gguf::Gguf;
use actscale::model::hook::{Hook, Site};
use actscale::model::transformer::Positions;
use actscale::readback::to_vec_f64;
use actscale::steer::hyper::{Method, Selection};
use actscale::steer::intervention::Intervention;
use actscale::steer::objective::{Baseline, terms_with_hook};
use actscale::steer::prompts::batches;
use actscale::tasks::pair::pair;
use burn::tensor::{Device, FloatDType, Tensor, TensorData};
use futures_lite::future::block_on;

/// Step along a unit direction, as a share of the parameters' scale (see `point`): L varies on
/// that scale, so the truncation error (∝ h⁴·L⁽⁵⁾) is the same share for every method, while
/// L(±h), L(±2h) still differ well above f64's rounding. With scale 0.3, h = 1e-3.
/// (Seen while writing this: a DynScalar whose probe read raw activations, of size ~100, had
/// errors 2.7e-5, 2.2e-7, 2.8e-9 of ‖g‖ at h = 1e-3, 3e-4, 1e-4 — falling as h⁴: truncation,
/// which is why h follows the parameters' scale.)
const STEP_OF_SCALE: f64 = 1.0 / 300.0;

/// Pass bound on |D(u) − g·u| / ‖g‖. For a right gradient the error is far below it:
/// (b) δ — the rounding of one f64 loss evaluation — is ~1e-13 of the loss scale here (f64's unit
///     roundoff is 1.1e-16; the longest sums, over 49,152 vocabulary entries, lose at most a few
///     hundred units, measured by `rounding_noise_is_far_below_the_bound`), so 1.5·δ/h ≲ 1e-9;
/// (a) with h a 300th of the parameter scale, truncation (h⁴·|L⁽⁵⁾|/30) is ~1e-10 of ‖g‖ (measured
///     worst errors: 6.6e-11 ActivScalar, 2.6e-12 SteerVec, 6.8e-11 DynScalar);
/// A wrong gradient (a sign flipped on one hook term, a factor missing) is off by a sizeable
/// fraction of ‖g‖ along g itself: a flipped sign at the last MLP output gives 3.3e-2 (SteerVec),
/// 0.10 (DynScalar) and 0.81 (ActivScalar), 4.5 to 6 orders above the bound.
const TOL: f64 = 1e-6;

fn f64_device() -> Device {
    static DEVICE: OnceLock<Device> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let mut device = Device::flex();
            device.configure(FloatDType::F64).expect("burn's CPU backend computes in f64");
            device
        })
        .clone()
}

/// The 2-layer test model (first two blocks of the real file), on the f64 device.
fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        let device = f64_device();
        let g = Gguf::parse(common::model_bytes()).expect("real model parses");
        let bytes = actscale::model::gguf::writer::truncate_layers(&g, 2).expect("truncates");
        Model::from_bytes(bytes, &device).expect("the 2-layer model loads in f64")
    })
}

/// A hook that gives the intervention's value but the wrong gradient at one site: the term it
/// adds, t = h̃ − h, is replaced by 2·stop_grad(t) − t (same value, gradient negated).
struct SignFlipped<K: Hook> {
    inner: K,
    at: (Site, usize),
}

impl<K: Hook> Hook for SignFlipped<K> {
    fn site(&self, site: Site, layer: usize, h: Tensor<3>) -> Tensor<3> {
        let out = self.inner.site(site, layer, h.clone());
        if (site, layer) != self.at {
            return out;
        }
        let term = out - h.clone();
        h + term.clone().detach().mul_scalar(2.0) - term
    }
}

/// Deterministic pseudo-random numbers (xorshift64*, Box–Muller), so directions are the same
/// on every machine.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        ((self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        (-2.0 * self.uniform().ln()).sqrt() * (std::f64::consts::TAU * self.uniform()).cos()
    }
}

fn unit(v: Vec<f64>) -> Vec<f64> {
    let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    v.into_iter().map(|x| x / n).collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// One method's loss as a function of its parameters: Rome is in, " Italy" → " France", m = 2,
/// λF = 1 (the trainer's L_eff + λF·L_faith; its ℓ1 term has the obvious gradient).
struct Problem {
    iv: Intervention,
    base: Baseline,
    flip: Option<(Site, usize)>,
}

impl Problem {
    fn new(method: Method, flip: Option<(Site, usize)>) -> Problem {
        Problem::with_selection(method, Selection::default(), flip)
    }

    fn with_selection(method: Method, selection: Selection, flip: Option<(Site, usize)>) -> Problem {
        let m = model();
        let ex = pair(&m.tokenizer, "Rome is in", " Italy", " France").unwrap();
        let base = Baseline::new(m, &batches(std::slice::from_ref(&ex))[0]).unwrap();
        let c = &m.net.config;
        let iv =
            Intervention::zeros(method, selection, (c.n_layers, c.d_model, c.n_heads), ex.ids.len(), m.net.device());
        Problem { iv, base, flip }
    }

    /// Loss and (when `grad`) its gradient at parameter values `x`.
    fn eval(&self, x: &[f64], grad: bool) -> (f64, Option<Vec<f64>>, Vec<f64>) {
        let [rows, cols] = self.iv.params.dims();
        let params = Tensor::<2>::from_data(TensorData::new(x.to_vec(), [rows, cols]), model().net.device());
        let params = if grad { params.require_grad() } else { params };
        let iv = Intervention { params: params.clone(), ..self.iv.clone() };
        let applied = iv.hook(&self.base.betas);
        let t = match self.flip {
            None => terms_with_hook(model(), &applied, &self.base, 2.0, 1.0),
            Some(at) => {
                let hook = SignFlipped { inner: applied, at };
                terms_with_hook(model(), &hook, &self.base, 2.0, 1.0)
            }
        }
        .unwrap();
        let hinge_args = block_on(to_vec_f64(t.delta.clone())).unwrap();
        let g = grad.then(|| {
            let grads = t.total.clone().backward();
            block_on(to_vec_f64(params.grad(&grads).expect("a gradient reaches the parameters"))).unwrap()
        });
        (block_on(to_vec_f64(t.total)).unwrap()[0], g, hinge_args)
    }
}

/// The worst |D(u) − g·u| / ‖g‖ over the gradient direction and `random` seeded directions.
fn worst_relative_error(p: &Problem, x0: &[f64], h: f64, random: usize, seed: u64) -> f64 {
    let (_, g, delta0) = p.eval(x0, true);
    let g = g.unwrap();
    let norm = dot(&g, &g).sqrt();
    assert!(norm > 1e-3, "the gradient is too small to check: ‖g‖ = {norm}");
    let mut rng = Rng(seed);
    let mut dirs = vec![unit(g.clone())];
    dirs.extend((0..random).map(|_| unit((0..g.len()).map(|_| rng.normal()).collect())));
    let mut worst = 0.0f64;
    for u in &dirs {
        let at = |t: f64| {
            let x: Vec<f64> = x0.iter().zip(u).map(|(a, b)| a + t * b).collect();
            let (l, _, delta) = p.eval(&x, false);
            // The hinges max(0, m ∓ Δ) must not change sides inside the stencil, or L is not smooth there.
            for (i, (d, d0)) in delta.iter().zip(&delta0).enumerate() {
                let s = if i < delta.len() / 2 { 1.0 } else { -1.0 };
                assert_eq!((2.0 - s * d) > 0.0, (2.0 - s * d0) > 0.0, "a hinge kink lies within {t} of the point");
            }
            l
        };
        let fd = (8.0 * (at(h) - at(-h)) - (at(2.0 * h) - at(-2.0 * h))) / (12.0 * h);
        worst = worst.max((fd - dot(&g, u)).abs() / norm);
    }
    worst
}

/// A point away from zero (where the hook is the identity) with values of size `scale`, where the
/// steered model is still sane for every method (α of a few tenths; DynScalar's probe reads
/// RMS-normalised activations divided by the width, so its α is of the same size).
fn point(n: usize) -> (Vec<f64>, f64) {
    let scale = 0.3;
    ((0..n).map(|i| scale * (i as f64 * 0.7311).sin()).collect(), scale)
}

fn check(method: Method, flip: Option<(Site, usize)>) -> f64 {
    check_problem(Problem::new(method, flip), method, flip)
}

fn check_problem(p: Problem, method: Method, flip: Option<(Site, usize)>) -> f64 {
    let [rows, cols] = p.iv.params.dims();
    let (x0, scale) = point(rows * cols);
    let worst = worst_relative_error(&p, &x0, scale * STEP_OF_SCALE, 4, 0x5eed);
    eprintln!("{method:?} flip {flip:?}: worst |D(u) − g·u|/‖g‖ = {worst:.3e} (bound {TOL:.0e})");
    worst
}

/// ActivScalar with every site, per-head rows included (`Hook::heads`): the trainer's gradient
/// reaches the heads' scalars right.
#[test]
fn activ_scalar_with_per_head_sites_gradient_matches_finite_differences() {
    let all = Selection { sites: Site::SELECTABLE.to_vec(), ..Selection::default() };
    let p = Problem::with_selection(Method::ActivScalar, all, None);
    assert!(p.iv.n_heads > 0, "the problem has per-head rows");
    let worst = check_problem(p, Method::ActivScalar, None);
    assert!(worst <= TOL, "{worst:e}");
}

#[test]
fn activ_scalar_gradient_matches_finite_differences() {
    let worst = check(Method::ActivScalar, None);
    assert!(worst <= TOL, "{worst:e}");
}

#[test]
fn steer_vec_gradient_matches_finite_differences() {
    let worst = check(Method::SteerVec, None);
    assert!(worst <= TOL, "{worst:e}");
}

#[test]
fn dyn_scalar_gradient_matches_finite_differences() {
    let worst = check(Method::DynScalar, None);
    assert!(worst <= TOL, "{worst:e}");
}

/// The check is not vacuous: a gradient with one hook term's sign flipped fails it, by far.
#[test]
fn a_sign_flipped_hook_term_fails_the_check_for_every_method() {
    for method in Method::ALL {
        let worst = check(method, Some((Site::MlpOut, 1)));
        assert!(worst > 100.0 * TOL, "{method:?}: a wrong gradient passed ({worst:e})");
    }
}

/// The evaluation noise δ that the bound assumes: two evaluations at points 1e-9 apart along
/// a random direction differ by the true change (~1e-9·|g·u|) plus rounding; the second
/// difference L(ε) − 2L(0) + L(−ε) removes the linear part and leaves ≤ 4δ + ε²·|L''|.
#[test]
fn rounding_noise_is_far_below_the_bound() {
    let p = Problem::new(Method::ActivScalar, None);
    let [rows, cols] = p.iv.params.dims();
    let (x0, scale) = point(rows * cols);
    let h = scale * STEP_OF_SCALE;
    let mut rng = Rng(7);
    let u = unit((0..x0.len()).map(|_| rng.normal()).collect());
    let eps = 1e-9;
    let at = |t: f64| p.eval(&x0.iter().zip(&u).map(|(a, b)| a + t * b).collect::<Vec<_>>(), false).0;
    let (l0, lp, lm) = (at(0.0), at(eps), at(-eps));
    let noise = (lp - 2.0 * l0 + lm).abs() / 4.0;
    let (_, g, _) = p.eval(&x0, true);
    let norm = g.map(|g| dot(&g, &g).sqrt()).unwrap();
    eprintln!("loss {l0}, δ ≈ {noise:.3e}, 1.5·δ/(h·‖g‖) = {:.3e}", 1.5 * noise / (h * norm));
    assert!(1.5 * noise / (h * norm) < TOL / 100.0, "δ = {noise:e} leaves too little room under the bound");
}

/// Attribution's g(u) = ∂Δ/∂α_u at α = 0, computed as h_u·∂Δ/∂h_u from one backward pass
/// (`interpret::attribution`), against the same central differences of Δ itself along g and
/// along random directions of α. Δ has no hinge, so any point is smooth; α's scale is 1 here,
/// and the step the same 1e-3 as above.
#[test]
fn attribution_gradient_matches_finite_differences_of_delta() {
    let m = model();
    let ex = pair(&m.tokenizer, "Rome is in", " Italy", " France").unwrap();
    let acts = Activations::record(m, &ex.ids).unwrap();
    let grad = grad_at_units(m, &ex.ids, ex.from, ex.to).unwrap();
    let units = grad.dims()[0];
    let g = block_on(to_vec_f64((acts.unit_rows() * grad).sum_dim(1).reshape([units]))).unwrap();
    let c = &m.net.config;
    let zero = Intervention::zeros(
        Method::ActivScalar,
        Selection::default(),
        (c.n_layers, c.d_model, c.n_heads),
        ex.ids.len(),
        m.net.device(),
    );
    assert_eq!(zero.params.dims()[0] * zero.params.dims()[1], units, "one g per α");
    let delta_at = |x: Vec<f64>| {
        let params = Tensor::<2>::from_data(TensorData::new(x, zero.params.dims()), m.net.device());
        let iv = Intervention { params, ..zero.clone() };
        let logits = m.net.forward(&[ex.ids.clone()], &iv.hook(&[1.0]), Positions::Last).unwrap();
        let z = block_on(to_vec_f64(logits)).unwrap();
        z[ex.to as usize] - z[ex.from as usize]
    };
    let norm = dot(&g, &g).sqrt();
    assert!(norm > 1e-3, "‖g‖ = {norm}");
    let mut rng = Rng(0xa77);
    let mut dirs = vec![unit(g.clone())];
    dirs.extend((0..4).map(|_| unit((0..units).map(|_| rng.normal()).collect())));
    let h = 1e-3;
    let mut worst = 0.0f64;
    for u in &dirs {
        let at = |t: f64| delta_at(u.iter().map(|x| t * x).collect());
        let fd = (8.0 * (at(h) - at(-h)) - (at(2.0 * h) - at(-2.0 * h))) / (12.0 * h);
        worst = worst.max((fd - dot(&g, u)).abs() / norm);
    }
    eprintln!("attribution g: worst |D(u) − g·u|/‖g‖ = {worst:.3e} (bound {TOL:.0e})");
    assert!(worst <= TOL, "{worst:e}");
}

/// Scales each head's output z at (layer, head, position) by 1 + α (`heads::HeadShape` order).
struct HeadScales {
    /// [n_layers · heads, positions]
    alpha: Tensor<2>,
}

impl Hook for HeadScales {
    fn heads(&self, layer: usize, z: Tensor<4>) -> Tensor<4> {
        let [_, nh, t, _] = z.dims();
        z * self.alpha.clone().narrow(0, layer * nh, nh).reshape([1, nh, t, 1]).add_scalar(1.0)
    }
}

/// Per head, g(u) = z_u·∂Δ/∂z_u from one backward pass, against central differences of Δ with
/// every head's output scaled by 1 + α_u, as the test above does per site.
#[test]
fn head_attribution_gradient_matches_finite_differences_of_delta() {
    let m = model();
    let ex = pair(&m.tokenizer, "Rome is in", " Italy", " France").unwrap();
    let acts = Activations::record(m, &ex.ids).unwrap();
    let g = block_on(attribute_heads(m, &ex.ids, ex.from, ex.to, &acts, None)).unwrap().gradient;
    let g: Vec<f64> = g.into_iter().map(f64::from).collect();
    let c = &m.net.config;
    let (rows, t) = (c.n_layers * c.n_heads, ex.ids.len());
    assert_eq!(g.len(), rows * t, "one g per (layer, head, position)");
    let delta_at = |x: Vec<f64>| {
        let hook = HeadScales { alpha: Tensor::<2>::from_data(TensorData::new(x, [rows, t]), m.net.device()) };
        let z = block_on(to_vec_f64(m.net.forward(&[ex.ids.clone()], &hook, Positions::Last).unwrap())).unwrap();
        z[ex.to as usize] - z[ex.from as usize]
    };
    let norm = dot(&g, &g).sqrt();
    assert!(norm > 1e-3, "‖g‖ = {norm}");
    let mut rng = Rng(0x4ead);
    let mut dirs = vec![unit(g.clone())];
    dirs.extend((0..4).map(|_| unit((0..g.len()).map(|_| rng.normal()).collect())));
    let h = 1e-3;
    let mut worst = 0.0f64;
    for u in &dirs {
        let at = |s: f64| delta_at(u.iter().map(|x| s * x).collect());
        let fd = (8.0 * (at(h) - at(-h)) - (at(2.0 * h) - at(-2.0 * h))) / (12.0 * h);
        worst = worst.max((fd - dot(&g, u)).abs() / norm);
    }
    eprintln!("head attribution g: worst |D(u) − g·u|/‖g‖ = {worst:.3e} (bound {TOL:.0e})");
    assert!(worst <= TOL, "{worst:e}");
}

/// W_O is linear and this model has no W_O bias: scaling every head at (l, p) by 1 + α is
/// scaling attn_out there, and replacing every head's output is replacing attn_out. So g and AtP
/// summed over the heads are attn_out's. In f64 the two routes through W_O differ by rounding
/// of a few hundred ulps of the terms' scale; 1e-9 of the largest value leaves 10⁴ to spare.
#[test]
fn head_attribution_adds_up_to_the_attn_out_attribution() {
    let m = model();
    let clean = pair(&m.tokenizer, "The capital of Italy is", " Rome", " Paris").unwrap();
    let corrupt = m.tokenizer.encode("The capital of France is").unwrap();
    let (c, k) = (Activations::record(m, &clean.ids).unwrap(), Activations::record(m, &corrupt).unwrap());
    let sites = block_on(attribute(m, &clean.ids, clean.from, clean.to, &c, Some(&k))).unwrap();
    let heads = block_on(attribute_heads(m, &clean.ids, clean.from, clean.to, &c, Some(&k))).unwrap();
    let (t, nh, n) = (clean.ids.len(), m.net.config.n_heads, m.net.config.n_layers);
    let shape = MapShape::sites(n, t);
    for (what, per_site, per_head) in
        [("g", &sites.gradient, &heads.gradient), ("AtP", sites.atp.as_ref().unwrap(), heads.atp.as_ref().unwrap())]
    {
        let scale = per_site.iter().chain(per_head.iter()).fold(0.0f32, |a, x| a.max(x.abs()));
        assert!(scale > 1e-3, "{what} is not all zero");
        for l in 0..n {
            for p in 0..t {
                let summed: f64 = (0..nh).map(|h| f64::from(per_head[(l * nh + h) * t + p])).sum();
                let site = f64::from(per_site[shape.index(Unit::at(Site::AttnOut, l, p))]);
                // The maps come back as f32: each of the nh + 1 values within an f32 ulp of scale.
                let tol = 1e-9 * f64::from(scale) + (nh + 1) as f64 * f64::from(f32::EPSILON) * f64::from(scale);
                assert!((summed - site).abs() <= tol, "{what} layer {l} pos {p}: heads {summed} vs attn_out {site}");
            }
        }
    }
}
