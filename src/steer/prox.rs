//! The minimality step: proximal Adam. The objective is L = L_eff + λF·L_faith + λM·L_min with
//! L_min = (1/N)·Σ_u ‖p_u‖ over the N units u of the method (one α for ActivScalar, one vector
//! for SteerVec, one probe [w | b] for DynScalar; ‖·‖ is |·| for a scalar and ‖·‖₂ for a group).
//! Adam sees only the smooth part, L_eff + λF·L_faith (the ℓ-term is never in its gradient), and
//! after each Adam step p' = p − r⊙m̂, r = lr/(√v̂ + ε), the ℓ-term is applied by its proximal
//! operator in Adam's own metric (step size r per entry), with μ = λM/N:
//!
//!   scalar unit:  p = sign(p')·max(0, |p'| − r·μ)
//!   group unit:   p_u = p'_u·max(0, 1 − τ_u/‖p'_u‖₂),  τ_u = μ·r_u,  r_u = 1/mean_{i∈u}(1/r_i)
//!
//! (the group form is the exact proximal step when r is equal within the group; otherwise r_u,
//! the harmonic mean, is lr/mean(√v̂ + ε): the group's step size set by the entries that get
//! gradient, not by idle ones whose r = lr/ε is huge — an arithmetic mean of r let those idle
//! entries switch off every DynScalar probe). Why this and not lr·μ: Adam moves each
//! entry by ≈ lr per step whatever the gradient's size, so a threshold of lr·μ (plain SGD's
//! proximal step) is either negligible or larger than every step; in Adam's metric, a unit that
//! is at zero stays exactly zero while |m̂| ≤ μ (‖m̂_u‖₂ ≤ μ for a group) — the subgradient
//! condition of the ℓ-term, with Adam's averaged gradient. Units therefore settle: a zero leaves
//! zero only when the smooth loss pulls harder than λM/N.

use burn::tensor::Tensor;
use burn::tensor::activation::relu;

use super::hyper::Method;

/// The proximal step of μ·Σ_u ‖p_u‖ at Adam's step sizes `rate`, for `method`'s units (scalars,
/// or rows of the parameter matrix). Units that shrink past zero become exactly zero.
pub fn prox(method: Method, p: Tensor<2>, rate: Tensor<2>, mu: f32) -> Tensor<2> {
    match method {
        Method::ActivScalar => soft_threshold(p, rate.mul_scalar(mu)),
        Method::SteerVec | Method::DynScalar => {
            group_soft_threshold(p, rate.recip().mean_dim(1).recip().mul_scalar(mu))
        }
    }
}

/// Element-wise sign(p)·max(0, |p| − τ).
fn soft_threshold(p: Tensor<2>, tau: Tensor<2>) -> Tensor<2> {
    p.clone().sign() * relu(p.abs() - tau)
}

/// Row-wise p·max(0, 1 − τ/‖p‖₂), τ [rows, 1]; a row of zeros stays zero.
fn group_soft_threshold(p: Tensor<2>, tau: Tensor<2>) -> Tensor<2> {
    let norm = p.clone().powi_scalar(2).sum_dim(1).sqrt();
    // max(‖p‖, tiny) only guards 0/0: a zero row has factor 0 either way.
    let factor = relu(tau.div(norm.clamp_min(1e-30)).neg().add_scalar(1.0));
    p * factor
}

#[cfg(test)]
mod tests {
    use burn::tensor::TensorData;
    use futures_lite::future::block_on;

    use super::*;
    use crate::backend::cpu_device;
    use crate::readback::to_vec;

    fn tensor<const C: usize>(rows: &[[f32; C]]) -> Tensor<2> {
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        Tensor::from_data(TensorData::new(flat, [rows.len(), C]), &cpu_device())
    }

    fn read(t: Tensor<2>) -> Vec<f32> {
        block_on(to_vec(t)).unwrap()
    }

    fn close(got: &[f32], want: &[f32]) -> bool {
        got.len() == want.len() && got.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-6)
    }

    #[test]
    fn scalar_units_shrink_by_their_own_step_size_and_stop_at_exactly_zero() {
        // μ = 2: thresholds r·μ = [0.2, 0.2, 1.0, 0.02].
        let p = tensor(&[[0.5, -0.5, 0.5, 0.01]]);
        let r = tensor(&[[0.1, 0.1, 0.5, 0.01]]);
        let got = read(prox(Method::ActivScalar, p, r, 2.0));
        assert!(close(&got, &[0.3, -0.3, 0.0, 0.0]), "{got:?}");
        assert_eq!(got[2].to_bits(), 0, "exactly +0");
    }

    #[test]
    fn group_units_shrink_along_their_direction_and_vanish_below_the_threshold() {
        // μ = 1. Row 0: ‖(3, 4)‖ = 5, r_u = 1/mean(2, 2/3) = 0.75 → (3, 4)·(1 − 0.75/5) =
        // (2.55, 3.4). Row 1: ‖(0.3, 0.4)‖ = 0.5 ≤ τ = 1 → exactly zero. Row 2: zeros stay zeros
        // (no NaN). Row 3: an idle entry (r = 1e6) does not blow the threshold up: r_u ≈ 0.2,
        // ‖(1, 0)‖ = 1 → (0.8, 0).
        let p = tensor(&[[3.0, 4.0], [0.3, 0.4], [0.0, 0.0], [1.0, 0.0]]);
        let r = tensor(&[[0.5, 1.5], [1.0, 1.0], [1.0, 1.0], [0.1, 1e6]]);
        let got = read(prox(Method::SteerVec, p, r, 1.0));
        assert!(close(&got, &[2.55, 3.4, 0.0, 0.0, 0.0, 0.0, 0.8, 0.0]), "{got:?}");
        assert!(got.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn a_unit_at_zero_stays_there_while_the_averaged_gradient_is_below_mu() {
        // After Adam from p = 0: p' = −r·m̂. With r = 0.1 and μ = 0.5, m̂ = 0.4 stays at zero;
        // m̂ = 0.6 leaves zero by r·(m̂ − μ) = 0.01.
        let r = tensor(&[[0.1, 0.1]]);
        let p_after_adam = tensor(&[[-0.04, -0.06]]);
        let got = read(prox(Method::ActivScalar, p_after_adam, r, 0.5));
        assert!(close(&got, &[0.0, -0.01]), "{got:?}");
    }
}
