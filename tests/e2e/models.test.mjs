// Bring your own model (issue 16): a GPT-2 GGUF (the tiny random-weight file of
// tests/data/arch, whose logits match llama.cpp natively) loads in the page and trains an
// ActivScalar; a file naming a pre-tokenizer we do not have and a file too large for the
// browser each say so, and the page keeps the model it had.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { serve, sharedBrowser, openPage, screenshot, setNumber, TEST_MODEL, ROOT } from './support.mjs';

let site;
before(async () => { site = await serve(); });
after(async () => { await site?.close(); });

const READY = '#model-status.ready';

async function loadFile(page, name, buffer) {
  await page.locator('.model-loader summary').click();
  await page.locator('#model-file').setInputFiles({ name, mimeType: 'application/octet-stream', buffer });
}

test('a GPT-2 GGUF loads from a file, predicts, and trains an ActivScalar', async () => {
  const browser = await sharedBrowser({ webgpu: false });
  const errors = [];
  try {
    const page = await openPage(browser, `${site.url}?model=${TEST_MODEL}`, errors);
    await page.locator(READY).waitFor({ timeout: 120_000 });
    await loadFile(page, 'gpt2-tiny.gguf', await readFile(join(ROOT, 'tests/data/arch/gpt2.gguf')));
    await page.waitForFunction(() => /gpt2-tiny\.gguf — 2 layers, d = 64, 288 tokens, gpt2/.test(document.querySelector('#model-status.ready')?.textContent ?? ''), null, { timeout: 60_000 });
    // With the file's 28 merges and its gpt-2 pre-tokenizer: t|he Ġ|r|ing Ġ|is Ġin Ġthe, 9 tokens;
    // the answers " the" and " a" are one token each.
    await page.locator('#prompt').fill('the ring is in the');
    const tokens = 9;
    await page.waitForFunction((n) => document.querySelectorAll('#prompt-tokens .token-chip').length === n, tokens, { timeout: 60_000 });
    await page.waitForFunction(() => document.querySelectorAll('#predictions tr.prediction').length === 10, null, { timeout: 60_000 });
    await page.locator('#answer-from').fill(' the');
    await page.locator('#answer-to').fill(' a');
    await setNumber(page, '#hp-steps', 15);
    await setNumber(page, '#hp-lambda-m', 1);
    await page.locator('#until-converged').setChecked(false);
    await page.locator('#train').click();
    await page.locator('#train-done').waitFor({ timeout: 240_000 });
    assert.match(await page.locator('#train-done').textContent(), /Done: 15 steps/);
    // One scalar per (site, layer, token), and training moved some of them.
    assert.equal(await page.locator('#heatmap rect.cell').count(), 2 * 2 * tokens);
    const values = await page.locator('#heatmap rect.cell').evaluateAll((cs) => cs.map((c) => Number(c.dataset.value)));
    assert.ok(values.some((v) => v !== 0), `scalars were learned: ${values}`);
    assert.equal(await page.locator('#chart-effectiveness circle.point').count(), 4 * 15);
    await page.locator('#after tr.prediction').first().waitFor({ timeout: 60_000 });
    await screenshot(page, 'gpt2-trained');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

/** The bytes of `buf` with the string value of metadata `key` replaced by `value` (same length). */
function withStringValue(buf, key, value) {
  const out = Buffer.from(buf);
  const at = out.indexOf(Buffer.from(key));
  assert.ok(at > 0, `${key} is in the file`);
  const p = at + key.length;
  assert.equal(out.readUInt32LE(p), 8, `${key} is a string`);
  assert.equal(Number(out.readBigUInt64LE(p + 4)), value.length, `${key} has ${value.length} bytes`);
  out.write(value, p + 12, 'utf8');
  return out;
}

/** A GGUF header with Llama-2-7B's shapes (32 layers, d 4096, d_ff 11008, 32000 tokens) whose
 * tensors, all Q2_K, share one data region the size of the largest (43 MB), so the file is small
 * but its header describes 6.7B parameters: the worker must refuse it from the header. */
function sevenBillionHeader() {
  const [d, ff, vocab, layers] = [4096, 11008, 32000, 32];
  const parts = [];
  const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); parts.push(b); };
  const u64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); parts.push(b); };
  const str = (s) => { u64(Buffer.byteLength(s)); parts.push(Buffer.from(s)); };
  const meta = [
    ['general.architecture', 8, 'llama'], ['llama.block_count', 4, layers], ['llama.embedding_length', 4, d],
    ['llama.attention.head_count', 4, 32], ['llama.feed_forward_length', 4, ff], ['llama.context_length', 4, 4096],
    ['llama.attention.layer_norm_rms_epsilon', 6, 1e-5],
  ];
  const Q2_K = 10, F32 = 0;
  const tensors = [['token_embd.weight', [d, vocab], Q2_K], ['output.weight', [d, vocab], Q2_K], ['output_norm.weight', [d], F32]];
  for (let l = 0; l < layers; l++) {
    for (const n of ['attn_q', 'attn_k', 'attn_v', 'attn_output']) tensors.push([`blk.${l}.${n}.weight`, [d, d], Q2_K]);
    tensors.push([`blk.${l}.ffn_gate.weight`, [d, ff], Q2_K], [`blk.${l}.ffn_up.weight`, [d, ff], Q2_K], [`blk.${l}.ffn_down.weight`, [ff, d], Q2_K]);
    tensors.push([`blk.${l}.attn_norm.weight`, [d], F32], [`blk.${l}.ffn_norm.weight`, [d], F32]);
  }
  parts.push(Buffer.from('GGUF')); u32(3); u64(tensors.length); u64(meta.length);
  for (const [k, ty, v] of meta) {
    str(k); u32(ty);
    if (ty === 8) str(v); else if (ty === 4) u32(v); else { const b = Buffer.alloc(4); b.writeFloatLE(v); parts.push(b); }
  }
  for (const [name, dims, ty] of tensors) { str(name); u32(dims.length); dims.forEach(u64); u32(ty); u64(0); }
  const header = Buffer.concat(parts);
  const padded = Math.ceil(header.length / 32) * 32;
  const data = (d * vocab / 256) * 84; // Q2_K: 84 bytes per 256 values
  return Buffer.concat([header, Buffer.alloc(padded - header.length + data)]);
}

test('an unknown pre-tokenizer and a model too large for the browser each say so; the old model stays', async () => {
  const browser = await sharedBrowser({ webgpu: false });
  const errors = [];
  try {
    const page = await openPage(browser, `${site.url}?model=${TEST_MODEL}`, errors);
    await page.locator(READY).waitFor({ timeout: 120_000 });
    const gpt2 = await readFile(join(ROOT, 'tests/data/arch/gpt2.gguf'));
    await loadFile(page, 'bloom-pre.gguf', withStringValue(gpt2, 'tokenizer.ggml.pre', 'bloom'));
    await page.locator('#model-load-error').waitFor({ timeout: 60_000 });
    const pre = await page.locator('#model-load-error').textContent();
    assert.match(pre, /bloom-pre\.gguf/);
    assert.match(pre, /pre-tokenizer "bloom" \(tokenizer\.ggml\.pre\) is not supported; supported: smollm/);
    assert.match(await page.locator(READY).textContent(), /test-2layer\.gguf — 2 layers/);

    await page.locator('#model-file').setInputFiles({ name: 'llama-7b-shapes.gguf', mimeType: 'application/octet-stream', buffer: sevenBillionHeader() });
    await page.waitForFunction(() => /llama-7b-shapes/.test(document.querySelector('#model-load-error')?.textContent ?? ''), null, { timeout: 120_000 });
    const big = await page.locator('#model-load-error').textContent();
    assert.match(big, /too large for the browser/);
    assert.match(big, /largest model that fits has about \d+M parameters \(this one has 67\d\dM\)/);
    assert.match(await page.locator(READY).textContent(), /test-2layer\.gguf — 2 layers/);
    // The model it kept still answers.
    await page.locator('#prompt').fill('The capital of France is');
    await page.waitForFunction(() => document.querySelectorAll('#predictions tr.prediction').length === 10, null, { timeout: 60_000 });
    await screenshot(page, 'model-too-large');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

/** The predictions table as [token, logit] pairs. */
const predictions = (page) => page.locator('#predictions tr.prediction').evaluateAll((rows) =>
  rows.map((r) => [r.dataset.token, Number(r.querySelector('td.logit').textContent)]));

/** Opens the page (on WebGPU when `webgpu`), loads the GPT-2 file and types the prompt. */
async function gpt2Page(browser, webgpu, errors) {
  const page = await openPage(browser, `${site.url}?model=${TEST_MODEL}${webgpu ? '&backend=webgpu' : ''}`, errors);
  await page.locator(READY).waitFor({ timeout: 300_000 });
  await loadFile(page, 'gpt2-tiny.gguf', await readFile(join(ROOT, 'tests/data/arch/gpt2.gguf')));
  await page.waitForFunction(() => /gpt2-tiny\.gguf — .*gpt2/.test(document.querySelector('#model-status.ready')?.textContent ?? ''), null, { timeout: 120_000 });
  const backend = webgpu ? /model on WebGPU/ : /model on CPU/;
  await page.waitForFunction((src) => new RegExp(src).test(document.querySelector('#backend-status')?.textContent ?? ''), backend.source, { timeout: 60_000 });
  await page.locator('#prompt').fill('the ring is in the');
  // Rows of this file's predictions (ids below its 288 tokens), not the previous model's, for
  // this prompt (its 9 tokens with this file's tokenizer), not the page's default prompt, whose
  // predictions with this file may still be on show for a moment.
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('#predictions tr.prediction')];
    const chips = document.querySelectorAll('#prompt-tokens .token-chip').length;
    return chips === 9 && rows.length === 10 && rows.every((r) => Number(r.dataset.id) < 288);
  }, null, { timeout: 300_000 });
  return page;
}

test('the GPT-2 file on WebGPU (SwiftShader) predicts as on the CPU backend and trains', async () => {
  const gpuBrowser = await sharedBrowser({ webgpu: true });
  const cpuBrowser = await sharedBrowser({ webgpu: false });
  const errors = [];
  try {
    const cpu = await predictions(await gpt2Page(cpuBrowser, false, errors));
    const page = await gpt2Page(gpuBrowser, true, errors);
    const gpu = await predictions(page);
    // The same ten tokens in the same order; logits within the table's rounding (2 decimals)
    // plus f32 noise between backends (~1e-5 at these magnitudes).
    assert.deepEqual(gpu.map(([t]) => t), cpu.map(([t]) => t));
    for (let i = 0; i < 10; i++) assert.ok(Math.abs(cpu[i][1] - gpu[i][1]) <= 0.0101, `${i}: CPU ${cpu[i]} vs WebGPU ${gpu[i]}`);
    await page.locator('#answer-from').fill(' the');
    await page.locator('#answer-to').fill(' a');
    await setNumber(page, '#hp-steps', 3);
    await setNumber(page, '#hp-lambda-m', 1);
    await page.locator('#until-converged').setChecked(false);
    await page.locator('#train').click();
    await page.locator('#train-done').waitFor({ timeout: 600_000 });
    assert.match(await page.locator('#train-done').textContent(), /Done: 3 steps/);
    const values = await page.locator('#heatmap rect.cell').evaluateAll((cs) => cs.map((c) => Number(c.dataset.value)));
    assert.ok(values.length === 2 * 2 * 9 && values.some((v) => v !== 0), `scalars were learned on WebGPU: ${values}`);
    await screenshot(page, 'gpt2-trained-on-webgpu');
    assert.deepEqual(errors, []);
  } finally {
    await gpuBrowser.close();
    await cpuBrowser.close();
  }
});
