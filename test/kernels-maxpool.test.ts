// maxPool (kernel, stride, asymmetric pads, dilation, ceil_mode) against the
// float64 reference, for the JS backend and the native backend on each ISA path.
import test from 'ava';
import fc from 'fast-check';
import { ops, Tensor } from '../src/index.js';
import { poolRef } from './helpers/reference.js';
import { rng, randomF32 } from './helpers/rng.js';
import { variants } from './helpers/backends.js';
import { dataSeed, expectClose, expectDims, fcParams, ReferenceCache, RUNS } from './helpers/property.js';
import { poolCase, type PoolCase } from './helpers/pool-cases.js';
import { assertClose } from './helpers/tolerance.js';

const cache = new ReferenceCache<{ x: Tensor; expected: Float64Array; dims: number[] }>();
function data(c: PoolCase) {
  return cache.get(c, () => {
    const r = rng(c.seed);
    const x = new Tensor('float32', randomF32(r, c.n * c.c * c.h * c.w), [c.n, c.c, c.h, c.w]);
    const ref = poolRef('max', x.data, x.dims, { kernel: c.kernel, stride: c.stride, pads: c.pads, dilation: c.dilation, ceilMode: c.ceilMode });
    return { x, expected: ref.data, dims: ref.dims };
  });
}

for (const v of variants()) {
  test.serial(`maxPool · ${v.label}: ${RUNS} random configurations against the float64 reference`, async (t) => {
    v.activate();
    t.teardown(() => v.restore());
    await fc.assert(
      fc.asyncProperty(poolCase(true), dataSeed, async (c0, seed) => {
        const c = { ...c0, seed };
        const d = data(c);
        const opts = { kernel: c.kernel, stride: c.stride, pads: c.pads, dilation: c.dilation, ceilMode: c.ceilMode, backend: v.backend, threads: c.threads };
        const y = c.sync ? ops.maxPoolSync(d.x, opts) : await ops.maxPool(d.x, opts);
        expectDims(y.dims, d.dims, v.label);
        expectClose(y.data, d.expected, v.label, d.dims);
      }),
      fcParams(),
    );
    t.pass();
  });

  test.serial(`maxPool · ${v.label}: ResNet's stem pool (3×3, stride 2, pad 1) on 1×64×112×112`, async (t) => {
    v.activate();
    t.teardown(() => v.restore());
    const x = new Tensor('float32', randomF32(rng(3), 64 * 112 * 112), [1, 64, 112, 112]);
    const y = await ops.maxPool(x, { kernel: 3, stride: 2, pads: 1, backend: v.backend });
    const ref = poolRef('max', x.data, x.dims, { kernel: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1], dilation: [1, 1], ceilMode: false });
    t.deepEqual([...y.dims], [1, 64, 56, 56]);
    assertClose(t, y.data, ref.data, 'exact', { dims: ref.dims });
  });
}
