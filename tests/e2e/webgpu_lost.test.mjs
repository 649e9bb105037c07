// WebGPU lost in the middle of a run (issue 15): the run stops with a message, the engine moves
// to the CPU backend, and the intervention learned so far is still in use. The device is
// destroyed on purpose: the test server puts a probe in front of the worker's scripts that keeps
// every GPUDevice the engine asks for (nothing test-only is compiled into the engine).
// SwiftShader, the tiny llama fixture (support.mjs TINY_MODEL: a step in seconds there, where the
// 2-layer model's head takes tens of seconds), `?backend=webgpu` (SwiftShader alone would make
// the page pick the CPU).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, sharedBrowser, openPage, screenshot, setNumber, steeredTop, statusMatching, TINY_MODEL, TINY_PAIR } from './support.mjs';

const KEEP_DEVICES = `
self.__actscaleGpuDevices = [];
if (self.GPUAdapter) {
  const requestDevice = GPUAdapter.prototype.requestDevice;
  GPUAdapter.prototype.requestDevice = async function (...args) {
    const device = await requestDevice.apply(this, args);
    self.__actscaleGpuDevices.push(device);
    return device;
  };
}`;

let site;
before(async () => { site = await serve(undefined, { workerPrelude: KEEP_DEVICES }); });
after(async () => { await site?.close(); });

test('the WebGPU device is destroyed mid-run: a message, the CPU backend, the intervention learned so far', async () => {
  const browser = await sharedBrowser({ webgpu: true });
  const errors = [];
  try {
    const page = await openPage(browser, `${site.url}?model=${TINY_MODEL}&backend=webgpu`, errors);
    await page.locator('#model-status.ready').waitFor({ timeout: 300_000 });
    await statusMatching(page, /model on WebGPU/);
    await page.locator('#prompt').fill(TINY_PAIR.prompt);
    await page.locator('#answer-from').fill(TINY_PAIR.from);
    await page.locator('#answer-to').fill(TINY_PAIR.to);
    await setNumber(page, '#hp-steps', 500);
    await setNumber(page, '#hp-lambda-m', 1);
    // Steps take seconds here: the stopping rule must not end the run before the device goes.
    await page.locator('#until-converged').setChecked(false);
    await page.locator('#train').click();
    await page.waitForFunction(() => Number(document.querySelector('#train-progress')?.value ?? 0) >= 2, null, { timeout: 600_000 });

    const [engine] = page.workers().filter((w) => w.url().includes('actscale-worker'));
    const destroyed = await engine.evaluate(() => { self.__actscaleGpuDevices.forEach((d) => d.destroy()); return self.__actscaleGpuDevices.length; });
    assert.ok(destroyed >= 1, 'the engine asked for a GPU device');

    await page.locator('#train-error', { hasText: /WebGPU failed during this run .*the engine now runs on the CPU/ }).waitFor({ timeout: 300_000 });
    await page.locator('#engine-restarted[data-done="true"]', { hasText: 'It runs on the CPU backend now, with the model and the intervention learned so far' }).waitFor({ timeout: 120_000 });
    await statusMatching(page, /model on CPU/);
    assert.equal(await page.locator('#backend-webgpu').isDisabled(), true, 'WebGPU is not offered again');
    assert.match(await page.locator('#webgpu-unavailable').textContent(), /device was lost/);
    const heat = await page.locator('#heatmap rect.cell').evaluateAll((cs) => cs.map((c) => Number(c.dataset.value)));
    assert.ok(heat.some((v) => v !== 0), 'the intervention learned so far is in use');
    assert.ok(await steeredTop(page), 'steered predictions on the CPU backend');
    assert.equal(await page.locator('#prompt').inputValue(), TINY_PAIR.prompt);
    assert.equal(await page.locator('#hp-steps').inputValue(), '500');
    // The CPU engine trains. (For a while after the device is destroyed, SwiftShader's GPU process
    // delivers no frames, so Playwright's "stable" check on clicks would wait: click in the page.)
    await setNumber(page, '#hp-steps', 3);
    await page.locator('#until-converged').evaluate((el) => { if (el.checked) el.click(); });
    await page.locator('#train').evaluate((el) => el.click());
    await page.locator('#train-done', { hasText: 'Done: 3 steps' }).waitFor({ timeout: 120_000 });
    // A frame for the screenshot can take that while too.
    await screenshot(page, 'webgpu-lost', { timeout: 180_000 });
  } finally {
    await browser.close();
  }
});
