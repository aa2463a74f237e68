// y += conv(x): the native conv2d with the residual and the output in the very
// same buffer, as a model's memory plan asks when a Conv is its residual's last
// reader (residualInPlace). Every native conv path reads the residual where it
// writes y: the GEMM (1×1 and im2col, one or several K blocks, where it
// accumulates onto y), the direct kernel (AVX-512), Winograd (fast mode) and
// the depthwise loop; against the float64 reference, on each ISA path.
import test from 'ava';
import fc from 'fast-check';
import { createNativeBackend } from '../src/backend/native.js';
import type { ConvParams } from '../src/backend/types.js';
import { conv2dRef, outSize } from './helpers/reference.js';
import { rng, randomF32 } from './helpers/rng.js';
import { nativeVariants, registerNativePresence } from './helpers/backends.js';
import { dataSeed, expectClose, SEED } from './helpers/property.js';
import { TOLERANCE } from './helpers/tolerance.js';

const RUNS = Math.max(1, Math.floor(Number(process.env.RESNODE_FC_RUNS ?? 300) / 2));

const inPlaceCase = fc
  .record({
    n: fc.integer({ min: 1, max: 3 }),
    // 1×1 with up to 300 input channels: one or two K blocks (kc = 256).
    // 3×3 with up to 40: K = 9·cIn runs past one K block from 29.
    kind: fc.constantFrom('1x1', '3x3', '3x3/2', 'depthwise'),
    cIn: fc.integer({ min: 1, max: 300 }),
    // 32, 64 and 52: the direct kernel's panels on AVX-512; the rest run the GEMM.
    cOut: fc.oneof(fc.constantFrom(32, 64, 52), fc.integer({ min: 1, max: 40 })),
    h: fc.integer({ min: 3, max: 20 }),
    w: fc.integer({ min: 3, max: 20 }),
    mode: fc.constantFrom('exact' as const, 'fast' as const),
    bias: fc.boolean(),
    relu: fc.boolean(),
    async: fc.boolean(),
    threads: fc.integer({ min: 1, max: 3 }),
    seed: dataSeed,
  })
  .map((c) => {
    const k = c.kind === '1x1' ? 1 : 3;
    const cIn = c.kind === '1x1' ? c.cIn : c.kind === 'depthwise' ? 1 + (c.cIn % 24) : 1 + (c.cIn % 40);
    const cOut = c.kind === 'depthwise' ? cIn : c.cOut;
    return { ...c, k, cIn, cOut, groups: c.kind === 'depthwise' ? cIn : 1, stride: c.kind === '3x3/2' ? 2 : 1, pad: k === 3 ? 1 : 0 };
  });

registerNativePresence(test);

for (const v of nativeVariants()) {
  test.serial(`conv2d · ${v.label}: y += conv(x) with the residual in y's own buffer, ${RUNS} random configurations against the float64 reference`, async (t) => {
    v.activate();
    t.teardown(() => v.restore());
    const be = createNativeBackend();
    await fc.assert(
      fc.asyncProperty(inPlaceCase, async (c) => {
        const r = rng(c.seed);
        const cInG = c.cIn / c.groups;
        const x = randomF32(r, c.n * c.cIn * c.h * c.w);
        const w = randomF32(r, c.cOut * cInG * c.k * c.k, -0.2, 0.2);
        const bias = c.bias ? randomF32(r, c.cOut) : null;
        const oh = outSize(c.h, c.k, c.stride, c.pad, c.pad, 1);
        const ow = outSize(c.w, c.k, c.stride, c.pad, c.pad, 1);
        const residual = randomF32(r, c.n * c.cOut * oh * ow);
        const pads: [number, number, number, number] = [c.pad, c.pad, c.pad, c.pad];
        const ref = conv2dRef(x, [c.n, c.cIn, c.h, c.w], w, [c.cOut, cInG, c.k, c.k], bias, residual, c.relu,
          { stride: [c.stride, c.stride], pads, dilation: [1, 1], groups: c.groups });
        const packed = be.packConv2d(w, bias, c.cOut, cInG, c.k, c.k, c.groups, c.mode);
        const p: ConvParams = {
          inputDims: [c.n, c.cIn, c.h, c.w], cOut: c.cOut, kh: c.k, kw: c.k, groups: c.groups, strides: [c.stride, c.stride],
          pads, dilations: [1, 1], outDims: [oh, ow], relu: c.relu, threads: c.threads,
        };
        const y = residual.slice();
        if (c.async) await be.conv2d(packed, x, y, y, p);
        else be.conv2dSync(packed, x, y, y, p);
        be.release?.(packed);
        expectClose(y, ref.data, `${v.label} ${JSON.stringify({ ...c, seed: undefined })}`, ref.dims, c.mode === 'fast' ? TOLERANCE.winograd : TOLERANCE.exact);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    t.pass();
  });
}
