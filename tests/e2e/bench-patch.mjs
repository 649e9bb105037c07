// Benchmark (prints figures, asserts nothing): the whole activation-patching map (2 sites × 30
// layers × T positions, with attribution) of the real model at T = 5, 10 and 14, in the built
// site in headless Chromium (CPU backend: Patch pressed -> map shown) and, with --native, by the
// CLI (`actscale patch`, process start to exit, model load included) in the same run. The first
// patching starts the page's second worker (`worker::patch_helper`), so the first pair runs again
// at the end, with that worker already started; each line says how many workers patched.
// Usage (after `make build`; scripts/bench-patch.sh builds both and runs this):
//   node tests/e2e/bench-patch.mjs [--native PATH/TO/actscale]
import { execFileSync } from 'node:child_process';
import { serve, launch, openPage, ROOT } from './support.mjs';

const args = process.argv.slice(2);
const native = args.includes('--native') ? args[args.indexOf('--native') + 1] : null;
const MODEL = 'static/models/smollm2-135m-instruct-q4_1.gguf';
const PAIRS = [
  ['The capital of France is', 'The capital of Italy is', ' Paris', ' Rome'],
  ['The Eiffel Tower is located in the city of', 'The Colosseum is located in the city of', ' Paris', ' Rome'],
  ['When Mary and John went to the store, John gave a drink to', 'When Mary and John went to the store, Mary gave a drink to', ' Mary', ' John'],
];

const site = await serve();
const browser = await launch({ webgpu: false });
const errors = [];
try {
  const page = await openPage(browser, site.url, errors);
  await page.locator('#model-status.ready').waitFor({ timeout: 120_000 });
  for (const [i, [prompt, corrupt, from, to]] of [...PAIRS, PAIRS[0]].entries()) {
    await page.locator('#prompt').fill(prompt);
    await page.locator('#answer-from').fill(from);
    await page.locator('#answer-to').fill(to);
    await page.locator('#corrupt').fill(corrupt);
    const deltasBefore = (await page.locator('#patch-deltas').count()) ? await page.locator('#patch-deltas').textContent() : '';
    const start = Date.now();
    await page.locator('#patch-run').click();
    await page.waitForFunction((prev) => {
      const d = document.querySelector('#patch-deltas')?.textContent;
      return d && d !== prev && !document.querySelector('#patch-run').disabled;
    }, deltasBefore, { timeout: 600_000 });
    const browserS = (Date.now() - start) / 1000;
    const again = i === PAIRS.length ? ' (again)' : '';
    let line = `T = ${await page.locator('#prompt-tokens .token-chip').count()}${again}: browser ${browserS.toFixed(1)} s`;
    if (native) {
      const t0 = Date.now();
      execFileSync(native, ['patch', '--model', `${ROOT}/${MODEL}`, '--prompt', prompt, '--corrupt', corrupt, '--from', from, '--to', to, '--json'], { stdio: ['ignore', 'ignore', 'ignore'] });
      const nativeS = (Date.now() - t0) / 1000;
      line += `, native ${nativeS.toFixed(1)} s (browser/native ${(browserS / nativeS).toFixed(1)}×)`;
    }
    console.log(`${line}; ${await page.locator('#patch-workers').textContent()}`);
  }
  if (errors.length) console.log('page errors:', errors);
} finally {
  await browser.close();
  await site.close();
}
