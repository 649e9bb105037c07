// Hosting the built site: under a sub-path (a GitHub project site), with permalinks that open
// under another base path; and with its default model on another origin, as
// `ACTSCALE_MODEL_URL=… make build` makes it (scripts/site-config.sh on a copy of dist/): the
// file is checked by SHA-256, and a host without CORS, a download that breaks off and a wrong
// file each give their message. The 2-layer test model keeps every load short.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, symlink, copyFile, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, sharedBrowser, openPage, screenshot, trainPair, steeredTop, copyLink, DIST, ROOT, TEST_MODEL } from './support.mjs';

const servers = [];
const temps = [];
async function started(dir, options) {
  const s = await serve(dir, options);
  servers.push(s);
  return s;
}
let browser;
before(async () => { browser = await sharedBrowser({ webgpu: false }); });
after(async () => {
  await browser?.close();
  for (const s of servers) await s.close();
  for (const t of temps) await rm(t, { recursive: true, force: true });
});

test('under a sub-path the page predicts and trains, and its permalink opens under another base path', async () => {
  const errors = [];
  const here = await started(DIST, { base: '/some/sub/path/' });
  const there = await started(DIST, { base: '/another/base/' });
  const maker = await openPage(browser, `${here.url}?model=${TEST_MODEL}`, errors);
  await maker.locator('#model-status.ready').waitFor({ timeout: 120_000 });
  await trainPair(maker); // types a prompt (its tokens and predictions appear), trains
  const top = await steeredTop(maker);
  const link = await copyLink(maker);
  assert.ok(link.startsWith(here.url), `the link keeps the page's own address: ${link}`);
  const outside = [...here.hits.keys()].filter((p) => !p.startsWith('/some/sub/path/'));
  assert.deepEqual(outside, [], 'every request stays under the sub-path');

  const { search, hash } = new URL(link);
  const viewer = await openPage(browser, `${there.url}${search}${hash}`, errors);
  await viewer.locator('#share-message.ok', { hasText: 'Restored' }).waitFor({ timeout: 120_000 });
  assert.equal(await viewer.locator('#prompt').inputValue(), 'The capital of France is');
  assert.equal(await steeredTop(viewer), top);
  assert.ok(there.hits.get(`/another/base/${TEST_MODEL}`) >= 1, 'the model came from the second base path');
  await screenshot(viewer, 'subpath-permalink-restored');
  assert.deepEqual(errors, []);
});

/** A copy of dist/ (symbolic links, so no 100 MB copies) configured by scripts/site-config.sh
 * the way `make build` configures dist/ with these environment variables. */
async function configuredSite(env) {
  const dir = await mkdtemp(join(tmpdir(), 'actscale-site-'));
  temps.push(dir);
  const link = async (from, to) => {
    for (const entry of await readdir(from, { withFileTypes: true })) {
      const [src, dst] = [join(from, entry.name), join(to, entry.name)];
      if (entry.isDirectory()) { await mkdir(dst); await link(src, dst); }
      else if (entry.name === 'index.html') await copyFile(src, dst);
      else await symlink(src, dst);
    }
  };
  await link(DIST, dir);
  execFileSync('bash', [join(ROOT, 'scripts/site-config.sh'), dir], { env: { ...process.env, ...env }, stdio: 'inherit' });
  return dir;
}

const sha256 = async (path) => createHash('sha256').update(await readFile(path)).digest('hex');

/** Opens a site whose default model is `modelUrl` and waits for the load to end. */
async function openWithModel(modelUrl, modelSha) {
  const site = await started(await configuredSite({ ACTSCALE_MODEL_URL: modelUrl, ACTSCALE_MODEL_SHA256: modelSha }));
  const errors = [];
  const page = await openPage(browser, site.url, errors);
  await page.locator('#model-status.ready, #model-status.failed').waitFor({ timeout: 120_000 });
  return { page, site, status: await page.locator('#model-status').textContent() };
}

test('a default model on another origin loads when its host allows CORS and has the built SHA-256', async () => {
  const testSha = await sha256(join(DIST, TEST_MODEL));
  const host = await started(DIST, { cors: true });
  const { page, site, status } = await openWithModel(`${host.url}${TEST_MODEL}`, testSha);
  assert.match(status, /test-2layer\.gguf — 2 layers/);
  assert.equal(host.hits.get(`/${TEST_MODEL}`), 1, 'downloaded from the other origin');
  assert.equal(site.hits.get('/static/models/smollm2-135m-instruct-q4_1.gguf'), undefined);
  await page.waitForFunction(() => document.querySelectorAll('#predictions tr.prediction').length === 10, null, { timeout: 60_000 });

  // The bundled copy is left out of a site whose model lives elsewhere.
  const models = await readdir(join(temps.at(-1), 'static/models'));
  assert.ok(!models.includes('smollm2-135m-instruct-q4_1.gguf'), models.join(', '));
});

test('a host without CORS, a download cut halfway and a wrong file each say what happened', async () => {
  const testSha = await sha256(join(DIST, TEST_MODEL));
  const noCors = await started(DIST, {});
  let r = await openWithModel(`${noCors.url}${TEST_MODEL}`, testSha);
  assert.match(r.status, /could not be loaded: .*Access-Control-Allow-Origin/);
  await screenshot(r.page, 'model-host-without-cors');

  const cut = await started(DIST, { cors: true, cutAfter: 0.5 });
  r = await openWithModel(`${cut.url}${TEST_MODEL}`, testSha);
  assert.match(r.status, /could not be loaded: .*(broke off after|ended early).*try again/);

  const right = await started(DIST, { cors: true });
  r = await openWithModel(`${right.url}${TEST_MODEL}`, 'ab'.repeat(32));
  assert.match(r.status, /is not the model this page was built for: its SHA-256 is [0-9a-f]{16}…, expected abababab/);
});

test('site-config refuses a malformed SHA-256 and a URL that would need escaping', async () => {
  const dir = await configuredSite({ ACTSCALE_MODEL_URL: '' }); // unset: the site stays as built
  assert.equal(await readFile(join(dir, 'index.html'), 'utf8'), await readFile(join(DIST, 'index.html'), 'utf8'));
  const run = (env) => {
    try {
      execFileSync('bash', [join(ROOT, 'scripts/site-config.sh'), dir], { env: { ...process.env, ...env }, stdio: 'pipe' });
      return '';
    } catch (e) { return String(e.stderr); }
  };
  assert.match(run({ ACTSCALE_MODEL_URL: 'https://example.org/m.gguf', ACTSCALE_MODEL_SHA256: 'xyz' }), /64 hex digits/);
  assert.match(run({ ACTSCALE_MODEL_URL: 'https://example.org/a"b.gguf' }), /must not contain/);
});

test('the Pages workflow builds with make build (what CI runs) and passes the model variables', async () => {
  const workflow = await readFile(join(ROOT, '.github/workflows/pages.yml'), 'utf8');
  assert.match(workflow, /^\s+run: make build$/m);
  for (const name of ['ACTSCALE_MODEL_URL', 'ACTSCALE_MODEL_SHA256']) {
    assert.match(workflow, new RegExp(`${name}: \\$\\{\\{ vars\\.${name} \\}\\}`));
    assert.match(await readFile(join(ROOT, 'scripts/site-config.sh'), 'utf8'), new RegExp(name));
  }
  assert.match(workflow, /path: dist$/m);
});
