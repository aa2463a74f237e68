// Clip (ReLU6, and any other bounds) and the activations SiLU, HardSwish
// (both as opset 13 writes them: x·Sigmoid(x), x·HardSigmoid(x)) and Sigmoid
// fused into the conv before them by the planner (fuseConvClip,
// fuseConvActivation): which fuse, that models with them match ONNX Runtime on
// both backends, that the fused graph exports back to an ONNX file ORT runs to
// the same answer, and that the addon refuses a bad p.clip or p.act by name.
import test from 'ava';
import { Graph, type Node } from '../src/graph/graph.js';
import { load, Tensor } from '../src/index.js';
import { toOnnx } from '../src/onnx/export.js';
import { nativeBinding } from '../src/native.js';
import { rawAddon } from './helpers/backends.js';
import { ortRun, relativeToMax } from './helpers/ort.js';
import { randomF32, rng } from './helpers/rng.js';

const conv = (name: string, x: string, y: string, w: string, k: number, stride: number, groups: number): Node => ({
  name, op: 'Conv', inputs: [x, w, ''], outputs: [y],
  attrs: { kernelShape: [k, k], strides: [stride, stride], pads: [k >> 1, k >> 1, k >> 1, k >> 1], dilations: [1, 1], groups },
});
const clip = (name: string, x: string, y: string, lo: number, hi: number): Node => ({ name, op: 'Clip', inputs: [x], outputs: [y], attrs: { alpha: lo, beta: hi } });

/** A graph x → nodes → y with the named weights drawn from rng(seed). */
function graphOf(seed: number, xDims: number[], weights: Record<string, number[]>, nodes: Node[]): Graph {
  const r = rng(seed);
  const initializers = new Map(Object.entries(weights).map(([name, dims]) => [name, { dims, data: randomF32(r, dims.reduce((p, q) => p * q, 1)) }]));
  return new Graph({ inputs: [{ name: 'x', dims: xDims }], outputs: [{ name: 'y', dims: [] }], initializers, nodes });
}

/**
 * An inverted-residual block: conv 3×3 → ReLU6 → depthwise 3×3/2 → Clip(-1, 2) →
 * 1×1 → Clip(−∞, 0.5); then a Clip after an Add (no conv before it) and one
 * whose conv output is also read elsewhere: those two stay Clip steps.
 */
function block(): Graph {
  return graphOf(5, [1, 4, 9, 11], { w1: [16, 4, 3, 3], w2: [16, 1, 3, 3], w3: [8, 16, 1, 1], w4: [8, 8, 1, 1] }, [
    conv('expand', 'x', 'a', 'w1', 3, 1, 1), clip('relu6', 'a', 'b', 0, 6),
    conv('dw', 'b', 'c', 'w2', 3, 2, 16), clip('clipDw', 'c', 'd', -1, 2),
    conv('project', 'd', 'e', 'w3', 1, 1, 1), clip('cap', 'e', 'f', -Infinity, 0.5),
    conv('shared', 'f', 'g', 'w4', 1, 1, 1), clip('sharedClip', 'g', 'h', 0, 1),
    { name: 'sum', op: 'Add', inputs: ['h', 'g'], outputs: ['s'], attrs: {} }, clip('afterAdd', 's', 'y', -0.25, 0.75),
  ]);
}

test('Clip after a single-use conv fuses into it; the others stay; both backends match ONNX Runtime, and so does the fused graph exported', async (t) => {
  const bytes = toOnnx(block());
  const x = new Tensor('float32', randomF32(rng(9), 4 * 9 * 11), [1, 4, 9, 11]);
  const ref = (await ortRun(bytes, { x }))['y']!;
  for (const backend of ['native', 'js'] as const) {
    const model = await load(bytes, { backend, threads: 2 });
    const clips = model.graph.nodes.filter((n) => n.op === 'Clip').map((n) => n.name);
    t.deepEqual(clips.sort(), ['afterAdd', 'sharedClip']);
    const fused = Object.fromEntries(model.graph.nodes.flatMap((n) => (n.op === 'Conv' && n.attrs.clip ? [[n.name, n.attrs.clip]] : [])));
    t.deepEqual(fused, { expand: [0, 6], dw: [-1, 2], project: [-Infinity, 0.5] });
    const y = (await model.run({ x }))['y']!;
    t.true(relativeToMax(y.data, ref) <= 1e-5, `${backend}: ${relativeToMax(y.data, ref)}`);
    // The outputs are clamped where the bounds bite (the test would not see a missing clip otherwise).
    t.true(y.data.some((v) => v === 0.75) && y.data.some((v) => v === -0.25), backend);
    const again = (await ortRun(toOnnx(model.graph), { x }))['y']!;
    t.true(relativeToMax(again, ref) <= 1e-5, `${backend} export: ${relativeToMax(again, ref)}`);
    await model.dispose();
  }
});

test('a fused conv clamps its intermediate values: ReLU6 hits both bounds in the block', async (t) => {
  const model = await load(toOnnx(block()), { backend: 'native', threads: 2 });
  const x = new Tensor('float32', randomF32(rng(9), 4 * 9 * 11), [1, 4, 9, 11]);
  const b = (await model.run({ x }, { fetchIntermediates: true }))['b']!;
  t.true(b.data.some((v) => v === 0) && b.data.some((v) => v === 6), 'ReLU6 output reaches 0 and 6');
  t.true(b.data.every((v) => v >= 0 && v <= 6));
  await model.dispose();
});

/** A native 3×3 conv2dSync on 4 channels at 8×8 with extra params merged into p, as a thunk. */
function conv2dWith(): (extra: object) => () => void {
  const b = nativeBinding();
  const packed = b.packConv2d(new Float32Array(4 * 4 * 9), null, 4, 4, 3, 3, 1);
  const p = { inputDims: [1, 4, 8, 8], cOut: 4, kh: 3, kw: 3, groups: 1, strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], outDims: [8, 8], relu: false, threads: 1 };
  const x = new Float32Array(256), y = new Float32Array(256);
  return (extra) => () => b.conv2dSync(packed, x, null, y, { ...p, ...extra } as never);
}

(rawAddon() ? test : test.skip)('conv2d refuses a bad p.clip, naming it', (t) => {
  const call = conv2dWith();
  t.throws(call({ clip: [6, 0] }), { instanceOf: RangeError, message: /conv2dSync: expected .*min <= max.* for p\.clip/ });
  t.throws(call({ clip: [Number.NaN, 1] }), { instanceOf: RangeError, message: /p\.clip/ });
  t.throws(call({ clip: [0] }), { instanceOf: TypeError, message: /p\.clip/ });
  t.throws(call({ clip: 'relu6' }), { instanceOf: TypeError, message: /p\.clip/ });
  t.throws(call({ clip: [0, 6], relu: true }), { instanceOf: RangeError, message: /conv2dSync: expected absent when p\.relu is true .* for p\.clip/ });
  t.notThrows(call({ clip: [-Infinity, Infinity] }));
});

const unary = (name: string, op: 'Sigmoid' | 'HardSigmoid', x: string, y: string, alpha = 0, beta = 0): Node => ({ name, op, inputs: [x], outputs: [y], attrs: { alpha, beta } });
const mul = (name: string, a: string, b: string, y: string): Node => ({ name, op: 'Mul', inputs: [a, b], outputs: [y], attrs: {} });

/**
 * EfficientNet and MobileNetV3 as opset 13 writes them: conv → x·Sigmoid(x)
 * (SiLU) → depthwise → x·HardSigmoid(x) (HardSwish) → SE gate (GAP → 1×1 →
 * Sigmoid → Mul) → 1×1; and a Sigmoid whose conv output is also read elsewhere (stays).
 */
function gated(): Graph {
  return graphOf(6, [1, 3, 10, 10], { w1: [8, 3, 3, 3], w2: [8, 1, 3, 3], w3: [8, 8, 1, 1], w4: [4, 8, 1, 1] }, [
    conv('stem', 'x', 'a', 'w1', 3, 1, 1), unary('stemGate', 'Sigmoid', 'a', 'as'), mul('silu', 'a', 'as', 'b'),
    conv('dw', 'b', 'c', 'w2', 3, 2, 8), unary('dwGate', 'HardSigmoid', 'c', 'cs', Math.fround(1 / 6), 0.5), mul('hswish', 'cs', 'c', 'd'),
    { name: 'gap', op: 'GlobalAveragePool', inputs: ['d'], outputs: ['g'], attrs: {} },
    conv('se', 'g', 'e', 'w3', 1, 1, 1), unary('seGate', 'Sigmoid', 'e', 'es'), mul('scale', 'd', 'es', 'f'),
    conv('project', 'f', 'h', 'w4', 1, 1, 1), unary('kept', 'Sigmoid', 'h', 'hs'), mul('out', 'hs', 'h', 'y2'),
    { name: 'sum', op: 'Add', inputs: ['y2', 'h'], outputs: ['y'], attrs: {} },
  ]);
}

test('HardSwish after a single-use conv fuses into it (SiLU and Sigmoid stay steps); both backends match ONNX Runtime, and so does the fused graph exported', async (t) => {
  const bytes = toOnnx(gated());
  const x = new Tensor('float32', randomF32(rng(4), 3 * 10 * 10, -2, 2), [1, 3, 10, 10]);
  const ref = (await ortRun(bytes, { x }))['y']!;
  for (const backend of ['native', 'js'] as const) {
    const model = await load(bytes, { backend, threads: 2 });
    const fused = Object.fromEntries(model.graph.nodes.flatMap((n) => (n.op === 'Conv' && n.attrs.act ? [[n.name, n.attrs.act.op]] : [])));
    t.deepEqual(fused, { dw: 'HardSwish' });
    // Every x·Sigmoid(x) is one Silu step (project's output is also read by the Add).
    t.deepEqual(model.graph.nodes.filter((n) => n.op !== 'Conv').map((n) => n.op).sort(), ['Add', 'GlobalAveragePool', 'Mul', 'Sigmoid', 'Silu', 'Silu']);
    const y = (await model.run({ x }))['y']!;
    t.true(relativeToMax(y.data, ref) <= 1e-5, `${backend}: ${relativeToMax(y.data, ref)}`);
    const again = (await ortRun(toOnnx(model.graph), { x }))['y']!;
    t.true(relativeToMax(again, ref) <= 1e-5, `${backend} export: ${relativeToMax(again, ref)}`);
    await model.dispose();
  }
});

(rawAddon() ? test : test.skip)('conv2d refuses a bad p.act, naming it', (t) => {
  const call = conv2dWith();
  t.throws(call({ act: { fn: 'erf', alpha: 0, beta: 0 } }), { instanceOf: TypeError, message: /conv2dSync: expected one of 'sigmoid'.* for p\.act\.fn/ });
  t.throws(call({ act: { fn: 'silu', alpha: Number.NaN, beta: 0 } }), { instanceOf: TypeError, message: /p\.act\.alpha/ });
  t.throws(call({ act: { fn: 'silu', alpha: 0 } }), { instanceOf: TypeError, message: /p\.act\.beta/ });
  t.throws(call({ act: 'silu' }), { instanceOf: TypeError, message: /p\.act/ });
  t.throws(call({ act: { fn: 'silu', alpha: 0, beta: 0 }, relu: true }), { instanceOf: RangeError, message: /absent when p\.relu or p\.clip .* for p\.act/ });
  t.notThrows(call({ act: { fn: 'hardSwish', alpha: 1 / 6, beta: 0.5 } }));
});
