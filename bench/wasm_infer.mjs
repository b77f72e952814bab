#!/usr/bin/env node
// Inference in node, batch 1, 3x224x224 float32: mxnext (the core in WebAssembly, SIMD, one
// thread) next to onnxruntime-web (npm, wasm backend, SIMD, numThreads 1) on the same
// architecture and weights (bench/make_wasm_models.py writes both files).
//
//   .venv/bin/pip install onnx && .venv/bin/python bench/make_wasm_models.py
//   (cd bench && npm ci) && bash bindings/js/build.sh
//   node bench/wasm_infer.mjs [--runs 10]      -> bench/results/wasm_infer.json
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import * as mx from '../bindings/js/src/index.js';

const require = createRequire(import.meta.url);
const ort = await import(require.resolve('onnxruntime-web'));
const MODELS = new URL('results/wasm_models/', import.meta.url);
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 10;
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

ort.env.wasm.numThreads = 1;
ort.env.wasm.simd = true;
await mx.init();

const input = new Float32Array(3 * 224 * 224);
for (let i = 0; i < input.length; i++) input[i] = Math.sin(i * 0.37) * 0.5;

const results = { runs, node: process.version, ortVersion: ort.env.versions?.web ?? 'unknown',
  threads: 1, models: {} };
for (const name of ['resnet18', 'mobilenet']) {
  const json = readFileSync(new URL(`${name}-symbol.json`, MODELS), 'utf8');
  const params = readFileSync(new URL(`${name}-0000.params`, MODELS));
  const model = await mx.loadCheckpoint(json, params);
  const x = mx.nd.array(input, [1, 3, 224, 224]);
  const session = await ort.InferenceSession.create(readFileSync(new URL(`${name}.onnx`, MODELS)),
    { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const feeds = { data: new ort.Tensor('float32', input, [1, 3, 224, 224]) };
  // Interleaved, so load from other processes on the machine hits both alike.
  const mxTimes = []; const ortTimes = [];
  let mxOut; let ortOut;
  for (let r = 0; r < runs + 2; r++) {
    let t0 = performance.now();
    const [y] = await model.forward({ data: x });
    mxOut = await y.data();
    let dt = performance.now() - t0;
    y.dispose();
    if (r >= 2) mxTimes.push(dt);
    t0 = performance.now();
    const out = await session.run(feeds);
    ortOut = out.output.data;
    dt = performance.now() - t0;
    if (r >= 2) ortTimes.push(dt);
  }
  x.dispose(); model.dispose();
  await session.release();
  let maxDiff = 0;
  for (let i = 0; i < mxOut.length; i++) maxDiff = Math.max(maxDiff, Math.abs(mxOut[i] - ortOut[i]));
  const r = { mxnext_ms: median(mxTimes), onnxruntime_web_ms: median(ortTimes),
    ratio_ort_over_mxnext: median(ortTimes) / median(mxTimes), max_abs_diff: maxDiff };
  results.models[name] = r;
  console.log(`${name}: mxnext ${r.mxnext_ms.toFixed(1)} ms, onnxruntime-web ` +
    `${r.onnxruntime_web_ms.toFixed(1)} ms (mxnext speed = ${r.ratio_ort_over_mxnext.toFixed(2)}x ` +
    `ORT's), outputs max |diff| ${maxDiff.toExponential(2)}`);
}
mkdirSync(new URL('results/', import.meta.url), { recursive: true });
writeFileSync(new URL('results/wasm_infer.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
console.log(`handles left: ${mx.memory().numHandles}`);
