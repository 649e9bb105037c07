// Training on WebGPU in the page (SwiftShader's adapter with --enable-unsafe-webgpu): the run
// reaches "Done", and the link it makes opens in a browser without WebGPU (CPU backend) with the
// same steered top-1, and the other way round; every other worker operation (hand edits,
// continuation, file export and import, the λM sweep) on WebGPU. The model is the tiny llama
// fixture (support.mjs TINY_MODEL): what these tests check is that each operation runs on
// WebGPU and agrees with the CPU backend, which the fixture shows with the same kernels as the
// default model, while SwiftShader, which runs WebGPU on the CPU, took minutes for a few steps of
// the 2-layer model's 49,152-token head. Tasks are left out: a CCC run evaluates its test split at
// many prompt lengths, and SwiftShader compiles kernels for each; browser_training.rs trains
// minibatches on WebGPU instead. Before the trainer stopped reading a tensor synchronously,
// Train killed the worker here within seconds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { serve, sharedBrowser, openPage, screenshot, trainPair, steeredTopId, setNumber, statusMatching, TINY_MODEL, TINY_PAIR } from './support.mjs';

let site;
before(async () => { site = await serve(); });
after(async () => { await site?.close(); });

/** The address with `?backend=webgpu` added: SwiftShader is a software adapter, on which the
 * page picks the CPU backend unless asked. */
const onWebGpu = (url) => url.replace(/^([^#]*)/, (base) => `${base}${base.includes('?') ? '&' : '?'}backend=webgpu`);

/** Trains 5 steps in a browser with (`makerGpu`) or without WebGPU, then opens the link in a
 * browser of the other kind: it must restore with the same steered top-1. A link made with
 * `?backend=webgpu` opened in a browser without WebGPU falls back to the CPU backend. */
async function trainThenOpenOnTheOtherBackend({ makerGpu }) {
  const makerBrowser = await sharedBrowser({ webgpu: makerGpu });
  const viewerBrowser = await sharedBrowser({ webgpu: !makerGpu });
  const [makerBackend, viewerBackend] = makerGpu ? [/model on WebGPU/, /model on CPU/] : [/model on CPU/, /model on WebGPU/];
  const errors = [];
  try {
    const start = `${site.url}?model=${TINY_MODEL}`;
    const maker = await openPage(makerBrowser, makerGpu ? onWebGpu(start) : start, errors);
    await maker.locator('#model-status.ready').waitFor({ timeout: 300_000 });
    await statusMatching(maker, makerBackend);
    await trainPair(maker, { steps: 5, pair: TINY_PAIR, timeout: makerGpu ? 900_000 : 240_000 });
    assert.match(await maker.locator('#train-done').textContent(), /Done: 5 steps/);
    assert.equal(await maker.locator('#chart-sparsity circle.point').count(), 2 * 5);
    const top = await steeredTopId(maker);
    await maker.locator('#copy-link').click();
    await maker.waitForFunction(() => /#s=/.test(document.querySelector('#share-link')?.value ?? ''), null, { timeout: 60_000 });
    const link = await maker.locator('#share-link').inputValue();
    if (makerGpu) await screenshot(maker, 'trained-on-webgpu');

    const viewer = await openPage(viewerBrowser, makerGpu ? link : onWebGpu(link), errors);
    await viewer.locator('#share-message.ok', { hasText: 'Restored' }).waitFor({ timeout: 300_000 });
    await statusMatching(viewer, viewerBackend);
    if (makerGpu) await statusMatching(viewer, /WebGPU unavailable/);
    assert.equal(await steeredTopId(viewer), top, 'the other backend steers the same way');
    assert.deepEqual(errors, []);
  } finally {
    await makerBrowser.close();
    await viewerBrowser.close();
  }
}

test('train on WebGPU; its link opens on the CPU backend with the same steered top-1', () =>
  trainThenOpenOnTheOtherBackend({ makerGpu: true }));

test('train on the CPU backend; its link opens on WebGPU with the same steered top-1', () =>
  trainThenOpenOnTheOtherBackend({ makerGpu: false }));

test('on WebGPU: hand edit, continuation, file export and import, the λM sweep', async () => {
  const browser = await sharedBrowser({ webgpu: true });
  const errors = [];
  try {
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(onWebGpu(`${site.url}?model=${TINY_MODEL}`));
    await page.locator('#model-status.ready').waitFor({ timeout: 300_000 });
    await statusMatching(page, /model on WebGPU/);
    await trainPair(page, { steps: 2, pair: TINY_PAIR, timeout: 900_000 });

    const t0 = Date.now();
    const phase = (name) => console.log(`# ${name}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    phase('trained 2 steps');
    // Hand edit: α = 30 on the last token's MLP output of layer 1 changes the steered top-1.
    const plainTop = await page.locator('#predictions tr.prediction').first().getAttribute('data-id');
    const before = await page.locator('#after').innerText();
    const selector = `#heatmap rect.cell[data-site="mlp_out"][data-layer="1"][data-position="${TINY_PAIR.tokens - 1}"]`;
    await page.locator(selector).click();
    await page.locator('#cell-value').fill('30');
    await page.locator('#cell-value').press('Enter');
    await page.waitForFunction((s) => document.querySelector(s)?.dataset.value === '30', selector, { timeout: 120_000 });
    await page.waitForFunction((prev) => document.querySelector('#after')?.innerText !== prev, before, { timeout: 120_000 });
    assert.notEqual(await steeredTopId(page), plainTop, 'α = 30 there changes the top-1');
    phase('hand edit');

    // Continuation with and without it: 10 tokens (each new length compiles kernels on
    // SwiftShader). The fixture's byte tokens mostly print as "�", so a few tokens can differ
    // and read the same: ten give the difference room to show in the text.
    await setNumber(page, '#gen-tokens', 10);
    await page.locator('#generate').click();
    await page.locator('#continuation-steered').waitFor({ timeout: 300_000 });
    assert.notEqual(await page.locator('#continuation-steered').textContent(), await page.locator('#continuation-plain').textContent());
    phase('continuation');

    // Export to a file, zero the edit, import the file: the edit is back.
    const top = await steeredTopId(page);
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export-file').click()]);
    const path = await download.path();
    assert.equal(JSON.parse(await readFile(path, 'utf8')).format, 'actscale-intervention');
    await page.locator('#cell-zero').click();
    await page.waitForFunction((s) => document.querySelector(s)?.dataset.value === '0', selector, { timeout: 120_000 });
    await page.locator('#import-file').setInputFiles(path);
    await page.locator('#share-message.ok', { hasText: 'Restored' }).waitFor({ timeout: 120_000 });
    await page.waitForFunction((s) => document.querySelector(s)?.dataset.value === '30', selector, { timeout: 120_000 });
    assert.equal(await steeredTopId(page), top);
    phase('export and import');

    // The λM sweep: one run of 2 steps, a point per direction.
    await page.locator('#sweep-lambdas').fill('50');
    await page.locator('#sweep-run').click();
    await page.waitForFunction(() => document.querySelectorAll('#chart-sweep circle.point').length === 2, null, { timeout: 900_000 });
    phase('sweep');
    await screenshot(page, 'webgpu-tools');
    await context.close();
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
