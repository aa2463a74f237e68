// The fast mode's Winograd F(4×4,3×3) and F(2×2,3×3) paths (native, AVX-512)
// against the float64 reference on random 3×3 stride-1 shapes, within the
// 'winograd' tolerance.
import test from 'ava';
import fc from 'fast-check';
import { createNativeBackend } from '../src/backend/native.js';
import { info, ops, Tensor } from '../src/index.js';
import { conv2dRef } from './helpers/reference.js';
import { rng, randomF32 } from './helpers/rng.js';
import { assertClose } from './helpers/tolerance.js';

const hasWinograd = info().native && info().detectedIsa === 'avx512f';

(hasWinograd ? test : test.skip)('fast mode: 3×3 stride-1 convs (Winograd) match float64 on 150 random shapes', async (t) => {
  let differ = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        n: fc.integer({ min: 1, max: 3 }), cIn: fc.integer({ min: 1, max: 40 }), cOut: fc.integer({ min: 1, max: 40 }),
        h: fc.integer({ min: 1, max: 23 }), w: fc.integer({ min: 1, max: 23 }),
        pads: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
        bias: fc.boolean(), residual: fc.boolean(), relu: fc.boolean(), seed: fc.integer({ min: 1, max: 1 << 30 }),
      }).filter((c) => c.h + c.pads[0] + c.pads[2] >= 3 && c.w + c.pads[1] + c.pads[3] >= 3),
      async (c) => {
        const r = rng(c.seed);
        const scale = 1 / Math.sqrt(9 * c.cIn);
        const x = new Tensor('float32', randomF32(r, c.n * c.cIn * c.h * c.w), [c.n, c.cIn, c.h, c.w]);
        const w = new Tensor('float32', randomF32(r, c.cOut * c.cIn * 9, -scale, scale), [c.cOut, c.cIn, 3, 3]);
        const bias = c.bias ? new Tensor('float32', randomF32(r, c.cOut), [c.cOut]) : undefined;
        const oh = c.h + c.pads[0] + c.pads[2] - 2;
        const ow = c.w + c.pads[1] + c.pads[3] - 2;
        const residual = c.residual ? new Tensor('float32', randomF32(r, c.n * c.cOut * oh * ow), [c.n, c.cOut, oh, ow]) : undefined;
        const opts = { bias, residual, relu: c.relu, pads: c.pads as [number, number, number, number] };
        const fast = await ops.conv2d(x, w, { ...opts, mode: 'fast' });
        const exact = await ops.conv2d(x, w, opts);
        const ref = conv2dRef(x.data, x.dims, w.data, w.dims, bias?.data ?? null, residual?.data ?? null, c.relu, { stride: [1, 1], pads: c.pads, dilation: [1, 1], groups: 1 });
        if (fast.data.some((v, i) => v !== exact.data[i])) differ++;
        return assertClose(t, fast.data, ref.data, 'winograd', { dims: fast.dims, message: JSON.stringify({ ...c, seed: c.seed }) });
      },
    ),
    { numRuns: 150, seed: 20261129 },
  );
  // The check means something only if the fast path really ran.
  t.true(differ > 75, `fast and exact differed on only ${differ} of 150 shapes: is Winograd being used?`);
});

test('fast mode is refused for a weight packed without it, and validated', async (t) => {
  const w = ops.packConv2d(Tensor.zeros([4, 4, 3, 3]));
  await t.throwsAsync(ops.conv2d(Tensor.zeros([1, 4, 8, 8]), w, { mode: 'fast' }), { instanceOf: TypeError, message: /mode was chosen when the weight was packed/ });
  t.throws(() => ops.packConv2d(Tensor.zeros([4, 4, 3, 3]), { mode: 'quick' as 'fast' }), { instanceOf: TypeError, message: /options\.mode/ });
});

(hasWinograd ? test : test.skip)('fast mode: a packed weight used by many concurrent calls transforms its Winograd weights once, for all of them', async (t) => {
  // The Winograd weights are made on first use; eight calls race to be first.
  const r = rng(99);
  const x = new Tensor('float32', randomF32(r, 2 * 48 * 20 * 20), [2, 48, 20, 20]);
  const wt = new Tensor('float32', randomF32(r, 40 * 48 * 9, -0.05, 0.05), [40, 48, 3, 3]);
  const bias = new Tensor('float32', randomF32(r, 40), [40]);
  const packed = ops.packConv2d(wt, { bias, mode: 'fast' });
  const outs = await Promise.all(Array.from({ length: 8 }, () => ops.conv2d(x, packed, { pads: [1, 1, 1, 1], relu: true })));
  const ref = conv2dRef(x.data, x.dims, wt.data, wt.dims, bias.data, null, true, { stride: [1, 1], pads: [1, 1, 1, 1], dilation: [1, 1], groups: 1 });
  for (const o of outs) t.deepEqual(o.data, outs[0]!.data);
  assertClose(t, outs[0]!.data, ref.data, 'winograd', { dims: outs[0]!.dims });
  const exact = await ops.conv2d(x, wt, { bias, pads: [1, 1, 1, 1], relu: true });
  t.true(outs[0]!.data.some((v, i) => v !== exact.data[i]), 'the fast path ran');
});

(hasWinograd ? test : test.skip)('fast mode: F(2×2,3×3), chosen for few big tiles (deep layers at small batches), matches float64 on 24 random shapes', async (t) => {
  // F(2×2) runs where F(4×4) would stream a big U for few tiles and pad them
  // far more: 128-160 channels at 13-14 pixels a side (or 9-10 at batch 2).
  const be = createNativeBackend();
  const kernels = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        batch2: fc.boolean(), cIn: fc.integer({ min: 128, max: 160 }), cOut: fc.integer({ min: 120, max: 160 }),
        dh: fc.integer({ min: 0, max: 1 }), dw: fc.integer({ min: 0, max: 1 }),
        pads: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
        bias: fc.boolean(), residual: fc.boolean(), relu: fc.boolean(), seed: fc.integer({ min: 1, max: 1 << 30 }),
      }),
      async (c) => {
        const n = c.batch2 ? 2 : 1;
        const [pt, pl, pb, pr] = c.pads;
        const oh = (c.batch2 ? 9 : 13) + c.dh, ow = (c.batch2 ? 9 : 13) + c.dw;
        const h = oh + 2 - pt - pb, w = ow + 2 - pl - pr;
        const r = rng(c.seed);
        const scale = 1 / Math.sqrt(9 * c.cIn);
        const x = randomF32(r, n * c.cIn * h * w);
        const wt = randomF32(r, c.cOut * c.cIn * 9, -scale, scale);
        const bias = c.bias ? randomF32(r, c.cOut) : null;
        const residual = c.residual ? randomF32(r, n * c.cOut * oh * ow) : null;
        const p = { inputDims: [n, c.cIn, h, w], cOut: c.cOut, kh: 3, kw: 3, groups: 1, strides: [1, 1] as [number, number], pads: c.pads as [number, number, number, number], dilations: [1, 1] as [number, number], outDims: [oh, ow] as [number, number], relu: c.relu, threads: 2 };
        const packed = be.packConv2d(wt, bias, c.cOut, c.cIn, 3, 3, 1, 'fast');
        const kernel = be.convKernel!(packed, p);
        kernels.set(kernel, (kernels.get(kernel) ?? 0) + 1);
        const y = new Float32Array(n * c.cOut * oh * ow);
        be.conv2dSync(packed, x, residual, y, p);
        const ref = conv2dRef(x, [n, c.cIn, h, w], wt, [c.cOut, c.cIn, 3, 3], bias, residual, c.relu, { stride: [1, 1], pads: c.pads, dilation: [1, 1], groups: 1 });
        return assertClose(t, y, ref.data, 'winograd', { dims: [n, c.cOut, oh, ow], message: `${kernel} ${JSON.stringify(c)}` });
      },
    ),
    { numRuns: 24, seed: 20261130 },
  );
  // The check means something only if F(2×2) really ran.
  t.true((kernels.get('f32_winograd_2x2_3x3__avx512f') ?? 0) >= 20, `kernels run: ${JSON.stringify([...kernels])}`);
});
