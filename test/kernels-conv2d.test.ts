// conv2d against the float64 reference, for the JS backend and for the native
// backend on each ISA path, over random shapes and attributes.
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { ops, Tensor } from '../src/index.js';
import { conv2dRef, outSize } from './helpers/reference.js';
import { rng, randomF32 } from './helpers/rng.js';
import { registerNativePresence, variants, type Variant } from './helpers/backends.js';
import { dataSeed, expectClose, expectDims, fcParams, ReferenceCache, RUNS } from './helpers/property.js';
import { assertClose } from './helpers/tolerance.js';

interface ConvCase {
  n: number;
  cInG: number;
  cOutG: number;
  groups: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  stride: [number, number];
  pads: [number, number, number, number];
  dilation: [number, number];
  bias: boolean;
  residual: boolean;
  relu: boolean;
  sync: boolean;
  threads: number;
  seed: number;
}

const kernelSize = fc.constantFrom(1, 3, 5, 7);
const pad = fc.integer({ min: 0, max: 3 });

/** Input extent for a kernel: at least one output, plus 0..extra. */
function extent(k: number, d: number, padSum: number, extra: number): number {
  return Math.max(1, (k - 1) * d + 1 - padSum) + extra;
}

const convCase: fc.Arbitrary<ConvCase> = fc
  .record({
    n: fc.integer({ min: 1, max: 3 }),
    // plain / grouped / depthwise / wide (K spans several K blocks and channel tiles)
    shape: fc.oneof(
      { weight: 5, arbitrary: fc.record({ cInG: fc.integer({ min: 1, max: 9 }), cOutG: fc.integer({ min: 1, max: 19 }), groups: fc.constant(1) }) },
      { weight: 2, arbitrary: fc.record({ cInG: fc.integer({ min: 1, max: 6 }), cOutG: fc.integer({ min: 1, max: 7 }), groups: fc.integer({ min: 2, max: 4 }) }) },
      { weight: 2, arbitrary: fc.record({ cInG: fc.constant(1), cOutG: fc.constant(1), groups: fc.integer({ min: 1, max: 19 }) }) },
      { weight: 1, arbitrary: fc.record({ cInG: fc.integer({ min: 17, max: 70 }), cOutG: fc.integer({ min: 17, max: 40 }), groups: fc.constant(1) }) },
    ),
    kh: kernelSize,
    kw: fc.oneof({ weight: 3, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: kernelSize }), // -1: square
    sh: fc.integer({ min: 1, max: 3 }),
    sw: fc.oneof({ weight: 3, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) }),
    pads: fc.tuple(pad, pad, pad, pad),
    dh: fc.integer({ min: 1, max: 2 }),
    dw: fc.oneof(fc.constant(-1), fc.integer({ min: 1, max: 2 })),
    extraH: fc.integer({ min: 0, max: 12 }),
    extraW: fc.integer({ min: 0, max: 12 }),
    bias: fc.boolean(),
    residual: fc.boolean(),
    relu: fc.boolean(),
    sync: fc.boolean(),
    threads: fc.integer({ min: 1, max: 3 }),
    seed: dataSeed,
  })
  .map((r) => {
    const kw = r.kw < 0 ? r.kh : r.kw;
    const sw = r.sw < 0 ? r.sh : r.sw;
    const dw = r.dw < 0 ? r.dh : r.dw;
    // Wide cases keep the image small so the reference stays cheap.
    const wide = r.shape.cInG > 16;
    const [pt, pl, pb, pr] = r.pads.map((p) => Math.min(p, wide ? 1 : 3)) as [number, number, number, number];
    const kh = wide ? Math.min(r.kh, 3) : r.kh;
    const kww = wide ? Math.min(kw, 3) : kw;
    const cap = wide ? 5 : 12;
    return {
      n: wide ? 1 : r.n,
      ...r.shape,
      h: extent(kh, r.dh, pt + pb, Math.min(r.extraH, cap)),
      w: extent(kww, dw, pl + pr, Math.min(r.extraW, cap)),
      kh,
      kw: kww,
      stride: [r.sh, sw],
      pads: [pt, pl, pb, pr],
      dilation: [r.dh, dw],
      bias: r.bias,
      residual: r.residual,
      relu: r.relu,
      sync: r.sync,
      threads: r.threads,
      seed: r.seed,
    } satisfies ConvCase;
  });

interface ConvData {
  x: Tensor;
  w: Tensor;
  bias?: Tensor;
  residual?: Tensor;
  expected: Float64Array;
  dims: number[];
}

const cache = new ReferenceCache<ConvData>();

function data(c: ConvCase): ConvData {
  return cache.get(c, () => {
    const r = rng(c.seed);
    const cIn = c.cInG * c.groups;
    const cOut = c.cOutG * c.groups;
    const x = new Tensor('float32', randomF32(r, c.n * cIn * c.h * c.w), [c.n, cIn, c.h, c.w]);
    const w = new Tensor('float32', randomF32(r, cOut * c.cInG * c.kh * c.kw), [cOut, c.cInG, c.kh, c.kw]);
    const bias = c.bias ? new Tensor('float32', randomF32(r, cOut), [cOut]) : undefined;
    const oh = outSize(c.h, c.kh, c.stride[0], c.pads[0], c.pads[2], c.dilation[0]);
    const ow = outSize(c.w, c.kw, c.stride[1], c.pads[1], c.pads[3], c.dilation[1]);
    const residual = c.residual ? new Tensor('float32', randomF32(r, c.n * cOut * oh * ow), [c.n, cOut, oh, ow]) : undefined;
    const ref = conv2dRef(x.data, x.dims, w.data, w.dims, bias?.data ?? null, residual?.data ?? null, c.relu,
      { stride: c.stride, pads: c.pads, dilation: c.dilation, groups: c.groups });
    return { x, w, bias, residual, expected: ref.data, dims: ref.dims };
  });
}

registerNativePresence(test);

/**
 * One image per shape [cIn, h, cOut, k, stride, pad, residual] (square planes),
 * with bias and ReLU fused, against the float64 reference.
 */
async function checkSquareShapes(t: ExecutionContext, backend: Variant['backend'], r: ReturnType<typeof rng>, threads: number, shapes: [number, number, number, number, number, number, boolean][]): Promise<void> {
  for (const [cIn, h, cOut, k, s, p, withResidual] of shapes) {
    const oh = Math.floor((h + 2 * p - k) / s) + 1;
    const x = new Tensor('float32', randomF32(r, cIn * h * h), [1, cIn, h, h]);
    const w = new Tensor('float32', randomF32(r, cOut * cIn * k * k), [cOut, cIn, k, k]);
    const bias = new Tensor('float32', randomF32(r, cOut), [cOut]);
    const residual = withResidual ? new Tensor('float32', randomF32(r, cOut * oh * oh), [1, cOut, oh, oh]) : undefined;
    const y = await ops.conv2d(x, w, { bias, residual, stride: s, pads: p, relu: true, backend, threads });
    const ref = conv2dRef(x.data, x.dims, w.data, w.dims, bias.data, residual?.data ?? null, true, { stride: [s, s], pads: [p, p, p, p], dilation: [1, 1], groups: 1 });
    t.deepEqual([...y.dims], ref.dims);
    assertClose(t, y.data, ref.data, 'exact', { dims: ref.dims, message: `${cIn}→${cOut} ${k}×${k}/${s}, ${threads} threads` });
  }
}

for (const v of variants()) {
  test.serial(`conv2d · ${v.label}: ${RUNS} random configurations against the float64 reference`, async (t) => {
    v.activate();
    t.teardown(() => v.restore());
    await fc.assert(
      fc.asyncProperty(convCase, async (c) => {
        const d = data(c);
        const opts = {
          bias: d.bias, stride: c.stride, pads: c.pads, dilation: c.dilation, groups: c.groups,
          residual: d.residual, relu: c.relu, backend: v.backend, threads: c.threads,
        };
        const y = c.sync ? ops.conv2dSync(d.x, d.w, opts) : await ops.conv2d(d.x, d.w, opts);
        expectDims(y.dims, d.dims, v.label);
        expectClose(y.data, d.expected, v.label, d.dims);
      }),
      fcParams(),
    );
    t.pass();
  });

  test.serial(`conv2d · ${v.label}: the 1×1 example (1×192×28×28 input, 32 filters of 1×1×192, same padding → 1×32×28×28)`, async (t) => {
    v.activate();
    t.teardown(() => v.restore());
    const r = rng(192);
    const x = new Tensor('float32', randomF32(r, 192 * 28 * 28), [1, 192, 28, 28]);
    const w = new Tensor('float32', randomF32(r, 32 * 192), [32, 192, 1, 1]);
    const y = await ops.conv2d(x, w, { pads: [0, 0, 0, 0], backend: v.backend });
    t.deepEqual([...y.dims], [1, 32, 28, 28]);
    const ref = conv2dRef(x.data, x.dims, w.data, w.dims, null, null, false, { stride: [1, 1], pads: [0, 0, 0, 0], dilation: [1, 1], groups: 1 });
    assertClose(t, y.data, ref.data, 'exact', { dims: ref.dims });
  });

  test.serial(`conv2d · ${v.label}: ResNet bottleneck shapes with bias, residual and ReLU fused`, async (t) => {
    v.activate();
    t.teardown(() => v.restore());
    // [cIn, h, cOut, k, stride, pad]: a 1×1 reduce, a 3×3 (stride 2), a 1×1 expand with residual, a strided projection.
    await checkSquareShapes(t, v.backend, rng(50), 2, [
      [64, 14, 32, 1, 1, 0, false],
      [32, 14, 32, 3, 2, 1, false],
      [32, 7, 96, 1, 1, 0, true],
      [64, 14, 96, 1, 2, 0, false],
      [3, 64, 16, 7, 2, 3, false], // 32×32 output: two im2col bands in the JS kernels
    ]);
  });

  test.serial(`conv2d · ${v.label}: small planes cut into row chunks (each re-packing B), at 2 and 3 threads`, async (t) => {
    // One image, planes of at most 7 column panels and enough output channels
    // for several row chunks: the native GEMM path splits these by rows only
    // (native/cpu/work_split.cc), every chunk packing its own B panels. Two and
    // three threads, 1×1 (in place and strided) and 3×3 (im2col where the
    // direct kernel does not take it).
    v.activate();
    t.teardown(() => v.restore());
    const r = rng(52);
    for (const threads of [2, 3]) {
      await checkSquareShapes(t, v.backend, r, threads, [
        [256, 14, 256, 1, 1, 0, true],
        [512, 7, 320, 1, 1, 0, false],
        [128, 14, 256, 1, 2, 0, true],
        [96, 7, 160, 3, 1, 1, true],
      ]);
    }
  });

  test.serial(`conv2d · ${v.label}: a batch gives each image exactly its own single-image result`, async (t) => {
    // The native kernels run an ungrouped batch as one GEMM whose images share
    // the weights; each image must still land in its own slice, with its own
    // residual, bit for bit as when it runs alone.
    v.activate();
    t.teardown(() => v.restore());
    const r = rng(51);
    const shapes: [number, number, number, number, number, number, boolean][] = [
      [24, 9, 40, 3, 1, 1, true], // 81 columns per image: panels end mid-image
      [16, 7, 70, 1, 1, 0, true],
      [12, 15, 20, 3, 2, 1, false],
      [5, 4, 8, 3, 1, 1, true], // 16 columns per image: less than one panel
    ];
    for (const [cIn, h, cOut, k, s, p, withResidual] of shapes) {
      const n = 3;
      const oh = Math.floor((h + 2 * p - k) / s) + 1;
      const x = new Tensor('float32', randomF32(r, n * cIn * h * h), [n, cIn, h, h]);
      const w = new Tensor('float32', randomF32(r, cOut * cIn * k * k), [cOut, cIn, k, k]);
      const bias = new Tensor('float32', randomF32(r, cOut), [cOut]);
      const residual = withResidual ? new Tensor('float32', randomF32(r, n * cOut * oh * oh), [n, cOut, oh, oh]) : undefined;
      const opts = { bias, stride: s, pads: p, relu: true, backend: v.backend, threads: 2 };
      const batched = await ops.conv2d(x, w, { ...opts, residual });
      const per = cOut * oh * oh, inPer = cIn * h * h;
      for (let b = 0; b < n; b++) {
        const xb = new Tensor('float32', x.data.slice(b * inPer, (b + 1) * inPer), [1, cIn, h, h]);
        const rb = residual ? new Tensor('float32', residual.data.slice(b * per, (b + 1) * per), [1, cOut, oh, oh]) : undefined;
        const single = await ops.conv2d(xb, w, { ...opts, residual: rb });
        t.deepEqual(batched.data.subarray(b * per, (b + 1) * per), single.data, `${cIn}→${cOut} ${k}×${k}/${s}, image ${b}`);
      }
    }
  });
}
