// The importer on hand-crafted ONNX models: every op form it claims to support,
// checked numerically as ORT(original) vs ORT(export(import(original))).
import test from 'ava';
import * as ort from 'onnxruntime-node';
import { fromOnnx } from '../src/onnx/import.js';
import { encodeRawModel, floatTensor, int64Tensor } from '../src/onnx/builder.js';
import type { RawModelSpec } from '../src/onnx/builder.js';
import { optimize } from '../src/graph/passes.js';
import { relativeToMax } from './helpers/ort.js';
import { rng, randomF32 } from './helpers/rng.js';

async function ortRun(bytes: Uint8Array, feeds: Record<string, { data: Float32Array; dims: number[] }>): Promise<Record<string, Float32Array>> {
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, graphOptimizationLevel: 'disabled' });
  try {
    const f: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) f[k] = new ort.Tensor('float32', v.data, v.dims);
    const out = await s.run(f);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
  } finally {
    await s.release();
  }
}

const r = rng(42);
const rand = (dims: number[]) => randomF32(r, dims.reduce((a, b) => a * b, 1));

/** Import the crafted model, re-export it (plain and optimized) and compare ORT outputs on both. */
async function roundTrip(t: import('ava').ExecutionContext, spec: RawModelSpec, feedDims: Record<string, number[]>, expectOps?: string[]) {
  const bytes = encodeRawModel(spec);
  const feeds = Object.fromEntries(Object.entries(feedDims).map(([k, d]) => [k, { data: rand(d), dims: d }]));
  const expected = await ortRun(bytes, feeds);
  const g = fromOnnx(bytes);
  if (expectOps) t.deepEqual(g.nodes.map((n) => n.op), expectOps);
  for (const gg of [g, optimize(g)]) {
    const got = await ortRun(gg.toOnnx(), feeds);
    for (const o of spec.outputs) {
      t.truthy(got[o.name], `output ${o.name} missing`);
      t.true(relativeToMax(got[o.name]!, expected[o.name]!) < 1e-5, `${o.name}: rel err ${relativeToMax(got[o.name]!, expected[o.name]!)}`);
    }
  }
  return g;
}

const W = (name: string, dims: number[], as: 'raw' | 'float_data' = 'raw') => floatTensor(name, dims, rand(dims), as);

test('Conv with float_data weights, bias, groups, dilations and explicit pads', async (t) => {
  await roundTrip(t, {
    opset: 9,
    inputs: [{ name: 'x', dims: [1, 4, 9, 9] }],
    outputs: [{ name: 'y' }],
    initializers: [W('w', [6, 2, 3, 3], 'float_data'), W('b', [6], 'float_data')],
    nodes: [{ op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { group: 2, dilations: [2, 1], pads: [1, 2, 0, 1], strides: [1, 2] } }],
  }, { x: [1, 4, 9, 9] }, ['Conv']);
});

for (const autoPad of ['SAME_UPPER', 'SAME_LOWER', 'VALID'] as const) {
  test(`Conv and MaxPool with auto_pad=${autoPad}, stride 2`, async (t) => {
    const g = await roundTrip(t, {
      opset: 11,
      inputs: [{ name: 'x', dims: [1, 3, 10, 10] }],
      outputs: [{ name: 'y' }],
      initializers: [W('w', [4, 3, 3, 3])],
      nodes: [
        { op: 'Conv', inputs: ['x', 'w'], outputs: ['c'], attrs: { auto_pad: autoPad, strides: [2, 2] } },
        { op: 'MaxPool', inputs: ['c'], outputs: ['y'], attrs: { auto_pad: autoPad, kernel_shape: [2, 2], strides: [2, 2] } },
      ],
    }, { x: [1, 3, 10, 10] });
    if (autoPad === 'SAME_UPPER') t.deepEqual((g.nodes[0]!.attrs as { pads: number[] }).pads, [0, 0, 1, 1]);
    if (autoPad === 'SAME_LOWER') t.deepEqual((g.nodes[0]!.attrs as { pads: number[] }).pads, [1, 1, 0, 0]);
  });
}

test('Identity, Dropout (opset 12, ratio input), Sum of three, Clip(min=0) as Relu', async (t) => {
  await roundTrip(t, {
    opset: 12,
    inputs: [{ name: 'x', dims: ['batch', 2, 5, 5] }],
    outputs: [{ name: 'y' }],
    initializers: [W('w', [2, 2, 3, 3]), floatTensor('ratio', [], [0.3]), floatTensor('zero', [], [0])],
    nodes: [
      { op: 'Identity', inputs: ['x'], outputs: ['i'] },
      { op: 'Conv', inputs: ['i', 'w'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'Dropout', inputs: ['c', 'ratio'], outputs: ['d'] },
      { op: 'Sum', inputs: ['d', 'x', 'i'], outputs: ['s'] },
      { op: 'Clip', inputs: ['s', 'zero'], outputs: ['r'] },
      { op: 'Identity', inputs: ['r'], outputs: ['y'] },
    ],
  }, { x: [3, 2, 5, 5] }, ['Conv', 'Add', 'Add', 'Relu']);
});

test('Clip opset 6 attribute form (min=0) as Relu; other bounds (ReLU6) as a Clip node', async (t) => {
  await roundTrip(t, {
    opset: 9,
    inputs: [{ name: 'x', dims: [1, 2, 3, 3] }],
    outputs: [{ name: 'y' }],
    nodes: [{ op: 'Clip', inputs: ['x'], outputs: ['y'], attrs: { min: { float: 0 } } }],
  }, { x: [1, 2, 3, 3] }, ['Relu']);
  const bytes = encodeRawModel({
    opset: 13, inputs: [{ name: 'x', dims: [1, 2] }], outputs: [{ name: 'y' }],
    initializers: [floatTensor('lo', [], [0]), floatTensor('hi', [], [6])],
    nodes: [{ op: 'Clip', name: 'relu6', inputs: ['x', 'lo', 'hi'], outputs: ['y'] }],
  });
  const clip = fromOnnx(bytes).nodes.find((n) => n.name === 'relu6');
  t.is(clip?.op, 'Clip');
  t.deepEqual(clip?.attrs, { alpha: 0, beta: 6 });
});

test('Constant nodes (tensor, value_ints) feed Conv weights and a Reshape shape (opset 13)', async (t) => {
  const wv = rand([2, 3, 1, 1]);
  await roundTrip(t, {
    opset: 13,
    inputs: [{ name: 'x', dims: ['N', 3, 4, 4] }],
    outputs: [{ name: 'y' }],
    nodes: [
      { op: 'Constant', inputs: [], outputs: ['w'], attrs: { value: { tensor: floatTensor('', [2, 3, 1, 1], wv) } } },
      { op: 'Constant', inputs: [], outputs: ['shape'], attrs: { value_ints: [0, -1] } },
      { op: 'Conv', inputs: ['x', 'w'], outputs: ['c'] },
      { op: 'Reshape', inputs: ['c', 'shape'], outputs: ['y'] },
    ],
  }, { x: [2, 3, 4, 4] }, ['Conv', 'Reshape']);
});

test('Reshape with an int64_data initializer shape and Flatten(axis=2)', async (t) => {
  await roundTrip(t, {
    opset: 9,
    inputs: [{ name: 'x', dims: [2, 3, 4, 4] }],
    outputs: [{ name: 'y' }, { name: 'z' }],
    initializers: [int64Tensor('shape', [3], [2, 12, 4], 'int64_data')],
    nodes: [
      { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] },
      { op: 'Flatten', inputs: ['x'], outputs: ['z'], attrs: { axis: 2 } },
    ],
  }, { x: [2, 3, 4, 4] });
});

test('Gemm transB=0 with alpha/beta and a broadcast bias; MatMul + Add bias becomes one Gemm', async (t) => {
  await roundTrip(t, {
    opset: 13,
    inputs: [{ name: 'x', dims: ['N', 6] }],
    outputs: [{ name: 'y' }, { name: 'z' }],
    initializers: [W('B', [6, 5]), W('C', [1, 5]), W('M', [6, 4]), W('bias', [4])],
    nodes: [
      { op: 'Gemm', inputs: ['x', 'B', 'C'], outputs: ['y'], attrs: { alpha: { float: 0.5 }, beta: { float: 2 } } },
      { op: 'MatMul', inputs: ['x', 'M'], outputs: ['m'] },
      { op: 'Add', inputs: ['bias', 'm'], outputs: ['z'] },
    ],
  }, { x: [3, 6] }, ['Gemm', 'Gemm']);
});

test('Gemm transB=1 with scalar C', async (t) => {
  await roundTrip(t, {
    opset: 11,
    inputs: [{ name: 'x', dims: [2, 6] }],
    outputs: [{ name: 'y' }],
    initializers: [W('B', [5, 6]), W('C', [1])],
    nodes: [{ op: 'Gemm', inputs: ['x', 'B', 'C'], outputs: ['y'], attrs: { transB: 1 } }],
  }, { x: [2, 6] });
});

test('Pad (opset 11, pads input) folds into the following Conv', async (t) => {
  await roundTrip(t, {
    opset: 11,
    inputs: [{ name: 'x', dims: [1, 2, 6, 6] }],
    outputs: [{ name: 'y' }],
    initializers: [int64Tensor('pads', [8], [0, 0, 1, 2, 0, 0, 2, 1]), W('w', [3, 2, 3, 3])],
    nodes: [
      { op: 'Pad', inputs: ['x', 'pads'], outputs: ['p'] },
      { op: 'Conv', inputs: ['p', 'w'], outputs: ['y'], attrs: { pads: [1, 0, 0, 1] } },
    ],
  }, { x: [1, 2, 6, 6] }, ['Conv']);
});

test('a Pad of all-zero pads is an identity (DenseNet), and a zero Pad before an AveragePool folds into it (Inception v3)', async (t) => {
  await roundTrip(t, {
    opset: 13,
    inputs: [{ name: 'x', dims: [1, 2, 6, 6] }],
    outputs: [{ name: 'y' }],
    initializers: [int64Tensor('pads', [8], [0, 0, 0, 0, 0, 0, 0, 0])],
    nodes: [
      { op: 'Pad', inputs: ['x', 'pads'], outputs: ['p'], attrs: { mode: 'reflect' } },
      { op: 'AveragePool', inputs: ['p'], outputs: ['y'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
    ],
  }, { x: [1, 2, 6, 6] }, ['AveragePool']);
  // A zero Pad before an AveragePool (Inception v3's branch pools) becomes the pool's own pads, counted.
  await roundTrip(t, {
    opset: 13,
    inputs: [{ name: 'x', dims: [1, 2, 6, 6] }],
    outputs: [{ name: 'y' }],
    initializers: [int64Tensor('pads', [8], [0, 0, 1, 2, 0, 0, 1, 0])],
    nodes: [
      { op: 'Pad', inputs: ['x', 'pads'], outputs: ['p'] },
      { op: 'AveragePool', inputs: ['p'], outputs: ['y'], attrs: { kernel_shape: [3, 3], strides: [1, 1] } },
    ],
  }, { x: [1, 2, 6, 6] }, ['AveragePool']);
  // Non-zero pads before a max pool (or a ceil-mode average pool) are still refused.
  const bytes = encodeRawModel({
    opset: 13, inputs: [{ name: 'x', dims: [1, 2, 6, 6] }], outputs: [{ name: 'y' }],
    initializers: [int64Tensor('pads', [8], [0, 0, 1, 0, 0, 0, 0, 0])],
    nodes: [{ op: 'Pad', inputs: ['x', 'pads'], outputs: ['p'] }, { op: 'MaxPool', inputs: ['p'], outputs: ['y'], attrs: { kernel_shape: [2, 2] } }],
  });
  t.throws(() => fromOnnx(bytes), { message: /only a constant zero Pad/ });
  const ceil = encodeRawModel({
    opset: 13, inputs: [{ name: 'x', dims: [1, 2, 6, 6] }], outputs: [{ name: 'y' }],
    initializers: [int64Tensor('pads', [8], [0, 0, 1, 0, 0, 0, 0, 0])],
    nodes: [{ op: 'Pad', inputs: ['x', 'pads'], outputs: ['p'] }, { op: 'AveragePool', inputs: ['p'], outputs: ['y'], attrs: { kernel_shape: [2, 2], ceil_mode: 1 } }],
  });
  t.throws(() => fromOnnx(ceil), { message: /only a constant zero Pad/ });
});

test('ReduceMean over H,W: keepdims attr (opset 13) and axes input (opset 18)', async (t) => {
  await roundTrip(t, {
    opset: 13,
    inputs: [{ name: 'x', dims: [2, 3, 4, 5] }],
    outputs: [{ name: 'y' }, { name: 'z' }],
    nodes: [
      { op: 'ReduceMean', inputs: ['x'], outputs: ['y'], attrs: { axes: [2, 3], keepdims: 1 } },
      { op: 'ReduceMean', inputs: ['x'], outputs: ['z'], attrs: { axes: [-1, -2], keepdims: 0 } },
    ],
  }, { x: [2, 3, 4, 5] });
  await roundTrip(t, {
    opset: 18,
    inputs: [{ name: 'x', dims: [2, 3, 4, 5] }],
    outputs: [{ name: 'z' }],
    initializers: [int64Tensor('axes', [2], [2, 3])],
    nodes: [{ op: 'ReduceMean', inputs: ['x', 'axes'], outputs: ['z'], attrs: { keepdims: 0 } }],
  }, { x: [2, 3, 4, 5] });
});

test('AveragePool count_include_pad and ceil_mode; MaxPool ceil_mode with dilations (opset 10+)', async (t) => {
  for (const cip of [0, 1]) {
    await roundTrip(t, {
      opset: 10,
      inputs: [{ name: 'x', dims: [1, 2, 7, 7] }],
      outputs: [{ name: 'y' }, { name: 'z' }],
      nodes: [
        { op: 'AveragePool', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: cip, ceil_mode: 1 } },
        { op: 'MaxPool', inputs: ['x'], outputs: ['z'], attrs: { kernel_shape: [2, 2], strides: [2, 2], dilations: [2, 2], ceil_mode: 1 } },
      ],
    }, { x: [1, 2, 7, 7] });
  }
});

test('BatchNormalization (opset 9 and 15) on 4-D and 2-D input, unfused', async (t) => {
  for (const opset of [9, 15]) {
    const g = await roundTrip(t, {
      opset,
      inputs: [{ name: 'x', dims: ['N', 3, 4, 4] }],
      outputs: [{ name: 'y' }, { name: 'z' }],
      initializers: [
        floatTensor('s', [3], [0.5, 1.5, 2]), floatTensor('b', [3], [0.1, -0.2, 0.3]),
        floatTensor('m', [3], [0.3, -0.1, 0.2]), floatTensor('v', [3], [0.7, 1.3, 2.5]),
      ],
      nodes: [
        { op: 'BatchNormalization', inputs: ['x', 's', 'b', 'm', 'v'], outputs: ['y'], attrs: { epsilon: { float: 1e-3 } } },
        { op: 'GlobalAveragePool', inputs: ['y'], outputs: ['gap'] },
        { op: 'Flatten', inputs: ['gap'], outputs: ['f'] },
        { op: 'BatchNormalization', inputs: ['f', 's', 'b', 'm', 'v'], outputs: ['z'] },
      ],
    }, { x: [2, 3, 4, 4] });
    t.is(g.nodes.filter((n) => n.op === 'BatchNormalization').length, 2);
    t.deepEqual(optimize(g).nodes.map((n) => n.op), ['Conv', 'GlobalAveragePool', 'Flatten', 'Gemm']);
  }
});

test('Dynamic batch: the dim_param survives import and export, and batch 1 and 3 both run', async (t) => {
  const spec: RawModelSpec = {
    opset: 13,
    inputs: [{ name: 'x', dims: ['N', 2, 4, 4] }],
    outputs: [{ name: 'y', dims: ['N', 3] }],
    initializers: [W('w', [3, 2, 1, 1]), W('fc', [3, 3])],
    nodes: [
      { op: 'Conv', inputs: ['x', 'w'], outputs: ['c'] },
      { op: 'GlobalAveragePool', inputs: ['c'], outputs: ['g'] },
      { op: 'Flatten', inputs: ['g'], outputs: ['f'] },
      { op: 'Gemm', inputs: ['f', 'fc'], outputs: ['y'], attrs: { transB: 1 } },
    ],
  };
  const g = fromOnnx(encodeRawModel(spec));
  t.deepEqual(g.inputs[0]!.dims, [-1, 2, 4, 4]);
  t.deepEqual(g.outputs[0]!.dims, [-1, 3]);
  for (const n of [1, 3]) await roundTrip(t, spec, { x: [n, 2, 4, 4] });
});

test('IR version 3 model that lists initializers among its inputs', async (t) => {
  const bytes = encodeRawModel({
    opset: 9, irVersion: 3,
    inputs: [{ name: 'x', dims: [1, 2, 3, 3] }, { name: 'w', dims: [2, 2, 1, 1] }],
    outputs: [{ name: 'y' }],
    initializers: [W('w', [2, 2, 1, 1])],
    nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'] }],
  });
  const g = fromOnnx(bytes);
  t.deepEqual(g.inputs.map((i) => i.name), ['x']);
  t.deepEqual(g.outputs[0]!.dims, [1, 2, 3, 3]);
});

test('a graph output that copies an input or another output becomes an explicit copy', async (t) => {
  const g = await roundTrip(t, {
    opset: 13,
    inputs: [{ name: 'x', dims: ['N', 3, 2] }],
    outputs: [{ name: 'y' }, { name: 'r' }, { name: 'r2' }],
    nodes: [
      { op: 'Identity', inputs: ['x'], outputs: ['y'] },
      { op: 'Relu', inputs: ['x'], outputs: ['r'] },
      { op: 'Dropout', inputs: ['r'], outputs: ['r2'] },
    ],
  }, { x: [2, 3, 2] });
  t.deepEqual(g.outputs.map((o) => o.dims), [[-1, 3, 2], [-1, 3, 2], [-1, 3, 2]]);
});

test('constants option binds graph inputs (ONNX node-test style) and decodeTensorProto reads .pb tensors', async (t) => {
  const { TensorProto } = await import('../src/onnx/proto.js');
  const { decodeTensorProto } = await import('../src/onnx/import.js');
  const w = floatTensor('w', [2, 3, 1, 1], [1, 2, 3, 4, 5, 6]);
  const decoded = decodeTensorProto(TensorProto.encode(w as never).finish());
  t.deepEqual(decoded, { name: 'w', dims: [2, 3, 1, 1], data: Float32Array.from([1, 2, 3, 4, 5, 6]) });
  const shape = decodeTensorProto(TensorProto.encode(int64Tensor('s', [2], [1, -1]) as never).finish());
  t.deepEqual(shape.data, [1, -1]);
  const bytes = encodeRawModel({
    opset: 13,
    inputs: [{ name: 'x', dims: [1, 3, 2, 2] }, { name: 'w', dims: [2, 3, 1, 1] }, { name: 's', dims: [2] , elemType: 7 }],
    outputs: [{ name: 'y' }],
    nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['c'] }, { op: 'Reshape', inputs: ['c', 's'], outputs: ['y'] }],
  });
  t.throws(() => fromOnnx(bytes), { message: /weight \(input 1 "w"\) must be a constant/ });
  const g = fromOnnx(bytes, { constants: { w: decoded, s: shape } });
  t.deepEqual(g.inputs.map((i) => i.name), ['x']);
  t.deepEqual(g.outputs[0]!.dims, [1, 8]);
  t.throws(() => fromOnnx(bytes, { constants: { nope: decoded } }), { instanceOf: RangeError });
});

test('opset 1 GlobalAveragePool and opset 6 BatchNormalization attributes load', async (t) => {
  await roundTrip(t, {
    opset: 1,
    inputs: [{ name: 'x', dims: [1, 3, 4, 4] }],
    outputs: [{ name: 'y' }],
    nodes: [{ op: 'GlobalAveragePool', inputs: ['x'], outputs: ['y'] }],
  }, { x: [1, 3, 4, 4] });
  const bn = (isTest: number, spatial: number) => encodeRawModel({
    opset: 6, inputs: [{ name: 'x', dims: [1, 2, 2, 2] }], outputs: [{ name: 'y' }],
    initializers: ['s', 'b', 'm', 'v'].map((n) => floatTensor(n, [2], [1, 1])),
    nodes: [{ op: 'BatchNormalization', name: 'bn', inputs: ['x', 's', 'b', 'm', 'v'], outputs: ['y'], attrs: { is_test: isTest, spatial } }],
  });
  t.is(fromOnnx(bn(1, 1)).nodes[0]!.op, 'BatchNormalization');
  t.throws(() => fromOnnx(bn(1, 0)), { message: /spatial=0/ });
});
