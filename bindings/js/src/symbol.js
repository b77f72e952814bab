// mx.Symbol (MXNet's symbol JSON, composition), executors (bind / forward / backward) and
// loadCheckpoint: inference on MXNet -symbol.json + .params files.
import {
  Handle, module, withStack, alloc, allocI32, allocI64, allocPtrs, allocStr, allocParams,
  readStr, readI64s, u32, i32, check, init, DTYPES, InvalidArgumentError, ShapeError,
} from './core.js';
import { NDArray, findOp, zeros, loadFromBuffer, splitTrailingParams } from './ndarray.js';

function readStrings(m, list) {
  try {
    return withStack(() => {
      const n = alloc(m, 4);
      check(m, m._mxn_strings_size(list, n));
      const out = [];
      for (let i = 0; i < i32(m, n); i++) {
        const s = alloc(m, 4);
        check(m, m._mxn_strings_get(list, i, s));
        out.push(readStr(m, u32(m, s)));
      }
      return out;
    });
  } finally {
    m._mxn_strings_free(list);
  }
}

function readShapes(m, list) {
  try {
    return withStack(() => {
      const n = alloc(m, 4);
      check(m, m._mxn_shapes_size(list, n));
      const out = [];
      for (let i = 0; i < i32(m, n); i++) {
        const nd = alloc(m, 4); const dp = alloc(m, 4);
        check(m, m._mxn_shapes_get(list, i, nd, dp));
        out.push(i32(m, nd) < 0 ? null : readI64s(m, u32(m, dp), i32(m, nd)));
      }
      return out;
    });
  } finally {
    m._mxn_shapes_free(list);
  }
}

const LIST = { arguments: 0, outputs: 1, aux_states: 2, inputs: 3 };
const GRAD_REQ = { null: 0, write: 1, add: 3 };

/** A symbolic graph (MXNet's Symbol). dispose() when done. */
export class Symbol extends Handle {
  constructor(ptr) { super(ptr, 'symbol', '_mxn_symbol_free'); }

  static variable(name) {
    return withStack((m) => {
      const o = alloc(m, 4);
      check(m, m._mxn_symbol_variable(allocStr(m, name), o));
      return new Symbol(u32(m, o));
    });
  }
  /** From MXNet's symbol JSON text (any 1.x version). */
  static fromJSON(json) {
    return withStack((m) => {
      const o = alloc(m, 4);
      check(m, m._mxn_symbol_from_json(allocStr(m, json), o));
      return new Symbol(u32(m, o));
    });
  }
  static group(symbols) {
    return withStack((m) => {
      const o = alloc(m, 4);
      check(m, m._mxn_symbol_group(symbols.length, allocPtrs(m, symbols.map((s) => s.ptr)), o));
      return new Symbol(u32(m, o));
    });
  }
  toJSON() {
    const m = module();
    return withStack(() => {
      const o = alloc(m, 4);
      check(m, m._mxn_symbol_to_json(this.ptr, o));
      return readStrings(m, u32(m, o))[0];
    });
  }
  get name() {
    return withStack((m) => {
      const o = alloc(m, 4);
      check(m, m._mxn_symbol_name(this.ptr, o));
      return readStr(m, u32(m, o));
    });
  }
  list(kind) {
    const m = module();
    return withStack(() => {
      const o = alloc(m, 4);
      check(m, m._mxn_symbol_list(this.ptr, LIST[kind], o));
      return readStrings(m, u32(m, o));
    });
  }
  listArguments() { return this.list('arguments'); }
  listOutputs() { return this.list('outputs'); }
  listAuxiliaryStates() { return this.list('aux_states'); }
  listInputs() { return this.list('inputs'); }
  getInternals() {
    return withStack((m) => {
      const o = alloc(m, 4);
      check(m, m._mxn_symbol_internals(this.ptr, o));
      return new Symbol(u32(m, o));
    });
  }
  output(index) {
    return withStack((m) => {
      const o = alloc(m, 4);
      check(m, m._mxn_symbol_output(this.ptr, index, o));
      return new Symbol(u32(m, o));
    });
  }

  /** Shape inference from {name: shape}: {args, outputs, aux} lists in list order (partial:
   * unknown shapes are null instead of a ShapeError). */
  inferShape(shapes, partial = false) {
    const m = module();
    return withStack(() => {
      const names = Object.keys(shapes);
      const dims = names.flatMap((n) => shapes[n]);
      const a = alloc(m, 4); const o = alloc(m, 4); const x = alloc(m, 4);
      check(m, m._mxn_symbol_infer_shape(this.ptr, names.length,
        allocPtrs(m, names.map((n) => allocStr(m, n))), allocI32(m, names.map((n) => shapes[n].length)),
        allocI64(m, dims), partial ? 1 : 0, a, o, x));
      return { args: readShapes(m, u32(m, a)), outputs: readShapes(m, u32(m, o)),
        aux: readShapes(m, u32(m, x)) };
    });
  }
  /** Dtype inference from {name: dtype}: {args, outputs, aux} dtype names. */
  inferType(dtypes = {}) {
    const m = module();
    const cap = Math.max(this.listInputs().length, this.listOutputs().length, 1);
    return withStack(() => {
      const names = Object.keys(dtypes);
      const bufs = [0, 1, 2].map(() => alloc(m, 4 * cap));
      const ns = [0, 1, 2].map(() => alloc(m, 4));
      check(m, m._mxn_symbol_infer_type(this.ptr, names.length,
        allocPtrs(m, names.map((n) => allocStr(m, n))),
        allocI32(m, names.map((n) => DTYPES.indexOf(dtypes[n]))), cap,
        bufs[0], ns[0], bufs[1], ns[1], bufs[2], ns[2]));
      const read = (k) => Array.from(m.HEAP32.subarray(bufs[k] >> 2, (bufs[k] >> 2) + i32(m, ns[k])),
        (c) => DTYPES[c]);
      return { args: read(0), outputs: read(1), aux: read(2) };
    });
  }

  /** Binds arrays: args (list in listArguments order, or {name: NDArray}), optional grads
   * (same forms; null for none), gradReq ('write', 'add', 'null', or a list / object), aux. */
  bind({ args, grads = null, gradReq = 'write', aux = [] }) {
    const argNames = this.listArguments();
    const auxNames = this.listAuxiliaryStates();
    const byName = (v, names, what) => {
      if (Array.isArray(v)) return v;
      return names.map((n) => {
        if (!(n in v) && what !== 'grad') {
          throw new InvalidArgumentError({ code: 1, kind: 'InvalidArgument',
            message: `bind: no ${what} array named '${n}'` });
        }
        return v[n] || null;
      });
    };
    const argList = byName(args, argNames, 'argument');
    const auxList = byName(aux, auxNames, 'auxiliary state');
    const gradList = grads === null ? argNames.map(() => null) : byName(grads, argNames, 'grad');
    const reqs = argNames.map((n, i) => {
      const r = typeof gradReq === 'string' ? gradReq
        : (Array.isArray(gradReq) ? gradReq[i] : (gradReq[n] || 'null'));
      return gradList[i] ? GRAD_REQ[r] : 0;
    });
    const m = module();
    const ptr = withStack(() => {
      const o = alloc(m, 4);
      check(m, m._mxn_executor_bind(this.ptr, argList.length,
        allocPtrs(m, argList.map((a) => a.ptr)), allocPtrs(m, gradList.map((g) => (g ? g.ptr : 0))),
        allocI32(m, reqs), auxList.length, allocPtrs(m, auxList.map((a) => a.ptr)), o));
      return u32(m, o);
    });
    const exe = new Executor(ptr, this, argNames, argList, gradList, auxNames, auxList);
    return exe;
  }

  /** Allocates every argument (zeros), gradient and auxiliary state from input shapes, then
   * binds (MXNet's simple_bind); the executor owns (and disposes) those arrays. */
  simpleBind({ shapes, gradReq = 'write', dtypes = {} }) {
    const inf = this.inferShape(shapes, true);
    const argNames = this.listArguments();
    const auxNames = this.listAuxiliaryStates();
    const unknown = argNames.filter((n, i) => inf.args[i] === null);
    if (unknown.length || inf.aux.some((s) => s === null)) {
      throw new ShapeError({ code: 2, kind: 'ShapeError', message: `simpleBind: the shapes ` +
        `${JSON.stringify(shapes)} do not determine the shapes of ${unknown.join(', ') || auxNames.join(', ')}` });
    }
    const types = this.inferType(dtypes);
    const reqOf = (n, i) => (typeof gradReq === 'string' ? gradReq
      : (Array.isArray(gradReq) ? gradReq[i] : (gradReq[n] || 'null')));
    const owned = [];
    const mk = (s, t) => { const a = zeros(s, t); owned.push(a); return a; };
    try {
      const args = inf.args.map((s, i) => mk(s, types.args[i]));
      const grads = argNames.map((n, i) => (reqOf(n, i) === 'null' ? null : mk(inf.args[i], types.args[i])));
      const aux = inf.aux.map((s, i) => mk(s, types.aux[i]));
      const exe = this.bind({ args, grads, gradReq: argNames.map(reqOf), aux });
      exe._owned = owned;
      return exe;
    } catch (e) {
      owned.forEach((a) => a.dispose());
      throw e;
    }
  }
}

/** A bound symbol. outputs are NDArrays whose storage is rewritten by every forward. */
export class Executor extends Handle {
  constructor(ptr, symbol, argNames, args, grads, auxNames, aux) {
    super(ptr, 'executor', '_mxn_executor_free');
    this.argNames = argNames;
    this.argArrays = args;
    this.gradArrays = grads;
    this.auxArrays = aux;
    this.argDict = Object.fromEntries(argNames.map((n, i) => [n, args[i]]));
    this.gradDict = Object.fromEntries(argNames.map((n, i) => [n, grads[i]]).filter(([, g]) => g));
    this.auxDict = Object.fromEntries(auxNames.map((n, i) => [n, aux[i]]));
    this._owned = [];
    const m = module();
    this.outputs = withStack(() => {
      const n = alloc(m, 4);
      check(m, m._mxn_executor_num_outputs(ptr, n));
      const outs = [];
      for (let i = 0; i < i32(m, n); i++) {
        const o = alloc(m, 4);
        check(m, m._mxn_executor_output(ptr, i, o));
        outs.push(new NDArray(u32(m, o)));
      }
      return outs;
    });
  }
  /** Runs the graph; returns this.outputs. */
  forward(isTrain = false) {
    const m = module();
    check(m, m._mxn_executor_forward(this.ptr, isTrain ? 1 : 0));
    return this.outputs;
  }
  backward(headGrads = []) {
    const m = module();
    withStack(() => check(m, m._mxn_executor_backward(this.ptr, headGrads.length,
      allocPtrs(m, headGrads.map((g) => g.ptr)))));
  }
  /** The memory plan (JSON object). */
  memoryReport() {
    const m = module();
    return withStack(() => {
      const o = alloc(m, 4);
      check(m, m._mxn_executor_memory_report(this.ptr, o));
      return JSON.parse(readStrings(m, u32(m, o))[0]);
    });
  }
  dispose() {
    if (this.isDisposed) return;
    this.outputs.forEach((o) => o.dispose());
    super.dispose();
    this._owned.forEach((a) => a.dispose());
    this._owned = [];
  }
}

/** Applies an operator symbolically (the generated mx.sym.* functions call this): inputs are
 * Symbols (null/undefined to leave an input to an automatic variable), params typed values,
 * params.name the node name, params.attr user attributes. */
export function compose(opName, inputs, params = {}, types = undefined) {
  const op = findOp(opName);
  [inputs, params] = splitTrailingParams(inputs, params, Symbol);
  const { name, attr, ...rest } = params;
  let args = inputs;
  let argNames = null;
  if (inputs.some((x) => x === null || x === undefined)) {
    // Named form: skip missing ones so the core creates their variables.
    const entries = inputs.map((s, i) => [s, i]).filter(([s]) => s !== null && s !== undefined);
    args = entries.map(([s]) => s);
    argNames = entries.map(([, i]) => types && types.__inputs ? types.__inputs[i] : '');
  }
  const attrs = attr ? Object.entries(attr) : [];
  return withStack((m) => {
    const ps = allocParams(m, rest, types);
    const o = alloc(m, 4);
    check(m, m._mxn_symbol_compose(op, ps.n, ps.keys, ps.values, allocStr(m, name || ''),
      args.length, allocPtrs(m, args.map((s) => s.ptr)),
      argNames ? allocPtrs(m, argNames.map((n) => allocStr(m, n))) : 0,
      attrs.length, allocPtrs(m, attrs.map(([k]) => allocStr(m, k))),
      allocPtrs(m, attrs.map(([, v]) => allocStr(m, String(v)))), o));
    return new Symbol(u32(m, o));
  });
}

/** Inference on an MXNet model (-symbol.json + .params): binds on the first forward and
 * again whenever input shapes change. dispose() releases everything. */
export class Model {
  constructor(symbol, argParams, auxParams) {
    this.symbol = symbol;
    this.argParams = argParams;
    this.auxParams = auxParams;
    this._exe = null;
    this._key = '';
    this._inputs = {};
  }
  get inputNames() {
    return this.symbol.listArguments().filter((n) => !(n in this.argParams));
  }
  _bind(feeds) {
    const shapes = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, v.shape]));
    const key = JSON.stringify(shapes);
    if (this._exe && key === this._key) return;
    this._release();
    const inf = this.symbol.inferShape(shapes, true);
    const argNames = this.symbol.listArguments();
    const auxNames = this.symbol.listAuxiliaryStates();
    const dtypes = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, v.dtype]));
    const types = this.symbol.inferType(dtypes);
    const args = argNames.map((n, i) => {
      if (n in this.argParams) return this.argParams[n];
      if (inf.args[i] === null) {
        throw new ShapeError({ code: 2, kind: 'ShapeError',
          message: `forward: the shape of input '${n}' is unknown: give it in the feeds` });
      }
      this._inputs[n] = zeros(inf.args[i], types.args[i]); // data, labels (zeros)
      return this._inputs[n];
    });
    const aux = auxNames.map((n) => {
      if (!(n in this.auxParams)) {
        throw new InvalidArgumentError({ code: 1, kind: 'InvalidArgument',
          message: `the checkpoint has no auxiliary state '${n}'` });
      }
      return this.auxParams[n];
    });
    this._exe = this.symbol.bind({ args, grads: null, aux });
    this._key = key;
  }
  /** await model.forward({data: x}): a list of new NDArrays (one per output; dispose them). */
  async forward(feeds, { isTrain = false } = {}) {
    return this.forwardSync(feeds, { isTrain });
  }
  forwardSync(feeds, { isTrain = false } = {}) {
    for (const k of Object.keys(feeds)) {
      if (!this.symbol.listArguments().includes(k) || k in this.argParams) {
        throw new InvalidArgumentError({ code: 1, kind: 'InvalidArgument',
          message: `forward: '${k}' is not an input of the model (inputs: ${this.inputNames.join(', ')})` });
      }
    }
    this._bind(feeds);
    for (const [k, v] of Object.entries(feeds)) v.copyTo(this._inputs[k]);
    const outs = this._exe.forward(isTrain);
    return outs.map((o) => o.copy());
  }
  _release() {
    if (this._exe) this._exe.dispose();
    this._exe = null;
    Object.values(this._inputs).forEach((a) => a.dispose());
    this._inputs = {};
  }
  dispose() {
    this._release();
    Object.values(this.argParams).forEach((a) => a.dispose());
    Object.values(this.auxParams).forEach((a) => a.dispose());
    this.argParams = {};
    this.auxParams = {};
    this.symbol.dispose();
  }
}

/** Splits a checkpoint's "arg:" / "aux:" arrays. */
export function splitParams(loaded) {
  const argParams = {}; const auxParams = {};
  for (const [k, v] of Object.entries(loaded)) {
    if (k.startsWith('arg:')) argParams[k.slice(4)] = v;
    else if (k.startsWith('aux:')) auxParams[k.slice(4)] = v;
    else argParams[k] = v;
  }
  return { argParams, auxParams };
}

/**
 * await mx.loadCheckpoint(symbolJsonText, paramsArrayBuffer[, initOptions]): an MXNet model
 * (the -symbol.json text and the .params bytes, as saved by save_checkpoint or Gluon's
 * export) ready for `await model.forward({data})`. Loads the WebAssembly core if needed.
 */
export async function loadCheckpoint(symbolJson, params, initOptions = {}) {
  await init(initOptions);
  const symbol = Symbol.fromJSON(symbolJson);
  let loaded;
  try {
    loaded = loadFromBuffer(params);
  } catch (e) {
    symbol.dispose();
    throw e;
  }
  if (Array.isArray(loaded)) {
    loaded.forEach((a) => a.dispose());
    symbol.dispose();
    throw new InvalidArgumentError({ code: 1, kind: 'InvalidArgument',
      message: 'loadCheckpoint: the .params file holds unnamed arrays, not a checkpoint' });
  }
  const { argParams, auxParams } = splitParams(loaded);
  return new Model(symbol, argParams, auxParams);
}

/** The two files of MXNet's save_checkpoint: {symbolJson, params (Uint8Array)}. */
export function checkpointBytes(symbol, argParams, auxParams, saveToBuffer) {
  const d = {};
  for (const [k, v] of Object.entries(argParams)) d[`arg:${k}`] = v;
  for (const [k, v] of Object.entries(auxParams)) d[`aux:${k}`] = v;
  return { symbolJson: symbol.toJSON(), params: saveToBuffer(d) };
}
