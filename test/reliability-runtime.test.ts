// Concurrency, dispose() with runs in flight, and faults: a run that throws
// (bad input, or a kernel failing mid-run) leaves the model usable.
import test from 'ava';
import { load, resnet, Tensor, ModelError, type Model } from '../src/index.js';
import { seededTensor } from '../src/validate.js';
import { nativeAvailable } from '../src/native.js';

const backends = nativeAvailable() ? (['native', 'js'] as const) : (['js'] as const);
const N = 200;

/** ResNet-18 at 32×32: full width on native; width 8 on JS (its kernels are ~100× slower). */
async function model(backend: 'native' | 'js'): Promise<Model> {
  const g = resnet({ depth: 18, seed: 5, inputSize: 32, numClasses: 10, width: backend === 'native' ? 64 : 8 });
  return load(g, { backend, threads: 2 });
}
const input = (i: number, batch = 1) => seededTensor([batch, 3, 32, 32], 1000 + i);
const same = (a: Tensor, b: Tensor) => a.dims.length === b.dims.length && a.dims.every((d, i) => d === b.dims[i]) && Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength));

for (const backend of backends) {
  test(`${backend}: ${N} concurrent runs (distinct inputs, mixed batch 1 and 2, with runSync in between) are bit-identical to serial runs`, async (t) => {
    const m = await model(backend);
    const batchOf = (i: number) => (i % 5 === 0 ? 2 : 1);
    const serial: Tensor[] = [];
    for (let i = 0; i < N; i++) serial.push(m.runSync({ input: input(i, batchOf(i)) }).output!);
    const pending = Array.from({ length: N }, (_, i) => m.run({ input: input(i, batchOf(i)) }));
    // Synchronous runs while the async ones are in flight share the arenas' free list.
    for (let i = 0; i < N; i += 20) t.true(same(m.runSync({ input: input(i, batchOf(i)) }).output!, serial[i]!), `runSync ${i} during concurrent runs`);
    const concurrent = await Promise.all(pending);
    let mismatches = 0;
    concurrent.forEach((r, i) => { if (!same(r.output!, serial[i]!)) mismatches++; });
    t.is(mismatches, 0, `${mismatches} of ${N} concurrent runs differ from the serial ones`);
    // Distinct inputs gave distinct outputs, so a swapped buffer would have shown.
    t.false(same(serial[0]!, serial[1]!));
    await m.dispose();
  });

  test(`${backend}: dispose() with runs in flight waits for them; later runs throw ModelError`, async (t) => {
    const m = await model(backend);
    const expected = m.runSync({ input: input(0) }).output!;
    const done: string[] = [];
    const runs = Array.from({ length: 20 }, (_, i) => m.run({ input: input(0) }).then((r) => { done.push(`run${i}`); return r; }));
    const disposed = m.dispose().then(() => done.push('dispose'));
    const results = await Promise.all(runs);
    await disposed;
    t.is(done.at(-1), 'dispose', 'dispose() resolved only after every run in flight');
    t.is(done.length, 21);
    for (const r of results) t.true(same(r.output!, expected), 'runs in flight during dispose() complete correctly');
    await t.throwsAsync(m.run({ input: input(0) }), { instanceOf: ModelError, message: /disposed/ });
    t.throws(() => m.runSync({ input: input(0) }), { instanceOf: ModelError, message: /disposed/ });
    await t.notThrowsAsync(m.dispose(), 'a second dispose() is harmless');
  });

  test(`${backend}: runs that throw on bad input leave the model usable`, async (t) => {
    const m = await model(backend);
    const expected = (await m.run({ input: input(7) })).output!;
    const bad: [string, unknown][] = [
      ['wrong spatial dims', { input: seededTensor([1, 3, 31, 32], 1) }],
      ['wrong rank', { input: seededTensor([3, 32, 32], 1) }],
      ['missing input', {}],
      ['unknown input', { input: input(7), extra: input(7) }],
      ['not a Tensor', { input: new Float32Array(3 * 32 * 32) }],
      ['null feeds', null],
    ];
    for (const [what, feeds] of bad) {
      const e = await t.throwsAsync(m.run(feeds as never));
      t.true(e instanceof TypeError || e instanceof RangeError || e instanceof ModelError, `${what}: ${e?.name}`);
      t.throws(() => m.runSync(feeds as never));
      t.true(same((await m.run({ input: input(7) })).output!, expected), `usable after ${what}`);
    }
    await m.dispose();
  });

  test.serial(`${backend}: a kernel failing mid-run rejects that run only; arenas and the in-flight count are released`, async (t) => {
    const m = await model(backend);
    const expected = (await m.run({ input: input(3) })).output!;
    type Fn = (...a: unknown[]) => unknown;
    const be = m.backend as unknown as Record<'conv2d' | 'conv2dSync' | 'runPlan' | 'runPlanSync', Fn | undefined>;
    const orig = be.conv2d!, origSync = be.conv2dSync!, origPlan = be.runPlan, origPlanSync = be.runPlanSync;
    let calls = 0;
    try {
      be.conv2d = (...a) => (++calls === 5 ? Promise.reject(new RangeError('injected kernel fault')) : orig(...a));
      be.conv2dSync = (...a) => { if (++calls === 5) throw new RangeError('injected kernel fault'); origSync(...a); };
      // The native backend runs a whole model in one plan call: fault the first one after each reset.
      if (origPlan) be.runPlan = (...a) => (++calls === 1 ? Promise.reject(new RangeError('injected kernel fault')) : origPlan(...a));
      if (origPlanSync) be.runPlanSync = (...a) => { if (++calls === 1) throw new RangeError('injected kernel fault'); origPlanSync(...a); };
      await t.throwsAsync(m.run({ input: input(3) }), { message: 'injected kernel fault' });
      calls = 0;
      t.throws(() => m.runSync({ input: input(3) }), { message: 'injected kernel fault' });
      // Faults among concurrent runs: exactly the faulty ones reject.
      calls = 0;
      const settled = await Promise.allSettled(Array.from({ length: 8 }, () => m.run({ input: input(3) })));
      t.true(settled.some((s) => s.status === 'rejected'));
      for (const s of settled) if (s.status === 'fulfilled') t.true(same(s.value.output!, expected));
    } finally {
      be.conv2d = orig;
      be.conv2dSync = origSync;
      be.runPlan = origPlan;
      be.runPlanSync = origPlanSync;
    }
    for (let i = 0; i < 3; i++) t.true(same((await m.run({ input: input(3) })).output!, expected), 'usable after the fault');
    t.true(same(m.runSync({ input: input(3) }).output!, expected));
    // dispose() would wait forever if a failed run had not released its in-flight slot.
    const timeout = new Promise<string>((r) => setTimeout(() => r('timeout'), 5000).unref());
    t.not(await Promise.race([m.dispose().then(() => 'ok'), timeout]), 'timeout');
  });
}
