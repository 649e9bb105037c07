//! Adam on the intervention's parameters, and the proximal ℓ1 step (soft-threshold) that the
//! trainer applies after it. Kept apart from the trainer so that a unit test can check the
//! update on numbers worked out by hand.

use burn::tensor::Tensor;
use burn::tensor::activation::relu;

const BETA1: f32 = 0.9;
const BETA2: f32 = 0.999;
const EPS: f32 = 1e-8;

/// Adam's moments for one parameter tensor (Kingma & Ba, with bias correction).
#[derive(Clone)]
pub struct Adam {
    m: Tensor<2>,
    v: Tensor<2>,
    t: i32,
}

impl Adam {
    /// Fresh moments (zeros) shaped like `params`.
    pub fn new(params: &Tensor<2>) -> Adam {
        Adam { m: params.zeros_like(), v: params.zeros_like(), t: 0 }
    }

    /// One Adam step: p − lr·m̂/(√v̂ + ε), with m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ).
    pub fn step(&mut self, params: Tensor<2>, grad: Tensor<2>, lr: f32) -> Tensor<2> {
        self.t += 1;
        self.m = self.m.clone().mul_scalar(BETA1) + grad.clone().mul_scalar(1.0 - BETA1);
        self.v = self.v.clone().mul_scalar(BETA2) + grad.powi_scalar(2).mul_scalar(1.0 - BETA2);
        let m_hat = self.m.clone().div_scalar(1.0 - BETA1.powi(self.t));
        let v_hat = self.v.clone().div_scalar(1.0 - BETA2.powi(self.t));
        params - (m_hat / v_hat.sqrt().add_scalar(EPS)).mul_scalar(lr)
    }
}

/// The proximal step of `threshold·‖p‖₁`: sign(p)·max(0, |p| − threshold), element-wise, so
/// entries smaller than the threshold become exactly zero.
pub fn soft_threshold(p: Tensor<2>, threshold: f32) -> Tensor<2> {
    p.clone().sign() * relu(p.abs().sub_scalar(threshold))
}

#[cfg(test)]
mod tests {
    use burn::tensor::TensorData;
    use futures_lite::future::block_on;

    use super::*;
    use crate::backend::cpu_device;
    use crate::readback::to_vec;

    fn tensor(v: &[f32]) -> Tensor<2> {
        Tensor::from_data(TensorData::new(v.to_vec(), [1, v.len()]), &cpu_device())
    }

    #[test]
    fn two_steps_of_adam_then_soft_threshold_equal_the_hand_computation() {
        let (lr, threshold) = (0.1, 0.01);
        let mut p = tensor(&[0.5, -0.2, 0.0, 0.005]);
        let mut adam = Adam::new(&p);
        // Step 1: m̂ = g and v̂ = g², so each entry moves by lr·sign(g) (0 where g = 0):
        // [0.4, −0.1, 0, 0.005]; the threshold then takes 0.01 off every |p| and zeroes the last.
        p = soft_threshold(adam.step(p, tensor(&[0.1, -0.3, 0.0, 0.0]), lr), threshold);
        let got = block_on(to_vec(p.clone())).unwrap();
        let want = [0.39, -0.09, 0.0, 0.0];
        assert!(got.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-6), "{got:?}");
        assert_eq!(got[3], 0.0, "exactly zero");
        // Step 2, g = [0.2, 0.3, 0, 0]: m = 0.9·0.1·g₁ + 0.1·g₂ = [0.029, 0.003], m̂ = m/0.19 =
        // [0.152632, 0.015789]; v = 0.999·0.001·g₁² + 0.001·g₂² = [4.999e-5, 1.7991e-4], v̂ = v/0.001999
        // = [0.025008, 0.09]; steps lr·m̂/√v̂ = [0.096518, 0.005263]: [0.293482, −0.095263], minus 0.01 in |·|.
        p = soft_threshold(adam.step(p, tensor(&[0.2, 0.3, 0.0, 0.0]), lr), threshold);
        let got = block_on(to_vec(p)).unwrap();
        let want = [0.283482, -0.085263, 0.0, 0.0];
        assert!(got.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-5), "{got:?}");
    }

    #[test]
    fn soft_threshold_shrinks_towards_zero_and_zeroes_small_entries() {
        let got = block_on(to_vec(soft_threshold(tensor(&[1.5, -1.5, 0.25, -0.25, 0.0]), 0.5))).unwrap();
        assert_eq!(got, [1.0, -1.0, 0.0, 0.0, 0.0]);
    }
}
