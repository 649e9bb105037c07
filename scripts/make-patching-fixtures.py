#!/usr/bin/env python3
# Regenerate tests/data/patching/smollm2.json (from the repository root, with the model in static/models):
#   /tmp/np/bin/python scripts/make-patching-fixtures.py
# The venv: python3 -m venv /tmp/np && /tmp/np/bin/pip install numpy gguf==0.19.0
"""Activation patching maps computed by an independent numpy forward (float64), as fixtures for
tests/patching.rs.

The forward is written from llama.cpp's llama graph (RMSNorm, RoPE in llama.cpp's "norm" form on
adjacent pairs, grouped-query attention, SwiGLU, tied output), reads the GGUF with gguf-py and
dequantises it with gguf-py's own code. Before writing anything it checks itself against
llama.cpp: its last-position logits for "Rome is in" must equal llama.cpp's f32 run
(tests/data/smollm2-llamacpp-logits.json) to MAX_LLAMA_CPP_DIFF.

Patching is done the plain way, with no re-use of the clean run: for every unit (site, layer,
position) one whole forward of the clean prompt in which that site's output at that position is
replaced by the corrupted run's. effect = Δ(patched) − Δ(clean), Δ = z[to] − z[from].
Per head ("attn_head", [layer][head][position]): the same with one head's output (its slice of
the attention output before W_O) replaced by the corrupted run's.
Each pair is written for the whole model and for its first 2 blocks (the 2-layer test model,
which `actscale truncate --layers 2` makes from the same file).
"""

import json
import pathlib
import sys

try:
    import numpy as np
    import gguf
except ImportError:
    sys.exit("needs numpy and gguf; see the top of this script for the venv")

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODEL = ROOT / "static" / "models" / "smollm2-135m-instruct-q4_1.gguf"
OUT = ROOT / "tests" / "data" / "patching" / "smollm2.json"
MAX_LLAMA_CPP_DIFF = 1e-3

# (clean, corrupt, from, to) with their ids from the model's tokenizer (tests/patching.rs checks
# that the Rust tokenizer gives these ids for these texts).
PAIRS = [
    dict(prompt="Rome is in", corrupt="Paris is in", ids=[46292, 314, 281], corrupt_ids=[38634, 314, 281],
         answer_from=" Italy", answer_to=" France", from_id=7158, to_id=4649),
    dict(prompt="The capital of Italy is", corrupt="The capital of France is",
         ids=[504, 3575, 282, 7158, 314], corrupt_ids=[504, 3575, 282, 4649, 314],
         answer_from=" Rome", answer_to=" Paris", from_id=7268, to_id=7042),
]


class Model:
    def __init__(self, path):
        r = gguf.GGUFReader(str(path))
        f = lambda k: r.fields[k].contents()
        self.n_layers = int(f("llama.block_count"))
        self.n_head = int(f("llama.attention.head_count"))
        self.n_kv = int(f("llama.attention.head_count_kv"))
        self.d = int(f("llama.embedding_length"))
        self.eps = float(f("llama.attention.layer_norm_rms_epsilon"))
        self.base = float(f("llama.rope.freq_base"))
        self.w = {}
        for t in r.tensors:
            a = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float64)
            # gguf-py gives [rows = out, cols = in] for matrices (ggml's ne reversed).
            self.w[t.name] = a.reshape([int(x) for x in reversed(t.shape)]) if a.ndim > 1 or len(t.shape) > 1 else a

    def rms(self, x, w):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps) * w

    def rope(self, x):  # x [T, heads, hd]; llama.cpp "norm": pairs (2i, 2i+1)
        t, _, hd = x.shape
        inv = self.base ** (-np.arange(0, hd, 2) / hd)
        ang = np.arange(t)[:, None] * inv[None, :]
        cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
        x0, x1 = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = x0 * cos - x1 * sin
        out[..., 1::2] = x0 * sin + x1 * cos
        return out

    def forward(self, ids, n_layers, patch=None, record=None):
        """Last-position logits. patch: (site, layer, pos, vector); record: dict filled with site outputs."""
        x = self.w["token_embd.weight"][ids]
        t = len(ids)
        hd = self.d // self.n_head
        mask = np.triu(np.full((t, t), -np.inf), 1)
        for l in range(n_layers):
            p = f"blk.{l}."
            h = self.rms(x, self.w[p + "attn_norm.weight"])
            q = self.rope((h @ self.w[p + "attn_q.weight"].T).reshape(t, self.n_head, hd))
            k = self.rope((h @ self.w[p + "attn_k.weight"].T).reshape(t, self.n_kv, hd))
            v = (h @ self.w[p + "attn_v.weight"].T).reshape(t, self.n_kv, hd)
            group = self.n_head // self.n_kv
            out = np.empty((t, self.n_head, hd))
            for i in range(self.n_head):
                s = q[:, i] @ k[:, i // group].T / np.sqrt(hd) + mask
                s = np.exp(s - s.max(axis=1, keepdims=True))
                out[:, i] = (s / s.sum(axis=1, keepdims=True)) @ v[:, i // group]
            if record is not None:
                record[("attn_head", l)] = out.copy()
            if patch is not None and patch[0] == "attn_head" and patch[1] == l:
                out[patch[2], patch[4]] = patch[3]
            attn = out.reshape(t, self.d) @ self.w[p + "attn_output.weight"].T
            attn = self.site("attn_out", l, attn, patch, record)
            x = x + attn
            h = self.rms(x, self.w[p + "ffn_norm.weight"])
            g = h @ self.w[p + "ffn_gate.weight"].T
            mlp = (g / (1 + np.exp(-g)) * (h @ self.w[p + "ffn_up.weight"].T)) @ self.w[p + "ffn_down.weight"].T
            x = x + self.site("mlp_out", l, mlp, patch, record)
        x = self.rms(x[-1], self.w["output_norm.weight"])
        return self.w["token_embd.weight"] @ x

    @staticmethod
    def site(name, layer, out, patch, record):
        if record is not None:
            record[(name, layer)] = out.copy()
        if patch is not None and patch[0] == name and patch[1] == layer:
            out = out.copy()
            out[patch[2]] = patch[3]
        return out


def check_against_llama_cpp(m):
    ref = json.loads((ROOT / "tests" / "data" / "smollm2-llamacpp-logits.json").read_text())
    r = next(r for r in ref["results"] if r["prompt"] == "Rome is in")
    logits = m.forward(r["ids_nobos"], m.n_layers)
    worst = max(abs(logits[e["id"]] - e["logit"]) for e in r["nobos_f32_dequant"]["top10"])
    print(f"numpy vs llama.cpp (f32), 'Rome is in' top-10 logits: worst |diff| {worst:.2e}")
    if worst > MAX_LLAMA_CPP_DIFF:
        sys.exit(f"the numpy forward disagrees with llama.cpp by {worst}")


def patching(m, pair, n_layers):
    delta = lambda z: float(z[pair["to_id"]] - z[pair["from_id"]])
    corrupt = {}
    d_corrupt = delta(m.forward(pair["corrupt_ids"], n_layers, record=corrupt))
    d_clean = delta(m.forward(pair["ids"], n_layers))
    t = len(pair["ids"])
    maps = {}
    for site in ["attn_out", "mlp_out"]:
        maps[site] = [
            [delta(m.forward(pair["ids"], n_layers, patch=(site, l, p, corrupt[(site, l)][p]))) - d_clean
             for p in range(t)]
            for l in range(n_layers)
        ]
    maps["attn_head"] = [
        [[delta(m.forward(pair["ids"], n_layers, patch=("attn_head", l, p, corrupt[("attn_head", l)][p, h], h))) - d_clean
          for p in range(t)]
         for h in range(m.n_head)]
        for l in range(n_layers)
    ]
    return dict(pair, n_layers=n_layers, delta_clean=d_clean, delta_corrupt=d_corrupt, **maps)


def main():
    m = Model(MODEL)
    check_against_llama_cpp(m)
    cases = [patching(m, pair, n) for n in (2, m.n_layers) for pair in PAIRS]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(dict(
        model="static/models/smollm2-135m-instruct-q4_1.gguf (2 blocks: the 2-layer test model)",
        made_by="scripts/make-patching-fixtures.py", numpy=np.__version__, gguf="0.19.0",
        cases=cases), indent=1))
    print(f"wrote {OUT} ({len(cases)} maps)")


main()
