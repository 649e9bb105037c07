#!/usr/bin/env python3
# Regenerate tests/data/arch/*.gguf and tests/data/arch/*.expected.json (from the repository root):
#   /tmp/qv/bin/python scripts/make-arch-fixtures.py
# The venv (about 17 minutes on 2 cores; llama.cpp is compiled from the sdist, CPU only):
#   python3 -m venv /tmp/qv && /tmp/qv/bin/pip install gguf==0.19.0 && CMAKE_BUILD_PARALLEL_LEVEL=2 /tmp/qv/bin/pip install --no-binary llama-cpp-python llama-cpp-python==0.3.36
"""Tiny random-weight GGUF models of several architectures, with their logits at every position
computed by llama.cpp (llama-cpp-python 0.3.36, an independent runtime), as test fixtures.

For each variant in VARIANTS this writes

    tests/data/arch/<name>.gguf           2 layers, d_model 64, 4 heads (2 KV heads where the
                                          variant has GQA), d_ff 128, context 64, vocab 288,
                                          every tensor F32, weights from a fixed numpy seed
    tests/data/arch/<name>.expected.json  llama.cpp's logits for IDS (8 ids, no BOS) at all 8
                                          positions, with f32 K/V cache and flash attention off

The script also runs its own numpy forward (float64, written from llama.cpp's graph code) on
the same weights and fails unless it agrees with llama.cpp to MAX_NUMPY_DIFF at every position,
and it checks that each fixture actually discriminates the convention it is meant to test
(rope type, rope base, rope_freqs, position embeddings, QKV split, GQA head mapping, biases,
GELU variant): the numpy forward with that convention wrong must differ by more than
MIN_ABLATION_DIFF. See tests/data/arch/README.md for the conventions.

Output is deterministic for a given gguf/numpy/llama-cpp-python (fixed seeds, 1 thread).
"""

import hashlib
import json
import math
import pathlib
import sys
from importlib.metadata import version

try:
    import numpy as np
    import gguf
    from gguf.constants import TokenType
    import llama_cpp
except ImportError:
    sys.exit("needs the `gguf` and `llama-cpp-python` packages; see the top of this script for the venv")

GGUF_VERSION = "0.19.0"
LLAMA_CPP_PYTHON_VERSION = "0.3.36"

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "tests" / "data" / "arch"

SEED = 20250611
N_LAYER = 2
D_MODEL = 64
N_HEAD = 4
D_HEAD = D_MODEL // N_HEAD
D_FF = 128
N_CTX = 64
IDS = [5, 17, 42, 3, 99, 7, 64, 21]

# numpy forward vs llama.cpp (f32 K/V cache), max |logit diff| over all positions and the vocab.
MAX_NUMPY_DIFF = 2e-4
# A wrong convention must move some logit by at least this much (10x the Rust test's 1e-3).
MIN_ABLATION_DIFF = 1e-2

# name -> configuration. rope: "none" | "norm" (pairs (2i, 2i+1)) | "neox" (pairs (i, i+n/2)),
# what llama.cpp's llama_model_rope_type() returns for the architecture.
VARIANTS = {
    "gpt2": dict(
        arch="gpt2", norm="layer", eps=1e-5, n_head_kv=N_HEAD, rope="none", freq_base=None,
        pos_embd=True, fused_qkv=True, qkv_bias=True, out_bias=True, ffn="gelu", ffn_bias=True,
        tied=False, rope_freqs=False, pre="gpt-2", bos="<|endoftext|>", eos="<|endoftext|>",
        add_bos=False,
        # Larger embeddings, smaller FFN and head: ggml-cpu's GELU goes through an f16 table
        # (see gelu_ggml_cpu), which with the default scales moved logits by up to 1.5e-3 from
        # an exact-tanh GELU; with these it is ~2e-4, so an f32 implementation with tanhf (or
        # erf) GELU passes a 1e-3 comparison.
        std=dict(embd=0.6, ffn_up=0.075, ffn_down=0.03, output=0.09)),
    "qwen2": dict(
        arch="qwen2", norm="rms", eps=1e-6, n_head_kv=2, rope="neox", freq_base=1e6,
        pos_embd=False, fused_qkv=False, qkv_bias=True, out_bias=False, ffn="swiglu", ffn_bias=False,
        tied=False, rope_freqs=False, pre="qwen2", bos="<|endoftext|>", eos="<|im_end|>",
        add_bos=False),
    "llama3": dict(
        arch="llama", norm="rms", eps=1e-5, n_head_kv=2, rope="norm", freq_base=500000.0,
        pos_embd=False, fused_qkv=False, qkv_bias=False, out_bias=False, ffn="swiglu", ffn_bias=False,
        tied=False, rope_freqs=True, pre="llama-bpe", bos="<|begin_of_text|>", eos="<|end_of_text|>",
        add_bos=True),
    "llama-tied": dict(
        arch="llama", norm="rms", eps=1e-5, n_head_kv=N_HEAD, rope="norm", freq_base=10000.0,
        pos_embd=False, fused_qkv=False, qkv_bias=False, out_bias=False, ffn="swiglu", ffn_bias=False,
        tied=True, rope_freqs=False, pre="llama-bpe", bos="<|begin_of_text|>", eos="<|end_of_text|>",
        add_bos=True,
        std=dict(embd=0.2)),  # the tied head multiplies by token_embd: keep logits O(1)
    # Pythia: parallel residual (attention and MLP both read the block's input), NEOX RoPE on
    # the first quarter of each head (rotary_pct 0.25: n_rot 4 of 16), fused QKV, biases, GELU.
    "gptneox": dict(
        arch="gptneox", norm="layer", eps=1e-5, n_head_kv=N_HEAD, rope="neox", freq_base=10000.0,
        n_rot=D_HEAD // 4, parallel=True,
        pos_embd=False, fused_qkv=True, qkv_bias=True, out_bias=True, ffn="gelu", ffn_bias=True,
        tied=False, rope_freqs=False, pre="gpt-2", bos="<|endoftext|>", eos="<|endoftext|>",
        add_bos=False,
        std=dict(embd=0.6, ffn_up=0.075, ffn_down=0.03, output=0.09)),
}

# Llama 3.1 rope scaling parameters (HF config "rope_scaling": {"rope_type": "llama3", ...}),
# turned into rope_freqs.weight by the same formula as llama.cpp's convert_hf_to_gguf.py
# (LlamaModel.generate_extra_tensors). original_max_position_embeddings is the fixture's
# context length (Llama 3.1 uses 8192) so that the factors differ from 1 on dimensions that
# actually rotate within 8 positions; with 8192 they would only touch dimensions whose angle
# stays below 0.01 rad here and the fixture could not tell whether rope_freqs is applied.
LLAMA3_ROPE_SCALING = dict(factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
                           original_max_position_embeddings=N_CTX)


# ----------------------------------------------------------------------------- tokenizer

def bytes_to_unicode():
    """GPT-2's byte -> printable character table, in GPT-2's vocabulary order."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return list(zip(bs, [chr(c) for c in cs]))


MERGES = [
    "Ġ t", "h e", "Ġt he", "i n", "Ġ a", "e r", "o n", "r e", "a t", "Ġ s", "e n", "o r", "Ġ w",
    "Ġ o", "i s", "Ġ c", "e s", "Ġ b", "i t", "a n", "Ġ f", "Ġ p", "in g", "Ġ m", "e d", "Ġt h",
    "a r", "Ġ in",
]
SPECIALS = ["<|endoftext|>", "<|begin_of_text|>", "<|end_of_text|>", "<|im_end|>"]


def build_vocab():
    tokens = [c for _, c in bytes_to_unicode()]
    for m in MERGES:
        a, b = m.split(" ")
        assert a in tokens and b in tokens and a + b not in tokens, m
        tokens.append(a + b)
    types = [TokenType.NORMAL] * len(tokens)
    tokens += SPECIALS
    types += [TokenType.CONTROL] * len(SPECIALS)
    assert len(tokens) == len(set(tokens))
    return tokens, types


TOKENS, TOKEN_TYPES = build_vocab()
N_VOCAB = len(TOKENS)  # 256 bytes + 28 merges + 4 specials = 288
assert N_VOCAB == 288 and max(IDS) < N_VOCAB


# ----------------------------------------------------------------------------- weights

def llama3_rope_freqs(base, dim, factor, low_freq_factor, high_freq_factor,
                      original_max_position_embeddings):
    # convert_hf_to_gguf.py computes freqs in torch float32; same here.
    freqs = 1.0 / (np.float32(base) ** (np.arange(0, dim, 2, dtype=np.float32) / np.float32(dim)))
    old = original_max_position_embeddings
    low_freq_wavelen = old / low_freq_factor
    high_freq_wavelen = old / high_freq_factor
    out = []
    for freq in freqs.astype(np.float64):
        wavelen = 2 * math.pi / freq
        if wavelen < high_freq_wavelen:
            out.append(1.0)
        elif wavelen > low_freq_wavelen:
            out.append(factor)
        else:
            smooth = (old / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
            out.append(1 / ((1 - smooth) / factor + smooth))
    return np.array(out, dtype=np.float32)


def make_weights(cfg, seed):
    """name -> float32 numpy array; matrices are [out, in] (GGUFWriter reverses the numpy shape,
    so GGUF/ggml dims are [in, out]: ne[0] is the input width)."""
    rng = np.random.default_rng(seed)

    def normal(shape, std):
        return (rng.standard_normal(shape) * std).astype(np.float32)

    std = {**dict(embd=0.3, ffn_up=0.15, ffn_down=0.1, output=0.15), **cfg.get("std", {})}

    def norm_w():
        return (1.0 + rng.standard_normal(D_MODEL) * 0.1).astype(np.float32)

    kv = cfg["n_head_kv"] * D_HEAD
    W = {"token_embd.weight": normal((N_VOCAB, D_MODEL), std["embd"])}
    if cfg["pos_embd"]:
        W["position_embd.weight"] = normal((N_CTX, D_MODEL), std["embd"])
    for i in range(N_LAYER):
        p = f"blk.{i}."
        W[p + "attn_norm.weight"] = norm_w()
        if cfg["norm"] == "layer":
            W[p + "attn_norm.bias"] = normal(D_MODEL, 0.05)
        if cfg["fused_qkv"]:
            # rows: Q (D_MODEL), K (kv), V (kv)
            W[p + "attn_qkv.weight"] = np.concatenate(
                [normal((D_MODEL, D_MODEL), 0.15), normal((kv, D_MODEL), 0.15),
                 normal((kv, D_MODEL), 0.1)])
            W[p + "attn_qkv.bias"] = normal(D_MODEL + 2 * kv, 0.05)
        else:
            W[p + "attn_q.weight"] = normal((D_MODEL, D_MODEL), 0.15)
            W[p + "attn_k.weight"] = normal((kv, D_MODEL), 0.15)
            W[p + "attn_v.weight"] = normal((kv, D_MODEL), 0.1)
            if cfg["qkv_bias"]:
                W[p + "attn_q.bias"] = normal(D_MODEL, 0.1)
                W[p + "attn_k.bias"] = normal(kv, 0.1)
                W[p + "attn_v.bias"] = normal(kv, 0.1)
        W[p + "attn_output.weight"] = normal((D_MODEL, D_MODEL), 0.1)
        if cfg["out_bias"]:
            W[p + "attn_output.bias"] = normal(D_MODEL, 0.05)
        W[p + "ffn_norm.weight"] = norm_w()
        if cfg["norm"] == "layer":
            W[p + "ffn_norm.bias"] = normal(D_MODEL, 0.05)
        if cfg["ffn"] == "swiglu":
            W[p + "ffn_gate.weight"] = normal((D_FF, D_MODEL), 0.15)
        W[p + "ffn_up.weight"] = normal((D_FF, D_MODEL), std["ffn_up"])
        W[p + "ffn_down.weight"] = normal((D_MODEL, D_FF), std["ffn_down"])
        if cfg["ffn_bias"]:
            W[p + "ffn_up.bias"] = normal(D_FF, 0.1)
            W[p + "ffn_down.bias"] = normal(D_MODEL, 0.05)
    W["output_norm.weight"] = norm_w()
    if cfg["norm"] == "layer":
        W["output_norm.bias"] = normal(D_MODEL, 0.05)
    if not cfg["tied"]:
        W["output.weight"] = normal((N_VOCAB, D_MODEL), std["output"])
    if cfg["rope_freqs"]:
        W["rope_freqs.weight"] = llama3_rope_freqs(cfg["freq_base"], D_HEAD, **LLAMA3_ROPE_SCALING)
    return W


def write_gguf(path, name, cfg, W):
    arch = cfg["arch"]
    w = gguf.GGUFWriter(str(path), arch)
    w.add_name(f"actscale-fixture-{name}")
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_context_length(N_CTX)
    w.add_embedding_length(D_MODEL)
    w.add_feed_forward_length(D_FF)
    w.add_block_count(N_LAYER)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(cfg["n_head_kv"])
    if cfg["norm"] == "layer":
        w.add_layer_norm_eps(cfg["eps"])
    else:
        w.add_layer_norm_rms_eps(cfg["eps"])
    if cfg["rope"] != "none":
        w.add_rope_freq_base(cfg["freq_base"])
        w.add_rope_dimension_count(cfg.get("n_rot", D_HEAD))
    if arch == "gptneox":
        w.add_bool("gptneox.use_parallel_residual", cfg["parallel"])
    if arch == "llama":
        w.add_vocab_size(N_VOCAB)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(cfg["pre"])
    w.add_token_list(TOKENS)
    w.add_token_types(TOKEN_TYPES)
    w.add_token_merges(MERGES)
    w.add_bos_token_id(TOKENS.index(cfg["bos"]))
    w.add_eos_token_id(TOKENS.index(cfg["eos"]))
    w.add_add_bos_token(cfg["add_bos"])
    for tname, t in W.items():
        w.add_tensor(tname, np.ascontiguousarray(t, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


# ----------------------------------------------------------------------------- numpy forward

GELU_COEF_A = 0.044715
SQRT_2_OVER_PI = 0.79788456080286535587989211986876


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(SQRT_2_OVER_PI * x * (1.0 + GELU_COEF_A * x * x)))


def gelu_ggml_cpu(x):
    """ggml-cpu's ggml_vec_gelu_f32 with GGML_GELU_FP16 (defined in ggml-cpu/vec.h): x <= -10 -> 0,
    x >= 10 -> x, else the input is rounded to f16 and looked up in a table holding
    f16(gelu_tanh(f32 x)) for every f16 x."""
    x32 = np.asarray(x, dtype=np.float32)
    xh = x32.astype(np.float16).astype(np.float32)
    y = gelu_tanh(xh).astype(np.float32).astype(np.float16).astype(np.float64)
    y = np.where(x32 <= -10.0, 0.0, y)
    y = np.where(x32 >= 10.0, x32.astype(np.float64), y)
    return y


def gelu_erf(x):
    from math import erf
    return 0.5 * x * (1.0 + np.vectorize(erf)(x / math.sqrt(2.0)))


def rope(x, pos, base, style, factors=None, factor_op="div"):
    """x [T, H, Dh]; ggml_rope_ext with ext_factor 0, freq_scale 1, attn_factor 1:
    theta_i = pos * base^(-2i/Dh) / freq_factors[i], i = 0 .. Dh/2-1."""
    dh = x.shape[-1]
    half = dh // 2
    inv = base ** (-2.0 * np.arange(half) / dh)
    if factors is not None:
        f = np.asarray(factors, dtype=np.float64)
        inv = inv / f if factor_op == "div" else inv * f
    ang = np.asarray(pos, dtype=np.float64)[:, None] * inv[None, :]
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    out = np.empty_like(x)
    if style == "norm":
        x0, x1 = x[..., 0::2], x[..., 1::2]
        out[..., 0::2] = x0 * c - x1 * s
        out[..., 1::2] = x0 * s + x1 * c
    elif style == "neox":
        x0, x1 = x[..., :half], x[..., half:]
        out[..., :half] = x0 * c - x1 * s
        out[..., half:] = x0 * s + x1 * c
    else:
        raise ValueError(style)
    return out


def forward(cfg, W, ids, **abl):
    """Logits [len(ids), N_VOCAB] in float64. Keyword ablations switch one convention to a
    wrong one (used to check that the fixture discriminates it)."""
    W = {k: v.astype(np.float64) for k, v in W.items()}
    T = len(ids)
    pos = np.arange(T)
    nkv = cfg["n_head_kv"]
    kvd = nkv * D_HEAD
    eps = cfg["eps"]

    def norm(x, name):
        if cfg["norm"] == "layer":
            mu = x.mean(-1, keepdims=True)
            xc = x - mu
            var = (xc * xc).mean(-1, keepdims=True)
            return xc / np.sqrt(var + eps) * W[name + ".weight"] + W[name + ".bias"]
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * W[name + ".weight"]

    def lin(x, name, bias=True):
        y = x @ W[name + ".weight"].T
        if bias and name + ".bias" in W:
            y = y + W[name + ".bias"]
        return y

    x = W["token_embd.weight"][ids]
    if cfg["pos_embd"] and not abl.get("no_pos_embd"):
        x = x + W["position_embd.weight"][pos]
    for i in range(N_LAYER):
        p = f"blk.{i}."
        h = norm(x, p + "attn_norm")
        if cfg["fused_qkv"]:
            qkv = lin(h, p + "attn_qkv")
            q, k, v = qkv[:, :D_MODEL], qkv[:, D_MODEL:D_MODEL + kvd], qkv[:, D_MODEL + kvd:]
            if abl.get("qkv_order_kqv"):
                q, k = k, q
        else:
            nb = not abl.get("no_qkv_bias")
            q, k, v = lin(h, p + "attn_q", nb), lin(h, p + "attn_k", nb), lin(h, p + "attn_v", nb)
        q = q.reshape(T, N_HEAD, D_HEAD)
        k = k.reshape(T, nkv, D_HEAD)
        v = v.reshape(T, nkv, D_HEAD)
        if cfg["rope"] != "none":
            style = cfg["rope"]
            if abl.get("rope_swap_style"):
                style = {"norm": "neox", "neox": "norm"}[style]
            base = 10000.0 if abl.get("rope_base_1e4") else cfg["freq_base"]
            factors = W.get("rope_freqs.weight") if not abl.get("no_rope_freqs") else None
            fop = "mul" if abl.get("rope_freqs_multiply") else "div"
            n_rot = D_HEAD if abl.get("rope_full_head") else cfg.get("n_rot", D_HEAD)
            q = np.concatenate([rope(q[..., :n_rot], pos, base, style, factors, fop), q[..., n_rot:]], -1)
            k = np.concatenate([rope(k[..., :n_rot], pos, base, style, factors, fop), k[..., n_rot:]], -1)
        group = N_HEAD // nkv
        heads = []
        mask = np.triu(np.full((T, T), -np.inf), 1)
        for hh in range(N_HEAD):
            kh = (hh % nkv) if abl.get("gqa_modulo") else (hh // group)
            sc = q[:, hh] @ k[:, kh].T / math.sqrt(D_HEAD) + mask
            sc = np.exp(sc - sc.max(-1, keepdims=True))
            sc /= sc.sum(-1, keepdims=True)
            heads.append(sc @ v[:, kh])
        a = lin(np.concatenate(heads, -1), p + "attn_output")
        # Parallel residual: the MLP reads the block's input, not x + attention.
        parallel = cfg.get("parallel") and not abl.get("sequential_residual")
        h = norm(x if parallel else x + a, p + "ffn_norm")
        x = x + a
        if cfg["ffn"] == "gelu":
            u = lin(h, p + "ffn_up")
            g = abl.get("gelu", "ggml")
            u = {"ggml": gelu_ggml_cpu, "tanh": gelu_tanh, "erf": gelu_erf,
                 "silu": lambda t: t / (1.0 + np.exp(-t))}[g](u)
        else:
            g = lin(h, p + "ffn_gate")
            u = lin(h, p + "ffn_up")
            u = g / (1.0 + np.exp(-g)) * u
        x = x + lin(u, p + "ffn_down")
    x = norm(x, "output_norm")
    head = W["token_embd.weight"] if cfg["tied"] else W["output.weight"]
    return x @ head.T


ABLATIONS = {
    "gpt2": {"no_pos_embd": dict(no_pos_embd=True), "qkv_order_kqv": dict(qkv_order_kqv=True),
             "silu_instead_of_gelu": dict(gelu="silu")},
    "qwen2": {"rope_norm_instead_of_neox": dict(rope_swap_style=True),
              "rope_base_1e4": dict(rope_base_1e4=True), "no_qkv_bias": dict(no_qkv_bias=True),
              "gqa_kv_head_h_mod_nkv": dict(gqa_modulo=True)},
    "llama3": {"no_rope_freqs": dict(no_rope_freqs=True),
               "rope_freqs_multiply_instead_of_divide": dict(rope_freqs_multiply=True),
               "rope_neox_instead_of_norm": dict(rope_swap_style=True),
               "rope_base_1e4": dict(rope_base_1e4=True),
               "gqa_kv_head_h_mod_nkv": dict(gqa_modulo=True)},
    "llama-tied": {"rope_neox_instead_of_norm": dict(rope_swap_style=True)},
    "gptneox": {"sequential_residual": dict(sequential_residual=True),
                "rope_on_the_whole_head": dict(rope_full_head=True),
                "rope_norm_instead_of_neox": dict(rope_swap_style=True),
                "qkv_order_kqv": dict(qkv_order_kqv=True)},
}
# Reported, not required to exceed MIN_ABLATION_DIFF.
# The GELU variant (tanh approximation, as llama.cpp and HF "gelu_new") is NOT discriminated:
# exact-tanh and erf GELU both stay well within 1e-3 of llama.cpp's f16-table GELU.
INFO_ABLATIONS = {"gpt2": {"gelu_tanh_f32_instead_of_ggml_f16_table": dict(gelu="tanh"),
                           "gelu_erf_instead_of_ggml_f16_table": dict(gelu="erf")}}


# ----------------------------------------------------------------------------- llama.cpp

def llama_cpp_logits(path, ids, f32_kv=True):
    kw = dict(model_path=str(path), n_ctx=N_CTX, n_threads=1, n_threads_batch=1, logits_all=True,
              verbose=False, flash_attn=False, seed=0)
    if f32_kv:
        kw.update(type_k=llama_cpp.GGML_TYPE_F32, type_v=llama_cpp.GGML_TYPE_F32)
    llm = llama_cpp.Llama(**kw)
    assert llm.n_vocab() == N_VOCAB, llm.n_vocab()
    llm.eval(ids)
    out = np.array(llm.scores[: len(ids)], dtype=np.float32)
    llm.close()
    return out


def f32_list(row):
    # shortest decimal that round-trips the float32
    return [float(np.format_float_scientific(v, unique=True)) for v in row]


def main():
    versions = {"gguf": version("gguf"), "llama_cpp_python": version("llama_cpp_python"),
                "numpy": version("numpy")}
    if versions["gguf"] != GGUF_VERSION or versions["llama_cpp_python"] != LLAMA_CPP_PYTHON_VERSION:
        print(f"warning: pinned gguf {GGUF_VERSION} / llama-cpp-python {LLAMA_CPP_PYTHON_VERSION}, "
              f"found {versions}", file=sys.stderr)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    failures = []
    for vi, (name, cfg) in enumerate(VARIANTS.items()):
        W = make_weights(cfg, [SEED, vi])
        gpath = OUT_DIR / f"{name}.gguf"
        write_gguf(gpath, name, cfg, W)
        sha = hashlib.sha256(gpath.read_bytes()).hexdigest()

        lc = llama_cpp_logits(gpath, IDS, f32_kv=True)
        lc16 = llama_cpp_logits(gpath, IDS, f32_kv=False)
        ref = forward(cfg, W, IDS)

        # sanity
        assert np.isfinite(lc).all(), name
        row_std = lc.std(axis=1)
        pos_diff = min(np.abs(lc[i] - lc[j]).max() for i in range(len(IDS)) for j in range(i))
        if not (row_std.min() > 0.1 and np.abs(lc).max() < 20 and pos_diff > 0.05):
            failures.append(f"{name}: logits degenerate (row std {row_std.min():.3g}, "
                            f"max |logit| {np.abs(lc).max():.3g}, min position diff {pos_diff:.3g})")
        d_np = float(np.abs(ref - lc).max())
        d_16 = float(np.abs(lc16 - lc).max())
        if d_np > MAX_NUMPY_DIFF:
            failures.append(f"{name}: numpy forward differs from llama.cpp by {d_np:.3g}")
        abl = {}
        for aname, a in ABLATIONS[name].items():
            d = float(np.abs(forward(cfg, W, IDS, **a) - lc).max())
            abl[aname] = d
            if d < MIN_ABLATION_DIFF:
                failures.append(f"{name}: ablation {aname} moves logits by only {d:.3g}")
        info = {aname: float(np.abs(forward(cfg, W, IDS, **a) - lc).max())
                for aname, a in INFO_ABLATIONS.get(name, {}).items()}

        doc = {
            "generator": "scripts/make-arch-fixtures.py",
            "llama_cpp_python": versions["llama_cpp_python"],
            "gguf": versions["gguf"],
            "numpy": versions["numpy"],
            "variant": name,
            "architecture": cfg["arch"],
            "gguf_file": gpath.name,
            "gguf_sha256": sha,
            "engine": {"n_ctx": N_CTX, "n_threads": 1, "n_threads_batch": 1, "logits_all": True,
                       "flash_attn": False, "type_k": "f32", "type_v": "f32",
                       "call": "llm.eval(ids); llm.scores[:len(ids)] (no BOS added)"},
            "config": {"n_layer": N_LAYER, "d_model": D_MODEL, "n_head": N_HEAD,
                       "n_head_kv": cfg["n_head_kv"], "d_head": D_HEAD, "d_ff": D_FF, "n_ctx": N_CTX,
                       "n_vocab": N_VOCAB, "norm": cfg["norm"], "norm_eps": cfg["eps"],
                       "rope": cfg["rope"], "rope_freq_base": cfg["freq_base"],
                       "ffn": cfg["ffn"], "tied_embeddings": cfg["tied"],
                       "rope_freqs": [float(v) for v in W["rope_freqs.weight"]] if cfg["rope_freqs"] else None},
            "checks": {
                "numpy_forward_max_abs_diff": d_np,
                "f16_kv_cache_max_abs_diff": d_16,
                "wrong_convention_max_abs_diff": abl,
                **({"info_max_abs_diff": info} if info else {}),
            },
            "ids": IDS,
            "logits": [f32_list(r) for r in lc],
        }
        jpath = OUT_DIR / f"{name}.expected.json"
        jpath.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
        print(f"{name:11s} gguf {gpath.stat().st_size:7d} B  json {jpath.stat().st_size:6d} B  "
              f"numpy-vs-llama.cpp {d_np:.2e}  f16-KV-vs-f32-KV {d_16:.2e}  "
              f"|logit| max {np.abs(lc).max():.2f} row std min {row_std.min():.2f}  "
              f"ablations " + " ".join(f"{k}={v:.3g}" for k, v in {**abl, **info}.items()))
    if failures:
        sys.exit("FAILED:\n  " + "\n  ".join(failures))


if __name__ == "__main__":
    main()
