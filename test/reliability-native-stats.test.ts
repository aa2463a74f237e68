// Native resource counters (issue 7): after load → run → dispose cycles the
// packed-weight handles and bytes return to the baseline and no async op is
// left in flight; release() frees a handle now and a released handle throws.
import test from 'ava';
import { load, nativeStats, resnet, Tensor } from '../src/index.js';
import { nativeAvailable, nativeBinding } from '../src/native.js';
import { seededTensor } from '../src/validate.js';

const native = nativeAvailable();
const maybe = native ? test.serial : test.serial.skip; // the counters are process-wide: no overlap between tests
const input = (i: number, batch = 1) => seededTensor([batch, 3, 32, 32], 300 + i);

test.serial('nativeStats() is null without the addon and the four counters with it', (t) => {
  const s = nativeStats();
  if (!native) return t.is(s, null);
  t.deepEqual(Object.keys(s!).sort(), ['asyncInFlight', 'packedBytes', 'packedHandles', 'scratchBytes']);
  for (const v of Object.values(s!)) t.true(Number.isInteger(v) && v >= 0);
});

maybe('load → run ×N → dispose cycles of ResNet-18 return the counters to the baseline', async (t) => {
  const base = nativeStats()!;
  for (let cycle = 0; cycle < 4; cycle++) {
    const m = await load(resnet({ depth: 18, inputSize: 32, numClasses: 10, seed: 1 }), { backend: 'native', threads: 2 });
    const loaded = nativeStats()!;
    t.is(loaded.packedHandles - base.packedHandles, 21, 'one handle per conv (20) and the FC');
    t.true(loaded.packedBytes - base.packedBytes > 40e6, 'about 11.2M weights packed');
    // Sequential and overlapping async runs (the plan path), a runSync, and a per-node run.
    for (let i = 0; i < 3; i++) await m.run({ input: input(i) });
    const pending = [m.run({ input: input(3) }), m.run({ input: input(4, 2) }), m.run({ input: input(5) }, { fetchIntermediates: true })];
    t.true(nativeStats()!.asyncInFlight >= 1, 'async runs are counted while queued');
    m.runSync({ input: input(6) });
    await Promise.all(pending);
    t.is(nativeStats()!.asyncInFlight, 0);
    // dispose() with a run in flight waits for it, then releases every handle.
    const last = m.run({ input: input(7) });
    await m.dispose();
    await last;
    const after = nativeStats()!;
    t.is(after.packedHandles, base.packedHandles, `cycle ${cycle}: handles`);
    t.is(after.packedBytes, base.packedBytes, `cycle ${cycle}: bytes`);
    t.is(after.asyncInFlight, 0, `cycle ${cycle}: async in flight`);
  }
});

maybe('release() frees a handle now; using it afterwards throws a TypeError; it is idempotent', async (t) => {
  const b = nativeBinding();
  const base = nativeStats()!;
  const w = Float32Array.from({ length: 4 * 3 * 3 * 3 }, (_, i) => Math.cos(i));
  const conv = b.packConv2d(w, null, 4, 3, 3, 3, 1);
  const fc = b.packGemm(new Float32Array(10 * 8).fill(0.5), null, 10, 8);
  t.is(nativeStats()!.packedHandles, base.packedHandles + 2);
  const p = { inputDims: [1, 3, 8, 8], cOut: 4, kh: 3, kw: 3, groups: 1, strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], outDims: [8, 8], relu: false, threads: 1 };
  const x = Float32Array.from({ length: 3 * 64 }, (_, i) => Math.sin(i));
  const y = new Float32Array(4 * 64);
  // An async run already in flight keeps its own reference to the weights.
  const inFlight = b.conv2d(conv, x, null, y, p);
  b.release(conv);
  b.release(conv); // idempotent
  b.release(fc);
  t.is(nativeStats()!.packedHandles, base.packedHandles);
  t.is(nativeStats()!.packedBytes, base.packedBytes);
  await inFlight;
  const ref = new Float32Array(4 * 64);
  b.conv2dSync(b.packConv2d(w, null, 4, 3, 3, 3, 1), x, null, ref, p);
  t.deepEqual(y, ref, 'the run in flight finished with the weights it started with');
  t.throws(() => b.conv2dSync(conv, x, null, y, p), { instanceOf: TypeError, message: /conv2dSync: packed is a handle that has been released/ });
  await t.throwsAsync(async () => b.conv2d(conv, x, null, y, p), { instanceOf: TypeError, message: /has been released/ });
  t.throws(() => b.gemmSync(fc, new Float32Array(8), 1, false, new Float32Array(10), 1), { instanceOf: TypeError, message: /gemmSync: packed is a handle that has been released/ });
  t.throws(() => b.release({} as never), { instanceOf: TypeError, message: /release: expected a handle returned by packConv2d, packGemm or createPlan/ });
});

maybe('a disposed model no longer counts, and the JS backend leaves the native counters alone', async (t) => {
  const base = nativeStats()!;
  const m = await load(resnet({ depth: 18, inputSize: 32, numClasses: 10, seed: 1, width: 8 }), { backend: 'js' });
  await m.run({ input: new Tensor('float32', new Float32Array(3 * 32 * 32), [1, 3, 32, 32]) });
  await m.dispose();
  t.deepEqual({ ...nativeStats()!, scratchBytes: 0 }, { ...base, scratchBytes: 0 });
});
