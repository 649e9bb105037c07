// Benchmark (prints figures, asserts nothing): a first visit to the built site — empty browser
// cache — over one emulated link (default 20 Mbit/s, the server paces every byte it sends), with
// and without the gzip a static host applies to html/js/css/wasm. Prints the bytes each file
// took on the wire and the time from opening the page to its first prediction.
// Usage (after `make build`): node tests/e2e/bench-first-visit.mjs [--mbit 20] [--dist DIR]
import { serve, launch, openPage, DIST } from './support.mjs';

const args = process.argv.slice(2);
const option = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const mbit = Number(option('--mbit') ?? 20);
const dist = option('--dist') ?? DIST;
const mb = (n) => (n / 1e6).toFixed(2);

async function visit(gzip) {
  const site = await serve(dist, { gzip, rate: (mbit * 1e6) / 8 });
  const browser = await launch({ webgpu: false });
  try {
    const errors = [];
    const start = Date.now();
    const page = await openPage(browser, site.url, errors);
    await page.locator('#model-status.ready').waitFor({ timeout: 900_000 });
    const ready = (Date.now() - start) / 1e3;
    await page.locator('#predictions tr.prediction').first().waitFor({ timeout: 300_000 });
    const first = (Date.now() - start) / 1e3;
    if (errors.length) console.error('[bench] page errors:', errors);
    return { sent: new Map(site.sent), ready, first };
  } finally {
    await browser.close();
    await site.close();
  }
}

const raw = await visit(false);
const gz = await visit(true);
console.log(`First visit, empty cache, ${mbit} Mbit/s (one link, paced by the server), CPU backend:\n`);
console.log('| file | raw MB | with gzip MB |');
console.log('|---|---:|---:|');
const files = [...raw.sent.keys()].sort((a, b) => raw.sent.get(b) - raw.sent.get(a));
for (const f of files) console.log(`| ${f} | ${mb(raw.sent.get(f))} | ${mb(gz.sent.get(f) ?? 0)} |`);
const total = (m) => [...m.values()].reduce((a, b) => a + b, 0);
console.log(`| **total** | ${mb(total(raw.sent))} | ${mb(total(gz.sent))} |`);
console.log(`\n| | no compression | gzip |\n|---|---:|---:|`);
console.log(`| open → model ready | ${raw.ready.toFixed(1)} s | ${gz.ready.toFixed(1)} s |`);
console.log(`| open → first prediction | ${raw.first.toFixed(1)} s | ${gz.first.toFixed(1)} s |`);
