// A Transpose that moves the channel axis last or back (ConvNeXt's permutes around its
// LayerNorms: [0, 2, 3, 1] and [0, 3, 1, 2]; any rank from 3) lowers to the reorder step, the
// blocked NCHW <-> NHWC transpose, instead of the per-element strided copy. Checked element for
// element against a plain loop on random dims, on the native and JS backends, and by the kernel
// profile() names.
import test from 'ava';
import { Graph } from '../src/graph/graph.js';
import { info, load, Tensor } from '../src/index.js';
import { randomF32, rng } from './helpers/rng.js';

const isa = info().isa;

/** y = transpose(x, perm) by the definition: y[i] = x[i permuted back]. */
function transposeLoop(x: Float32Array, dims: number[], perm: number[]): Float32Array {
  const yDims = perm.map((p) => dims[p]!);
  const xStrides = dims.map((_, d) => dims.slice(d + 1).reduce((a, b) => a * b, 1));
  const y = new Float32Array(x.length);
  const idx = new Array<number>(dims.length).fill(0);
  for (let i = 0; i < y.length; i++) {
    let rest = i;
    for (let d = yDims.length - 1; d >= 0; d--) {
      idx[d] = rest % yDims[d]!;
      rest = Math.floor(rest / yDims[d]!);
    }
    let xi = 0;
    for (let d = 0; d < perm.length; d++) xi += idx[d]! * xStrides[perm[d]!]!;
    y[i] = x[xi]!;
  }
  return y;
}

const CASES: { perm: number[]; to: 'nhwc' | 'nchw' }[] = [
  { perm: [0, 2, 3, 1], to: 'nhwc' },
  { perm: [0, 3, 1, 2], to: 'nchw' },
  { perm: [0, 2, 1], to: 'nhwc' },
  { perm: [0, 2, 3, 4, 1], to: 'nhwc' },
  { perm: [0, 4, 1, 2, 3], to: 'nchw' },
];

for (const backend of ['native', 'js'] as const) {
  for (const { perm, to } of CASES) {
    (backend === 'js' || isa ? test : test.skip)(`${backend}: Transpose perm [${perm.join(', ')}] runs as a reorder to ${to} and equals the loop`, async (t) => {
      const r = rng(perm.length * 7 + (to === 'nhwc' ? 1 : 2));
      for (let trial = 0; trial < 4; trial++) {
        // Odd sizes and ones: the kernel's 16x16 blocks have edges on both axes.
        const dims = perm.map((_, d) => (d === 0 ? 1 + Math.floor(r() * 2) : 1 + Math.floor(r() * (perm.length > 4 ? 7 : 37))));
        const x = randomF32(r, dims.reduce((a, b) => a * b, 1));
        const g = new Graph({
          inputs: [{ name: 'x', dims }],
          outputs: [{ name: 'y', dims: [] }],
          initializers: new Map(),
          nodes: [{ name: 'tr', op: 'Transpose', inputs: ['x'], outputs: ['y'], attrs: { perm } }],
        });
        const model = await load(g, { backend, threads: 2 });
        const y = (await model.run({ x: new Tensor('float32', x, dims) })).y!;
        t.deepEqual(y.dims, perm.map((p) => dims[p]!));
        t.deepEqual(Array.from(y.data as Float32Array), Array.from(transposeLoop(x, dims, perm)), `dims ${dims.join('x')}`);
        if (backend === 'native') {
          const kernel = model.profile({ x: new Tensor('float32', x, dims) })[0]!.kernel;
          t.is(kernel, `f32_reorder_${to === 'nhwc' ? 'nchw_nhwc' : 'nhwc_nchw'}__${isa === 'avx512f' ? 'avx512f' : 'scalar'}`);
        }
        await model.dispose();
      }
    });
  }
}
