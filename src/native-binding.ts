// The contract between the TypeScript layer and the compiled addon
// (build/Release/resnode.node). TypeScript validates every argument before it
// reaches these functions; the addon trusts shapes and only asserts invariants.
// Each op has a synchronous form and an async form that runs on the libuv pool
// and resolves when the output buffer has been written.

import type { ConvParams, PlanStepOf, PlanView, PoolParams } from './backend/types.js';

/** x86-64 builds have 'avx512f' | 'avx2' | 'scalar'; arm64 builds 'neon' | 'scalar'. */
export type NativeIsa = 'avx512f' | 'avx2' | 'neon' | 'scalar';

/** Opaque handle to weights packed once for the ISA active at pack time. */
export interface NativePacked {
  readonly __packed: unique symbol;
}

/** The op interface's params (src/backend/types.ts), as the addon reads them. */
export type NativeConvParams = ConvParams;
export type NativePoolParams = PoolParams;

/** Opaque handle to a checked op sequence (createPlan). */
export interface NativePlan {
  readonly __plan: unique symbol;
}

/** One step of a plan (see PlanStepOf), with the addon's own packed handles. */
export type NativePlanStep = PlanStepOf<NativePacked>;

/** Process-wide native resource counters (all environments and worker_threads). */
export interface NativeStats {
  /** packConv2d/packGemm handles neither collected nor released. */
  packedHandles: number;
  /** Their packed bytes. */
  packedBytes: number;
  /** Async ops (and runPlan calls) queued or running. */
  asyncInFlight: number;
  /** Per-thread kernel scratch held now (grown on demand, kept for reuse). */
  scratchBytes: number;
}

/** The activations' quantization of an int8 conv (the model's uint8 or int8 ranges). */
export interface NativeQConvQuant {
  xScale: number;
  xZeroPoint: number;
  xQmin: number;
  xQmax: number;
  yScale: number;
  yZeroPoint: number;
  yQmin: number;
  yQmax: number;
}

export interface NativeBinding {
  /** bf16: whether mode 'bf16' can run now; bf16Missing: why not (the missing CPU feature or the cap). */
  info(): { isa: NativeIsa; detectedIsa: NativeIsa; threads: number; defaultThreads: number; bf16: boolean; bf16Missing?: string; vnni: boolean; cuda: { compiled: boolean; available: boolean; device?: string } };
  /** 'auto' restores the detected ISA; a path the CPU lacks throws. */
  setIsa(isa: NativeIsa | 'auto'): void;
  setThreads(n: number): void;

  /** weight: [cOut, cIn/groups, kh, kw] flattened; bias: [cOut] or null. */
  /** mode 'fast' lets 3×3 groups-1 convs use Winograd F(4×4,3×3) or F(2×2,3×3) (AVX-512 only; weights transformed on first use). */
  packConv2d(weight: Float32Array, bias: Float32Array | null, cOut: number, cInPerGroup: number, kh: number, kw: number, groups: number, mode?: 'exact' | 'fast' | 'bf16'): NativePacked;
  /** The fp32 FMA peak (GFLOP/s) of `threads` threads, measured now on the active ISA; kind 'bf16': the vdpbf16ps peak; 'vnni': the vpdpbusd peak (GOP/s). */
  measurePeak(threads: number, kind?: 'fp32' | 'bf16' | 'vnni'): number;
  conv2dSync(packed: NativePacked, x: Float32Array, residual: Float32Array | null, y: Float32Array, p: NativeConvParams): void;
  conv2d(packed: NativePacked, x: Float32Array, residual: Float32Array | null, y: Float32Array, p: NativeConvParams): Promise<void>;
  /** The micro-kernel conv2d runs for these params (that of its main tiles). */
  convKernel(packed: NativePacked, p: NativeConvParams): string;

  /**
   * An int8 conv's weights for a 'qconv' plan step (groups 1): weight [cOut, cIn, kh, kw] and bias
   * [cOut] hold int8 / int32 integers, multipliers [cOut]; q the activations' quantization. The
   * qu8s8 GEMM kernel is fixed for the active ISA.
   */
  packQConv2d(weight: Float32Array, bias: Float32Array | null, multipliers: Float32Array, cOut: number, cIn: number, kh: number, kw: number, q: NativeQConvQuant): NativePacked;

  /** A groups-1 conv's weights for a 'convNhwc' plan step: the igemm panels for the active ISA. */
  packConv2dNhwc(weight: Float32Array, bias: Float32Array | null, cOut: number, cIn: number, kh: number, kw: number): NativePacked;

  /** weight: [nOut, k] (y = x·Wᵀ + b); bias: [nOut] or null. */
  packGemm(weight: Float32Array, bias: Float32Array | null, nOut: number, k: number): NativePacked;
  gemmSync(packed: NativePacked, x: Float32Array, m: number, relu: boolean, y: Float32Array, threads: number): void;
  gemm(packed: NativePacked, x: Float32Array, m: number, relu: boolean, y: Float32Array, threads: number): Promise<void>;
  /** The micro-kernel gemm runs for m rows. */
  gemmKernel(packed: NativePacked, m: number): string;

  maxPoolSync(x: Float32Array, y: Float32Array, p: NativePoolParams): void;
  maxPool(x: Float32Array, y: Float32Array, p: NativePoolParams): Promise<void>;
  averagePoolSync(x: Float32Array, y: Float32Array, p: NativePoolParams, countIncludePad: boolean): void;
  averagePool(x: Float32Array, y: Float32Array, p: NativePoolParams, countIncludePad: boolean): Promise<void>;
  globalAveragePoolSync(x: Float32Array, y: Float32Array, n: number, c: number, hw: number, threads: number, nhwc?: boolean): void;
  globalAveragePool(x: Float32Array, y: Float32Array, n: number, c: number, hw: number, threads: number, nhwc?: boolean): Promise<void>;
  addSync(a: Float32Array, b: Float32Array, y: Float32Array, relu: boolean, threads: number): void;
  add(a: Float32Array, b: Float32Array, y: Float32Array, relu: boolean, threads: number): Promise<void>;
  /** dst[i] = src[i] widened from float16 bits (F16C where the CPU has AVX2); absent in addons built before it. */
  float16ToFloat32?(src: Uint16Array, dst: Float32Array): void;
  /** dst[i] = src[i] rounded to float16 (nearest, ties to even). */
  float32ToFloat16?(src: Float32Array, dst: Uint16Array): void;

  stats(): NativeStats;
  /** Frees a packed-weight or plan handle now (idempotent); later use throws TypeError "…has been released". */
  release(handle: NativePacked | NativePlan): void;

  /**
   * Checks the steps once; the plan keeps its own reference to the packed weights. views: buffer
   * indices bound to a run of another buffer at each run (PlanLayout.views), not to their own entry.
   */
  createPlan(steps: NativePlanStep[], views?: readonly PlanView[]): NativePlan;
  /** Runs every step in order; checks the buffers' types, lengths and overlaps first. */
  runPlanSync(plan: NativePlan, buffers: Float32Array[]): void;
  /** As runPlanSync, in one job on the libuv pool. */
  runPlan(plan: NativePlan, buffers: Float32Array[]): Promise<void>;
  /** The micro-kernel each step runs, as chosen at createPlan ('' for a step with none to name). */
  planKernels(plan: NativePlan): string[];
}
