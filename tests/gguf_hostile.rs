//! The model loader under attack (issue 15, item 1): every prefix and ≥ 100,000 seeded mutations
//! of a small valid llama GGUF, sampled prefixes and mutations of the real 2-layer file's header.
//! Each input must give a typed error or a loaded model — no panic, no run over a second, and
//! no allocation beyond `allocation_bound` (counted by this binary's global allocator, which is
//! why this test has its own binary and runs its cases one after the other).
//!
//! The bound: the loader holds the file (n bytes, owned by the caller before the call, so not
//! counted), its parsed header (strings and arrays never longer than the bytes they came from:
//! ≤ 3n with `String`/`Vec` headers, 24 bytes each, for items of ≥ 8 bytes in the file), the
//! f32 weights (≤ 256/84·4 ≈ 12.2 bytes per byte of Q2_K data, the densest type we read, plus
//! a second copy while a tensor is dequantised and handed to the backend) and the tokenizer's
//! maps (a few hundred bytes per token, each token ≥ 9 bytes of file). 100·n + 4 MiB covers all
//! of it with room; a length field that asked for what it claims (up to 2^64 bytes) would not.
#![allow(clippy::disallowed_methods)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use actscale::backend::cpu_device;
use actscale::model::Model;
use actscale::model::config::ModelConfig;
use actscale::model::gguf::writer::truncate_layers;
use actscale::model::gguf::{GgmlType, Gguf, MetaArray, MetaValue, write_gguf};
use actscale::model::load::tokenizer_from_gguf;

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            PEAK.fetch_max(LIVE.fetch_add(layout.size(), Relaxed) + layout.size(), Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, layout, new) };
        if !q.is_null() {
            let now = LIVE.fetch_add(new, Relaxed) + new;
            PEAK.fetch_max(now, Relaxed);
            LIVE.fetch_sub(layout.size(), Relaxed);
        }
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

thread_local! {
    static IN_LOADER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn allocation_bound(n: usize) -> usize {
    100 * n + (4 << 20)
}

const TIME_BOUND: Duration = Duration::from_secs(1);

/// What the loader did with one input.
#[derive(Default, Debug)]
struct Tally {
    inputs: usize,
    loaded: usize,
    errors: usize,
    /// The largest allocation peak as a share of its input's bound.
    peak_of_bound: f64,
    slowest: Duration,
}

impl Tally {
    /// Loads `bytes` as the page's worker does.
    fn load(&mut self, what: &str, bytes: Vec<u8>) {
        let n = bytes.len();
        self.run(what, n, move || Model::from_bytes(bytes, &cpu_device()).map(|_| ()).map_err(|e| e.to_string()));
    }

    /// Reads what the loader reads from the header (GGUF structure, hyperparameters, the
    /// tokenizer), without dequantising the weights.
    fn read_header(&mut self, what: &str, bytes: Vec<u8>) {
        let n = bytes.len();
        self.run(what, n, move || {
            let g = Gguf::parse(bytes).map_err(|e| e.to_string())?;
            ModelConfig::from_gguf(&g).map_err(|e| e.to_string())?;
            tokenizer_from_gguf(&g).map(|_| ()).map_err(|e| e.to_string())
        });
    }

    /// Runs `f` on an `n`-byte input; panics (fails the test) on a panic inside it, a run over
    /// `TIME_BOUND` or an allocation over the bound, naming the input.
    fn run(&mut self, what: &str, n: usize, f: impl FnOnce() -> Result<(), String>) {
        let before = LIVE.load(Relaxed);
        PEAK.store(before, Relaxed);
        let start = Instant::now();
        IN_LOADER.set(true);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        IN_LOADER.set(false);
        let took = start.elapsed();
        let peak = PEAK.load(Relaxed).saturating_sub(before);
        let outcome = result.unwrap_or_else(|_| panic!("{what}: the loader panicked on {n} bytes"));
        assert!(took <= TIME_BOUND, "{what}: took {took:?} on {n} bytes");
        assert!(peak <= allocation_bound(n), "{what}: allocated {peak} bytes for a {n}-byte input");
        match outcome {
            Ok(_) => self.loaded += 1,
            Err(e) => {
                assert!(!e.is_empty(), "{what}: an error without a message");
                self.errors += 1;
            }
        }
        self.inputs += 1;
        self.peak_of_bound = self.peak_of_bound.max(peak as f64 / allocation_bound(n) as f64);
        self.slowest = self.slowest.max(took);
    }
}

fn s(x: &str) -> String {
    x.to_string()
}

/// A tiny valid llama GGUF: d = 32, 4 query / 2 KV heads, 2 layers, 40 tokens, every type the
/// loader dequantises. It loads; each mutation starts from it.
fn tiny_model_parts() -> (Vec<(String, MetaValue)>, Vec<(String, Vec<u64>, GgmlType, Vec<u8>)>) {
    let (d, ff) = (32u64, 64u64);
    let mut tokens: Vec<String> = ["a", "b", "c", "ab", "Ġ", "Ġa", "Ġab", "1", "2", "."].map(s).to_vec();
    tokens.extend((0..30).map(|i| format!("t{i}")));
    let vocab = tokens.len() as u64;
    let meta = vec![
        (s("general.architecture"), MetaValue::String(s("llama"))),
        (s("llama.block_count"), MetaValue::U32(2)),
        (s("llama.embedding_length"), MetaValue::U32(d as u32)),
        (s("llama.feed_forward_length"), MetaValue::U32(ff as u32)),
        (s("llama.attention.head_count"), MetaValue::U32(4)),
        (s("llama.attention.head_count_kv"), MetaValue::U32(2)),
        (s("llama.attention.layer_norm_rms_epsilon"), MetaValue::F32(1e-5)),
        (s("llama.rope.freq_base"), MetaValue::F32(10_000.0)),
        (s("llama.context_length"), MetaValue::U32(64)),
        (s("tokenizer.ggml.model"), MetaValue::String(s("gpt2"))),
        (s("tokenizer.ggml.tokens"), MetaValue::Array(MetaArray::String(tokens))),
        (s("tokenizer.ggml.merges"), MetaValue::Array(MetaArray::String(["a b", "Ġ a", "Ġa b"].map(s).to_vec()))),
        (s("tokenizer.ggml.token_type"), MetaValue::Array(MetaArray::I32(vec![1; vocab as usize]))),
    ];
    // Deterministic, finite weights of the given type: f32/f16 values in [−0.5, 0.5), quantised
    // blocks with a small f16 scale (0x2000 ≈ 0.0078) and arbitrary nibbles.
    let data = |ty: GgmlType, elements: u64, seed: u8| -> Vec<u8> {
        let byte = |i: usize| (i as u8).wrapping_mul(37).wrapping_add(seed);
        match ty {
            GgmlType::F32 => {
                (0..elements as usize).flat_map(|i| (byte(i) as f32 / 256.0 - 0.5).to_le_bytes()).collect()
            }
            GgmlType::F16 => (0..elements as usize).flat_map(|i| [byte(i), 0x30 | (byte(i) & 0x83)]).collect(),
            GgmlType::Q8_0 => (0..elements as usize / 32)
                .flat_map(|b| [0x00, 0x20].into_iter().chain((0..32).map(move |i| byte(b * 32 + i))))
                .collect(),
            GgmlType::Q4_0 => (0..elements as usize / 32)
                .flat_map(|b| [0x00, 0x20].into_iter().chain((0..16).map(move |i| byte(b * 16 + i))))
                .collect(),
            GgmlType::Q4_1 => (0..elements as usize / 32)
                .flat_map(|b| [0x00, 0x20, 0x00, 0xa0].into_iter().chain((0..16).map(move |i| byte(b * 16 + i))))
                .collect(),
            GgmlType::Other(_) => unreachable!(),
        }
    };
    let mut tensors = vec![(s("token_embd.weight"), vec![d, vocab], GgmlType::Q8_0)];
    for l in 0..2 {
        let n = |x: &str| format!("blk.{l}.{x}.weight");
        tensors.extend([
            (n("attn_norm"), vec![d], GgmlType::F32),
            (n("attn_q"), vec![d, d], GgmlType::Q4_0),
            (n("attn_k"), vec![d, d / 2], GgmlType::Q4_1),
            (n("attn_v"), vec![d, d / 2], GgmlType::F16),
            (n("attn_output"), vec![d, d], GgmlType::Q8_0),
            (n("ffn_norm"), vec![d], GgmlType::F32),
            (n("ffn_gate"), vec![d, ff], GgmlType::Q4_1),
            (n("ffn_up"), vec![d, ff], GgmlType::F32),
            (n("ffn_down"), vec![ff, d], GgmlType::Q4_0),
        ]);
    }
    tensors.push((s("output_norm.weight"), vec![d], GgmlType::F32));
    let tensors = tensors
        .into_iter()
        .enumerate()
        .map(|(i, (name, dims, ty))| {
            let bytes = data(ty, dims.iter().product(), i as u8);
            (name, dims, ty, bytes)
        })
        .collect();
    (meta, tensors)
}

fn write(meta: &[(String, MetaValue)], tensors: &[(String, Vec<u64>, GgmlType, Vec<u8>)]) -> Vec<u8> {
    let t: Vec<_> = tensors.iter().map(|(n, d, ty, b)| (n.clone(), d.clone(), *ty, b.as_slice())).collect();
    write_gguf(3, 32, meta, &t)
}

/// Files that differ from the valid one in a way a byte flip rarely reaches: a wrong type for
/// every key the loader reads, absurd values, duplicate or missing tensors, overflowing dims.
fn structural_variants() -> Vec<(String, Vec<u8>)> {
    let (meta, tensors) = tiny_model_parts();
    let mut out = vec![(s("valid"), write(&meta, &tensors))];
    let wrong_values = [
        MetaValue::String(s("12")),
        MetaValue::F32(2.0),
        MetaValue::F64(f64::NAN),
        MetaValue::I32(-1),
        MetaValue::U64(u64::MAX),
        MetaValue::U32(0),
        MetaValue::U32(u32::MAX),
        MetaValue::Bool(true),
        MetaValue::Array(MetaArray::U32(vec![2])),
        MetaValue::Array(MetaArray::String(vec![])),
        MetaValue::Array(MetaArray::Array(vec![MetaArray::String(vec![s("a")])])),
    ];
    for (k, _) in &meta {
        for v in &wrong_values {
            let mut m = meta.clone();
            m.iter_mut().find(|(key, _)| key == k).unwrap().1 = v.clone();
            out.push((format!("{k} = {v:?}"), write(&m, &tensors)));
        }
        let m: Vec<_> = meta.iter().filter(|(key, _)| key != k).cloned().collect();
        out.push((format!("no {k}"), write(&m, &tensors)));
    }
    let mut m = meta.clone();
    m.push(meta[1].clone());
    out.push((s("duplicate key"), write(&m, &tensors)));
    for i in [0, 3, tensors.len() - 1] {
        let mut t = tensors.clone();
        t.push(tensors[i].clone());
        out.push((format!("duplicate tensor {}", tensors[i].0), write(&meta, &t)));
        let mut t = tensors.clone();
        t.remove(i);
        out.push((format!("missing tensor {}", tensors[i].0), write(&meta, &t)));
        for dims in [vec![1 << 32, 1 << 32], vec![u64::MAX, 2], vec![0, 16], vec![16; 5], vec![]] {
            let mut t = tensors.clone();
            t[i].1 = dims.clone();
            out.push((format!("{} dims {dims:?}", tensors[i].0), write(&meta, &t)));
        }
        for ty in [GgmlType::Other(14), GgmlType::Other(1000), GgmlType::F32, GgmlType::Q4_0] {
            let mut t = tensors.clone();
            t[i].2 = ty;
            out.push((format!("{} as {ty:?}", tensors[i].0), write(&meta, &t)));
        }
    }
    out
}

/// A seeded xorshift64 stream.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Values that make length, count, dim, offset and type fields hostile.
const HOSTILE_U64: [u64; 9] = [0, 1, 7, 1 << 31, u32::MAX as u64, 1 << 32, 1 << 62, u64::MAX - 7, u64::MAX];

/// One random mutation of `file`, most of them in its first `header` bytes (where the
/// structure is): bit flips, byte runs, hostile u64/u32 fields, cuts, inserts and deletes.
fn mutate(rng: &mut Rng, file: &[u8], header: usize) -> Vec<u8> {
    let mut b = file.to_vec();
    for _ in 0..rng.below(3) + 1 {
        let len = b.len();
        let at = if rng.below(10) < 8 { rng.below(header.min(len)) } else { rng.below(len) };
        match rng.below(7) {
            0 => b[at] ^= 1 << rng.below(8),
            1 => {
                let fill = [0u8, 0xff, rng.next() as u8][rng.below(3)];
                let end = (at + rng.below(64) + 1).min(len);
                b[at..end].fill(fill);
            }
            2 if at + 8 <= len => {
                b[at..at + 8].copy_from_slice(&HOSTILE_U64[rng.below(HOSTILE_U64.len())].to_le_bytes())
            }
            3 if at + 4 <= len => b[at..at + 4]
                .copy_from_slice(&(rng.below(16) as u32 | [0, 0x100, 0x8000_0000][rng.below(3)]).to_le_bytes()),
            4 => b.truncate(at),
            5 => {
                let run: Vec<u8> = (0..rng.below(16) + 1).map(|_| rng.next() as u8).collect();
                b.splice(at..at, run);
            }
            _ => {
                let end = (at + rng.below(16) + 1).min(len);
                b.drain(at..end);
            }
        }
        if b.is_empty() {
            break;
        }
    }
    b
}

fn header_len(bytes: &[u8]) -> usize {
    Gguf::parse(bytes.to_vec()).expect("the base file parses").data_offset()
}

#[test]
fn hostile_gguf_files_give_errors_not_panics() {
    // A loader's panic is caught and reported with its input; keep the hook from printing it too.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !IN_LOADER.get() {
            default_hook(info)
        }
    }));
    let mut tally = Tally::default();

    let variants = structural_variants();
    let valid = variants[0].1.clone();
    let header = header_len(&valid);
    for (what, bytes) in &variants {
        tally.load(what, bytes.clone());
    }
    let mut probe = Tally::default();
    probe.load("the valid file", valid.clone());
    assert_eq!(probe.loaded, 1, "the tiny model must load, or the mutations below test nothing");

    // Every prefix of the valid file: header, tensor infos and data.
    for len in 0..valid.len() {
        tally.load(&format!("prefix of {len} bytes"), valid[..len].to_vec());
    }

    // Seeded random mutations of the valid file and of every structural variant.
    let mut rng = Rng(0x5eed_ac75_ca1e_0015);
    for i in 0..100_000 {
        let (name, base) = if i % 4 == 0 { &variants[rng.below(variants.len())] } else { &variants[0] };
        let bytes = mutate(&mut rng, base, header);
        tally.load(&format!("mutation {i} of {name}"), bytes);
    }
    let tiny = std::mem::take(&mut tally);

    // The real 2-layer file: its header is 1.77 MB, nearly all vocabulary, so every prefix of it would
    // be a quadratic amount of parsing; take every prefix of the tensor-info region and of the
    // first 2 KiB, 300 spread through the rest and 30 through the data, and 300 mutations; each
    // through what the loader reads from the header (dequantising 36 MB per input would spend
    // the time on weights the tiny model's mutations already cover).
    let g = Gguf::parse(common::model_bytes()).expect("the real model parses");
    let real = truncate_layers(&g, 2).expect("truncates");
    drop(g);
    let real_header = header_len(&real);
    let info_start = tensor_info_start(&real);
    let mut lens: Vec<usize> = (0..2048).chain(info_start..=real_header).collect();
    let mut rng = Rng(0x2_1a7e_5f11e);
    lens.extend((0..300).map(|_| rng.below(real_header)));
    lens.extend((0..30).map(|_| real_header + rng.below(real.len() - real_header)));
    let mut real_tally = Tally::default();
    for len in lens {
        real_tally.read_header(&format!("2-layer prefix of {len} bytes"), real[..len].to_vec());
    }
    for i in 0..300 {
        let bytes = mutate(&mut rng, &real, real_header);
        real_tally.read_header(&format!("2-layer mutation {i}"), bytes);
    }
    eprintln!(
        "tiny model ({} bytes, header {header}; {} structural variants, every prefix, 100,000 mutations): {tiny:?}\n\
         2-layer model (header {real_header} bytes, tensor infos from {info_start}): {real_tally:?}",
        valid.len(),
        variants.len()
    );
    assert!(tiny.inputs >= 100_000 && tiny.errors > 0 && tiny.loaded > 0, "{tiny:?}");
    assert!(real_tally.errors > 0, "{real_tally:?}");
}

/// Where the tensor-info region of a GGUF starts: after the last metadata value, i.e. at the
/// first tensor name's length field (the first tensor of a llama file is `token_embd.weight`).
fn tensor_info_start(bytes: &[u8]) -> usize {
    let name = b"token_embd.weight";
    let at = bytes.windows(name.len()).position(|w| w == name).expect("token_embd.weight in the header");
    at - 8
}
