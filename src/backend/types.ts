// The one op interface that every backend implements (native, js, cuda).
// Shapes have been validated by src/ops.ts before these are called, and output
// buffers are allocated by the caller: a kernel writes y and allocates nothing
// that outlives the call.
import type { NativeConvParams, NativePlanStep, NativePoolParams } from '../native-binding.js';
import type { Mode } from '../modes.js';

export type BackendName = 'native' | 'js' | 'cuda';

/** Weights packed once per backend (opaque to callers). */
export interface PackedWeights {
  readonly backend: BackendName;
}

export type ConvParams = NativeConvParams;
export type PoolParams = NativePoolParams;

/** A backend's opaque compiled op sequence (see KernelBackend.createPlan). */
export interface BackendPlan {
  readonly backend: BackendName;
}

/** One step of a plan: NativePlanStep with the backend's own packed weights. */
export type PlanStep = DistributiveReplace<NativePlanStep>;
type DistributiveReplace<S> = S extends { packed: unknown } ? Omit<S, 'packed'> & { packed: PackedWeights } : S;

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
