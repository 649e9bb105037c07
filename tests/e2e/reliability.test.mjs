// Races and limits in the page (issue 15): what the user can do while a run goes on, and
// inputs past what the engine takes. 2-layer test model, CPU backend.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, sharedBrowser, openPage, screenshot, setNumber, steeredTop, trainPair, copyLink, TEST_MODEL } from './support.mjs';

let site;
before(async () => { site = await serve(); });
after(async () => { await site?.close(); });

const progress = (page) => page.locator('#train-progress').evaluate((p) => Number(p.value)).catch(() => -1);

/** Starts a long run and waits until it has taken `steps` steps. */
async function startLongRun(page, steps = 2) {
  await setNumber(page, '#hp-steps', 500);
  await page.locator('#train').click();
  await page.waitForFunction((n) => Number(document.querySelector('#train-progress')?.value ?? 0) >= n, steps, { timeout: 120_000 });
}

test('during a run: Train twice, Stop twice, β moved; then a load, a link and a file each stop it first and say so', async () => {
  const browser = await sharedBrowser({ webgpu: false });
  const errors = [];
  try {
    const page = await openPage(browser, `${site.url}?model=${TEST_MODEL}`, errors);
    await page.locator('#model-status.ready').waitFor({ timeout: 120_000 });
    await trainPair(page, { steps: 8 });
    const link = await copyLink(page);
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export-file').click()]);
    const file = await download.path();

    // Train pressed twice (the second press is ignored: one run, no error).
    await setNumber(page, '#hp-steps', 500);
    await page.locator('#train').dblclick({ force: true });
    await page.locator('#train').press('Enter').catch(() => {});
    await page.waitForFunction(() => Number(document.querySelector('#train-progress')?.value ?? 0) >= 2, null, { timeout: 120_000 });
    assert.equal(await page.locator('#train-error').count(), 0, 'no "already running" error');
    // β moved during the run: steered predictions follow, the run goes on.
    const before = await page.locator('#after').innerText();
    await page.locator('#beta').fill('-1');
    await page.waitForFunction((prev) => document.querySelector('#after')?.innerText !== prev, before, { timeout: 60_000 });
    const at = await progress(page);
    await page.waitForFunction((n) => Number(document.querySelector('#train-progress')?.value ?? 0) > n, at, { timeout: 60_000 });
    // Stop pressed twice: one stop, what was learned is kept.
    await page.locator('#stop').click();
    await page.locator('#stop').click({ force: true }).catch(() => {});
    await page.locator('#train-done', { hasText: /Stopped at step \d+; what was learned is kept/ }).waitFor({ timeout: 60_000 });
    assert.ok(await steeredTop(page));
    await page.locator('#beta').fill('1');

    // Opening a permalink during a run stops the run first.
    await startLongRun(page);
    await page.evaluate(async (l) => {
      location.hash = ''; // the page's address already holds this link (Copy link put it there)
      await new Promise((r) => setTimeout(r, 100));
      location.hash = l.split('#')[1];
    }, link);
    await page.locator('#share-message.ok', { hasText: /Training stopped at step \d+\. Restored/ }).waitFor({ timeout: 60_000 });
    assert.equal(await page.locator('#train-progress').count(), 0);
    // Importing a file during a run: the same (a new link first replaces the message above).
    await page.locator('#copy-link').click();
    await page.locator('#share-message.ok', { hasText: 'Link ready' }).waitFor({ timeout: 60_000 });
    await startLongRun(page);
    await page.locator('#import-file').setInputFiles(file);
    await page.locator('#share-message.ok', { hasText: /Training stopped at step \d+\. Restored/ }).waitFor({ timeout: 60_000 });
    assert.ok(await steeredTop(page));

    // Loading another model during a run: the run stops, then the model loads; the old
    // intervention is not applied to it.
    await startLongRun(page);
    await page.locator('details.model-loader summary').click();
    await page.locator('#model-url').fill(`${site.url}${TEST_MODEL}`);
    await page.locator('#model-url-load').click();
    await page.locator('#train-done', { hasText: /Stopped at step \d+ to load another model/ }).waitFor({ timeout: 60_000 });
    await page.locator('#model-status.ready').waitFor({ timeout: 120_000 });
    assert.equal(await page.locator('#copy-link').isDisabled(), true, 'no intervention on the new model');
    await screenshot(page, 'stopped-to-load');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('limits: an empty prompt, the same answer twice, a prompt past the training and forward limits', async () => {
  const browser = await sharedBrowser({ webgpu: false });
  const errors = [];
  try {
    const page = await openPage(browser, `${site.url}?model=${TEST_MODEL}`, errors);
    await page.locator('#model-status.ready').waitFor({ timeout: 120_000 });
    await setNumber(page, '#hp-steps', 3);
    const trainError = async () => {
      await page.locator('#train').click();
      await page.locator('#train-error').waitFor({ timeout: 60_000 });
      return page.locator('#train-error').textContent();
    };

    await page.locator('#prompt').fill('');
    assert.match(await trainError(), /the prompt is empty/);

    await page.locator('#prompt').fill('The capital of France is');
    await page.locator('#answer-from').fill(' Paris');
    await page.locator('#answer-to').fill(' Paris');
    assert.match(await trainError(), /the two answers are the same token/);

    // 200 tokens: predicted, but training takes at most 128.
    await page.locator('#answer-to').fill(' London');
    const long = ' word'.repeat(200);
    await page.locator('#prompt').fill(long);
    await page.waitForFunction(() => document.querySelectorAll('#prompt-tokens .token-chip').length === 200, null, { timeout: 60_000 });
    assert.match(await trainError(), /the prompt has 200 tokens; training takes at most 128/);

    // 1100 tokens: past what a forward pass reads; the prediction says so.
    await page.locator('#prompt').fill(' word'.repeat(1100));
    await page.locator('#results .error', { hasText: /1100 tokens; at most 1024 are read/ }).waitFor({ timeout: 60_000 });

    // And the page goes on working.
    await page.locator('#prompt').fill('The capital of France is');
    await page.locator('#results tr.prediction').first().waitFor({ timeout: 60_000 });

    // A shared intervention (file or link: the worker applies both the same way) whose prompt is
    // past the training limit.
    await trainPair(page, { steps: 3 });
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export-file').click()]);
    const saved = JSON.parse(await readFile(await download.path(), 'utf8'));
    saved.examples[0].text = long;
    saved.examples[0].ids = [];
    const dir = await mkdtemp(join(tmpdir(), 'actscale-'));
    await writeFile(join(dir, 'long.json'), JSON.stringify(saved));
    await page.locator('#import-file').setInputFiles(join(dir, 'long.json'));
    await page.locator('#share-message.error', { hasText: 'a prompt in it has 200 tokens with this model; at most 128' }).waitFor({ timeout: 60_000 });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
