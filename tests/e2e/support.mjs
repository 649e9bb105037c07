// Helpers for the end-to-end tests: a static server for dist/ and a headless Chromium.
import { createServer } from 'node:http';
import { gzipSync } from 'node:zlib';
import { readFile, stat, mkdir } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import { chromium } from 'playwright-core';

export const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
export const DIST = join(ROOT, 'dist');
export const SHOTS = join(ROOT, 'tests/e2e/screenshots');
const FIXTURES = join(ROOT, 'tests/data/arch');

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.wasm': 'application/wasm', '.css': 'text/css', '.json': 'application/json',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.gguf': 'application/octet-stream',
};

const COMPRESSED = new Set(['.html', '.js', '.css', '.wasm']);

/** Serves `dir` on 127.0.0.1 at a free port under the path `base` (a project site's sub-path,
 * e.g. '/some/sub/path/'; anything outside it is a 404); resolves to { url, close, hits } where
 * url is the site's address and hits.get(path) counts the requests for each path. `cors` adds
 * Access-Control-Allow-Origin: *; `cutAfter` (a fraction) sends that share of each file's
 * bytes, under the full Content-Length, and then drops the connection. For the first-visit
 * benchmark: `gzip` compresses html, js, css and wasm as a static host does, and `rate` (bytes/s)
 * sends everything through one link of that speed; sent.get(path) counts the bytes sent.
 * `workerPrelude` (JS) runs in the engine worker before its own scripts (a test's probe). */
export async function serve(dir = DIST, { base = '/', cors = false, cutAfter = null, gzip = false, rate = null, workerPrelude = null } = {}) {
  await stat(join(dir, 'index.html')); // fail early with ENOENT when the site was not built
  const hits = new Map();
  const sent = new Map();
  const sockets = new Set();
  let linkFreeAt = 0; // when the emulated link has sent everything queued so far (ms)
  const send = async (res, path, body) => {
    sent.set(path, (sent.get(path) ?? 0) + body.length);
    if (rate === null) { res.end(body); return; }
    for (let i = 0; i < body.length; i += 65536) {
      const part = body.subarray(i, i + 65536);
      linkFreeAt = Math.max(linkFreeAt, Date.now()) + (part.length / rate) * 1000;
      await new Promise((ok) => setTimeout(ok, Math.max(0, linkFreeAt - Date.now())));
      if (!res.write(part)) await new Promise((ok) => res.once('drain', ok));
    }
    res.end();
  };
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (!path.startsWith(base)) { res.writeHead(404).end('not found'); return; }
    const inner = path.slice(base.length - 1);
    // The tiny fixtures are served beside the site, under fixtures/ (TINY_MODEL).
    const [root, rest] = inner.startsWith('/fixtures/') ? [FIXTURES, inner.slice('/fixtures'.length)] : [dir, inner];
    const file = normalize(join(root, rest.endsWith('/') ? rest + 'index.html' : rest));
    if (!file.startsWith(root)) { res.writeHead(403).end(); return; }
    try {
      let body = await readFile(file);
      if (workerPrelude && file.endsWith('actscale-worker_loader.js')) body = Buffer.concat([Buffer.from(workerPrelude + '\n'), body]);
      const headers = { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' };
      if (gzip && COMPRESSED.has(extname(file))) {
        body = gzipSync(body, { level: 9 });
        headers['content-encoding'] = 'gzip';
      }
      headers['content-length'] = body.length;
      if (cors) headers['access-control-allow-origin'] = '*';
      res.writeHead(200, headers);
      if (cutAfter === null) { await send(res, path, body); return; }
      res.write(body.subarray(0, Math.floor(body.length * cutAfter)), () => setTimeout(() => res.destroy(), 200));
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  const close = () => new Promise((ok) => { for (const s of sockets) s.destroy(); server.close(ok); });
  return { url: `http://127.0.0.1:${port}${base}`, origin: `http://127.0.0.1:${port}`, hits, sent, close };
}

const BASE_ARGS = [
  '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

/** Headless Debian Chromium; `webgpu` adds --enable-unsafe-webgpu (SwiftShader's adapter). */
export async function launch({ webgpu }) {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: webgpu ? [...BASE_ARGS, '--enable-unsafe-webgpu'] : BASE_ARGS,
  });
}

/** One Chromium of each kind per test file (node --test runs each file in its own process),
 * shared by the file's tests, and closed after them: starting a browser per test cost more than
 * some tests. Each test still gets its own contexts, so no storage, cache or page is shared; the
 * handle's close() closes the contexts it opened, not the browser. */
const shared = new Map();
after(async () => {
  for (const browser of shared.values()) await (await browser).close();
});

export async function sharedBrowser({ webgpu }) {
  if (!shared.has(webgpu)) shared.set(webgpu, launch({ webgpu }));
  const browser = await shared.get(webgpu);
  const contexts = [];
  const newContext = async (options) => {
    const context = await browser.newContext(options);
    contexts.push(context);
    return context;
  };
  return {
    newContext,
    newPage: async (options) => (await newContext(options)).newPage(),
    close: async () => { await Promise.all(contexts.splice(0).map((c) => c.close())); },
  };
}

/** A page that records console errors and uncaught exceptions into `errors`; `init` (a
 * function) runs in the page before any of its scripts, e.g. to install an observer. */
export async function openPage(browser, url, errors, { init } = {}) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
  page.on('pageerror', (err) => errors.push(String(err)));
  if (init) await page.addInitScript(init);
  await page.goto(url);
  return page;
}

export async function screenshot(page, name, { timeout = 30_000 } = {}) {
  await mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true, timeout });
}

export const TEST_MODEL = 'static/models/test-2layer.gguf';

/** The tiny llama fixture with a tied head (tests/data/arch/llama-tied.gguf: 2 layers, d = 64,
 * 288 tokens; the default model's architecture), served by serve() beside the site. For
 * WebGPU, where SwiftShader runs every kernel on the CPU: a step takes seconds on it, against
 * minutes on TEST_MODEL with its 49,152-token head. */
export const TINY_MODEL = 'fixtures/llama-tied.gguf';
/** A pair on TINY_MODEL: " the" and " a" are single tokens of its vocabulary; the prompt is 8. */
export const TINY_PAIR = { prompt: 'the ring is in', tokens: 8, from: ' the', to: ' a' };
/** The pair trainPair() trains on TEST_MODEL (and the real model). */
export const FRANCE_PAIR = { prompt: 'The capital of France is', tokens: 5, from: ' Paris', to: ' London' };

/** Sets a number field the way a user does (type, then leave the field). */
export async function setNumber(page, selector, value) {
  await page.locator(selector).fill(String(value));
  await page.locator(selector).dispatchEvent('change');
}

/** On a loaded page: `pair` (default "The capital of France is", " Paris" → " London"), train
 * and wait. The stopping rule is off unless asked for, so that a run has exactly `steps` steps. */
export async function trainPair(page, { steps = 25, lambdaM = 1, timeout = 240_000, untilConverged = false, pair = FRANCE_PAIR } = {}) {
  await page.locator('#prompt').fill(pair.prompt);
  await page.waitForFunction((n) => document.querySelectorAll('#prompt-tokens .token-chip').length === n, pair.tokens, { timeout: 60_000 });
  await page.locator('#answer-from').fill(pair.from);
  await page.locator('#answer-to').fill(pair.to);
  await setNumber(page, '#hp-steps', steps);
  await setNumber(page, '#hp-lambda-m', lambdaM);
  await page.locator('#until-converged').setChecked(untilConverged);
  await page.locator('#train').click();
  await page.locator('#train-done').waitFor({ timeout });
  await page.locator('#after tr.prediction').first().waitFor({ timeout: 60_000 });
}

/** Waits until the status line matches `pattern` (the engine's self-check, which says why a
 * backend was chosen, may finish after the model is ready) and returns its text. */
export async function statusMatching(page, pattern, timeout = 120_000) {
  await page.waitForFunction((src) => new RegExp(src).test(document.querySelector('#backend-status')?.textContent ?? ''), pattern.source, { timeout });
  return page.locator('#backend-status').textContent();
}

/** Presses "Copy link" and returns the new permalink once the page shows it. */
export async function copyLink(page) {
  const before = (await page.locator('#share-link').count()) ? await page.locator('#share-link').inputValue() : '';
  await page.locator('#copy-link').click();
  await page.waitForFunction((prev) => {
    const v = document.querySelector('#share-link')?.value;
    return v && v !== prev;
  }, before, { timeout: 60_000 });
  return page.locator('#share-link').inputValue();
}

/** The steered top-1 token's id once the "after" table shows predictions (the tiny fixture's
 * byte tokens all show as "�", so their text does not tell them apart). */
export async function steeredTopId(page) {
  await page.locator('#after tr.prediction').first().waitFor({ timeout: 60_000 });
  return page.locator('#after tr.prediction').first().getAttribute('data-id');
}

/** The steered top-1 token once the "after" table shows predictions. */
export async function steeredTop(page) {
  await page.locator('#after tr.prediction').first().waitFor({ timeout: 60_000 });
  return page.locator('#after tr.prediction').first().getAttribute('data-token');
}

/** Moves the β dial and waits for the steered predictions computed at that β (the "after"
 * table's data-beta), not merely for a change: two β a step apart can print the same top 5. */
export async function setBeta(page, value, timeout = 60_000) {
  await page.locator('#beta').fill(String(value));
  await page.waitForFunction(
    (v) => Math.abs(Number(document.querySelector('#after')?.dataset.beta ?? NaN) - v) < 1e-6,
    value,
    { timeout },
  );
}
