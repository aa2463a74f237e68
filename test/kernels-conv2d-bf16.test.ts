// ops.conv2d in mode 'bf16' (native, AVX512_BF16): every bf16 kernel path (the
// bf16 GEMM for 1×1 and im2col convolutions, its half-width column tail, one
// or several K blocks, odd K; the fp32 depthwise loop and stem it keeps) against a
// float64 loop over the bf16-rounded x and W. The products of two bf16 values
// are exact in float32, so the only error left is float32 summation, bounded
// by (K + 3)·2⁻²⁴·Σ|terms| per output; a wrong rounding (truncation) or a
// misplaced pair is off by ~2⁻⁹ of |y| and fails.
import test from 'ava';
import fc from 'fast-check';
import { info, ops, Tensor } from '../src/index.js';
import { conv2dRef, outSize } from './helpers/reference.js';
import { rng, randomF32 } from './helpers/rng.js';
import { roundBf16Array } from './helpers/bf16.js';
import { dataSeed, SEED } from './helpers/property.js';

const RUNS = Math.max(1, Math.floor(Number(process.env.RESNODE_FC_RUNS ?? 300) / 3));
const bf16Test = info().bf16 ? test : test.skip;

const bf16Case = fc
  .record({
    n: fc.integer({ min: 1, max: 3 }),
    kind: fc.constantFrom('1x1', '1x1/2', '3x3', '3x3/2', '7x7/2', '5x1', 'grouped', 'depthwise'),
    cIn: fc.integer({ min: 1, max: 600 }),
    cOut: fc.oneof(fc.constantFrom(64, 56, 17), fc.integer({ min: 1, max: 40 })),
    h: fc.integer({ min: 1, max: 18 }),
    w: fc.integer({ min: 1, max: 18 }),
    padSeed: fc.integer({ min: 0, max: 1 << 20 }),
    bias: fc.boolean(),
    residual: fc.boolean(),
    relu: fc.boolean(),
    async: fc.boolean(),
    threads: fc.integer({ min: 1, max: 3 }),
    seed: dataSeed,
  })
  .map((c) => {
    const [kh, kw] = c.kind.startsWith('3x3') ? [3, 3] : c.kind === '7x7/2' ? [7, 7] : c.kind === '5x1' ? [5, 1] : c.kind === 'grouped' ? [3, 3] : [1, 1];
    const stride = c.kind.endsWith('/2') ? 2 : 1;
    // 1×1: up to 600 channels = 300 pairs, past one K block (256 pairs); 7×7 and
    // 3×3: K = 49·cIn or 9·cIn with an odd cIn makes K odd (a half-empty last pair).
    const cIn = c.kind.startsWith('1x1') ? c.cIn : c.kind === '7x7/2' ? 1 + (c.cIn % 15) : 1 + (c.cIn % 48);
    const groups = c.kind === 'depthwise' ? cIn : c.kind === 'grouped' ? 2 : 1;
    const cInAll = c.kind === 'grouped' ? 2 * cIn : cIn;
    const cOut = c.kind === 'depthwise' ? cIn : c.kind === 'grouped' ? 2 * Math.max(3, c.cOut % 24) : c.cOut;
    const pad = (i: number, k: number) => ((c.padSeed >> (4 * i)) & 15) % k;
    const pads: [number, number, number, number] = [pad(0, kh), pad(1, kw), pad(2, kh), pad(3, kw)];
    const h = Math.max(c.h, kh), w = Math.max(c.w, kw);
    return { ...c, kh, kw, stride, cIn: cInAll, cOut, groups, pads, h, w };
  });

bf16Test(`conv2d · bf16: ${RUNS} random convolutions against float64 on bf16-rounded inputs, within the float32 summation bound`, async (t) => {
  await fc.assert(
    fc.asyncProperty(bf16Case, async (c) => {
      const r = rng(c.seed);
      const cInG = c.cIn / c.groups;
      const x = randomF32(r, c.n * c.cIn * c.h * c.w, -2, 2);
      const w = randomF32(r, c.cOut * cInG * c.kh * c.kw, -0.5, 0.5);
      const bias = c.bias ? randomF32(r, c.cOut) : null;
      const oh = outSize(c.h, c.kh, c.stride, c.pads[0], c.pads[2], 1);
      const ow = outSize(c.w, c.kw, c.stride, c.pads[1], c.pads[3], 1);
      const residual = c.residual ? randomF32(r, c.n * c.cOut * oh * ow) : null;
      const xt = new Tensor('float32', x, [c.n, c.cIn, c.h, c.w]);
      const wt = new Tensor('float32', w, [c.cOut, cInG, c.kh, c.kw]);
      const opts = {
        bias: bias ? new Tensor('float32', bias, [c.cOut]) : undefined,
        residual: residual ? new Tensor('float32', residual, [c.n, c.cOut, oh, ow]) : undefined,
        stride: c.stride, pads: c.pads, groups: c.groups, relu: c.relu, threads: c.threads, mode: 'bf16' as const,
      };
      const y = c.async ? await ops.conv2d(xt, wt, opts) : ops.conv2dSync(xt, wt, opts);
      // Depthwise-style groups and stems (under 8 input channels per group) stay
      // float32 (native/cpu/pack_bf16.cc, src/modes.ts): no rounding there.
      const f32 = (c.groups > 1 && c.cOut / c.groups <= 2) || cInG < 8;
      const xr = f32 ? x : roundBf16Array(x), wr = f32 ? w : roundBf16Array(w);
      const a = { stride: [c.stride, c.stride] as [number, number], pads: c.pads, dilation: [1, 1] as [number, number], groups: c.groups };
      const ref = conv2dRef(xr, xt.dims, wr, wt.dims, bias, residual, c.relu, a).data;
      const abs = (v: Float32Array | null) => (v ? v.map(Math.abs) : null);
      const mag = conv2dRef(xr.map(Math.abs), xt.dims, wr.map(Math.abs), wt.dims, abs(bias), abs(residual), false, a).data;
      const k = cInG * c.kh * c.kw;
      for (let i = 0; i < ref.length; i++) {
        const bound = (k + 3) * 2 ** -24 * mag[i]! + 1e-30;
        const err = Math.abs(y.data[i]! - ref[i]!);
        if (!(err <= bound)) throw new Error(`${JSON.stringify({ ...c, seed: c.seed })}: y[${i}] = ${y.data[i]} but the reference is ${ref[i]} (error ${err.toExponential(3)} > bound ${bound.toExponential(3)})`);
      }
    }),
    { numRuns: RUNS, seed: SEED },
  );
  t.pass();
});

bf16Test('conv2d · bf16: not the float32 result (the inputs really are rounded) and the exact mode unchanged', (t) => {
  const r = rng(7);
  const x = new Tensor('float32', randomF32(r, 64 * 49), [1, 64, 7, 7]);
  const w = new Tensor('float32', randomF32(r, 32 * 64), [32, 64, 1, 1]);
  const exact = ops.conv2dSync(x, w, {});
  const bf16 = ops.conv2dSync(x, w, { mode: 'bf16' });
  const ref32 = conv2dRef(x.data, x.dims, w.data, w.dims, null, null, false, { stride: [1, 1], pads: [0, 0, 0, 0], dilation: [1, 1], groups: 1 }).data;
  let maxExact = 0, maxBf16 = 0;
  for (let i = 0; i < ref32.length; i++) {
    maxExact = Math.max(maxExact, Math.abs(exact.data[i]! - ref32[i]!));
    maxBf16 = Math.max(maxBf16, Math.abs(bf16.data[i]! - ref32[i]!));
  }
  t.true(maxExact < 1e-4, `exact: ${maxExact}`);
  // 64 products with ~2⁻⁹ relative rounding each: well above float32 error, well below 1.
  t.true(maxBf16 > 1e-3 && maxBf16 < 0.2, `bf16 differs from float32 by ${maxBf16}`);
});

test("mode 'bf16' on the js backend throws (it has no bf16 kernels) instead of running float32", (t) => {
  const w = Tensor.zeros([4, 4, 1, 1]);
  t.throws(() => ops.packConv2d(w, { backend: 'js', mode: 'bf16' }), { instanceOf: RangeError, message: /packConv2d: mode 'bf16' is not available on backend 'js' \(it is on 'native'\)/ });
});

test("info().bf16 says whether mode 'bf16' runs, and packConv2d agrees", (t) => {
  const w = Tensor.zeros([4, 4, 1, 1]);
  if (info().bf16) t.notThrows(() => ops.packConv2d(w, { mode: 'bf16' }));
  else t.throws(() => ops.packConv2d(w, { mode: 'bf16' }), { message: /AVX512_BF16/ });
});
