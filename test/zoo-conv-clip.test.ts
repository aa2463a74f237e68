// Clip (ReLU6, and any other bounds) fused into the conv before it by the
// planner (fuseConvClip): which Clips fuse, that a model with them matches ONNX
// Runtime on both backends, that the fused graph exports back to an ONNX file
// ORT runs to the same answer, and that the addon refuses a bad p.clip by name.
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

/**
 * An inverted-residual block: conv 3×3 → ReLU6 → depthwise 3×3/2 → Clip(-1, 2) →
 * 1×1 → Clip(−∞, 0.5); then a Clip after an Add (no conv before it) and one
 * whose conv output is also read elsewhere: those two stay Clip steps.
 */
function block(): Graph {
  const r = rng(5);
  const w = (name: string, dims: number[]) => [name, { dims, data: randomF32(r, dims.reduce((p, q) => p * q, 1)) }] as const;
  return new Graph({
    inputs: [{ name: 'x', dims: [1, 4, 9, 11] }],
    outputs: [{ name: 'y', dims: [] }],
    initializers: new Map([w('w1', [16, 4, 3, 3]), w('w2', [16, 1, 3, 3]), w('w3', [8, 16, 1, 1]), w('w4', [8, 8, 1, 1])]),
    nodes: [
      conv('expand', 'x', 'a', 'w1', 3, 1, 1), clip('relu6', 'a', 'b', 0, 6),
      conv('dw', 'b', 'c', 'w2', 3, 2, 16), clip('clipDw', 'c', 'd', -1, 2),
      conv('project', 'd', 'e', 'w3', 1, 1, 1), clip('cap', 'e', 'f', -Infinity, 0.5),
      conv('shared', 'f', 'g', 'w4', 1, 1, 1), clip('sharedClip', 'g', 'h', 0, 1),
      { name: 'sum', op: 'Add', inputs: ['h', 'g'], outputs: ['s'], attrs: {} }, clip('afterAdd', 's', 'y', -0.25, 0.75),
    ],
  });
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

(rawAddon() ? test : test.skip)('conv2d refuses a bad p.clip, naming it', (t) => {
  const b = nativeBinding();
  const packed = b.packConv2d(new Float32Array(4 * 4 * 9), null, 4, 4, 3, 3, 1);
  const p = { inputDims: [1, 4, 8, 8], cOut: 4, kh: 3, kw: 3, groups: 1, strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], outDims: [8, 8], relu: false, threads: 1 };
  const x = new Float32Array(256), y = new Float32Array(256);
  const call = (extra: object) => () => b.conv2dSync(packed, x, null, y, { ...p, ...extra } as never);
  t.throws(call({ clip: [6, 0] }), { instanceOf: RangeError, message: /conv2dSync: expected .*min <= max.* for p\.clip/ });
  t.throws(call({ clip: [Number.NaN, 1] }), { instanceOf: RangeError, message: /p\.clip/ });
  t.throws(call({ clip: [0] }), { instanceOf: TypeError, message: /p\.clip/ });
  t.throws(call({ clip: 'relu6' }), { instanceOf: TypeError, message: /p\.clip/ });
  t.throws(call({ clip: [0, 6], relu: true }), { instanceOf: RangeError, message: /conv2dSync: expected absent when p\.relu is true .* for p\.clip/ });
  t.notThrows(call({ clip: [-Infinity, Infinity] }));
});
