// When the engine worker dies, the page restarts it: it says what happened, reloads the model,
// puts the last learned intervention back and keeps what the user typed and set. The fault is a
// real panic in the worker's wasm: a message that is not a worker message reaches its message
// handler, whose decoder panics (the panic hook throws; nothing test-only is compiled in).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, sharedBrowser, openPage, screenshot, setNumber, steeredTop, trainPair, TEST_MODEL } from './support.mjs';

let site;
before(async () => { site = await serve(); });
after(async () => { await site?.close(); });

const engineWorkers = (page) => page.workers().filter((w) => w.url().includes('actscale-worker'));

/** Makes the running engine worker panic. */
async function killEngine(page) {
  const [engine] = engineWorkers(page);
  assert.ok(engine, `the engine worker runs (workers: ${page.workers().map((w) => w.url())})`);
  await engine.evaluate(() => self.dispatchEvent(new MessageEvent('message', { data: 'not a worker message' })));
}

const heatValues = (page) => page.locator('#heatmap rect.cell').evaluateAll((cs) => cs.map((c) => c.dataset.value));

test('the engine dies mid-run: a fresh one loads the model and gets the last intervention back; nothing typed is lost', async () => {
  const browser = await sharedBrowser({ webgpu: false });
  const errors = [];
  try {
    const page = await openPage(browser, `${site.url}?model=${TEST_MODEL}`, errors);
    await page.locator('#model-status.ready').waitFor({ timeout: 120_000 });
    await trainPair(page, { steps: 10 });
    const top = await steeredTop(page);
    const heat = await heatValues(page);
    assert.ok(heat.some((v) => Number(v) !== 0), 'something was learned');

    // A second, long run with other settings; the engine dies during it.
    await setNumber(page, '#hp-steps', 500);
    await setNumber(page, '#hp-lr', 0.07);
    await page.locator('#train').click();
    await page.waitForFunction(() => Number(document.querySelector('#train-progress')?.value ?? 0) >= 2, null, { timeout: 120_000 });
    await page.locator('#prompt').fill('The capital of France is really');
    await killEngine(page);

    await page.locator('#engine-restarted').waitFor({ timeout: 10_000 });
    assert.match(await page.locator('#engine-restarted').textContent(), /The engine stopped: it hit an internal error\. Restarting: the model is reloading, then the last learned intervention goes back; what you typed and set is kept\./);
    assert.match(await page.locator('#engine-restarted-why').textContent(), /not a worker message/);
    assert.equal(await page.locator('#train-progress').count(), 0, 'no run shown in progress');
    assert.match(await page.locator('#train-error').textContent(), /the engine stopped during this run/);
    await page.locator('#model-status.ready').waitFor({ timeout: 120_000 });
    await page.locator('#engine-restarted[data-done="true"]', { hasText: 'It was restarted, with the model and the last learned intervention; what you typed and set is kept.' }).waitFor({ timeout: 60_000 });

    // The old worker closed itself; one engine runs.
    await page.waitForFunction(() => true);
    assert.equal(engineWorkers(page).length, 1, `engine workers: ${engineWorkers(page).map((w) => w.url())}`);
    // Kept: what was typed, the settings, the last finished run's intervention and heatmap.
    assert.equal(await page.locator('#prompt').inputValue(), 'The capital of France is really');
    assert.equal(await page.locator('#hp-steps').inputValue(), '500');
    assert.equal(await page.locator('#hp-lr').inputValue(), '0.07');
    assert.deepEqual(await heatValues(page), heat);
    assert.equal(await steeredTop(page), top);
    await screenshot(page, 'engine-restarted');
    assert.ok(errors.some((e) => /not a worker message/.test(e)), `the panic is reported: ${errors}`);

    // The new engine trains.
    await page.locator('#engine-notice-close').click();
    await page.locator('#train').click();
    await page.waitForFunction(() => Number(document.querySelector('#train-progress')?.value ?? 0) >= 1, null, { timeout: 120_000 });
    await page.locator('#stop').click();
    await page.locator('#train-done').waitFor({ timeout: 60_000 });
  } finally {
    await browser.close();
  }
});

test('an engine that keeps dying is not restarted forever: a banner offers a reload', async () => {
  const browser = await sharedBrowser({ webgpu: false });
  const errors = [];
  try {
    const page = await openPage(browser, `${site.url}?model=${TEST_MODEL}`, errors);
    for (let death = 1; death <= 4; death++) {
      await page.locator('#model-status.ready').waitFor({ timeout: 120_000 });
      await page.waitForTimeout(1_200); // deaths a moment apart count as one
      await killEngine(page);
      if (death <= 3) {
        await page.waitForFunction(() => !document.querySelector('#model-status.ready'), null, { timeout: 10_000 });
      }
    }
    await page.locator('#engine-stopped').waitFor({ timeout: 10_000 });
    assert.match(await page.locator('#engine-stopped-why').textContent(), /not a worker message/);
    assert.equal(await page.locator('main').getAttribute('inert'), '', 'the page under the banner is inert');
    await page.locator('#engine-reload').click();
    await page.locator('#model-status.ready').waitFor({ timeout: 120_000 });
    assert.equal(await page.locator('#engine-stopped').count(), 0);
  } finally {
    await browser.close();
  }
});
