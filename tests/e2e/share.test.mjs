// Sharing a learned intervention: a permalink opened in a fresh page shows the same steered
// prediction without training; Back and Forward move between shared states; a tampered link
// gives a message and the default page; the JSON file export imports into a fresh page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { serve, sharedBrowser, openPage, screenshot, trainPair, steeredTop, copyLink, TEST_MODEL } from './support.mjs';

let site;
before(async () => { site = await serve(); });
after(async () => { await site?.close(); });

async function setBeta(page, value) {
  await page.locator('#beta').fill(String(value));
}

test('a permalink restores the intervention in a fresh page; Back/Forward; tampered link', async () => {
  const browser = await sharedBrowser({ webgpu: false });
  const errors = [];
  try {
    const maker = await openPage(browser, `${site.url}?model=${TEST_MODEL}`, errors);
    await maker.locator('#model-status.ready').waitFor({ timeout: 120_000 });
    await trainPair(maker);
    const topPlus = await steeredTop(maker);
    const linkPlus = await copyLink(maker);
    assert.match(linkPlus, /#s=[A-Za-z0-9_-]+$/);
    assert.ok(linkPlus.length < 500 + site.url.length + TEST_MODEL.length + 8, `short link: ${linkPlus.length} chars`);
    // At β = −1 the steered predictions are recomputed (their probabilities change, if not the top).
    const afterPlus = await maker.locator('#after').innerText();
    await setBeta(maker, -1);
    await maker.waitForFunction(() => document.querySelector('#beta')?.value === '-1');
    await maker.waitForFunction((prev) => document.querySelector('#after')?.innerText !== prev, afterPlus, { timeout: 60_000 });
    const topMinus = await steeredTop(maker);
    const linkMinus = await copyLink(maker);
    assert.notEqual(linkMinus, linkPlus);

    // A fresh page (own browser context: no shared state) opened on the link.
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const viewer = await context.newPage();
    viewer.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    viewer.on('pageerror', (e) => errors.push(String(e)));
    await viewer.goto(linkPlus);
    await viewer.locator('#share-message.ok', { hasText: 'Restored' }).waitFor({ timeout: 120_000 });
    assert.equal(await viewer.locator('#prompt').inputValue(), 'The capital of France is');
    assert.equal(await viewer.locator('#answer-to').inputValue(), ' London');
    assert.equal(await steeredTop(viewer), topPlus);
    assert.equal(await viewer.locator('#heatmap rect.cell').count(), 2 * 2 * 5);
    await screenshot(viewer, 'permalink-restored');

    // Another shared state in the same tab, then Back and Forward.
    await viewer.evaluate((f) => { location.hash = f; }, new URL(linkMinus).hash);
    await viewer.waitForFunction(() => document.querySelector('#beta')?.value === '-1', null, { timeout: 60_000 });
    assert.equal(await steeredTop(viewer), topMinus);
    await viewer.goBack();
    await viewer.waitForFunction(() => document.querySelector('#beta')?.value === '1', null, { timeout: 60_000 });
    await viewer.waitForFunction((t) => document.querySelector('#after tr.prediction')?.dataset.token === t, topPlus, { timeout: 60_000 });
    await viewer.goForward();
    await viewer.waitForFunction(() => document.querySelector('#beta')?.value === '-1', null, { timeout: 60_000 });
    await context.close();

    // A tampered link: a clear message, and the page keeps its defaults.
    const hash = new URL(linkPlus).hash;
    const i = Math.floor(hash.length / 2);
    const tampered = linkPlus.replace(hash, hash.slice(0, i) + (hash[i] === 'A' ? 'B' : 'A') + hash.slice(i + 1, -3));
    const ctx2 = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const broken = await ctx2.newPage();
    broken.on('pageerror', (e) => errors.push(String(e)));
    await broken.goto(tampered);
    await broken.locator('#share-message.error').waitFor({ timeout: 120_000 });
    assert.match(await broken.locator('#share-message').textContent(), /cannot be (opened|used)/);
    assert.equal(await broken.locator('#prompt').inputValue(), 'The capital of Italy is');
    await broken.waitForFunction(() => document.querySelectorAll('#predictions tr.prediction').length === 10, null, { timeout: 60_000 });
    await screenshot(broken, 'permalink-tampered');
    await ctx2.close();

    // The link opened with another model (the default one): it says so and applies nothing.
    const ctx3 = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const other = await ctx3.newPage();
    other.on('pageerror', (e) => errors.push(String(e)));
    await other.goto(`${site.url}${hash}`);
    await other.locator('#share-message.error').waitFor({ timeout: 300_000 });
    assert.match(await other.locator('#share-message').textContent(), /different model/);
    assert.equal(await other.locator('#heatmap rect.cell').count(), 0);
    await ctx3.close();
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('Export file, then Import file in a fresh page, gives the same steered prediction', async () => {
  const browser = await sharedBrowser({ webgpu: false });
  const errors = [];
  try {
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 800 } });
    const maker = await context.newPage();
    maker.on('pageerror', (e) => errors.push(String(e)));
    await maker.goto(`${site.url}?model=${TEST_MODEL}`);
    await maker.locator('#model-status.ready').waitFor({ timeout: 120_000 });
    await trainPair(maker, { steps: 15 });
    const top = await steeredTop(maker);
    const [download] = await Promise.all([maker.waitForEvent('download'), maker.locator('#export-file').click()]);
    const path = await download.path();
    const saved = JSON.parse(await readFile(path, 'utf8'));
    assert.equal(saved.format, 'actscale-intervention');
    assert.equal(saved.method, 'activ-scalar');

    const fresh = await context.newPage();
    fresh.on('pageerror', (e) => errors.push(String(e)));
    await fresh.goto(`${site.url}?model=${TEST_MODEL}`);
    await fresh.locator('#model-status.ready').waitFor({ timeout: 120_000 });
    await fresh.locator('#import-file').setInputFiles(path);
    await fresh.locator('#share-message.ok', { hasText: 'Restored' }).waitFor({ timeout: 60_000 });
    assert.equal(await steeredTop(fresh), top);

    // A damaged file: a message, nothing else changes.
    await fresh.locator('#import-file').setInputFiles({ name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from('{"format":"actscale-intervention","version":1,"params":[NaN]}') });
    await fresh.locator('#share-message.error').waitFor({ timeout: 30_000 });
    assert.equal(await steeredTop(fresh), top);
    await context.close();
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
