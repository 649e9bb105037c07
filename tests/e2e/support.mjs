// Helpers for the end-to-end tests: a static server for dist/ and a headless Chromium.
import { createServer } from 'node:http';
import { readFile, stat, mkdir } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
export const DIST = join(ROOT, 'dist');
export const SHOTS = join(ROOT, 'tests/e2e/screenshots');

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.wasm': 'application/wasm', '.css': 'text/css', '.json': 'application/json',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.gguf': 'application/octet-stream',
};

/** Serves `dir` on 127.0.0.1 at a free port; resolves to { url, close, hits } where
 * hits.get(path) counts the requests for each path. */
export async function serve(dir = DIST) {
  await stat(join(dir, 'index.html')); // fail early with ENOENT when the site was not built
  const hits = new Map();
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const file = normalize(join(dir, path.endsWith('/') ? path + 'index.html' : path));
    if (!file.startsWith(dir)) { res.writeHead(403).end(); return; }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}/`, hits, close: () => new Promise((ok) => server.close(ok)) };
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

export async function screenshot(page, name) {
  await mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

export const TEST_MODEL = 'static/models/test-2layer.gguf';

/** Sets a number field the way a user does (type, then leave the field). */
export async function setNumber(page, selector, value) {
  await page.locator(selector).fill(String(value));
  await page.locator(selector).dispatchEvent('change');
}

/** On a loaded page: "The capital of France is", " Paris" → " London", train and wait. The
 * stopping rule is off unless asked for, so that a run has exactly `steps` steps. */
export async function trainPair(page, { steps = 25, lambdaM = 1, timeout = 240_000, untilConverged = false } = {}) {
  await page.locator('#prompt').fill('The capital of France is');
  await page.waitForFunction(() => document.querySelectorAll('#prompt-tokens .token-chip').length === 5, null, { timeout: 60_000 });
  await page.locator('#answer-from').fill(' Paris');
  await page.locator('#answer-to').fill(' London');
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

/** The steered top-1 token once the "after" table shows predictions. */
export async function steeredTop(page) {
  await page.locator('#after tr.prediction').first().waitFor({ timeout: 60_000 });
  return page.locator('#after tr.prediction').first().getAttribute('data-token');
}
