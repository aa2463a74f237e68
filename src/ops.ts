// Kernel-level operators on Tensors, for benchmarking and for custom pipelines.
// Every argument is validated here, once, before any backend sees it.
import { getBackend } from './backend/index.js';
import type { KernelBackend, PackedWeights } from './backend/types.js';
import { bool, describe, intTuple, invalid, nonNegativeInt, oneOf, outOfRange, plainObject, positiveInt } from './is.js';
import { checkMode, type Mode } from './modes.js';
import { checkTensor, Tensor } from './tensor.js';
import { convOutputSize, elementCount, poolOutputSize } from './shapes.js';
import { requireModeSupported } from './mode-support.js';
import { currentThreads } from './threads.js';

/** Outputs above this many elements (4 GiB of float32) are refused as absurd. */
export const MAX_OUTPUT_ELEMENTS = 2 ** 30;

export interface Conv2dOptions {
  bias?: Tensor;
  stride?: number | [number, number];
  /** A number, [padH, padW], or ONNX order [top, left, bottom, right]. */
  pads?: number | [number, number] | [number, number, number, number];
  dilation?: number | [number, number];
  groups?: number;
  /** Added before the ReLU; must have the output's dims. */
  residual?: Tensor;
  relu?: boolean;
  backend?: 'native' | 'js' | 'cuda';
  threads?: number;
  /** 'fast' allows Winograd F(4×4,3×3) or F(2×2,3×3) for 3×3 stride-1 convs (native AVX-512); 'bf16' runs bf16 products with fp32 sums (native, AVX512_BF16); see src/modes.ts. */
  mode?: Mode;
}

/** Conv weights packed once for a backend; pass it to conv2d in place of the weight Tensor. */
export class PackedConv2d {
  /** @internal */
  constructor(
    readonly backend: KernelBackend,
    readonly packed: PackedWeights,
    readonly dims: readonly number[],
    readonly groups: number,
    readonly hasBias: boolean,
  ) {}
}

function threadsOption(where: string, v: unknown): number {
  return v === undefined ? currentThreads() : positiveInt(where, 'options.threads', v);
}

function outputTensor(where: string, dims: number[]): Tensor {
  dims.forEach((d, i) => {
    if (d < 1) throw new RangeError(`${where}: the output would have dims ${describe(dims)}: dimension ${i} is ${d}; the kernel or padding does not fit the input`);
  });
  const count = elementCount(dims);
  if (count > MAX_OUTPUT_ELEMENTS) {
    throw new RangeError(`${where}: the output would have dims ${describe(dims)} (${count} elements), more than the limit of ${MAX_OUTPUT_ELEMENTS}`);
  }
  return new Tensor('float32', new Float32Array(count), dims);
}

function padsOption(where: string, v: unknown): number[] {
  if (Array.isArray(v) && v.length === 2) {
    const [ph, pw] = intTuple(where, 'options.pads', v, 2, 0, nonNegativeInt);
    return [ph, pw, ph, pw];
  }
  return intTuple(where, 'options.pads', v, 4, 0, nonNegativeInt);
}

export function packConv2d(w: Tensor, options: { bias?: Tensor; groups?: number; backend?: 'native' | 'js' | 'cuda'; mode?: Mode } = {}): PackedConv2d {
  return packConv2dFor('packConv2d', w, options);
}

/** packConv2d, with errors naming `where` (conv2d packs its weight Tensor through this). */
function packConv2dFor(where: string, w: Tensor, options: unknown): PackedConv2d {
  const o = plainObject(where, 'options', options);
  checkTensor(where, 'weight', w, 4);
  const groups = o.groups === undefined ? 1 : positiveInt(where, 'options.groups', o.groups);
  const [cOut, cInPerGroup, kh, kw] = w.dims as number[];
  if (w.size === 0) throw new RangeError(`${where}: weight has dims ${describe(w.dims)}; every dimension must be at least 1`);
  if (cOut % groups !== 0) throw new RangeError(`${where}: groups (${groups}) must divide the weight's ${cOut} output channels`);
  let bias: Float32Array | null = null;
  if (o.bias !== undefined) {
    checkTensor(where, 'options.bias', o.bias, 1);
    const b = o.bias as Tensor;
    if (b.size !== cOut) throw new RangeError(`${where}: bias has ${b.size} elements but weight has ${cOut} output channels`);
    bias = b.data;
  }
  const backend = getBackend(where, o.backend);
  const mode = checkMode(where, o.mode, backend.name);
  requireModeSupported(where, mode, backend.name);
  return new PackedConv2d(backend, backend.packConv2d(w.data, bias, cOut, cInPerGroup, kh, kw, groups, mode), w.dims, groups, bias !== null);
}

function prepareConv2d(x: Tensor, w: Tensor | PackedConv2d, options: Conv2dOptions) {
  const where = 'conv2d';
  const o = plainObject(where, 'options', options);
  checkTensor(where, 'input', x, 4);
  let packed: PackedConv2d;
  if (w instanceof PackedConv2d) {
    if (o.bias !== undefined) throw new TypeError(`${where}: the bias was packed with the weight; do not pass options.bias with a PackedConv2d`);
    if (o.groups !== undefined && o.groups !== w.groups) throw new RangeError(`${where}: options.groups is ${describe(o.groups)} but the weight was packed with groups ${w.groups}`);
    if (o.mode !== undefined) throw new TypeError(`${where}: the mode was chosen when the weight was packed; do not pass options.mode with a PackedConv2d`);
    if (o.backend !== undefined && o.backend !== w.backend.name) throw new RangeError(`${where}: options.backend is ${describe(o.backend)} but the weight was packed for '${w.backend.name}'`);
    packed = w;
  } else {
    checkTensor(where, 'weight', w, 4);
    packed = packConv2dFor(where, w, { bias: o.bias, groups: o.groups, backend: o.backend, mode: o.mode });
  }
  const [n, c, h, wd] = x.dims as number[];
  const [cOut, cInPerGroup, kh, kw] = packed.dims as number[];
  const groups = packed.groups;
  if (c % groups !== 0) throw new RangeError(`${where}: groups (${groups}) must divide the input's ${c} channels`);
  if (cInPerGroup * groups !== c) {
    throw new RangeError(`${where}: weight has ${cInPerGroup * groups} input channels (${cInPerGroup} per group × ${groups} groups) but input has ${c}`);
  }
  const strides = intTuple(where, 'options.stride', o.stride, 2, 1, positiveInt);
  const dilations = intTuple(where, 'options.dilation', o.dilation, 2, 1, positiveInt);
  const pads = padsOption(where, o.pads);
  const outH = convOutputSize(h, kh, strides[0], pads[0], pads[2], dilations[0]);
  const outW = convOutputSize(wd, kw, strides[1], pads[1], pads[3], dilations[1]);
  if (n === 0 || c === 0 || h === 0 || wd === 0) throw new RangeError(`${where}: input has dims ${describe(x.dims)}; every dimension must be at least 1`);
  const y = outputTensor(where, [n, cOut, outH, outW]);
  let residual: Float32Array | null = null;
  if (o.residual !== undefined) {
    checkTensor(where, 'options.residual', o.residual, 4);
    const r = o.residual as Tensor;
    if (r.dims.some((d, i) => d !== y.dims[i])) {
      throw new RangeError(`${where}: residual has dims ${describe(r.dims)} but the output has ${describe(y.dims)}`);
    }
    residual = r.data;
  }
  const relu = bool(where, 'options.relu', o.relu, false);
  const threads = threadsOption(where, o.threads);
  const params = { inputDims: [n, c, h, wd], cOut, kh, kw, groups, strides, pads, dilations, outDims: [outH, outW], relu, threads };
  return { backend: packed.backend, packed: packed.packed, residual, y, params };
}

/**
 * y = act(conv(x, w) + bias + residual), off the JS thread. The inputs (x and
 * the residual) are copied before this returns, so detaching their buffers
 * (a transfer, postMessage) or writing to them while the promise is pending
 * is harmless: the result is that of the inputs at the call. The same holds
 * for every async op here and for Model.run.
 */
export async function conv2d(x: Tensor, w: Tensor | PackedConv2d, options: Conv2dOptions = {}): Promise<Tensor> {
  const p = prepareConv2d(x, w, options);
  await p.backend.conv2d(p.packed, x.data, p.residual, p.y.data, p.params);
  return p.y;
}

export function conv2dSync(x: Tensor, w: Tensor | PackedConv2d, options: Conv2dOptions = {}): Tensor {
  const p = prepareConv2d(x, w, options);
  p.backend.conv2dSync(p.packed, x.data, p.residual, p.y.data, p.params);
  return p.y;
}

export interface GemmOptions {
  bias?: Tensor;
  relu?: boolean;
  backend?: 'native' | 'js' | 'cuda';
  threads?: number;
}

function prepareGemm(x: Tensor, w: Tensor, options: GemmOptions) {
  const where = 'gemm';
  const o = plainObject(where, 'options', options);
  checkTensor(where, 'input', x, 2);
  checkTensor(where, 'weight', w, 2);
  const [m, k] = x.dims as number[];
  const [nOut, kw] = w.dims as number[];
  if (kw !== k) throw new RangeError(`${where}: weight has ${kw} input features but input has ${k}`);
  if (m === 0 || k === 0 || nOut === 0) throw new RangeError(`${where}: input ${describe(x.dims)} and weight ${describe(w.dims)} must have no zero dimension`);
  let bias: Float32Array | null = null;
  if (o.bias !== undefined) {
    checkTensor(where, 'options.bias', o.bias, 1);
    if ((o.bias as Tensor).size !== nOut) throw new RangeError(`${where}: bias has ${(o.bias as Tensor).size} elements but weight has ${nOut} outputs`);
    bias = (o.bias as Tensor).data;
  }
  const relu = bool(where, 'options.relu', o.relu, false);
  const threads = threadsOption(where, o.threads);
  const backend = getBackend(where, o.backend);
  const y = outputTensor(where, [m, nOut]);
  return { backend, packed: backend.packGemm(w.data, bias, nOut, k), m, relu, y, threads };
}

/** y = x·Wᵀ + b: x is [m, k], weight is [nOut, k] (a fully connected layer). */
export async function gemm(x: Tensor, w: Tensor, options: GemmOptions = {}): Promise<Tensor> {
  const p = prepareGemm(x, w, options);
  await p.backend.gemm(p.packed, x.data, p.m, p.relu, p.y.data, p.threads);
  return p.y;
}

export function gemmSync(x: Tensor, w: Tensor, options: GemmOptions = {}): Tensor {
  const p = prepareGemm(x, w, options);
  p.backend.gemmSync(p.packed, x.data, p.m, p.relu, p.y.data, p.threads);
  return p.y;
}

export interface PoolOptions {
  kernel: number | [number, number];
  stride?: number | [number, number];
  pads?: number | [number, number] | [number, number, number, number];
  dilation?: number | [number, number];
  ceilMode?: boolean;
  backend?: 'native' | 'js' | 'cuda';
  threads?: number;
}

export interface AveragePoolOptions extends Omit<PoolOptions, 'dilation'> {
  /** Divide by the full window (padding included), as ONNX's count_include_pad=1. */
  countIncludePad?: boolean;
}

function preparePool(where: string, x: Tensor, options: PoolOptions) {
  const o = plainObject(where, 'options', options);
  checkTensor(where, 'input', x, 4);
  if (o.kernel === undefined) throw invalid(where, 'options.kernel', 'a number or [kh, kw]', undefined);
  const kernel = intTuple(where, 'options.kernel', o.kernel, 2, 1, positiveInt);
  const strides = intTuple(where, 'options.stride', o.stride, 2, 1, positiveInt);
  const dilations = intTuple(where, 'options.dilation', o.dilation, 2, 1, positiveInt);
  const pads = padsOption(where, o.pads);
  pads.forEach((p, i) => {
    const k = kernel[i % 2];
    if (p >= dilations[i % 2] * (k - 1) + 1) throw outOfRange(where, `options.pads[${i}]`, `less than the window extent ${dilations[i % 2] * (k - 1) + 1}`, p);
  });
  const ceilMode = bool(where, 'options.ceilMode', o.ceilMode, false);
  const [n, c, h, w] = x.dims as number[];
  if (x.size === 0) throw new RangeError(`${where}: input has dims ${describe(x.dims)}; every dimension must be at least 1`);
  const outH = poolOutputSize(h, kernel[0], strides[0], pads[0], pads[2], dilations[0], ceilMode);
  const outW = poolOutputSize(w, kernel[1], strides[1], pads[1], pads[3], dilations[1], ceilMode);
  const y = outputTensor(where, [n, c, outH, outW]);
  const threads = threadsOption(where, o.threads);
  const backend = getBackend(where, o.backend);
  return { backend, y, params: { inputDims: [n, c, h, w], kernel, strides, pads, dilations, outDims: [outH, outW], threads } };
}

export async function maxPool(x: Tensor, options: PoolOptions): Promise<Tensor> {
  const p = preparePool('maxPool', x, options);
  await p.backend.maxPool(x.data, p.y.data, p.params);
  return p.y;
}

export function maxPoolSync(x: Tensor, options: PoolOptions): Tensor {
  const p = preparePool('maxPool', x, options);
  p.backend.maxPoolSync(x.data, p.y.data, p.params);
  return p.y;
}

function prepareAveragePool(x: Tensor, options: AveragePoolOptions) {
  const o = plainObject('averagePool', 'options', options);
  if (o.dilation !== undefined) throw new TypeError('averagePool: options.dilation is not supported (ONNX AveragePool has none before opset 19)');
  return { ...preparePool('averagePool', x, options), countIncludePad: bool('averagePool', 'options.countIncludePad', o.countIncludePad, false) };
}

export async function averagePool(x: Tensor, options: AveragePoolOptions): Promise<Tensor> {
  const p = prepareAveragePool(x, options);
  await p.backend.averagePool(x.data, p.y.data, p.params, p.countIncludePad);
  return p.y;
}

export function averagePoolSync(x: Tensor, options: AveragePoolOptions): Tensor {
  const p = prepareAveragePool(x, options);
  p.backend.averagePoolSync(x.data, p.y.data, p.params, p.countIncludePad);
  return p.y;
}

interface BackendOptions {
  backend?: 'native' | 'js' | 'cuda';
  threads?: number;
}

function prepareGlobalAveragePool(x: Tensor, options: BackendOptions) {
  const where = 'globalAveragePool';
  const o = plainObject(where, 'options', options);
  checkTensor(where, 'input', x, 4);
  const [n, c, h, w] = x.dims as number[];
  if (x.size === 0) throw new RangeError(`${where}: input has dims ${describe(x.dims)}; every dimension must be at least 1`);
  return { backend: getBackend(where, o.backend), y: outputTensor(where, [n, c, 1, 1]), n, c, hw: h * w, threads: threadsOption(where, o.threads) };
}

export async function globalAveragePool(x: Tensor, options: BackendOptions = {}): Promise<Tensor> {
  const p = prepareGlobalAveragePool(x, options);
  await p.backend.globalAveragePool(x.data, p.y.data, p.n, p.c, p.hw, p.threads);
  return p.y;
}

export function globalAveragePoolSync(x: Tensor, options: BackendOptions = {}): Tensor {
  const p = prepareGlobalAveragePool(x, options);
  p.backend.globalAveragePoolSync(x.data, p.y.data, p.n, p.c, p.hw, p.threads);
  return p.y;
}

export interface AddOptions extends BackendOptions {
  relu?: boolean;
}

function prepareAdd(a: Tensor, b: Tensor, options: AddOptions) {
  const where = 'add';
  const o = plainObject(where, 'options', options);
  checkTensor(where, 'a', a);
  checkTensor(where, 'b', b);
  if (a.dims.length !== b.dims.length || a.dims.some((d, i) => d !== b.dims[i])) {
    throw new RangeError(`${where}: a has dims ${describe(a.dims)} but b has ${describe(b.dims)}; they must match`);
  }
  const relu = bool(where, 'options.relu', o.relu, false);
  return { backend: getBackend(where, o.backend), y: new Tensor('float32', new Float32Array(a.size), a.dims), relu, threads: threadsOption(where, o.threads) };
}

/** y = a + b (same dims), with an optional ReLU. */
export async function add(a: Tensor, b: Tensor, options: AddOptions = {}): Promise<Tensor> {
  const p = prepareAdd(a, b, options);
  await p.backend.add(a.data, b.data, p.y.data, p.relu, p.threads);
  return p.y;
}

export function addSync(a: Tensor, b: Tensor, options: AddOptions = {}): Tensor {
  const p = prepareAdd(a, b, options);
  p.backend.addSync(a.data, b.data, p.y.data, p.relu, p.threads);
  return p.y;
}
