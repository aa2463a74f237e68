// Graph → ONNX: what the exporter writes, and import(export(g)) round trips.
import test from 'ava';
import * as ort from 'onnxruntime-node';
import { resnet } from '../src/graph/resnet.js';
import { GraphBuilder } from '../src/graph/layers.js';
import { optimize } from '../src/graph/passes.js';
import { fromOnnx } from '../src/onnx/import.js';
import { toOnnx, EXPORT_OPSET, EXPORT_IR_VERSION } from '../src/onnx/export.js';
import { ModelProto, toNum } from '../src/onnx/proto.js';
import type { ModelProtoLike } from '../src/onnx/proto.js';
import type { Graph } from '../src/graph/graph.js';

function structure(g: Graph) {
  // ONNX stores FLOAT attributes (BN epsilon) as float32.
  const attrs = (a: object) => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, typeof v === 'number' && !Number.isInteger(v) ? Math.fround(v) : v]));
  return g.nodes.map((n) => ({ op: n.op, inputs: n.inputs.filter((i) => i !== ''), outputs: n.outputs, attrs: attrs(n.attrs) }));
}

test('export writes opset 13, IR 8, a symbolic batch and raw float data', (t) => {
  const g = resnet({ depth: 18, width: 8, numClasses: 10, inputSize: 32 });
  const m = ModelProto.decode(g.toOnnx()) as unknown as ModelProtoLike;
  t.is(toNum(m.irVersion), EXPORT_IR_VERSION);
  t.is(EXPORT_IR_VERSION, 8);
  t.deepEqual(m.opsetImport!.map((o) => [o.domain ?? '', toNum(o.version)]), [['', EXPORT_OPSET]]);
  t.is(EXPORT_OPSET, 13);
  const dims = m.graph!.input![0]!.type!.tensorType!.shape!.dim!;
  t.is(dims[0]!.dimParam, 'N');
  t.deepEqual(dims.slice(1).map((d) => toNum(d.dimValue)), [3, 32, 32]);
  t.true(m.graph!.initializer!.every((i) => i.rawData!.length === 4 * i.dims!.reduce<number>((a, b) => a * toNum(b), 1)));
});

test('import(export(g)) round-trips structure and weights exactly (plain and fused graphs)', (t) => {
  const g = resnet({ depth: 50, width: 8, numClasses: 10, inputSize: 32, seed: 9 });
  const back = fromOnnx(g.toOnnx());
  t.deepEqual(structure(back), structure(g));
  t.deepEqual(back.inputs, g.inputs);
  t.deepEqual(back.outputs, g.outputs);
  t.is(back.initializers.size, g.initializers.size);
  for (const [k, v] of g.initializers) t.deepEqual(back.initializers.get(k), v, k);
  // Fused nodes expand to Conv+Add+Relu on export and fuse again after import + optimize.
  const o = optimize(g);
  const bytes = o.toOnnx();
  const ops = (ModelProto.decode(bytes) as unknown as ModelProtoLike).graph!.node!.map((n) => n.opType);
  t.is(ops.filter((x) => x === 'Add').length, 16);
  t.is(ops.filter((x) => x === 'BatchNormalization').length, 0);
  const again = optimize(fromOnnx(bytes));
  t.deepEqual(again.nodes.map((n) => n.op), o.nodes.map((n) => n.op));
  t.deepEqual(again.nodes.map((n) => n.attrs), o.nodes.map((n) => n.attrs));
});

test('export of every builder op round-trips, including Reshape and AveragePool flags', (t) => {
  const b = new GraphBuilder({ seed: 1 });
  let x = b.input('x', [2, 3, 9, 9]);
  x = b.maxPool(x, { kernel: 3, stride: 2, ceilMode: true, dilation: 1 });
  x = b.avgPool(x, { kernel: 2, pad: [1, 1, 0, 0], countIncludePad: true, ceilMode: true });
  x = b.relu(b.add(x, x));
  x = b.reshape(x, [2, -1]);
  b.output(b.gemm(x, { outFeatures: 3, bias: false }));
  const g = b.build();
  t.deepEqual(structure(fromOnnx(g.toOnnx())), structure(g));
});

test('extraOutputs exposes intermediate values to ONNX Runtime (for layer-wise validation)', async (t) => {
  const g = optimize(resnet({ depth: 18, width: 8, numClasses: 4, inputSize: 32 }));
  const names = g.nodes.map((n) => n.outputs[0]!);
  const s = await ort.InferenceSession.create(toOnnx(g, { extraOutputs: names }));
  t.deepEqual([...s.outputNames].sort(), [...names].sort());
  const out = await s.run({ input: new ort.Tensor('float32', new Float32Array(3 * 32 * 32).fill(1), [1, 3, 32, 32]) });
  t.deepEqual(out['layer1.0.relu']!.dims, [1, 8, 8, 8]);
  t.throws(() => toOnnx(g, { extraOutputs: ['fc.weight'] }), { message: /not an activation/ });
});
