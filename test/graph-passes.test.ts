// Passes: BN folding, residual/ReLU fusion, pruning and the memory plan.
import test from 'ava';
import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../src/graph/layers.js';
import { resnet } from '../src/graph/resnet.js';
import { Graph, checkGraph } from '../src/graph/graph.js';
import type { ConvNode } from '../src/graph/graph.js';
import { foldBatchNorm, fuseConvAddRelu, fuseRelu, optimize, planMemory, prune } from '../src/graph/passes.js';
import { relativeToMax } from './helpers/ort.js';
import { load } from '../src/model.js';
import { Tensor } from '../src/tensor.js';
import { rng, randomF32 } from './helpers/rng.js';

async function run(g: Graph, feeds: Record<string, [Float32Array, number[]]>): Promise<Record<string, Float32Array>> {
  const s = await ort.InferenceSession.create(g.toOnnx(), { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1 });
  try {
    const f = Object.fromEntries(Object.entries(feeds).map(([k, [d, dims]]) => [k, new ort.Tensor('float32', d, dims)]));
    const out = await s.run(f);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
  } finally {
    await s.release();
  }
}

test('optimize(resnet50): every BN folded, every block one fused conv, same logits in ONNX Runtime', async (t) => {
  const g = resnet({ depth: 50, width: 16, numClasses: 10, inputSize: 64, seed: 3 });
  const o = optimize(g);
  checkGraph(o);
  t.is(o.nodes.filter((n) => n.op === 'BatchNormalization').length, 0);
  t.is(o.nodes.filter((n) => n.op === 'Add' || n.op === 'Relu').length, 0);
  const fused = o.nodes.filter((n): n is ConvNode => n.op === 'Conv' && n.attrs.residual !== undefined);
  t.is(fused.length, 16);
  t.true(fused.every((n) => n.attrs.relu === true && n.inputs[3] === n.attrs.residual));
  t.is(o.nodes.filter((n) => n.op === 'Conv').length, g.nodes.filter((n) => n.op === 'Conv').length);
  // The unfolded graph is untouched.
  t.true(g.nodes.some((n) => n.op === 'BatchNormalization'));
  t.true(g.initializers.has('bn1.running_var'));
  t.false(o.initializers.has('bn1.running_var'));
  const x = randomF32(rng(1), 2 * 3 * 64 * 64);
  const a = (await run(g, { input: [x, [2, 3, 64, 64]] })).output!;
  const b = (await run(o, { input: [x, [2, 3, 64, 64]] })).output!;
  t.true(relativeToMax(b, a) < 1e-5, `${relativeToMax(b, a)}`);
});

test('fusion never removes a graph output or a value with another reader', async (t) => {
  const b = new GraphBuilder({ seed: 2 });
  const x = b.input('x', [1, 4, 6, 6]);
  const c1 = b.conv(x, { outChannels: 4, kernel: 3, pad: 1 });
  const bn = b.batchNorm(c1); // c1 is also an output: BN can't fold into it
  const c2 = b.conv(bn, { outChannels: 4, kernel: 1 });
  const sum = b.add(c2, x);
  const r = b.relu(sum); // sum is also an output: relu can't fuse into the conv
  const c3 = b.conv(r, { outChannels: 4, kernel: 1 });
  const r3 = b.relu(c3);
  const other = b.relu(c3); // c3 has two readers: neither relu fuses
  b.output(c1); b.output(sum); b.output(r3); b.output(other);
  const g = b.build();
  const o = optimize(g);
  checkGraph(o);
  t.deepEqual(o.outputs.map((v) => v.name), g.outputs.map((v) => v.name));
  const byOut = new Map(o.nodes.map((n) => [n.outputs[0]!, n]));
  t.is(byOut.get(c1)!.op, 'Conv');
  t.is(byOut.get(bn)!.op, 'Conv'); // BN → depthwise 1×1 conv
  t.is((byOut.get(bn)!.attrs as ConvNode['attrs']).groups, 4);
  const fusedSum = byOut.get(sum)! as ConvNode;
  t.is(fusedSum.attrs.residual, x);
  t.falsy(fusedSum.attrs.relu);
  t.is(byOut.get(r)!.op, 'Relu');
  t.is(byOut.get(c3)!.op, 'Conv');
  t.is(byOut.get(r3)!.op, 'Relu');
  const xv = randomF32(rng(3), 144);
  const a = await run(g, { x: [xv, [1, 4, 6, 6]] });
  const bb = await run(o, { x: [xv, [1, 4, 6, 6]] });
  for (const k of Object.keys(a)) t.true(relativeToMax(bb[k]!, a[k]!) < 1e-5, k);
});

test('individual passes: foldBatchNorm, fuseConvAddRelu, fuseRelu (Conv, Add, Gemm), prune', (t) => {
  const b = new GraphBuilder({ seed: 4 });
  const x = b.input('x', [2, 3, 5, 5]);
  const a = b.relu(b.batchNorm(b.conv(x, { outChannels: 3, kernel: 3, pad: 1, bias: true })));
  const s = b.relu(b.add(a, x));
  const f = b.flatten(b.globalAveragePool(s));
  const y = b.relu(b.gemm(f, { outFeatures: 4 }));
  b.conv(x, { outChannels: 2, kernel: 1 }); // dead
  b.output(y, 'y');
  const g = b.build();
  const folded = foldBatchNorm(g);
  t.deepEqual(folded.nodes.map((n) => n.op), ['Conv', 'Relu', 'Add', 'Relu', 'GlobalAveragePool', 'Flatten', 'Gemm', 'Relu']);
  const relu = fuseRelu(folded);
  t.deepEqual(relu.nodes.map((n) => n.op), ['Conv', 'Add', 'GlobalAveragePool', 'Flatten', 'Gemm']);
  t.true(relu.nodes.every((n) => n.op === 'GlobalAveragePool' || n.op === 'Flatten' || (n.attrs as { relu?: boolean }).relu === true));
  const res = fuseConvAddRelu(fuseRelu(fuseConvAddRelu(folded)));
  t.deepEqual(res.nodes.map((n) => n.op), ['Conv', 'Add', 'GlobalAveragePool', 'Flatten', 'Gemm']);
  t.is(prune(new Graph({ ...g, outputs: [{ name: 'relu_0', dims: [2, 3, 5, 5] }] })).nodes.length, 3);
});

test('foldBatchNorm in place scales a conv\'s own weights where they are, copies a weight two convs share, and computes the same graph', async (t) => {
  const b = new GraphBuilder({ seed: 5 });
  const x = b.input('x', [1, 3, 6, 6]);
  const a = b.relu(b.batchNorm(b.conv(x, { outChannels: 4, kernel: 3, pad: 1 })));
  const c = b.relu(b.batchNorm(b.conv(x, { outChannels: 4, kernel: 3, pad: 1 })));
  b.output(b.add(a, c), 'y');
  const g = b.build();
  const convs = g.nodes.filter((n) => n.op === 'Conv');
  // The two convs read one weight: folding it in place for one would change the other.
  convs[1]!.inputs[1] = convs[0]!.inputs[1]!;
  const shared = g.initializers.get(convs[0]!.inputs[1]!)!.data;
  const before = Float32Array.from(shared);
  const copied = foldBatchNorm(g);
  t.deepEqual(shared, before);
  // A graph of its own, whose weights are not shared: folded in place.
  const b2 = new GraphBuilder({ seed: 6 });
  const x2 = b2.input('x', [1, 3, 6, 6]);
  b2.output(b2.relu(b2.batchNorm(b2.conv(x2, { outChannels: 4, kernel: 3, pad: 1 }))), 'y');
  const own = b2.build();
  const ownWeight = own.initializers.get(own.nodes.find((n) => n.op === 'Conv')!.inputs[1]!)!.data;
  const reference = await run(foldBatchNorm(own), { x: [randomF32(rng(8), 108), [1, 3, 6, 6]] });
  const inPlace = foldBatchNorm(own, { inPlace: true });
  const folded = inPlace.initializers.get(inPlace.nodes.find((n) => n.op === 'Conv')!.inputs[1]!)!.data;
  t.is(folded, ownWeight, 'the folded weight is the original array, rescaled');
  const got = await run(inPlace, { x: [randomF32(rng(8), 108), [1, 3, 6, 6]] });
  t.true(relativeToMax(got.y!, reference.y!) < 1e-6);
  // With the shared weight, in place falls back to copies: same results, source untouched.
  const sharedInPlace = foldBatchNorm(g, { inPlace: true });
  t.deepEqual(shared, before);
  const xv = randomF32(rng(9), 108);
  const want = await run(copied, { x: [xv, [1, 3, 6, 6]] });
  const have = await run(sharedInPlace, { x: [xv, [1, 3, 6, 6]] });
  t.true(relativeToMax(have.y!, want.y!) < 1e-6);
});

test('load() folds the weights of a graph it imported in place, but never those of a Graph it was given', async (t) => {
  const g = resnet({ depth: 18, width: 8, numClasses: 10, inputSize: 32, seed: 7 });
  const snapshot = new Map([...g.initializers].map(([k, v]) => [k, Float32Array.from(v.data)]));
  const x = new Tensor('float32', randomF32(rng(10), 3 * 32 * 32), [1, 3, 32, 32]);
  const fromGraph = await load(g, { backend: 'js' });
  for (const [k, v] of g.initializers) t.deepEqual(v.data, snapshot.get(k), k);
  const fromBytes = await load(g.toOnnx(), { backend: 'js' });
  const name = fromGraph.inputs[0]!.name;
  const [a, b] = [(await fromGraph.run({ [name]: x })), (await fromBytes.run({ [name]: x }))];
  const out = fromGraph.outputs[0]!.name;
  t.true(relativeToMax(b[out]!.data, a[out]!.data) < 1e-6);
});

// ---- memory plan -----------------------------------------------------------

/** A random DAG of Conv (1×1, varied channels), MaxPool, Relu and Add nodes. */
const dagArb = fc.record({
  seed: fc.integer({ min: 0, max: 1 << 30 }),
  steps: fc.array(fc.record({ kind: fc.integer({ min: 0, max: 3 }), a: fc.nat(), b: fc.nat(), c: fc.integer({ min: 1, max: 6 }) }), { minLength: 1, maxLength: 25 }),
  outputs: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
  batch: fc.integer({ min: 1, max: 3 }),
});

interface DagSpec { seed: number; steps: { kind: number; a: number; b: number; c: number }[]; outputs: number[] }

function buildDag(spec: DagSpec): Graph {
  const b = new GraphBuilder({ seed: spec.seed });
  const values = [b.input('x', [-1, 2, 8, 8])];
  for (const s of spec.steps) {
    const v = values[s.a % values.length]!;
    const d = b.dims(v);
    if (s.kind === 0) values.push(b.conv(v, { outChannels: s.c, kernel: 1 }));
    else if (s.kind === 1 && d[2]! >= 2) values.push(b.maxPool(v, { kernel: 2, stride: 2 }));
    else if (s.kind === 2) {
      const same = values.filter((w) => w !== v && JSON.stringify(b.dims(w)) === JSON.stringify(d));
      values.push(same.length > 0 ? b.add(v, same[s.b % same.length]!) : b.relu(v));
    } else values.push(b.relu(v));
  }
  const outs = new Set(spec.outputs.map((i) => values[1 + (i % (values.length - 1))]!));
  for (const o of outs) b.output(o);
  return b.build();
}

test('planMemory: no two simultaneously live values share a slot; slots are large enough (property)', (t) => {
  fc.assert(fc.property(dagArb, (spec) => {
    for (const [fuse, residualInPlace] of [[false, false], [true, false], [true, true]] as const) {
      const g0 = buildDag(spec);
      const g = fuse ? optimize(g0) : g0;
      const plan = planMemory(g, { x: [spec.batch, 2, 8, 8] }, { residualInPlace });
      const vals = [...plan.slotOf.keys()];
      // Values whose slot a Conv took over as their last reader: residual → output.
      const handedTo = new Map<string, string>();
      // Every node output has a slot of sufficient size.
      for (const [idx, n] of plan.order.entries()) {
        const slot = plan.slotOf.get(n.outputs[0]!);
        if (slot === undefined) return false;
        const need = plan.shapes.get(n.outputs[0]!)!.reduce((p, q) => p * q, 1);
        if (plan.slotSizes[slot]! < need) return false;
        // A node never writes the slot of one of its inputs, except (in place)
        // a Conv over its fused residual, read last by this node and not its x.
        for (const i of n.inputs) {
          if (plan.slotOf.get(i) !== slot) continue;
          const ok = residualInPlace && n.op === 'Conv' && n.attrs.residual === i && n.inputs[0] !== i && plan.live.get(i)![1] === idx;
          if (!ok) return false;
          handedTo.set(i, n.outputs[0]!);
        }
      }
      // Liveness intervals [def, lastUse] of values in one slot are disjoint
      // (a residual's ends where its overwriting Conv's output begins).
      for (let i = 0; i < vals.length; i++) {
        for (let j = i + 1; j < vals.length; j++) {
          if (plan.slotOf.get(vals[i]!) !== plan.slotOf.get(vals[j]!)) continue;
          const [a0, a1] = plan.live.get(vals[i]!)!;
          const [b0, b1] = plan.live.get(vals[j]!)!;
          const handover = handedTo.get(vals[i]!) === vals[j] || handedTo.get(vals[j]!) === vals[i];
          if (!(a1 < b0 || b1 < a0 || (handover && (a1 === b0 || b1 === a0)))) return false;
        }
      }
      // Liveness is computed independently here: last reader index.
      plan.order.forEach((n, idx) => n.inputs.forEach((inp) => {
        const l = plan.live.get(inp);
        if (l && l[1] < idx) throw new Error(`"${inp}" read at ${idx} after its last use ${l[1]}`);
      }));
      for (const o of g.outputs) if (plan.live.get(o.name)![1] !== plan.order.length) return false;
      if (plan.totalFloats !== plan.slotSizes.reduce((p, q) => p + q, 0)) return false;
    }
    return true;
  }), { numRuns: 300, seed: 20261129 });
  t.pass();
});

test('planMemory with residualInPlace: each ResNet-50 block\'s last conv writes over its residual, and no more memory is planned', (t) => {
  const g = optimize(resnet({ depth: 50 }));
  const plain = planMemory(g, { input: [1, 3, 224, 224] });
  const plan = planMemory(g, { input: [1, 3, 224, 224] }, { residualInPlace: true });
  const fused = plan.order.filter((n): n is ConvNode => n.op === 'Conv' && n.attrs.residual !== undefined);
  const inPlace = fused.filter((n) => plan.slotOf.get(n.attrs.residual!) === plan.slotOf.get(n.outputs[0]!));
  t.is(fused.length, 16);
  t.is(inPlace.length, 16, inPlace.map((n) => n.name).join(', '));
  t.true(plan.totalFloats <= plain.totalFloats, `${plan.totalFloats} vs ${plain.totalFloats}`);
  t.is(fused.filter((n) => plain.slotOf.get(n.attrs.residual!) === plain.slotOf.get(n.outputs[0]!)).length, 0);
});

test('planMemory with residualInPlace keeps a residual that is read later, or is a graph output, in its own slot', (t) => {
  const b = new GraphBuilder({ seed: 3 });
  const x = b.input('x', [1, 4, 6, 6]);
  const a = b.conv(x, { outChannels: 4, kernel: 1 });
  const c1 = b.conv(a, { outChannels: 4, kernel: 3, pad: 1 });
  const y1 = b.relu(b.add(c1, a)); // a is read again below: not overwritten here
  const c2 = b.conv(y1, { outChannels: 4, kernel: 1 });
  const y2 = b.add(c2, a);
  const c3 = b.conv(y2, { outChannels: 4, kernel: 1 });
  b.output(b.add(c3, y2));
  b.output(y2); // a graph output: never overwritten
  const g = optimize(b.build());
  const plan = planMemory(g, { x: [1, 4, 6, 6] }, { residualInPlace: true });
  const convs = plan.order.filter((n): n is ConvNode => n.op === 'Conv' && n.attrs.residual !== undefined);
  t.is(convs.length, 3);
  const shares = convs.map((n) => plan.slotOf.get(n.attrs.residual!) === plan.slotOf.get(n.outputs[0]!));
  t.deepEqual(shares, [false, true, false]);
});

test('planMemory on resnet50 reuses buffers: far fewer slots than values', (t) => {
  const g = optimize(resnet({ depth: 50 }));
  const plan = planMemory(g, { input: [1, 3, 224, 224] });
  const values = plan.slotOf.size;
  t.true(plan.slotSizes.length <= 6, `${plan.slotSizes.length} slots for ${values} values`);
  // Lower bound: the stem's 64×112×112 output and layer1's 256×56×56 values need ~3 such buffers.
  t.true(plan.totalFloats <= 3 * 802816 + 1, `${plan.totalFloats}`);
  const naive = [...plan.slotOf.keys()].reduce((s, v) => s + plan.shapes.get(v)!.reduce((p, q) => p * q, 1), 0);
  t.true(plan.totalFloats < naive / 4, `${plan.totalFloats} vs ${naive}`);
  t.throws(() => planMemory(g), { message: /dynamic dim.*inputDims/ });
});
