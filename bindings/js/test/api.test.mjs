// The JS front end's own contract: loading (wasmPaths, wasmBinary, a helpful error for a
// non-wasm file), typed arrays in and out, generated operators, errors carrying the C error's
// fields, symbols and executors, and handles returning to zero.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import * as mx from '../src/index.js';

const DIST = new URL('../dist/', import.meta.url);

test('init: wasmBinary and wasmPaths; the engine runs to completion', async () => {
  const bytes = readFileSync(new URL('mxnext_wasm.wasm', DIST));
  assert.equal(await mx.init({ wasmBinary: bytes }), '0.1.0');
  assert.equal(await mx.init({ wasmPaths: DIST.href }), '0.1.0'); // already loaded: same
  assert.deepEqual(mx.engineInfo(), { name: 'naive', workers: 0 });
});

test('a non-wasm file (an HTML 404 page) is a LoadError that says so', async () => {
  const mod = await import(`../src/core.js?fresh=${Date.now()}`); // a second, unloaded copy
  const html = new TextEncoder().encode('<!DOCTYPE html><html>404</html>');
  await assert.rejects(mod.init({ wasmBinary: html }), (e) => e.name === 'LoadError' &&
    /expected magic 00 61 73 6d, found 3c 21 44 4f/.test(e.message) && /HTML page/.test(e.message));
  await assert.rejects(mod.init({ wasmPaths: 'file:///nonexistent/dir/' }),
    (e) => e.name === 'LoadError' && /cannot read/.test(e.message));
  // After failures the copy still loads, from a folder URL (wasmPaths).
  assert.equal(await mod.init({ wasmPaths: DIST.href }), '0.1.0');
  assert.equal(mod.memory().numHandles, 0);
});

test('typed arrays round-trip in every dtype', () => {
  const cases = [
    ['float32', new Float32Array([1.5, -2, 3.25, 0])], ['float64', new Float64Array([1e300, -2, 0.1, 4])],
    ['int32', new Int32Array([1, -2, 2147483647, 0])], ['uint8', new Uint8Array([0, 255, 7, 1])],
    ['int8', new Int8Array([-128, 127, 0, 5])], ['int64', new BigInt64Array([-(2n ** 62n), 1n, 0n, 5n])],
  ];
  for (const [dtype, data] of cases) {
    const a = mx.nd.array(data, [2, 2]);
    assert.equal(a.dtype, dtype);
    assert.deepEqual(a.shape, [2, 2]);
    assert.deepEqual(Array.from(a.dataSync()), Array.from(data));
    a.dispose();
  }
  const h = mx.nd.array([0.5, 65504, -1e-8, 1 / 3], [4], 'float16');
  assert.deepEqual(Array.from(h.dataSync()), [0x3800, 0x7bff, 0x8000, 0x3555]);
  const b = mx.nd.array([[1, 0], [2, 3]], undefined, 'bool');
  assert.deepEqual(b.shape, [2, 2]);
  assert.deepEqual(Array.from(b.dataSync()), [1, 0, 1, 1]);
  const z = mx.nd.array(new Float32Array(0), [0, 3]);
  assert.deepEqual(z.shape, [0, 3]);
  assert.equal(z.dataSync().length, 0);
  h.dispose(); b.dispose(); z.dispose();
  assert.equal(mx.memory().numArrays, 0);
});

test('generated operators: positional inputs, a params object, optional inputs left out', async () => {
  const x = mx.nd.array(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
  const w = mx.nd.ones([4, 3]);
  const y = mx.nd.FullyConnected(x, w, { num_hidden: 4, no_bias: true });
  assert.deepEqual(Array.from(await y.data()), [6, 6, 6, 6, 15, 15, 15, 15]);
  const s = mx.nd.sum(x, { axis: 1, keepdims: true });
  assert.deepEqual(s.shape, [2, 1]);
  const c = mx.nd.concat(x, x, { dim: 0 });
  const c2 = mx.nd.Concat([x, x], { dim: 1 });
  assert.deepEqual([c.shape, c2.shape], [[4, 3], [2, 6]]);
  const t = mx.nd._internal._plus_scalar(x, { scalar: 0.5 });
  assert.equal(t.dataSync()[0], 1.5);
  const out = mx.nd.zeros([2, 3]);
  mx.nd.broadcast_add(x, x, { out });
  assert.equal(out.dataSync()[5], 12);
  const v = x.reshape([3, -1]);
  assert.deepEqual(v.shape, [3, 2]);
  const r = x.at(1);
  assert.deepEqual(Array.from(r.dataSync()), [4, 5, 6]);
  for (const a of [x, w, y, s, c, c2, t, out, v, r]) a.dispose();
  assert.equal(mx.memory().numHandles, 0);
});

test('errors are Error subclasses with code, kind, message, opName, argIndex, axis', () => {
  const a = mx.nd.ones([2, 3]);
  const b = mx.nd.ones([4, 5]);
  assert.throws(() => mx.nd.broadcast_add(a, b), (e) => {
    assert.ok(e instanceof mx.ShapeError && e instanceof mx.MXNetError && e instanceof Error);
    assert.equal(e.code, 2);
    assert.equal(e.kind, 'ShapeError');
    assert.equal(e.opName, 'broadcast_add');
    assert.equal(typeof e.message, 'string');
    assert.ok(e.message.includes('broadcast_add'));
    assert.ok(typeof e.stack === 'string');
    return true;
  });
  assert.throws(() => mx.nd.sum(a, { axis: 5 }), (e) => e instanceof mx.MXNetError && e.axis === 5);
  assert.throws(() => mx.nd.array([1, 2], [2], 'complex64'), (e) => e instanceof mx.DTypeError);
  assert.throws(() => mx.nd.Activation(a, { act_type: 'nope' }),
    (e) => e instanceof mx.InvalidArgumentError && e.code === 1 && e.opName === 'Activation');
  a.dispose();
  assert.throws(() => a.shape, (e) => e.name === 'DisposedError');
  a.dispose(); // twice is fine
  b.dispose();
  assert.equal(mx.memory().numHandles, 0);
});

test('Symbol from JSON, simpleBind, forward and backward through the executor ABI', () => {
  const data = mx.sym.Variable('data');
  const fc = mx.sym.FullyConnected(data, { num_hidden: 2, name: 'fc' });
  const out = mx.sym.Activation(fc, { act_type: 'relu', name: 'relu' });
  const net = mx.sym.fromJSON(out.toJSON());
  assert.deepEqual(net.listArguments(), ['data', 'fc_weight', 'fc_bias']);
  assert.deepEqual(net.listOutputs(), ['relu_output']);
  const shapes = net.inferShape({ data: [3, 4] });
  assert.deepEqual(shapes, { args: [[3, 4], [2, 4], [2]], outputs: [[3, 2]], aux: [] });
  const exe = net.simpleBind({ shapes: { data: [3, 4] }, gradReq: 'write' });
  const x = mx.nd.array(new Float32Array(12).fill(1), [3, 4]);
  const w = mx.nd.array(new Float32Array([1, 1, 1, 1, -1, -1, -1, -1]), [2, 4]);
  x.copyTo(exe.argDict.data); w.copyTo(exe.argDict.fc_weight);
  const [y] = exe.forward(true);
  assert.deepEqual(Array.from(y.dataSync()), [4, 0, 4, 0, 4, 0]);
  exe.backward([]);
  assert.deepEqual(Array.from(exe.gradDict.fc_weight.dataSync()), [3, 3, 3, 3, 0, 0, 0, 0]);
  assert.equal(typeof exe.memoryReport(), 'object');
  for (const h of [data, fc, out, net, exe, x, w]) h.dispose();
  assert.equal(mx.memory().numHandles, 0);
});

test('.params bytes: saveToBuffer / loadFromBuffer round trip (MXNet format)', () => {
  const a = mx.nd.array(new Float32Array([1, 2, 3]), [3]);
  const bytes = mx.nd.saveToBuffer({ 'arg:a': a });
  assert.equal(new DataView(bytes.buffer).getUint32(0, true), 0x112);
  const back = mx.nd.loadFromBuffer(bytes);
  assert.deepEqual(Object.keys(back), ['arg:a']);
  assert.deepEqual(Array.from(back['arg:a'].dataSync()), [1, 2, 3]);
  a.dispose(); back['arg:a'].dispose();
  assert.equal(mx.memory().numHandles, 0);
});

test('leak check: 200 inferences leave no handle and no growing pool', async () => {
  const x = mx.nd.ones([8, 16]);
  const w = mx.nd.ones([4, 16]);
  const run = () => {
    const y = mx.nd.FullyConnected(x, w, { num_hidden: 4, no_bias: true });
    const z = mx.nd.softmax(y);
    z.dataSync();
    y.dispose(); z.dispose();
  };
  run();
  const live = mx.memory().liveBytes;
  for (let i = 0; i < 200; i++) run();
  const m = mx.memory();
  assert.equal(m.numHandles, 2);
  assert.equal(m.liveBytes, live);
  x.dispose(); w.dispose();
  assert.equal(mx.memory().numHandles, 0);
});

test('tests/abi/abi_layout_test.c compiled for wasm32 runs', () => {
  const exe = new URL('../../../build/wasm/bindings/js/abi_layout_test.cjs', import.meta.url);
  // Emscripten 3.1.6's node loader would fetch() its .wasm by path when node has fetch.
  const out = execFileSync(process.execPath, ['--no-experimental-fetch', exe.pathname],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.match(out, /^ABI \d+: layouts pinned \(4-byte pointers\)/);
});
