//! A tiny autodiff computation that proves a backend works end to end:
//! y = Σ a·x, backward, read dy/da (which must equal x).

use serde::{Deserialize, Serialize};

use crate::backend::BackendKind;

/// Inputs of the self-check; dy/da must come back equal to `X`.
pub const X: [f32; 4] = [1.0, 2.0, 3.0, 4.0];
pub const A: [f32; 4] = [0.5, -1.0, 2.0, 0.25];

/// What one backend computed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SelfCheckResult {
    pub backend: BackendKind,
    pub x: Vec<f32>,
    pub a: Vec<f32>,
    /// y = Σ a·x
    pub y: f32,
    /// dy/da from burn's autodiff
    pub grad_a: Vec<f32>,
}

impl SelfCheckResult {
    /// True when dy/da equals x (to float precision) and y equals Σ a·x.
    pub fn is_correct(&self) -> bool {
        let y_expected: f32 = self.a.iter().zip(&self.x).map(|(a, x)| a * x).sum();
        self.grad_a.len() == self.x.len()
            && self.grad_a.iter().zip(&self.x).all(|(g, x)| (g - x).abs() < 1e-5)
            && (self.y - y_expected).abs() < 1e-4
    }
}

/// Runs the self-check on `device` (autodiff is switched on here). Reads are async so the
/// same code serves WebGPU in the browser, where synchronous reads are impossible.
#[cfg(feature = "engine")]
pub async fn run(device: &burn::tensor::Device, backend: BackendKind) -> Result<SelfCheckResult, String> {
    use crate::readback::to_vec;
    use burn::tensor::Tensor;
    let ad = device.clone().autodiff();
    let a = Tensor::<1>::from_floats(A, &ad).require_grad();
    let x = Tensor::<1>::from_floats(X, &ad);
    let y = (a.clone() * x).sum();
    let grads = y.backward();
    let grad = a.grad(&grads).ok_or_else(|| "autodiff returned no gradient for a".to_string())?;
    let y = to_vec(y).await?;
    let grad_a = to_vec(grad).await?;
    Ok(SelfCheckResult { backend, x: X.to_vec(), a: A.to_vec(), y: *y.first().ok_or("y came back empty")?, grad_a })
}

#[cfg(all(test, feature = "engine"))]
mod tests {
    use super::*;
    use crate::backend::cpu_device;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        futures_lite::future::block_on(f)
    }

    #[test]
    fn cpu_gradient_equals_x() {
        let r = block_on(run(&cpu_device(), BackendKind::Cpu)).unwrap();
        assert_eq!(r.grad_a, X.to_vec());
        assert!((r.y - (0.5 - 2.0 + 6.0 + 1.0)).abs() < 1e-6);
        assert!(r.is_correct());
    }

    #[test]
    fn is_correct_rejects_a_wrong_gradient() {
        let mut r = block_on(run(&cpu_device(), BackendKind::Cpu)).unwrap();
        r.grad_a[2] += 0.5;
        assert!(!r.is_correct());
    }
}
