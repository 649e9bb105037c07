//! Reading tensors back to the host. Always async: the browser's WebGPU cannot read
//! synchronously, and one code path serves every backend.

use burn::tensor::Tensor;

/// How a failed read from the device begins (on WebGPU: a buffer that could not be mapped, a
/// lost device), so that the worker can tell a failing backend from other errors.
pub const READ_FAILED: &str = "reading a tensor from the device failed";

/// The tensor's values as f32, whatever float type the device computes in (the gradient
/// checks run the CPU backend in f64).
pub async fn to_vec<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, String> {
    let data = t.into_data_async().await.map_err(|e| format!("{READ_FAILED}: {e}"))?;
    data.try_into_vec_as::<f32>().map_err(|e| format!("reading a tensor failed: {e:?}"))
}

/// The tensor's values as f64 (for checks that need more than f32's 24 bits).
pub async fn to_vec_f64<const D: usize>(t: Tensor<D>) -> Result<Vec<f64>, String> {
    let data = t.into_data_async().await.map_err(|e| format!("{READ_FAILED}: {e}"))?;
    data.try_into_vec_as::<f64>().map_err(|e| format!("reading a tensor failed: {e:?}"))
}
