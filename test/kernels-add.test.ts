// add (+ReLU) against the float64 reference, for the JS backend and the
// native backend on each ISA path (lengths not multiples of any vector width).
import test from 'ava';
import fc from 'fast-check';
import { ops, Tensor } from '../src/index.js';
import { addRef } from './helpers/reference.js';
import { rng, randomF32 } from './helpers/rng.js';
import { variants } from './helpers/backends.js';
import { dataSeed, expectClose, expectDims, fcParams, RUNS } from './helpers/property.js';

const addCase = fc.record({
  dims: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }),
  relu: fc.boolean(),
  sync: fc.boolean(),
  threads: fc.integer({ min: 1, max: 3 }),
  seed: dataSeed,
});

for (const v of variants()) {
  test.serial(`add · ${v.label}: ${RUNS} random configurations against the float64 reference`, async (t) => {
    v.activate();
    t.teardown(() => v.restore());
    await fc.assert(
      fc.asyncProperty(addCase, async (c) => {
        const r = rng(c.seed);
        const size = c.dims.reduce((a, b) => a * b, 1);
        const a = new Tensor('float32', randomF32(r, size), c.dims);
        const b = new Tensor('float32', randomF32(r, size), c.dims);
        const opts = { relu: c.relu, backend: v.backend, threads: c.threads };
        const y = c.sync ? ops.addSync(a, b, opts) : await ops.add(a, b, opts);
        expectDims(y.dims, c.dims, v.label);
        expectClose(y.data, addRef(a.data, b.data, c.relu), v.label, c.dims);
      }),
      fcParams(),
    );
    t.pass();
  });

  test.serial(`add · ${v.label}: a large tensor (1×256×56×56) with ReLU`, async (t) => {
    v.activate();
    t.teardown(() => v.restore());
    const r = rng(7);
    const dims = [1, 256, 56, 56];
    const a = new Tensor('float32', randomF32(r, 256 * 56 * 56), dims);
    const b = new Tensor('float32', randomF32(r, 256 * 56 * 56), dims);
    const y = await ops.add(a, b, { relu: true, backend: v.backend, threads: 2 });
    const e = addRef(a.data, b.data, true);
    let bad = -1;
    for (let i = 0; i < e.length && bad < 0; i++) if (Math.abs(y.data[i] - e[i]) > 1e-6) bad = i;
    t.is(bad, -1, `first mismatch at ${bad}`);
  });
}
