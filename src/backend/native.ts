// The native CPU backend: the op interface over the addon's SIMD kernels.
import type { NativePacked, NativePlan, NativePlanStep } from '../native-binding.js';
import { nativeBinding } from '../native.js';
import { withCallerStack } from '../errors.js';
import type { BackendPlan, KernelBackend, PackedWeights, PlanStep } from './types.js';

interface NativePackedWeights extends PackedWeights {
  readonly handle: NativePacked;
}

interface NativeBackendPlan extends BackendPlan {
  readonly plan: NativePlan;
}

const handle = (p: PackedWeights): NativePacked => (p as NativePackedWeights).handle;
const planHandle = (p: BackendPlan): NativePlan => (p as NativeBackendPlan).plan;
const nativeStep = (s: PlanStep): NativePlanStep => ('packed' in s ? { ...s, packed: handle(s.packed) } : s) as NativePlanStep;

export function createNativeBackend(): KernelBackend {
  const b = nativeBinding();
  return {
    name: 'native',
    residualInPlace: true,
    packConv2d: (weight, bias, cOut, cInPerGroup, kh, kw, groups, mode = 'exact') =>
      ({ backend: 'native', handle: b.packConv2d(weight, bias, cOut, cInPerGroup, kh, kw, groups, mode) }) as NativePackedWeights,
    conv2dSync: (packed, x, residual, y, p) => b.conv2dSync(handle(packed), x, residual, y, p),
    conv2d: (packed, x, residual, y, p) => withCallerStack(() => b.conv2d(handle(packed), x, residual, y, p)),
    convKernel: (packed, p) => b.convKernel(handle(packed), p),
    packGemm: (weight, bias, nOut, k) => ({ backend: 'native', handle: b.packGemm(weight, bias, nOut, k) }) as NativePackedWeights,
    gemmSync: (packed, x, m, relu, y, threads) => b.gemmSync(handle(packed), x, m, relu, y, threads),
    gemm: (packed, x, m, relu, y, threads) => withCallerStack(() => b.gemm(handle(packed), x, m, relu, y, threads)),
    gemmKernel: (packed, m) => b.gemmKernel(handle(packed), m),
    maxPoolSync: (x, y, p) => b.maxPoolSync(x, y, p),
    maxPool: (x, y, p) => withCallerStack(() => b.maxPool(x, y, p)),
    averagePoolSync: (x, y, p, cip) => b.averagePoolSync(x, y, p, cip),
    averagePool: (x, y, p, cip) => withCallerStack(() => b.averagePool(x, y, p, cip)),
    globalAveragePoolSync: (x, y, n, c, hw, threads) => b.globalAveragePoolSync(x, y, n, c, hw, threads),
    globalAveragePool: (x, y, n, c, hw, threads) => withCallerStack(() => b.globalAveragePool(x, y, n, c, hw, threads)),
    addSync: (a, bb, y, relu, threads) => b.addSync(a, bb, y, relu, threads),
    add: (a, bb, y, relu, threads) => withCallerStack(() => b.add(a, bb, y, relu, threads)),
    release: (p) => b.release('plan' in p ? planHandle(p) : handle(p as PackedWeights)),
    createPlan: (steps) => ({ backend: 'native', plan: b.createPlan(steps.map(nativeStep)) }) as NativeBackendPlan,
    runPlanSync: (plan, buffers) => b.runPlanSync(planHandle(plan), buffers),
    runPlan: (plan, buffers) => withCallerStack(() => b.runPlan(planHandle(plan), buffers)),
  };
}
