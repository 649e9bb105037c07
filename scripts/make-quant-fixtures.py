#!/usr/bin/env python3
# Regenerate tests/data/quant-fixtures.json (from the repository root):
#   python3 -m venv /tmp/qv && /tmp/qv/bin/pip install gguf==0.19.0 && /tmp/qv/bin/python scripts/make-quant-fixtures.py
"""Writes tests/data/quant-fixtures.json: random blocks of every ggml type that
src/model/gguf/dequant.rs decodes, dequantised by an independent implementation, the numpy
dequantisers of the PyPI package `gguf` (pinned to 0.19.0). tests/quant_fixtures.rs compares
the crate's `dequantize` with these values.

Regenerate (from the repository root):

    python3 -m venv /tmp/qv && /tmp/qv/bin/pip install gguf==0.19.0 && /tmp/qv/bin/python scripts/make-quant-fixtures.py

The output is deterministic for a given gguf/numpy (fixed seed). Quant payloads are random
bytes; every f16 scale field (d, dmin, m) is overwritten with a finite half of moderate
magnitude (|x| in [0.001, 2], random sign) so that no value is inf or NaN. F16 elements are
random finite halves (subnormals included); BF16 elements are random f32 in ±[1e-3, 1e3]
truncated to their upper 16 bits.
"""

import json
import pathlib
import sys
from importlib.metadata import version

try:
    import numpy as np
    from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType as T
    from gguf.quants import dequantize
except ImportError:
    sys.exit("needs the `gguf` package; run:\n  python3 -m venv /tmp/qv && /tmp/qv/bin/pip install gguf==0.19.0 "
             "&& /tmp/qv/bin/python scripts/make-quant-fixtures.py")

GGUF_VERSION = "0.19.0"
SEED = 20240516
BLOCKS = 3
# Block size 1 types get this many elements instead of BLOCKS.
ELEMENTS_SCALAR = 96

# Byte offsets of the f16 scale fields in one block (ggml's block_* structs; cf. the hsplits in
# gguf/quants.py: Q2_K = scales[16] qs[64] d dmin, Q3_K = hmask[32] qs[64] scales[12] d,
# Q4_K = d dmin scales[12] qs[128], Q5_K = d dmin scales[12] qh[32] qs[128],
# Q6_K = ql[128] qh[64] scales[16] d).
F16_FIELDS = {
    "Q4_0": [0],
    "Q4_1": [0, 2],
    "Q5_0": [0],
    "Q5_1": [0, 2],
    "Q8_0": [0],
    "Q2_K": [80, 82],
    "Q3_K": [108],
    "Q4_K": [0, 2],
    "Q5_K": [0, 2],
    "Q6_K": [208],
}
TYPES = ["F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"]


def moderate_halves(rng, n):
    mag = rng.uniform(0.001, 2.0, n)
    sign = rng.choice([-1.0, 1.0], n)
    return (mag * sign).astype(np.float16)


def raw_bytes(rng, name):
    qtype = T[name]
    block_size, type_size = GGML_QUANT_SIZES[qtype]
    if name == "F16":
        h = rng.integers(0, 1 << 16, 2 * ELEMENTS_SCALAR, dtype=np.uint16)
        h = h[((h >> 10) & 0x1F) != 0x1F][:ELEMENTS_SCALAR]  # drop inf/NaN, keep subnormals
        assert len(h) == ELEMENTS_SCALAR
        return h.astype("<u2").tobytes(), ELEMENTS_SCALAR
    if name == "BF16":
        mag = np.exp(rng.uniform(np.log(1e-3), np.log(1e3), ELEMENTS_SCALAR))
        f = (mag * rng.choice([-1.0, 1.0], ELEMENTS_SCALAR)).astype(np.float32)
        return (f.view(np.uint32) >> 16).astype("<u2").tobytes(), ELEMENTS_SCALAR
    raw = bytearray(rng.integers(0, 256, BLOCKS * type_size, dtype=np.uint8).tobytes())
    for b in range(BLOCKS):
        for off in F16_FIELDS[name]:
            at = b * type_size + off
            raw[at:at + 2] = moderate_halves(rng, 1).astype("<f2").tobytes()
    return bytes(raw), BLOCKS * block_size


def main():
    have = version("gguf")
    if have != GGUF_VERSION:
        sys.exit(f"gguf {have} is installed; the fixtures are pinned to gguf=={GGUF_VERSION}")

    rng = np.random.default_rng(SEED)
    types = []
    for name in TYPES:
        qtype = T[name]
        raw, n = raw_bytes(rng, name)
        block_size, type_size = GGML_QUANT_SIZES[qtype]
        assert len(raw) == n // block_size * type_size, name
        values = np.asarray(dequantize(np.frombuffer(raw, dtype=np.uint8), qtype), dtype=np.float32).reshape(-1)
        assert values.dtype == np.float32 and values.size == n, name
        assert np.isfinite(values).all(), name
        types.append({
            "name": name,
            "id": int(qtype),
            "n_elements": n,
            "bytes_hex": raw.hex(),
            # A double holding an f32 is written by repr exactly, so the values round-trip.
            "values": [float(np.float32(v)) for v in values],
        })

    out = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "quant-fixtures.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    head = {"generator": "scripts/make-quant-fixtures.py", "gguf_version": GGUF_VERSION, "seed": SEED}
    # One type per line, so that a regeneration diffs readably.
    lines = [json.dumps(t, separators=(",", ":")) for t in types]
    text = json.dumps(head, separators=(",", ":"))[:-1] + ',"types":[\n' + ",\n".join(lines) + "\n]}\n"
    json.loads(text)  # well-formed
    out.write_text(text)
    print(f"wrote {out} ({out.stat().st_size} bytes, {len(types)} types)")


if __name__ == "__main__":
    main()
