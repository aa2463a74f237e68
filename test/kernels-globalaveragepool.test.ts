// globalAveragePool against the float64 reference, for the JS backend and the
// native backend on each ISA path.
import test from 'ava';
import fc from 'fast-check';
import { ops, Tensor } from '../src/index.js';
import { globalAveragePoolRef } from './helpers/reference.js';
import { rng, randomF32 } from './helpers/rng.js';
import { variants } from './helpers/backends.js';
import { dataSeed, expectClose, expectDims, fcParams, RUNS } from './helpers/property.js';

const gapCase = fc.record({
  n: fc.integer({ min: 1, max: 3 }),
  c: fc.integer({ min: 1, max: 70 }),
  h: fc.integer({ min: 1, max: 16 }),
  w: fc.integer({ min: 1, max: 16 }),
  offset: fc.double({ min: -100, max: 100, noNaN: true }), // a large mean stresses the accumulation
  sync: fc.boolean(),
  threads: fc.integer({ min: 1, max: 3 }),
  seed: dataSeed,
});

for (const v of variants()) {
  test.serial(`globalAveragePool · ${v.label}: ${RUNS} random configurations against the float64 reference`, async (t) => {
    v.activate();
    t.teardown(() => v.restore());
    await fc.assert(
      fc.asyncProperty(gapCase, async (c) => {
        const x = new Tensor('float32', randomF32(rng(c.seed), c.n * c.c * c.h * c.w, c.offset - 1, c.offset + 1), [c.n, c.c, c.h, c.w]);
        const opts = { backend: v.backend, threads: c.threads };
        const y = c.sync ? ops.globalAveragePoolSync(x, opts) : await ops.globalAveragePool(x, opts);
        expectDims(y.dims, [c.n, c.c, 1, 1], v.label);
        expectClose(y.data, globalAveragePoolRef(x.data, c.n, c.c, c.h * c.w), v.label, y.dims);
      }),
      fcParams(),
    );
    t.pass();
  });
}
