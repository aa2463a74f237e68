// A dense tensor in ONNX Runtime's shape: new Tensor('float32', data, dims), or
// new Tensor('float16', Uint16Array of IEEE half bit patterns, dims) for the
// inputs and outputs of float16 models (as onnxruntime-node takes and returns them).
import { describe, invalid, isNonNegativeInt, outOfRange } from './is.js';
import { elementCount } from './shapes.js';

export type TensorType = 'float32' | 'float16';
/** The data array of each element type: float16 values are their bit patterns. */
export type TensorData<T extends TensorType> = T extends 'float16' ? Uint16Array : Float32Array;

/** The most elements one tensor may hold (16 GiB of float32): anything larger is a mistake, not a model. */
export const MAX_TENSOR_ELEMENTS = 2 ** 32;


export function checkDims(where: string, name: string, dims: unknown): number[] {
  if (!Array.isArray(dims)) throw invalid(where, name, 'an array of non-negative integers', dims);
  dims.forEach((d, i) => {
    if (typeof d !== 'number') throw invalid(where, `${name}[${i}]`, 'a non-negative integer', d);
    if (!isNonNegativeInt(d)) throw outOfRange(where, `${name}[${i}]`, 'a non-negative integer', d);
  });
  const count = elementCount(dims as number[]);
  if (count > MAX_TENSOR_ELEMENTS) {
    throw outOfRange(where, name, `at most ${MAX_TENSOR_ELEMENTS} elements`, `${describe(dims)} (${count} elements)`);
  }
  return [...(dims as number[])];
}

export class Tensor<T extends TensorType = 'float32'> {
  readonly type: T;
  readonly data: TensorData<T>;
  readonly dims: readonly number[];
  readonly size: number;

  constructor(type: 'float32', data: Float32Array | readonly number[], dims?: readonly number[]);
  constructor(type: 'float16', data: Uint16Array, dims?: readonly number[]);
  constructor(data: Float32Array, dims?: readonly number[]);
  constructor(a: unknown, b?: unknown, c?: unknown) {
    const where = 'Tensor';
    let type: unknown = 'float32';
    let data: unknown = a;
    let dims: unknown = b;
    if (typeof a === 'string') [type, data, dims] = [a, b, c];
    if (type !== 'float32' && type !== 'float16') throw invalid(where, 'type', "'float32' or 'float16'", type);
    if (type === 'float32' && Array.isArray(data)) {
      if (!data.every((v) => typeof v === 'number')) throw invalid(where, 'data', 'an array of numbers', data);
      data = Float32Array.from(data as number[]);
    }
    if (type === 'float32' && !(data instanceof Float32Array)) throw invalid(where, 'data', 'a Float32Array', data);
    if (type === 'float16' && !(data instanceof Uint16Array)) throw invalid(where, 'data', 'a Uint16Array (float16 bit patterns)', data);
    this.type = type as T;
    this.data = data as TensorData<T>;
    this.dims = Object.freeze(checkDims(where, 'dims', dims ?? [this.data.length]));
    this.size = elementCount(this.dims);
    if (this.data.length !== this.size) {
      throw new RangeError(`${where}: data has ${this.data.length} elements but dims ${describe(this.dims)} need ${this.size}`);
    }
  }

  /** A tensor of zeros. */
  static zeros(dims: readonly number[]): Tensor {
    const checked = checkDims('Tensor.zeros', 'dims', dims);
    return new Tensor('float32', new Float32Array(elementCount(checked)), checked);
  }

  /** The same data seen with other dims of equal element count. */
  reshape(dims: readonly number[]): Tensor<T> {
    return new Tensor(this.type as 'float32', this.data as Float32Array, dims) as unknown as Tensor<T>;
  }
}

/** What a feed may be besides a Tensor: any object of ONNX Runtime's Tensor shape. */
export interface TensorLike {
  readonly type: 'float32';
  readonly data: Float32Array;
  readonly dims: readonly number[];
}
/** A float16 feed of ONNX Runtime's Tensor shape. */
export interface Float16TensorLike {
  readonly type: 'float16';
  readonly data: Uint16Array;
  readonly dims: readonly number[];
}

const TENSOR_OR_LIKE = "a Tensor (or an object of ONNX Runtime's Tensor shape: { type: 'float32', data: Float32Array, dims })";

/**
 * A float16 feed as a Tensor<'float16'> (a Tensor itself or an object of ORT's
 * Tensor shape), checked as asTensor checks float32 ones.
 */
export function asFloat16Tensor(where: string, name: string, t: unknown): Tensor<'float16'> {
  const o = t as Partial<Float16TensorLike> | null;
  if (typeof o !== 'object' || o === null || o.type !== 'float16') throw invalid(where, name, "a float16 Tensor: new Tensor('float16', Uint16Array, dims) (the model's input is float16)", t);
  if (!(o.data instanceof Uint16Array)) throw invalid(where, `${name}.data`, 'a Uint16Array (float16 bit patterns)', o.data);
  const dims = checkDims(where, `${name}.dims`, o.dims);
  if (o.data.buffer.byteLength === 0 && elementCount(dims) > 0) throw new TypeError(`${where}: ${name} has a detached buffer (was it transferred to a worker?)`);
  if (o.data.length !== elementCount(dims)) throw new RangeError(`${where}: ${name} has ${o.data.length} elements but its dims ${describe(dims)} need ${elementCount(dims)}`);
  return t instanceof Tensor ? (t as Tensor<'float16'>) : new Tensor('float16', o.data, dims);
}

/**
 * A feed as a Tensor: a Tensor itself, or a TensorLike (an ort.Tensor, or a
 * plain { type, data, dims }) seen as one, sharing its data. Checks it as
 * checkTensor does.
 */
export function asTensor(where: string, name: string, t: unknown): Tensor {
  if (t instanceof Tensor && t.type === 'float16') throw invalid(where, `${name}.type`, "'float32' (the model's input is float32)", 'float16');
  if (t instanceof Tensor) return checkTensor(where, name, t);
  const o = t as Partial<TensorLike> | null;
  if (typeof o !== 'object' || o === null || !('type' in o) || !('data' in o) || !('dims' in o)) throw invalid(where, name, TENSOR_OR_LIKE, t);
  if (o.type !== 'float32') throw invalid(where, `${name}.type`, "'float32'", o.type);
  if (!(o.data instanceof Float32Array)) throw invalid(where, `${name}.data`, 'a Float32Array', o.data);
  const dims = checkDims(where, `${name}.dims`, o.dims);
  if (o.data.buffer.byteLength === 0 && elementCount(dims) > 0) {
    throw new TypeError(`${where}: ${name} has a detached buffer (was it transferred to a worker?)`);
  }
  if (o.data.length !== elementCount(dims)) {
    throw new RangeError(`${where}: ${name} has ${o.data.length} elements but its dims ${describe(dims)} need ${elementCount(dims)}`);
  }
  return new Tensor('float32', o.data, dims);
}

/**
 * Checks, at call time, that a tensor's buffer still holds its data: a buffer
 * can be transferred to a worker (detached) after the Tensor was made.
 */
export function checkTensor(where: string, name: string, t: unknown, rank?: number): Tensor {
  if (!(t instanceof Tensor)) throw invalid(where, name, 'a Tensor', t);
  if (t.type !== 'float32') throw invalid(where, `${name}.type`, "'float32'", t.type);
  if (t.data.buffer.byteLength === 0 && t.size > 0) {
    throw new TypeError(`${where}: ${name} has a detached buffer (was it transferred to a worker?)`);
  }
  if (t.data.length !== t.size) {
    throw new RangeError(`${where}: ${name} has ${t.data.length} elements but its dims ${describe(t.dims)} need ${t.size}`);
  }
  if (rank !== undefined && t.dims.length !== rank) {
    throw new RangeError(`${where}: expected a rank-${rank} tensor for ${name} but received dims ${describe(t.dims)}`);
  }
  return t;
}
