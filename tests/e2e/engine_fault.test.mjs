// When the engine worker dies, the page says so at once, stops showing the run in progress and
// offers a reload that brings the engine back. The fault is a real panic in the worker's wasm:
// a message that is not a worker message reaches its message handler, whose decoder panics.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launch, openPage, screenshot, setNumber, TEST_MODEL } from './support.mjs';

let site;
before(async () => { site = await serve(); });
after(async () => { await site?.close(); });

test('a panic in the engine: the page says the engine stopped, ends the run, and Reload recovers', async () => {
  const browser = await launch({ webgpu: false });
  const errors = [];
  try {
    const page = await openPage(browser, `${site.url}?model=${TEST_MODEL}`, errors);
    await page.locator('#model-status.ready').waitFor({ timeout: 120_000 });
    await setNumber(page, '#hp-steps', 500);
    await page.locator('#train').click();
    await page.locator('#train-progress').waitFor({ timeout: 60_000 });

    const engine = page.workers().find((w) => w.url().includes('actscale-worker'));
    assert.ok(engine, `the engine worker runs (workers: ${page.workers().map((w) => w.url())})`);
    await engine.evaluate(() => self.dispatchEvent(new MessageEvent('message', { data: 'not a worker message' })));

    await page.locator('#engine-stopped').waitFor({ timeout: 10_000 });
    assert.match(await page.locator('#engine-stopped-why').textContent(), /not a worker message/);
    assert.equal(await page.locator('#train-progress').count(), 0, 'no run shown in progress');
    assert.match(await page.locator('#train-error').textContent(), /the engine stopped/);
    // Late messages of the dead engine do not bring the run back.
    await page.waitForTimeout(2_000);
    assert.equal(await page.locator('#train-progress').count(), 0);
    assert.equal(await page.locator('main').getAttribute('inert'), '', 'the page under the banner is inert');
    await screenshot(page, 'engine-stopped');
    assert.ok(errors.some((e) => /not a worker message/.test(e)), `the panic is reported: ${errors}`);

    await page.locator('#engine-reload').click();
    await page.locator('#model-status.ready').waitFor({ timeout: 120_000 });
    assert.equal(await page.locator('#engine-stopped').count(), 0);
    await page.locator('#train').click();
    await page.locator('#train-progress').waitFor({ timeout: 60_000 });
  } finally {
    await browser.close();
  }
});
