// The built worker's wasm (dist/), inspected with binaryen's JS API (the npm package the release
// build's wasm-opt comes from).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import binaryen from 'binaryen';
import { DIST } from './support.mjs';

// A module that never calls its static constructors is linked by wasm-ld as a "command": every
// exported function becomes a wrapper that first calls all the constructors (no arguments), then
// the real function — so each call from JS into the worker re-ran burn's and cubecl's inventory
// registrations (27% of a training run's worker time). `main` calls them once instead
// (src/bin/worker.rs). Built without that call, 8 of the worker's 17 exports begin with the same
// call; with it, none share one.
test('the worker runs its static constructors once, not at the start of every export', async () => {
  const file = (await readdir(DIST)).find((f) => /^actscale-worker.*_bg\.wasm$/.test(f));
  assert.ok(file, 'dist/ has the worker wasm (run make build first)');
  const mod = binaryen.readBinary(await readFile(join(DIST, file)));
  try {
    const firstCalls = new Map();
    let exports = 0;
    for (let i = 0; i < mod.getNumExports(); i++) {
      const e = binaryen.getExportInfo(mod.getExportByIndex(i));
      if (e.kind !== binaryen.ExternalFunction) continue;
      exports++;
      const body = binaryen.getFunctionInfo(mod.getFunction(e.value)).body;
      if (!body) continue;
      let first = binaryen.getExpressionInfo(body);
      if (first.id === binaryen.BlockId && first.children.length) first = binaryen.getExpressionInfo(first.children[0]);
      if (first.id === binaryen.CallId && first.operands.length === 0) {
        firstCalls.set(first.target, [...(firstCalls.get(first.target) ?? []), e.name]);
      }
    }
    assert.ok(exports >= 10, `the worker exports ${exports} functions`);
    for (const [target, names] of firstCalls) {
      assert.ok(names.length <= 2, `${names.length} of ${exports} exports first call ${target}: ${names.join(', ')}`);
    }
  } finally {
    mod.dispose();
  }
});
