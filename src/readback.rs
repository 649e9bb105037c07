//! Reading tensors back to the host. Always async: the browser's WebGPU cannot read
//! synchronously, and one code path serves every backend.

use burn::tensor::Tensor;

use crate::compute_error::ComputeError;

/// The tensor's values as f32, whatever float type the device computes in (the gradient
/// checks run the CPU backend in f64).
/// A failed read is `ComputeError::Device`: the device's fault, not the computation's.
pub async fn to_vec<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, ComputeError> {
    let data = t.into_data_async().await.map_err(|e| ComputeError::Device(e.to_string()))?;
    data.try_into_vec_as::<f32>().map_err(|e| ComputeError::Other(format!("reading a tensor failed: {e:?}")))
}

/// The tensor's values as f64 (for checks that need more than f32's 24 bits).
pub async fn to_vec_f64<const D: usize>(t: Tensor<D>) -> Result<Vec<f64>, ComputeError> {
    let data = t.into_data_async().await.map_err(|e| ComputeError::Device(e.to_string()))?;
    data.try_into_vec_as::<f64>().map_err(|e| ComputeError::Other(format!("reading a tensor failed: {e:?}")))
}
