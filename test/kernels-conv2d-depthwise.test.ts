// The native depthwise row kernels (native/cpu/dwconv/: output columns in the
// vector lanes, AVX-512 and AVX2) against the float64 reference: 3x3, 5x5 and
// 7x7 at stride 1 and 2, channel multipliers 1 and 2, output widths from 1 to
// past four vectors (the 4-vector blocks and masked tails), asymmetric pads
// wider than the kernel's reach, batches, and the fused bias / residual / ReLU;
// and 1x1 stride-1 unpadded ones, which run the per-channel affine f32_vmulcaddc
// (how a BatchNormalization with no conv before it runs).
// Controls that the kernels do not take (kernel 1 or 4, stride 3, dilation 2,
// unequal kh/kw) run the scalar direct loop and must match too.
import test from 'ava';
import fc from 'fast-check';
import { ops, Tensor } from '../src/index.js';
import { nativeBinding } from '../src/native.js';
import { conv2dRef, outSize } from './helpers/reference.js';
import { rng, randomF32 } from './helpers/rng.js';
import { nativeVariants, registerNativePresence } from './helpers/backends.js';
import { dataSeed, expectClose, expectDims, SEED } from './helpers/property.js';

const RUNS = Number(process.env.RESNODE_FC_RUNS ?? 300);

const pad = fc.integer({ min: 0, max: 4 });
const depthwiseCase = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    c: fc.integer({ min: 1, max: 5 }),
    multiplier: fc.constantFrom(1, 1, 2),
    k: fc.constantFrom(3, 5, 7, 3, 5, 7, 1, 1, 4),
    // a second kernel extent unequal to k now and then: a control (scalar loop)
    kwDelta: fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 1),
    stride: fc.constantFrom(1, 2, 1, 2, 3),
    dilation: fc.constantFrom(1, 1, 1, 1, 1, 2),
    // all-zero pads a third of the time (with k = 1, stride 1: the per-channel affine)
    pads: fc.oneof(fc.tuple(pad, pad, pad, pad), fc.constant([0, 0, 0, 0] as [number, number, number, number])),
    ow: fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 21, max: 75 })),
    oh: fc.integer({ min: 1, max: 5 }),
    bias: fc.boolean(),
    residual: fc.boolean(),
    relu: fc.boolean(),
    threads: fc.integer({ min: 1, max: 3 }),
    seed: dataSeed,
  })
  .map((r) => {
    const kw = r.k + r.kwDelta;
    // The input extent that gives oh x ow outputs (or the nearest above 0).
    const size = (o: number, k: number, p: number) => Math.max(1, (o - 1) * r.stride + (k - 1) * r.dilation + 1 - p);
    return { ...r, kh: r.k, kw, h: size(r.oh, r.k, r.pads[0] + r.pads[2]), w: size(r.ow, kw, r.pads[1] + r.pads[3]) };
  });

registerNativePresence(test);

for (const v of nativeVariants()) {
  test.serial(`conv2d · ${v.label}: ${RUNS} random depthwise configurations against the float64 reference`, async (t) => {
    v.activate();
    t.teardown(() => v.restore());
    await fc.assert(
      fc.asyncProperty(depthwiseCase, async (c) => {
        const r = rng(c.seed);
        const cOut = c.c * c.multiplier;
        const x = new Tensor('float32', randomF32(r, c.n * c.c * c.h * c.w), [c.n, c.c, c.h, c.w]);
        const w = new Tensor('float32', randomF32(r, cOut * c.kh * c.kw), [cOut, 1, c.kh, c.kw]);
        const bias = c.bias ? new Tensor('float32', randomF32(r, cOut), [cOut]) : undefined;
        const stride: [number, number] = [c.stride, c.stride];
        const dilation: [number, number] = [c.dilation, c.dilation];
        const pads = c.pads as [number, number, number, number];
        const oh = outSize(c.h, c.kh, c.stride, pads[0], pads[2], c.dilation);
        const ow = outSize(c.w, c.kw, c.stride, pads[1], pads[3], c.dilation);
        const residual = c.residual ? new Tensor('float32', randomF32(r, c.n * cOut * oh * ow), [c.n, cOut, oh, ow]) : undefined;
        const ref = conv2dRef(x.data, x.dims, w.data, w.dims, bias?.data ?? null, residual?.data ?? null, c.relu,
          { stride, pads, dilation, groups: c.c });
        const y = await ops.conv2d(x, w, { bias, residual, stride, pads, dilation, groups: c.c, relu: c.relu, backend: 'native', threads: c.threads });
        expectDims(y.dims, ref.dims, v.label);
        expectClose(y.data, ref.data, v.label, ref.dims);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    t.pass();
  });
}

// Many planes on one thread: the driver zeroes a padded buffer once per chunk
// of consecutive planes and then copies in only each plane's input cells, so a
// cell of one plane that leaked into the next plane's padding, or a row left
// from the plane before, shows up here (a chunk holds several planes).
const manyPlanesCase = fc.record({
  n: fc.integer({ min: 1, max: 2 }),
  c: fc.integer({ min: 9, max: 40 }),
  k: fc.constantFrom(3, 5, 7),
  stride: fc.constantFrom(1, 2),
  pads: fc.tuple(pad, pad, pad, pad),
  h: fc.integer({ min: 1, max: 16 }),
  w: fc.integer({ min: 1, max: 40 }),
  threads: fc.integer({ min: 1, max: 2 }),
  seed: dataSeed,
}).filter((c) => c.h + c.pads[0] + c.pads[2] >= c.k && c.w + c.pads[1] + c.pads[3] >= c.k);

for (const v of nativeVariants()) {
  test.serial(`conv2d · ${v.label}: depthwise over many planes per thread matches the float64 reference`, async (t) => {
    v.activate();
    t.teardown(() => v.restore());
    await fc.assert(
      fc.asyncProperty(manyPlanesCase, async (c) => {
        const r = rng(c.seed);
        const x = new Tensor('float32', randomF32(r, c.n * c.c * c.h * c.w), [c.n, c.c, c.h, c.w]);
        const w = new Tensor('float32', randomF32(r, c.c * c.k * c.k), [c.c, 1, c.k, c.k]);
        const stride: [number, number] = [c.stride, c.stride];
        const pads = c.pads as [number, number, number, number];
        const ref = conv2dRef(x.data, x.dims, w.data, w.dims, null, null, false, { stride, pads, dilation: [1, 1], groups: c.c });
        const y = await ops.conv2d(x, w, { stride, pads, groups: c.c, backend: 'native', threads: c.threads });
        expectDims(y.dims, ref.dims, v.label);
        expectClose(y.data, ref.data, v.label, ref.dims);
      }),
      { numRuns: Math.min(RUNS, 60), seed: SEED },
    );
    t.pass();
  });
}

// Which kernel each shape gets: the SIMD row kernel on AVX-512 and AVX2 for the
// sizes it covers, the scalar loop otherwise (and on the scalar ISA).
for (const v of nativeVariants()) {
  test.serial(`conv2d · ${v.label}: depthwise shapes name their kernel`, (t) => {
    v.activate();
    t.teardown(() => v.restore());
    const b = nativeBinding();
    const suffix = v.isa === 'avx512f' || v.isa === 'avx2' ? v.isa : null;
    const kernel = (k: number, s: number, d = 1, multiplier = 1, p = 1) => {
      const c = 8;
      const packed = b.packConv2d(new Float32Array(c * multiplier * k * k), null, c * multiplier, 1, k, k, c);
      const pads: [number, number, number, number] = [p, p, p, p];
      const o = outSize(32, k, s, p, p, d);
      return b.convKernel(packed, { inputDims: [1, c, 32, 32], cOut: c * multiplier, kh: k, kw: k, groups: c, strides: [s, s], pads, dilations: [d, d], outDims: [o, o], relu: false, threads: 1 });
    };
    for (const k of [3, 5, 7]) {
      for (const s of [1, 2]) {
        t.is(kernel(k, s), suffix ? `f32_dwconv_${k}x${k}s${s}__${suffix}` : 'f32_conv_direct__scalar');
        t.is(kernel(k, s, 1, 2), suffix ? `f32_dwconv_${k}x${k}s${s}__${suffix}` : 'f32_conv_direct__scalar');
      }
    }
    t.is(kernel(3, 3), 'f32_conv_direct__scalar');
    t.is(kernel(3, 1, 2), 'f32_conv_direct__scalar');
    t.is(kernel(4, 1), 'f32_conv_direct__scalar');
    t.is(kernel(1, 1, 1, 1, 0), suffix ? `f32_vmulcaddc__${suffix}` : 'f32_conv_direct__scalar');
    t.is(kernel(1, 1, 1, 1, 1), 'f32_conv_direct__scalar');
    t.is(kernel(1, 1, 1, 2, 0), 'f32_conv_direct__scalar');
  });
}
