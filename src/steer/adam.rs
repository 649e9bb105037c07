//! Adam on the intervention's parameters. It returns each entry's step size too, which the
//! proximal minimality step (`prox.rs`) scales its threshold by. Kept apart from the trainer so
//! that a unit test can check the update on numbers worked out by hand.

use burn::tensor::Tensor;

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

    /// One Adam step: p − r·m̂ with r = lr/(√v̂ + ε), m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ).
    /// Returns the new parameters and r, each entry's step size.
    pub fn step(&mut self, params: Tensor<2>, grad: Tensor<2>, lr: f32) -> (Tensor<2>, Tensor<2>) {
        self.t += 1;
        self.m = self.m.clone().mul_scalar(BETA1) + grad.clone().mul_scalar(1.0 - BETA1);
        self.v = self.v.clone().mul_scalar(BETA2) + grad.powi_scalar(2).mul_scalar(1.0 - BETA2);
        let m_hat = self.m.clone().div_scalar(1.0 - BETA1.powi(self.t));
        let v_hat = self.v.clone().div_scalar(1.0 - BETA2.powi(self.t));
        let rate = v_hat.sqrt().add_scalar(EPS).recip().mul_scalar(lr);
        (params - m_hat * rate.clone(), rate)
    }

    /// Forgets the first moment where `keep` is 0 (entries the proximal step set to zero), so a
    /// unit leaves zero again only when fresh gradients, not the momentum that carried it to
    /// zero, outweigh λM/N.
    pub fn forget_momentum(&mut self, keep: Tensor<2>) {
        self.m = self.m.clone() * keep;
    }
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

    fn read(t: Tensor<2>) -> Vec<f32> {
        block_on(to_vec(t)).unwrap()
    }

    #[test]
    fn two_adam_steps_equal_the_hand_computation() {
        let lr = 0.1;
        let mut adam = Adam::new(&tensor(&[0.0; 3]));
        // Step 1: m̂ = g and v̂ = g², so r = lr/|g| and each entry moves by lr·sign(g); where
        // g = 0, r = lr/ε (the step is 0·r = 0).
        let (p, r) = adam.step(tensor(&[0.5, -0.2, 0.0]), tensor(&[0.1, -0.3, 0.0]), lr);
        let (p, r) = (read(p), read(r));
        assert!(p.iter().zip([0.4, -0.1, 0.0]).all(|(g, w)| (g - w).abs() < 1e-6), "{p:?}");
        assert!((r[0] - 1.0).abs() < 1e-5 && (r[1] - 1.0 / 3.0).abs() < 1e-5 && r[2] > 1e6, "{r:?}");
        // Step 2, g = [0.2, 0.3, 0]: m = 0.9·0.1·g₁ + 0.1·g₂ = [0.029, 0.003], m̂ = m/0.19 =
        // [0.152632, 0.015789]; v = 0.999·0.001·g₁² + 0.001·g₂² = [4.999e-5, 1.7991e-4], v̂ =
        // v/0.001999 = [0.025008, 0.09]; r = lr/√v̂ = [0.632353, 0.333333]; steps r·m̂ =
        // [0.096518, 0.005263].
        let (p, r) = adam.step(tensor(&[0.4, -0.1, 0.0]), tensor(&[0.2, 0.3, 0.0]), lr);
        let (p, r) = (read(p), read(r));
        assert!(p.iter().zip([0.303482, -0.105263, 0.0]).all(|(g, w)| (g - w).abs() < 1e-5), "{p:?}");
        assert!((r[0] - 0.632353).abs() < 1e-5 && (r[1] - 0.333333).abs() < 1e-5, "{r:?}");
    }
}
