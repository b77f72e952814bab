// mx.nd: arrays backed by the core's storage (wasm memory), read back as typed arrays.
import {
  Handle, module, withStack, alloc, allocI64, allocPtrs, allocStr, allocParams, readI64s, u32,
  i32, check, dtypeCode, DTYPES, TYPED, ITEMSIZE, InvalidArgumentError,
} from './core.js';

const MAX_OUTPUTS = 64;
const opCache = new Map();

export function findOp(name) {
  let p = opCache.get(name);
  if (p === undefined) {
    p = withStack((m) => {
      const out = alloc(m, 4);
      check(m, m._mxn_op_find(allocStr(m, name), out));
      return u32(m, out);
    });
    opCache.set(name, p);
  }
  return p;
}

function typedDtype(data) {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint8Array || data instanceof Uint8ClampedArray) return 'uint8';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof BigInt64Array) return 'int64';
  return 'float32';
}

/** An n-dimensional array of the core (C-order shape). Call dispose() when done. */
export class NDArray extends Handle {
  constructor(ptr) { super(ptr, 'ndarray', '_mxn_ndarray_free'); }

  get shape() {
    return withStack((m) => {
      const nd = alloc(m, 4); const dp = alloc(m, 4);
      check(m, m._mxn_ndarray_shape(this.ptr, nd, dp));
      return readI64s(m, u32(m, dp), i32(m, nd));
    });
  }
  get ndim() { return this.shape.length; }
  get size() { return this.shape.reduce((a, b) => a * b, 1); }
  get dtype() {
    return withStack((m) => {
      const o = alloc(m, 4);
      check(m, m._mxn_ndarray_dtype(this.ptr, o));
      return DTYPES[i32(m, o)];
    });
  }

  /** The values as a new typed array (Float32Array, ...; float16 as raw Uint16Array bits,
   * bool as Uint8Array, int64 as BigInt64Array). Waits for pending work. */
  dataSync() {
    const m = module();
    check(m, m._mxn_ndarray_wait_to_read(this.ptr));
    const code = dtypeCode(this.dtype);
    const n = this.size;
    const ptr = withStack(() => {
      const o = alloc(m, 4);
      check(m, m._mxn_ndarray_data(this.ptr, o));
      return u32(m, o);
    });
    const bytes = m.HEAPU8.slice(ptr, ptr + n * ITEMSIZE[code]);
    return new TYPED[code](bytes.buffer, 0, n);
  }
  /** Like dataSync, as a Promise (the await API of the issue; work runs to completion). */
  async data() { return this.dataSync(); }
  /** The raw little-endian bytes, C order. */
  bytes() {
    const t = this.dataSync();
    return new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
  }
  /** Nested plain arrays (numbers; int64 as BigInt). */
  toArray() {
    const flat = Array.from(this.dataSync());
    const shape = this.shape;
    const build = (d, off) => {
      if (d === shape.length) return flat[off];
      const stride = shape.slice(d + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: shape[d] }, (_, i) => build(d + 1, off + i * stride));
    };
    return build(0, 0);
  }
  waitToRead() { const m = module(); check(m, m._mxn_ndarray_wait_to_read(this.ptr)); return this; }

  /** Element-wise copy into `other` (same shape; converts dtype). Returns other. */
  copyTo(other) {
    const m = module();
    check(m, m._mxn_ndarray_copy_to(this.ptr, other.ptr));
    return other;
  }
  /** A new array holding a copy. */
  copy() {
    const out = empty(this.shape, this.dtype);
    return this.copyTo(out);
  }
  astype(dtype) { return invoke('cast', [this], { dtype }, { dtype: 6 }); }
  /** A view with a new shape (MXNet's reshape codes 0, -1, -2, -3, -4 allowed). */
  reshape(shape, reverse = false) {
    return withStack((m) => {
      const o = alloc(m, 4);
      check(m, m._mxn_ndarray_reshape(this.ptr, allocI64(m, shape), shape.length, reverse ? 1 : 0, o));
      return new NDArray(u32(m, o));
    });
  }
  /** Rows [begin, end) of the first axis, a view. */
  slice(begin, end) {
    return withStack((m) => {
      const o = alloc(m, 4);
      check(m, m._mxn_ndarray_slice(this.ptr, BigInt(begin), BigInt(end), o));
      return new NDArray(u32(m, o));
    });
  }
  /** Row `index` of the first axis, a view with that axis dropped. */
  at(index) {
    return withStack((m) => {
      const o = alloc(m, 4);
      check(m, m._mxn_ndarray_at(this.ptr, BigInt(index), o));
      return new NDArray(u32(m, o));
    });
  }
  toString() { return `NDArray<${this.dtype} (${this.shape.join(',')})>`; }
}

/** An array of the shape and dtype with unspecified contents. */
export function empty(shape, dtype = 'float32') {
  return withStack((m) => {
    const o = alloc(m, 4);
    check(m, m._mxn_ndarray_create(allocI64(m, shape), shape.length, dtypeCode(dtype), 1, 0, o));
    return new NDArray(u32(m, o));
  });
}

/** Writes a typed array's bytes into a (new, idle) array. */
function fill(arr, bytes) {
  const m = module();
  check(m, m._mxn_ndarray_wait_to_write(arr.ptr));
  const p = withStack(() => {
    const o = alloc(m, 4);
    check(m, m._mxn_ndarray_data(arr.ptr, o));
    return u32(m, o);
  });
  m.HEAPU8.set(bytes, p);
}

function toTyped(data, code) {
  const T = TYPED[code];
  if (data instanceof T && !(code === 7 && !(data instanceof Uint8Array))) return data;
  if (code === 6) return BigInt64Array.from(data, (v) => BigInt(v));
  if (code === 7) return Uint8Array.from(data, (v) => (v ? 1 : 0));
  if (code === 2 && !(data instanceof Uint16Array)) return Uint16Array.from(data, f16bits);
  return T.from(data, (v) => Number(v));
}

/**
 * mx.nd.array(data, shape, dtype): data a typed array or a (flat or nested) JS array; shape
 * defaults to [data.length] (nested arrays: their nesting); dtype defaults from the typed
 * array (Float32Array: float32, Int32Array: int32, ...), float32 for plain arrays. float16
 * from numbers rounds to nearest even (a Uint16Array is taken as raw float16 bits).
 */
export function array(data, shape, dtype) {
  if (data instanceof NDArray) return dtype ? data.astype(dtype) : data.copy();
  if (Array.isArray(data) && shape === undefined) {
    shape = [];
    for (let d = data; Array.isArray(d); d = d[0]) shape.push(d.length);
    data = data.flat(Infinity);
  }
  if (shape === undefined) shape = [data.length];
  dtype = dtype || typedDtype(data);
  const code = dtypeCode(dtype);
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) {
    throw new InvalidArgumentError({ code: 1, kind: 'InvalidArgument',
      message: `array: ${data.length} values for shape (${shape.join(',')}) of ${n} elements` });
  }
  const t = toTyped(data, code);
  const out = empty(shape, DTYPES[code]);
  try {
    fill(out, new Uint8Array(t.buffer, t.byteOffset, n * ITEMSIZE[code]));
  } catch (e) { out.dispose(); throw e; }
  return out;
}

/** float64 -> IEEE half bits, round to nearest even (as NumPy's astype('float16')). */
export function f16bits(v) {
  const f64 = new Float64Array([v]);
  const u = new BigUint64Array(f64.buffer)[0];
  const sign = Number(u >> 63n) << 15;
  const exp = Number((u >> 52n) & 0x7ffn);
  const mant = u & 0xfffffffffffffn;
  if (exp === 0x7ff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 1023 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | (1n << 52n);
    const shift = BigInt(42 + 1 - e);
    let h = m >> shift;
    const rem = m & ((1n << shift) - 1n);
    const half = 1n << (shift - 1n);
    if (rem > half || (rem === half && (h & 1n))) h += 1n;
    return sign | Number(h);
  }
  let h = BigInt(e << 10) | (mant >> 42n);
  const rem = mant & ((1n << 42n) - 1n);
  const half = 1n << 41n;
  if (rem > half || (rem === half && (h & 1n))) h += 1n;
  return sign | Number(h);
}

/** half bits -> number. */
export function f16value(h) {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Optional inputs may be left out: a plain object in an input position is the params. */
export function splitTrailingParams(inputs, params, cls) {
  const i = inputs.findIndex((x) => x !== null && x !== undefined && !(x instanceof cls) &&
    typeof x === 'object' && !Array.isArray(x));
  if (i >= 0 && Object.keys(params).length === 0) return [inputs.slice(0, i), inputs[i]];
  return [inputs, params];
}

/**
 * Runs an operator by name: inputs (NDArrays), params (a plain object; undefined = not given,
 * which takes the registry default), types (param name -> mxn_value type code, from the
 * generated layer). params.out (an NDArray or a list) writes into existing arrays. Returns one
 * NDArray, or an array of them when the operator has several outputs.
 */
export function invoke(name, inputs, params = {}, types = undefined) {
  const op = findOp(name);
  [inputs, params] = splitTrailingParams(inputs, params, NDArray);
  const { out, ...rest } = params;
  inputs = inputs.filter((x) => x !== undefined && x !== null);
  for (let i = 0; i < inputs.length; i++) {
    if (!(inputs[i] instanceof NDArray)) {
      throw new InvalidArgumentError({ code: 1, kind: 'InvalidArgument', opName: name,
        argIndex: i, message: `${name}: input ${i} is not an NDArray` });
    }
  }
  return withStack((m) => {
    const ins = allocPtrs(m, inputs.map((a) => a.ptr));
    const ps = allocParams(m, rest, types);
    if (out !== undefined) {
      const outs = Array.isArray(out) ? out : [out];
      check(m, m._mxn_op_invoke_into(op, inputs.length, ins, ps.n, ps.keys, ps.values,
        outs.length, allocPtrs(m, outs.map((a) => a.ptr))));
      return out;
    }
    const outp = alloc(m, 4 * MAX_OUTPUTS);
    const nout = alloc(m, 4);
    check(m, m._mxn_op_invoke(op, inputs.length, ins, ps.n, ps.keys, ps.values, MAX_OUTPUTS,
      outp, nout));
    const res = [];
    for (let i = 0; i < i32(m, nout); i++) res.push(new NDArray(m.HEAPU32[(outp >> 2) + i]));
    return res.length === 1 ? res[0] : res;
  });
}

const CREATE_TYPES = { shape: 5, dtype: 6 };
export function zeros(shape, dtype = 'float32') { return invoke('_zeros', [], { shape, dtype }, CREATE_TYPES); }
export function ones(shape, dtype = 'float32') { return invoke('_ones', [], { shape, dtype }, CREATE_TYPES); }
export function waitall() { const m = module(); check(m, m._mxn_wait_all()); }

// ---- MXNet NDArray files (.params) ------------------------------------------------------------

/** Reads a list from mxn_ndarray_list: {arrays, names (null for a plain list)}. */
export function readList(m, list) {
  try {
    return withStack(() => {
      const na = alloc(m, 4); const nn = alloc(m, 4);
      check(m, m._mxn_ndarray_list_size(list, na, nn));
      const arrays = []; const names = i32(m, nn) ? [] : null;
      for (let i = 0; i < i32(m, na); i++) {
        const o = alloc(m, 4);
        check(m, m._mxn_ndarray_list_get(list, i, o));
        arrays.push(new NDArray(u32(m, o)));
        if (names) {
          const np = alloc(m, 4); const len = alloc(m, 4);
          check(m, m._mxn_ndarray_list_name(list, i, np, len));
          names.push(new TextDecoder().decode(m.HEAPU8.subarray(u32(m, np), u32(m, np) + u32(m, len))));
        }
      }
      return { arrays, names };
    });
  } finally {
    m._mxn_ndarray_list_free(list);
  }
}

function asResult({ arrays, names }) {
  if (names === null) return arrays;
  const d = {};
  names.forEach((n, i) => { d[n] = arrays[i]; });
  return d;
}

/** Bytes of an MXNet .params file (ArrayBuffer / Uint8Array) -> a list or a {name: NDArray}. */
export function loadFromBuffer(buffer) {
  const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  // The bytes go into a uint8 array of the core, so no allocator beyond the C ABI is needed.
  const holder = array(bytes, [bytes.length], 'uint8');
  try {
    const m = module();
    return withStack(() => {
      const dp = alloc(m, 4); const o = alloc(m, 4);
      check(m, m._mxn_ndarray_data(holder.ptr, dp));
      check(m, m._mxn_ndarray_load_from_buffer(u32(m, dp), bytes.length, o));
      return asResult(readList(m, u32(m, o)));
    });
  } finally {
    holder.dispose();
  }
}

function saveArgs(m, data) {
  const named = !Array.isArray(data);
  const names = named ? Object.keys(data) : null;
  const arrays = named ? names.map((k) => data[k]) : data;
  return { n: arrays.length, arrays: allocPtrs(m, arrays.map((a) => a.ptr)),
    names: named ? allocPtrs(m, names.map((k) => allocStr(m, k))) : 0 };
}

/** The bytes of an MXNet .params file for a list or a {name: NDArray} (mx.nd.save's format). */
export function saveToBuffer(data) {
  const m = module();
  const buf = withStack(() => {
    const a = saveArgs(m, data); const o = alloc(m, 4);
    check(m, m._mxn_ndarray_save_to_buffer(a.n, a.arrays, a.names, o));
    return new NDArray(u32(m, o));
  });
  try { return buf.dataSync(); } finally { buf.dispose(); }
}

/** mx.nd.save / mx.nd.load on the module's in-memory file system (mx.fs). */
export function save(path, data) {
  const m = module();
  withStack(() => {
    const a = saveArgs(m, data);
    check(m, m._mxn_ndarray_save(allocStr(m, path), a.n, a.arrays, a.names));
  });
}
export function load(path) {
  const m = module();
  return withStack(() => {
    const o = alloc(m, 4);
    check(m, m._mxn_ndarray_load(allocStr(m, path), o));
    return asResult(readList(m, u32(m, o)));
  });
}
