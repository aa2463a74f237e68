// GraphBuilder, shape inference and topological sort.
import test from 'ava';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../src/graph/layers.js';
import { Graph, GraphError, topoSort, inferShapes, checkGraph } from '../src/graph/graph.js';
import type { Node } from '../src/graph/graph.js';

function smallNet() {
  const b = new GraphBuilder({ seed: 7 });
  let x = b.input('input', [-1, 3, 17, 17]);
  x = b.relu(b.batchNorm(b.conv(x, { outChannels: 8, kernel: 3, stride: 2, pad: 1 })));
  const skip = x;
  x = b.conv(x, { outChannels: 8, kernel: [3, 1], pad: [1, 0], groups: 2, bias: true });
  x = b.relu(b.add(x, skip));
  x = b.maxPool(x, { kernel: 3, stride: 2, pad: 1, ceilMode: true });
  x = b.avgPool(x, { kernel: 2, stride: 1, pad: [0, 0, 1, 1], countIncludePad: true });
  x = b.globalAveragePool(x);
  x = b.flatten(x);
  x = b.gemm(x, { outFeatures: 5 });
  x = b.reshape(x, [0, 5, 1]);
  b.output(x, 'logits');
  return b.build('small');
}

test('builder: a hand-made net has the expected shapes and runs in ONNX Runtime', async (t) => {
  const g = smallNet();
  const s = checkGraph(g);
  t.deepEqual(s.get('conv_0'), [-1, 8, 9, 9]);
  t.deepEqual(s.get('maxpool_0'), [-1, 8, 5, 5]);
  t.deepEqual(s.get('avgpool_0'), [-1, 8, 5, 5]);
  t.deepEqual(s.get('logits'), [-1, 5, 1]);
  t.deepEqual(g.outputs, [{ name: 'logits', dims: [-1, 5, 1] }]);
  const session = await ort.InferenceSession.create(g.toOnnx());
  const out = await session.run({ input: new ort.Tensor('float32', new Float32Array(2 * 3 * 17 * 17).fill(0.5), [2, 3, 17, 17]) });
  t.deepEqual(out.logits!.dims, [2, 5, 1]);
});

test('builder: argument and shape errors are clear', (t) => {
  const b = new GraphBuilder();
  const x = b.input('x', [1, 4, 8, 8]);
  t.throws(() => b.conv(x, { outChannels: 4, kernel: 3, groups: 3 }), { instanceOf: RangeError, message: /divisible by groups/ });
  const y = b.conv(x, { outChannels: 6, kernel: 1 });
  t.throws(() => b.add(x, y), { instanceOf: GraphError, message: /same shape.*\[1, 4, 8, 8\].*\[1, 6, 8, 8\]/ });
  t.throws(() => b.conv(x, { outChannels: 2, kernel: 9 }), { instanceOf: GraphError, message: /empty/ });
  t.throws(() => b.gemm(x, { outFeatures: 3 }), { instanceOf: GraphError, message: /2-D input/ });
  t.throws(() => b.input('x', [1, 2]), { message: /already used/ });
  t.throws(() => b.input('z', [1, -1, 3]), { instanceOf: RangeError });
  t.throws(() => b.reshape(x, [5, -1]), { message: /cannot reshape/ });
  t.throws(() => new GraphBuilder().build(), { message: /no outputs/ });
});

test('shape inference: dynamic batch propagates; inputDims fixes it and rejects mismatches', (t) => {
  const g = smallNet();
  t.deepEqual(inferShapes(g).get('flatten_0'), [-1, 8]);
  t.deepEqual(inferShapes(g, { input: [4, 3, 17, 17] }).get('flatten_0'), [4, 8]);
  t.throws(() => inferShapes(g, { input: [4, 3, 16, 17] }), { message: /Input "input" expects shape \[N, 3, 17, 17\] but received \[4, 3, 16, 17\]/ });
});

test('topoSort: reorders shuffled nodes, rejects cycles and dangling inputs with node names', (t) => {
  const g = smallNet();
  const shuffled = new Graph({ ...g, nodes: [...g.nodes].reverse() });
  const order = topoSort(shuffled).map((n) => n.name);
  t.deepEqual(order, g.nodes.map((n) => n.name));
  const relu = (name: string, i: string, o: string): Node => ({ name, op: 'Relu', inputs: [i], outputs: [o], attrs: {} });
  const cyc = new Graph({
    inputs: [{ name: 'x', dims: [1, 2] }], outputs: [{ name: 'c', dims: [1, 2] }],
    nodes: [relu('A', 'x', 'a'), relu('B', 'c', 'b'), relu('C', 'b', 'c')],
  });
  t.throws(() => topoSort(cyc), { instanceOf: GraphError, message: /cycle.*"B" \(Relu\).*"C" \(Relu\)/ });
  const dangling = new Graph({ inputs: [{ name: 'x', dims: [1, 2] }], outputs: [{ name: 'a', dims: [1, 2] }], nodes: [relu('A', 'nope', 'a')] });
  t.throws(() => topoSort(dangling), { message: /"A" \(Relu\) reads "nope"/ });
  const twice = new Graph({ inputs: [{ name: 'x', dims: [1, 2] }], outputs: [{ name: 'a', dims: [1, 2] }], nodes: [relu('A', 'x', 'a'), relu('B', 'x', 'a')] });
  t.throws(() => topoSort(twice), { message: /produced more than once/ });
});

test('Reshape semantics: 0 copies, -1 infers, dynamic batch must stay in dim 0', (t) => {
  const b = new GraphBuilder();
  const x = b.input('x', [-1, 4, 3, 2]);
  t.deepEqual(b.dims(b.reshape(x, [0, -1])), [-1, 24]);
  t.deepEqual(b.dims(b.reshape(x, [-1, 12, 2])), [-1, 12, 2]);
  t.deepEqual(b.dims(b.reshape(x, [0, 0, -1])), [-1, 4, 6]);
  t.throws(() => b.reshape(x, [4, -1]), { message: /dynamic batch/ });
  const y = b.input('y', [2, 4, 3, 2]);
  t.deepEqual(b.dims(b.reshape(y, [-1, 6])), [8, 6]);
  t.throws(() => b.reshape(y, [-1, -1]), { message: /more than one -1/ });
});
