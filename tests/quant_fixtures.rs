//! The dequantisers against an independent implementation: tests/data/quant-fixtures.json holds
//! random blocks of every quantised type `dequantize` supports (F16, BF16, Q4_0, Q4_1, Q5_0,
//! Q5_1, Q8_0, Q2_K..Q6_K) with the values that gguf-py 0.19.0's numpy dequantisers
//! (`gguf.quants.dequantize`) give for them; scripts/make-quant-fixtures.py writes it.
//!
//! Tolerance. Every value is at most a short chain of f32 operations on exact inputs (f16 scales
//! and small integers): d·q, d·q + m, (d·s)·q, or (d·s)·q − dmin·m. This crate and gguf-py both
//! follow ggml's reference order, so the values are expected to be bit-identical. The bound
//! still admits another order of the same operations: each side rounds at most 3 times, each
//! rounding off by at most half an ulp of an intermediate, and the intermediates of a block are
//! of the order of its largest value M, so two orders differ by at most about 3·ε·M (ε =
//! f32::EPSILON, 2^-23). We allow |got − want| ≤ 4·ε·M, M taken per block from the reference
//! values (for F16 and BF16, one-element blocks, that is 4·ε·|want|; those conversions are exact).

use std::path::PathBuf;

use actscale::model::gguf::{GgmlType, dequantize};

const REGENERATE: &str = "python3 -m venv /tmp/qv && /tmp/qv/bin/pip install gguf==0.19.0 \
    && /tmp/qv/bin/python scripts/make-quant-fixtures.py";

fn fixtures() -> serde_json::Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/quant-fixtures.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("the quant fixtures are missing at {} ({e}); regenerate them with `{REGENERATE}`", path.display())
    });
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not valid JSON ({e}); regenerate it with `{REGENERATE}`", path.display()))
}

fn from_hex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0 && s.is_ascii(), "bytes_hex is not an even-length hex string");
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("a hex byte")).collect()
}

#[test]
fn dequantisers_match_gguf_py() {
    let root = fixtures();
    assert_eq!(root["gguf_version"], "0.19.0", "fixtures from another gguf-py; `{REGENERATE}`");
    let types = root["types"].as_array().expect("a `types` array");

    let mut names: Vec<String> = Vec::new();
    for t in types {
        let name = t["name"].as_str().expect("a type name");
        let id = u32::try_from(t["id"].as_u64().expect("a type id")).expect("a u32 type id");
        let n = usize::try_from(t["n_elements"].as_u64().expect("n_elements")).expect("n_elements fits");
        let bytes = from_hex(t["bytes_hex"].as_str().expect("bytes_hex"));
        // The values are f32s written as doubles: the cast back is exact.
        let want: Vec<f32> = t["values"]
            .as_array()
            .expect("a values array")
            .iter()
            .map(|v| v.as_f64().expect("a number") as f32)
            .collect();
        assert_eq!(want.len(), n, "{name}: the fixture has {} values for {n} elements", want.len());
        assert!(want.iter().all(|v| v.is_finite()), "{name}: the fixture has a non-finite value");

        let ty = GgmlType::from_id(id);
        assert_eq!(ty.name(), name, "type id {id}");
        assert!(ty.is_supported(), "{name} is not supported");
        let got = dequantize(ty, &bytes, n).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got.len(), n, "{name}: value count");

        let block = usize::try_from(ty.block_size().expect("a known block size")).unwrap();
        let mut identical = 0;
        for (b, (got, want)) in got.chunks(block).zip(want.chunks(block)).enumerate() {
            let largest = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let tolerance = 4.0 * f32::EPSILON * largest;
            for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
                let at = b * block + i;
                assert!(g.is_finite(), "{name} value {at}: {g} is not finite (gguf-py: {w})");
                assert!(
                    (g - w).abs() <= tolerance,
                    "{name} value {at} (block {b}): {g} but gguf-py gives {w}; |Δ| = {} > {tolerance}",
                    (g - w).abs()
                );
                identical += usize::from(g.to_bits() == w.to_bits());
            }
        }
        eprintln!("{name}: {n} values within tolerance, {identical} of them bit-identical");
        names.push(name.to_string());
    }

    // Every supported type except the F32 pass-through has fixtures.
    let mut supported: Vec<String> = (0..64)
        .map(GgmlType::from_id)
        .filter(|t| t.is_supported() && *t != GgmlType::F32)
        .map(|t| t.name().to_string())
        .collect();
    supported.sort();
    names.sort();
    assert_eq!(names, supported, "the fixture types differ from the supported types; `{REGENERATE}`");
}
