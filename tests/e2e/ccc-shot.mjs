// Not a test: trains the CCC task in the page on the real model with the page's defaults and
// saves a screenshot of the result (the sparsity chart shows whether the count settles).
// Usage (after `make build`): node tests/e2e/ccc-shot.mjs [name]
import { serve, launch, openPage, screenshot } from './support.mjs';

const name = process.argv[2] ?? 'ccc-real-model';
const site = await serve();
const browser = await launch({ webgpu: false });
try {
  const errors = [];
  const page = await openPage(browser, site.url, errors);
  await page.locator('#model-status.ready').waitFor({ timeout: 300_000 });
  await page.locator('#task').selectOption('ccc');
  await page.locator('#until-converged').setChecked(false);
  const start = Date.now();
  await page.locator('#train').click();
  await page.locator('#train-done').waitFor({ timeout: 1_800_000 });
  await page.locator('#task-metrics').waitFor({ timeout: 120_000 });
  console.log(`trained in ${((Date.now() - start) / 1e3).toFixed(0)} s; errors: ${JSON.stringify(errors)}`);
  await screenshot(page, name);
} finally {
  await browser.close();
  await site.close();
}
