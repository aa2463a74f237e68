// gemm (y = x·Wᵀ + b, a fully connected layer) against the float64 reference,
// for the JS backend and the native backend on each ISA path.
import test from 'ava';
import fc from 'fast-check';
import { ops, Tensor } from '../src/index.js';
import { gemmRef } from './helpers/reference.js';
import { rng, randomF32 } from './helpers/rng.js';
import { variants } from './helpers/backends.js';
import { dataSeed, expectClose, expectDims, fcParams, ReferenceCache, RUNS } from './helpers/property.js';
import { assertClose } from './helpers/tolerance.js';

const gemmCase = fc.record({
  m: fc.integer({ min: 1, max: 5 }),
  // Past 256 (one K block of the JS GEMM) and 512 in some cases.
  k: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 41, max: 700 })),
  nOut: fc.oneof(fc.integer({ min: 1, max: 19 }), fc.integer({ min: 20, max: 70 })),
  bias: fc.boolean(),
  relu: fc.boolean(),
  sync: fc.boolean(),
  threads: fc.integer({ min: 1, max: 3 }),
  seed: dataSeed,
});
type GemmCase = typeof gemmCase extends fc.Arbitrary<infer T> ? T : never;

const cache = new ReferenceCache<{ x: Tensor; w: Tensor; bias?: Tensor; expected: Float64Array }>();
function data(c: GemmCase) {
  return cache.get(c, () => {
    const r = rng(c.seed);
    const x = new Tensor('float32', randomF32(r, c.m * c.k), [c.m, c.k]);
    const w = new Tensor('float32', randomF32(r, c.nOut * c.k), [c.nOut, c.k]);
    const bias = c.bias ? new Tensor('float32', randomF32(r, c.nOut), [c.nOut]) : undefined;
    return { x, w, bias, expected: gemmRef(x.data, c.m, c.k, w.data, c.nOut, bias?.data ?? null, c.relu) };
  });
}

for (const v of variants()) {
  test.serial(`gemm · ${v.label}: ${RUNS} random configurations against the float64 reference`, async (t) => {
    v.activate();
    t.teardown(() => v.restore());
    await fc.assert(
      fc.asyncProperty(gemmCase, async (c) => {
        const d = data(c);
        const opts = { bias: d.bias, relu: c.relu, backend: v.backend, threads: c.threads };
        const y = c.sync ? ops.gemmSync(d.x, d.w, opts) : await ops.gemm(d.x, d.w, opts);
        expectDims(y.dims, [c.m, c.nOut], v.label);
        expectClose(y.data, d.expected, v.label, [c.m, c.nOut]);
      }),
      fcParams(),
    );
    t.pass();
  });

  test.serial(`gemm · ${v.label}: ResNet-50's classifier (2048 → 1000) at batch 2`, async (t) => {
    v.activate();
    t.teardown(() => v.restore());
    const r = rng(1000);
    const x = new Tensor('float32', randomF32(r, 2 * 2048), [2, 2048]);
    const w = new Tensor('float32', randomF32(r, 1000 * 2048, -0.05, 0.05), [1000, 2048]);
    const bias = new Tensor('float32', randomF32(r, 1000), [1000]);
    const y = await ops.gemm(x, w, { bias, backend: v.backend });
    assertClose(t, y.data, gemmRef(x.data, 2, 2048, w.data, 1000, bias.data, false), 'exact', { dims: [2, 1000] });
  });
}
