// The built site in headless Chromium: the engine worker runs burn autodiff (y = Σ a·x) and the
// page shows dy/da = x for each backend, and the status line names the backend and why.
// SwiftShader (--enable-unsafe-webgpu here) is a software adapter: the engine picks the CPU
// backend over it by default; `?backend=webgpu` (like the radio) overrides that.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, sharedBrowser, openPage, screenshot } from './support.mjs';

const X = ['1', '2', '3', '4'];
let site;
before(async () => { site = await serve(); });
after(async () => { await site?.close(); });

async function gradientCells(page, backend) {
  const row = page.locator(`tr.self-check-row[data-backend="${backend}"]`);
  await row.waitFor({ timeout: 120_000 });
  const verdict = await row.getAttribute('data-verdict');
  const grad = verdict === 'ok' ? (await row.locator('td.grad').textContent())?.trim() : null;
  return { verdict, grad };
}

const parse = (s) => s.replace(/[[\]]/g, '').split(',').map((v) => v.trim());

test('with a software WebGPU adapter: both backends compute dy/da = x; the CPU is chosen, and says why', async () => {
  const browser = await sharedBrowser({ webgpu: true });
  const errors = [];
  try {
    const page = await openPage(browser, site.url, errors);
    const cpu = await gradientCells(page, 'CPU');
    const gpu = await gradientCells(page, 'WebGPU');
    assert.equal(cpu.verdict, 'ok');
    assert.equal(gpu.verdict, 'ok');
    await page.locator('#backend-status', { hasText: 'Backend: CPU' }).waitFor({ timeout: 5_000 });
    assert.match(await page.locator('#backend-status').textContent(), /software renderer \(swiftshader\), slower than the CPU backend/);
    // The user can still pick WebGPU.
    await page.locator('#model-status.ready').waitFor({ timeout: 120_000 });
    assert.equal(await page.locator('#backend-webgpu').isDisabled(), false);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('with WebGPU asked for (?backend=webgpu): both backends compute dy/da = x and WebGPU is active', async () => {
  const browser = await sharedBrowser({ webgpu: true });
  const errors = [];
  try {
    const page = await openPage(browser, `${site.url}?backend=webgpu`, errors);
    const cpu = await gradientCells(page, 'CPU');
    const gpu = await gradientCells(page, 'WebGPU');
    assert.equal(cpu.verdict, 'ok');
    assert.deepEqual(parse(cpu.grad), X);
    assert.equal(gpu.verdict, 'ok');
    assert.deepEqual(parse(gpu.grad).map(Number), X.map(Number));
    await assert.doesNotReject(
      page.locator('#backend-status', { hasText: 'Backend: WebGPU — your choice' }).waitFor({ timeout: 5_000 }));
    await screenshot(page, 'self-check-webgpu');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('without WebGPU: the CPU fallback computes dy/da = x and is active', async () => {
  const browser = await sharedBrowser({ webgpu: false });
  const errors = [];
  try {
    const page = await openPage(browser, site.url, errors);
    const cpu = await gradientCells(page, 'CPU');
    assert.equal(cpu.verdict, 'ok');
    assert.deepEqual(parse(cpu.grad), X);
    const gpu = await gradientCells(page, 'WebGPU');
    assert.equal(gpu.verdict, 'unavailable');
    const status = await page.locator('#backend-status').textContent();
    assert.match(status, /^Backend: CPU/);
    await screenshot(page, 'self-check-cpu');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
