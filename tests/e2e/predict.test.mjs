// The default model in the built site: it loads on page open (with a progress bar), and typing
// a prompt shows its tokens and the top-10 next tokens. CPU backend (no WebGPU flag) so that the
// test does not wait for SwiftShader to compile every kernel of a 30-layer model.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { serve, sharedBrowser, openPage, screenshot, ROOT } from './support.mjs';

let site;
before(async () => { site = await serve(); });
after(async () => { await site?.close(); });

test('typing "The capital of Italy is" predicts " Rome" first', async () => {
  const browser = await sharedBrowser({ webgpu: false });
  const errors = [];
  try {
    // Records whether the download progress bar was ever shown (it may be gone again by the
    // time the test looks, so an observer watches from the first byte of the page on).
    const watchProgress = () => {
      window.__sawProgress = false;
      new MutationObserver(() => {
        if (document.querySelector('#model-progress')) window.__sawProgress = true;
      }).observe(document, { childList: true, subtree: true });
    };
    const page = await openPage(browser, site.url, errors, { init: watchProgress });
    await page.locator('#model-status.ready').waitFor({ timeout: 240_000 });
    assert.equal(await page.evaluate(() => window.__sawProgress), true, 'a progress bar showed the download');
    const prompt = page.locator('#prompt');
    await prompt.fill('');
    await prompt.pressSequentially('The capital of Italy is');
    const chips = page.locator('#prompt-tokens .token-chip');
    await page.waitForFunction(
      () => document.querySelectorAll('#prompt-tokens .token-chip').length === 5, null, { timeout: 120_000 });
    assert.equal(await chips.count(), 5);
    assert.match(await chips.nth(3).textContent(), /Italy.*7158/);
    const first = page.locator('#predictions tr.prediction').first();
    await page.waitForFunction(
      () => document.querySelectorAll('#predictions tr.prediction').length === 10, null, { timeout: 60_000 });
    assert.equal(await first.getAttribute('data-token'), ' Rome');
    await screenshot(page, 'predict-rome');

    // A reload takes the model from the browser's cache, not from the server again.
    const modelPath = '/static/models/smollm2-135m-instruct-q4_1.gguf';
    assert.equal(site.hits.get(modelPath), 1);
    // The worker writes the cache entry after checking the download, with its SHA-256 (so that
    // a reload need not hash it again); wait until it is there.
    const cachedNow = () => page.evaluate(async (path) => {
      const cache = await caches.open('actscale-models-v1');
      const hit = await cache.match(new URL(path, location.href).href);
      return hit ? { digest: hit.headers.get('x-actscale-sha256'), size: (await hit.arrayBuffer()).byteLength } : null;
    }, modelPath);
    for (let i = 0; i < 120 && !(await cachedNow()); i++) await new Promise((ok) => setTimeout(ok, 500));
    const file = await readFile(join(ROOT, modelPath.slice(1)));
    assert.deepEqual(await cachedNow(), { digest: createHash('sha256').update(file).digest('hex'), size: file.length },
      'the model is in the Cache API, whole, with its SHA-256');
    await page.reload();
    await page.locator('#model-status.ready').waitFor({ timeout: 240_000 });
    assert.equal(site.hits.get(modelPath), 1, 'the reload did not download the model again');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
