// The one switch over a plan's step kinds on the TypeScript side: runStep
// hands a step to a backend's kernels. The JS backend runs whole plans this
// way, every backend runs fetchIntermediates this way (one step at a time, the
// same steps its own executor runs), and the CUDA device plan runs its steps
// through it with device buffers. profileSteps times each step with the
// backend's own plan executor where it has one.
import type { BinaryFn, ConvParams, KernelBackend, PackedWeights, PlanExecutor, PlanLayout, PlanStep, PoolParams, QGlobalAveragePoolParams, RequantParams, UnaryFn } from '../backend/types.js';
import type { LoweredPlan } from './lower.js';
import type { QConvIo } from './formats.js';
import type { QConvAdd, QLinearAddParams, QuantParams } from '../graph/graph.js';
import { qlinearAdd, qlinearAddBytes, quantizeDequantize, requantize } from '../kernels-js/quantize.js';
import { qGlobalAveragePool, qu8MaxPoolNhwc } from '../kernels-js/qu8-pool.js';
import { binary } from '../kernels-js/broadcast.js';
import { concat, reorder, stridedCopy } from '../kernels-js/layout.js';
import { layerNorm, softmax } from '../kernels-js/normalize.js';
import { unary } from '../kernels-js/unary.js';

/** What a step needs from a backend, over buffers of type B (host arrays, or device handles). */
export interface StepKernels<B> {
  conv(packed: PackedWeights, x: B, residual: B | null, y: B, p: ConvParams): void | Promise<void>;
  qconv(packed: PackedWeights, x: B, residual: B | null, y: B, p: ConvParams, io?: QConvIo, add?: QConvAdd): void | Promise<void>;
  convNhwc(packed: PackedWeights, x: B, residual: B | null, y: B, p: ConvParams): void | Promise<void>;
  reorder(x: B, y: B, n: number, c: number, hw: number, to: 'nhwc' | 'nchw'): void | Promise<void>;
  gemm(packed: PackedWeights, x: B, m: number, relu: boolean, y: B, threads: number): void | Promise<void>;
  maxPool(x: B, y: B, p: PoolParams): void | Promise<void>;
  averagePool(x: B, y: B, p: PoolParams, countIncludePad: boolean): void | Promise<void>;
  globalAveragePool(x: B, y: B, n: number, c: number, hw: number, threads: number, nhwc?: boolean): void | Promise<void>;
  add(a: B, b: B, y: B, relu: boolean, threads: number, count: number): void | Promise<void>;
  /** y[0, count) = x[0, count) (Flatten, Reshape) */
  copy(x: B, y: B, count: number): void | Promise<void>;
  relu(x: B, y: B, count: number): void | Promise<void>;
  /** y = xᵀ for x [rows, cols] */
  transpose(x: B, y: B, rows: number, cols: number): void | Promise<void>;
  /** An ONNX QuantizeLinear → DequantizeLinear pair, elementwise in float32 (y may be x). */
  quantizeDequantize(x: B, y: B, count: number, q: QuantParams): void | Promise<void>;
  /** Integer-exact requantization per channel (y may be x); see RequantizeNode. */
  requantize(x: B, y: B, count: number, channels: number, inner: number, r: RequantParams): void | Promise<void>;
  /** ONNX Runtime's QLinearAdd on dequantized same-shape operands (y may be a or b). */
  qlinearAdd(a: B, b: B, y: B, count: number, q: QLinearAddParams, u8?: boolean): void | Promise<void>;
  /** A max pool on u8 NHWC bytes (dims as p's NCHW ones). */
  qu8MaxPool(x: B, y: B, p: PoolParams): void | Promise<void>;
  /** ONNX Runtime's QLinearGlobalAveragePool, y float32 [n, c] dequantized; x u8 NHWC bytes where u8, else float32 NCHW. */
  qGlobalAveragePool(x: B, y: B, n: number, c: number, hw: number, u8: boolean, q: QGlobalAveragePoolParams): void | Promise<void>;
  unary(fn: UnaryFn, alpha: number, beta: number, x: B, y: B, count: number): void | Promise<void>;
  binary(fn: BinaryFn, relu: boolean, a: B, b: B, y: B, dims: number[], aStrides: number[], bStrides: number[]): void | Promise<void>;
  strided(x: B, y: B, dims: number[], strides: number[], offset: number): void | Promise<void>;
  concat(xs: B[], y: B, outer: number, chunks: number[]): void | Promise<void>;
  softmax(x: B, y: B, outer: number, n: number, inner: number): void | Promise<void>;
  layerNorm(x: B, scale: B, bias: B | null, y: B, outer: number, n: number, epsilon: number): void | Promise<void>;
}

export function runStep<B>(k: StepKernels<B>, s: PlanStep, buffers: readonly B[]): void | Promise<void> {
  const x = buffers[s.inputs[0]!]!;
  const y = buffers[s.output]!;
  switch (s.op) {
    case 'conv': return k.conv(s.packed, x, s.inputs.length > 1 ? buffers[s.inputs[1]!]! : null, y, s.p);
    case 'qconv': return k.qconv(s.packed, x, s.inputs.length > 1 ? buffers[s.inputs[1]!]! : null, y, s.p, s.io, s.add);
    case 'convNhwc': return k.convNhwc(s.packed, x, s.inputs.length > 1 ? buffers[s.inputs[1]!]! : null, y, s.p);
    case 'reorder': return k.reorder(x, y, s.n, s.c, s.hw, s.to);
    case 'gemm': return k.gemm(s.packed, x, s.m, s.relu, y, s.threads);
    case 'maxPool': return k.maxPool(x, y, s.p);
    case 'averagePool': return k.averagePool(x, y, s.p, s.countIncludePad);
    case 'globalAveragePool': return k.globalAveragePool(x, y, s.n, s.c, s.hw, s.threads, s.nhwc);
    case 'add': return k.add(x, buffers[s.inputs[1]!]!, y, s.relu, s.threads, s.count);
    case 'copy': return k.copy(x, y, s.count);
    case 'relu': return k.relu(x, y, s.count);
    case 'transpose': return k.transpose(x, y, s.rows, s.cols);
    case 'quantizeDequantize': return k.quantizeDequantize(x, y, s.count, s.q);
    case 'requantize': return k.requantize(x, y, s.count, s.channels, s.inner, s.r);
    case 'qlinearAdd': return k.qlinearAdd(x, buffers[s.inputs[1]!]!, y, s.count, s.q, s.u8);
    case 'qu8MaxPool': return k.qu8MaxPool(x, y, s.p);
    case 'qGlobalAveragePool': return k.qGlobalAveragePool(x, y, s.n, s.c, s.hw, s.u8, s.q);
    case 'unary': return k.unary(s.fn, s.alpha, s.beta, x, y, s.count);
    case 'binary': return k.binary(s.fn, s.relu, x, buffers[s.inputs[1]!]!, y, s.dims, s.aStrides, s.bStrides);
    case 'strided': return k.strided(x, y, s.dims, s.strides, s.offset);
    case 'concat': return k.concat(s.inputs.map((i) => buffers[i]!), y, s.outer, s.chunks);
    case 'softmax': return k.softmax(x, y, s.outer, s.n, s.inner);
    case 'layerNorm': return k.layerNorm(x, buffers[s.inputs[1]!]!, s.inputs.length > 2 ? buffers[s.inputs[2]!]! : null, y, s.outer, s.n, s.epsilon);
  }
}

/**
 * A host backend's kernels, its synchronous forms or its async ones (looked up
 * at each call, so a wrapped backend method is honoured); the data-movement
 * steps are plain loops, and the elementwise, layout and normalisation steps
 * the TypeScript kernels of src/kernels-js (one-step runs: profile() and
 * fetchIntermediates on a backend without a plan executor; a native plan runs
 * its own SIMD kernels).
 */
export function hostKernels(be: KernelBackend, sync: boolean): StepKernels<Float32Array> {
  return {
    conv: (packed, x, r, y, p) => (sync ? be.conv2dSync(packed, x, r, y, p) : be.conv2d(packed, x, r, y, p)),
    qconv: (packed, x, r, y, p, io, add) => {
      const run = sync ? be.qconv2dSync : be.qconv2d;
      if (!run) throw new Error(`qconv: backend '${be.name}' has no int8 conv kernel`); // only a backend with packQConv2d plans qconv steps
      return run(packed, x, r, y, p, io, add);
    },
    convNhwc: (packed, x, r, y, p) => {
      const run = sync ? be.conv2dNhwcSync : be.conv2dNhwc;
      if (!run) throw new Error(`convNhwc: backend '${be.name}' has no NHWC conv kernel`); // only a backend with packConv2dNhwc plans convNhwc steps
      return run(packed, x, r, y, p);
    },
    reorder,
    gemm: (packed, x, m, relu, y, threads) => (sync ? be.gemmSync(packed, x, m, relu, y, threads) : be.gemm(packed, x, m, relu, y, threads)),
    maxPool: (x, y, p) => (sync ? be.maxPoolSync(x, y, p) : be.maxPool(x, y, p)),
    averagePool: (x, y, p, cip) => (sync ? be.averagePoolSync(x, y, p, cip) : be.averagePool(x, y, p, cip)),
    globalAveragePool: (x, y, n, c, hw, threads, nhwc) => (sync ? be.globalAveragePoolSync(x, y, n, c, hw, threads, nhwc) : be.globalAveragePool(x, y, n, c, hw, threads, nhwc)),
    // Slots may be larger than the value they hold (the memory plan grows them): add over `count`.
    add: (a, b, y, relu, threads, count) => {
      const [a1, b1, y1] = [a.subarray(0, count), b.subarray(0, count), y.subarray(0, count)];
      return sync ? be.addSync(a1, b1, y1, relu, threads) : be.add(a1, b1, y1, relu, threads);
    },
    copy: (x, y, count) => void y.set(x.subarray(0, count)),
    relu: (x, y, count) => {
      for (let i = 0; i < count; i++) y[i] = x[i]! > 0 ? x[i]! : 0;
    },
    transpose: (x, y, rows, cols) => {
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) y[c * rows + r] = x[r * cols + c]!;
    },
    quantizeDequantize,
    requantize,
    // u8: the plan keeps the operands and the result as quantized bytes (src/plan/formats.ts).
    qlinearAdd: (a, b, y, count, q, u8) => (u8 ? qlinearAddBytes(bytesOf(a, count), bytesOf(b, count), bytesOf(y, count), count, q) : qlinearAdd(a, b, y, count, q)),
    qu8MaxPool: (x, y, p) => qu8MaxPoolNhwc(bytesOf(x, product(p.inputDims)), bytesOf(y, p.inputDims[0]! * p.inputDims[1]! * p.outDims[0] * p.outDims[1]), p),
    qGlobalAveragePool: (x, y, n, c, hw, u8, q) => qGlobalAveragePool(u8 ? bytesOf(x, n * c * hw) : x, y, n, c, hw, q),
    // The TypeScript kernels: a backend's own kernels for these steps run in its compiled plan.
    unary, binary, strided: stridedCopy, concat, softmax, layerNorm,
  };
}

const product = (d: readonly number[]): number => d.reduce((p, q) => p * q, 1);

/** The first `count` bytes of a float slot (a value the plan keeps as u8). */
const bytesOf = (f: Float32Array, count: number): Uint8Array => new Uint8Array(f.buffer, f.byteOffset, count);

/** The executor of a backend that compiles nothing: every step in order through runStep. */
export function interpretPlan(be: KernelBackend, plan: PlanLayout): PlanExecutor {
  const sync = hostKernels(be, true);
  const async = hostKernels(be, false);
  return {
    runSync: (buffers) => {
      for (const s of plan.steps) runStep(sync, s, buffers);
    },
    run: async (buffers) => {
      for (const s of plan.steps) await runStep(async, s, buffers);
    },
  };
}

/**
 * Model.profile's timings: each step run once, in order, on the calling
 * thread. A backend with a synchronous plan executor runs each step as a
 * one-step plan of its own (so the times and kernel names are those of the
 * kernels a whole run uses, compiled outside the timed call); any other
 * backend runs runStep over its host kernels. kernel: the executor's name for
 * the step, else the one chosen when it was lowered.
 */
export function profileSteps(be: KernelBackend, plan: LoweredPlan, buffers: readonly Float32Array[]): { ms: number; kernel?: string }[] {
  const host = hostKernels(be, true);
  const compiles = be.compilePlan !== undefined && !be.asyncOnly;
  return plan.steps.map((step, i) => {
    const one = compiles ? be.compilePlan!({ ...plan, steps: [step] }) : null;
    try {
      const start = performance.now();
      if (one) one.runSync!(buffers as Float32Array[]);
      else runStep(host, step, buffers);
      const ms = performance.now() - start;
      const kernel = one?.kernelNames?.[0] ?? plan.kernels[i];
      return kernel ? { ms, kernel } : { ms };
    } finally {
      one?.release?.();
    }
  });
}
