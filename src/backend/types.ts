// The one op interface that every backend implements (native, js, cuda).
// Shapes have been validated by src/ops.ts before these are called, and output
// buffers are allocated by the caller: a kernel writes y and allocates nothing
// that outlives the call.
import type { Mode } from '../modes.js';

import type { BackendName } from './name.js';
export type { BackendName };

/** Weights packed once per backend (opaque to callers). */
export interface PackedWeights {
  readonly backend: BackendName;
}

export interface ConvParams {
  /** [n, cIn, h, w] */
  inputDims: number[];
  /** cOut, kh, kw, groups must match the packed weights */
  cOut: number;
  kh: number;
  kw: number;
  groups: number;
  /** [sh, sw] */
  strides: number[];
  /** [top, left, bottom, right] */
  pads: number[];
  /** [dh, dw] */
  dilations: number[];
  /** [outH, outW] (src/shapes.ts's convOutputSize) */
  outDims: number[];
  relu: boolean;
  threads: number;
}

export interface PoolParams {
  inputDims: number[]; // [n, c, h, w]
  kernel: number[]; // [kh, kw]
  strides: number[];
  pads: number[]; // [top, left, bottom, right]
  dilations: number[];
  outDims: number[]; // [outH, outW]
  threads: number;
}

/** A backend's opaque compiled op sequence (see KernelBackend.createPlan). */
export interface BackendPlan {
  readonly backend: BackendName;
}

/**
 * One step of a lowered plan, with `W` the packed-weight handle type. `inputs`
 * and `output` index the run's buffer list (graph inputs, then the arena's
 * slots, then constants); the other fields are the resolved arguments of the
 * op's kernel call (conv: inputs [x] or [x, residual]; add: [a, b]; else [x]).
 */
export type PlanStepOf<W> = { inputs: number[]; output: number } & (
  | { op: 'conv'; packed: W; p: ConvParams }
  | { op: 'gemm'; packed: W; m: number; relu: boolean; threads: number }
  | { op: 'maxPool'; p: PoolParams }
  | { op: 'averagePool'; p: PoolParams; countIncludePad: boolean }
  | { op: 'globalAveragePool'; n: number; c: number; hw: number; threads: number }
  | { op: 'add'; count: number; relu: boolean; threads: number }
  | { op: 'copy' | 'relu'; count: number }
  | { op: 'transpose'; rows: number; cols: number }
);
export type PlanStep = PlanStepOf<PackedWeights>;

export interface KernelBackend {
  readonly name: BackendName;
  /**
   * weight: [cOut, cIn/groups, kh, kw] flattened; bias: [cOut] or null. mode 'fast'
   * lets a backend also prepare a faster, less exact algorithm (see src/modes.ts).
   */
  packConv2d(weight: Float32Array, bias: Float32Array | null, cOut: number, cInPerGroup: number, kh: number, kw: number, groups: number, mode?: Mode): PackedWeights;
  /**
   * Whether conv2d accepts y === residual (y += conv(x)): the memory plan then
   * lets a Conv that is its residual's last reader write over it.
   */
  readonly residualInPlace?: boolean;
  /** y = act(conv(x) + bias + residual); residual has y's shape or is null. */
  conv2dSync(packed: PackedWeights, x: Float32Array, residual: Float32Array | null, y: Float32Array, p: ConvParams): void;
  conv2d(packed: PackedWeights, x: Float32Array, residual: Float32Array | null, y: Float32Array, p: ConvParams): Promise<void>;
  /** The micro-kernel conv2d runs for these params, e.g. 'f32_dconv_14x32s1__avx512f' (for profiles). */
  convKernel?(packed: PackedWeights, p: ConvParams): string;

  /** weight: [nOut, k]; y[m, n] = sum_k x[m, k]·W[n, k] + bias[n]. */
  packGemm(weight: Float32Array, bias: Float32Array | null, nOut: number, k: number): PackedWeights;
  gemmSync(packed: PackedWeights, x: Float32Array, m: number, relu: boolean, y: Float32Array, threads: number): void;
  gemm(packed: PackedWeights, x: Float32Array, m: number, relu: boolean, y: Float32Array, threads: number): Promise<void>;
  /** The micro-kernel gemm runs for m rows. */
  gemmKernel?(packed: PackedWeights, m: number): string;

  maxPoolSync(x: Float32Array, y: Float32Array, p: PoolParams): void;
  maxPool(x: Float32Array, y: Float32Array, p: PoolParams): Promise<void>;
  averagePoolSync(x: Float32Array, y: Float32Array, p: PoolParams, countIncludePad: boolean): void;
  averagePool(x: Float32Array, y: Float32Array, p: PoolParams, countIncludePad: boolean): Promise<void>;
  globalAveragePoolSync(x: Float32Array, y: Float32Array, n: number, c: number, hw: number, threads: number): void;
  globalAveragePool(x: Float32Array, y: Float32Array, n: number, c: number, hw: number, threads: number): Promise<void>;
  addSync(a: Float32Array, b: Float32Array, y: Float32Array, relu: boolean, threads: number): void;
  add(a: Float32Array, b: Float32Array, y: Float32Array, relu: boolean, threads: number): Promise<void>;

  /** Frees packed weights now rather than at garbage collection (idempotent; later use throws). */
  release?(p: PackedWeights | BackendPlan): void;
  /** Whole-model execution in one call: steps index the buffer list given to runPlan/runPlanSync. */
  createPlan?(steps: PlanStep[]): BackendPlan;
  runPlanSync?(plan: BackendPlan, buffers: Float32Array[]): void;
  runPlan?(plan: BackendPlan, buffers: Float32Array[]): Promise<void>;
}
