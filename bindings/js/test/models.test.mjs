// MXNet-exported models (tests/data/models: Gluon export() of tiny_resnet and an MLP, with
// MXNet 1.9.1's input and output) loaded with loadCheckpoint and run in WebAssembly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as mx from '../src/index.js';
import { readNpz } from './npz.mjs';

const DATA = new URL('../../../tests/data/models/', import.meta.url);

for (const name of ['tiny_resnet', 'mlp']) {
  test(`${name}: loadCheckpoint + forward matches MXNet 1.9.1`, async () => {
    const json = readFileSync(new URL(`${name}-symbol.json`, DATA), 'utf8');
    const params = readFileSync(new URL(`${name}-0000.params`, DATA));
    const io = readNpz(new URL(`${name}-io.npz`, DATA));
    const before = mx.memory().numHandles;
    const model = await mx.loadCheckpoint(json, params.buffer.slice(params.byteOffset,
      params.byteOffset + params.byteLength));
    const x = mx.nd.array(io.data.data, io.data.shape);
    const [y] = await model.forward({ data: x });
    assert.deepEqual(y.shape, io.output.shape);
    const got = await y.data();
    assert.ok(got instanceof Float32Array);
    let worst = 0;
    got.forEach((v, i) => {
      const want = io.output.data[i];
      worst = Math.max(worst, Math.abs(v - want) / (1e-5 + 1e-4 * Math.abs(want)));
    });
    assert.ok(worst <= 1, `max scaled error ${worst}`);
    // A second forward with the same shapes reuses the executor and gives the same bytes.
    const [y2] = await model.forward({ data: x });
    assert.deepEqual(Array.from(await y2.data()), Array.from(got));
    x.dispose(); y.dispose(); y2.dispose(); model.dispose();
    assert.equal(mx.memory().numHandles, before, 'every handle was released');
  });
}

test('forward with another batch size rebinds; a wrong input name is an InvalidArgumentError', async () => {
  const json = readFileSync(new URL('mlp-symbol.json', DATA), 'utf8');
  const params = readFileSync(new URL('mlp-0000.params', DATA));
  const model = await mx.loadCheckpoint(json, params);
  const x = mx.nd.array(new Float32Array(3 * 20).fill(0.5), [3, 20]);
  const [y] = await model.forward({ data: x });
  assert.deepEqual(y.shape, [3, 5]);
  await assert.rejects(model.forward({ nope: x }), (e) => e instanceof mx.InvalidArgumentError &&
    /not an input/.test(e.message));
  x.dispose(); y.dispose(); model.dispose();
  assert.equal(mx.memory().numHandles, 0);
});

test('a corrupt .params is a FormatError with the C error fields', async () => {
  const json = readFileSync(new URL('mlp-symbol.json', DATA), 'utf8');
  const params = new Uint8Array(readFileSync(new URL('mlp-0000.params', DATA))).slice(0, 100);
  await assert.rejects(mx.loadCheckpoint(json, params), (e) => {
    assert.ok(e instanceof mx.FormatError && e instanceof mx.MXNetError && e instanceof Error);
    assert.equal(e.code, 6);
    assert.equal(e.kind, 'FormatError');
    assert.ok(e.message.length > 0);
    return true;
  });
  assert.equal(mx.memory().numHandles, 0);
});
