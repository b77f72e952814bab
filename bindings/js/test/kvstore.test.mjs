// mx.kv and mx.optimizer: push sums a key's arrays, pull fills existing arrays, pushpull, an
// optimizer on the store (its state in the core), errors with the C fields, no handle left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as mx from '../src/index.js';

const f32 = (v, shape) => mx.nd.array(new Float32Array(v), shape);

test('push sums the arrays of a key; pull copies into every output', async () => {
  await mx.init({ wasmPaths: new URL('../dist/', import.meta.url).href });
  const kv = mx.kv.create('local');
  assert.deepEqual([kv.type, kv.rank, kv.numWorkers], ['local', 0, 1]);
  const a = f32([1, 2, 3, 4], [2, 2]);
  const g1 = f32([1, 1, 1, 1], [2, 2]);
  const g2 = f32([0.5, 0.5, 0.5, 0.5], [2, 2]);
  const o1 = mx.nd.zeros([2, 2]);
  const o2 = mx.nd.zeros([2, 2], 'float64');
  kv.init(3, a);
  assert.equal(kv.pull(3, [o1, o2])[0], o1);
  assert.deepEqual(Array.from(o2.dataSync()), [1, 2, 3, 4]); // converted to float64
  kv.push(3, [g1, g2]);
  kv.pull(3, o1);
  assert.deepEqual(Array.from(o1.dataSync()), [1.5, 1.5, 1.5, 1.5]);
  // several keys (ints and strings): one entry per key
  const b = f32([7, 8], [2]);
  const ob = mx.nd.zeros([2]);
  kv.init(['bias', 5], [b, a]);
  kv.push(['bias', 5], [[b, b], g1], { priority: -1 });
  kv.pull(['bias', 5], [ob, [o1]], { priority: 2 });
  assert.deepEqual(Array.from(ob.dataSync()), [14, 16]);
  assert.deepEqual(Array.from(o1.dataSync()), [1, 1, 1, 1]);
  // pushpull into outputs, then back into the pushed arrays
  kv.pushpull(3, [g1, g1], o1);
  assert.deepEqual(Array.from(o1.dataSync()), [2, 2, 2, 2]);
  kv.pushpull(3, [g1, g2]);
  assert.deepEqual(Array.from(g2.dataSync()), [1.5, 1.5, 1.5, 1.5]);
  for (const h of [kv, a, g1, g2, o1, o2, b, ob]) h.dispose();
  assert.equal(mx.memory().numHandles, 0);
});

test('an optimizer on the store updates the stored weight at every push', () => {
  const kv = mx.kv.create();
  const opt = mx.optimizer.create('sgd', { learning_rate: 0.5, momentum: 0.5, wd: 0.25, rescale_grad: 0.5 });
  kv.setOptimizer(opt);
  opt.dispose(); // the store shares it
  let w = [1, -2, 0.5];
  let mom = [0, 0, 0];
  const w0 = f32(w, [3]);
  kv.init('fc_weight', w0);
  w0.dispose(); // the store keeps its own copy
  const o = mx.nd.zeros([3]);
  for (let t = 1; t <= 3; t++) {
    const g = [1 * t, 0.5 * t, -2 * t];
    const half = f32(g.map((x) => x / 2), [3]);
    kv.push('fc_weight', [half, half]);
    kv.pull('fc_weight', o);
    mom = mom.map((m, i) => 0.5 * m - 0.5 * 0.25 * w[i] - 0.5 * 0.5 * g[i]);
    w = w.map((x, i) => x + mom[i]);
    assert.deepEqual(Array.from(o.dataSync()), w);
    half.dispose();
  }
  kv.dispose(); o.dispose();
  assert.equal(mx.memory().numHandles, 0);
});

test('errors carry the C fields; bad arguments are InvalidArgumentError', () => {
  const kv = mx.kv.create('local');
  const a = mx.nd.ones([2, 3]);
  const bad = mx.nd.ones([3, 2]);
  assert.throws(() => kv.pull(3, a), (e) => e instanceof mx.InvalidArgumentError && e.code === 1);
  kv.init(3, a);
  assert.throws(() => kv.init(3, a), (e) => e instanceof mx.InvalidArgumentError);
  assert.throws(() => kv.push(3, [a, bad]), (e) => e instanceof mx.ShapeError && e.argIndex === 1);
  assert.throws(() => mx.kv.create('dist_async'), (e) => e instanceof mx.NotImplementedError && e.code === 8);
  assert.throws(() => mx.optimizer.create('nope'), (e) => e instanceof mx.InvalidArgumentError);
  assert.throws(() => kv.push(1.5, a), (e) => e instanceof mx.InvalidArgumentError && e.argIndex === 0);
  assert.throws(() => kv.push([1, 2], [a]), /one entry per key/);
  assert.throws(() => kv.push(3, []), /non-empty array of NDArrays/);
  assert.throws(() => kv.setOptimizer({}), /Optimizer/);
  for (const h of [kv, a, bad]) h.dispose();
  assert.equal(mx.memory().numHandles, 0);
});
