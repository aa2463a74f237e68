// Concat in place (src/graph/concat-views.ts): producers write a batch-1
// Concat's inputs straight into its output, and the Concat runs no step; and
// elementwise steps (the squeeze-excitation gate's Mul among them) write over
// an operand they read last. On random graphs of 1×1 convs, unary ops, adds,
// SE gates and Concats (any axis; chunk values also read elsewhere, graph
// outputs, graph inputs, initializers, a value concatenated twice, Concats of
// Concats, DenseNet's growing Concats), every value the native and JS backends
// return matches the JS backend with nothing in place (optimize: false), and
// the in-place paths are taken where the rules allow them.
import test from 'ava';
import fc from 'fast-check';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Graph, type Node } from '../src/graph/graph.js';
import type { Initializer } from '../src/graph/graph.js';
import { load, parseNpy, Tensor } from '../src/index.js';
import { fromOnnx } from '../src/onnx/import.js';
import { optimize, planMemory } from '../src/graph/passes.js';
import { randomF32, rng } from './helpers/rng.js';
import { expectClose } from './helpers/property.js';
import { PYTHON, pytorchMissing } from './helpers/pytorch.js';
import { rawAddon } from './helpers/backends.js';

interface Spec {
  batch: number;
  c: number;
  h: number;
  w: number;
  ops: { kind: number; pick: number[]; size: number; axis: number }[];
  outs: number[];
  seed: number;
}

const specArb: fc.Arbitrary<Spec> = fc.record({
  batch: fc.constantFrom(1, 1, 2),
  c: fc.integer({ min: 1, max: 4 }),
  h: fc.integer({ min: 1, max: 4 }),
  w: fc.integer({ min: 1, max: 4 }),
  ops: fc.array(fc.record({
    kind: fc.integer({ min: 0, max: 13 }),
    pick: fc.array(fc.nat({ max: 5 }), { minLength: 1, maxLength: 4 }),
    size: fc.integer({ min: 1, max: 5 }),
    axis: fc.constantFrom(1, 1, 1, -3, 0, 2, 3),
  }), { minLength: 2, maxLength: 10 }),
  outs: fc.array(fc.nat({ max: 9 }), { maxLength: 2 }),
  seed: fc.integer({ min: 1, max: 1e9 }),
});

/** The graph a spec describes: x, then each op reading earlier values (Concat: those whose dims allow it). */
function build(s: Spec): { graph: Graph; concats: Node[] } {
  const r = rng(s.seed);
  const dims = new Map<string, number[]>([['x', [s.batch, s.c, s.h, s.w]]]);
  const inits = new Map<string, Initializer>();
  const nodes: Node[] = [];
  const values = ['x'];
  const concatted = new Set<string>();
  // Mostly recent values: a Concat of fresh producers is the case that runs in place.
  const at = (k: number, from = values) => from[from.length - 1 - (k % from.length)]!;
  s.ops.forEach((op, i) => {
    const y = `v${i}`;
    const axis = op.axis < 0 ? op.axis + 4 : op.axis;
    // Kind 3 grows the last Concat over this axis, as DenseNet does: its inputs, then more.
    const grown = op.kind === 3 ? nodes.filter((n) => n.op === 'Concat' && n.attrs.axis === op.axis).at(-1) : undefined;
    const a = grown ? grown.inputs[0]! : at(op.pick[0]!);
    const ad = dims.get(a)!;
    if (op.kind <= 6) { // Concat of 1 to 4 values that agree on every dim but the axis
      // Kinds 0-3 take values no Concat has read yet (where there are any), 4-6 any value.
      const fits = values.filter((v) => dims.get(v)!.every((d, k) => k === axis || d === ad[k]));
      const fresh = fits.filter((v) => v !== 'x' && !concatted.has(v));
      const same = op.kind <= 3 && fresh.length > 0 ? fresh : fits;
      // Distinct values, except that kind 5 repeats its first (a value concatenated twice) and kind 6 adds an initializer.
      const ins = [...new Set([...(grown?.inputs ?? []), ...op.pick.map((p) => at(p, same))])];
      if (op.kind === 5) ins.push(ins[0]!);
      for (const v of ins) concatted.add(v);
      if (op.kind === 6) {
        const cd = ad.map((d, k) => (k === axis ? op.size : d));
        inits.set(`k${i}`, { dims: cd, data: randomF32(r, cd.reduce((p, q) => p * q, 1)) });
        ins.push(`k${i}`);
        dims.set(`k${i}`, cd);
      }
      nodes.push({ name: `cat${i}`, op: 'Concat', inputs: ins, outputs: [y], attrs: { axis: op.axis } });
      dims.set(y, ad.map((d, k) => (k === axis ? ins.reduce((sum, v) => sum + dims.get(v)![k]!, 0) : d)));
    } else if (op.kind <= 9) { // 1x1 conv with a random number of output channels
      inits.set(`w${i}`, { dims: [op.size, ad[1]!, 1, 1], data: randomF32(r, op.size * ad[1]!) });
      inits.set(`b${i}`, { dims: [op.size], data: randomF32(r, op.size) });
      nodes.push({ name: `conv${i}`, op: 'Conv', inputs: [a, `w${i}`, `b${i}`], outputs: [y], attrs: { kernelShape: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], groups: 1 } });
      dims.set(y, [ad[0]!, op.size, ad[2]!, ad[3]!]);
    } else if (op.kind <= 11) {
      nodes.push({ name: `un${i}`, op: op.kind === 10 ? 'Relu' : 'Sigmoid', inputs: [a], outputs: [y], attrs: op.kind === 10 ? {} : { alpha: 0, beta: 0 } } as Node);
      dims.set(y, ad);
    } else if (op.kind === 13) { // a squeeze-excitation gate: a · sigmoid(GlobalAveragePool(a)), per channel
      nodes.push({ name: `gap${i}`, op: 'GlobalAveragePool', inputs: [a], outputs: [`g${i}`], attrs: {} },
        { name: `sig${i}`, op: 'Sigmoid', inputs: [`g${i}`], outputs: [`s${i}`], attrs: { alpha: 0, beta: 0 } },
        { name: `gate${i}`, op: 'Mul', inputs: [`s${i}`, a], outputs: [y], attrs: {} });
      dims.set(y, ad);
    } else { // a + b where another value has a's dims, else a + a
      const b = at(op.pick[1] ?? 0, values.filter((v) => dims.get(v)!.every((d, k) => d === ad[k])));
      nodes.push({ name: `add${i}`, op: 'Add', inputs: [a, b], outputs: [y], attrs: {} });
      dims.set(y, ad);
    }
    values.push(y);
  });
  // Every value no node reads is an output (so nothing is pruned), and a few others.
  const read = new Set(nodes.flatMap((n) => n.inputs));
  const outs = new Set([...values.slice(1).filter((v) => !read.has(v)), ...s.outs.map((k) => at(k, values.slice(1)))]);
  const graph = new Graph({
    inputs: [{ name: 'x', dims: dims.get('x')! }],
    outputs: [...outs].map((name) => ({ name, dims: [] })),
    initializers: inits,
    nodes,
  });
  return { graph, concats: nodes.filter((n) => n.op === 'Concat') };
}

test('random concat graphs: native and JS with Concats and elementwise steps in place match JS with neither, on every value', async (t) => {
  let inPlaceSeen = 0;
  let copiesSeen = 0;
  let overwrites = 0;
  await fc.assert(
    fc.asyncProperty(specArb, async (s) => {
      const { graph, concats } = build(s);
      const x = new Tensor('float32', randomF32(rng(s.seed + 1), s.batch * s.c * s.h * s.w), [s.batch, s.c, s.h, s.w]);
      // How often an elementwise step takes its operand's slot, in a plan like load()'s.
      const plan = planMemory(optimize(graph), {}, { residualInPlace: true, concatInPlace: true, elementwiseInPlace: true });
      overwrites += plan.order.filter((n) => n.op !== 'Conv' && n.inputs.some((v) => plan.slotOf.has(v) && plan.slotOf.get(v) === plan.slotOf.get(n.outputs[0]!))).length;
      const refModel = await load(graph, { backend: 'js', threads: 1, optimize: false });
      const ref = refModel.runSync({ x }, { fetchIntermediates: true });
      await refModel.dispose();
      for (const backend of ['native', 'js'] as const) {
        const model = await load(graph, { backend, threads: 2 });
        const got = model.runSync({ x });
        for (const o of graph.outputs) expectClose(got[o.name]!.data, ref[o.name]!.data, `${backend} output ${o.name}`);
        // Every intermediate, read when its step (or the step that completes an in-place Concat) has run.
        const all = model.runSync({ x }, { fetchIntermediates: true });
        const kept = concats.filter((n) => model.graph.nodes.some((m) => m.outputs[0] === n.outputs[0]));
        for (const n of kept) expectClose(all[n.outputs[0]!]!.data, ref[n.outputs[0]!]!.data, `${backend} concat ${n.outputs[0]}`);
        const steps = model.profile({ x }).filter((p) => p.op === 'Concat').length;
        if (backend === 'native') { inPlaceSeen += kept.length - steps; copiesSeen += steps; }
        await model.dispose();
      }
    }),
    { numRuns: 150, seed: 20261207 },
  );
  // Both paths were exercised.
  t.log(`${inPlaceSeen} Concats ran in place, ${copiesSeen} stayed copies, ${overwrites} elementwise outputs over an operand`);
  t.true(overwrites > 40, `${overwrites} elementwise outputs over an operand`);
  t.true(inPlaceSeen > 40, `${inPlaceSeen} Concats ran in place`);
  t.true(copiesSeen > 40, `${copiesSeen} Concats stayed copies`);
});

test('which Concats run in place: batch 1 only, DenseNet families, not for a graph input, an initializer, a graph-output chunk or a value in two unrelated Concats', async (t) => {
  const r = rng(3);
  const conv = (name: string, cOut: number): { node: Node; w: [string, Initializer] } => ({
    node: { name, op: 'Conv', inputs: ['x', `w_${name}`, ''], outputs: [name], attrs: { kernelShape: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], groups: 1 } },
    w: [`w_${name}`, { dims: [cOut, 2, 1, 1], data: randomF32(r, cOut * 2) }],
  });
  const [a, b, c] = [conv('a', 3), conv('b', 5), conv('c', 4)];
  const k: [string, Initializer] = ['k', { dims: [1, 4, 3, 3], data: randomF32(r, 36) }];
  // y = Concat(cat), z = Concat(cat2): with the defaults, y nests in z and both run in place.
  const graphOf = (o: { cat?: string[]; cat2?: string[]; outputs?: string[]; batch?: number }) => new Graph({
    inputs: [{ name: 'x', dims: [o.batch ?? 1, 2, 3, 3] }],
    outputs: (o.outputs ?? ['z']).map((name) => ({ name, dims: [] })),
    initializers: new Map([a.w, b.w, c.w, k]),
    nodes: [a.node, b.node, c.node,
      { name: 'cat', op: 'Concat', inputs: o.cat ?? ['a', 'b'], outputs: ['y'], attrs: { axis: 1 } },
      { name: 'cat2', op: 'Concat', inputs: o.cat2 ?? ['c', 'y'], outputs: ['z'], attrs: { axis: 1 } }],
  });
  const overH = (ch: number) => {
    const [p, q] = [conv('p', ch), conv('q', ch)];
    const w: [string, Initializer] = ['w_o', { dims: [3, ch, 1, 1], data: randomF32(r, 3 * ch) }];
    return new Graph({
      inputs: [{ name: 'x', dims: [1, 2, 3, 3] }],
      outputs: [{ name: 'o', dims: [] }],
      initializers: new Map([p.w, q.w, w]),
      nodes: [p.node, q.node, { name: 'cat', op: 'Concat', inputs: ['p', 'q'], outputs: ['h'], attrs: { axis: 2 } },
        { name: 'o', op: 'Conv', inputs: ['h', 'w_o', ''], outputs: ['o'], attrs: { kernelShape: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], groups: 1 } }],
    });
  };
  // cat0 = [a], y = [a, b], z = [a, b, c]; c reads y, so the family is read while it grows.
  const dense = (outputs: string[]) => new Graph({
    inputs: [{ name: 'x', dims: [1, 2, 3, 3] }],
    outputs: outputs.map((name) => ({ name, dims: [] })),
    initializers: new Map([a.w, b.w, ['w_c', { dims: [4, 8, 1, 1], data: randomF32(r, 32) }]]),
    nodes: [a.node, b.node,
      { name: 'cat0', op: 'Concat', inputs: ['a'], outputs: ['y0'], attrs: { axis: 1 } },
      { name: 'cat', op: 'Concat', inputs: ['a', 'b'], outputs: ['y'], attrs: { axis: 1 } },
      { name: 'c', op: 'Conv', inputs: ['y', 'w_c', ''], outputs: ['c'], attrs: { kernelShape: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], groups: 1 } },
      { name: 'cat2', op: 'Concat', inputs: ['a', 'b', 'c'], outputs: ['z'], attrs: { axis: 1 } },
      { name: 'r0', op: 'Relu', inputs: ['y0'], outputs: ['r0'], attrs: {} },
      { name: 'sum', op: 'Add', inputs: ['r0', 'a'], outputs: ['s'], attrs: {} }],
  });
  const cases: [string, Graph, string[]][] = [
    ['nested, batch 1', graphOf({}), []],
    ['batch 2', graphOf({ batch: 2 }), ['cat', 'cat2']],
    ['y a graph output', graphOf({ outputs: ['y', 'z'] }), ['cat2']],
    ['a graph input', graphOf({ cat: ['x', 'b'] }), ['cat']],
    ['an initializer', graphOf({ cat: ['k', 'b'] }), ['cat']],
    ['a value twice in one Concat', graphOf({ cat: ['b', 'b'] }), ['cat']],
    ['a chunk that is a graph output', graphOf({ outputs: ['b', 'z'] }), ['cat']],
    ['a value in two Concats', graphOf({ cat2: ['a', 'y'] }), ['cat', 'cat2']],
    ['DenseNet growth: [a], [a, b], [a, b, c] share one buffer', dense(['s', 'z']), []],
    ['DenseNet growth with a prefix Concat that is a graph output', dense(['s', 'y', 'z']), ['cat0', 'cat', 'cat2']],
    ['over H, one channel each: runs of the output', overH(1), []],
    ['over H, two channels each: interleaved', overH(2), ['cat']],
  ];
  for (const backend of ['native', 'js'] as const) {
    for (const [what, g, copies] of cases) {
      const batch = g.inputs[0]!.dims[0]!;
      const model = await load(g, { backend, threads: 1 });
      const x = new Tensor('float32', randomF32(r, batch * 18), [batch, 2, 3, 3]);
      t.deepEqual(model.profile({ x }).filter((p) => p.op === 'Concat').map((p) => p.name), copies, `${backend}, ${what}`);
      const ref = await load(g, { backend: 'js', threads: 1, optimize: false });
      for (const o of g.outputs) t.deepEqual(model.runSync({ x })[o.name]!.dims, ref.runSync({ x })[o.name]!.dims);
      for (const o of g.outputs) expectClose(model.runSync({ x })[o.name]!.data, ref.runSync({ x })[o.name]!.data, `${backend}, ${what}: ${o.name}`);
      await Promise.all([model.dispose(), ref.dispose()]);
    }
  }
});

if (pytorchMissing) {
  test.skip(`SqueezeNet 1.1's Concats in place at batch 1, copies at batch 2: ${pytorchMissing}`, () => {});
} else {
  test('SqueezeNet 1.1 (64x64): no Concat step at batch 1, eight at batch 2, and the same numbers as PyTorch', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'resnode-concat-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    await promisify(execFile)(PYTHON, [join(import.meta.dirname, '..', 'models', 'export_zoo.py'), '--small', '--only', 'squeezenet1_1', '--out', dir], { timeout: 300_000 });
    const e = (JSON.parse(readFileSync(join(dir, 'zoo.json'), 'utf8')) as { file: string; input: string; output: string }[])[0]!;
    const graph = fromOnnx(new Uint8Array(readFileSync(join(dir, e.file))));
    graph.inputs[0]!.dims[0] = -1; // batch 1 and 2 from one graph
    const x1 = parseNpy(new Uint8Array(readFileSync(join(dir, e.input))));
    const expected = parseNpy(new Uint8Array(readFileSync(join(dir, e.output))));
    const x2 = new Tensor('float32', new Float32Array([...x1.data, ...x1.data]), [2, ...x1.dims.slice(1)]);
    for (const backend of ['native', 'js'] as const) {
      const model = await load(graph, { backend, threads: 2 });
      const name = model.inputs[0]!.name;
      const concatSteps = (x: Tensor) => model.profile({ [name]: x }).filter((p) => p.op === 'Concat').length;
      t.is(concatSteps(x1), 0, `${backend}: batch 1`);
      t.is(concatSteps(x2), 8, `${backend}: batch 2`);
      const y1 = Object.values(model.runSync({ [name]: x1 }))[0]!;
      const y2 = Object.values(model.runSync({ [name]: x2 }))[0]!;
      const tol = { atol: 1e-5 * Math.max(...expected.data.map(Math.abs)), rtol: 0 };
      expectClose(y1.data, expected.data, `${backend} batch 1 vs PyTorch`, y1.dims, tol);
      expectClose(y2.data.subarray(0, y1.data.length), expected.data, `${backend} batch 2 (first) vs PyTorch`, y1.dims, tol);
      expectClose(y2.data.subarray(y1.data.length), expected.data, `${backend} batch 2 (second) vs PyTorch`, y1.dims, tol);
      await model.dispose();
    }
  });
}

test('createPlan checks its views: shape, a base that is a view, a view shorter than its steps need, a base too short at run time', (t) => {
  const b = rawAddon();
  if (!b) return t.pass('no addon built');
  const relu = [{ op: 'relu', inputs: [0], output: 2, count: 4 }, { op: 'relu', inputs: [0], output: 3, count: 4 }];
  t.throws(() => b.createPlan(relu as never, 'no' as never), { instanceOf: TypeError, message: /createPlan: expected an array of \{ buffer, base, offset, length \} for views/ });
  t.throws(() => b.createPlan(relu as never, [{ buffer: 2, base: 2, offset: 0, length: 4 }]), { instanceOf: RangeError, message: /createPlan: .*views\[0\]\.base/ });
  t.throws(() => b.createPlan(relu as never, [{ buffer: 2, base: 1, offset: 0, length: 4 }, { buffer: 1, base: 0, offset: 0, length: 8 }]), { instanceOf: RangeError, message: /createPlan: expected a buffer that is no view for views\[0\]\.base/ });
  t.throws(() => b.createPlan(relu as never, [{ buffer: 2, base: 1, offset: 0, length: 3 }]), { instanceOf: RangeError, message: /createPlan: expected at least 4 \(what its steps use\) for views\[0\]\.length but received 3/ });
  const plan = b.createPlan(relu as never, [{ buffer: 2, base: 1, offset: 0, length: 4 }, { buffer: 3, base: 1, offset: 4, length: 4 }]);
  const x = new Float32Array([-1, 2, -3, 4]);
  t.throws(() => b.runPlanSync(plan, [x, new Float32Array(7), new Float32Array(0), new Float32Array(0)]), { instanceOf: RangeError, message: /buffers\[1\]/ });
  const base = new Float32Array(8);
  b.runPlanSync(plan, [x, base, new Float32Array(0), new Float32Array(0)]); // the view entries are not read
  t.deepEqual([...base], [0, 2, 0, 4, 0, 2, 0, 4]);
  b.release(plan);
});
