// averagePool (kernel, stride, asymmetric pads, ceil_mode, count_include_pad)
// against the float64 reference, for the JS backend and the native backend on
// each ISA path.
import test from 'ava';
import fc from 'fast-check';
import { ops, Tensor } from '../src/index.js';
import { poolRef } from './helpers/reference.js';
import { rng, randomF32 } from './helpers/rng.js';
import { variants } from './helpers/backends.js';
import { dataSeed, expectClose, expectDims, fcParams, ReferenceCache, RUNS } from './helpers/property.js';
import { poolCase, type PoolCase } from './helpers/pool-cases.js';
import { assertClose } from './helpers/tolerance.js';

type AvgCase = PoolCase & { countIncludePad: boolean };
const cache = new ReferenceCache<{ x: Tensor; expected: Float64Array; dims: number[] }>();
function data(c: AvgCase) {
  return cache.get(c, () => {
    const r = rng(c.seed);
    const x = new Tensor('float32', randomF32(r, c.n * c.c * c.h * c.w), [c.n, c.c, c.h, c.w]);
    const ref = poolRef('avg', x.data, x.dims, { kernel: c.kernel, stride: c.stride, pads: c.pads, dilation: [1, 1], ceilMode: c.ceilMode }, c.countIncludePad);
    return { x, expected: ref.data, dims: ref.dims };
  });
}

for (const v of variants()) {
  test.serial(`averagePool · ${v.label}: ${RUNS} random configurations against the float64 reference`, async (t) => {
    v.activate();
    t.teardown(() => v.restore());
    await fc.assert(
      fc.asyncProperty(poolCase(false), fc.boolean(), dataSeed, async (c0, countIncludePad, seed) => {
        const c = { ...c0, countIncludePad, seed };
        const d = data(c);
        const opts = { kernel: c.kernel, stride: c.stride, pads: c.pads, ceilMode: c.ceilMode, countIncludePad, backend: v.backend, threads: c.threads };
        const y = c.sync ? ops.averagePoolSync(d.x, opts) : await ops.averagePool(d.x, opts);
        expectDims(y.dims, d.dims, v.label);
        expectClose(y.data, d.expected, v.label, d.dims);
      }),
      fcParams(),
    );
    t.pass();
  });

  test.serial(`averagePool · ${v.label}: ceil_mode with count_include_pad never counts taps past the padding`, async (t) => {
    v.activate();
    t.teardown(() => v.restore());
    // 1×1×5×5 ones, kernel 3, stride 2, pads 1, ceil: windows at −1, 1, 3 (the last spans 3..5, 5 being padding).
    const x = new Tensor('float32', new Float32Array(25).fill(1), [1, 1, 5, 5]);
    for (const countIncludePad of [false, true]) {
      const y = await ops.averagePool(x, { kernel: 3, stride: 2, pads: 1, ceilMode: true, countIncludePad, backend: v.backend });
      const ref = poolRef('avg', x.data, x.dims, { kernel: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1], dilation: [1, 1], ceilMode: true }, countIncludePad);
      t.deepEqual([...y.dims], ref.dims);
      assertClose(t, y.data, ref.data, 'exact', { dims: ref.dims, message: `countIncludePad ${countIncludePad}` });
    }
  });
}
