// The native direct-convolution kernel (output channels in the vector lanes,
// AVX-512; see native/cpu/gemm/dconv.h) against the float64 reference. Its
// cases: 32-channel weight panels (full and partial), one-row tiles of 14
// pixels (with partial tails), 7-pixel x 64-channel tiles for outputs at most
// 7 wide and, for outputs exactly 7 wide, two-row 2 x 7 x 32 tiles (an odd
// last row on a 7 x 64 tile), pixel strides 1, 2 and 3, dilation,
// asymmetric pads, batches, and the fused bias / residual / ReLU. On the other
// ISA paths the same cases run the im2col + GEMM kernels.
import test from 'ava';
import fc from 'fast-check';
import { ops, Tensor } from '../src/index.js';
import { conv2dRef, outSize } from './helpers/reference.js';
import { rng, randomF32 } from './helpers/rng.js';
import { nativeVariants, registerNativePresence } from './helpers/backends.js';
import { dataSeed, expectClose, expectDims, SEED } from './helpers/property.js';

const RUNS = Number(process.env.RESNODE_FC_RUNS ?? 300);

const pad = fc.integer({ min: 0, max: 3 });
const directCase = fc
  .record({
    n: fc.integer({ min: 1, max: 3 }),
    cIn: fc.integer({ min: 1, max: 12 }),
    // 32 and 64: full panels; 52 and 96: a partial last panel; 40: below the
    // direct kernel's fill threshold (the GEMM runs), as a control.
    cOut: fc.constantFrom(32, 64, 52, 96, 40),
    kh: fc.integer({ min: 1, max: 7 }),
    kw: fc.integer({ min: 2, max: 7 }),
    sh: fc.integer({ min: 1, max: 3 }),
    sw: fc.integer({ min: 1, max: 3 }),
    dh: fc.integer({ min: 1, max: 2 }),
    dw: fc.integer({ min: 1, max: 2 }),
    pads: fc.tuple(pad, pad, pad, pad),
    // Output widths 1-7 (7 x 64 tiles; 7: two-row tiles), 8-14 (one tile) and up to 31 (tails).
    ow: fc.oneof(fc.constant(7), fc.integer({ min: 1, max: 31 })),
    oh: fc.integer({ min: 1, max: 6 }),
    bias: fc.boolean(),
    residual: fc.boolean(),
    relu: fc.boolean(),
    threads: fc.integer({ min: 1, max: 3 }),
    seed: dataSeed,
  })
  .map((r) => {
    // The input extent that gives exactly oh x ow outputs (or the nearest above 0).
    const size = (o: number, k: number, s: number, d: number, p: number) => Math.max(1, (o - 1) * s + (k - 1) * d + 1 - p);
    const h = size(r.oh, r.kh, r.sh, r.dh, r.pads[0] + r.pads[2]);
    const w = size(r.ow, r.kw, r.sw, r.dw, r.pads[1] + r.pads[3]);
    return { ...r, h, w };
  });

registerNativePresence(test);

for (const v of nativeVariants()) {
  test.serial(`conv2d · ${v.label}: ${RUNS} random direct-kernel configurations against the float64 reference`, async (t) => {
    v.activate();
    t.teardown(() => v.restore());
    await fc.assert(
      fc.asyncProperty(directCase, async (c) => {
        const r = rng(c.seed);
        const x = new Tensor('float32', randomF32(r, c.n * c.cIn * c.h * c.w), [c.n, c.cIn, c.h, c.w]);
        const w = new Tensor('float32', randomF32(r, c.cOut * c.cIn * c.kh * c.kw), [c.cOut, c.cIn, c.kh, c.kw]);
        const bias = c.bias ? new Tensor('float32', randomF32(r, c.cOut), [c.cOut]) : undefined;
        const stride: [number, number] = [c.sh, c.sw];
        const dilation: [number, number] = [c.dh, c.dw];
        const pads = c.pads as [number, number, number, number];
        const oh = outSize(c.h, c.kh, c.sh, pads[0], pads[2], c.dh);
        const ow = outSize(c.w, c.kw, c.sw, pads[1], pads[3], c.dw);
        const residual = c.residual ? new Tensor('float32', randomF32(r, c.n * c.cOut * oh * ow), [c.n, c.cOut, oh, ow]) : undefined;
        const ref = conv2dRef(x.data, x.dims, w.data, w.dims, bias?.data ?? null, residual?.data ?? null, c.relu,
          { stride, pads, dilation, groups: 1 });
        const y = await ops.conv2d(x, w, { bias, residual, stride, pads, dilation, relu: c.relu, backend: 'native', threads: c.threads });
        expectDims(y.dims, ref.dims, v.label);
        expectClose(y.data, ref.data, v.label, ref.dims);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    t.pass();
  });
}

for (const v of nativeVariants()) {
  test.serial(`conv2d · ${v.label}: a shape whose padded rows would dwarf the input runs the GEMM panels, with the same result`, async (t) => {
    // 32 output channels are packed for the direct kernel on AVX-512, but a
    // padded row of 2,000,001 floats (pads of a million, stride of a million)
    // is not copied: conv2d repacks the weights for the GEMM on first use.
    v.activate();
    t.teardown(() => v.restore());
    const r = rng(77);
    const x = new Tensor('float32', randomF32(r, 2 * 3 * 5), [1, 2, 3, 5]);
    const w = new Tensor('float32', randomF32(r, 32 * 2 * 9), [32, 2, 3, 3]);
    const bias = new Tensor('float32', randomF32(r, 32), [32]);
    const pads: [number, number, number, number] = [1, 1_000_000, 1, 1_000_000];
    const stride: [number, number] = [1, 1_000_000];
    const ref = conv2dRef(x.data, x.dims, w.data, w.dims, bias.data, null, true, { stride, pads, dilation: [1, 1], groups: 1 });
    t.deepEqual(ref.dims, [1, 32, 3, 3]);
    for (let i = 0; i < 2; i++) {
      const y = await ops.conv2d(x, w, { bias, stride, pads, relu: true, backend: 'native', threads: 2 });
      expectDims(y.dims, ref.dims, v.label);
      expectClose(y.data, ref.data, v.label, ref.dims);
    }
  });
}

for (const v of nativeVariants()) {
  test.serial(`conv2d · ${v.label}: a 9×9 kernel (81 taps, more than the direct kernel's on-stack offset table) and a 1×11 kernel`, async (t) => {
    v.activate();
    t.teardown(() => v.restore());
    const r = rng(81);
    for (const [kh, kw, stride] of [[9, 9, 1], [9, 9, 2], [1, 11, 1]] as const) {
      const x = new Tensor('float32', randomF32(r, 2 * 3 * 20 * 24), [2, 3, 20, 24]);
      const w = new Tensor('float32', randomF32(r, 64 * 3 * kh * kw), [64, 3, kh, kw]);
      const residualDims = [2, 64, Math.floor((20 + 4 - kh) / stride) + 1, Math.floor((24 + 2 - kw) / stride) + 1];
      const residual = new Tensor('float32', randomF32(r, residualDims.reduce((a, b) => a * b, 1)), residualDims);
      const pads: [number, number, number, number] = [2, 1, 2, 1];
      const ref = conv2dRef(x.data, x.dims, w.data, w.dims, null, residual.data, true, { stride: [stride, stride], pads, dilation: [1, 1], groups: 1 });
      t.deepEqual(ref.dims, residualDims);
      const y = await ops.conv2d(x, w, { stride, pads, residual, relu: true, backend: 'native', threads: 2 });
      expectDims(y.dims, ref.dims, `${v.label} ${kh}×${kw}/${stride}`);
      expectClose(y.data, ref.data, `${v.label} ${kh}×${kw}/${stride}`, ref.dims);
    }
  });
}

// Outputs 7 wide over several padded blocks (each about 1 MB of input rows):
// two-row tiles whose rows straddle no block edge, odd last rows, a partial
// last panel, and batches (the row split, not a task per channel step).
const blockCases = [
  { n: 1, cIn: 1024, h: 40, w: 7, cOut: 32, k: 3, stride: 1, dilation: 1, pad: 1 }, // blocks of 28 output rows
  { n: 1, cIn: 600, h: 59, w: 14, cOut: 52, k: 3, stride: 2, dilation: 1, pad: 1 }, // blocks of 12 rows, 30 in all
  { n: 2, cIn: 700, h: 27, w: 7, cOut: 32, k: 3, stride: 1, dilation: 2, pad: 2 }, // 27 rows: an odd last row
];
const blockRefs = new Map<number, { x: Tensor; w: Tensor; bias: Tensor; residual: Tensor; ref: ReturnType<typeof conv2dRef> }>();
function blockCase(i: number) {
  let c = blockRefs.get(i);
  if (!c) {
    const b = blockCases[i]!;
    const r = rng(700 + i);
    const x = new Tensor('float32', randomF32(r, b.n * b.cIn * b.h * b.w), [b.n, b.cIn, b.h, b.w]);
    // Weights of variance 1/K, as in a trained network, keep the float32 sums
    // over K = 6,000-9,000 terms within the tests' tolerance (with weights of
    // ±1 their cancellation alone exceeds it, on every ISA path).
    const scale = Math.sqrt(3 / (b.cIn * b.k * b.k));
    const w = new Tensor('float32', randomF32(r, b.cOut * b.cIn * b.k * b.k, -scale, scale), [b.cOut, b.cIn, b.k, b.k]);
    const bias = new Tensor('float32', randomF32(r, b.cOut), [b.cOut]);
    const oh = outSize(b.h, b.k, b.stride, b.pad, b.pad, b.dilation);
    const ow = outSize(b.w, b.k, b.stride, b.pad, b.pad, b.dilation);
    const residual = new Tensor('float32', randomF32(r, b.n * b.cOut * oh * ow), [b.n, b.cOut, oh, ow]);
    const opts = { stride: [b.stride, b.stride] as [number, number], pads: [b.pad, b.pad, b.pad, b.pad] as [number, number, number, number], dilation: [b.dilation, b.dilation] as [number, number], groups: 1 };
    c = { x, w, bias, residual, ref: conv2dRef(x.data, x.dims, w.data, w.dims, bias.data, residual.data, true, opts) };
    blockRefs.set(i, c);
  }
  return c;
}

for (const v of nativeVariants()) {
  test.serial(`conv2d · ${v.label}: outputs 7 wide over several padded blocks, odd heights and batches`, async (t) => {
    v.activate();
    t.teardown(() => v.restore());
    for (let i = 0; i < blockCases.length; i++) {
      const b = blockCases[i]!;
      const { x, w, bias, residual, ref } = blockCase(i);
      t.is(ref.dims[3], 7);
      const label = `${v.label} ${JSON.stringify(b)}`;
      const y = await ops.conv2d(x, w, { bias, residual, stride: b.stride, pads: b.pad, dilation: b.dilation, relu: true, backend: 'native', threads: 2 });
      expectDims(y.dims, ref.dims, label);
      expectClose(y.data, ref.data, label, ref.dims);
    }
  });
}
