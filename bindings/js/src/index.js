// mxnext for JavaScript: `import * as mx from 'mxnext'` (node 20+ and browsers, ES modules).
// The core and its C ABI run as WebAssembly; this package only talks to the C ABI.
import * as core from './core.js';
import * as ndm from './ndarray.js';
import * as genNd from './gen/ops.js';
import * as genSym from './gen/symbol_ops.js';
import * as sym from './symbol.js';
import * as kvm from './kvstore.js';

export {
  init, memory, version, isLoaded, MXNetError, InvalidArgumentError, ShapeError, DTypeError,
  OutOfMemoryError, IOError, FormatError, DeviceError, NotImplementedError, PeerLostError,
  TimeoutError, InterruptedError, InternalError, LoadError, DisposedError, DTYPES,
} from './core.js';
export { NDArray } from './ndarray.js';
export { Symbol, Executor, Model, loadCheckpoint } from './symbol.js';
export { KVStore, Optimizer } from './kvstore.js';

function split(gen) {
  const pub = {}; const internal = {};
  for (const [k, v] of Object.entries(gen)) (k.startsWith('_') ? internal : pub)[k] = v;
  return { pub, internal };
}
const ndOps = split(genNd);
const symOps = split(genSym);

/** Imperative arrays and every registry operator (mx.nd.Convolution, mx.nd.broadcast_add ...);
 * underscore operators under mx.nd._internal. */
export const nd = Object.freeze({
  ...ndOps.pub,
  _internal: Object.freeze(ndOps.internal),
  NDArray: ndm.NDArray,
  array: ndm.array,
  empty: ndm.empty,
  zeros: ndm.zeros,
  ones: ndm.ones,
  waitall: ndm.waitall,
  invoke: ndm.invoke,
  save: ndm.save,
  load: ndm.load,
  saveToBuffer: ndm.saveToBuffer,
  loadFromBuffer: ndm.loadFromBuffer,
});

/** Symbols: mx.sym.Variable, mx.sym.fromJSON, mx.sym.Group and every registry operator. */
export const sym_ = Object.freeze({
  ...symOps.pub,
  _internal: Object.freeze(symOps.internal),
  Variable: (name) => sym.Symbol.variable(name),
  var: (name) => sym.Symbol.variable(name),
  fromJSON: (json) => sym.Symbol.fromJSON(json),
  load_json: (json) => sym.Symbol.fromJSON(json),
  Group: (symbols) => sym.Symbol.group(symbols),
  compose: sym.compose,
});
export { sym_ as sym, sym_ as symbol };

/** Key-value stores (MXNet's mx.kv): mx.kv.create('local' | 'device'). */
export const kv = Object.freeze({ create: kvm.create, KVStore: kvm.KVStore });

/** The core's optimizers by name: mx.optimizer.create('sgd', {learning_rate: 0.1, ...}). */
export const optimizer = Object.freeze({ create: kvm.createOptimizer, Optimizer: kvm.Optimizer });

/** mx.random.seed(n): the counter-based generator (same numbers in every language). */
export const random = Object.freeze({
  seed(value) {
    const m = core.module();
    core.check(m, m._mxn_random_seed(BigInt(value)));
  },
});

/** MXNet's checkpoint pair as bytes: {symbolJson, params}, for files or downloads. */
export function saveCheckpoint(symbol, argParams, auxParams) {
  return sym.checkpointBytes(symbol, argParams, auxParams, ndm.saveToBuffer);
}

/** The engine in use ("naive": operations run to completion at once on the calling thread). */
export function engineInfo() {
  return core.withStack((m) => {
    const n = core.alloc(m, 4); const w = core.alloc(m, 4);
    core.check(m, m._mxn_engine_info(n, w));
    return { name: core.readStr(m, m.HEAPU32[n >> 2]), workers: m.HEAP32[w >> 2] };
  });
}

/** The module's in-memory file system (Emscripten's FS), for mx.nd.save / mx.nd.load paths. */
export function fs() { return core.module().FS; }
