// The float32 NHWC pools (native/cpu/pool/pool_nhwc.h: f32_maxpool / f32_avgpool on every ISA
// path, and the global average pool on the average kernel) as the plan runs them, between reorder
// steps, against the float64 reference on the NCHW tensors: random kernels, strides, asymmetric
// pads, dilation, ceil_mode, count_include_pad both ways, channel counts below, at and past a
// vector group (16 / 32 / 64 lanes) and batches; the kernel each step names; NaN handled as the
// NCHW kernels do; and the errors that name the argument.
import test from 'ava';
import fc from 'fast-check';
import type { NativeBinding, NativePlanStep } from '../src/native-binding.js';
import type { PoolParams } from '../src/backend/types.js';
import { globalAveragePoolRef, outSize, poolRef } from './helpers/reference.js';
import { rng, randomF32 } from './helpers/rng.js';
import { nativeVariants, rawAddon, registerNativePresence } from './helpers/backends.js';
import { dataSeed, expectClose, SEED } from './helpers/property.js';
import { poolCase } from './helpers/pool-cases.js';
import { averagePool, maxPool } from '../src/kernels-js/pool.js';
import { globalAveragePool } from '../src/kernels-js/eltwise.js';
import { reorder } from '../src/kernels-js/layout.js';

registerNativePresence(test);

const RUNS = Math.min(80, Number(process.env.RESNODE_FC_RUNS ?? 80));
const channels = fc.oneof(fc.integer({ min: 1, max: 19 }), fc.integer({ min: 20, max: 150 }), fc.constantFrom(16, 32, 64, 128));
const kinds = fc.constantFrom('max', 'avg', 'avgPad');
const nhwcPoolCase = fc.record({ pool: poolCase(true), c: channels, kind: kinds, seed: dataSeed }).map((r) => ({ ...r.pool, c: r.c, kind: r.kind, seed: r.seed }));
type Case = typeof nhwcPoolCase extends fc.Arbitrary<infer T> ? T : never;

const paramsOf = (c: Case): PoolParams => ({
  inputDims: [c.n, c.c, c.h, c.w], kernel: c.kernel, strides: c.stride, pads: c.pads, dilations: c.dilation,
  outDims: [outSize(c.h, c.kernel[0], c.stride[0], c.pads[0], c.pads[2], c.dilation[0], c.ceilMode), outSize(c.w, c.kernel[1], c.stride[1], c.pads[1], c.pads[3], c.dilation[1], c.ceilMode)],
  threads: c.threads, nhwc: true,
});

/** reorder(x) -> the NHWC pool step -> reorder(y) as one plan: y in NCHW and the kernels the steps name. */
function runPlan(b: NativeBinding, x: Float32Array, pool: NativePlanStep, c: { n: number; c: number; hw: number; ohw: number }): { y: Float32Array; kernels: string[] } {
  const steps: NativePlanStep[] = [
    { op: 'reorder', inputs: [0], output: 1, n: c.n, c: c.c, hw: c.hw, to: 'nhwc', threads: 1 },
    { ...pool, inputs: [1], output: 2 },
  ];
  const yLength = c.n * c.c * c.ohw;
  if (c.ohw > 1) steps.push({ op: 'reorder', inputs: [2], output: 3, n: c.n, c: c.c, hw: c.ohw, to: 'nchw', threads: 1 });
  const plan = b.createPlan(steps);
  const yNhwc = new Float32Array(yLength).fill(NaN), y = new Float32Array(yLength).fill(NaN);
  try {
    b.runPlanSync(plan, [x, new Float32Array(x.length), yNhwc, y]);
    return { y: c.ohw > 1 ? y : yNhwc, kernels: b.planKernels(plan) };
  } finally {
    b.release(plan);
  }
}

function runCase(b: NativeBinding, c: Case) {
  const x = randomF32(rng(c.seed), c.n * c.c * c.h * c.w);
  const p = paramsOf(c);
  const ref = poolRef(c.kind === 'max' ? 'max' : 'avg', x, [c.n, c.c, c.h, c.w], { kernel: c.kernel, stride: c.stride, pads: c.pads, dilation: c.dilation, ceilMode: c.ceilMode }, c.kind === 'avgPad');
  const step = (c.kind === 'max' ? { op: 'maxPool', p } : { op: 'averagePool', p, countIncludePad: c.kind === 'avgPad' }) as NativePlanStep;
  return { ...runPlan(b, x, step, { n: c.n, c: c.c, hw: c.h * c.w, ohw: p.outDims[0]! * p.outDims[1]! }), ref };
}

for (const v of nativeVariants()) {
  test.serial(`NHWC max and average pools match the float64 reference (${v.label})`, (t) => {
    const b = rawAddon()!;
    v.activate();
    try {
      fc.assert(fc.property(nhwcPoolCase, (c) => {
        const { y, ref } = runCase(b, c);
        expectClose(y, ref.data, `${c.kind} pool ${JSON.stringify(c)}`, ref.dims);
      }), { numRuns: RUNS, seed: SEED });
      t.pass();
    } finally {
      v.restore();
    }
  });

  test.serial(`NHWC global average pool matches the float64 reference (${v.label})`, (t) => {
    const b = rawAddon()!;
    v.activate();
    try {
      fc.assert(fc.property(fc.record({ n: fc.integer({ min: 1, max: 3 }), c: fc.oneof(channels, fc.integer({ min: 250, max: 600 })), h: fc.integer({ min: 1, max: 9 }), w: fc.integer({ min: 1, max: 9 }), threads: fc.integer({ min: 1, max: 2 }), seed: dataSeed }), (c) => {
        const x = randomF32(rng(c.seed), c.n * c.c * c.h * c.w, -3, 5);
        const hw = c.h * c.w;
        const { y } = runPlan(b, x, { op: 'globalAveragePool', inputs: [], output: 0, n: c.n, c: c.c, hw, threads: c.threads, nhwc: true }, { n: c.n, c: c.c, hw, ohw: 1 });
        expectClose(y, globalAveragePoolRef(x, c.n, c.c, hw), `gap ${JSON.stringify(c)}`, [c.n, c.c]);
      }), { numRuns: RUNS, seed: SEED });
      t.pass();
    } finally {
      v.restore();
    }
  });
}

test.serial('each NHWC pool step names the kernel of the ISA it was planned on', (t) => {
  const b = rawAddon();
  if (!b) return t.fail('native addon missing');
  const c: Case = { n: 1, c: 5, h: 6, w: 6, kernel: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1], dilation: [1, 1], ceilMode: false, sync: true, threads: 1, kind: 'max', seed: 1 };
  const suffix: Record<string, string> = { scalar: 'scalar', avx2: 'avx2', avx512f: 'avx512f' };
  for (const v of nativeVariants()) {
    v.activate();
    try {
      t.is(runCase(b, c).kernels[1], `f32_maxpool__${suffix[v.isa!]}`, v.label);
      t.is(runCase(b, { ...c, kind: 'avg' }).kernels[1], `f32_avgpool__${suffix[v.isa!]}`, v.label);
      const gap = runPlan(b, new Float32Array(5 * 4), { op: 'globalAveragePool', inputs: [], output: 0, n: 1, c: 5, hw: 4, threads: 1, nhwc: true }, { n: 1, c: 5, hw: 4, ohw: 1 });
      t.is(gap.kernels[1], `f32_avgpool__${suffix[v.isa!]}`, v.label);
    } finally {
      v.restore();
    }
  }
});

test.serial('an NHWC max pool skips NaN taps as the NCHW one does, on every ISA', (t) => {
  const b = rawAddon();
  if (!b) return t.fail('native addon missing');
  const c: Case = { n: 1, c: 37, h: 7, w: 9, kernel: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1], dilation: [1, 1], ceilMode: true, sync: true, threads: 1, kind: 'max', seed: 4 };
  const x = randomF32(rng(4), c.c * c.h * c.w);
  for (let i = 0; i < x.length; i += 5) x[i] = NaN;
  const p = paramsOf(c);
  const out = p.outDims[0]! * p.outDims[1]!;
  for (const v of nativeVariants()) {
    v.activate();
    try {
      const nchw = new Float32Array(c.c * out);
      b.maxPoolSync(x, nchw, { ...p, nhwc: false });
      const { y } = runPlan(b, x, { op: 'maxPool', inputs: [], output: 0, p } as NativePlanStep, { n: 1, c: c.c, hw: c.h * c.w, ohw: out });
      t.deepEqual([...y], [...nchw], v.label);
      t.false(y.some(Number.isNaN), `${v.label}: every window has a number`);
    } finally {
      v.restore();
    }
  }
});

test('bad nhwc flags: errors that name the function and argument', (t) => {
  const b = rawAddon();
  if (!b) return t.fail('native addon missing');
  const p: PoolParams = { inputDims: [1, 2, 4, 4], kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], outDims: [2, 2], threads: 1 };
  const x = new Float32Array(32), y = new Float32Array(8);
  t.throws(() => b.maxPoolSync(x, y, { ...p, nhwc: 1 as unknown as boolean }), { instanceOf: TypeError, message: /maxPoolSync.*p\.nhwc/ });
  t.throws(() => b.createPlan([{ op: 'averagePool', inputs: [0], output: 1, p: { ...p, nhwc: 'yes' as unknown as boolean }, countIncludePad: false }]), { instanceOf: TypeError, message: /steps\[0\] \(averagePool\).*p\.nhwc/ });
  t.throws(() => b.globalAveragePoolSync(x, new Float32Array(2), 1, 2, 16, 1, 'nhwc' as unknown as boolean), { instanceOf: TypeError, message: /globalAveragePoolSync.*nhwc/ });
  t.throws(() => b.createPlan([{ op: 'globalAveragePool', inputs: [0], output: 1, n: 1, c: 2, hw: 16, threads: 1, nhwc: 0 as unknown as boolean }]), { instanceOf: TypeError, message: /steps\[0\] \(globalAveragePool\).*nhwc/ });
  // A short NHWC x is the same error as a short NCHW one: the sizes do not depend on the layout.
  t.throws(() => b.maxPoolSync(new Float32Array(31), y, { ...p, nhwc: true }), { instanceOf: RangeError, message: /maxPoolSync.*x/ });
});

test('the JS kernels take NHWC values too (p.nhwc, nhwc): the NCHW results, reordered', (t) => {
  const c: Case = { n: 2, c: 7, h: 9, w: 8, kernel: [3, 2], stride: [2, 1], pads: [1, 0, 2, 1], dilation: [1, 2], ceilMode: true, sync: true, threads: 1, kind: 'max', seed: 9 };
  const p = paramsOf(c);
  const hw = c.h * c.w, ohw = p.outDims[0]! * p.outDims[1]!;
  const x = randomF32(rng(9), c.n * c.c * hw);
  const xNhwc = new Float32Array(x.length);
  reorder(x, xNhwc, c.n, c.c, hw, 'nhwc');
  for (const [name, run] of [['max', (a: Float32Array, b: Float32Array, q: PoolParams) => maxPool(a, b, q)], ['avg', (a: Float32Array, b: Float32Array, q: PoolParams) => averagePool(a, b, q, true)]] as const) {
    const want = new Float32Array(c.n * c.c * ohw), got = new Float32Array(want.length), back = new Float32Array(want.length);
    run(x, want, { ...p, nhwc: false });
    run(xNhwc, got, p);
    reorder(got, back, c.n, c.c, ohw, 'nchw');
    t.deepEqual([...back], [...want], name);
  }
  const want = new Float32Array(c.n * c.c), got = new Float32Array(c.n * c.c);
  globalAveragePool(x, want, c.n, c.c, hw);
  globalAveragePool(xNhwc, got, c.n, c.c, hw, true);
  expectClose(got, Float64Array.from(want), 'gap', [c.n, c.c]);
});
