// A Clip (ReLU6 and any other bounds) or an activation (SiLU, HardSwish,
// HardSigmoid, Sigmoid) fused into the conv (src/graph/passes.ts fuseConvClip,
// fuseConvActivation): every native conv path (1×1 GEMM, direct 3×3 dconv,
// im2col GEMM, depthwise row kernels, the per-channel affine, the scalar direct
// loop; Winograd in fast mode) on each ISA, and the JS kernel, against the
// float64 reference with the clamp or function applied after bias and
// residual, on random shapes and bounds (±Infinity included).
import test from 'ava';
import fc from 'fast-check';
import { getBackend } from '../src/backend/index.js';
import type { ConvActivationFn, ConvParams } from '../src/backend/types.js';
import { conv2dRef, outSize } from './helpers/reference.js';
import { rng, randomF32 } from './helpers/rng.js';
import { jsVariant, nativeVariants, registerNativePresence } from './helpers/backends.js';
import { dataSeed, expectClose, SEED } from './helpers/property.js';
import { TOLERANCE } from './helpers/tolerance.js';

const RUNS = Number(process.env.RESNODE_FC_RUNS ?? 120);

const bound = fc.constantFrom(-Infinity, -0.5, 0, 0.25, 1, 6, Infinity);
const clipCase = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    // depthwise (groups = c), grouped, ungrouped 1×1 and k×k
    kind: fc.constantFrom('pointwise', 'dense', 'wide', 'few', 'depthwise', 'affine', 'grouped'),
    c: fc.integer({ min: 1, max: 24 }),
    cOut: fc.integer({ min: 1, max: 40 }),
    k: fc.constantFrom(3, 5, 7),
    stride: fc.constantFrom(1, 2),
    pad: fc.integer({ min: 0, max: 3 }),
    h: fc.integer({ min: 1, max: 12 }),
    w: fc.integer({ min: 1, max: 40 }),
    bias: fc.boolean(),
    residual: fc.boolean(),
    // lo ≤ hi, and not both the same infinity (an all-infinite output)
    bounds: fc.tuple(bound, bound).filter(([a, b]) => a <= b && !(a === b && !Number.isFinite(a))),
    // a clip (p.clip) half the time, else an activation (p.act) with HardSigmoid's slope and offset drawn too
    act: fc.constantFrom('clip', 'clip', 'clip', 'silu', 'hardSwish', 'hardSigmoid', 'sigmoid'),
    slope: fc.constantFrom(1 / 6, 0.2, 0.5),
    offset: fc.constantFrom(0.5, 0.25),
    threads: fc.integer({ min: 1, max: 3 }),
    mode: fc.constantFrom('exact', 'exact', 'fast'),
    seed: dataSeed,
  })
  .map((r) => {
    const pointwise = r.kind === 'pointwise' || r.kind === 'affine';
    const k = pointwise ? 1 : r.k;
    // few: two groups of 1 or 2 output channels each over 2+ input channels, the scalar direct loop
    const c = r.kind === 'few' ? 2 * Math.max(2, r.c >> 1) : r.c;
    const groups = r.kind === 'depthwise' || r.kind === 'affine' ? c : r.kind === 'few' || (r.kind === 'grouped' && c % 2 === 0 && r.cOut % 2 === 0) ? 2 : 1;
    // wide: 32 or 64 output channels, the direct 3×3 kernel's panels (f32_dconv_*, AVX-512)
    const cOut = groups === c ? c : r.kind === 'wide' ? 32 * (1 + (r.cOut % 2)) : r.kind === 'few' ? 2 * (1 + (r.cOut % 2)) : r.cOut;
    const pad = pointwise ? 0 : r.pad;
    const stride = r.kind === 'affine' || r.kind === 'pointwise' ? 1 : r.stride;
    const h = Math.max(r.h, k - 2 * pad), w = Math.max(r.w, k - 2 * pad);
    return { ...r, c, k, groups, cOut, pad, stride, h, w };
  });

registerNativePresence(test);

for (const v of [jsVariant, ...nativeVariants()]) {
  test.serial(`conv2d with a fused clip or activation · ${v.label}: ${RUNS} random configurations against the float64 reference`, async (t) => {
    v.activate();
    t.teardown(() => v.restore());
    const be = getBackend('test', v.backend);
    const kernels = new Set<string>();
    fc.assert(
      fc.property(clipCase, (c) => {
        const r = rng(c.seed);
        const cInG = c.c / c.groups;
        const x = randomF32(r, c.n * c.c * c.h * c.w);
        const wt = randomF32(r, c.cOut * cInG * c.k * c.k);
        const bias = c.bias ? randomF32(r, c.cOut) : null;
        const pads: [number, number, number, number] = [c.pad, c.pad, c.pad, c.pad];
        const oh = outSize(c.h, c.k, c.stride, c.pad, c.pad, 1), ow = outSize(c.w, c.k, c.stride, c.pad, c.pad, 1);
        const count = c.n * c.cOut * oh * ow;
        const residual = c.residual ? randomF32(r, count) : null;
        const ref = conv2dRef(x, [c.n, c.c, c.h, c.w], wt, [c.cOut, cInG, c.k, c.k], bias, residual, false,
          { stride: [c.stride, c.stride], pads, dilation: [1, 1], groups: c.groups });
        const [lo, hi] = c.bounds;
        const hardSigmoid = (v: number) => Math.max(0, Math.min(1, c.slope * v + c.offset));
        const f: Record<string, (v: number) => number> = {
          clip: (v) => Math.min(Math.max(v, lo), hi),
          silu: (v) => v / (1 + Math.exp(-v)),
          sigmoid: (v) => 1 / (1 + Math.exp(-v)),
          hardSigmoid,
          hardSwish: (v) => v * hardSigmoid(v),
        };
        const want = ref.data.map(f[c.act]!);
        const mode = v.backend === 'js' ? 'exact' : c.mode;
        const packed = be.packConv2d(wt, bias, c.cOut, cInG, c.k, c.k, c.groups, mode);
        const p: ConvParams = {
          inputDims: [c.n, c.c, c.h, c.w], cOut: c.cOut, kh: c.k, kw: c.k, groups: c.groups, strides: [c.stride, c.stride],
          pads, dilations: [1, 1], outDims: [oh, ow], relu: false, threads: c.threads,
          ...(c.act === 'clip' ? { clip: [lo, hi] as [number, number] } : { act: { fn: c.act as ConvActivationFn, alpha: c.slope, beta: c.offset } }),
        };
        if (be.convKernel) kernels.add(be.convKernel(packed, p).replace(/_\d+x\d+(x\d+)?(s\d)?/g, ''));
        const y = new Float32Array(count).fill(Number.NaN);
        be.conv2dSync(packed, x, residual, y, p);
        expectClose(y, want, `${v.label} ${JSON.stringify({ ...c, seed: undefined })}`, ref.dims, mode === 'fast' ? TOLERANCE.winograd : TOLERANCE.exact);
        be.release?.(packed);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    // Every fused path was reached (kernel names without their tile sizes).
    const want: Record<string, string[]> = {
      avx512f: ['f32_gemm__avx512f', 'f32_dconv__avx512f', 'f32_dwconv__avx512f', 'f32_vmulcaddc__avx512f', 'f32_winograd__avx512f', 'f32_conv_direct__scalar'],
      avx2: ['f32_gemm__avx2', 'f32_dwconv__avx2', 'f32_vmulcaddc__avx2'],
      scalar: ['f32_gemm__scalar', 'f32_conv_direct__scalar'],
    };
    if (v.backend === 'js') t.pass();
    for (const k of want[v.isa ?? ''] ?? []) t.true(kernels.has(k), `${k} not reached; reached ${[...kernels].join(', ')}`);
  });
}
