// Training on WebGPU in the page (SwiftShader's adapter with --enable-unsafe-webgpu), on the
// 2-layer test model: the run reaches "Done", and the link it makes opens in a browser without
// WebGPU (CPU backend) with the same steered top-1, and the other way round. Before the trainer
// stopped reading a tensor synchronously, Train killed the worker here within seconds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launch, openPage, screenshot, trainPair, steeredTop, TEST_MODEL } from './support.mjs';

let site;
before(async () => { site = await serve(); });
after(async () => { await site?.close(); });

test('train on WebGPU; its link opens on the CPU backend with the same steered top-1', async () => {
  const gpuBrowser = await launch({ webgpu: true });
  const cpuBrowser = await launch({ webgpu: false });
  const errors = [];
  try {
    const maker = await openPage(gpuBrowser, `${site.url}?model=${TEST_MODEL}`, errors);
    await maker.locator('#model-status.ready').waitFor({ timeout: 300_000 });
    assert.match(await maker.locator('#backend-status').textContent(), /model on WebGPU/);
    await trainPair(maker, { steps: 5 });
    assert.match(await maker.locator('#train-done').textContent(), /Done: 5 steps/);
    assert.equal(await maker.locator('#chart-sparsity circle.point').count(), 2 * 5);
    const top = await steeredTop(maker);
    await maker.locator('#copy-link').click();
    await maker.waitForFunction(() => /#s=/.test(document.querySelector('#share-link')?.value ?? ''), null, { timeout: 60_000 });
    const link = await maker.locator('#share-link').inputValue();
    await screenshot(maker, 'trained-on-webgpu');

    const viewer = await openPage(cpuBrowser, link, errors);
    await viewer.locator('#share-message.ok', { hasText: 'Restored' }).waitFor({ timeout: 120_000 });
    assert.match(await viewer.locator('#backend-status').textContent(), /model on CPU/);
    assert.equal(await steeredTop(viewer), top, 'the CPU backend steers the same way');
    assert.deepEqual(errors, []);
  } finally {
    await gpuBrowser.close();
    await cpuBrowser.close();
  }
});

test('train on the CPU backend; its link opens on WebGPU with the same steered top-1', async () => {
  const cpuBrowser = await launch({ webgpu: false });
  const gpuBrowser = await launch({ webgpu: true });
  const errors = [];
  try {
    const maker = await openPage(cpuBrowser, `${site.url}?model=${TEST_MODEL}`, errors);
    await maker.locator('#model-status.ready').waitFor({ timeout: 120_000 });
    assert.match(await maker.locator('#backend-status').textContent(), /model on CPU/);
    await trainPair(maker, { steps: 5 });
    const top = await steeredTop(maker);
    await maker.locator('#copy-link').click();
    await maker.waitForFunction(() => /#s=/.test(document.querySelector('#share-link')?.value ?? ''), null, { timeout: 60_000 });
    const link = await maker.locator('#share-link').inputValue();

    const viewer = await openPage(gpuBrowser, link, errors);
    await viewer.locator('#share-message.ok', { hasText: 'Restored' }).waitFor({ timeout: 300_000 });
    assert.match(await viewer.locator('#backend-status').textContent(), /model on WebGPU/);
    assert.equal(await steeredTop(viewer), top, 'WebGPU steers the same way');
    assert.deepEqual(errors, []);
  } finally {
    await cpuBrowser.close();
    await gpuBrowser.close();
  }
});
