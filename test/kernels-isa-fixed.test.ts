// The kernel of each conv is chosen once, for the ISA fixed when its weights
// were packed: a setIsa() after packing changes neither the kernel a call or
// a plan step runs (direct, Winograd, GEMM fallback alike) nor its bits, and
// convKernel (what profiles report) names that same kernel.
import test from 'ava';
import { rawAddon } from './helpers/backends.js';
import { randomF32, rng } from './helpers/rng.js';

const b = rawAddon();
const avx512 = b?.info().detectedIsa === 'avx512f';

(avx512 ? test.serial : test.skip)('setIsa after packing leaves each packed conv on its kernel and its bits', (t) => {
  const a = b!;
  t.teardown(() => a.setIsa('auto'));
  a.setIsa('avx512f');
  const r = rng(11);
  const x = randomF32(r, 2 * 64 * 28 * 28);
  const w = randomF32(r, 64 * 64 * 9, -0.1, 0.1);
  const p = { inputDims: [2, 64, 28, 28], cOut: 64, kh: 3, kw: 3, groups: 1, strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], outDims: [28, 28], relu: true, threads: 2 };
  const cases = (['exact', 'fast'] as const).map((mode) => {
    const packed = a.packConv2d(w, null, 64, 64, 3, 3, 1, mode);
    const y = new Float32Array(2 * 64 * 28 * 28);
    a.conv2dSync(packed, x, null, y, p);
    return { mode, packed, kernel: a.convKernel(packed, p), y };
  });
  t.regex(cases[0]!.kernel, /__avx512f$/);
  t.regex(cases[1]!.kernel, /^f32_winograd_/);
  // A plan made now keeps its steps' kernels too.
  const plan = a.createPlan([{ op: 'conv', inputs: [0], output: 1, packed: cases[1]!.packed, p }]);
  a.setIsa('scalar');
  for (const c of cases) {
    t.is(a.convKernel(c.packed, p), c.kernel, `${c.mode}: the kernel is the one chosen for the packing ISA`);
    const y = new Float32Array(c.y.length);
    a.conv2dSync(c.packed, x, null, y, p);
    t.deepEqual(y, c.y, `${c.mode}: same bits after setIsa('scalar')`);
  }
  const bufs = [x, new Float32Array(cases[1]!.y.length)];
  a.runPlanSync(plan, bufs);
  t.deepEqual(bufs[1], cases[1]!.y, 'the plan step runs its planned Winograd kernel');
  // Weights packed now get the scalar path.
  t.regex(a.convKernel(a.packConv2d(w, null, 64, 64, 3, 3, 1, 'fast'), p), /__scalar$/);
});
