// The shared conformance cases (tests/conformance/cases) through the JS runner: every case
// passes, and the results file (build/conformance/results-js.txt) is what
// tests/conformance/test_conformance.py compares byte for byte with Python's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import * as mx from '../src/index.js';
import { main } from '../../../tests/conformance/run_js.mjs';

const RESULTS = fileURLToPath(new URL('../../../build/conformance/results-js.txt', import.meta.url));

test('conformance cases pass in WebAssembly and leave no handle behind', async () => {
  const log = console.log;
  const lines = [];
  console.log = (...a) => lines.push(a.join(' '));
  let rc;
  try {
    rc = await main(['--results', process.env.MXNEXT_CONFORMANCE_JS_RESULTS || RESULTS]);
  } finally {
    console.log = log;
  }
  const last = lines[lines.length - 1];
  assert.equal(rc, 0, lines.join('\n'));
  assert.match(last, /^\d+ passed, 0 failed$/);
  assert.ok(Number(last.split(' ')[0]) >= 300);
  assert.equal(mx.memory().numHandles, 0, JSON.stringify(mx.memory().byKind));
});
