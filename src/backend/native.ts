// The native CPU backend: the op interface over the addon's SIMD kernels.
import type { NativePacked, NativePlan, NativePlanStep } from '../native-binding.js';
import { nativeBinding } from '../native.js';
import { withCallerStack } from '../errors.js';
import type { ConvParams, KernelBackend, PackedWeights, PlanStep, PlanView } from './types.js';
import type { QConvIo } from '../plan/formats.js';
import type { QConvAdd } from '../graph/graph.js';

interface NativePackedWeights extends PackedWeights {
  readonly handle: NativePacked;
}

const handle = (p: PackedWeights): NativePacked => (p as NativePackedWeights).handle;
const nativeStep = (s: PlanStep): NativePlanStep => ('packed' in s ? { ...s, packed: handle(s.packed) } : s) as NativePlanStep;

/** The op interface plus the addon's whole-plan calls, which compilePlan's executors go through. */
export interface NativeBackend extends KernelBackend {
  createPlan(steps: readonly PlanStep[], views?: readonly PlanView[]): NativePlan;
  runPlanSync(plan: NativePlan, buffers: Float32Array[]): void;
  runPlan(plan: NativePlan, buffers: Float32Array[]): Promise<void>;
}

/** A one-step qconv plan over buffers [x, y] (+ the residual with add, unless it is y itself: an add written in place). */
const qconvStep = (packed: PackedWeights, p: ConvParams, io: QConvIo | undefined, add: QConvAdd | undefined, inPlace: boolean): PlanStep =>
  ({ op: 'qconv', inputs: add ? [0, inPlace ? 1 : 2] : [0], output: 1, packed, p, ...(io ? { io } : {}), ...(add ? { add } : {}) });
/** A one-step convNhwc plan over buffers [x, residual?, y], or [x, y] where the residual is y itself (y += conv(x)). */
const convNhwcStep = (packed: PackedWeights, p: ConvParams, residual: Float32Array | null, y: Float32Array): PlanStep =>
  ({ op: 'convNhwc', inputs: residual ? [0, 1] : [0], output: residual && residual !== y ? 2 : 1, packed, p });
const convNhwcBuffers = (x: Float32Array, residual: Float32Array | null, y: Float32Array): Float32Array[] => (residual && residual !== y ? [x, residual, y] : [x, y]);

export function createNativeBackend(): NativeBackend {
  const b = nativeBinding();
  /** Runs `run` on a plan of one step; the plan is released after it (awaited when run returns a promise). */
  const oneStep = <R>(step: PlanStep, run: (plan: NativePlan) => R): R => {
    const plan = b.createPlan([nativeStep(step)]);
    let r: R;
    try {
      r = run(plan);
    } catch (err) {
      b.release(plan);
      throw err;
    }
    if (r instanceof Promise) return r.finally(() => b.release(plan)) as R;
    b.release(plan);
    return r;
  };
  const be: NativeBackend = {
    name: 'native',
    residualInPlace: true,
    concatInPlace: true,
    elementwiseInPlace: true,
    packConv2d: (weight, bias, cOut, cInPerGroup, kh, kw, groups, mode = 'exact') =>
      ({ backend: 'native', handle: b.packConv2d(weight, bias, cOut, cInPerGroup, kh, kw, groups, mode) }) as NativePackedWeights,
    conv2dSync: (packed, x, residual, y, p) => b.conv2dSync(handle(packed), x, residual, y, p),
    conv2d: (packed, x, residual, y, p) => withCallerStack(() => b.conv2d(handle(packed), x, residual, y, p)),
    convKernel: (packed, p) => b.convKernel(handle(packed), p),
    packQConv2d: (weight, bias, multipliers, cOut, cIn, kh, kw, { x, y }) => ({
      backend: 'native',
      handle: b.packQConv2d(weight, bias, multipliers, cOut, cIn, kh, kw,
        { xScale: x.scale, xZeroPoint: x.zeroPoint, xQmin: x.qmin, xQmax: x.qmax, yScale: y.scale, yZeroPoint: y.zeroPoint, yQmin: y.qmin, yQmax: y.qmax }),
    }) as NativePackedWeights,
    // One qconv step (fetchIntermediates, profile): its kernel exists only as a plan step.
    qconv2dSync: (packed, x, r, y, p, io, add) => oneStep(qconvStep(packed, p, io, add, r === y), (plan) => b.runPlanSync(plan, r && r !== y ? [x, y, r] : [x, y])),
    qconv2d: async (packed, x, r, y, p, io, add) => withCallerStack(() => oneStep(qconvStep(packed, p, io, add, r === y), (plan) => b.runPlan(plan, r && r !== y ? [x, y, r] : [x, y]))),
    packConv2dNhwc: (weight, bias, cOut, cIn, kh, kw) => ({ backend: 'native', handle: b.packConv2dNhwc(weight, bias, cOut, cIn, kh, kw) }) as NativePackedWeights,
    // One convNhwc step (fetchIntermediates, profile): its kernel exists only as a plan step.
    conv2dNhwcSync: (packed, x, r, y, p) => oneStep(convNhwcStep(packed, p, r, y), (plan) => b.runPlanSync(plan, convNhwcBuffers(x, r, y))),
    conv2dNhwc: async (packed, x, r, y, p) => withCallerStack(() => oneStep(convNhwcStep(packed, p, r, y), (plan) => b.runPlan(plan, convNhwcBuffers(x, r, y)))),
    packGemm: (weight, bias, nOut, k) => ({ backend: 'native', handle: b.packGemm(weight, bias, nOut, k) }) as NativePackedWeights,
    gemmSync: (packed, x, m, relu, y, threads) => b.gemmSync(handle(packed), x, m, relu, y, threads),
    gemm: (packed, x, m, relu, y, threads) => withCallerStack(() => b.gemm(handle(packed), x, m, relu, y, threads)),
    gemmKernel: (packed, m) => b.gemmKernel(handle(packed), m),
    maxPoolSync: (x, y, p) => b.maxPoolSync(x, y, p),
    maxPool: (x, y, p) => withCallerStack(() => b.maxPool(x, y, p)),
    averagePoolSync: (x, y, p, cip) => b.averagePoolSync(x, y, p, cip),
    averagePool: (x, y, p, cip) => withCallerStack(() => b.averagePool(x, y, p, cip)),
    globalAveragePoolSync: (x, y, n, c, hw, threads, nhwc) => b.globalAveragePoolSync(x, y, n, c, hw, threads, nhwc),
    globalAveragePool: (x, y, n, c, hw, threads, nhwc) => withCallerStack(() => b.globalAveragePool(x, y, n, c, hw, threads, nhwc)),
    addSync: (a, bb, y, relu, threads) => b.addSync(a, bb, y, relu, threads),
    add: (a, bb, y, relu, threads) => withCallerStack(() => b.add(a, bb, y, relu, threads)),
    // An addon built before these existed lacks them: Model then converts in TypeScript.
    ...(b.float16ToFloat32 && b.float32ToFloat16 ? { float16ToFloat32: b.float16ToFloat32.bind(b), float32ToFloat16: b.float32ToFloat16.bind(b) } : {}),
    release: (p) => b.release(handle(p)),
    createPlan: (steps, views) => b.createPlan(steps.map(nativeStep), views),
    runPlanSync: (plan, buffers) => b.runPlanSync(plan, buffers),
    runPlan: (plan, buffers) => withCallerStack(() => b.runPlan(plan, buffers)),
    // The whole plan as one checked op sequence in the addon: a run is one call.
    compilePlan: (layout) => {
      const plan = be.createPlan(layout.steps, layout.views);
      return {
        runSync: (buffers) => be.runPlanSync(plan, buffers),
        run: (buffers) => be.runPlan(plan, buffers),
        release: () => b.release(plan),
        kernelNames: b.planKernels(plan).map((k) => k || undefined),
      };
    },
  };
  return be;
}
