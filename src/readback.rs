//! Reading tensors back to the host. Always async: the browser's WebGPU cannot read
//! synchronously, and one code path serves every backend.

use burn::tensor::Tensor;

pub async fn to_vec<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, String> {
    let data = t.into_data_async().await.map_err(|e| format!("reading a tensor failed: {e}"))?;
    data.try_to_vec::<f32>().map_err(|e| format!("reading a tensor failed: {e:?}"))
}
