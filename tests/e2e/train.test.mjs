// Training in the page, as a user does it, on the 2-layer test model (?model=...): type a
// prompt, pick the answers, train ActivScalar, watch the heatmap and charts fill in, move β,
// and stop a second run part-way.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, sharedBrowser, openPage, screenshot, steeredTop, setNumber, trainPair, TEST_MODEL } from './support.mjs';

let site;
before(async () => { site = await serve(); });
after(async () => { await site?.close(); });

test('train ActivScalar on "The capital of France is": heatmap, charts, β, Stop', async () => {
  const browser = await sharedBrowser({ webgpu: false });
  const errors = [];
  try {
    const page = await openPage(browser, `${site.url}?model=${TEST_MODEL}`, errors);
    await page.locator('#model-status.ready').waitFor({ timeout: 120_000 });
    await page.locator('#prompt').fill('The capital of France is');
    await page.waitForFunction(() => document.querySelectorAll('#prompt-tokens .token-chip').length === 5, null, { timeout: 60_000 });
    await page.locator('#answer-from').fill(' Paris');
    await page.locator('#answer-to').fill(' London');
    await page.locator('#hp-steps').fill('25');
    await page.locator('#hp-steps').dispatchEvent('change');
    // 20 scalars only: the default λM (tuned for 180) would zero them all.
    await page.locator('#hp-lambda-m').fill('1');
    await page.locator('#hp-lambda-m').dispatchEvent('change');
    await page.locator('#until-converged').setChecked(false); // exactly 25 steps
    await page.locator('#train').click();
    await page.locator('#train-done').waitFor({ timeout: 240_000 });
    assert.match(await page.locator('#train-done').textContent(), /Done: 25 steps/);

    // The heatmap has one cell per (site, layer, token): 2 panels × 2 layers × 5 tokens.
    assert.equal(await page.locator('#heatmap rect.cell').count(), 2 * 2 * 5);
    const values = await page.locator('#heatmap rect.cell').evaluateAll((cs) => cs.map((c) => Number(c.dataset.value)));
    assert.ok(values.some((v) => v !== 0), `some scalars were learned: ${values}`);
    // Each chart has one point per step and series.
    assert.equal(await page.locator('#chart-sparsity circle.point').count(), 2 * 25);
    assert.equal(await page.locator('#chart-effectiveness circle.point').count(), 4 * 25);

    // β = +1 and β = −1 give different steered predictions.
    await page.locator('#after tr.prediction').first().waitFor({ timeout: 60_000 });
    const atPlus = await page.locator('#after').innerText();
    await page.locator('#beta').fill('-1');
    await page.waitForFunction((prev) => document.querySelector('#after')?.innerText !== prev, atPlus, { timeout: 60_000 });
    const atMinus = await page.locator('#after').innerText();
    assert.notEqual(atMinus, atPlus);
    await screenshot(page, 'trained-2layer');

    // A long run stops when asked and keeps what it learned.
    await page.locator('#hp-steps').fill('500');
    await page.locator('#hp-steps').dispatchEvent('change');
    await page.locator('#train').click();
    await page.waitForFunction(() => Number(document.querySelector('#train-progress')?.value ?? 0) >= 3, null, { timeout: 120_000 });
    await page.locator('#stop').click();
    await page.locator('#train-done').waitFor({ timeout: 60_000 });
    const done = await page.locator('#train-done').textContent();
    const m = done.match(/Stopped at step (\d+)/);
    assert.ok(m, done);
    assert.ok(Number(m[1]) < 500);
    assert.ok(await page.locator('#heatmap rect.cell').count() > 0);
    assert.ok(await steeredTop(page));
    await screenshot(page, 'stopped-2layer');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

// The slower test: the default page with the real model (SmolLM2-135M, 30 layers). Training
// must actually flip the answer: " London" first at β = +1, " Paris" first at β = −1 (natively,
// with these settings, " London" is first from step 2 on and Δ(β=+1) is ~3.6 at step 12).
test('real model: 12 ActivScalar steps flip " Paris" to " London" and back', async () => {
  const browser = await sharedBrowser({ webgpu: false });
  const errors = [];
  try {
    const page = await openPage(browser, site.url, errors);
    await page.locator('#model-status.ready').waitFor({ timeout: 300_000 });
    assert.match(await page.locator('#model-status').innerText(), /30 layers/);
    await page.locator('#prompt').fill('The capital of France is');
    // The default prompt also has 5 tokens: wait for this prompt's tokens and its predictions.
    await page.waitForFunction(() => /France/.test(document.querySelectorAll('#prompt-tokens .token-chip')[3]?.textContent ?? ''), null, { timeout: 120_000 });
    await page.waitForFunction(() => document.querySelector('#predictions tr.prediction')?.dataset.token !== ' Rome', null, { timeout: 120_000 });
    // The real model knows the answer: " Paris" is its first prediction.
    assert.equal(await page.locator('#predictions tr.prediction').first().getAttribute('data-token'), ' Paris');
    await page.locator('#answer-from').fill(' Paris');
    await page.locator('#answer-to').fill(' London');
    await setNumber(page, '#hp-steps', 12);
    await page.locator('#until-converged').setChecked(false); // exactly 12 steps
    await page.locator('#train').click();
    await page.locator('#train-done').waitFor({ timeout: 300_000 });
    assert.match(await page.locator('#train-done').textContent(), /Done: 12 steps/);
    assert.equal(await page.locator('#heatmap rect.cell').count(), 2 * 30 * 5);
    assert.equal(await page.locator('#chart-sparsity circle.point').count(), 2 * 12);

    assert.equal(await page.locator('#beta').inputValue(), '1');
    assert.equal(await steeredTop(page), ' London', 'β = +1 steers to " London"');
    const atPlus = await page.locator('#after').innerText();
    await page.locator('#beta').fill('-1');
    await page.waitForFunction((prev) => document.querySelector('#after')?.innerText !== prev, atPlus, { timeout: 120_000 });
    assert.equal(await steeredTop(page), ' Paris', 'β = −1 steers back to " Paris"');
    // The unmodified prediction is unchanged by training.
    assert.equal(await page.locator('#before tr.prediction').first().getAttribute('data-token'), ' Paris');
    await screenshot(page, 'trained-real-model');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

// The stopping rule (on by default): natively this run stops at step 60 of 200 (`actscale train
// --model static/models/test-2layer.gguf --prompt "The capital of France is" --from " Paris" --to
// " London" --lambda-m 1 --steps 200 --until-converged`); the page must stop early too and say why.
test('stop when done: training ends before the budget and the panel says why', async () => {
  const browser = await sharedBrowser({ webgpu: false });
  const errors = [];
  try {
    const page = await openPage(browser, `${site.url}?model=${TEST_MODEL}`, errors);
    await page.locator('#model-status.ready').waitFor({ timeout: 120_000 });
    assert.equal(await page.locator('#until-converged').isChecked(), true, 'on by default');
    await trainPair(page, { steps: 200, untilConverged: true });
    const text = await page.locator('#train-done').textContent();
    const m = text.match(/^Done: stopped at step (\d+): flipped both ways by at least 1.8 \(0\.9 × margin\), and no sparser such state in the 30 steps since step (\d+) \((\d+) non-zero\); kept the sparsest flipped state, after step \2: \3 non-zero\.$/);
    assert.ok(m, text);
    const step = Number(m[1]);
    assert.ok(step >= 30 && step < 200, `stopped early: ${step}`);
    assert.equal(await page.locator('#chart-sparsity circle.point').count(), 2 * step, 'one point per step run');
    // The page shows the kept state, not the last one: its heatmap has the named count.
    const values = await page.locator('#heatmap rect.cell').evaluateAll((cs) => cs.map((c) => Number(c.dataset.value)));
    assert.equal(values.filter((v) => v !== 0).length, Number(m[3]), `heatmap ${values}`);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
