// profile() on the native backend times the native plan's own kernels for
// every step, the elementwise, layout and normalisation steps included (each
// step run as a one-step native plan), and names the SIMD kernel each runs
// (test/bench-layers.test.ts covers the conv and gemm names).
import test from 'ava';
import { Graph, type Node } from '../src/graph/graph.js';
import { info, load, Tensor } from '../src/index.js';
import { nativeBinding } from '../src/native.js';
import { randomF32, rng } from './helpers/rng.js';

const isa = info().isa;

/** conv → ReLU6 (Clip) → MobileNetV3's SE gate (GAP, HardSigmoid, Mul) → HardSwish → Concat with a shift → Softmax over C. */
function zooSteps(): Graph {
  const r = rng(11);
  const conv: Node = {
    name: 'conv', op: 'Conv', inputs: ['x', 'w', ''], outputs: ['a'],
    attrs: { kernelShape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], groups: 1 },
  };
  const gate: Node[] = [
    { name: 'gap', op: 'GlobalAveragePool', inputs: ['b'], outputs: ['g'], attrs: {} },
    { name: 'hsig', op: 'HardSigmoid', inputs: ['g'], outputs: ['s'], attrs: { alpha: 0.2, beta: 0.5 } },
    { name: 'gate', op: 'Mul', inputs: ['s', 'b'], outputs: ['m'], attrs: {} },
  ];
  return new Graph({
    inputs: [{ name: 'x', dims: [1, 3, 12, 12] }],
    outputs: [{ name: 'y', dims: [] }],
    initializers: new Map([['w', { dims: [8, 3, 3, 3], data: randomF32(r, 216) }], ['c', { dims: [8, 1, 1], data: randomF32(r, 8) }]]),
    nodes: [
      conv,
      { name: 'relu6', op: 'Clip', inputs: ['a'], outputs: ['b'], attrs: { alpha: 0, beta: 6 } },
      ...gate,
      { name: 'hs', op: 'HardSwish', inputs: ['m'], outputs: ['h'], attrs: { alpha: 1 / 6, beta: 0.5 } },
      { name: 'shift', op: 'Add', inputs: ['h', 'c'], outputs: ['d'], attrs: {} },
      { name: 'cat', op: 'Concat', inputs: ['h', 'd'], outputs: ['e'], attrs: { axis: 1 } },
      { name: 'sm', op: 'Softmax', inputs: ['e'], outputs: ['y'], attrs: { axis: 1, legacy: false } },
    ],
  });
}

(isa ? test : test.skip)('profile names the native SIMD kernel of every elementwise step and runs each step as a native plan', async (t) => {
  const model = await load(zooSteps(), { backend: 'native', threads: 2, optimize: false });
  const x = new Tensor('float32', randomF32(rng(3), 3 * 12 * 12), [1, 3, 12, 12]);
  model.runSync({ x }); // the whole plan is compiled here, before the spy
  const compile = model.backend.compilePlan!.bind(model.backend);
  const compiled: number[] = [];
  model.backend.compilePlan = (layout) => {
    compiled.push(layout.steps.length);
    return compile(layout);
  };
  const rows = model.profile({ x });
  const kernelOf = Object.fromEntries(rows.map((r) => [r.name, r.kernel]));
  const unary = `f32_vunary__${isa}`;
  const binary = `f32_vbinary__${isa}`;
  t.like(kernelOf, { relu6: unary, hsig: unary, hs: unary, gate: binary, shift: binary });
  t.regex(kernelOf['conv']!, new RegExp(`__${isa}$`));
  // Every step was timed through a one-step native plan, not the TypeScript kernels.
  t.deepEqual(compiled, rows.map(() => 1));
  t.true(rows.every((r) => Number.isFinite(r.ms) && r.ms >= 0));
  await model.dispose();
  t.throws(() => nativeBinding().planKernels({} as never), { instanceOf: TypeError, message: /planKernels: .*plan/ });
});

test('profile on the JS backend still names no kernel for these steps', async (t) => {
  const model = await load(zooSteps(), { backend: 'js', threads: 1, optimize: false });
  const x = new Tensor('float32', randomF32(rng(3), 3 * 12 * 12), [1, 3, 12, 12]);
  const rows = model.profile({ x });
  t.is(rows.length, 9);
  t.true(rows.every((r) => r.kernel === undefined));
});

(isa ? test : test.skip)('profile names the global average pool, concat, strided, softmax and layerNorm kernels of the native plan', async (t) => {
  const model = await load(zooSteps(), { backend: 'native', threads: 2, optimize: false });
  const x = new Tensor('float32', randomF32(rng(4), 3 * 12 * 12), [1, 3, 12, 12]);
  const kernelOf = Object.fromEntries(model.profile({ x }).map((r) => [r.name, r.kernel]));
  // The plane sum of the ISA the step was parsed under; the copies and loops by what they are.
  t.like(kernelOf, { gap: `f32_gavgpool_cw__${isa}`, cat: 'f32_concat_copy', sm: 'f32_softmax__scalar' });
  await model.dispose();
  const ln = new Graph({
    inputs: [{ name: 'x', dims: [2, 5, 8] }],
    outputs: [{ name: 'y', dims: [] }],
    initializers: new Map([['g', { dims: [8], data: randomF32(rng(5), 8) }]]),
    nodes: [
      { name: 'tr', op: 'Transpose', inputs: ['x'], outputs: ['t'], attrs: { perm: [1, 0, 2] } },
      { name: 'ln', op: 'LayerNormalization', inputs: ['t', 'g'], outputs: ['y'], attrs: { axis: -1, epsilon: 1e-5 } },
    ],
  });
  const m2 = await load(ln, { backend: 'native', threads: 1 });
  const rows = m2.profile({ x: new Tensor('float32', randomF32(rng(6), 80), [2, 5, 8]) });
  t.deepEqual(rows.map((r) => r.kernel), ['f32_strided_copy', `f32_layernorm__${isa}`]);
  await m2.dispose();
});
