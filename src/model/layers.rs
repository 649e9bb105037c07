//! The pieces a transformer block is made of: linear maps with optional bias, RMSNorm or
//! LayerNorm, and the two MLP forms (SwiGLU for llama/qwen2, GELU for gpt2).

use burn::tensor::Tensor;
use burn::tensor::activation::silu;

use super::kernels::row_product::{self, WeightRows};

/// y = x · Wᵀ (+ b) for rows x [n, in], W held as output rows [out, in] (the GGUF layout).
pub struct Linear {
    w: Tensor<2>,
    /// The same weight as the CPU backend's few-row kernels read it (`row_product`); None on
    /// WebGPU.
    rows: Option<WeightRows>,
    pub b: Option<Tensor<1>>,
}

impl Linear {
    /// `w`: W [out, in], contiguous.
    pub fn new(w: Tensor<2>, b: Option<Tensor<1>>) -> Self {
        let rows = WeightRows::of(&w);
        Linear { w, rows, b }
    }

    /// W [out, in].
    pub fn weight(&self) -> &Tensor<2> {
        &self.w
    }

    /// Whether the CPU backend's kernels (`model::kernels`) compute this map for a few rows.
    pub fn on_kernels(&self) -> bool {
        self.rows.is_some()
    }

    /// Applies the map to rows [n, in] -> [n, out].
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let y = match &self.rows {
            Some(rows) if x.dims()[0] <= row_product::MAX_ROWS => row_product::apply(x, rows),
            _ => Err(x),
        }
        .unwrap_or_else(|x| x.matmul(self.w.clone().transpose()));
        match &self.b {
            Some(b) => {
                let out = b.dims()[0];
                y + b.clone().reshape([1, out])
            }
            None => y,
        }
    }

    /// Applies the map to [batch, positions, in] -> [batch, positions, out].
    pub fn forward3(&self, x: Tensor<3>) -> Tensor<3> {
        let [b, t, d] = x.dims();
        let y = self.forward(x.reshape([b * t, d]));
        let out = y.dims()[1];
        y.reshape([b, t, out])
    }
}

/// RMSNorm (`bias` None, no mean removed) or LayerNorm (`bias` Some, mean removed, biased
/// variance), over the last axis.
pub struct Norm {
    pub weight: Tensor<1>,
    pub bias: Option<Tensor<1>>,
    pub eps: f32,
}

impl Norm {
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let d = self.weight.dims()[0];
        let w = self.weight.clone().reshape([1, 1, d]);
        match &self.bias {
            None => {
                let scale = x.clone().powi_scalar(2).mean_dim(2).add_scalar(self.eps).sqrt().recip();
                x * scale * w
            }
            Some(b) => {
                let centred = x.clone() - x.mean_dim(2);
                let scale = centred.clone().powi_scalar(2).mean_dim(2).add_scalar(self.eps).sqrt().recip();
                centred * scale * w + b.clone().reshape([1, 1, d])
            }
        }
    }
}

/// The MLP of a block.
pub enum Mlp {
    /// down(silu(gate(h)) * up(h)).
    SwiGlu { gate: Linear, up: Linear, down: Linear },
    /// down(gelu(up(h))), GELU in GPT-2's tanh form.
    Gelu { up: Linear, down: Linear },
}

impl Mlp {
    pub fn forward(&self, h: Tensor<3>) -> Tensor<3> {
        let [b, t, d] = h.dims();
        let h2 = h.reshape([b * t, d]);
        let y = match self {
            Mlp::SwiGlu { gate, up, down } => down.forward(silu(gate.forward(h2.clone())) * up.forward(h2)),
            Mlp::Gelu { up, down } => down.forward(gelu_tanh(up.forward(h2))),
        };
        y.reshape([b, t, d])
    }
}

/// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))): GPT-2's GELU (HF `gelu_new`, ggml's GELU).
fn gelu_tanh(x: Tensor<2>) -> Tensor<2> {
    const SQRT_2_OVER_PI: f32 = 0.797_884_6;
    let inner = (x.clone() + x.clone().powi_scalar(3).mul_scalar(0.044715)).mul_scalar(SQRT_2_OVER_PI);
    x.clone().mul_scalar(0.5) * (inner.tanh().add_scalar(1.0))
}

// Native only: #[test]s never run in the wasm test build, and these read tensors synchronously.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn tensor(rows: usize, cols: usize, seed: usize, device: &Device) -> Tensor<2> {
        let v: Vec<f32> = (0..rows * cols).map(|i| (((i + seed) * 7919) % 1000) as f32 / 500.0 - 1.0).collect();
        Tensor::from_data(TensorData::new(v, [rows, cols]), device)
    }

    /// Few rows (the kernels) and more than `MAX_ROWS` (gemm) give the same map, with the bias.
    #[test]
    fn few_and_many_rows_are_the_same_map() {
        let device = Device::flex().autodiff();
        let b: Tensor<1> = tensor(1, 40, 3, &device).reshape([40]);
        let linear = Linear::new(tensor(40, 24, 2, &device), Some(b));
        assert!(linear.rows.is_some(), "the CPU backend's weight is read by the kernels");
        let n = row_product::MAX_ROWS + 3;
        let x = tensor(n, 24, 5, &device);
        let whole = linear.forward(x.clone()).into_data().try_to_vec::<f32>().unwrap();
        for r in [0, 7, n - 1] {
            let one = linear.forward(x.clone().slice([r..r + 1, 0..24])).into_data().try_to_vec::<f32>().unwrap();
            // Sums of 24 products of values ≤ 1: f32 rounding differs by far less than 1e-4.
            let worst = one.iter().zip(&whole[r * 40..(r + 1) * 40]).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
            assert!(worst < 1e-4, "row {r} differs by {worst}");
        }
    }
}
