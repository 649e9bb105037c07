// Benchmark (prints figures, asserts nothing): the built site in headless Chromium.
// Usage (after `make build`):
//   node tests/e2e/bench-page.mjs                  CPU backend, default model
//   node tests/e2e/bench-page.mjs --webgpu         WebGPU (?backend=webgpu; here SwiftShader's
//                                                  software adapter, on a real GPU the real thing)
//   node tests/e2e/bench-page.mjs --model static/models/test-2layer.gguf   another model
// Prints: wasm sizes, page open → model ready and first prediction (model cached), one forward
// (next-token prediction of a 10-token prompt), and one training step (1 prompt, ActivScalar).
import { stat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { serve, launch, openPage, setNumber, DIST } from './support.mjs';

const args = process.argv.slice(2);
const webgpu = args.includes('--webgpu');
const model = args.includes('--model') ? args[args.indexOf('--model') + 1] : 'static/models/smollm2-135m-instruct-q4_1.gguf';
const query = new URLSearchParams({ model, ...(webgpu ? { backend: 'webgpu' } : {}) });
const LONG = 600_000;
const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;

const site = await serve();
const browser = await launch({ webgpu });
const errors = [];
try {
  for (const f of (await readdir(DIST)).filter((f) => f.endsWith('.wasm'))) {
    console.log(`wasm ${f}: ${((await stat(join(DIST, f))).size / 1e6).toFixed(2)} MB raw`);
  }
  const page = await openPage(browser, `${site.url}?${query}`, errors);
  await page.locator('#predictions tr.prediction').first().waitFor({ timeout: LONG });
  // Make sure the model is cached, then time a fresh open.
  for (let i = 0; i < 120; i++) {
    const ok = await page.evaluate(async (m) => Boolean(await (await caches.open('actscale-models-v1'))
      .match(new URL(m, location.href).href)), model);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const t0 = Date.now();
  await page.reload();
  await page.locator('#model-status.ready').waitFor({ timeout: LONG });
  const ready = Date.now();
  await page.locator('#predictions tr.prediction').first().waitFor({ timeout: LONG });
  const status = await page.locator('#backend-status').textContent();
  console.log(`${status}\nmodel ${model}`);
  console.log(`page open -> model ready (cached file): ${seconds(ready - t0)}; -> first prediction: ${seconds(Date.now() - t0)}`);

  // Forward: prompts of 10 and 11 tokens in turn; a prediction is in when the token chips change.
  const chips = () => page.locator('#prompt-tokens .token-chip').count();
  const forward = async (text) => {
    const before = await chips();
    const start = Date.now();
    await page.locator('#prompt').fill(text);
    await page.waitForFunction((n) => document.querySelectorAll('#prompt-tokens .token-chip').length !== n, before, { timeout: LONG, polling: 20 });
    return Date.now() - start;
  };
  const base = 'The capital of Italy is a city called Rome, and';
  await forward(base); // the first forward of a new length compiles kernels on WebGPU
  await forward(`${base} it`);
  const times = [];
  for (let i = 0; i < 4; i++) times.push(await forward(i % 2 ? `${base} it` : base));
  times.sort((a, b) => a - b);
  console.log(`forward, ${await chips()}-token prompt -> top-10 (median of 4, after warm-up): ${times[2]} ms`);

  await page.locator('#prompt').fill(base);
  await page.locator('#answer-from').fill(' it');
  await page.locator('#answer-to').fill(' the');
  await setNumber(page, '#hp-steps', 8);
  await page.locator('#train').click();
  const at = async (n) => {
    await page.waitForFunction((k) => Number(document.querySelector('#train-progress')?.value ?? 0) >= k, n, { timeout: LONG, polling: 50 });
    return Date.now();
  };
  const a = await at(2);
  const b = await at(7);
  console.log(`training step, 1 prompt x 10 tokens, ActivScalar: ${((b - a) / 5).toFixed(0)} ms (mean of steps 3-7, incl. heatmap)`);
  if (errors.length) console.log('console errors:', errors);
} finally {
  await browser.close();
  await site.close();
}
