// Profiler (prints figures, asserts nothing): a CPU profile of the engine worker while the page
// trains (or, with --patch, while it patches the real model's whole map for bench-patch.mjs's
// T = 10 pair), with the functions that took the time. Needs a build whose worker keeps its
// function names — `bash scripts/profile-worker.sh` makes one and runs this on it.
// Usage: node tests/e2e/profile-worker.mjs DIST [PROMPT] [STEPS] | DIST --patch
// Writes DIST/../worker.cpuprofile (open it in Chrome DevTools) and prints the top functions by
// self time and by inclusive time.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { serve, launch, openPage, setNumber } from './support.mjs';

const [dist, ...rest] = process.argv.slice(2);
const patch = rest.includes('--patch');
const [text = 'The capital of Italy is a', stepsArg = '8'] = rest.filter((a) => a !== '--patch');
const LONG = 600_000;
const site = await serve(dist);
const browser = await launch({ webgpu: false });
let profile;
try {
  const page = await openPage(browser, `${site.url}?model=static/models/smollm2-135m-instruct-q4_1.gguf`, []);
  await page.locator('#predictions tr.prediction').first().waitFor({ timeout: LONG });
  await page.locator('#prompt').fill(text);
  await page.locator('#answer-from').fill(' Italy');
  await page.locator('#answer-to').fill(' France');
  // The worker's own DevTools session (Playwright gives pages one; workers are reached through
  // the browser's, with messages wrapped for the target).
  const cdp = await browser.newBrowserCDPSession();
  const { targetInfos } = await cdp.send('Target.getTargets');
  const worker = targetInfos.find((t) => t.type === 'worker');
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: worker.targetId, flatten: false });
  let lastId = 0;
  const pending = new Map();
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    const m = JSON.parse(e.message);
    pending.get(m.id)?.(m);
    pending.delete(m.id);
  });
  const send = (method, params = {}) => new Promise((resolve) => {
    const id = ++lastId;
    pending.set(id, resolve);
    cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) });
  });
  await send('Profiler.enable');
  await send('Profiler.setSamplingInterval', { interval: 200 });
  const run = patch ? patchOnce : trainOnce;
  // A short run first, so that V8 has tiered the hot wasm functions up; then the profiled one.
  for (const profiled of [false, true]) {
    if (profiled) await send('Profiler.start');
    const start = Date.now();
    const what = await run(page, profiled);
    console.log(`${what}: ${Date.now() - start} ms`);
    if (profiled) profile = (await send('Profiler.stop')).result.profile;
  }
} finally {
  await browser.close();
  await site.close();
}
await writeFile(join(dist, '..', 'worker.cpuprofile'), JSON.stringify(profile));

async function trainOnce(page, profiled) {
  const steps = profiled ? Number(stepsArg) : 3;
  await setNumber(page, '#hp-steps', steps);
  await page.locator('#until-converged').setChecked(false);
  await page.waitForFunction(() => !document.querySelector('#train')?.disabled, null, { timeout: LONG });
  await page.locator('#train').click();
  await page.locator('#train-done').waitFor({ state: 'detached', timeout: LONG });
  await page.locator('#train-done').waitFor({ timeout: LONG });
  return `${steps} steps`;
}

// The T = 10 pair of bench-patch.mjs; the second run asks for another answer, so that its Δ line
// changes when it is done.
async function patchOnce(page, profiled) {
  await page.locator('#prompt').fill('The Eiffel Tower is located in the city of');
  await page.locator('#answer-from').fill(' Paris');
  await page.locator('#answer-to').fill(profiled ? ' London' : ' Rome');
  await page.locator('#corrupt').fill('The Colosseum is located in the city of');
  const before = (await page.locator('#patch-deltas').count()) ? await page.locator('#patch-deltas').textContent() : '';
  await page.locator('#patch-run').click();
  await page.waitForFunction((prev) => {
    const d = document.querySelector('#patch-deltas')?.textContent;
    return d && d !== prev && !document.querySelector('#patch-run').disabled;
  }, before, { timeout: LONG });
  return 'patch';
}

// Self time per function, and inclusive time (each function counted once per sample).
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const name = (n) => n.callFrame.functionName || '(anonymous)';
const self = new Map();
const inclusive = new Map();
let total = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  total += dt;
  self.set(name(byId.get(id)), (self.get(name(byId.get(id))) ?? 0) + dt);
  const seen = new Set();
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const f = name(byId.get(at));
    if (!seen.has(f)) inclusive.set(f, (inclusive.get(f) ?? 0) + dt);
    seen.add(f);
  }
});
const top = (m, k) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k)
  .map(([f, t]) => `${(t / 1000).toFixed(0).padStart(7)} ms ${((100 * t) / total).toFixed(1).padStart(5)}%  ${f.slice(0, 140)}`).join('\n');
console.log(`profiled ${(total / 1000).toFixed(0)} ms\n-- self time\n${top(self, 25)}\n-- inclusive time\n${top(inclusive, 40)}`);
