// mx.kv and mx.optimizer: the core's KVStore (mxn_kvstore_*) and optimizers (mxn_optimizer_*).
// push sums the arrays given for a key, then the store's optimizer updates the stored weight
// (its state lives in the core) or the sum replaces the value; pull copies into existing
// arrays. Keys are integers or strings, passed to the core as typed values. Optimizer
// parameters are typed by their JS value (an integer number goes as an int, which the core
// converts for a float parameter; true/false as a bool; null as "not given").
import {
  Handle, module, withStack, alloc, allocI32, allocPtrs, allocStr, allocParams, readStr, u32,
  i32, check, writeValue, InvalidArgumentError,
} from './core.js';
import { NDArray } from './ndarray.js';

function badArg(message) {
  return new InvalidArgumentError({ code: 1, kind: 'InvalidArgument', message });
}

const isKey = (k) => typeof k === 'string' || typeof k === 'number' || typeof k === 'bigint';

/** MXNet's accepted forms: one key with an NDArray or an array of them, or an array of keys
 * with one entry (an NDArray or an array of them) per key. -> {keys, groups}. */
function normalize(keys, values, what) {
  const group = (v) => {
    const g = v instanceof NDArray ? [v] : v;
    if (!Array.isArray(g) || g.length === 0 || !g.every((a) => a instanceof NDArray)) {
      throw badArg(`${what}: every key needs an NDArray or a non-empty array of NDArrays`);
    }
    return g;
  };
  if (isKey(keys)) return { keys: [keys], groups: [group(values)] };
  if (!Array.isArray(keys) || !keys.every(isKey)) {
    throw badArg('keys must be an integer, a string, or an array of them');
  }
  if (!Array.isArray(values) || values.length !== keys.length) {
    throw badArg(`${what} must hold one entry per key (${keys.length} keys)`);
  }
  return { keys, groups: values.map(group) };
}

function allocKeys(m, keys) {
  const p = alloc(m, 16 * keys.length);
  keys.forEach((k, i) => writeValue(m, p + 16 * i, k));
  return p;
}

function allocGroups(m, groups) {
  return {
    counts: allocI32(m, groups.map((g) => g.length)),
    arrays: allocPtrs(m, groups.flat().map((a) => a.ptr)),
  };
}

/** An optimizer of the core ("sgd", "nag", "adam", "rmsprop", "adagrad", "adadelta", "ftrl",
 * "signum") with its schema parameters (learning_rate, wd, rescale_grad, momentum, ...). */
export class Optimizer extends Handle {
  constructor(name, params = {}) {
    const ptr = withStack((m) => {
      const p = allocParams(m, params);
      const o = alloc(m, 4);
      check(m, m._mxn_optimizer_create(allocStr(m, name), p.n, p.keys, p.values, o));
      return u32(m, o);
    });
    super(ptr, 'optimizer', '_mxn_optimizer_free');
    this.name = name;
  }
}

/** MXNet's KVStore ("local" or "device"). dispose() when done. */
export class KVStore extends Handle {
  constructor(type = 'local') {
    const ptr = withStack((m) => {
      const o = alloc(m, 4);
      check(m, m._mxn_kvstore_create(allocStr(m, type), o));
      return u32(m, o);
    });
    super(ptr, 'kvstore', '_mxn_kvstore_free');
  }

  _info() {
    return withStack((m) => {
      const t = alloc(m, 4); const r = alloc(m, 4); const n = alloc(m, 4);
      check(m, m._mxn_kvstore_info(this.ptr, t, r, n));
      return { type: readStr(m, u32(m, t)), rank: i32(m, r), numWorkers: i32(m, n) };
    });
  }
  get type() { return this._info().type; }
  get rank() { return this._info().rank; }
  get numWorkers() { return this._info().numWorkers; }

  /** Stores a copy of one array per key. */
  init(keys, values) {
    const n = normalize(keys, values, 'values');
    if (n.groups.some((g) => g.length !== 1)) throw badArg('init takes one NDArray per key');
    withStack((m) => check(m, m._mxn_kvstore_init(this.ptr, n.keys.length, allocKeys(m, n.keys),
      allocPtrs(m, n.groups.map((g) => g[0].ptr)))));
    return this;
  }

  /** Sums the arrays of each key, then updates (optimizer) or stores the sum. */
  push(keys, values, { priority = 0 } = {}) {
    const n = normalize(keys, values, 'values');
    withStack((m) => {
      const g = allocGroups(m, n.groups);
      check(m, m._mxn_kvstore_push(this.ptr, n.keys.length, allocKeys(m, n.keys), g.counts,
        g.arrays, priority));
    });
    return this;
  }

  /** Copies each key's value into existing arrays (in place; another dtype is converted). */
  pull(keys, out, { priority = 0 } = {}) {
    const n = normalize(keys, out, 'out');
    withStack((m) => {
      const g = allocGroups(m, n.groups);
      check(m, m._mxn_kvstore_pull(this.ptr, n.keys.length, allocKeys(m, n.keys), g.counts,
        g.arrays, priority));
    });
    return out;
  }

  /** push then pull; out null/undefined pulls back into the pushed arrays. */
  pushpull(keys, values, out = null, { priority = 0 } = {}) {
    const n = normalize(keys, values, 'values');
    const o = out == null ? null : normalize(keys, out, 'out');
    withStack((m) => {
      const g = allocGroups(m, n.groups);
      const go = o === null ? { counts: 0, arrays: 0 } : allocGroups(m, o.groups);
      check(m, m._mxn_kvstore_pushpull(this.ptr, n.keys.length, allocKeys(m, n.keys), g.counts,
        g.arrays, go.counts, go.arrays, priority));
    });
    return out == null ? values : out;
  }

  /** Updates on the store with this optimizer (shared: it may be disposed afterwards). */
  setOptimizer(optimizer) {
    if (!(optimizer instanceof Optimizer)) throw badArg('setOptimizer needs an mx.optimizer.Optimizer');
    const m = module();
    check(m, m._mxn_kvstore_set_optimizer(this.ptr, optimizer.ptr));
    return this;
  }
}

/** mx.kv.create(type): a KVStore ("local" or "device"). */
export function create(type = 'local') { return new KVStore(type); }

/** mx.optimizer.create(name, params): an Optimizer. */
export function createOptimizer(name, params = {}) { return new Optimizer(name, params); }
