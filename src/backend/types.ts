// The one op interface that every backend implements (native, js, cuda).
// Shapes have been validated by src/ops.ts before these are called, and output
// buffers are allocated by the caller: a kernel writes y and allocates nothing
// that outlives the call.
import type { QConvIo } from '../plan/formats.js';
import type { Mode } from '../modes.js';

import type { BackendName } from './name.js';
import type { QConvAdd, QLinearAddParams, QuantParams, RequantizeNode } from '../graph/graph.js';
export type RequantParams = RequantizeNode['attrs'];
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
  /**
   * A fused Clip: y = min(max(v, clip[0]), clip[1]) after bias and residual
   * (ReLU6 is [0, 6]); never with relu. Absent: no clip.
   */
  clip?: [number, number];
  /**
   * A fused activation applied to the output after bias and residual (never
   * with relu or clip): the unary step's function with its alpha and beta.
   */
  act?: { fn: ConvActivationFn; alpha: number; beta: number };
  threads: number;
  /** y NHWC ([n, outH, outW, cOut]) from an NCHW x: a stem feeding NHWC layers; no residual, no act. */
  yNhwc?: boolean;
}

/** The unary functions a conv can apply to its output (ConvParams.act). */
export type ConvActivationFn = 'sigmoid' | 'silu' | 'hardSigmoid' | 'hardSwish';

export interface PoolParams {
  inputDims: number[]; // [n, c, h, w]
  kernel: number[]; // [kh, kw]
  strides: number[];
  pads: number[]; // [top, left, bottom, right]
  dilations: number[];
  outDims: number[]; // [outH, outW]
  threads: number;
  /** x and y are NHWC ([n, h, w, c], [n, outH, outW, c]; the dims above stay in NCHW order). */
  nhwc?: boolean;
}

/**
 * One step of a lowered plan, with `W` the packed-weight handle type. `inputs`
 * and `output` index the run's buffer list (graph inputs, then the arena's
 * slots, then constants); the other fields are the resolved arguments of the
 * op's kernel call (conv: inputs [x] or [x, residual]; add: [a, b]; else [x]).
 */
export type PlanStepOf<W> = { inputs: number[]; output: number } & (
  | { op: 'conv'; packed: W; p: ConvParams }
  /** A groups-1 float32 conv on NHWC values (x, the residual and y; p's dims in NCHW order); inputs [x] or [x, residual]. */
  | { op: 'convNhwc'; packed: W; p: ConvParams }
  /** x [n, c, hw] -> y [n, hw, c] (to 'nhwc') or back (to 'nchw'): a value's layout change between steps. */
  | { op: 'reorder'; n: number; c: number; hw: number; to: 'nhwc' | 'nchw'; threads: number }
  /** An int8 conv (ConvAttrs.int8); inputs [x]. io: x's and y's formats (src/plan/formats.ts), float32 NCHW where absent. */
  | { op: 'qconv'; packed: W; p: ConvParams; io?: QConvIo; add?: QConvAdd }
  | { op: 'gemm'; packed: W; m: number; relu: boolean; threads: number }
  | { op: 'maxPool'; p: PoolParams }
  | { op: 'averagePool'; p: PoolParams; countIncludePad: boolean }
  /** nhwc: x is NHWC [n, hw, c] (y is [n, c] either way). */
  | { op: 'globalAveragePool'; n: number; c: number; hw: number; threads: number; nhwc?: boolean }
  | { op: 'add'; count: number; relu: boolean; threads: number }
  | { op: 'copy' | 'relu'; count: number }
  | { op: 'transpose'; rows: number; cols: number }
  | { op: 'quantizeDequantize'; count: number; q: QuantParams }
  /** count = outer · channels · inner elements; multipliers has 1 or `channels` entries. */
  | { op: 'requantize'; count: number; channels: number; inner: number; r: RequantParams }
  /** inputs [a, b]: same-shape dequantized operands, in ONNX Runtime's QLinearAdd arithmetic. */
  | { op: 'qlinearAdd'; count: number; q: QLinearAddParams; u8?: boolean }
  /** An int8 max pool (MaxPoolNode.int8) on u8 NHWC bytes in and out (src/plan/formats.ts). */
  | { op: 'qu8MaxPool'; p: PoolParams }
  /** An int8 global average pool (Int8Pool): x as u8 NHWC bytes (u8) or float32 NCHW; y float32 [n, c]. */
  | { op: 'qGlobalAveragePool'; n: number; c: number; hw: number; u8: boolean; q: QGlobalAveragePoolParams }
  | { op: 'unary'; fn: UnaryFn; alpha: number; beta: number; count: number; threads: number }
  | { op: 'binary'; fn: BinaryFn; relu: boolean; dims: number[]; aStrides: number[]; bStrides: number[]; threads: number }
  | { op: 'strided'; dims: number[]; strides: number[]; offset: number }
  | { op: 'concat'; outer: number; chunks: number[] }
  | { op: 'softmax'; outer: number; n: number; inner: number }
  | { op: 'layerNorm'; outer: number; n: number; epsilon: number }
);
export type PlanStep = PlanStepOf<PackedWeights>;
/** A qGlobalAveragePool step's numbers (Int8Pool), xZeroPoint in the u8 domain of the bytes. */
export interface QGlobalAveragePoolParams {
  xScale: number;
  xZeroPoint: number;
  multiplier: number;
  yScale: number;
  yZeroPoint: number;
  qmin: number;
  qmax: number;
}

/**
 * unary: y = f(x) over count floats; alpha, beta are hardSigmoid's slope and
 * offset (hardSwish: x·hardSigmoid(x)) and clip's min and max.
 */
export type UnaryFn = 'sigmoid' | 'silu' | 'hardSigmoid' | 'hardSwish' | 'clip' | 'erf' | 'gelu';
export const UNARY_FNS: readonly UnaryFn[] = ['sigmoid', 'silu', 'hardSigmoid', 'hardSwish', 'clip', 'erf', 'gelu'];
/**
 * binary: y[i] = a[Σ i_d·aStrides[d]] ∘ b[Σ i_d·bStrides[d]] over the row-major
 * index (i_0, …) of dims (numpy broadcasting: a broadcast dim has stride 0), then relu?.
 * strided: y[i] = x[offset + Σ i_d·strides[d]] (Transpose, Slice).
 * concat: for each of outer rows, input k contributes chunks[k] contiguous floats.
 * softmax: over n of x viewed as [outer, n, inner]. layerNorm: inputs [x, scale, bias?]
 * over the last n of x viewed as [outer, n].
 */
export type BinaryFn = 'add' | 'sub' | 'mul' | 'div';

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
  /**
   * Whether the backend's executor honours PlanLayout.views (a host arena's
   * subarrays, a base pointer plus offset): the memory plan then has a batch-1
   * Concat's producers write into its output, and the Concat runs no step.
   */
  readonly concatInPlace?: boolean;
  /** Whether the unary, binary, add and relu steps accept y === an operand (PlanOptions.elementwiseInPlace). */
  readonly elementwiseInPlace?: boolean;
  /** y = act(conv(x) + bias + residual); residual has y's shape or is null. */
  conv2dSync(packed: PackedWeights, x: Float32Array, residual: Float32Array | null, y: Float32Array, p: ConvParams): void;
  conv2d(packed: PackedWeights, x: Float32Array, residual: Float32Array | null, y: Float32Array, p: ConvParams): Promise<void>;
  /** The micro-kernel conv2d runs for these params, e.g. 'f32_dconv_14x32s1__avx512f' (for profiles). */
  convKernel?(packed: PackedWeights, p: ConvParams): string;

  /** weight: [nOut, k]; y[m, n] = sum_k x[m, k]·W[n, k] + bias[n]. */
  /**
   * An int8 conv's weights (ConvAttrs.int8; groups 1): weight [cOut, cIn, kh, kw] and bias [cOut]
   * hold integers, multipliers [cOut]. A backend with it gets Conv nodes with attrs.int8 (qconv steps).
   */
  packQConv2d?(weight: Float32Array, bias: Float32Array | null, multipliers: Float32Array, cOut: number, cIn: number, kh: number, kw: number, q: { x: QuantParams; y: QuantParams }): PackedWeights;
  /** A qconv step's kernel (y = x's int8 conv, each side in its io format: float32 NCHW where absent; with add, then the residual QLinearAdd with residual); with packQConv2d. */
  qconv2dSync?(packed: PackedWeights, x: Float32Array, residual: Float32Array | null, y: Float32Array, p: ConvParams, io?: QConvIo, add?: QConvAdd): void;
  qconv2d?(packed: PackedWeights, x: Float32Array, residual: Float32Array | null, y: Float32Array, p: ConvParams, io?: QConvIo, add?: QConvAdd): Promise<void>;
  /**
   * A groups-1 conv's weights for convNhwc steps (weight [cOut, cIn, kh, kw], bias [cOut] or
   * null). A backend with it gets float32 NHWC values between such convs (src/plan/formats.ts).
   */
  packConv2dNhwc?(weight: Float32Array, bias: Float32Array | null, cOut: number, cIn: number, kh: number, kw: number): PackedWeights;
  /** A convNhwc step's kernel: y = act(conv(x) + bias + residual), all NHWC; with packConv2dNhwc. */
  conv2dNhwcSync?(packed: PackedWeights, x: Float32Array, residual: Float32Array | null, y: Float32Array, p: ConvParams): void;
  conv2dNhwc?(packed: PackedWeights, x: Float32Array, residual: Float32Array | null, y: Float32Array, p: ConvParams): Promise<void>;
  packGemm(weight: Float32Array, bias: Float32Array | null, nOut: number, k: number): PackedWeights;
  gemmSync(packed: PackedWeights, x: Float32Array, m: number, relu: boolean, y: Float32Array, threads: number): void;
  gemm(packed: PackedWeights, x: Float32Array, m: number, relu: boolean, y: Float32Array, threads: number): Promise<void>;
  /** The micro-kernel gemm runs for m rows. */
  gemmKernel?(packed: PackedWeights, m: number): string;

  maxPoolSync(x: Float32Array, y: Float32Array, p: PoolParams): void;
  maxPool(x: Float32Array, y: Float32Array, p: PoolParams): Promise<void>;
  averagePoolSync(x: Float32Array, y: Float32Array, p: PoolParams, countIncludePad: boolean): void;
  averagePool(x: Float32Array, y: Float32Array, p: PoolParams, countIncludePad: boolean): Promise<void>;
  /** nhwc: x is [n, hw, c] rather than [n, c, hw]. */
  globalAveragePoolSync(x: Float32Array, y: Float32Array, n: number, c: number, hw: number, threads: number, nhwc?: boolean): void;
  globalAveragePool(x: Float32Array, y: Float32Array, n: number, c: number, hw: number, threads: number, nhwc?: boolean): Promise<void>;
  addSync(a: Float32Array, b: Float32Array, y: Float32Array, relu: boolean, threads: number): void;
  add(a: Float32Array, b: Float32Array, y: Float32Array, relu: boolean, threads: number): Promise<void>;

  /**
   * float16 ↔ float32 at a float16 model's edges (dst.length ≥ src.length);
   * a backend without them converts in TypeScript (src/onnx/half.ts).
   */
  float16ToFloat32?(src: Uint16Array, dst: Float32Array): void;
  float32ToFloat16?(src: Float32Array, dst: Uint16Array): void;

  /** Frees packed weights now rather than at garbage collection (idempotent; later use throws). */
  release?(p: PackedWeights): void;
  /** The backend has no synchronous whole-model run (runSync throws; cuda). */
  readonly asyncOnly?: boolean;
  /** Frees what a backend made for one model (a CUDA context); called by Model.dispose. */
  dispose?(): void;
  /**
   * Compiles a lowered plan into this backend's executor (native: one checked
   * op sequence in the addon; cuda: a device plan with its own arena). A
   * backend without it runs plans through the interpreter (src/plan/interpret.ts).
   */
  compilePlan?(plan: PlanLayout): PlanExecutor;
}

/**
 * A buffer of the plan that is a run of another (a Concat's input written in
 * place into its output): floats [offset, offset + length) of buffer `base`,
 * itself no view. A host arena holds it as a subarray of its base.
 */
export interface PlanView {
  readonly buffer: number;
  readonly base: number;
  readonly offset: number;
  readonly length: number;
}

/**
 * A lowered plan as a backend sees it: the steps, and the buffer list they
 * index: `nInputs` graph inputs, then one buffer per memory-plan slot (of
 * `slotSizes` floats), then one per view (`views`, in order), then
 * `constants` (initializers read as activations).
 */
export interface PlanLayout {
  readonly steps: readonly PlanStep[];
  readonly nInputs: number;
  readonly slotSizes: readonly number[];
  /** Buffers nInputs + slotSizes.length + k (k = 0, 1, …): runs of slot buffers. Empty unless the backend has concatInPlace. */
  readonly views: readonly PlanView[];
  readonly constants: readonly Float32Array[];
  /** The buffer indices of the graph outputs (what a run must leave in the host buffers). */
  readonly outputs: readonly number[];
}

/** A compiled plan: runs every step over a buffer list laid out as PlanLayout says. */
export interface PlanExecutor {
  run(buffers: Float32Array[]): Promise<void>;
  /** Absent where the backend runs only asynchronously (cuda). */
  runSync?(buffers: Float32Array[]): void;
  /** Frees what the executor holds (native plan handle, device arena); idempotent. */
  release?(): void;
  /** The micro-kernel each step runs, where the backend names one (for profiles). */
  readonly kernelNames?: readonly (string | undefined)[];
}
