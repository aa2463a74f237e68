// The CUDA addon (npm run build:cuda): info().cuda, the clear error without a
// GPU, and, on a GPU machine, every cuda* op against the float64 reference.
// The addon is looked up in RESNODE_ADDON, build-cuda/Release (where
// `cmake-js compile -O build-cuda` puts it), then build/Release.
// Tolerances, as max|actual − expected| / max|expected| per tensor:
//   fp32 path 1e-5, tf32 path (tensor cores) 1e-3.
import test from 'ava';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { conv2dRef, gemmRef, poolRef, globalAveragePoolRef, addRef, outSize } from './helpers/reference.js';
import { rng, randomF32 } from './helpers/rng.js';

type Addon = Record<string, any>;
const require = createRequire(import.meta.url);
const candidates = [
  process.env.RESNODE_ADDON,
  fileURLToPath(new URL('../build-cuda/Release/resnode.node', import.meta.url)),
  fileURLToPath(new URL('../build/Release/resnode.node', import.meta.url)),
].filter((p): p is string => !!p && existsSync(p));

let addon: Addon | null = null;
let addonPath = '';
let loadProblem = candidates.length ? '' : 'no addon built (run `npm run build:cuda`)';
for (const p of candidates) {
  try {
    const a = require(p) as Addon;
    if (!addon || (typeof a.cudaInfo === 'function' && typeof addon.cudaInfo !== 'function')) {
      addon = a;
      addonPath = p;
    }
    if (typeof a.cudaInfo === 'function') break;
  } catch (err) {
    loadProblem = `${p} failed to load: ${(err as Error).message}`;
  }
}
const compiled = !!addon && typeof addon.cudaInfo === 'function';
const cudaInfo = compiled ? addon!.info().cuda : { compiled: false, available: false };
const available = compiled && cudaInfo.available === true;
const gpuTest = available ? test.serial : test.skip;

if (!compiled) {
  test('cuda: the addon was built without CUDA, so the CUDA tests are skipped', (t) => {
    t.log(`SKIP: ${addon ? `${addonPath} has no CUDA (build it with \`npm run build:cuda\`)` : loadProblem}`);
    if (addon) t.false(addon.info().cuda.available);
    t.pass();
  });
} else {
  test('cuda: info().cuda reports compiled and availability', (t) => {
    t.log(`addon: ${addonPath}`);
    t.is(cudaInfo.compiled, true);
    t.is(typeof cudaInfo.available, 'boolean');
    t.deepEqual(addon!.cudaInfo(), cudaInfo);
    if (available) {
      t.is(typeof cudaInfo.device, 'string');
      t.log(`device: ${cudaInfo.device}`);
    } else {
      t.is(typeof cudaInfo.reason, 'string');
      t.log(`SKIP: no CUDA device (${cudaInfo.reason}); the CUDA runtime tests are skipped`);
    }
  });
}

if (compiled && !available) {
  test('cuda: without a GPU every CUDA op throws a clear error', async (t) => {
    const a = addon!;
    t.throws(() => a.cudaCreateContext(), { message: /^CUDA is not available: / });
    t.throws(() => a.cudaConv2dSync(null, null, new Float32Array(1), null, new Float32Array(1), {}), {
      message: /^CUDA is not available: /,
    });
    t.throws(() => a.cudaMaxPool(null, new Float32Array(1), new Float32Array(1), {}), { message: /^CUDA is not available: / });
  });
}

// ---- runtime tests (GPU only) ------------------------------------------------------------------------
function relErr(actual: Float32Array, expected: Float64Array): number {
  let mx = 0;
  let err = 0;
  for (let i = 0; i < expected.length; i++) {
    mx = Math.max(mx, Math.abs(expected[i]));
    const d = Math.abs(actual[i] - expected[i]);
    err = Number.isNaN(d) ? Infinity : Math.max(err, d);
  }
  return err / Math.max(mx, 1e-30);
}
const TOL = { fp32: 1e-5, tf32: 1e-3 } as const;

interface ConvCase {
  name: string;
  n: number; cIn: number; h: number; w: number; cOut: number; k: number;
  stride: number; pads: [number, number, number, number]; dil: number; groups: number;
  residual: boolean; relu: boolean;
}
const convCases: ConvCase[] = [
  { name: '3x3 s1 p1 + residual + relu', n: 2, cIn: 16, h: 14, w: 14, cOut: 32, k: 3, stride: 1, pads: [1, 1, 1, 1], dil: 1, groups: 1, residual: true, relu: true },
  { name: '1x1 direct', n: 2, cIn: 64, h: 7, w: 7, cOut: 40, k: 1, stride: 1, pads: [0, 0, 0, 0], dil: 1, groups: 1, residual: false, relu: true },
  { name: '1x1 s2', n: 1, cIn: 32, h: 9, w: 9, cOut: 64, k: 1, stride: 2, pads: [0, 0, 0, 0], dil: 1, groups: 1, residual: false, relu: false },
  { name: '7x7 s2 stem', n: 1, cIn: 3, h: 32, w: 30, cOut: 16, k: 7, stride: 2, pads: [3, 3, 3, 3], dil: 1, groups: 1, residual: false, relu: true },
  { name: 'groups, dilation, asymmetric pads', n: 2, cIn: 8, h: 11, w: 10, cOut: 12, k: 3, stride: 1, pads: [2, 0, 1, 2], dil: 2, groups: 4, residual: true, relu: false },
];

function convParams(c: ConvCase, mode: 'fp32' | 'tf32') {
  const oh = outSize(c.h, c.k, c.stride, c.pads[0], c.pads[2], c.dil);
  const ow = outSize(c.w, c.k, c.stride, c.pads[1], c.pads[3], c.dil);
  return {
    inputDims: [c.n, c.cIn, c.h, c.w], cOut: c.cOut, kh: c.k, kw: c.k, groups: c.groups,
    strides: [c.stride, c.stride], pads: c.pads, dilations: [c.dil, c.dil], outDims: [oh, ow],
    relu: c.relu, threads: 1, mode,
  };
}

function convData(c: ConvCase, seed: number) {
  const r = rng(seed);
  const x = randomF32(r, c.n * c.cIn * c.h * c.w);
  const wDims = [c.cOut, c.cIn / c.groups, c.k, c.k];
  const w = randomF32(r, wDims.reduce((a, b) => a * b, 1), -0.5, 0.5);
  const bias = randomF32(r, c.cOut);
  const p = convParams(c, 'fp32');
  const ySize = c.n * c.cOut * p.outDims[0] * p.outDims[1];
  const residual = c.residual ? randomF32(r, ySize) : null;
  const ref = conv2dRef(x, [c.n, c.cIn, c.h, c.w], w, wDims, bias, residual, c.relu, {
    stride: [c.stride, c.stride], pads: c.pads, dilation: [c.dil, c.dil], groups: c.groups,
  });
  return { x, w, bias, residual, ref: ref.data, ySize };
}

gpuTest('cuda: conv2d (fp32 and tf32, sync and async) matches the float64 reference', async (t) => {
  const a = addon!;
  const ctx = a.cudaCreateContext();
  t.teardown(() => a.cudaDisposeContext(ctx));
  for (const [i, c] of convCases.entries()) {
    const d = convData(c, 100 + i);
    const packed = a.cudaPackConv2d(ctx, d.w, d.bias, c.cOut, c.cIn / c.groups, c.k, c.k, c.groups);
    for (const mode of ['fp32', 'tf32'] as const) {
      const ySync = new Float32Array(d.ySize);
      a.cudaConv2dSync(ctx, packed, d.x, d.residual, ySync, convParams(c, mode));
      const yAsync = new Float32Array(d.ySize);
      await a.cudaConv2d(ctx, packed, d.x, d.residual, yAsync, convParams(c, mode));
      const e = relErr(ySync, d.ref);
      t.true(e <= TOL[mode], `${c.name} [${mode}] sync: error ${e.toExponential(2)} > ${TOL[mode]}`);
      t.deepEqual(yAsync, ySync, `${c.name} [${mode}]: async differs from sync`);
    }
  }
});

gpuTest('cuda: device-resident chain (one upload, one download) and concurrent contexts', async (t) => {
  const a = addon!;
  const c = convCases[0]!;
  const d = convData({ ...c, residual: false }, 7);
  const p = convParams({ ...c, cOut: c.cIn }, 'tf32');
  const r = rng(9);
  const w = randomF32(r, c.cIn * c.cIn * 9, -0.2, 0.2);
  const run = async () => {
    const ctx = a.cudaCreateContext();
    const packed = a.cudaPackConv2d(ctx, w, null, c.cIn, c.cIn, 3, 3, 1);
    const n = d.x.length;
    const bufA = a.cudaAlloc(ctx, n);
    const bufB = a.cudaAlloc(ctx, n);
    a.cudaUpload(bufA, d.x);
    for (let i = 0; i < 8; i++) a.cudaConv2dSync(ctx, packed, i % 2 ? bufB : bufA, null, i % 2 ? bufA : bufB, p);
    const out = new Float32Array(n);
    await a.cudaDownload(bufA, out);
    a.cudaDisposeContext(ctx);
    return out;
  };
  // Host-staged reference for the same chain.
  const ctx = a.cudaCreateContext();
  const packed = a.cudaPackConv2d(ctx, w, null, c.cIn, c.cIn, 3, 3, 1);
  let cur: Float32Array = d.x;
  for (let i = 0; i < 8; i++) {
    const y = new Float32Array(cur.length);
    a.cudaConv2dSync(ctx, packed, cur, null, y, p);
    cur = y;
  }
  a.cudaDisposeContext(ctx);
  const results = await Promise.all([run(), run(), run()]);
  for (const res of results) t.deepEqual(res, cur);
});

gpuTest('cuda: gemm, maxPool, averagePool, globalAveragePool and add match the reference', async (t) => {
  const a = addon!;
  const ctx = a.cudaCreateContext();
  t.teardown(() => a.cudaDisposeContext(ctx));
  const r = rng(3);
  // gemm: y = x·Wᵀ + b
  const [m, k, nOut] = [3, 300, 70];
  const x = randomF32(r, m * k);
  const w = randomF32(r, nOut * k, -0.1, 0.1);
  const b = randomF32(r, nOut);
  const packed = a.cudaPackGemm(ctx, w, b, nOut, k);
  const gref = gemmRef(x, m, k, w, nOut, b, true);
  for (const mode of ['fp32', 'tf32'] as const) {
    const y = new Float32Array(m * nOut);
    await a.cudaGemm(ctx, packed, x, m, true, y, mode);
    t.true(relErr(y, gref) <= TOL[mode], `gemm [${mode}]`);
  }
  // pools
  const dims = [2, 3, 11, 12];
  const px = randomF32(r, dims.reduce((p, q) => p * q, 1));
  const pa = { kernel: [3, 3] as [number, number], stride: [2, 2] as [number, number], pads: [1, 1, 2, 1] as [number, number, number, number], dilation: [1, 1] as [number, number], ceilMode: false };
  const np = { inputDims: dims, kernel: pa.kernel, strides: pa.stride, pads: pa.pads, dilations: pa.dilation, outDims: [0, 0], threads: 1 };
  const mref = poolRef('max', px, dims, pa);
  np.outDims = mref.dims.slice(2);
  const my = new Float32Array(mref.data.length);
  a.cudaMaxPoolSync(ctx, px, my, np);
  t.true(relErr(my, mref.data) <= 1e-6, 'maxPool');
  for (const cip of [false, true]) {
    const aref = poolRef('avg', px, dims, pa, cip);
    const ay = new Float32Array(aref.data.length);
    await a.cudaAveragePool(ctx, px, ay, np, cip);
    t.true(relErr(ay, aref.data) <= 1e-6, `averagePool countIncludePad=${cip}`);
  }
  const gx = randomF32(r, 2 * 64 * 49);
  const gy = new Float32Array(2 * 64);
  a.cudaGlobalAveragePoolSync(ctx, gx, gy, 2, 64, 49);
  t.true(relErr(gy, globalAveragePoolRef(gx, 2, 64, 49)) <= 1e-6, 'globalAveragePool');
  const ea = randomF32(r, 1000);
  const eb = randomF32(r, 1000);
  const ey = new Float32Array(1000);
  await a.cudaAdd(ctx, ea, eb, ey, true);
  t.true(relErr(ey, addRef(ea, eb, true)) <= 1e-7, 'add');
});

gpuTest('cuda: bad arguments throw TypeError/RangeError, not crashes', (t) => {
  const a = addon!;
  const ctx = a.cudaCreateContext();
  t.teardown(() => a.cudaDisposeContext(ctx));
  t.throws(() => a.cudaAlloc({}, 10), { instanceOf: TypeError });
  t.throws(() => a.cudaPackConv2d(ctx, new Float32Array(3), null, 4, 1, 1, 1, 1), { instanceOf: RangeError });
  const packed = a.cudaPackConv2d(ctx, new Float32Array(4), null, 4, 1, 1, 1, 1);
  const p = convParams({ ...convCases[1]!, cIn: 1, cOut: 4 }, 'fp32');
  t.throws(() => a.cudaConv2dSync(ctx, packed, new Float32Array(1), null, new Float32Array(1), p), { instanceOf: RangeError });
  t.throws(() => a.cudaConv2dSync(ctx, packed, new Float32Array(98), null, new Float32Array(392), { ...p, mode: 'fp16' }), { instanceOf: TypeError });
});
