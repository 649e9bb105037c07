// The page's other tools, on the 2-layer test model: hand-editing a scalar, greedy
// continuations, task mode (CCC) with train/test metrics, the λM sweep, loading models from a
// file or URL (and rejecting bad ones), the backend switch, keyboard use and a narrow window.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { serve, sharedBrowser, openPage, screenshot, trainPair, steeredTop, setNumber, copyLink, statusMatching, TEST_MODEL, ROOT } from './support.mjs';

let site;
before(async () => { site = await serve(); });
after(async () => { await site?.close(); });

async function ready(page) {
  await page.locator('#model-status.ready').waitFor({ timeout: 120_000 });
}

test('edit a scalar by hand; the continuation with it differs from the plain one', async () => {
  const browser = await sharedBrowser({ webgpu: false });
  const errors = [];
  try {
    const page = await openPage(browser, `${site.url}?model=${TEST_MODEL}`, errors);
    await ready(page);
    await trainPair(page, { steps: 10 });
    const before = await page.locator('#after').innerText();
    // Click the last token's cell of layer 1, mlp_out, and give it a large α.
    const cell = page.locator('#heatmap rect.cell[data-site="mlp_out"][data-layer="1"][data-position="4"]');
    await cell.click();
    assert.equal(await page.locator('#cell-site').inputValue(), 'mlp_out');
    assert.equal(await page.locator('#cell-layer').inputValue(), '1');
    assert.equal(await page.locator('#cell-token').inputValue(), '4');
    await page.locator('#cell-value').fill('30');
    await page.locator('#cell-value').press('Enter');
    await page.waitForFunction(() => document.querySelector('#heatmap rect.cell[data-site="mlp_out"][data-layer="1"][data-position="4"]')?.dataset.value === '30', null, { timeout: 60_000 });
    await page.waitForFunction((prev) => document.querySelector('#after')?.innerText !== prev, before, { timeout: 60_000 });

    // With α = 30 on the last token's MLP output the greedy continuation changes (α = 3 did not
    // always: on this 2-layer model the continuation is a robust ". and, and, …").
    await page.locator('#generate').click();
    await page.locator('#continuation-steered').waitFor({ timeout: 120_000 });
    const plain = await page.locator('#continuation-plain').textContent();
    const steered = await page.locator('#continuation-steered').textContent();
    assert.ok(plain.length > 0 && steered.length > 0, `${plain} / ${steered}`);
    assert.notEqual(steered, plain, 'the intervention changes the continuation');

    // Zero it again.
    await page.locator('#cell-zero').click();
    await page.waitForFunction(() => document.querySelector('#heatmap rect.cell[data-site="mlp_out"][data-layer="1"][data-position="4"]')?.dataset.value === '0', null, { timeout: 60_000 });
    await screenshot(page, 'edited-and-continued');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('task mode (CCC): its seed, train and test metrics, flip-rate chart, a link that keeps the seed; λM sweep points', async () => {
  const browser = await sharedBrowser({ webgpu: false });
  const errors = [];
  try {
    const page = await openPage(browser, `${site.url}?model=${TEST_MODEL}`, errors);
    await ready(page);
    await page.locator('#task').selectOption('ccc');
    assert.equal(await page.locator('#hp-batch').inputValue(), '4');
    // DynScalar on a task takes the CLI's defaults (batch 8, 80 steps); back to ActivScalar, the page's 4.
    await page.locator('#method').selectOption('dyn-scalar');
    assert.deepEqual([await page.locator('#hp-batch').inputValue(), await page.locator('#hp-steps').inputValue()], ['8', '80']);
    await page.locator('#method').selectOption('activ-scalar');
    assert.equal(await page.locator('#hp-batch').inputValue(), '4');
    // The seed draws the prompts and the split; one that is not a whole number is not taken.
    assert.equal(await page.locator('#seed').inputValue(), '0');
    await setNumber(page, '#seed', 3);
    await setNumber(page, '#seed', -1);
    assert.equal(await page.locator('#seed').inputValue(), '3');
    await setNumber(page, '#hp-steps', 10);
    await setNumber(page, '#hp-lambda-m', 1);
    await page.locator('#until-converged').setChecked(false); // exactly 10 steps
    await page.locator('#train').click();
    await page.locator('#task-metrics').waitFor({ timeout: 240_000 });
    assert.equal(await page.locator('#task-metrics tbody tr').count(), 2);
    const prompts = await page.locator('#task-metrics tbody tr td:nth-of-type(1)').allTextContents();
    assert.deepEqual(prompts.map(Number).sort((a, b) => a - b), [12, 28]);
    assert.equal(await page.locator('#task-metrics').getAttribute('data-seed'), '3');
    assert.match(await page.locator('#task-metrics caption').textContent(), /seed 3/);
    // The test flip rate is measured at step 10: one point, the batch flip rate every step.
    await page.locator('#train-done').waitFor({ timeout: 60_000 });
    assert.equal(await page.locator('#chart-flips circle.point').count(), 10 + 1);
    // The heatmap shows the template's tokens (CCC prompts are 18 tokens here).
    assert.ok(await page.locator('#heatmap rect.cell').count() >= 2 * 2 * 10);
    await screenshot(page, 'task-ccc');
    // Its link records the seed: a fresh page opens on the task with seed 3.
    const link = await copyLink(page);
    const viewer = await openPage(browser, link, errors);
    await viewer.locator('#train-done', { hasText: /shared intervention/ }).waitFor({ timeout: 120_000 });
    assert.equal(await viewer.locator('#task').inputValue(), 'ccc');
    assert.equal(await viewer.locator('#seed').inputValue(), '3');
    await viewer.close();
    // Interpreting a task measures its first N training prompts, and says so.
    await setNumber(page, '#interpret-prompts', 2);
    await page.locator('#interpret-run').click();
    await page.locator('#k-star', { hasText: /measured on the first 2 of 28 training prompts/ }).waitFor({ timeout: 120_000 });

    await page.locator('#task').selectOption('pair');
    await page.locator('#prompt').fill('The capital of France is');
    await page.locator('#answer-from').fill(' Paris');
    await page.locator('#answer-to').fill(' London');
    await setNumber(page, '#hp-steps', 5);
    await page.locator('#sweep-lambdas').fill('0.5, 50');
    await page.locator('#sweep-run').click();
    await page.waitForFunction(() => document.querySelectorAll('#chart-sweep circle.point').length === 2 * 2, null, { timeout: 240_000 });
    // Another method: its own λM and grid; its line joins the first method's on the chart.
    await page.locator('#method').selectOption('dyn-scalar');
    assert.equal(await page.locator('#hp-lambda-m').inputValue(), '0.1');
    assert.equal(await page.locator('#hp-margin').inputValue(), '7');
    assert.equal(await page.locator('#hp-lambda-f').inputValue(), '3');
    assert.equal(await page.locator('#sweep-lambdas').inputValue(), '0.005, 0.025, 0.1, 0.4');
    await page.locator('#sweep-lambdas').fill('0.1');
    await page.locator('#sweep-run').click();
    await page.waitForFunction(() => document.querySelectorAll('#chart-sweep circle.point').length === 2 * 2 + 2, null, { timeout: 240_000 });
    const legend = await page.locator('#chart-sweep text.legend').allTextContents();
    assert.deepEqual(legend, ['activ Δ+1', 'activ Δ−1', 'dyn Δ+1', 'dyn Δ−1']);
    await screenshot(page, 'sweep');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('ioi-mixed: a positional method is refused with the reason; DynScalar trains on 36 prompts and tests on 12 of another length', async () => {
  const browser = await sharedBrowser({ webgpu: false });
  const errors = [];
  try {
    const page = await openPage(browser, `${site.url}?model=${TEST_MODEL}`, errors);
    await ready(page);
    await page.locator('#task').selectOption('ioi-mixed');
    await page.locator('#until-converged').setChecked(false);
    await setNumber(page, '#hp-steps', 2);
    await page.locator('#train').click();
    await page.locator('#train-error', { hasText: /one length/ }).waitFor({ timeout: 120_000 });
    await page.locator('#method').selectOption('dyn-scalar');
    assert.equal(await page.locator('#hp-batch').inputValue(), '8');
    await setNumber(page, '#hp-steps', 2);
    await page.locator('#train').click();
    await page.locator('#task-metrics').waitFor({ timeout: 240_000 });
    const prompts = await page.locator('#task-metrics tbody tr td:nth-of-type(1)').allTextContents();
    assert.deepEqual(prompts.map(Number), [36, 12]);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('load a model from a file or URL; bad files are rejected and the old model stays', async () => {
  const browser = await sharedBrowser({ webgpu: false });
  const errors = [];
  try {
    const page = await openPage(browser, `${site.url}?model=${TEST_MODEL}`, errors);
    await ready(page);
    const gguf = await readFile(join(ROOT, 'static/models/test-2layer.gguf'));
    await page.locator('.model-loader summary').click();
    // Truncated: the reader's message, and the loaded model is kept.
    await page.locator('#model-file').setInputFiles({ name: 'cut.gguf', mimeType: 'application/octet-stream', buffer: gguf.subarray(0, 5000) });
    await page.locator('#model-load-error').waitFor({ timeout: 60_000 });
    assert.match(await page.locator('#model-load-error').textContent(), /cut\.gguf/);
    await ready(page);
    // Not a GGUF at all, by URL.
    await page.locator('#model-url').fill(`${site.url}index.html`);
    await page.locator('#model-url-load').click();
    await page.waitForFunction(() => /index\.html/.test(document.querySelector('#model-load-error')?.textContent ?? ''), null, { timeout: 60_000 });
    await ready(page);
    // A missing URL.
    await page.locator('#model-url').fill(`${site.url}static/models/nope.gguf`);
    await page.locator('#model-url-load').click();
    await page.waitForFunction(() => /nope\.gguf/.test(document.querySelector('#model-load-error')?.textContent ?? ''), null, { timeout: 60_000 });
    // A good file from disk loads and predicts.
    await page.locator('#model-file').setInputFiles({ name: 'mine.gguf', mimeType: 'application/octet-stream', buffer: gguf });
    await page.waitForFunction(() => /mine\.gguf/.test(document.querySelector('#model-status.ready')?.textContent ?? ''), null, { timeout: 60_000 });
    await page.locator('#prompt').fill('The capital of France is');
    await page.waitForFunction(() => document.querySelectorAll('#predictions tr.prediction').length === 10, null, { timeout: 60_000 });
    await screenshot(page, 'model-loaded-from-file');
    assert.deepEqual(errors.filter((e) => !/404|Failed to load resource/.test(e)), []);
  } finally {
    await browser.close();
  }
});

test('backend switch: CPU (chosen over a software adapter) → WebGPU, during a run, stops the run first and gives the same top prediction', async () => {
  const browser = await sharedBrowser({ webgpu: true });
  const errors = [];
  try {
    const page = await openPage(browser, `${site.url}?model=${TEST_MODEL}`, errors);
    await ready(page);
    await statusMatching(page, /^Backend: CPU — .*software renderer.* · model on CPU$/);
    await page.locator('#prompt').fill('The capital of France is');
    // This prompt's predictions (its tokens are on show), not the default prompt's.
    await page.waitForFunction(() => /France/.test(document.querySelectorAll('#prompt-tokens .token-chip')[3]?.textContent ?? '')
      && document.querySelectorAll('#predictions tr.prediction').length === 10, null, { timeout: 60_000 });
    const cpuTop = await page.locator('#predictions tr.prediction').first().getAttribute('data-token');
    // The switch comes during a run: the run stops first, and the panel says what for.
    await page.locator('#answer-from').fill(' Paris');
    await page.locator('#answer-to').fill(' London');
    await setNumber(page, '#hp-steps', 500);
    await page.locator('#train').click();
    await page.waitForFunction(() => Number(document.querySelector('#train-progress')?.value ?? 0) >= 2, null, { timeout: 120_000 });
    await page.locator('#backend-webgpu').check();
    await page.locator('#train-done', { hasText: /Stopped at step \d+ to switch the backend\./ }).waitFor({ timeout: 60_000 });
    await page.waitForFunction(() => /model on WebGPU/.test(document.querySelector('#backend-status')?.textContent ?? ''), null, { timeout: 240_000 });
    assert.match(await page.locator('#backend-status').textContent(), /^Backend: WebGPU — your choice \(default: CPU, /);
    await page.waitForFunction(() => document.querySelectorAll('#predictions tr.prediction').length === 10, null, { timeout: 240_000 });
    assert.equal(await page.locator('#predictions tr.prediction').first().getAttribute('data-token'), cpuTop);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('keyboard only: type a prompt, tab to Train, press Enter; narrow window has no sideways scroll', async () => {
  const browser = await sharedBrowser({ webgpu: false });
  const errors = [];
  try {
    const page = await openPage(browser, `${site.url}?model=${TEST_MODEL}`, errors);
    await ready(page);
    await page.locator('#prompt').focus();
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.type('The capital of France is');
    await page.locator('#answer-from').focus();
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.type(' Paris');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'answer-to');
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.type(' London');
    await page.locator('#hp-steps').focus();
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.type('3');
    await page.keyboard.press('Tab');
    await page.locator('#train').focus();
    await page.keyboard.press('Enter');
    await page.locator('#train-done').waitFor({ timeout: 120_000 });
    assert.match(await page.locator('#train-done').textContent(), /Done: 3 steps/);

    await page.setViewportSize({ width: 390, height: 800 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `no sideways scroll at 390 px (overflow ${overflow} px)`);
    await screenshot(page, 'narrow-390');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
