//! Reader errors, write → parse round trips and layer truncation on synthetic files.

use super::*;

fn s(x: &str) -> String {
    x.to_string()
}

/// Every supported tensor type, with raw data of the right size.
fn sample_tensors() -> Vec<(String, Vec<u64>, GgmlType, Vec<u8>)> {
    let f32_data: Vec<u8> = (0..8).flat_map(|i| (i as f32 * 0.5).to_le_bytes()).collect();
    let mut q4_1 = vec![0x00, 0x34, 0x00, 0xbc];
    q4_1.extend([0x5au8; 16]);
    vec![
        (s("f32"), vec![4, 2], GgmlType::F32, f32_data),
        (s("f16"), vec![3], GgmlType::F16, vec![0x00, 0x3c, 0x01, 0x00, 0x00, 0xfc]),
        (s("q4_0"), vec![32], GgmlType::Q4_0, [vec![0x00, 0x38], vec![0x0f; 16]].concat()),
        (s("q4_1"), vec![32, 1], GgmlType::Q4_1, q4_1),
        (s("q8_0"), vec![32, 1, 1, 1], GgmlType::Q8_0, [vec![0x00, 0x40], vec![0xff; 32]].concat()),
        (s("iq2_xxs"), vec![256], GgmlType::Other(16), vec![7u8; 66]),
    ]
}

fn all_value_types() -> Vec<(String, MetaValue)> {
    vec![
        (s("general.architecture"), MetaValue::String(s("llama"))),
        (s("u8"), MetaValue::U8(200)),
        (s("i8"), MetaValue::I8(-100)),
        (s("u16"), MetaValue::U16(60000)),
        (s("i16"), MetaValue::I16(-30000)),
        (s("u32"), MetaValue::U32(4_000_000_000)),
        (s("i32"), MetaValue::I32(-2_000_000_000)),
        (s("f32"), MetaValue::F32(1e-5)),
        (s("bool"), MetaValue::Bool(true)),
        (s("string"), MetaValue::String(s("héllo ✓"))),
        (s("u64"), MetaValue::U64(u64::MAX)),
        (s("i64"), MetaValue::I64(i64::MIN)),
        (s("f64"), MetaValue::F64(-2.5e300)),
        (s("a.u8"), MetaValue::Array(MetaArray::U8(vec![1, 2, 3]))),
        (s("a.i8"), MetaValue::Array(MetaArray::I8(vec![-1, 2]))),
        (s("a.u16"), MetaValue::Array(MetaArray::U16(vec![65535]))),
        (s("a.i16"), MetaValue::Array(MetaArray::I16(vec![-5, 5]))),
        (s("a.u32"), MetaValue::Array(MetaArray::U32(vec![7, 8]))),
        (s("a.i32"), MetaValue::Array(MetaArray::I32(vec![-7, 1, 3]))),
        (s("a.f32"), MetaValue::Array(MetaArray::F32(vec![0.5, -1.25]))),
        (s("a.bool"), MetaValue::Array(MetaArray::Bool(vec![true, false]))),
        (s("a.str"), MetaValue::Array(MetaArray::String(vec![s("Ġthe"), s(""), s("ab")]))),
        (s("a.u64"), MetaValue::Array(MetaArray::U64(vec![u64::MAX]))),
        (s("a.i64"), MetaValue::Array(MetaArray::I64(vec![i64::MIN, 0]))),
        (s("a.f64"), MetaValue::Array(MetaArray::F64(vec![1e100]))),
        (s("a.empty"), MetaValue::Array(MetaArray::String(vec![]))),
        (
            s("a.nested"),
            MetaValue::Array(MetaArray::Array(vec![MetaArray::U8(vec![1]), MetaArray::String(vec![s("x")])])),
        ),
    ]
}

fn write(meta: &[(String, MetaValue)], tensors: &[(String, Vec<u64>, GgmlType, Vec<u8>)], align: usize) -> Vec<u8> {
    let t: Vec<_> = tensors.iter().map(|(n, d, ty, b)| (n.clone(), d.clone(), *ty, b.as_slice())).collect();
    write_gguf(3, align, meta, &t)
}

fn sample_file() -> Vec<u8> {
    write(&all_value_types(), &sample_tensors(), 32)
}

#[test]
fn round_trip_every_type() {
    for align in [32usize, 64, 1] {
        let bytes = write(&all_value_types(), &sample_tensors(), align);
        let g = Gguf::parse(bytes).unwrap();
        let mut want = all_value_types();
        if align != 32 {
            want.push((s("general.alignment"), MetaValue::U32(align as u32)));
        }
        assert_eq!(g.metadata_entries(), &want[..]);
        assert_eq!((g.version(), g.alignment()), (3, align));
        assert_eq!(g.data_offset() % align, 0);
        for (name, dims, ty, data) in sample_tensors() {
            let info = g.tensor_info(&name).unwrap();
            assert_eq!((&info.dims, info.ty, info.offset % align as u64), (&dims, ty, 0));
            assert_eq!(g.tensor_bytes(info).unwrap(), &data[..], "{name}");
        }
    }
    let g = Gguf::parse(sample_file()).unwrap();
    assert_eq!(g.tensor_f32("f32").unwrap(), ((0..8).map(|i| i as f32 * 0.5).collect(), vec![4, 2]));
    assert_eq!(g.tensor_f32("f16").unwrap().0, vec![1.0, 5.960_464_5e-8, f32::NEG_INFINITY]);
    assert_eq!(g.tensor_f32("q4_0").unwrap().0, [vec![3.5; 16], vec![-4.0; 16]].concat());
    assert_eq!(g.tensor_f32("q4_1").unwrap(), ([vec![1.5; 16], vec![0.25; 16]].concat(), vec![32, 1]));
    assert_eq!(g.tensor_f32("q8_0").unwrap(), (vec![-2.0; 32], vec![32, 1, 1, 1]));
    // Accessors.
    assert_eq!(g.architecture().unwrap(), "llama");
    assert_eq!(g.get_u32("u8").unwrap(), 200);
    assert_eq!(g.get_u32("u32").unwrap(), 4_000_000_000);
    assert_eq!(g.get_f32("f64").unwrap(), f32::NEG_INFINITY);
    assert_eq!(g.get_f32("f32").unwrap(), 1e-5);
    assert_eq!(g.get_str("string").unwrap(), "héllo ✓");
    let m = |k: &str| g.metadata(k).unwrap();
    assert_eq!(m("a.str").as_string_vec().unwrap(), vec![s("Ġthe"), s(""), s("ab")]);
    assert_eq!(m("a.i32").as_i32_vec().unwrap(), vec![-7, 1, 3]);
    assert_eq!(m("a.u8").as_i32_vec().unwrap(), vec![1, 2, 3]);
    assert_eq!(m("a.u64").as_i32_vec(), None);
    assert_eq!(m("i64").as_i64(), Some(i64::MIN));
    assert_eq!(m("i8").as_u64(), None);
    assert_eq!(m("a.nested").as_array().unwrap().get(1), Some(MetaValue::Array(MetaArray::String(vec![s("x")]))));
}

fn err(bytes: Vec<u8>) -> GgufError {
    Gguf::parse(bytes).unwrap_err()
}

fn header(version: u32, tensors: u64, kvs: u64) -> Vec<u8> {
    [b"GGUF".to_vec(), version.to_le_bytes().to_vec(), tensors.to_le_bytes().to_vec(), kvs.to_le_bytes().to_vec()]
        .concat()
}

fn kv_header(key: &str, ty: u32) -> Vec<u8> {
    [(key.len() as u64).to_le_bytes().to_vec(), key.as_bytes().to_vec(), ty.to_le_bytes().to_vec()].concat()
}

#[test]
fn header_errors() {
    let e = err(b"<!DOCTYPE html><html>".to_vec());
    assert_eq!(e, GgufError::NotGguf { first_bytes: b"<!DOCTYP".to_vec() });
    assert!(e.to_string().contains("<!DOCTYP"), "{e}");
    assert!(matches!(err(vec![]), GgufError::NotGguf { .. }));
    assert!(matches!(err(b"GG".to_vec()), GgufError::Truncated { .. }));
    assert_eq!(err(header(1, 0, 0)), GgufError::UnsupportedVersion(1));
    assert_eq!(err(header(4, 0, 0)), GgufError::UnsupportedVersion(4));
    let e = err(header(3, 0, 0)[..12].to_vec());
    assert!(matches!(e, GgufError::Truncated { .. }) && e.to_string().contains("the file is truncated"), "{e}");
    let e = err(header(3, 1 << 60, 0));
    assert!(matches!(e, GgufError::TooLarge { count, .. } if count == 1 << 60), "{e}");
    assert!(matches!(err(header(3, u64::MAX, 0)), GgufError::TooLarge { .. }));
    assert!(matches!(err(header(3, 0, 1 << 60)), GgufError::TooLarge { .. }));
    // One kv fits, but a tensor on top of it does not.
    let bytes = [header(3, 1, 1), kv_header("k", 0), vec![1]].concat();
    assert!(matches!(err(bytes), GgufError::TooLarge { .. }));
}

#[test]
fn metadata_errors() {
    // A string value claiming 100 bytes with 5 present.
    let bytes =
        [header(3, 0, 1), kv_header("general.name", 8), 100u64.to_le_bytes().to_vec(), b"Smol".to_vec()].concat();
    let e = err(bytes);
    assert!(matches!(&e, GgufError::Truncated { what, needed: 100, .. } if what.contains("general.name")), "{e}");
    // A key length of 2^62.
    let bytes = [header(3, 0, 1), (1u64 << 62).to_le_bytes().to_vec(), vec![0; 16]].concat();
    assert!(matches!(err(bytes), GgufError::Truncated { needed, .. } if needed == 1 << 62));
    // An array of 2^40 u32s and one of 2^62 strings.
    for ty in [4u32, 8] {
        let arr = [ty.to_le_bytes().to_vec(), (1u64 << 40).to_le_bytes().to_vec(), vec![0; 64]].concat();
        let e = err([header(3, 0, 1), kv_header("tokenizer.ggml.tokens", 9), arr].concat());
        assert!(matches!(e, GgufError::TooLarge { count, .. } if count == 1 << 40), "{e}");
    }
    let unknown = [header(3, 0, 1), kv_header("k", 13), vec![0; 8]].concat();
    assert!(matches!(err(unknown), GgufError::BadMetadata { why, .. } if why.contains("unknown value type id 13")));
    let bad_bool = [header(3, 0, 1), kv_header("k", 7), vec![2]].concat();
    assert!(matches!(err(bad_bool), GgufError::BadMetadata { .. }));
    let bad_utf8 = [header(3, 0, 1), kv_header("k", 8), 2u64.to_le_bytes().to_vec(), vec![0xff, 0xfe]].concat();
    assert!(matches!(err(bad_utf8), GgufError::BadMetadata { .. }));
    let dup = [header(3, 0, 2), kv_header("k", 0), vec![1], kv_header("k", 0), vec![2]].concat();
    assert!(matches!(err(dup), GgufError::BadMetadata { why, .. } if why.contains("twice")));
    // Arrays nested 100 deep are refused, not recursed into.
    let mut deep = [header(3, 0, 1), kv_header("k", 9)].concat();
    for _ in 0..100 {
        deep.extend([9u32.to_le_bytes().to_vec(), 1u64.to_le_bytes().to_vec()].concat());
    }
    assert!(matches!(err(deep), GgufError::BadMetadata { why, .. } if why.contains("nested")));
    // The writer overwrites general.alignment with its argument; patch the value to 24.
    let mut bytes = write(&[(s("general.alignment"), MetaValue::U32(24))], &[], 32);
    let at = after_string(&bytes, "general.alignment") + 4;
    assert_eq!(bytes[at..at + 4], 32u32.to_le_bytes());
    bytes[at..at + 4].copy_from_slice(&24u32.to_le_bytes());
    assert!(matches!(err(bytes), GgufError::BadMetadata { key, .. } if key == "general.alignment"));
}

/// The position just after the length-prefixed string `name` (a key or tensor name) in a file.
fn after_string(bytes: &[u8], name: &str) -> usize {
    let needle = [(name.len() as u64).to_le_bytes().to_vec(), name.as_bytes().to_vec()].concat();
    bytes.windows(needle.len()).position(|w| w == needle).unwrap() + needle.len()
}

#[test]
fn tensor_errors() {
    let t = vec![(s("w"), vec![8u64], GgmlType::F32, vec![0u8; 32])];
    let ok = write(&[], &t, 32);
    let e = err(ok[..ok.len() - 4].to_vec());
    assert!(matches!(&e, GgufError::TensorOutOfBounds { name, .. } if name == "w"), "{e}");
    let at = after_string(&ok, "w");
    let mut bytes = ok.clone(); // offset (after n_dims, 1 dim, type) set to 4: misaligned
    bytes[at + 16..at + 24].copy_from_slice(&4u64.to_le_bytes());
    assert!(matches!(err(bytes), GgufError::BadTensor { why, .. } if why.contains("alignment")));
    let mut bytes = ok.clone(); // offset far beyond the file
    bytes[at + 16..at + 24].copy_from_slice(&(u64::MAX - 31).to_le_bytes());
    assert!(matches!(err(bytes), GgufError::TensorOutOfBounds { .. }));
    let mut bytes = ok.clone();
    bytes[at..at + 4].copy_from_slice(&5u32.to_le_bytes());
    assert!(matches!(err(bytes), GgufError::BadTensor { why, .. } if why.contains("5 dimensions")));
    let mut bytes = ok.clone();
    bytes[at + 12..at + 16].copy_from_slice(&4u32.to_le_bytes()); // removed type Q4_2
    assert!(matches!(err(bytes), GgufError::BadTensor { why, .. } if why.contains("unknown ggml type id 4")));
    let huge = write(&[], &[(s("h"), vec![1 << 40, 1 << 40], GgmlType::F32, vec![])], 32);
    assert!(matches!(err(huge), GgufError::BadTensor { why, .. } if why.contains("overflow")));
    let odd = write(&[], &[(s("q"), vec![33], GgmlType::Q8_0, vec![0; 68])], 32);
    assert!(matches!(err(odd), GgufError::BadTensor { why, .. } if why.contains("block size")));
    let dup = write(&[], &[t[0].clone(), t[0].clone()], 32);
    assert!(matches!(err(dup), GgufError::BadTensor { why, .. } if why.contains("twice")));
}

#[test]
fn lookup_errors() {
    let g = Gguf::parse(sample_file()).unwrap();
    let e = g.tensor_f32("iq2_xxs").unwrap_err();
    assert_eq!(e, GgufError::UnsupportedQuant { tensor: s("iq2_xxs"), ty_name: s("IQ2_XXS") });
    assert!(e.to_string().contains("IQ2_XXS") && e.to_string().contains("'iq2_xxs'"), "{e}");
    assert_eq!(g.tensor_info("nope").unwrap_err(), GgufError::MissingTensor(s("nope")));
    assert!(g.tensor_f32("nope").unwrap_err().to_string().contains("'nope'"));
    assert_eq!(g.get_u32("llama.block_count").unwrap_err(), GgufError::MissingMetadata(s("llama.block_count")));
    assert!(matches!(g.get_u32("string"), Err(GgufError::BadMetadata { .. })));
    assert!(matches!(g.get_u32("i8"), Err(GgufError::BadMetadata { .. })));
    assert!(matches!(g.get_u32("u64"), Err(GgufError::BadMetadata { .. })));
    assert!(matches!(g.get_f32("u8"), Err(GgufError::BadMetadata { .. })));
    assert!(matches!(g.get_str("u8"), Err(GgufError::BadMetadata { .. })));
}

/// Every prefix and thousands of random corruptions of a valid file: parse and dequantise
/// must return errors, never panic.
#[test]
fn hostile_bytes_never_panic() {
    let good = sample_file();
    let exercise = |bytes: Vec<u8>| {
        if let Ok(g) = Gguf::parse(bytes) {
            for t in g.tensors().to_vec() {
                let _ = g.tensor_f32(&t.name);
            }
        }
    };
    for len in 0..good.len() {
        exercise(good[..len].to_vec());
    }
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..5000 {
        let mut bytes = good.clone();
        for _ in 0..(next() % 4 + 1) {
            let i = (next() % bytes.len() as u64) as usize;
            bytes[i] = match next() % 3 {
                0 => 0xff,
                1 => 0,
                _ => next() as u8,
            };
        }
        exercise(bytes);
    }
}

fn tiny_llama(block_count: MetaValue) -> Vec<u8> {
    let meta = vec![
        (s("general.architecture"), MetaValue::String(s("llama"))),
        (s("llama.block_count"), block_count),
        (s("llama.embedding_length"), MetaValue::U32(32)),
        (s("tokenizer.ggml.tokens"), MetaValue::Array(MetaArray::String(vec![s("a"), s("b")]))),
    ];
    let mut tensors = vec![(s("token_embd.weight"), vec![32, 2], GgmlType::Q8_0, vec![1u8; 68])];
    for i in 0..3 {
        tensors.push((format!("blk.{i}.attn_norm.weight"), vec![32], GgmlType::F32, vec![i as u8; 128]));
        tensors.push((format!("blk.{i}.attn_q.weight"), vec![32, 32], GgmlType::Q4_1, vec![10 + i as u8; 640]));
    }
    tensors.push((s("output_norm.weight"), vec![32], GgmlType::F32, vec![9u8; 128]));
    tensors.push((s("blk.extra"), vec![1], GgmlType::F32, vec![3u8; 4]));
    write(&meta, &tensors, 32)
}

#[test]
fn truncate_synthetic_llama() {
    let g = Gguf::parse(tiny_llama(MetaValue::U32(3))).unwrap();
    let cut = Gguf::parse(truncate_layers(&g, 2).unwrap()).unwrap();
    assert_eq!(cut.metadata("llama.block_count"), Some(&MetaValue::U32(2)));
    let names: Vec<&str> = cut.tensors().iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "token_embd.weight",
            "blk.0.attn_norm.weight",
            "blk.0.attn_q.weight",
            "blk.1.attn_norm.weight",
            "blk.1.attn_q.weight",
            "output_norm.weight",
            "blk.extra"
        ]
    );
    for t in cut.tensors() {
        let orig = g.tensor_info(&t.name).unwrap();
        assert_eq!((&t.dims, t.ty), (&orig.dims, orig.ty));
        assert_eq!(cut.tensor_bytes(t).unwrap(), g.tensor_bytes(orig).unwrap(), "{}", t.name);
    }
    assert_eq!(cut.metadata("tokenizer.ggml.tokens"), g.metadata("tokenizer.ggml.tokens"));
    assert_eq!(cut.metadata_entries().len(), g.metadata_entries().len());
    // Keeping every layer reproduces the file exactly.
    assert_eq!(truncate_layers(&g, 3).unwrap(), g.bytes());
    for n in [0, 4] {
        assert!(matches!(truncate_layers(&g, n), Err(GgufError::InvalidArgument(_))), "n = {n}");
    }
    // The value type of block_count is preserved.
    let g = Gguf::parse(tiny_llama(MetaValue::U64(3))).unwrap();
    let cut = Gguf::parse(truncate_layers(&g, 1).unwrap()).unwrap();
    assert_eq!(cut.metadata("llama.block_count"), Some(&MetaValue::U64(1)));
    assert!(cut.tensor_info("blk.1.attn_q.weight").is_err());
}
