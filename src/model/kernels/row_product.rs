//! y = x·Wᵀ for a few rows of x on the CPU backend, as one autodiff op over [`row_kernels`]
//! (forward and the backward for x; the weights never require gradients, so x is the op's only
//! parent). Natively the forward's halves run on the polling second thread and a large
//! backward's on rayon's pool.

use burn::backend::TensorMetadata;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::backend::flex::FlexTensor;
use burn::backend::{Autodiff, Flex};
use burn::tensor::{DType, Tensor, TensorData};

use super::{row_kernels, second_thread};

/// Rows of x up to which the kernels run; with many more, gemm's packed panels reuse each weight
/// read across rows and its parallel path uses every core. A round number, not tuned: a single
/// prompt stays below it, a task's minibatch of 4 prompts may not.
pub const MAX_ROWS: usize = 32;

/// A weight [out, in] as the CPU backend holds it: contiguous f32 output rows.
#[derive(Clone, Debug)]
pub struct WeightRows(FlexTensor);

impl WeightRows {
    /// The CPU backend's tensor behind `w`; None on another backend (WebGPU) or layout.
    pub fn of(w: &Tensor<2>) -> Option<Self> {
        let t = w.clone().try_into_primitive::<Autodiff<Flex>>().ok()?.into_primitive();
        (t.dtype() == DType::F32 && t.as_slice::<f32>().is_some()).then_some(WeightRows(t))
    }

    fn values(&self) -> &[f32] {
        self.0.as_slice::<f32>().expect("checked contiguous f32 in `of`")
    }

    /// [out, in].
    fn dims(&self) -> [usize; 2] {
        let s = self.0.shape();
        [s[0], s[1]]
    }
}

/// x [n, in] · Wᵀ → [n, out], recorded for autodiff; `Err(x)` when x is not a CPU-backend
/// autodiff f32 tensor of matching width (the caller then multiplies with burn).
pub fn apply(x: Tensor<2>, w: &WeightRows) -> Result<Tensor<2>, Tensor<2>> {
    let Ok(ad) = x.clone().try_into_primitive::<Autodiff<Flex>>() else { return Err(x) };
    if ad.primitive().dtype() != DType::F32 || ad.primitive().shape()[1] != w.dims()[1] {
        return Err(x);
    }
    let (xp, guard) = ad.into_parts();
    let y = forward(xp, w);
    let out = match RowProduct.prepare::<NoCheckpointing>([guard]).compute_bound().stateful() {
        OpsKind::Tracked(prep) => prep.finish(w.clone(), y),
        OpsKind::UnTracked(prep) => prep.finish(y),
    };
    Ok(Tensor::from_primitive::<Autodiff<Flex>>(out))
}

fn contiguous(t: FlexTensor) -> FlexTensor {
    if t.as_slice::<f32>().is_some() { t } else { t.to_contiguous() }
}

fn forward(x: FlexTensor, w: &WeightRows) -> FlexTensor {
    let x = contiguous(x);
    let xs = x.as_slice::<f32>().expect("contiguous f32");
    let ([m, k], ws) = (w.dims(), w.values());
    let n = x.shape()[0];
    // Outputs first, so that each half of the weight rows writes one contiguous half.
    let mut yt = vec![0.0f32; m * n];
    if second_thread::active() && m >= 2 {
        let h = m / 2;
        let (ya, yb) = yt.split_at_mut(h * n);
        let (wa, wb) = ws.split_at(h * k);
        second_thread::join(|| row_kernels::by_output(xs, n, wa, k, ya), || row_kernels::by_output(xs, n, wb, k, yb));
    } else {
        row_kernels::by_output(xs, n, ws, k, &mut yt);
    }
    let mut y = vec![0.0f32; n * m];
    for (o, col) in yt.chunks_exact(n.max(1)).enumerate() {
        for (r, v) in col.iter().enumerate() {
            y[r * m + o] = *v;
        }
    }
    FlexTensor::from_data(TensorData::new(y, [n, m]))
}

#[derive(Debug)]
struct RowProduct;

impl Backward<Flex, 1> for RowProduct {
    type State = WeightRows;

    fn backward(self, ops: Ops<WeightRows, 1>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let w = ops.state;
        unary::<Flex, _>(ops.parents, ops.node, grads, |dy| backward(dy, &w));
    }
}

/// dx = dy · W.
fn backward(dy: FlexTensor, w: &WeightRows) -> FlexTensor {
    let dy = contiguous(dy);
    let ds = dy.as_slice::<f32>().expect("contiguous f32");
    let ([m, k], ws) = (w.dims(), w.values());
    let n = dy.shape()[0];
    debug_assert_eq!(dy.shape()[1], m);
    let mut dx = vec![0.0f32; n * k];
    // Natively, a product worth more than a hand-off to a pool thread (~0.1 ms of work) is cut
    // into two column halves.
    #[cfg(not(target_arch = "wasm32"))]
    if rayon::current_num_threads() >= 2 && n * m * k >= 1 << 20 {
        let h = k / 2;
        let (mut a, mut b) = (vec![0.0f32; n * h], vec![0.0f32; n * (k - h)]);
        rayon::join(
            || row_kernels::by_input(ds, n, ws, k, 0..h, &mut a),
            || row_kernels::by_input(ds, n, ws, k, h..k, &mut b),
        );
        for r in 0..n {
            dx[r * k..r * k + h].copy_from_slice(&a[r * h..(r + 1) * h]);
            dx[r * k + h..(r + 1) * k].copy_from_slice(&b[r * (k - h)..(r + 1) * (k - h)]);
        }
        return FlexTensor::from_data(TensorData::new(dx, [n, k]));
    }
    row_kernels::by_input(ds, n, ws, k, 0..k, &mut dx);
    FlexTensor::from_data(TensorData::new(dx, [n, k]))
}

// Native only: #[test]s never run in the wasm test build, and these read tensors synchronously.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use burn::tensor::Device;

    fn tensor(rows: usize, cols: usize, seed: usize, device: &Device) -> Tensor<2> {
        let v: Vec<f32> = (0..rows * cols).map(|i| (((i + seed) * 7919) % 1000) as f32 / 500.0 - 1.0).collect();
        Tensor::from_data(TensorData::new(v, [rows, cols]), device)
    }

    fn worst(a: Tensor<2>, b: Tensor<2>) -> f32 {
        let (a, b) = (a.into_data().try_to_vec::<f32>().unwrap(), b.into_data().try_to_vec::<f32>().unwrap());
        assert_eq!(a.len(), b.len());
        a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
    }

    /// The op's value and its gradient for x equal burn's matmul, with and without the second
    /// thread (odd output count: halves of 20 and 21).
    #[test]
    fn equals_matmul_forward_and_backward() {
        let device = Device::flex().autodiff();
        let w = tensor(41, 24, 2, &device);
        let rows = WeightRows::of(&w).expect("a CPU-backend weight");
        for n in [1, 3, 10] {
            for helper in [false, true] {
                let run = |use_kernel: bool| {
                    let x = tensor(n, 24, 5, &device).require_grad();
                    let y = if use_kernel {
                        apply(x.clone(), &rows).ok().expect("kernel path")
                    } else {
                        x.clone().matmul(w.clone().transpose())
                    };
                    let loss = (y.clone() * tensor(n, 41, 7, &device)).sum();
                    let g = x.grad(&loss.backward()).expect("x has a gradient");
                    (y, g)
                };
                let ((y, g), (y_ref, g_ref)) = if helper {
                    second_thread::with_second_thread(|| (run(true), run(false)))
                } else {
                    (run(true), run(false))
                };
                // Sums of ≤ 41 products of values ≤ 1: summation orders differ by far less than 1e-4.
                assert!(worst(y.clone(), y_ref) < 1e-4, "forward differs (n {n}, helper {helper})");
                assert!(worst(g, g_ref) < 1e-4, "gradient differs (n {n}, helper {helper})");
                assert_eq!(y.dims(), [n, 41]);
            }
        }
    }

    #[test]
    fn a_tensor_off_the_autodiff_cpu_backend_is_handed_back() {
        let w = tensor(8, 4, 1, &Device::flex().autodiff());
        let rows = WeightRows::of(&w).unwrap();
        // Plain CPU backend without autodiff, and a width that does not match.
        assert!(apply(tensor(2, 4, 3, &Device::flex()), &rows).is_err());
        assert!(apply(tensor(2, 5, 3, &Device::flex().autodiff()), &rows).is_err());
    }
}
