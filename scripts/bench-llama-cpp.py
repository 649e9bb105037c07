# llama.cpp's forward on the benchmark's 10 tokens, f32 weights, 1 and 2 threads: the reference
# that `actscale bench-forward` is compared with (docs/performance.md "Native forward vs llama.cpp").
# Prints figures, asserts nothing. Not part of the tests (it compiles llama.cpp, ~10 min here):
#   python3 -m venv /tmp/qv && /tmp/qv/bin/pip install llama-cpp-python==0.3.36
#   /tmp/qv/bin/python scripts/bench-llama-cpp.py static/models/smollm2-135m-instruct-q4_1.gguf
# The first run writes an f32 copy of the model (llama_model_quantize to ALL_F32) beside /tmp.
import ctypes
import os
import statistics
import sys
import time

import llama_cpp

PROMPT = b"The capital of Italy is a city called Rome, and"  # src/cli/bench.rs's PROMPT
TOKENS, REPS = 10, 20

src = sys.argv[1]
f32 = "/tmp/" + os.path.basename(src).rsplit(".", 1)[0] + "-f32.gguf"
if not os.path.exists(f32):
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_ALL_F32
    params.allow_requantize = True
    if llama_cpp.llama_model_quantize(src.encode(), f32.encode(), ctypes.byref(params)) != 0:
        sys.exit(f"could not write an f32 copy of {src}")
for threads in (1, 2):
    llm = llama_cpp.Llama(model_path=f32, n_threads=threads, n_threads_batch=threads, n_ctx=64, verbose=False)
    tokens = llm.tokenize(PROMPT, add_bos=False)[:TOKENS]
    times = []
    for rep in range(REPS + 1):  # the first is a warm-up
        llm.reset()
        start = time.perf_counter()
        llm.eval(tokens)
        if rep:
            times.append((time.perf_counter() - start) * 1e3)
    print(f"llama.cpp f32, {threads} thread(s): median {statistics.median(times):.1f} ms (min {min(times):.1f}, n={REPS})")
