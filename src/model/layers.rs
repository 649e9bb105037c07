//! The pieces a transformer block is made of: linear maps with optional bias, RMSNorm or
//! LayerNorm, and the two MLP forms (SwiGLU for llama/qwen2, GELU for gpt2).

use burn::tensor::Tensor;
use burn::tensor::activation::silu;

use super::second_thread;

/// y = x · W (+ b) for rows x [n, in].
pub struct Linear {
    w: Weight,
    pub b: Option<Tensor<1>>,
}

/// How a weight matrix is held, which decides the matmul's operand order.
enum Weight {
    /// Wᵀ as [out, in] over memory laid out [in][out] (column-major for gemm): yᵀ = Wᵀ·xᵀ. With
    /// few rows, gemm reads such a left operand as it is, where a right operand [in, out] is
    /// first packed (a copy of every weight, per call): measured on `bench-forward`, 10 tokens,
    /// 84.5 → 68.3 ms on 1 thread and 67.1 → 57.4 ms on 2.
    Left(Tensor<2>),
    /// W as [in, out] (any strides): y = x·W. For the tied LM head, a view of the embedding.
    Right(Tensor<2>),
}

impl Linear {
    /// `left`: Wᵀ [out, in] laid out column-major (see [`Weight::Left`]).
    pub fn left(w_t: Tensor<2>, b: Option<Tensor<1>>) -> Self {
        Linear { w: Weight::Left(w_t), b }
    }

    /// `w`: W [in, out].
    pub fn right(w: Tensor<2>, b: Option<Tensor<1>>) -> Self {
        Linear { w: Weight::Right(w), b }
    }

    /// Applies the map to rows [n, in] -> [n, out].
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let y = match &self.w {
            Weight::Left(w_t) if second_thread::active() && runs_on_one_thread(x.dims()[0], w_t.dims()[1], w_t.dims()[0] / 2) => {
                // Half the outputs each, here and on the second thread: [out, n] stacked.
                let [out, d] = w_t.dims();
                let (top, bottom) = (w_t.clone().slice([0..out / 2, 0..d]), w_t.clone().slice([out / 2..out, 0..d]));
                let xt = x.transpose();
                let xt2 = xt.clone();
                let (a, b) = second_thread::join(move || top.matmul(xt), move || bottom.matmul(xt2));
                Tensor::cat(vec![a, b], 0).transpose()
            }
            Weight::Left(w_t) => w_t.clone().matmul(x.transpose()).transpose(),
            Weight::Right(w) if second_thread::active() && runs_on_one_thread(x.dims()[0], w.dims()[0], w.dims()[1] / 2) => {
                let [d, out] = w.dims();
                let (left, right) = (w.clone().slice([0..d, 0..out / 2]), w.clone().slice([0..d, out / 2..out]));
                let x2 = x.clone();
                let (a, b) = second_thread::join(move || x.matmul(left), move || x2.matmul(right));
                Tensor::cat(vec![a, b], 1)
            }
            Weight::Right(w) => x.matmul(w.clone()),
        };
        match &self.b {
            Some(b) => {
                let out = b.dims()[0];
                y + b.clone().reshape([1, out])
            }
            None => y,
        }
    }

    /// The same map, one row at a time (for the LM head on a few rows: see `Transformer`).
    pub fn forward_row_by_row(&self, x: Tensor<2>) -> Tensor<2> {
        let [n, d] = x.dims();
        Tensor::cat((0..n).map(|i| self.forward(x.clone().slice([i..i + 1, 0..d]))).collect(), 0)
    }

    /// Applies the map to [batch, positions, in] -> [batch, positions, out].
    pub fn forward3(&self, x: Tensor<3>) -> Tensor<3> {
        let [b, t, d] = x.dims();
        let y = self.forward(x.reshape([b * t, d]));
        let out = y.dims()[1];
        y.reshape([b, t, out])
    }
}

/// Whether burn-flex multiplies [rows, inner] by [inner, cols] on one thread: below 192³
/// multiply-adds (its `PARALLEL_THRESHOLD`), or a matrix–vector product (gemm's gemv is
/// single-threaded). Only such halves go to the second thread: a larger product already uses
/// rayon's pool, which the helper thread is not part of.
fn runs_on_one_thread(rows: usize, inner: usize, cols: usize) -> bool {
    rows == 1 || rows.saturating_mul(inner).saturating_mul(cols) < 192 * 192 * 192
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

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn tensor(rows: usize, cols: usize, seed: usize) -> Tensor<2> {
        let v: Vec<f32> = (0..rows * cols).map(|i| (((i + seed) * 7919) % 1000) as f32 / 500.0 - 1.0).collect();
        Tensor::from_data(TensorData::new(v, [rows, cols]), &Device::flex())
    }

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn row_by_row_is_the_same_map() {
        let b: Tensor<1> = tensor(1, 40, 3).reshape([40]);
        for linear in [Linear::right(tensor(24, 40, 1), Some(b.clone())), Linear::left(tensor(24, 40, 2).transpose(), Some(b))] {
            let x = tensor(3, 24, 5);
            let (whole, by_row) = (values(linear.forward(x.clone())), values(linear.forward_row_by_row(x)));
            assert_eq!(whole.len(), 3 * 40);
            // Sums of 24 products of values ≤ 1 in size: f32 rounding differs by far less than 1e-4.
            let worst = whole.iter().zip(&by_row).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
            assert!(worst < 1e-4, "row by row differs by {worst}");
        }
    }

    #[test]
    fn halves_on_two_threads_are_the_same_map() {
        let b: Tensor<1> = tensor(1, 41, 3).reshape([41]);
        // 41 outputs: halves of 20 and 21, so an off-by-one in the split shows as a wrong shape.
        for linear in [Linear::right(tensor(24, 41, 1), Some(b.clone())), Linear::left(tensor(24, 41, 2).transpose(), Some(b))] {
            for rows in [1, 3] {
                let x = tensor(rows, 24, 5);
                let whole = values(linear.forward(x.clone()));
                let split = second_thread::with_second_thread(|| {
                    assert!(second_thread::active());
                    values(linear.forward(x))
                });
                assert_eq!(split.len(), rows * 41);
                // Sums of 24 products of values ≤ 1 (gemm may tile the halves differently).
                let worst = whole.iter().zip(&split).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
                assert!(worst < 1e-4, "split in halves differs by {worst}");
            }
        }
    }
}
