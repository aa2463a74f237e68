// GELU (ConvNeXt): PyTorch exports nn.GELU() as Div(x, √2) → Erf → Add 1 → Mul x → Mul 0.5;
// fuseGelu makes that one Gelu step. Its kernels against a float64 reference on every backend
// and ISA, the fused graph against the unfused one, and the chains the pass must leave alone.
import test from 'ava';
import fc from 'fast-check';
import { Graph, type Initializer, type Node } from '../src/graph/graph.js';
import { fuseGelu } from '../src/graph/passes.js';
import { load } from '../src/index.js';
import { Tensor } from '../src/tensor.js';
import { variants } from './helpers/backends.js';
import { dataSeed, expectClose } from './helpers/property.js';
import { randomF32, rng } from './helpers/rng.js';

const params = { numRuns: 25, seed: 20261207 };
const SQRT2 = Math.fround(Math.SQRT2);

// erf by Simpson's rule on 2/√π·e^(−t²): an algorithm unrelated to either kernel's.
function erfReference(x: number): number {
  const n = 2000, h = x / n;
  let s = 1 + Math.exp(-x * x);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * Math.exp(-((i * h) ** 2));
  return (2 / Math.sqrt(Math.PI)) * (h / 3) * s;
}

const scalarInit = (v: number): Initializer => ({ dims: [], data: Float32Array.of(v) });

/** The exported chain y = Mul(Mul(x, Add(Erf(Div(x, c)), 1)), k); `swap` puts each Mul's operands the other way round. */
function chain(dims: number[], swap = false, c = SQRT2, k = 0.5): Graph {
  const two = (a: string, b: string): string[] => (swap ? [b, a] : [a, b]);
  const nodes: Node[] = [
    { name: 'div', op: 'Div', inputs: ['x', 'c'], outputs: ['t'], attrs: {} },
    { name: 'erf', op: 'Erf', inputs: ['t'], outputs: ['e'], attrs: { alpha: 0, beta: 0 } },
    { name: 'add', op: 'Add', inputs: ['e', 'one'], outputs: ['e1'], attrs: {} },
    { name: 'mul', op: 'Mul', inputs: two('x', 'e1'), outputs: ['m'], attrs: {} },
    { name: 'half', op: 'Mul', inputs: two('m', 'k'), outputs: ['y'], attrs: {} },
  ];
  return new Graph({ inputs: [{ name: 'x', dims }], outputs: [{ name: 'y', dims: [] }], nodes, initializers: new Map([['c', scalarInit(c)], ['one', scalarInit(1)], ['k', scalarInit(k)]]) });
}

for (const v of variants()) {
  test.serial(`Gelu matches float64 on random lengths and tails, and equals the unfused chain (${v.label})`, async (t) => {
    await fc.assert(fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 3 }), dataSeed, async (dims, seed) => {
      const x = randomF32(rng(seed), dims.reduce((a, b) => a * b, 1), -8, 8);
      if (x.length > 2) { x[0] = 0; x[1] = -90; }
      v.activate();
      try {
        const fused = await load(chain(dims), { backend: v.backend, threads: 2 });
        const unfused = await load(chain(dims), { backend: v.backend, threads: 2, optimize: false });
        if (fused.graph.nodes.map((n) => n.op).join() !== 'Gelu') throw new Error(`not fused: ${fused.graph.nodes.map((n) => n.op).join()}`);
        const feeds = { x: new Tensor('float32', x, dims) };
        const y = fused.runSync(feeds)['y']!, u = unfused.runSync(feeds)['y']!;
        await fused.dispose();
        await unfused.dispose();
        expectClose(y.data, Array.from(x, (e) => e * (erfReference(e / SQRT2) + 1) * 0.5), `Gelu ${v.label}`, dims);
        expectClose(y.data, u.data, `Gelu vs the unfused chain ${v.label}`, dims);
      } finally {
        v.restore();
      }
    }), params);
    t.pass();
  });
}

test('fuseGelu fuses the chain either way round, with its own constants, and leaves other chains alone', (t) => {
  const ops = (g: Graph): string => fuseGelu(g).nodes.map((n) => n.op).join();
  t.is(ops(chain([2, 8])), 'Gelu');
  t.is(ops(chain([2, 8], true)), 'Gelu');
  const g = fuseGelu(chain([2, 8], false, 2, 0.25));
  t.deepEqual(g.nodes[0]!.attrs, { alpha: 2, beta: 0.25 });
  // Adding 2 after the Erf, dividing something other than x, or reading an intermediate elsewhere: unchanged.
  const plusTwo = chain([2, 8]);
  plusTwo.initializers.set('one', scalarInit(2));
  t.is(ops(plusTwo), 'Div,Erf,Add,Mul,Mul');
  const otherDividend = chain([2, 8]);
  otherDividend.inputs.push({ name: 'z', dims: [2, 8] });
  otherDividend.nodes[0]!.inputs[0] = 'z';
  t.is(ops(otherDividend), 'Div,Erf,Add,Mul,Mul');
  const erfRead = chain([2, 8]);
  erfRead.outputs.push({ name: 'e', dims: [] });
  t.is(ops(erfRead), 'Div,Erf,Add,Mul,Mul');
});
