//! Reads the real default model. It is required: run `scripts/setup.sh model` to fetch it.

use super::*;

fn load_real_model() -> Gguf {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static/models/smollm2-135m-instruct-q4_1.gguf");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!("cannot read the model {} ({e}); run `scripts/setup.sh model` to fetch it", path.display())
    });
    Gguf::parse(bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn real_model_header_and_tensors() {
    let g = load_real_model();
    assert_eq!((g.version(), g.alignment()), (3, 32));
    assert_eq!(g.architecture().unwrap(), "llama");
    assert_eq!(g.get_u32("llama.block_count").unwrap(), 30);
    assert_eq!(g.get_u32("llama.embedding_length").unwrap(), 576);
    assert_eq!(g.get_u32("llama.attention.head_count").unwrap(), 9);
    assert_eq!(g.get_u32("llama.attention.head_count_kv").unwrap(), 3);
    assert_eq!(g.get_f32("llama.attention.layer_norm_rms_epsilon").unwrap(), 1e-5);
    // 30 layers × 9 tensors + token_embd + output_norm; no output.weight (tied embeddings).
    assert_eq!(g.tensors().len(), 272);
    assert!(g.tensor_info("output.weight").is_err());

    let embd = g.tensor_info("token_embd.weight").unwrap();
    assert_eq!((embd.ty, embd.dims.as_slice()), (GgmlType::Q8_0, &[576u64, 49152][..]));
    let q = g.tensor_info("blk.0.attn_q.weight").unwrap();
    assert_eq!((q.ty, q.dims.as_slice()), (GgmlType::Q4_1, &[576u64, 576][..]));
    assert_eq!(g.tensor_info("blk.29.ffn_down.weight").unwrap().dims, vec![1536, 576]);
    assert_eq!(g.tensor_info("output_norm.weight").unwrap().ty, GgmlType::F32);

    let tokens = g.metadata("tokenizer.ggml.tokens").unwrap().as_string_vec().unwrap();
    assert_eq!(tokens.len(), 49152);
    assert_eq!(tokens[7158], "ĠItaly");
    let merges = g.metadata("tokenizer.ggml.merges").unwrap().as_string_vec().unwrap();
    assert_eq!(merges.len(), 48900);

    // Row 46292 ("Rome") of the Q8_0 embedding equals the reference embedding output.
    let row_bytes = GgmlType::Q8_0.bytes_for(576).unwrap() as usize;
    let embd_bytes = g.tensor_bytes(embd).unwrap();
    let row = dequantize(GgmlType::Q8_0, &embd_bytes[46292 * row_bytes..46293 * row_bytes], 576).unwrap();
    let reference = [-0.038017, 0.031681, 0.041185, -0.11722, -0.095043, -0.044353];
    for (got, want) in row.iter().zip(reference) {
        assert!((got - want).abs() < 1e-5, "{:?} vs {reference:?}", &row[..6]);
    }

    let (w, dims) = g.tensor_f32("blk.0.attn_q.weight").unwrap();
    assert_eq!((w.len(), dims), (576 * 576, vec![576, 576]));
    assert!(w.iter().all(|x| x.is_finite()) && w.iter().any(|&x| x != 0.0));
    let (norm, _) = g.tensor_f32("output_norm.weight").unwrap();
    assert!(norm.iter().all(|x| x.is_finite() && *x != 0.0));
}

#[test]
fn real_model_truncated_to_two_layers() {
    let g = load_real_model();
    let cut = Gguf::parse(truncate_layers(&g, 2).unwrap()).unwrap();
    assert_eq!(cut.get_u32("llama.block_count").unwrap(), 2);
    assert_eq!(cut.metadata("llama.block_count"), g.metadata("llama.block_count").map(|_| &MetaValue::U32(2)));
    assert_eq!(cut.tensors().len(), 2 + 2 * 9);
    assert!(cut.tensor_info("blk.2.attn_q.weight").is_err());
    assert!(cut.tensors().iter().all(|t| !t.name.starts_with("blk.2")));
    for name in ["token_embd.weight", "output_norm.weight", "blk.1.ffn_down.weight"] {
        let (a, b) = (g.tensor_info(name).unwrap(), cut.tensor_info(name).unwrap());
        assert_eq!(g.tensor_bytes(a).unwrap(), cut.tensor_bytes(b).unwrap(), "{name}");
    }
    assert_eq!(cut.metadata("tokenizer.ggml.merges"), g.metadata("tokenizer.ggml.merges"));
    assert!(cut.bytes().len() < 40_000_000, "{} bytes", cut.bytes().len());
}
