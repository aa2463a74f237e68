// Issue 18 part A at the edges: dynamic height/width (loads, one plan per input
// shape), what the importer refuses and how it says so, the exporter's forms of
// the new ops (ONNX Runtime runs them and agrees), and float16 ↔ float32 (the
// addon's F16C kernel and the TypeScript one against the definition, every
// float16 value and the rounding edges).
import test from 'ava';
import { Graph, GraphError, type Node } from '../src/graph/graph.js';
import { load, Tensor } from '../src/index.js';
import { fromOnnx } from '../src/onnx/import.js';
import { toOnnx } from '../src/onnx/export.js';
import { float16ToFloat32, float32ToFloat16, floatToHalf, halfToFloat } from '../src/onnx/half.js';
import { rawAddon } from './helpers/backends.js';
import { ortRun, relativeToMax } from './helpers/ort.js';
import { randomF32, rng } from './helpers/rng.js';

const conv = (name: string, x: string, y: string, w: string): Node => ({
  name, op: 'Conv', inputs: [x, w, ''], outputs: [y],
  attrs: { kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1], groups: 1 },
});

/** conv 3×3/2 → HardSwish → SE gate (GAP, Sigmoid, Mul) → Concat with itself → Transpose to NHWC → Softmax over C. */
function zooGraph(dims: number[]): Graph {
  const r = rng(7);
  return new Graph({
    inputs: [{ name: 'x', dims }],
    outputs: [{ name: 'y', dims: [] }],
    initializers: new Map([['w', { dims: [4, 3, 3, 3], data: randomF32(r, 108) }], ['c', { dims: [4, 1, 1], data: randomF32(r, 4) }]]),
    nodes: [
      conv('conv', 'x', 'a', 'w'),
      { name: 'hs', op: 'HardSwish', inputs: ['a'], outputs: ['b'], attrs: { alpha: 1 / 6, beta: 0.5 } },
      { name: 'gap', op: 'GlobalAveragePool', inputs: ['b'], outputs: ['g'], attrs: {} },
      { name: 'sig', op: 'Sigmoid', inputs: ['g'], outputs: ['s'], attrs: { alpha: 0, beta: 0 } },
      { name: 'gate', op: 'Mul', inputs: ['b', 's'], outputs: ['m'], attrs: {} },
      { name: 'shift', op: 'Sub', inputs: ['m', 'c'], outputs: ['d'], attrs: {} },
      { name: 'cat', op: 'Concat', inputs: ['d', 'm'], outputs: ['e'], attrs: { axis: 1 } },
      { name: 'nhwc', op: 'Transpose', inputs: ['e'], outputs: ['f'], attrs: { perm: [0, 2, 3, 1] } },
      { name: 'clip', op: 'Clip', inputs: ['f'], outputs: ['h'], attrs: { alpha: -0.5, beta: 0.5 } },
      { name: 'sm', op: 'Softmax', inputs: ['h'], outputs: ['y'], attrs: { axis: -1, legacy: false } },
    ],
  });
}

test('a model with dynamic batch, height and width loads, makes one plan per input shape and matches ONNX Runtime at each', async (t) => {
  const graph = zooGraph([-1, 3, -1, -1]);
  const bytes = toOnnx(graph);
  const back = fromOnnx(bytes);
  t.deepEqual(back.inputs[0]!.dims, [-1, 3, -1, -1]);
  for (const backend of ['native', 'js'] as const) {
    const model = await load(bytes, { backend, threads: 2 });
    t.deepEqual([...model.inputs[0]!.dims], [-1, 3, -1, -1]);
    for (const dims of [[1, 3, 9, 13], [2, 3, 16, 8], [1, 3, 9, 13]]) {
      const x = new Tensor('float32', randomF32(rng(dims[2]!), dims.reduce((p, q) => p * q, 1)), dims);
      const y = (await model.run({ x }))['y']!;
      t.deepEqual([...y.dims], [dims[0], Math.ceil(dims[2]! / 2), Math.ceil(dims[3]! / 2), 8]);
      const ref = (await ortRun(bytes, { x }))['y']!;
      t.true(relativeToMax(y.data, ref) <= 1e-5, `${backend} ${dims}: ${relativeToMax(y.data, ref)}`);
    }
    t.is(model.cachedPlans, 2, 'one plan per distinct input shape');
    t.throws(() => model.runSync({ x: new Tensor('float32', new Float32Array(2 * 3 * 4), [2, 4, 3, 1]) }), { instanceOf: RangeError, message: /input "x" expects dims \[N, 3, \?, \?\]|expects dims/ });
    await model.dispose();
  }
});

test('the new ops refuse bad attributes and shapes with errors that name the node', (t) => {
  const base = zooGraph([1, 3, 8, 8]);
  const bad = (change: (g: Graph) => void): Error => {
    const g = base.clone();
    change(g);
    return t.throws(() => g.shapes(), { instanceOf: GraphError })!;
  };
  t.regex(bad((g) => { (g.nodes[7]!.attrs as { perm: number[] }).perm = [0, 2, 2, 1]; }).message, /"nhwc" \(Transpose\): perm \[0, 2, 2, 1\] is not a permutation/);
  t.regex(bad((g) => { g.initializers.set('c', { dims: [3, 1, 1], data: new Float32Array(3) }); }).message, /"shift" \(Sub\): operands must have the same shape or broadcast.*\[1, 4, 4, 4\] and \[3, 1, 1\]/);
  t.regex(bad((g) => { (g.nodes[6]!.attrs as { axis: number }).axis = 4; }).message, /"cat" \(Concat\): axis 4 out of range/);
  t.regex(bad((g) => { g.nodes.push({ name: 'sl', op: 'Slice', inputs: ['y'], outputs: ['z'], attrs: { starts: [3], ends: [3], axes: [1], steps: [1] } }); }).message, /"sl" \(Slice\): the slice of \[1, 4, 4, 8\] is empty/);
  t.regex(bad((g) => { g.nodes.push({ name: 'sl', op: 'Slice', inputs: ['y'], outputs: ['z'], attrs: { starts: [0], ends: [1], axes: [1], steps: [0] } }); }).message, /steps must be non-zero/);
});

test('the exported forms of the new ops run in ONNX Runtime and agree with resnode', async (t) => {
  const graph = zooGraph([2, 3, 10, 6]);
  const x = new Tensor('float32', randomF32(rng(3), 2 * 3 * 10 * 6), [2, 3, 10, 6]);
  const bytes = toOnnx(graph);
  const ref = (await ortRun(bytes, { x }))['y']!;
  for (const backend of ['native', 'js'] as const) {
    const model = await load(graph, { backend, threads: 2 });
    const err = relativeToMax(model.runSync({ x })['y']!.data, ref);
    t.true(err <= 1e-5, `${backend}: ${err}`);
    await model.dispose();
  }
});

/** The nearest float16 to v by search over the two neighbours of a candidate (ties: even mantissa). */
function nearestHalfReference(v: number): number {
  if (Number.isNaN(v)) return 0x7e00;
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a >= 65520) return sign | 0x7c00; // halfway between 65504 and 2^16 and above: infinity
  let best = 0;
  for (let h = 0; h < 0x7c00; h++) {
    const d = Math.abs(halfToFloat(h) - a), db = Math.abs(halfToFloat(best) - a);
    if (d < db || (d === db && (h & 1) === 0 && h !== best)) best = h;
  }
  return sign | best;
}

test('float16 ↔ float32: every float16 widens exactly; narrowing rounds to nearest even, in the addon (F16C) and in TypeScript', (t) => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const ts = new Float32Array(65536);
  float16ToFloat32(all, ts);
  const back = new Uint16Array(65536);
  float32ToFloat16(ts, back);
  for (let i = 0; i < 65536; i++) {
    const e = halfToFloat(i);
    if (!(Object.is(ts[i], e) || (Number.isNaN(e) && Number.isNaN(ts[i]!)))) return t.fail(`widen ${i.toString(16)}: ${ts[i]} ≠ ${e}`);
    if (!Number.isNaN(e) && back[i] !== i) return t.fail(`round trip ${i.toString(16)} → ${back[i]!.toString(16)}`);
  }
  // Rounding edges: ties both ways, the subnormal range, overflow, and random values.
  const r = rng(11);
  const probes = [0.5 + 2 ** -12, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 2 ** -25, 3 * 2 ** -26, 2 ** -24, 1.5 * 2 ** -24, 65504, 65519.99, 65520, 1e6, -0, -1e-9, ...Array.from({ length: 300 }, () => (r() - 0.5) * 2 ** (Math.floor(r() * 40) - 26))];
  const f = Float32Array.from(probes);
  const tsBits = Uint16Array.from(f, floatToHalf);
  for (let i = 0; i < f.length; i++) t.is(tsBits[i], nearestHalfReference(f[i]!), `TypeScript ${f[i]}`);
  const addon = rawAddon();
  if (!addon?.float16ToFloat32 || !addon.float32ToFloat16) return t.fail('the addon has no float16 conversions');
  const nat = new Float32Array(65536);
  addon.float16ToFloat32(all, nat);
  // Bit for bit (NaNs aside: F16C keeps their payload, JavaScript has one NaN).
  const differ = [...all].filter((h) => !Number.isNaN(ts[h]!) && !Object.is(nat[h], ts[h]));
  t.deepEqual(differ, [], 'addon widening = TypeScript widening');
  t.true([...all].every((h) => Number.isNaN(ts[h]!) === Number.isNaN(nat[h]!)), 'NaN stays NaN');
  const natBits = new Uint16Array(f.length);
  addon.float32ToFloat16(f, natBits);
  t.deepEqual(natBits, tsBits, 'addon rounding = TypeScript rounding');
  t.throws(() => addon.float32ToFloat16!(f, new Uint16Array(2)), { instanceOf: RangeError, message: /float32ToFloat16: .*dst\.length/ });
  t.throws(() => addon.float16ToFloat32!(new Float32Array(2) as unknown as Uint16Array, nat), { instanceOf: TypeError, message: /float16ToFloat32: .*src/ });
});
