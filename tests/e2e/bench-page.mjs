// Benchmark (prints figures, asserts nothing): the built site in headless Chromium, CPU backend.
// Usage: node tests/e2e/bench-page.mjs   (after `trunk build --release`)
import { stat } from 'node:fs/promises';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { serve, launch, openPage, DIST } from './support.mjs';

const site = await serve();
const browser = await launch({ webgpu: false });
const errors = [];
try {
  for (const f of (await readdir(DIST)).filter((f) => f.endsWith('.wasm'))) {
    console.log(`wasm ${f}: ${((await stat(join(DIST, f))).size / 1e6).toFixed(2)} MB raw`);
  }
  const page = await openPage(browser, site.url, errors);
  await page.locator('#predictions tr.prediction').first().waitFor({ timeout: 240_000 });
  // Make sure the model is cached, then time a fresh open.
  for (let i = 0; i < 120; i++) {
    const ok = await page.evaluate(async () => Boolean(await (await caches.open('actscale-models-v1'))
      .match(new URL('static/models/smollm2-135m-instruct-q4_1.gguf', location.href).href)));
    if (ok) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const t0 = Date.now();
  await page.reload();
  await page.locator('#predictions tr.prediction').first().waitFor({ timeout: 240_000 });
  console.log(`page open -> first prediction (model cached): ${((Date.now() - t0) / 1000).toFixed(2)} s`);
  await page.locator('#prompt').fill('The capital of Italy is a city called Rome, and');
  await page.locator('#answer-from').fill(' it');
  await page.locator('#answer-to').fill(' the');
  await page.locator('#hp-steps').fill('8');
  await page.locator('#hp-steps').dispatchEvent('change');
  await page.locator('#train').click();
  const at = async (n) => {
    await page.waitForFunction((k) => Number(document.querySelector('#train-progress')?.value ?? 0) >= k, n, { timeout: 600_000, polling: 50 });
    return Date.now();
  };
  const a = await at(2);
  const b = await at(7);
  console.log(`training step, 1 prompt x 10 tokens, CPU backend in the browser: ${((b - a) / 5).toFixed(0)} ms (mean of steps 3-7, incl. heatmap)`);
  if (errors.length) console.log('console errors:', errors);
} finally {
  await browser.close();
  await site.close();
}
