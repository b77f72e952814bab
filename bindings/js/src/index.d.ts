// Types of the hand-written part of the mxnext JS API; the operators' types are generated
// (gen/ops.d.ts, gen/symbol_ops.d.ts).
import * as genNd from './gen/ops.js';
import * as genSym from './gen/symbol_ops.js';

export type DType = 'float32' | 'float64' | 'float16' | 'uint8' | 'int32' | 'int8' | 'int64' | 'bool';
export type Device = 'cpu' | 'gpu' | { type: 'cpu' | 'gpu'; id?: number };
export type TypedArray = Float32Array | Float64Array | Uint16Array | Uint8Array | Int32Array |
  Int8Array | BigInt64Array;
export const DTYPES: DType[];

export interface InitOptions {
  /** Folder URL serving mxnext_wasm.wasm, or {'mxnext_wasm.wasm': url}. */
  wasmPaths?: string | { 'mxnext_wasm.wasm': string };
  /** The .wasm bytes: nothing is fetched. */
  wasmBinary?: ArrayBuffer | Uint8Array;
  verbose?: boolean;
}
/** Loads the WebAssembly core once; resolves to the library version. */
export function init(options?: InitOptions): Promise<string>;
export function isLoaded(): boolean;
export function version(): string;
export interface MemoryInfo {
  numHandles: number; byKind: Record<string, number>; numArrays: number;
  liveBytes?: number; peakBytes?: number; cachedBytes?: number; wasmHeapBytes?: number;
}
export function memory(): MemoryInfo;
export function engineInfo(): { name: string; workers: number };
export function fs(): any;

export class MXNetError extends Error {
  code: number; kind: string; opName: string; argIndex: number | null; axis: number | null;
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
export class LoadError extends Error {}
export class DisposedError extends Error {}

export class NDArray {
  readonly shape: number[];
  readonly ndim: number;
  readonly size: number;
  readonly dtype: DType;
  readonly isDisposed: boolean;
  dataSync(): TypedArray;
  data(): Promise<TypedArray>;
  bytes(): Uint8Array;
  toArray(): any;
  waitToRead(): this;
  copyTo(other: NDArray): NDArray;
  copy(): NDArray;
  astype(dtype: DType): NDArray;
  reshape(shape: number[], reverse?: boolean): NDArray;
  slice(begin: number, end: number): NDArray;
  at(index: number): NDArray;
  dispose(): void;
}

export interface ShapeResult { args: (number[] | null)[]; outputs: (number[] | null)[]; aux: (number[] | null)[] }
export type GradReq = 'write' | 'add' | 'null';
export class Symbol {
  static variable(name: string): Symbol;
  static fromJSON(json: string): Symbol;
  static group(symbols: Symbol[]): Symbol;
  readonly name: string;
  toJSON(): string;
  listArguments(): string[];
  listOutputs(): string[];
  listAuxiliaryStates(): string[];
  listInputs(): string[];
  getInternals(): Symbol;
  output(index: number): Symbol;
  inferShape(shapes: Record<string, number[]>, partial?: boolean): ShapeResult;
  inferType(dtypes?: Record<string, DType>): { args: DType[]; outputs: DType[]; aux: DType[] };
  bind(opts: { args: NDArray[] | Record<string, NDArray>; grads?: (NDArray | null)[] | Record<string, NDArray> | null;
    gradReq?: GradReq | GradReq[] | Record<string, GradReq>; aux?: NDArray[] | Record<string, NDArray> }): Executor;
  simpleBind(opts: { shapes: Record<string, number[]>; gradReq?: GradReq | GradReq[] | Record<string, GradReq>;
    dtypes?: Record<string, DType> }): Executor;
  dispose(): void;
}
export class Executor {
  readonly outputs: NDArray[];
  readonly argDict: Record<string, NDArray>;
  readonly gradDict: Record<string, NDArray>;
  readonly auxDict: Record<string, NDArray>;
  forward(isTrain?: boolean): NDArray[];
  backward(headGrads?: NDArray[]): void;
  memoryReport(): any;
  dispose(): void;
}
export class Model {
  readonly symbol: Symbol;
  readonly argParams: Record<string, NDArray>;
  readonly auxParams: Record<string, NDArray>;
  readonly inputNames: string[];
  forward(feeds: Record<string, NDArray>, opts?: { isTrain?: boolean }): Promise<NDArray[]>;
  forwardSync(feeds: Record<string, NDArray>, opts?: { isTrain?: boolean }): NDArray[];
  dispose(): void;
}
export function loadCheckpoint(symbolJson: string, params: ArrayBuffer | Uint8Array,
  initOptions?: InitOptions): Promise<Model>;
export function saveCheckpoint(symbol: Symbol, argParams: Record<string, NDArray>,
  auxParams: Record<string, NDArray>): { symbolJson: string; params: Uint8Array };

/** A key: an integer or a string (passed to the core unchanged). */
export type KVKey = number | bigint | string;
/** One key's arrays: an NDArray or several (a push sums them; a pull fills each). */
export type KVArrays = NDArray | NDArray[];
/** An optimizer of the core by name, with its schema parameters (learning_rate, wd,
 * rescale_grad, clip_gradient, momentum, beta1, ...). */
export class Optimizer {
  constructor(name: string, params?: Record<string, number | boolean | string | null>);
  readonly name: string;
  readonly isDisposed: boolean;
  dispose(): void;
}
/** MXNet's KVStore over the core: one key with its arrays, or an array of keys with one entry
 * per key. */
export class KVStore {
  constructor(type?: 'local' | 'device');
  readonly type: string;
  readonly rank: number;
  readonly numWorkers: number;
  readonly isDisposed: boolean;
  init(keys: KVKey | KVKey[], values: NDArray | NDArray[]): this;
  push(keys: KVKey | KVKey[], values: KVArrays | KVArrays[], opts?: { priority?: number }): this;
  pull<T extends KVArrays | KVArrays[]>(keys: KVKey | KVKey[], out: T, opts?: { priority?: number }): T;
  pushpull(keys: KVKey | KVKey[], values: KVArrays | KVArrays[], out?: KVArrays | KVArrays[] | null,
    opts?: { priority?: number }): KVArrays | KVArrays[];
  setOptimizer(optimizer: Optimizer): this;
  dispose(): void;
}
export const kv: { create(type?: 'local' | 'device'): KVStore; KVStore: typeof KVStore };
export const optimizer: {
  create(name: string, params?: Record<string, number | boolean | string | null>): Optimizer;
  Optimizer: typeof Optimizer;
};

type Public<T> = { [K in keyof T as K extends `_${string}` ? never : K]: T[K] };
type Internal<T> = { [K in keyof T as K extends `_${string}` ? K : never]: T[K] };

export const nd: Public<typeof genNd> & {
  _internal: Internal<typeof genNd>;
  NDArray: typeof NDArray;
  array(data: TypedArray | ArrayLike<number | bigint | boolean> | any[], shape?: number[], dtype?: DType): NDArray;
  empty(shape: number[], dtype?: DType): NDArray;
  zeros(shape: number[], dtype?: DType): NDArray;
  ones(shape: number[], dtype?: DType): NDArray;
  waitall(): void;
  invoke(name: string, inputs: NDArray[], params?: Record<string, unknown>): NDArray | NDArray[];
  save(path: string, data: NDArray[] | Record<string, NDArray>): void;
  load(path: string): NDArray[] | Record<string, NDArray>;
  saveToBuffer(data: NDArray[] | Record<string, NDArray>): Uint8Array;
  loadFromBuffer(buffer: ArrayBuffer | Uint8Array): NDArray[] | Record<string, NDArray>;
};
declare const sym_: Public<typeof genSym> & {
  _internal: Internal<typeof genSym>;
  Variable(name: string): Symbol;
  var(name: string): Symbol;
  fromJSON(json: string): Symbol;
  load_json(json: string): Symbol;
  Group(symbols: Symbol[]): Symbol;
};
export { sym_ as sym, sym_ as symbol };
export const random: { seed(value: number | bigint): void };
