// The same-shape Add step (+ its fused ReLU) runs the binary step's SIMD row kernel on the native
// backend, so profile() names it (f32_vbinary__<isa>) and it treats NaN as the JS kernel does
// (ReLU(NaN) = 0).
import test from 'ava';
import { Graph } from '../src/graph/graph.js';
import { info, load, Tensor } from '../src/index.js';
import { randomF32, rng } from './helpers/rng.js';

const isa = info().isa;

function addRelu(dims: number[]): Graph {
  return new Graph({
    inputs: [{ name: 'a', dims }, { name: 'b', dims }],
    outputs: [{ name: 'y', dims: [] }],
    initializers: new Map(),
    nodes: [
      { name: 'add', op: 'Add', inputs: ['a', 'b'], outputs: ['s'], attrs: {} },
      { name: 'relu', op: 'Relu', inputs: ['s'], outputs: ['y'], attrs: {} },
    ],
  });
}

(isa ? test : test.skip)('native Add+ReLU equals the JS backend bit for bit (NaN and -0 included) and names its SIMD kernel', async (t) => {
  const r = rng(21);
  for (const dims of [[1, 3, 5, 7], [2, 16, 33, 31], [1, 64, 64, 40]]) {
    const count = dims.reduce((p, d) => p * d, 1);
    const a = randomF32(r, count), b = randomF32(r, count);
    // NaN in either operand, and sums of exactly zero, at random places (tails of the vector loop included).
    for (let k = 0; k < 40; k++) a[Math.floor(r() * count)] = Number.NaN;
    for (let k = 0; k < 40; k++) { const i = Math.floor(r() * count); b[i] = -a[i]!; }
    b[count - 1] = Number.NaN;
    const feeds = { a: new Tensor('float32', a, dims), b: new Tensor('float32', b, dims) };
    const outs = [];
    for (const backend of ['native', 'js'] as const) {
      const model = await load(addRelu(dims), { backend, threads: 2 });
      outs.push(Array.from((await model.run(feeds)).y!.data as Float32Array));
      if (backend === 'native') {
        const kernels = model.profile(feeds).map((s) => [s.op, s.kernel]);
        t.deepEqual(kernels.find(([op]) => op === 'Add'), ['Add', `f32_vbinary__${isa}`]);
      }
      await model.dispose();
    }
    t.deepEqual(outs[0], outs[1], `dims ${dims.join('x')}`);
    t.true(outs[0]!.every((v) => !Number.isNaN(v) && v >= 0));
  }
});
