// Interpreting a learned intervention in the page, on the real model (its numbers are the
// point: which of its 30 layers carry the flip): the keep-top-k curve and k*, "keep only the top
// k" still flips both ways, activation patching and attribution beside α with their agreement,
// a corrupted prompt of another length refused with both counts, and a link that reopens the view.
// And a SteerVec's ‖v‖ and cos(v, h) maps, patching per head against the numpy reference, per-head
// units and a DynScalar's probes ranked, on the 2-layer model (their layout is the point).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { serve, sharedBrowser, openPage, screenshot, trainPair, copyLink, setBeta, FRANCE_PAIR, TEST_MODEL } from './support.mjs';

let site;
before(async () => { site = await serve(); });
after(async () => { await site?.close(); });

/** Δ = z[to] − z[from] in the steered top-5 at the current β, as a sign: a token outside the
 * top 5 is below all of them. */
async function steeredSign(page, from, to) {
  await page.locator('#after tr.prediction').first().waitFor({ timeout: 60_000 });
  const rows = await page.locator('#after tr.prediction').evaluateAll((rs) => rs.map((r) => [r.dataset.token, Number(r.dataset.logit)]));
  const logit = new Map(rows);
  const floor = Math.min(...rows.map(([, l]) => l)) - 1;
  const [zt, zf] = [logit.get(to) ?? floor, logit.get(from) ?? floor];
  assert.ok(logit.has(to) || logit.has(from), `neither answer in the steered top 5: ${JSON.stringify(rows)}`);
  return Math.sign(zt - zf);
}

const cells = (page, id) => page.locator(`#${id} rect.cell`).count();

test('real model: k*, keep only the top k, patching and attribution beside α, and the link reopens the view', async () => {
  const browser = await sharedBrowser({ webgpu: false });
  const errors = [];
  try {
    const page = await openPage(browser, site.url, errors);
    await page.locator('#model-status.ready').waitFor({ timeout: 120_000 });
    await trainPair(page, { steps: 40, lambdaM: 20 });

    await page.locator('#interpret-run').click();
    await page.locator('#k-star').waitFor({ timeout: 300_000 });
    const kStar = Number(await page.locator('#k-star').getAttribute('data-k-star'));
    const units = await page.locator('#units tbody tr').count();
    assert.ok(kStar >= 1, `this run flips its prompt, so k* exists: ${await page.locator('#k-star').textContent()}`);
    // The curve: every k from 1 to the number of non-zero units (up to 64), and the k* marker.
    const points = await page.locator('#chart-keep-k circle.point').count();
    assert.ok(points > kStar && units >= Math.min(10, kStar), `${points} points, ${units} rows`);
    assert.equal(await page.locator('#keep-k').inputValue(), String(kStar), 'k* is proposed');

    // Keep only the top k*: the heatmap shows k* non-zero α and the prompt still flips both ways.
    await page.locator('#keep-apply').click();
    await page.waitForFunction((k) => document.querySelector('#keep-in-use')?.dataset.keep === String(k), kStar, { timeout: 60_000 });
    await page.waitForFunction((k) => [...document.querySelectorAll('#heatmap rect.cell')].filter((c) => Number(c.dataset.value) !== 0).length === k, kStar, { timeout: 60_000 });
    await setBeta(page, 1);
    assert.equal(await steeredSign(page, FRANCE_PAIR.from, FRANCE_PAIR.to), 1, 'β = +1 prefers " London"');
    await setBeta(page, -1);
    assert.equal(await steeredSign(page, FRANCE_PAIR.from, FRANCE_PAIR.to), -1, 'β = −1 prefers " Paris"');

    // A corrupted prompt of another length is refused, naming both counts.
    await page.locator('#corrupt').fill('The capital of the United Kingdom is');
    await page.locator('#patch-run').click();
    await page.locator('#interpret-status.error').waitFor({ timeout: 60_000 });
    assert.match(await page.locator('#interpret-status').textContent(), /prompt has 5 tokens and the corrupted prompt \d+/);

    // Patching against "The capital of Italy is": a map beside α, with the same layout.
    await page.locator('#corrupt').fill('The capital of Italy is');
    await page.locator('#patch-run').click();
    await page.locator('#agreement').waitFor({ timeout: 300_000 });
    assert.equal(await cells(page, 'patch-map'), 2 * 30 * 5);
    assert.equal(await cells(page, 'heatmap'), 2 * 30 * 5);
    const effects = await page.locator('#patch-map rect.cell').evaluateAll((cs) => cs.map((c) => Number(c.dataset.value)));
    assert.ok(effects.some((e) => Math.abs(e) > 0.5), 'patching the country moves Δ');
    assert.equal(await page.locator('#agreement tbody tr').count(), 5);
    // The figures docs/method.md quotes for this run ("Measured on the real model").
    console.log(`k* ${kStar} of ${units} units; agreements:`, await page.locator('#agreement tbody tr').allTextContents());
    await page.locator('#map-choice').selectOption('attribution');
    await page.waitForFunction(() => /attribution/.test(document.querySelector('#patch-map figcaption')?.textContent ?? ''));
    await page.locator('#map-choice').selectOption('atp');
    await screenshot(page, 'interpret-panel');

    // The link carries the view: the map, k and the corrupted prompt.
    await setBeta(page, 1);
    const link = await copyLink(page);
    assert.match(link, new RegExp(`&map=atp&keep=${kStar}&corrupt=The%20capital%20of%20Italy%20is$`));
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const viewer = await context.newPage();
    viewer.on('pageerror', (e) => errors.push(String(e)));
    await viewer.goto(link);
    await viewer.locator('#agreement').waitFor({ timeout: 300_000 });
    await viewer.waitForFunction((k) => document.querySelector('#keep-in-use')?.dataset.keep === String(k), kStar, { timeout: 60_000 });
    assert.equal(await viewer.locator('#map-choice').inputValue(), 'atp');
    assert.equal(await viewer.locator('#corrupt').inputValue(), 'The capital of Italy is');
    assert.equal(await cells(viewer, 'patch-map'), 2 * 30 * 5);
    assert.equal(await steeredSign(viewer, FRANCE_PAIR.from, FRANCE_PAIR.to), 1);
    await screenshot(viewer, 'interpret-link-reopened');
    await context.close();
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('a steer-vec intervention: its ‖v‖ map equals the heatmap, and cos(v, h) lies in [−1, 1]', async () => {
  const browser = await sharedBrowser({ webgpu: false });
  const errors = [];
  try {
    const page = await openPage(browser, `${site.url}?model=${TEST_MODEL}`, errors);
    await page.locator('#model-status.ready').waitFor({ timeout: 120_000 });
    await page.locator('#method').selectOption('steer-vec');
    await trainPair(page, { steps: 5 });
    await page.locator('#interpret-run').click();
    await page.locator('#cos-map').waitFor({ timeout: 120_000 });
    const values = (id) => page.locator(`#${id} rect.cell`).evaluateAll((cs) => cs.map((c) => Number(c.dataset.value)));
    const [norms, cosines, heat] = [await values('norm-map'), await values('cos-map'), await values('heatmap')];
    assert.equal(norms.length, 2 * 2 * FRANCE_PAIR.tokens);
    assert.equal(cosines.length, norms.length);
    // The heatmap of a steer-vec shows ‖v‖ too, computed on the host from the same parameters.
    norms.forEach((n, i) => assert.ok(Math.abs(n - heat[i]) <= 1e-3 * Math.max(1, heat[i]), `unit ${i}: ${n} vs ${heat[i]}`));
    assert.ok(norms.some((n) => n > 0), 'training set some vectors');
    cosines.forEach((c, i) => {
      assert.ok(c >= -1 && c <= 1, `unit ${i}: cos ${c}`);
      if (norms[i] === 0) assert.equal(c, 0, `unit ${i}: no vector, no direction`);
    });
    assert.equal(await page.locator('#k-star').count(), 0, 'no k* for a steering vector');
    await screenshot(page, 'steer-vec-directions');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

/** Patches again until the engine worker's helper took a share (worker::patch_helper): it starts
 * at the first patching, and until it has loaded the model the engine worker patches alone,
 * which is sooner. The line under the map says which. */
async function patchOnTwoWorkers(page) {
  for (let tries = 0; tries < 20; tries++) {
    if (/two workers/.test(await page.locator('#patch-workers').textContent())) return;
    await page.locator('#patch-run').click();
    await page.locator('#interpret-status').waitFor({ state: 'detached', timeout: 120_000 });
  }
  assert.fail(`the helper never took a share: ${await page.locator('#patch-workers').textContent()}`);
}

/** Rust vs numpy on one effect: tests/interpret.rs EFFECT_TOL (4 logits, each within 2e-3). */
const EFFECT_TOL = 8e-3;

test('patching per head on the 2-layer model equals the numpy reference, at each position, and the link keeps it', async () => {
  const fixture = JSON.parse(readFileSync(new URL('../data/patching/smollm2.json', import.meta.url)));
  const ref = fixture.cases.find((c) => c.n_layers === 2 && c.prompt === 'The capital of Italy is');
  const browser = await sharedBrowser({ webgpu: false });
  const errors = [];
  try {
    const page = await openPage(browser, `${site.url}?model=${TEST_MODEL}`, errors);
    await page.locator('#model-status.ready').waitFor({ timeout: 120_000 });
    // A link needs an intervention: a short run on the reference's own pair.
    await trainPair(page, { steps: 2, pair: { prompt: ref.prompt, tokens: ref.ids.length, from: ref.answer_from, to: ref.answer_to } });
    await page.locator('#corrupt').fill(ref.corrupt);
    await page.locator('#patch-heads').check();
    await page.locator('#patch-run').click();
    await page.locator('#head-map rect.cell').first().waitFor({ timeout: 120_000 });
    // On two cores, layer 0's rows run in the engine worker and layer 1's in its helper
    // (patch_share::cut): the map below is joined from both.
    const twoCores = (await page.evaluate(() => navigator.hardwareConcurrency)) >= 2;
    if (twoCores) await patchOnTwoWorkers(page);
    else assert.match(await page.locator('#patch-workers').textContent(), /one worker\.$/);
    const heads = ref.attn_head[0].length;
    const headCells = (p) => p.locator('#head-map rect.cell').evaluateAll((cs) => cs.map((c) => [Number(c.dataset.layer), Number(c.dataset.head), Number(c.dataset.value)]));
    let worst = 0;
    for (let pos = 0; pos < ref.ids.length; pos++) {
      await page.locator('#head-position').selectOption(String(pos));
      await page.waitForFunction((p) => document.querySelector('#head-map svg')?.dataset.position === String(p), pos);
      const shown = await headCells(page);
      assert.equal(shown.length, 2 * heads);
      for (const [l, h, v] of shown) worst = Math.max(worst, Math.abs(v - ref.attn_head[l][h][pos]));
    }
    console.log(`# per-head patching, page vs numpy: worst |diff| ${worst.toExponential(2)}`);
    assert.ok(worst <= EFFECT_TOL, `per-head patching differs from numpy by ${worst}`);
    const largest = Math.max(...ref.attn_head.flat(2).map(Math.abs));
    assert.ok(largest > 10 * EFFECT_TOL, `the reference map is not near zero (${largest})`);
    assert.equal(await page.locator('#agreement tbody tr').count(), 4, 'patching · 2, per head · 2 (no α rows: the units were not measured)');
    await page.locator('#head-position').selectOption('max');
    await screenshot(page, 'interpret-heads');

    if (twoCores) {
      // The helper dies in the middle of its share (after its first step, when it yields to its
      // event loop): the engine worker patches its layers itself, the map is the same, the line
      // says why, and the engine is not restarted.
      const before = await headCells(page);
      const helper = page.workers()[1]; // started by the engine worker, page.workers()[0]
      await helper.evaluate(() => {
        const later = self.setTimeout.bind(self);
        self.setTimeout = () => later(() => { throw new Error('killed by the test'); });
      });
      await page.locator('#patch-run').click();
      await page.locator('#interpret-status').waitFor({ state: 'detached', timeout: 120_000 });
      assert.match(await page.locator('#patch-workers').textContent(), /^Patched on one worker: the second worker stopped: .*killed by the test\.$/);
      const after = await headCells(page);
      // The same rows in groups of other shapes (tests/interpret.rs, one pass per layer).
      after.forEach(([l, h, v], i) => assert.ok(Math.abs(v - before[i][2]) < 4e-3, `layer ${l} head ${h}: ${v} vs ${before[i][2]}`));
      assert.equal(await page.locator('#engine-restarted').count(), 0, 'the engine worker did not restart');
      await page.locator('#patch-run').click();
      await page.locator('#interpret-status').waitFor({ state: 'detached', timeout: 120_000 });
      assert.equal(await page.locator('#patch-workers').textContent(), 'Patched on one worker.', 'no second helper');
    }

    const link = await copyLink(page);
    assert.match(link, /&heads=1$/);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const viewer = await context.newPage();
    viewer.on('pageerror', (e) => errors.push(String(e)));
    await viewer.goto(link);
    await viewer.locator('#head-map rect.cell').first().waitFor({ timeout: 120_000 });
    assert.equal(await viewer.locator('#patch-heads').isChecked(), true);
    assert.deepEqual(await headCells(viewer), await headCells(page), 'the reopened per-head map is the same');
    await context.close();
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('activ-scalar on attn_head alone (2-layer model): a per-head α map, no per-site α, per-head units ranked by "Find the units", and the link reopens it', async () => {
  const browser = await sharedBrowser({ webgpu: false });
  const errors = [];
  try {
    const page = await openPage(browser, `${site.url}?model=${TEST_MODEL}`, errors);
    await page.locator('#model-status.ready').waitFor({ timeout: 120_000 });
    await page.locator('#site-attn_out').uncheck();
    await page.locator('#site-mlp_out').uncheck();
    await page.locator('#site-attn_head').check();
    await trainPair(page, { steps: 20 });
    await page.locator('#head-alpha-map rect.cell').first().waitFor({ timeout: 60_000 });
    const alphas = (p) => p.locator('#head-alpha-map rect.cell').evaluateAll((cs) => cs.map((c) => Number(c.dataset.value)));
    const perHead = await alphas(page);
    assert.equal(perHead.length, 2 * 9, 'layers × heads');
    assert.ok(perHead.some((a) => a !== 0), 'training set some per-head α');
    const perSite = await page.locator('#heatmap rect.cell').evaluateAll((cs) => cs.map((c) => Number(c.dataset.value)));
    assert.ok(perSite.length > 0 && perSite.every((a) => a === 0), 'attn_out and mlp_out were not selected');
    await page.locator('#interpret-run').click();
    await page.locator('#k-star').waitFor({ timeout: 120_000 });
    const sites = await page.locator('#units tbody tr td:nth-child(2)').allTextContents();
    assert.ok(sites.length > 0 && sites.every((t) => t === 'attn_head'), `ranked units: ${sites}`);
    const layers = await page.locator('#units tbody tr td:nth-child(3)').allTextContents();
    assert.ok(layers.every((t) => /^[01]\.[0-8]$/.test(t)), `layer.head: ${layers}`);
    await screenshot(page, 'per-head-alpha');

    const link = await copyLink(page);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const viewer = await context.newPage();
    viewer.on('pageerror', (e) => errors.push(String(e)));
    await viewer.goto(link);
    await viewer.locator('#head-alpha-map rect.cell').first().waitFor({ timeout: 120_000 });
    assert.equal(await viewer.locator('#site-attn_head').isChecked(), true);
    assert.equal(await viewer.locator('#site-attn_out').isChecked(), false);
    // A link stores α on an int8 grid of step ≤ 2·max|α|/127 (src/permalink/params.rs), after f16.
    const reopened = await alphas(viewer);
    const max = Math.max(...perHead.map(Math.abs));
    reopened.forEach((a, i) => assert.ok(Math.abs(a - perHead[i]) <= max / 127 + 1e-3 * max, `head cell ${i}: ${a} vs ${perHead[i]}`));
    await context.close();
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

const COMMA_PAIR = { prompt: 'The capital of France is', tokens: 5, from: ',', to: ' a' };

test('dyn-scalar (2-layer model): its probes ranked, the top k* kept still flip both ways, and the link reopens the cut', async () => {
  const browser = await sharedBrowser({ webgpu: false });
  const errors = [];
  try {
    const page = await openPage(browser, `${site.url}?model=${TEST_MODEL}`, errors);
    await page.locator('#model-status.ready').waitFor({ timeout: 120_000 });
    await page.locator('#method').selectOption('dyn-scalar');
    // Two tokens the 2-layer model ranks in its top 5 ("," above " a"), so that the steered
    // top 5 shows which one wins.
    await trainPair(page, { steps: 80, lambdaM: 0.1, pair: COMMA_PAIR });
    await page.locator('#interpret-run').click();
    await page.locator('#k-star').waitFor({ timeout: 120_000 });
    const kStar = Number(await page.locator('#k-star').getAttribute('data-k-star'));
    const probes = await page.locator('#probes tbody tr').count();
    assert.ok(probes >= 1 && probes <= 2 * 2, `2 sites × 2 layers at most: ${probes}`);
    assert.ok(kStar >= 1 && kStar <= probes, `this run flips its prompt: ${await page.locator('#k-star').textContent()}`);
    const sizes = await page.locator('#probes tbody tr td:nth-child(4)').evaluateAll((cs) => cs.map((c) => Number(c.textContent)));
    assert.ok(sizes.every((x, i) => i === 0 || sizes[i - 1] >= x), `largest mean |α| first: ${sizes}`);

    await page.locator('#keep-apply').click();
    await page.waitForFunction((k) => document.querySelector('#keep-in-use')?.dataset.keep === String(k), kStar, { timeout: 60_000 });
    await setBeta(page, 1);
    assert.equal(await steeredSign(page, COMMA_PAIR.from, COMMA_PAIR.to), 1, 'β = +1 prefers " a"');
    await setBeta(page, -1);
    assert.equal(await steeredSign(page, COMMA_PAIR.from, COMMA_PAIR.to), -1, 'β = −1 prefers ","');
    await screenshot(page, 'dyn-scalar-probes');

    await setBeta(page, 1);
    const link = await copyLink(page);
    assert.match(link, new RegExp(`&keep=${kStar}`));
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const viewer = await context.newPage();
    viewer.on('pageerror', (e) => errors.push(String(e)));
    await viewer.goto(link);
    await viewer.waitForFunction((k) => document.querySelector('#keep-in-use')?.dataset.keep === String(k), kStar, { timeout: 120_000 });
    // The link carries the intervention in use, the top-k* cut: its probes are the k* kept.
    assert.equal(await viewer.locator('#probes tbody tr').count(), kStar);
    assert.equal(await steeredSign(viewer, COMMA_PAIR.from, COMMA_PAIR.to), 1);
    await context.close();
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
