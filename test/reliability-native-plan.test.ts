// The native plan executor (createPlan / runPlanSync / runPlan): a whole op
// sequence in one native call gives the same bits as the per-op calls, checks
// its steps once at creation and its buffers at every run.
import test from 'ava';
import { load, resnet } from '../src/index.js';
import { nativeAvailable, nativeBinding } from '../src/native.js';
import { seededTensor } from '../src/validate.js';
import type { NativeConvParams, NativePlanStep, NativePoolParams } from '../src/native-binding.js';

const maybe = nativeAvailable() ? test : test.skip;
const rand = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed));

/** x[1,4,6,6] → conv3x3(+residual, relu) → maxPool → avgPool → add → relu → GAP → copy → gemm → transpose. */
function fixture() {
  const b = nativeBinding();
  const conv = b.packConv2d(rand(4 * 4 * 9, 1), rand(4, 2), 4, 4, 3, 3, 1);
  const fc = b.packGemm(rand(6 * 4, 3), rand(6, 4), 6, 4);
  const cp: NativeConvParams = { inputDims: [1, 4, 6, 6], cOut: 4, kh: 3, kw: 3, groups: 1, strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], outDims: [6, 6], relu: true, threads: 0 };
  const pp: NativePoolParams = { inputDims: [1, 4, 6, 6], kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], outDims: [6, 6], threads: 0 };
  // buffers: 0 x, 1 residual, 2..6 activations, 7 gemm out, 8 transposed
  const steps: NativePlanStep[] = [
    { op: 'conv', inputs: [0, 1], output: 2, packed: conv, p: cp },
    { op: 'maxPool', inputs: [2], output: 3, p: pp },
    { op: 'averagePool', inputs: [3], output: 4, p: pp, countIncludePad: false },
    { op: 'add', inputs: [4, 2], output: 5, count: 144, relu: false, threads: 0 },
    { op: 'relu', inputs: [5], output: 5, count: 144 },
    { op: 'globalAveragePool', inputs: [5], output: 6, n: 1, c: 4, hw: 36, threads: 0 },
    { op: 'copy', inputs: [6], output: 3, count: 4 },
    { op: 'gemm', inputs: [3], output: 7, packed: fc, m: 1, relu: false, threads: 0 },
    { op: 'transpose', inputs: [7], output: 8, rows: 2, cols: 3 },
  ];
  const buffers = () => [rand(144, 5), rand(144, 6), ...Array.from({ length: 5 }, () => new Float32Array(144)), new Float32Array(6), new Float32Array(6)];
  const reference = () => {
    const [x, r, a, c, d, e, f, g, h] = buffers() as Float32Array[];
    b.conv2dSync(conv, x!, r!, a!, cp);
    b.maxPoolSync(a!, c!, pp);
    b.averagePoolSync(c!, d!, pp, false);
    b.addSync(d!, a!, e!, false, 0);
    for (let i = 0; i < 144; i++) e![i] = Math.max(0, e![i]!);
    b.globalAveragePoolSync(e!, f!, 1, 4, 36, 0);
    c!.set(f!.subarray(0, 4));
    b.gemmSync(fc, c!, 1, false, g!, 0);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) h![j * 2 + i] = g![i * 3 + j]!;
    return h!;
  };
  return { b, conv, fc, cp, steps, buffers, reference };
}

maybe('runPlanSync and runPlan give the same bits as the per-op calls', async (t) => {
  const f = fixture();
  const plan = f.b.createPlan(f.steps);
  const expected = f.reference();
  const s = f.buffers();
  f.b.runPlanSync(plan, s);
  t.deepEqual(s[8], expected);
  const a = f.buffers();
  await f.b.runPlan(plan, a);
  t.deepEqual(a[8], expected);
  // The plan holds its own reference to the weights: releasing their handles is safe.
  f.b.release(f.conv);
  f.b.release(f.fc);
  const c = f.buffers();
  f.b.runPlanSync(plan, c);
  t.deepEqual(c[8], expected);
  // A released plan throws; an async run already in flight finishes.
  const d = f.buffers();
  const pending = f.b.runPlan(plan, d);
  f.b.release(plan);
  f.b.release(plan);
  await pending;
  t.deepEqual(d[8], expected);
  t.throws(() => f.b.runPlanSync(plan, f.buffers()), { instanceOf: TypeError, message: /runPlanSync: plan is a handle that has been released/ });
});

maybe('createPlan checks each step once, with the per-op checks, naming the step', (t) => {
  const f = fixture();
  const bad = (i: number, patch: object) => f.steps.map((s, k) => (k === i ? { ...s, ...patch } : s)) as NativePlanStep[];
  t.throws(() => f.b.createPlan(bad(1, { op: 'lrn' })), { instanceOf: TypeError, message: /createPlan: expected one of 'conv'.* for steps\[1\]\.op but received 'lrn'/ });
  t.throws(() => f.b.createPlan(bad(0, { p: { ...f.cp, cOut: 5 } })), { instanceOf: RangeError, message: /createPlan: steps\[0\] \(conv\): expected 4 \(as packed\) for p\.cOut but received 5/ });
  t.throws(() => f.b.createPlan(bad(0, { p: { ...f.cp, outDims: [5, 5] } })), { instanceOf: RangeError, message: /steps\[0\] \(conv\): expected \[6, 6\].* for p\.outDims/ });
  t.throws(() => f.b.createPlan(bad(7, { packed: f.conv })), { instanceOf: TypeError, message: /steps\[7\] \(gemm\): expected a handle returned by packGemm for packed/ });
  t.throws(() => f.b.createPlan(bad(3, { inputs: [4] })), { instanceOf: TypeError, message: /steps\[3\] \(add\): expected an array of 2 buffer indices for inputs/ });
  t.throws(() => f.b.createPlan(bad(2, { countIncludePad: 1 })), { instanceOf: TypeError, message: /steps\[2\] \(averagePool\): expected a boolean for countIncludePad/ });
  t.throws(() => f.b.createPlan(bad(5, { output: -1 })), { instanceOf: RangeError, message: /steps\[5\] \(globalAveragePool\): expected an integer in \[0, 65535\] for output/ });
  t.throws(() => f.b.createPlan({} as never), { instanceOf: TypeError, message: /createPlan: expected an array of step objects for steps/ });
});

maybe('runPlanSync checks the buffers: types, lengths and overlaps', (t) => {
  const f = fixture();
  const plan = f.b.createPlan(f.steps);
  const with_ = (i: number, v: unknown) => f.buffers().map((b, k) => (k === i ? v : b)) as Float32Array[];
  t.throws(() => f.b.runPlanSync(plan, f.buffers().slice(0, 8)), { instanceOf: RangeError, message: /expected at least 9 .* for buffers\.length but received 8/ });
  t.throws(() => f.b.runPlanSync(plan, with_(2, new Float32Array(143))), { instanceOf: RangeError, message: /expected at least 144 elements .* for buffers\[2\]\.length/ });
  t.throws(() => f.b.runPlanSync(plan, with_(0, new Float64Array(144))), { instanceOf: TypeError, message: /expected a Float32Array for buffers\[0\]/ });
  const shared = new Float32Array(300);
  t.throws(() => f.b.runPlanSync(plan, with_(3, shared.subarray(0, 144)).map((b, k) => (k === 4 ? shared.subarray(100, 244) : b))), { instanceOf: RangeError, message: /buffers\[3\] and buffers\[4\] overlap/ });
  const same = f.buffers();
  same[1] = same[0]!; // read-only buffers may alias
  t.notThrows(() => f.b.runPlanSync(plan, same));
  const inPlace = f.b.createPlan([{ op: 'maxPool', inputs: [0], output: 0, p: f.steps[1]!.op === 'maxPool' ? (f.steps[1] as { p: NativePoolParams }).p : ({} as NativePoolParams) }]);
  t.throws(() => f.b.runPlanSync(inPlace, [new Float32Array(144)]), { instanceOf: RangeError, message: /runPlan: steps\[0\] \(maxPool\): y must not overlap x/ });
});

maybe('Model.run through the plan matches the per-node path bit for bit (ResNet-18 and -50, batch 1 and 2)', async (t) => {
  for (const depth of [18, 50] as const) {
    const m = await load(resnet({ depth, inputSize: 32, numClasses: 10, seed: 2 }), { backend: 'native', threads: 2 });
    for (const batch of [1, 2]) {
      const x = seededTensor([batch, 3, 32, 32], depth + batch);
      const whole = (await m.run({ input: x })).output!;
      const sync = m.runSync({ input: x }).output!;
      const perNode = (await m.run({ input: x }, { fetchIntermediates: true })).output!;
      t.deepEqual(whole.data, perNode.data, `ResNet-${depth} batch ${batch}: run`);
      t.deepEqual(sync.data, perNode.data, `ResNet-${depth} batch ${batch}: runSync`);
    }
    await m.dispose();
  }
});
