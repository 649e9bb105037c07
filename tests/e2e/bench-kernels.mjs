// The few-row kernels alone, in headless Chromium (prints figures, asserts nothing): the
// forward (y = x·Wᵀ) and backward (dx = dy·W) over one model's worth of SmolLM2-135M's weight
// shapes — q, k, v, o, gate, up, down × 30 layers — on n rows, as a training step on one prompt
// of n/2 tokens runs them (both β halves). By default the weights are one layer's, reused by
// every layer, so that they sit in cache and the figures show the arithmetic, not this VM's
// memory; with --all-layers each layer has its own (425 MB), read from memory as in a real step.
// Usage: bash scripts/bench-kernels.sh (builds benches/row-kernels, runs this and the native twin).
//        node tests/e2e/bench-kernels.mjs KERNELS.wasm [--all-layers] [ROWS...]   (rows: 6 12 20)
import { readFile } from 'node:fs/promises';
import { launch } from './support.mjs';

const [wasmPath, ...rest] = process.argv.slice(2);
const allLayers = rest.includes('--all-layers');
const rowsArg = rest.filter((a) => a !== '--all-layers');
const rows = rowsArg.length ? rowsArg.map(Number) : [6, 12, 20];
const bytes = [...(await readFile(wasmPath))];
const browser = await launch({ webgpu: false });
try {
  const page = await browser.newPage();
  for (const n of rows) {
    const r = await page.evaluate(async ({ bytes, n, allLayers }) => {
      const { instance } = await WebAssembly.instantiate(new Uint8Array(bytes));
      const e = instance.exports;
      const shapes = [[576, 576], [192, 576], [192, 576], [576, 576], [1536, 576], [1536, 576], [576, 1536]];
      const layers = 30;
      const wLen = shapes.reduce((s, [m, k]) => s + m * k, 0);
      const per = 1536 * n;
      const wAll = allLayers ? layers * wLen : wLen;
      const base = e.alloc(3 * per + wAll);
      const mem = new Float32Array(e.memory.buffer, base, 3 * per + wAll);
      for (let i = 0; i < mem.length; i++) mem[i] = ((i * 7919) % 1000) / 1000 - 0.5;
      const x = base, y = x + 4 * per, dx = y + 4 * per, w0 = dx + 4 * per;
      const flop = 2 * n * layers * wLen;
      const run = (f) => {
        for (let l = 0; l < layers; l++) {
          let w = allLayers ? w0 + 4 * l * wLen : w0;
          for (const [m, k] of shapes) { f(w, m, k); w += 4 * m * k; }
        }
      };
      const out = {};
      for (const [name, f] of [['forward', (w, m, k) => e.fwd(x, n, w, m, k, y)], ['backward', (w, m, k) => e.bwd(y, n, w, m, k, dx)]]) {
        run(f);
        const ts = [];
        for (let i = 0; i < 15; i++) { const t0 = performance.now(); run(f); ts.push(performance.now() - t0); }
        ts.sort((a, b) => a - b);
        out[name] = { min: ts[0], median: ts[7], gflops: flop / ts[0] / 1e6 };
      }
      return out;
    }, { bytes, n, allLayers });
    const fmt = (m) => `min ${m.min.toFixed(1)} ms, median ${m.median.toFixed(1)} ms (${m.gflops.toFixed(1)} GFLOP/s at the min)`;
    console.log(`${n} rows: forward ${fmt(r.forward)}; backward ${fmt(r.backward)}`);
  }
} finally {
  await browser.close();
}
