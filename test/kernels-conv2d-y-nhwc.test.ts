// A conv that reads NCHW and writes NHWC (ConvParams.yNhwc: a stem on the graph input feeding
// NHWC layers, src/plan/formats.ts): the direct conv stores its pixel-major tiles as they are
// (every tile form: 14x32, 7x64 for rows of at most 7, two rows of 7), any other path through an
// NCHW copy and a reorder. Against the float64 reference, reordered, on every ISA path: random
// kernels 1-7, strides 1-2, pads, channel counts that are no multiple of a tile, batches, bias,
// ReLU or Clip; the errors that name the argument; the JS kernel's path.
import test from 'ava';
import fc from 'fast-check';
import type { NativeBinding } from '../src/native-binding.js';
import type { ConvParams } from '../src/backend/types.js';
import { conv2dRef, outSize } from './helpers/reference.js';
import { rng, randomF32 } from './helpers/rng.js';
import { nativeVariants, rawAddon, registerNativePresence } from './helpers/backends.js';
import { dataSeed, expectClose, SEED } from './helpers/property.js';
import { reorder } from '../src/kernels-js/layout.js';
import { conv2d as jsConv2d, packConv2d as jsPackConv2d } from '../src/kernels-js/conv2d.js';

registerNativePresence(test);

const RUNS = Math.min(60, Number(process.env.RESNODE_FC_RUNS ?? 60));
const pad = fc.integer({ min: 0, max: 3 });
const yNhwcCase = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    cIn: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 5, max: 24 })),
    cOut: fc.oneof(fc.integer({ min: 1, max: 17 }), fc.integer({ min: 18, max: 80 }), fc.constantFrom(32, 64)),
    k: fc.constantFrom(1, 3, 3, 5, 7, 7),
    s: fc.integer({ min: 1, max: 2 }),
    pads: fc.tuple(pad, pad, pad, pad),
    h: fc.integer({ min: 1, max: 20 }),
    w: fc.oneof(fc.integer({ min: 1, max: 30 }), fc.constantFrom(7, 13, 14)),
    bias: fc.boolean(),
    act: fc.constantFrom('none', 'relu', 'clip'),
    threads: fc.integer({ min: 1, max: 2 }),
    seed: dataSeed,
  })
  .filter((c) => c.h + c.pads[0] + c.pads[2] >= c.k && c.w + c.pads[1] + c.pads[3] >= c.k);
type Case = typeof yNhwcCase extends fc.Arbitrary<infer T> ? T : never;

function setup(c: Case) {
  const r = rng(c.seed);
  const oh = outSize(c.h, c.k, c.s, c.pads[0], c.pads[2], 1), ow = outSize(c.w, c.k, c.s, c.pads[1], c.pads[3], 1);
  const x = randomF32(r, c.n * c.cIn * c.h * c.w);
  const w = randomF32(r, c.cOut * c.cIn * c.k * c.k);
  const bias = c.bias ? randomF32(r, c.cOut) : null;
  const ref = conv2dRef(x, [c.n, c.cIn, c.h, c.w], w, [c.cOut, c.cIn, c.k, c.k], bias, null, c.act === 'relu', { stride: [c.s, c.s], pads: c.pads, dilation: [1, 1], groups: 1 });
  if (c.act === 'clip') for (let i = 0; i < ref.data.length; i++) ref.data[i] = Math.min(0.75, Math.max(-0.5, ref.data[i]!));
  const p: ConvParams = {
    inputDims: [c.n, c.cIn, c.h, c.w], cOut: c.cOut, kh: c.k, kw: c.k, groups: 1, strides: [c.s, c.s], pads: c.pads,
    dilations: [1, 1], outDims: [oh, ow], relu: c.act === 'relu', threads: c.threads, yNhwc: true, ...(c.act === 'clip' ? { clip: [-0.5, 0.75] as [number, number] } : {}),
  };
  return { x, w, bias, ref, p, plane: oh * ow };
}

/** The case's NHWC y read back as NCHW, and the kernel the native conv chose. */
function runNative(b: NativeBinding, c: Case) {
  const { x, w, bias, ref, p, plane } = setup(c);
  const packed = b.packConv2d(w, bias, c.cOut, c.cIn, c.k, c.k, 1);
  try {
    const y = new Float32Array(c.n * c.cOut * plane).fill(NaN), back = new Float32Array(y.length);
    b.conv2dSync(packed, x, null, y, p);
    reorder(y, back, c.n, c.cOut, plane, 'nchw');
    return { y: back, ref, kernel: b.convKernel(packed, p) };
  } finally {
    b.release(packed);
  }
}

for (const v of nativeVariants()) {
  test.serial(`conv2d with yNhwc matches the float64 reference, reordered (${v.label})`, (t) => {
    const b = rawAddon()!;
    v.activate();
    try {
      const kernels = new Set<string>();
      fc.assert(fc.property(yNhwcCase, (c) => {
        const { y, ref, kernel } = runNative(b, c);
        kernels.add(kernel.replace(/s[12]__/, '__'));
        expectClose(y, ref.data, `yNhwc ${JSON.stringify(c)}`, ref.dims);
      }), { numRuns: RUNS, seed: SEED });
      // On AVX-512 the direct conv's three tile forms ran, and some other path (its NCHW copy and reorder).
      if (v.isa === 'avx512f') for (const k of ['f32_dconv_14x32__avx512f', 'f32_dconv_7x64__avx512f']) t.true(kernels.has(k), `${k} among ${[...kernels]}`);
      t.true([...kernels].some((k) => !k.startsWith('f32_dconv_')), `a non-direct path among ${[...kernels]}`);
    } finally {
      v.restore();
    }
  });
}

test.serial('ResNet\'s stem shape (7x7 s2 on 3 channels) runs the direct conv with an NHWC y, two rows of 7 included', (t) => {
  const b = rawAddon();
  if (!b) return t.fail('native addon missing');
  for (const v of nativeVariants()) {
    v.activate();
    try {
      for (const w of [64, 14]) { // 32 columns out (14x32 tiles), and 7 (two-row tiles)
        const c: Case = { n: 1, cIn: 3, cOut: 64, k: 7, s: 2, pads: [3, 3, 3, 3], h: w, w, bias: true, act: 'relu', threads: 2, seed: w };
        const { y, ref, kernel } = runNative(b, c);
        if (v.isa === 'avx512f') t.regex(kernel, /^f32_dconv_/, v.label);
        expectClose(y, ref.data, `${v.label} stem ${w}`, ref.dims);
      }
      t.pass();
    } finally {
      v.restore();
    }
  }
});

test('yNhwc takes no residual and no p.act: errors that name the argument; the JS kernel reorders its NCHW result', (t) => {
  const c: Case = { n: 2, cIn: 3, cOut: 5, k: 3, s: 2, pads: [1, 1, 1, 1], h: 9, w: 8, bias: true, act: 'clip', threads: 1, seed: 3 };
  const { x, w, bias, ref, p, plane } = setup(c);
  const js = jsPackConv2d(w, bias, c.cOut, c.cIn, c.k, c.k, 1);
  const y = new Float32Array(c.n * c.cOut * plane), back = new Float32Array(y.length);
  jsConv2d(js, x, null, y, p);
  reorder(y, back, c.n, c.cOut, plane, 'nchw');
  expectClose(back, ref.data, 'js yNhwc', ref.dims);
  t.throws(() => jsConv2d(js, x, new Float32Array(y.length), y, p), { instanceOf: RangeError, message: /conv2d: p\.yNhwc takes no residual/ });
  const b = rawAddon();
  if (!b) return;
  const packed = b.packConv2d(w, bias, c.cOut, c.cIn, c.k, c.k, 1);
  try {
    t.throws(() => b.conv2dSync(packed, x, new Float32Array(y.length), y, p), { instanceOf: RangeError, message: /conv2dSync.*p\.yNhwc.*for residual/ });
    t.throws(() => b.conv2dSync(packed, x, null, y, { ...p, clip: undefined, act: { fn: 'silu', alpha: 0, beta: 0 } }), { instanceOf: RangeError, message: /conv2dSync.*p\.yNhwc/ });
    t.throws(() => b.conv2dSync(packed, x, null, y, { ...p, yNhwc: 1 as unknown as boolean }), { instanceOf: TypeError, message: /conv2dSync.*p\.yNhwc/ });
  } finally {
    b.release(packed);
  }
});
