// resnet() builds torchvision's architectures: parameter counts, shapes, and
// exports that ONNX Runtime loads and runs at batch 1 and 3.
import test from 'ava';
import * as ort from 'onnxruntime-node';
import { resnet } from '../src/graph/resnet.js';
import type { ResNetDepth } from '../src/graph/resnet.js';
import { checkGraph } from '../src/graph/graph.js';
import type { Graph } from '../src/graph/graph.js';
import { optimize } from '../src/graph/passes.js';
import { relativeToMax } from './helpers/ort.js';
import { rng, randomF32 } from './helpers/rng.js';

// torchvision.models.resnetXX(num_classes=1000): sum(p.numel() for p in m.parameters())
const TORCHVISION_PARAMS: Record<ResNetDepth, number> = { 18: 11_689_512, 34: 21_797_672, 50: 25_557_032, 101: 44_549_160, 152: 60_192_808 };
// Same without the downsample convs and their BN (plain: true).
function plainParams(g: Graph, depth: ResNetDepth): number {
  let p = TORCHVISION_PARAMS[depth];
  for (const [name, t] of g.initializers) if (name.includes('downsample') && !/running_(mean|var)/.test(name)) p -= t.data.length;
  return p;
}

for (const depth of [18, 34, 50, 101, 152] as const) {
  test.serial(`resnet${depth}: torchvision's parameter count and output shape`, (t) => {
    const g = resnet({ depth });
    t.is(g.parameterCount(), TORCHVISION_PARAMS[depth]);
    const shapes = checkGraph(g);
    t.deepEqual(g.inputs, [{ name: 'input', dims: [-1, 3, 224, 224] }]);
    t.deepEqual(shapes.get('output'), [-1, 1000]);
    t.deepEqual(g.shapes({ input: [3, 3, 224, 224] }).get('output'), [3, 1000]);
    const convs = g.nodes.filter((n) => n.op === 'Conv').length;
    const blocks = { 18: 8, 34: 16, 50: 16, 101: 33, 152: 50 }[depth];
    t.is(convs, 1 + blocks * (depth < 50 ? 2 : 3) + 4 - (depth < 50 ? 1 : 0)); // stem + blocks + projections
    const plain = resnet({ depth, plain: true });
    t.is(plain.parameterCount(), plainParams(g, depth));
    t.is(plain.nodes.filter((n) => n.op === 'Add').length, 0);
    t.is(g.nodes.filter((n) => n.op === 'Add').length, blocks);
  });
}

test('resnet50 at 1000 classes has ≈25.6 M parameters; bottleneck stride sits on the 3×3', (t) => {
  const g = resnet({ depth: 50 });
  t.true(Math.abs(g.parameterCount() / 1e6 - 25.6) < 0.05);
  const conv = (name: string) => g.nodes.find((n) => n.name === name)!;
  t.deepEqual((conv('layer2.0.conv1').attrs as { strides: number[] }).strides, [1, 1]);
  t.deepEqual((conv('layer2.0.conv2').attrs as { strides: number[] }).strides, [2, 2]);
  t.deepEqual((conv('layer2.0.downsample.0').attrs as { strides: number[] }).strides, [2, 2]);
  t.deepEqual(g.initializers.get('layer1.0.conv3.weight')!.dims, [256, 64, 1, 1]);
  t.deepEqual(g.initializers.get('layer1.0.downsample.0.weight')!.dims, [256, 64, 1, 1]);
  t.deepEqual(g.initializers.get('fc.weight')!.dims, [1000, 2048]);
});

test('options: width, numClasses, inChannels, inputSize, batch; seeds are deterministic', (t) => {
  const g = resnet({ depth: 18, width: 16, numClasses: 7, inChannels: 1, inputSize: [64, 48], batch: 2, seed: 5 });
  t.deepEqual(g.inputs[0]!.dims, [2, 1, 64, 48]);
  const s = checkGraph(g);
  t.deepEqual(s.get('output'), [2, 7]);
  t.deepEqual(s.get('layer4.1.relu'), [2, 128, 2, 2]);
  const a = resnet({ depth: 18, width: 8, seed: 1 }).initializers.get('conv1.weight')!.data;
  const b = resnet({ depth: 18, width: 8, seed: 1 }).initializers.get('conv1.weight')!.data;
  const c = resnet({ depth: 18, width: 8, seed: 2 }).initializers.get('conv1.weight')!.data;
  t.deepEqual(a, b);
  t.notDeepEqual(a, c);
  // He init (fan_out): std ≈ sqrt(2 / (8·7·7)) = 0.202
  const w = resnet({ depth: 18, seed: 3 }).initializers.get('layer1.0.conv1.weight')!.data;
  const std = Math.sqrt(w.reduce((acc, v) => acc + v * v, 0) / w.length);
  t.true(Math.abs(std - Math.sqrt(2 / (64 * 9))) < 0.003, `std ${std}`);
  const mean = g.initializers.get('bn1.running_mean')!.data;
  t.true(mean.some((v) => v !== 0));
  t.throws(() => resnet({ depth: 20 as ResNetDepth }), { instanceOf: RangeError, message: /depth 18, 34, 50, 101 or 152/ });
  t.throws(() => resnet({ depth: 18, width: 0 }), { instanceOf: RangeError, message: /width/ });
});

async function run(bytes: Uint8Array, x: Float32Array, dims: number[]): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 2 });
  try {
    const out = await s.run({ input: new ort.Tensor('float32', x, dims) });
    return out.output!.data as Float32Array;
  } finally {
    await s.release();
  }
}

for (const depth of [18, 34, 50, 101] as const) {
  for (const plain of [false, true]) {
    test.serial(`resnet${depth}${plain ? ' plain' : ''}: export runs in ONNX Runtime at batch 1 and 3; optimized export agrees`, async (t) => {
      const g = resnet({ depth, plain, seed: depth });
      const bytes = g.toOnnx();
      const r = rng(depth);
      const x3 = randomF32(r, 3 * 3 * 224 * 224);
      const y3 = await run(bytes, x3, [3, 3, 224, 224]);
      t.is(y3.length, 3000);
      t.true(y3.every(Number.isFinite));
      t.true(Math.max(...y3.map(Math.abs)) > 1e-3, 'logits are not all ~0');
      // batch 1 = first row of batch 3
      const y1 = await run(bytes, x3.subarray(0, 3 * 224 * 224), [1, 3, 224, 224]);
      t.true(relativeToMax(y1, y3.subarray(0, 1000)) < 1e-5);
      // BN folded + fused graph, expanded back on export, gives the same logits.
      const y3opt = await run(optimize(g).toOnnx(), x3, [3, 3, 224, 224]);
      const err = relativeToMax(y3opt, y3);
      t.true(err < 1e-4, `optimized vs unoptimized: ${err}`);
    });
  }
}
