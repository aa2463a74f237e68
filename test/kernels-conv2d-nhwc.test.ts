// The native float32 NHWC plan steps: 'convNhwc' (the igemm conv, its indirection built when the
// plan is made) between 'reorder' steps (NCHW <-> NHWC), against the float64 reference on the
// NCHW tensors, on every ISA path this CPU runs: random shapes (kernels 1-7, strides 1-2,
// dilation, asymmetric pads, channel counts that are no multiple of a tile, batches), bias, a
// fused NHWC residual (also written in place over y), ReLU or Clip; the kernels each step names;
// and the errors that name the step and argument.
import test from 'ava';
import fc from 'fast-check';
import type { NativeBinding, NativePlanStep } from '../src/native-binding.js';
import type { ConvParams } from '../src/backend/types.js';
import { conv2dRef, outSize } from './helpers/reference.js';
import { rng, randomF32 } from './helpers/rng.js';
import { nativeVariants, rawAddon, registerNativePresence } from './helpers/backends.js';
import { dataSeed, expectClose, SEED } from './helpers/property.js';

registerNativePresence(test);

const RUNS = Math.min(60, Number(process.env.RESNODE_FC_RUNS ?? 60));
const pad = fc.integer({ min: 0, max: 3 });
const nhwcCase = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    cIn: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 5, max: 40 })),
    cOut: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 9, max: 72 })),
    k: fc.constantFrom(1, 1, 3, 3, 7, 2),
    s: fc.integer({ min: 1, max: 2 }),
    d: fc.constantFrom(1, 1, 1, 2),
    pads: fc.tuple(pad, pad, pad, pad),
    h: fc.integer({ min: 1, max: 14 }),
    w: fc.integer({ min: 1, max: 14 }),
    bias: fc.boolean(),
    residual: fc.constantFrom('none', 'separate', 'inPlace'),
    act: fc.constantFrom('none', 'relu', 'clip'),
    threads: fc.integer({ min: 1, max: 2 }),
    seed: dataSeed,
  })
  .filter((c) => c.h + c.pads[0] + c.pads[2] >= (c.k - 1) * c.d + 1 && c.w + c.pads[1] + c.pads[3] >= (c.k - 1) * c.d + 1);

type Case = typeof nhwcCase extends fc.Arbitrary<infer T> ? T : never;

/** The steps and buffers of reorder(x), [reorder(residual)], convNhwc, reorder(y) for one case. */
function runCase(b: NativeBinding, c: Case): { y: Float32Array; expected: Float64Array; dims: number[]; kernels: string[] } {
  const r = rng(c.seed);
  const oh = outSize(c.h, c.k, c.s, c.pads[0], c.pads[2], c.d), ow = outSize(c.w, c.k, c.s, c.pads[1], c.pads[3], c.d);
  const x = randomF32(r, c.n * c.cIn * c.h * c.w);
  const w = randomF32(r, c.cOut * c.cIn * c.k * c.k);
  const bias = c.bias ? randomF32(r, c.cOut) : null;
  const ySize = c.n * c.cOut * oh * ow;
  const residual = c.residual === 'none' ? null : randomF32(r, ySize);
  const ref = conv2dRef(x, [c.n, c.cIn, c.h, c.w], w, [c.cOut, c.cIn, c.k, c.k], bias, residual, c.act === 'relu',
    { stride: [c.s, c.s], pads: c.pads, dilation: [c.d, c.d], groups: 1 });
  if (c.act === 'clip') for (let i = 0; i < ref.data.length; i++) ref.data[i] = Math.min(0.75, Math.max(-0.5, ref.data[i]!));
  const p: ConvParams = {
    inputDims: [c.n, c.cIn, c.h, c.w], cOut: c.cOut, kh: c.k, kw: c.k, groups: 1, strides: [c.s, c.s], pads: c.pads,
    dilations: [c.d, c.d], outDims: [oh, ow], relu: c.act === 'relu', threads: c.threads, ...(c.act === 'clip' ? { clip: [-0.5, 0.75] as [number, number] } : {}),
  };
  const packed = b.packConv2dNhwc(w, bias, c.cOut, c.cIn, c.k, c.k);
  // Buffers: 0 x (NCHW), 1 x (NHWC), 2 residual (NCHW), 3 residual (NHWC), 4 y (NHWC), 5 y (NCHW).
  const yAt = c.residual === 'inPlace' ? 3 : 4;
  const steps: NativePlanStep[] = [{ op: 'reorder', inputs: [0], output: 1, n: c.n, c: c.cIn, hw: c.h * c.w, to: 'nhwc', threads: c.threads }];
  if (residual) steps.push({ op: 'reorder', inputs: [2], output: 3, n: c.n, c: c.cOut, hw: oh * ow, to: 'nhwc', threads: c.threads });
  steps.push({ op: 'convNhwc', inputs: residual ? [1, 3] : [1], output: yAt, packed, p });
  steps.push({ op: 'reorder', inputs: [yAt], output: 5, n: c.n, c: c.cOut, hw: oh * ow, to: 'nchw', threads: c.threads });
  const plan = b.createPlan(steps);
  const y = new Float32Array(ySize).fill(NaN);
  try {
    b.runPlanSync(plan, [x, new Float32Array(x.length), residual ?? new Float32Array(1), new Float32Array(residual ? ySize : 1), new Float32Array(ySize), y]);
    return { y, expected: ref.data, dims: ref.dims, kernels: b.planKernels(plan) };
  } finally {
    b.release(plan);
    b.release(packed);
  }
}

for (const v of nativeVariants()) {
  test.serial(`convNhwc between reorders matches the float64 reference (${v.label})`, (t) => {
    const b = rawAddon()!;
    v.activate();
    try {
      fc.assert(fc.property(nhwcCase, (c) => {
        const { y, expected, dims } = runCase(b, c);
        expectClose(y, expected, `convNhwc ${JSON.stringify(c)}`, dims);
      }), { numRuns: RUNS, seed: SEED });
      t.pass();
    } finally {
      v.restore();
    }
  });
}

test.serial('each step names the kernel of the ISA it was planned on', (t) => {
  const b = rawAddon();
  if (!b) return t.fail('native addon missing');
  const names: Record<string, string[]> = {
    scalar: ['f32_reorder_nchw_nhwc__scalar', 'f32_igemm_4x8__scalar', 'f32_reorder_nhwc_nchw__scalar'],
    avx2: ['f32_reorder_nchw_nhwc__scalar', 'f32_igemm_6x16__avx2', 'f32_reorder_nhwc_nchw__scalar'],
    avx512f: ['f32_reorder_nchw_nhwc__avx512f', 'f32_igemm_14x32__avx512f', 'f32_reorder_nhwc_nchw__avx512f'],
  };
  const c: Case = { n: 1, cIn: 3, cOut: 5, k: 3, s: 1, d: 1, pads: [1, 1, 1, 1], h: 4, w: 4, bias: true, residual: 'none', act: 'none', threads: 1, seed: 1 };
  for (const v of nativeVariants()) {
    v.activate();
    try {
      t.deepEqual(runCase(b, c).kernels, names[v.isa!], v.label);
    } finally {
      v.restore();
    }
  }
});

test('bad convNhwc and reorder steps: errors that name the step and argument', (t) => {
  const b = rawAddon();
  if (!b) return t.fail('native addon missing');
  const w = new Float32Array(4 * 3 * 9);
  const packed = b.packConv2dNhwc(w, null, 4, 3, 3, 3);
  const p: ConvParams = { inputDims: [1, 3, 5, 5], cOut: 4, kh: 3, kw: 3, groups: 1, strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], outDims: [5, 5], relu: false, threads: 1 };
  const step = (extra: Partial<NativePlanStep>) => [{ op: 'convNhwc', inputs: [0], output: 1, packed, p, ...extra } as NativePlanStep];
  t.throws(() => b.createPlan(step({ p: { ...p, inputDims: [1, 2, 5, 5] } })), { instanceOf: RangeError, message: /steps\[0\] \(convNhwc\).*p\.inputDims\[1\]/ });
  t.throws(() => b.createPlan(step({ p: { ...p, act: { fn: 'sigmoid', alpha: 0, beta: 0 } } })), { instanceOf: RangeError, message: /steps\[0\] \(convNhwc\).*p\.act/ });
  const nchw = b.packConv2d(w, null, 4, 3, 3, 3, 1);
  t.throws(() => b.createPlan(step({ packed: nchw } as Partial<NativePlanStep>)), { instanceOf: TypeError, message: /steps\[0\] \(convNhwc\).*packConv2dNhwc for packed/ });
  t.throws(() => b.packConv2dNhwc(w, null, 4, 3, 3, 4), { instanceOf: RangeError, message: /packConv2dNhwc.*weight/ });
  t.throws(() => b.createPlan([{ op: 'reorder', inputs: [0], output: 1, n: 1, c: 3, hw: 4, to: 'nchwc' as 'nhwc', threads: 1 }]), { instanceOf: RangeError, message: /steps\[0\] \(reorder\).*to/ });
  const plan = b.createPlan(step({}));
  t.throws(() => b.runPlanSync(plan, [new Float32Array(75), new Float32Array(99)]), { instanceOf: RangeError, message: /runPlanSync.*buffers\[1\]/ });
  const same = new Float32Array(100);
  t.throws(() => b.runPlanSync(plan, [same, same]), { instanceOf: RangeError, message: /overlap/ });
  for (const h of [plan, packed, nchw]) b.release(h);
});
