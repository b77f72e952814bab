#!/usr/bin/env node
// JavaScript conformance runner: interprets tests/conformance/cases/*.json with the mxnext npm
// package (bindings/js, the core in WebAssembly).
//
//   node tests/conformance/run_js.mjs [--results FILE] [--filter SUBSTR] [-v]
//
// Writes the same results lines as run_python.py (README.md) and ends with `N passed, M failed`.
// Files (save_params, checkpoints) live in the module's in-memory file system.
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as mx from '../../bindings/js/src/index.js';
import { f16value } from '../../bindings/js/src/ndarray.js';

const HERE = dirname(fileURLToPath(import.meta.url));
class CaseFailure extends Error {}

const num = (v) => (typeof v === 'string' ? { nan: NaN, inf: Infinity, '-inf': -Infinity }[v] : v);
const fmtInt = (v) => (v === null || v === undefined ? '-' : String(v));
const shapeStr = (s) => `(${s.join(',')})`;
const hex = (u8) => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength).toString('hex');

function loadCases(pattern) {
  const cases = [];
  for (const f of readdirSync(join(HERE, 'cases')).filter((n) => n.endsWith('.json')).sort()) {
    cases.push(...JSON.parse(readFileSync(join(HERE, 'cases', f), 'utf8')).cases);
  }
  return pattern ? cases.filter((c) => c.id.includes(pattern)) : cases;
}

function makeArray(step) {
  const vals = step.values.map(num);
  const floats = ['float32', 'float64', 'float16'].includes(step.dtype);
  let data;
  if (floats) data = step.dtype === 'float16' ? vals : Float64Array.from(vals);
  else data = vals.map((v) => BigInt(v));
  if (!floats) {
    // NumPy: int64 values, then astype(dtype) (wraps; bool is value != 0).
    const conv = {
      uint8: (b) => Number(BigInt.asUintN(8, b)), int8: (b) => Number(BigInt.asIntN(8, b)),
      int32: (b) => Number(BigInt.asIntN(32, b)), int64: (b) => b, bool: (b) => (b !== 0n ? 1 : 0),
    }[step.dtype];
    data = data.map(conv);
  }
  return mx.nd.array(data, step.shape, step.dtype);
}

function findFn(ns, name) {
  const fn = ns[name] || ns._internal[name];
  if (!fn) throw new Error(`no operator ${name}`);
  return fn;
}

function values64(a) {
  const t = a.dataSync();
  if (a.dtype === 'float16') return Array.from(t, f16value);
  return Array.from(t, Number);
}

class Runner {
  constructor() { this.lines = []; this.fileNo = 0; }
  record(cid, i, kind, payload) { this.lines.push(`${cid}\t${i}\t${kind}\t${payload}`); }
  recordError(cid, i, e) {
    this.record(cid, i, 'error', `${e.code ?? '-'} ${fmtInt(e.argIndex)} ${fmtInt(e.axis)}`);
  }
  expectError(cid, i, expected, fn) {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof mx.MXNetError)) throw e;
      this.recordError(cid, i, e);
      let got = [e.code, e.argIndex, e.axis];
      let want = [expected.code, expected.arg_index ?? null, expected.axis ?? null];
      if ((expected.arg_index ?? null) === null && (expected.axis ?? null) === null) {
        got = got.slice(0, 1); want = want.slice(0, 1);
      }
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        throw new CaseFailure(`step ${i}: expected error ${JSON.stringify(want)}, got ` +
          `${JSON.stringify(got)}: ${e.message}`);
      }
      return;
    }
    throw new CaseFailure(`step ${i}: expected error code ${expected.code}, got success`);
  }

  runCase(c, slots) {
    const cid = c.id;
    const path = (f) => `${this.dir}/${f}`;
    c.steps.forEach((step, i) => {
      switch (step.do) {
        case 'array': slots[step.slot] = makeArray(step); break;
        case 'seed': mx.random.seed(step.value); break;
        case 'invoke': {
          const fn = findFn(mx.nd, step.fn);
          const inputs = step.inputs.map((s) => slots[s]);
          const call = () => {
            const out = fn(...inputs, { ...step.params });
            const outs = Array.isArray(out) ? out : [out];
            outs.forEach((o) => o.waitToRead());
            return outs;
          };
          if (step.error) { this.expectError(cid, i, step.error, call); break; }
          const outs = call();
          if (outs.length !== step.outputs.length) {
            throw new CaseFailure(`step ${i}: ${outs.length} outputs, expected ${step.outputs.length}`);
          }
          step.outputs.forEach((n, k) => { slots[n] = outs[k]; });
          break;
        }
        case 'check': this.check(cid, i, step, slots[step.slot]); break;
        case 'check_range': {
          const a = slots[step.slot];
          this.record(cid, i, 'array', `${a.dtype} ${shapeStr(a.shape)} ${hex(a.bytes())}`);
          if (a.dtype !== step.dtype || JSON.stringify(a.shape) !== JSON.stringify(step.shape)) {
            throw new CaseFailure(`step ${i}: got ${a.dtype}${shapeStr(a.shape)}`);
          }
          const v = values64(a);
          if (v.length && (Math.min(...v) < step.min || Math.max(...v) > step.max)) {
            throw new CaseFailure(`step ${i}: values outside [${step.min}, ${step.max}]`);
          }
          break;
        }
        case 'check_same':
          if (hex(slots[step.slot].bytes()) !== hex(slots[step.like].bytes())) {
            throw new CaseFailure(`step ${i}: ${step.slot} differs from ${step.like}`);
          }
          break;
        case 'check_sorted_equal': {
          const a = slots[step.slot];
          this.record(cid, i, 'array', `${a.dtype} ${shapeStr(a.shape)} ${hex(a.bytes())}`);
          const got = values64(a).sort((x, y) => x - y);
          if (JSON.stringify(got) !== JSON.stringify(step.values.map(num))) {
            throw new CaseFailure(`step ${i}: not a permutation`);
          }
          break;
        }
        case 'variable': slots[step.slot] = mx.sym.Variable(step.name); break;
        case 'compose': {
          const fn = findFn(mx.sym, step.fn);
          slots[step.out] = fn(...step.args.map((s) => slots[s]), { ...step.params, name: step.name });
          break;
        }
        case 'list': {
          const s = slots[step.sym];
          const names = { arguments: () => s.listArguments(), outputs: () => s.listOutputs(),
            aux_states: () => s.listAuxiliaryStates() }[step.kind]();
          this.record(cid, i, 'names', names.join(','));
          if (JSON.stringify(names) !== JSON.stringify(step.expect)) {
            throw new CaseFailure(`step ${i}: ${step.kind} ${names} != ${step.expect}`);
          }
          break;
        }
        case 'infer_shape': {
          const s = slots[step.sym];
          if (step.error) { this.expectError(cid, i, step.error, () => s.inferShape(step.shapes)); break; }
          const r = s.inferShape(step.shapes);
          const got = { arguments: r.args, outputs: r.outputs, aux_states: r.aux };
          this.record(cid, i, 'shapes', ['arguments', 'outputs', 'aux_states']
            .map((k) => got[k].map(shapeStr).join(' ')).join(';'));
          if (JSON.stringify(got) !== JSON.stringify({ arguments: step.expect.arguments,
            outputs: step.expect.outputs, aux_states: step.expect.aux_states })) {
            throw new CaseFailure(`step ${i}: inferred ${JSON.stringify(got)}`);
          }
          break;
        }
        case 'simple_bind': {
          const exe = slots[step.sym].simpleBind({ shapes: step.shapes, gradReq: step.grad_req });
          for (const [name, slot] of Object.entries(step.args)) slots[slot].copyTo(exe.argDict[name]);
          slots[step.exec] = exe;
          break;
        }
        case 'forward': {
          const exe = slots[step.exec];
          exe.forward(step.is_train);
          step.outputs.forEach((n, k) => { slots[n] = exe.outputs[k]; });
          break;
        }
        case 'backward': slots[step.exec].backward(step.head_grads.map((s) => slots[s])); break;
        case 'grad': slots[step.out] = slots[step.exec].gradDict[step.name]; break;
        case 'symbol_json': slots[step.out] = mx.sym.load_json(slots[step.sym].toJSON()); break;
        case 'write_file': mx.fs().writeFile(path(step.file), Buffer.from(step.hex, 'hex')); break;
        case 'save_params': {
          const arrays = step.arrays.map((s) => slots[s]);
          const data = step.names === null ? arrays
            : Object.fromEntries(step.names.map((n, k) => [n, arrays[k]]));
          mx.nd.save(path(step.file), data);
          const got = hex(mx.fs().readFile(path(step.file)));
          this.record(cid, i, 'file', got);
          if (got !== step.hex) throw new CaseFailure(`step ${i}: file bytes differ from the reference`);
          break;
        }
        case 'load_params': {
          if (step.error) { this.expectError(cid, i, step.error, () => mx.nd.load(path(step.file))); break; }
          const loaded = mx.nd.load(path(step.file));
          const names = Array.isArray(loaded) ? null : Object.keys(loaded);
          const arrays = Array.isArray(loaded) ? loaded : Object.values(loaded);
          this.record(cid, i, 'names', names === null ? '-' : names.join(','));
          if (JSON.stringify(names) !== JSON.stringify(step.names)) {
            throw new CaseFailure(`step ${i}: names ${names} != ${step.names}`);
          }
          step.outputs.forEach((s, k) => { slots[s] = arrays[k]; });
          arrays.slice(step.outputs.length).forEach((a, k) => { slots[`__extra${i}_${k}`] = a; });
          break;
        }
        case 'save_checkpoint': {
          const args = Object.fromEntries(Object.entries(step.arg_params).map(([k, v]) => [k, slots[v]]));
          const aux = Object.fromEntries(Object.entries(step.aux_params).map(([k, v]) => [k, slots[v]]));
          const { symbolJson, params } = mx.saveCheckpoint(slots[step.sym], args, aux);
          const prefix = path(step.prefix);
          mx.fs().writeFile(`${prefix}-symbol.json`, symbolJson);
          mx.fs().writeFile(`${prefix}-${String(step.epoch).padStart(4, '0')}.params`, params);
          break;
        }
        case 'load_checkpoint': {
          const prefix = path(step.prefix);
          const sym = mx.sym.fromJSON(mx.fs().readFile(`${prefix}-symbol.json`, { encoding: 'utf8' }));
          const loaded = mx.nd.load(`${prefix}-${String(step.epoch).padStart(4, '0')}.params`);
          slots[step.sym] = sym;
          const arg = {}; const aux = {};
          for (const [k, v] of Object.entries(loaded)) {
            (k.startsWith('aux:') ? aux : arg)[k.slice(4)] = v;
            slots[`__ckpt${i}_${k}`] = v;
          }
          for (const [k, v] of Object.entries(step.arg_params)) slots[v] = arg[k];
          for (const [k, v] of Object.entries(step.aux_params)) slots[v] = aux[k];
          break;
        }
        default:
          if (step.do.startsWith('kv_')) { this.kvStep(cid, i, step, slots); break; }
          throw new CaseFailure(`step ${i}: unknown step ${step.do}`);
      }
    });
  }

  // KVStore steps (README.md): a single key goes in the one-key form (key, [arrays]), several
  // keys as arrays; pull outputs are existing slots, written in place.
  kvStep(cid, i, step, slots) {
    const keys = step.keys;
    const one = keys !== undefined && keys.length === 1;
    const key = one ? keys[0] : keys;
    const arrays = (groups) => {
      const g = groups.map((grp) => grp.map((s) => slots[s]));
      return one ? g[0] : g;
    };
    const opts = { priority: step.priority ?? 0 };
    const store = () => slots[step.kv];
    let call;
    switch (step.do) {
      case 'kv_create': call = () => mx.kv.create(step.type); break;
      case 'kv_init': {
        const vals = step.values.map((s) => slots[s]);
        call = () => store().init(key, one ? vals[0] : vals);
        break;
      }
      case 'kv_push': call = () => store().push(key, arrays(step.values), opts); break;
      case 'kv_pull': call = () => store().pull(key, arrays(step.outputs), opts); break;
      case 'kv_pushpull':
        call = () => store().pushpull(key, arrays(step.values),
          step.outputs === null ? null : arrays(step.outputs), opts);
        break;
      case 'kv_set_optimizer':
        call = () => {
          const opt = mx.optimizer.create(step.optimizer, { ...step.params });
          try { store().setOptimizer(opt); } finally { opt.dispose(); } // the store shares it
        };
        break;
      default: throw new CaseFailure(`step ${i}: unknown step ${step.do}`);
    }
    if (step.error) { this.expectError(cid, i, step.error, call); return; }
    const result = call();
    if (step.do === 'kv_create') slots[step.kv] = result;
  }

  check(cid, i, step, a) {
    const raw = hex(a.bytes());
    this.record(cid, i, 'array', `${a.dtype} ${shapeStr(a.shape)} ${raw}`);
    if (a.dtype !== step.dtype || JSON.stringify(a.shape) !== JSON.stringify(step.shape)) {
      throw new CaseFailure(`step ${i}: got ${a.dtype}${shapeStr(a.shape)}, expected ` +
        `${step.dtype}${shapeStr(step.shape)}`);
    }
    if (step.hex !== undefined) {
      if (raw !== step.hex) throw new CaseFailure(`step ${i}: bytes differ: got ${values64(a)} expected ${step.values}`);
      return;
    }
    const got = values64(a);
    const want = step.values.map(num);
    const ok = got.every((g, k) => {
      const w = want[k];
      if (Number.isNaN(g) || Number.isNaN(w)) return Number.isNaN(g) && Number.isNaN(w);
      if (!Number.isFinite(g) || !Number.isFinite(w)) return g === w;
      return Math.abs(g - w) <= step.atol + step.rtol * Math.abs(w);
    });
    if (!ok || got.length !== want.length) {
      throw new CaseFailure(`step ${i}: values differ beyond rtol=${step.rtol} atol=${step.atol}: ` +
        `got ${got} expected ${want}`);
    }
  }
}

function disposeAll(slots) {
  for (const v of Object.values(slots)) if (v && typeof v.dispose === 'function') v.dispose();
}

export async function main(argv) {
  const args = { results: null, filter: null, verbose: false };
  for (let k = 0; k < argv.length; k++) {
    if (argv[k] === '--results') args.results = argv[++k];
    else if (argv[k] === '--filter') args.filter = argv[++k];
    else if (argv[k] === '-v' || argv[k] === '--verbose') args.verbose = true;
  }
  await mx.init();
  const cases = loadCases(args.filter);
  const runner = new Runner();
  runner.dir = '/conformance';
  mx.fs().mkdir(runner.dir);
  let passed = 0; let failed = 0;
  for (const c of cases) {
    let problem = null;
    const slots = {};
    try {
      runner.runCase(c, slots);
    } catch (e) {
      if (e instanceof CaseFailure) problem = e.message;
      else {
        runner.record(c.id, '-', 'exception', `${e instanceof mx.MXNetError ? e.code : '-'}`);
        problem = `${e.name}: ${e.message}`;
      }
    }
    disposeAll(slots);
    if (problem === null) {
      passed++;
      if (args.verbose) console.log(`PASS ${c.id}`);
    } else {
      failed++;
      console.log(`FAIL ${c.id}: ${problem}`);
    }
  }
  if (args.results) {
    mkdirSync(dirname(resolve(args.results)), { recursive: true });
    writeFileSync(args.results, `${runner.lines.join('\n')}\n`);
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((rc) => { process.exitCode = rc; });
}
