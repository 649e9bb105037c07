// Benchmark (prints figures, asserts nothing): the built site in headless Chromium, and with
// --native the CLI on the same prompts in the same run, with the browser/native ratios.
// Usage (after `make build`; `make bench` runs the full comparison):
//   node tests/e2e/bench-page.mjs                  CPU backend, default model
//   node tests/e2e/bench-page.mjs --webgpu         WebGPU (?backend=webgpu; here SwiftShader's
//                                                  software adapter, on a real GPU the real thing)
//   node tests/e2e/bench-page.mjs --model static/models/test-2layer.gguf   another model
//   node tests/e2e/bench-page.mjs --native PATH/TO/actscale   also the native CLI, and ratios
//   node tests/e2e/bench-page.mjs --dist DIR      another build of the site (default dist/)
// Measures: bundle sizes (raw, gzip -9), page open -> model ready and -> first prediction (model
// cached; median of 3 reopens), a forward (top-10 of a 10-token prompt, median of 5 after warm-up), and one
// ActivScalar training step on 6- and 10-token prompts (" Italy" -> " France", page defaults), and
// the default Train (the page's step budget and stopping rule on the 6-token prompt, click -> done).
import { execFileSync } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { serve, launch, openPage, setNumber, DIST, ROOT } from './support.mjs';

const args = process.argv.slice(2);
const option = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const webgpu = args.includes('--webgpu');
const model = option('--model') ?? 'static/models/smollm2-135m-instruct-q4_1.gguf';
const nativeBin = option('--native');
const dist = option('--dist') ?? DIST; // another build of the site, to compare
const query = new URLSearchParams({ model, ...(webgpu ? { backend: 'webgpu' } : {}) });
const LONG = 600_000;
const phase = (what) => console.error(`[bench] ${what}`);
const STEPS_MEASURED = 5;

// The native CLI's figures, and the text of its prompts (the page then runs the same token ids).
function native(command, ...extra) {
  const out = execFileSync(nativeBin, [command, '--model', join(ROOT, model), '--json', ...extra], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop());
}
const nat = nativeBin
  ? {
      forward: native('bench-forward', '--tokens', '10', '--threads', '1,2'),
      step6: native('bench-train', '--tokens', '6', '--threads', '1,2'),
      step10: native('bench-train', '--tokens', '10', '--threads', '1,2'),
    }
  : undefined;
// Without --native: the same prefixes of the CLI's benchmark prompt, typed as text.
const text10 = nat?.forward.text ?? 'The capital of Italy is a city called Rome,';
const text6 = nat?.step6.text ?? 'The capital of Italy is a';

const site = await serve(dist);
const browser = await launch({ webgpu });
const errors = [];
const b = {};
try {
  b.bundles = [];
  for (const f of (await readdir(dist)).filter((f) => /\.(wasm|js|css)$/.test(f))) {
    const bytes = await readFile(join(dist, f));
    b.bundles.push({ file: f, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length });
  }
  phase('page open, model download');
  const page = await openPage(browser, `${site.url}?${query}`, errors);
  page.on('crash', () => console.error('[bench] the page crashed'));
  await page.locator('#predictions tr.prediction').first().waitFor({ timeout: LONG });
  // Make sure the model is cached, then time a fresh open.
  for (let i = 0; i < 120; i++) {
    const ok = await page.evaluate(async (m) => Boolean(await (await caches.open('actscale-models-v1'))
      .match(new URL(m, location.href).href)), model);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  phase('reopen with the model cached (3 times, median)');
  const opens = [];
  for (let i = 0; i < 3; i++) {
    const t0 = Date.now();
    await page.reload();
    await page.locator('#model-status.ready').waitFor({ timeout: LONG });
    const ready = Date.now() - t0;
    await page.locator('#predictions tr.prediction').first().waitFor({ timeout: LONG });
    opens.push({ ready, firstPrediction: Date.now() - t0 });
  }
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  b.ready = median(opens.map((o) => o.ready));
  b.firstPrediction = median(opens.map((o) => o.firstPrediction));
  console.error(`[bench] opens: ${opens.map((o) => `${o.ready}/${o.firstPrediction} ms`).join(', ')}`);
  b.status = await page.locator('#backend-status').textContent();
  // The Train defaults as a visitor finds them (the last measure presses Train with them).
  const defaults = {
    steps: Number(await page.locator('#hp-steps').inputValue()),
    untilConverged: await page.locator('#until-converged').isChecked(),
  };

  // Forward: two prompts in turn; a prediction is in when the token chips change.
  const chips = () => page.locator('#prompt-tokens .token-chip').count();
  const forward = async (text) => {
    const before = await chips();
    const start = Date.now();
    await page.locator('#prompt').fill(text);
    await page.waitForFunction((n) => document.querySelectorAll('#prompt-tokens .token-chip').length !== n, before, { timeout: LONG, polling: 20 });
    return Date.now() - start;
  };
  phase('forward');
  const other = `${text10} it`;
  await forward(text10); // the first forward of a new length compiles kernels on WebGPU
  await forward(other);
  // Alternate (a prompt of another length each time, so the chips change): 5 timed forwards of
  // the 10-token prompt.
  const times = [];
  for (let i = 0; i < 5; i++) {
    times.push(await forward(text10));
    b.forwardTokens = await chips();
    await forward(other);
  }
  times.sort((x, y) => x - y);
  b.forward = times[2];

  const step = async (text) => {
    phase(`training steps: ${text}`);
    await forward(text);
    await page.locator('#answer-from').fill(' Italy');
    await page.locator('#answer-to').fill(' France');
    await setNumber(page, '#hp-steps', STEPS_MEASURED + 3);
    await page.waitForFunction(() => !document.querySelector('#train')?.disabled, null, { timeout: LONG });
    const tokens = await chips();
    await page.locator('#train').click();
    await page.locator('#train-done').waitFor({ state: 'detached', timeout: LONG });
    const at = async (n) => {
      await page.waitForFunction((k) => Number(document.querySelector('#train-progress')?.value ?? 0) >= k, n, { timeout: LONG, polling: 20 });
      return Date.now();
    };
    const from = await at(2);
    const to = await at(2 + STEPS_MEASURED);
    await page.locator('#train-done').waitFor({ timeout: LONG });
    return { tokens, ms: (to - from) / STEPS_MEASURED };
  };
  b.step6 = await step(text6);
  b.step10 = await step(text10);

  // What a visitor waits for: Train with the page's defaults (steps, stopping rule) on the
  // 6-token prompt, from the click to "done".
  phase(`default Train: ${text6}`);
  await forward(text6);
  await setNumber(page, '#hp-steps', defaults.steps);
  await page.locator('#until-converged').setChecked(defaults.untilConverged);
  await page.waitForFunction(() => !document.querySelector('#train')?.disabled, null, { timeout: LONG });
  const trainStart = Date.now();
  await page.locator('#train').click();
  await page.locator('#train-done').waitFor({ state: 'detached', timeout: LONG });
  await page.locator('#train-done').waitFor({ timeout: LONG });
  b.defaultTrain = {
    ms: Date.now() - trainStart,
    done: await page.locator('#train-done').textContent(),
    of: defaults.steps,
    stopping: defaults.untilConverged,
    tokens: await chips(),
  };
  if (errors.length) console.log('console errors:', errors);
} finally {
  await browser.close();
  await site.close();
}

const mb = (n) => `${(n / 1e6).toFixed(2)} MB`;
const ms = (n) => `${Math.round(n)} ms`;
console.log(`model ${model}\n${b.status}`);
const t = b.defaultTrain;
console.log(`default Train (${t.tokens} tokens, " Italy" -> " France", stopping rule ${t.stopping ? 'on' : 'off'}): ${(t.ms / 1000).toFixed(1)} s, ${t.of} steps at most — "${t.done}"`);
for (const f of b.bundles) console.log(`bundle ${f.file}: ${mb(f.raw)} raw, ${mb(f.gzip)} gzip -9`);
const rows = [
  ['page open -> model ready (model cached)', b.ready, nat?.forward.load_ms, 'native: read + parse + dequantise'],
  ['page open -> first prediction', b.firstPrediction],
  [`forward, ${b.forwardTokens} tokens (browser: incl. top-10 shown)`, b.forward, nat?.forward],
  [`training step, ${b.step6.tokens} tokens`, b.step6.ms, nat?.step6],
  [`training step, ${b.step10.tokens} tokens`, b.step10.ms, nat?.step10],
];
const median = (r, threads) => r?.runs?.find((x) => x.threads === threads)?.median_ms;
console.log(`\n| measure | browser | native 1 thread | native 2 threads | browser / native 1 thread |\n|---|---|---|---|---|`);
for (const [name, br, n, note] of rows) {
  const one = typeof n === 'number' ? n : median(n, 1);
  const two = median(n, 2);
  const ratio = one ? `${(br / one).toFixed(2)}×` : '';
  console.log(`| ${name} | ${ms(br)} | ${one ? ms(one) : ''}${note && one ? ` (${note})` : ''} | ${two ? ms(two) : ''} | ${ratio} |`);
}
