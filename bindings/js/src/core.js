// The runtime of the mxnext JS front end: loading the WebAssembly module, marshalling values
// across the C ABI (capi/include/mxnext/c_api.h, the only surface used), errors, handles.
import createMxnextModule from '../dist/mxnext_wasm.mjs';

export const ABI_MAJOR = 1; // MXN_ABI_VERSION / 10000 this front end was written for
const WASM_FILE = 'mxnext_wasm.wasm';

let M = null; // the Emscripten module once loaded
let loading = null;

// ---- errors ----------------------------------------------------------------------------------

export const NO_FIELD = -2147483648; // MXN_NO_FIELD

/** An error of the mxnext core: carries the C error's fields (never a bare number). */
export class MXNetError extends Error {
  constructor(info) {
    super(info.message || info.kind || `mxnext error ${info.code}`);
    this.name = this.constructor.name;
    this.code = info.code;        // an MXN_ERR_* value (1 invalid argument, 2 shape, ...)
    this.kind = info.kind || '';  // "ShapeError", "InvalidArgument", ...
    this.opName = info.opName || '';
    this.argIndex = info.argIndex ?? null; // 0-based, or null when it does not apply
    this.axis = info.axis ?? null;         // as given, or null
  }
}
export class InvalidArgumentError extends MXNetError {}
export class ShapeError extends MXNetError {}
export class DTypeError extends MXNetError {}
export class OutOfMemoryError extends MXNetError {}
export class IOError extends MXNetError {}
export class FormatError extends MXNetError {}
export class DeviceError extends MXNetError {}
export class NotImplementedError extends MXNetError {}
export class PeerLostError extends MXNetError {}
export class TimeoutError extends MXNetError {}
export class InterruptedError extends MXNetError {}
export class InternalError extends MXNetError {}
/** The .wasm could not be found or is not WebAssembly (a 404 page, a wrong MIME type ...). */
export class LoadError extends Error {
  constructor(message) { super(message); this.name = 'LoadError'; }
}
/** A handle used after dispose(). */
export class DisposedError extends Error {
  constructor(message) { super(message); this.name = 'DisposedError'; }
}

const ERROR_CLASSES = [MXNetError, InvalidArgumentError, ShapeError, DTypeError, OutOfMemoryError,
  IOError, FormatError, DeviceError, NotImplementedError, PeerLostError, TimeoutError,
  InterruptedError, InternalError];

export function errorFromInfo(info) {
  const cls = ERROR_CLASSES[info.code] || MXNetError;
  return new cls(info);
}

// ---- loading ---------------------------------------------------------------------------------

const isNode = typeof process === 'object' && process.versions != null &&
  process.versions.node != null;

function wasmUrl(wasmPaths) {
  if (wasmPaths == null) return new URL(`../dist/${WASM_FILE}`, import.meta.url).href;
  if (typeof wasmPaths === 'string') {
    const base = wasmPaths.endsWith('/') || wasmPaths.endsWith(WASM_FILE) ? wasmPaths
      : `${wasmPaths}/`;
    if (base.endsWith(WASM_FILE)) return base;
    return typeof location !== 'undefined' ? new URL(base + WASM_FILE, location.href).href
      : base + WASM_FILE;
  }
  if (typeof wasmPaths === 'object' && wasmPaths[WASM_FILE]) return String(wasmPaths[WASM_FILE]);
  throw new LoadError(`wasmPaths must be a folder URL (string) or {'${WASM_FILE}': url}`);
}

async function fetchWasm(url) {
  if (isNode && url.startsWith('file:')) {
    const { readFile } = await import('node:fs/promises');
    try {
      return new Uint8Array(await readFile(new URL(url)));
    } catch (e) {
      throw new LoadError(`mxnext: cannot read ${url} (${e.code || e.message}); build it with ` +
        'bindings/js/build.sh, or pass init({wasmPaths}) or init({wasmBinary})');
    }
  }
  let res;
  try {
    res = await fetch(url, { credentials: 'same-origin' });
  } catch (e) {
    throw new LoadError(`mxnext: cannot fetch ${url}: ${e.message}; set init({wasmPaths})`);
  }
  if (!res.ok) {
    throw new LoadError(`mxnext: fetching ${url} gave HTTP ${res.status}: serve ` +
      `${WASM_FILE} beside your page or point init({wasmPaths}) at its folder`);
  }
  return new Uint8Array(await res.arrayBuffer());
}

function checkMagic(bytes, where) {
  const magic = [0x00, 0x61, 0x73, 0x6d];
  if (bytes.length < 8 || magic.some((b, i) => bytes[i] !== b)) {
    const head = Array.from(bytes.slice(0, 16)).map((b) => String.fromCharCode(b)).join('');
    const hint = /^\s*</.test(head) ? ' (that is an HTML page, probably a 404 or an index page ' +
      'served instead of the file: copy the .wasm beside your bundle or set wasmPaths)' : '';
    throw new LoadError(`mxnext: ${where} is not WebAssembly: expected magic 00 61 73 6d, ` +
      `found ${Array.from(bytes.slice(0, 4)).map((b) => b.toString(16).padStart(2, '0')).join(' ')}` +
      hint);
  }
}

/**
 * Loads the WebAssembly core once. Options:
 *   wasmPaths:  a folder URL (string) holding mxnext_wasm.wasm, or {'mxnext_wasm.wasm': url}
 *               (like onnxruntime-web's env.wasm.wasmPaths). Default: ../dist/ beside this file.
 *   wasmBinary: the .wasm bytes (ArrayBuffer or Uint8Array): nothing is fetched.
 * Resolves to the library's version string. Safe to call again (the first load wins).
 */
export function init(options = {}) {
  if (loading) return loading;
  loading = (async () => {
    let bytes;
    let where;
    if (options.wasmBinary != null) {
      bytes = options.wasmBinary instanceof Uint8Array ? options.wasmBinary
        : new Uint8Array(options.wasmBinary);
      where = 'wasmBinary';
    } else {
      where = wasmUrl(options.wasmPaths);
      bytes = await fetchWasm(where);
    }
    checkMagic(bytes, where);
    const mod = await createMxnextModule({ wasmBinary: bytes, print: () => {},
      printErr: (t) => { if (options.verbose) console.warn(t); } });
    const abi = mod._mxn_abi_version() >>> 0;
    if (Math.floor(abi / 10000) !== ABI_MAJOR) {
      throw new LoadError(`mxnext: the .wasm has ABI ${abi}, this front end needs major ${ABI_MAJOR}`);
    }
    M = mod;
    return version();
  })();
  loading.catch(() => { loading = null; });
  return loading;
}

export function module() {
  if (M === null) {
    throw new Error('mxnext is not loaded yet: await mx.init() first (loadCheckpoint does it)');
  }
  return M;
}
export function isLoaded() { return M !== null; }

// ---- memory helpers (all temporary data lives on the wasm stack) -----------------------------

const enc = new TextEncoder();
const dec = new TextDecoder();

export function withStack(fn) {
  const m = module();
  const sp = m.stackSave();
  try {
    return fn(m);
  } finally {
    m.stackRestore(sp);
  }
}
export function alloc(m, n) { return m.stackAlloc(Math.max(8, (n + 7) & ~7)); }
export function allocStr(m, s) {
  if (s == null) return 0;
  const b = enc.encode(String(s));
  const p = alloc(m, b.length + 1);
  m.HEAPU8.set(b, p);
  m.HEAPU8[p + b.length] = 0;
  return p;
}
export function readStr(m, p, len) {
  if (!p) return '';
  const h = m.HEAPU8;
  let end = p;
  if (len == null) { while (h[end] !== 0) end++; } else end = p + len;
  return dec.decode(h.subarray(p, end));
}
export function allocPtrs(m, ptrs) {
  const p = alloc(m, 4 * ptrs.length);
  for (let i = 0; i < ptrs.length; i++) m.HEAPU32[(p >> 2) + i] = ptrs[i] >>> 0;
  return p;
}
export function allocI32(m, vals) {
  const p = alloc(m, 4 * vals.length);
  for (let i = 0; i < vals.length; i++) m.HEAP32[(p >> 2) + i] = vals[i];
  return p;
}
export function allocI64(m, vals) {
  const p = alloc(m, 8 * vals.length);
  const v = new BigInt64Array(m.HEAPU8.buffer, p, vals.length);
  for (let i = 0; i < vals.length; i++) v[i] = BigInt(vals[i]);
  return p;
}
export function readI64s(m, p, n) {
  return Array.from(new BigInt64Array(m.HEAPU8.buffer, p, n), (x) => Number(x));
}
export const u32 = (m, p) => m.HEAPU32[p >> 2];
export const i32 = (m, p) => m.HEAP32[p >> 2];

/** The last C error as an Error object. */
export function lastError(m, fallbackCode) {
  return withStack(() => {
    const info = alloc(m, 28); // mxn_error_info on wasm32: 4 int32, 3 pointers
    m.HEAPU32[info >> 2] = 28;
    m._mxn_last_error(info);
    const code = i32(m, info + 4) || fallbackCode;
    const argIndex = i32(m, info + 8);
    const axis = i32(m, info + 12);
    return errorFromInfo({
      code,
      argIndex: argIndex === NO_FIELD ? null : argIndex,
      axis: axis === NO_FIELD ? null : axis,
      kind: readStr(m, u32(m, info + 16)),
      message: readStr(m, u32(m, info + 20)),
      opName: readStr(m, u32(m, info + 24)),
    });
  });
}

/** Throws the C error when rc is not MXN_OK. */
export function check(m, rc) {
  if (rc !== 0) throw lastError(m, rc);
}

// ---- handles ---------------------------------------------------------------------------------

const live = new Map(); // kind -> count

/** Base of every object that owns a C handle: explicit dispose(), counted by mx.memory(). */
export class Handle {
  constructor(ptr, kind, freeFn) {
    this._ptr = ptr;
    this._kind = kind;
    this._free = freeFn;
    live.set(kind, (live.get(kind) || 0) + 1);
  }
  get ptr() {
    if (!this._ptr) throw new DisposedError(`this ${this._kind} was disposed`);
    return this._ptr;
  }
  get isDisposed() { return !this._ptr; }
  /** Releases the C handle now (the wasm memory is reused). Safe to call twice. */
  dispose() {
    if (!this._ptr) return;
    module()[this._free](this._ptr);
    this._ptr = 0;
    live.set(this._kind, live.get(this._kind) - 1);
  }
}

/** Live handles by kind and the core's allocator statistics (like tfjs's tf.memory()). */
export function memory() {
  const byKind = {};
  let numHandles = 0;
  for (const [k, n] of live) { if (n) { byKind[k] = n; numHandles += n; } }
  const out = { numHandles, byKind, numArrays: byKind.ndarray || 0 };
  if (M !== null) {
    withStack((m) => {
      const s = alloc(m, 48); // mxn_memory_stats: 2 uint32 + 5 int64
      m.HEAPU32[s >> 2] = 48;
      check(m, m._mxn_memory_stats_get(1, 0, s));
      const v = new BigInt64Array(m.HEAPU8.buffer, s + 8, 5);
      out.liveBytes = Number(v[0]);
      out.peakBytes = Number(v[1]);
      out.cachedBytes = Number(v[2]);
      out.wasmHeapBytes = m.HEAPU8.length;
    });
  }
  return out;
}

export function version() {
  const m = module();
  return readStr(m, m._mxn_version_string());
}

// ---- dtypes and typed values -----------------------------------------------------------------

export const DTYPES = ['float32', 'float64', 'float16', 'uint8', 'int32', 'int8', 'int64', 'bool'];
export const TYPED = [Float32Array, Float64Array, Uint16Array, Uint8Array, Int32Array, Int8Array,
  BigInt64Array, Uint8Array];
export const ITEMSIZE = [4, 8, 2, 1, 4, 1, 8, 1];

export function dtypeCode(dtype) {
  if (typeof dtype === 'number' && DTYPES[dtype] !== undefined) return dtype;
  const i = DTYPES.indexOf(dtype);
  if (i < 0) {
    throw new DTypeError({ code: 3, kind: 'DTypeError', message: `unknown dtype '${dtype}' ` +
      `(one of ${DTYPES.join(', ')})` });
  }
  return i;
}

// mxn_value_type
const V_NONE = 0; const V_INT = 1; const V_FLOAT = 2; const V_BOOL = 3; const V_STRING = 4;
const V_SHAPE = 5; const V_DTYPE = 6; const V_DEVICE = 7;
const INT64_MIN = -(2n ** 63n);

function badValue(value, why) {
  return new InvalidArgumentError({ code: 1, kind: 'InvalidArgument',
    message: `cannot pass ${Object.prototype.toString.call(value)} as ${why}` });
}

function toBigInt(value) {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'boolean') return value ? 1n : 0n;
  if (typeof value === 'number' && Number.isFinite(value)) return BigInt(Math.trunc(value));
  throw badValue(value, 'an integer parameter');
}

/** The mxn_value type of a value whose parameter is not in the schema. */
function guessType(value) {
  if (typeof value === 'boolean') return V_BOOL;
  if (typeof value === 'bigint') return V_INT;
  if (typeof value === 'number') return Number.isInteger(value) ? V_INT : V_FLOAT;
  if (typeof value === 'string') return V_STRING;
  if (Array.isArray(value) || ArrayBuffer.isView(value)) return V_SHAPE;
  throw badValue(value, 'an operator parameter');
}

/** Writes one mxn_value (16 bytes) at p, converted to the declared type code as the Python
 * front end does (int: truncates, shape: a number is a 1-tuple, dtype: a name). */
export function writeValue(m, p, value, type) {
  const h32 = m.HEAP32;
  const put = (tag, len) => { h32[p >> 2] = tag; h32[(p >> 2) + 1] = len; };
  const i64 = new BigInt64Array(m.HEAPU8.buffer, p + 8, 1);
  if (value === null) { put(V_NONE, 0); i64[0] = 0n; return; }
  const t = type == null ? guessType(value) : type;
  switch (t) {
    case V_INT: case V_BOOL: put(t, 0); i64[0] = toBigInt(value); return;
    case V_FLOAT: put(V_FLOAT, 0); new Float64Array(m.HEAPU8.buffer, p + 8, 1)[0] = Number(value);
      return;
    case V_STRING: put(V_STRING, 0); i64[0] = 0n; m.HEAPU32[(p + 8) >> 2] = allocStr(m, value);
      return;
    case V_SHAPE: {
      const list = typeof value === 'number' || typeof value === 'bigint' ? [value] : value;
      if (!(Array.isArray(list) || ArrayBuffer.isView(list))) throw badValue(value, 'a shape');
      const dims = Array.from(list, (d) => (d === null ? INT64_MIN : toBigInt(d)));
      const dp = alloc(m, 8 * dims.length);
      new BigInt64Array(m.HEAPU8.buffer, dp, dims.length).set(dims);
      put(V_SHAPE, dims.length); i64[0] = 0n; m.HEAPU32[(p + 8) >> 2] = dp;
      return;
    }
    case V_DTYPE: put(V_DTYPE, 0); i64[0] = BigInt(dtypeCode(value)); return;
    case V_DEVICE: {
      const dev = typeof value === 'string' ? { type: value, id: 0 } : value;
      put(V_DEVICE, dev.id || 0); i64[0] = dev.type === 'gpu' || dev.type === 2 ? 2n : 1n;
      return;
    }
    default: throw badValue(value, 'an operator parameter');
  }
}

/** keys/values arrays for a params object (undefined entries are "not given"). */
export function allocParams(m, params, types) {
  const keys = Object.keys(params).filter((k) => params[k] !== undefined);
  const kp = allocPtrs(m, keys.map((k) => allocStr(m, k)));
  const vp = alloc(m, 16 * keys.length);
  keys.forEach((k, i) => writeValue(m, vp + 16 * i, params[k], types ? types[k] : undefined));
  return { n: keys.length, keys: kp, values: vp };
}
