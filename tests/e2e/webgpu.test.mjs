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

/** Trains 5 steps in a browser with (`makerGpu`) or without WebGPU, then opens the link in a
 * browser of the other kind: it must restore with the same steered top-1. */
async function trainThenOpenOnTheOtherBackend({ makerGpu }) {
  const makerBrowser = await launch({ webgpu: makerGpu });
  const viewerBrowser = await launch({ webgpu: !makerGpu });
  const [makerBackend, viewerBackend] = makerGpu ? [/model on WebGPU/, /model on CPU/] : [/model on CPU/, /model on WebGPU/];
  const errors = [];
  try {
    const maker = await openPage(makerBrowser, `${site.url}?model=${TEST_MODEL}`, errors);
    await maker.locator('#model-status.ready').waitFor({ timeout: 300_000 });
    assert.match(await maker.locator('#backend-status').textContent(), makerBackend);
    // SwiftShader runs WebGPU on the CPU: ~2.5 min for 5 steps here alone, more on a busy machine.
    await trainPair(maker, { steps: 5, timeout: makerGpu ? 900_000 : 240_000 });
    assert.match(await maker.locator('#train-done').textContent(), /Done: 5 steps/);
    assert.equal(await maker.locator('#chart-sparsity circle.point').count(), 2 * 5);
    const top = await steeredTop(maker);
    await maker.locator('#copy-link').click();
    await maker.waitForFunction(() => /#s=/.test(document.querySelector('#share-link')?.value ?? ''), null, { timeout: 60_000 });
    const link = await maker.locator('#share-link').inputValue();
    if (makerGpu) await screenshot(maker, 'trained-on-webgpu');

    const viewer = await openPage(viewerBrowser, link, errors);
    await viewer.locator('#share-message.ok', { hasText: 'Restored' }).waitFor({ timeout: 300_000 });
    assert.match(await viewer.locator('#backend-status').textContent(), viewerBackend);
    assert.equal(await steeredTop(viewer), top, 'the other backend steers the same way');
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
