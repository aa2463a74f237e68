// Shape subgraphs folded per input shape, the decomposed LayerNorm matched into one node, and
// MatMul over the last axis of an N-D tensor: hand-built ONNX models (src/onnx/builder.ts),
// checked against float64 loops and ONNX Runtime at several input shapes.
import test from 'ava';
import { encodeRawModel, floatTensor, int64Tensor, type RawNodeSpec } from '../src/onnx/builder.js';
import { load, OnnxImportError, Tensor } from '../src/index.js';
import { fromOnnx } from '../src/onnx/import.js';
import { ortRun, relativeToMax } from './helpers/ort.js';
import { randomF32, rng } from './helpers/rng.js';

const BACKENDS = ['native', 'js'] as const;

function tensor(dims: number[], seed: number): Tensor {
  return new Tensor(randomF32(rng(seed), dims.reduce((a, b) => a * b, 1)), dims);
}

const gatherDim = (from: string, i: number, out: string): RawNodeSpec[] => [
  { op: 'Constant', inputs: [], outputs: [`${out}/i`], attrs: { value: { tensor: int64Tensor('', [], [i]) } } },
  { op: 'Gather', inputs: [from, `${out}/i`], outputs: [out], attrs: { axis: 0 } },
];

/**
 * y = Reshape(x, [N, C, H·W]) with N, H, W read off x by Shape/Gather (H·W by an int64 Mul),
 * then z = Slice(y, 0, (H·W) / 2, axis 2): what torch writes for x.view(n, c, h * w)[..., : h * w // 2].
 */
function shapeModel(dims: (number | string)[], opset: number): Uint8Array {
  const unsq = (v: string): RawNodeSpec => (opset >= 13
    ? { op: 'Unsqueeze', inputs: [v, 'zero_axis'], outputs: [`${v}/u`] }
    : { op: 'Unsqueeze', inputs: [v], outputs: [`${v}/u`], attrs: { axes: [0] } });
  return encodeRawModel({
    opset,
    inputs: [{ name: 'x', dims }],
    outputs: [{ name: 'z' }],
    initializers: [int64Tensor('zero_axis', [1], [0]), int64Tensor('c', [1], [dims[1] as number]), int64Tensor('two', [], [2]), int64Tensor('starts', [1], [0]), int64Tensor('axis2', [1], [2])],
    nodes: [
      { op: 'Shape', inputs: ['x'], outputs: ['s'] },
      ...gatherDim('s', 0, 'n'), ...gatherDim('s', 2, 'h'), ...gatherDim('s', 3, 'w'),
      { op: 'Mul', inputs: ['h', 'w'], outputs: ['hw'] },
      unsq('n'), unsq('hw'),
      { op: 'Concat', inputs: ['n/u', 'c', 'hw/u'], outputs: ['shape'], attrs: { axis: 0 } },
      { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'], name: 'reshape' },
      { op: 'Div', inputs: ['hw', 'two'], outputs: ['half'] },
      unsq('half'),
      { op: 'Cast', inputs: ['half/u'], outputs: ['end'], attrs: { to: 7 } },
      { op: 'Slice', inputs: ['y', 'starts', 'end', 'axis2'], outputs: ['z'], name: 'slice' },
    ],
  });
}

/** The float64 reference of shapeModel: the first floor(H·W / 2) values of each (n, c) row. */
function shapeReference(x: Tensor): { dims: number[]; data: Float32Array } {
  const [n, c, h, w] = x.dims as [number, number, number, number];
  const half = Math.trunc((h * w) / 2);
  const out = new Float32Array(n * c * half);
  for (let r = 0; r < n * c; r++) for (let k = 0; k < half; k++) out[r * half + k] = x.data[r * h * w + k]!;
  return { dims: [n, c, half], data: out };
}

for (const opset of [11, 13]) {
  test(`a shape subgraph with dynamic N/H/W folds per input shape (opset ${opset}), on native and JS, and exports back for ONNX Runtime`, async (t) => {
    const bytes = shapeModel(['N', 3, 'H', 'W'], opset);
    const g = fromOnnx(bytes);
    // No shape op is left as a node: the Reshape and Slice carry what they compute.
    t.deepEqual(g.nodes.map((n) => n.op), ['Reshape', 'Slice']);
    const reshape = g.nodes[0]!;
    t.true(reshape.op === 'Reshape' && reshape.attrs.shapeExpr !== undefined);
    for (const backend of BACKENDS) {
      const model = await load(bytes, { backend });
      for (const [k, dims] of [[1, 3, 4, 6], [2, 3, 5, 3], [3, 3, 7, 1]].entries()) {
        const x = tensor(dims, k + 1);
        const z = (await model.run({ x }))['z']!;
        const ref = shapeReference(x);
        t.deepEqual([...z.dims], ref.dims, `${backend} ${dims}`);
        t.deepEqual([...z.data], [...ref.data], `${backend} ${dims}`);
        if (backend === 'native') {
          // The graph written back (DimExprs as Shape/Gather/Mul/Div/Concat) runs in ONNX Runtime.
          const ort = (await ortRun(model.graph.toOnnx(), { x }))['z']!;
          t.deepEqual([...ort], [...ref.data], `ORT on the exported graph at ${dims}`);
        }
      }
      await model.dispose();
    }
  });
}

test('with static dims the same subgraph folds to constants when the model loads', (t) => {
  const g = fromOnnx(shapeModel([2, 3, 4, 6], 13));
  const [reshape, slice] = g.nodes;
  t.true(reshape?.op === 'Reshape' && reshape.attrs.shapeExpr === undefined);
  t.deepEqual(reshape?.op === 'Reshape' ? reshape.attrs.shape : null, [2, 3, 24]);
  t.deepEqual(slice?.op === 'Slice' ? slice.attrs.ends : null, [12]);
  t.deepEqual(g.nodes.map((n) => n.inputs.length), [1, 1]); // no value kept alive for its dims
  t.deepEqual(g.outputs[0]!.dims, [2, 3, 12]);
});

test('shape values that cannot be folded end in an OnnxImportError naming the node', (t) => {
  const x = [{ name: 'x', dims: ['N', 3, 4, 4] as (number | string)[] }];
  const cases: { nodes: RawNodeSpec[]; message: RegExp }[] = [
    // A Cast of a shape value to float: not an integer shape operation.
    { nodes: [{ op: 'Shape', inputs: ['x'], outputs: ['s'] }, { op: 'Cast', inputs: ['s'], outputs: ['f'], attrs: { to: 1 }, name: 'tofloat' },
      { op: 'Reshape', inputs: ['x', 'f'], outputs: ['y'] }], message: /node "tofloat" \(Cast\): a cast of a shape value to data type 1/ },
    // ConstantOfShape of a dynamic shape: its size is unknown until the batch is.
    { nodes: [{ op: 'Shape', inputs: ['x'], outputs: ['s'] }, { op: 'ConstantOfShape', inputs: ['s'], outputs: ['k'], name: 'cos' },
      { op: 'Reshape', inputs: ['x', 'k'], outputs: ['y'] }], message: /node "cos" \(ConstantOfShape\): shape must be known when the model loads/ },
    // A Gather out of range.
    { nodes: [{ op: 'Shape', inputs: ['x'], outputs: ['s'] }, ...gatherDim('s', 7, 'g').map((n, i) => (i === 1 ? { ...n, name: 'far' } : n)),
      { op: 'Unsqueeze', inputs: ['g'], outputs: ['gu'], attrs: { axes: [0] } }, { op: 'Reshape', inputs: ['x', 'gu'], outputs: ['y'] }], message: /node "far" \(Gather\): index 7 is out of range for 4 values/ },
    // A Gather from an activation is a data op resnode does not have.
    { nodes: [...gatherDim('x', 0, 'y').map((n, i) => (i === 1 ? { ...n, name: 'rows' } : n))], message: /Gather \(node "rows"\)/ },
  ];
  for (const c of cases) {
    const bytes = encodeRawModel({ opset: 11, inputs: x, outputs: [{ name: 'y' }], nodes: c.nodes });
    const err = t.throws(() => fromOnnx(bytes), { instanceOf: OnnxImportError });
    t.regex(err?.message ?? '', c.message);
  }
});

/** torch 1.13's LayerNorm over the last axis, decomposed; `change` alters one piece of the chain. */
function layerNormModel(c: number, change: { axes?: number[]; exponent?: number; meanIsOutput?: boolean } = {}): Uint8Array {
  const r = rng(7);
  return encodeRawModel({
    opset: 13,
    inputs: [{ name: 'x', dims: [2, 5, c] }],
    outputs: [{ name: 'y' }, ...(change.meanIsOutput ? [{ name: 'mean' }] : [])],
    initializers: [floatTensor('gamma', [c], randomF32(r, c, 0.5, 1.5)), floatTensor('beta', [c], randomF32(r, c))],
    nodes: [
      { op: 'ReduceMean', inputs: ['x'], outputs: ['mean'], attrs: { axes: change.axes ?? [-1] } },
      { op: 'Sub', inputs: ['x', 'mean'], outputs: ['d'] },
      { op: 'Constant', inputs: [], outputs: ['two'], attrs: { value: { tensor: floatTensor('', [], [change.exponent ?? 2]) } } },
      { op: 'Pow', inputs: ['d', 'two'], outputs: ['d2'] },
      { op: 'ReduceMean', inputs: ['d2'], outputs: ['var'], attrs: { axes: change.axes ?? [-1] } },
      { op: 'Constant', inputs: [], outputs: ['eps'], attrs: { value: { tensor: floatTensor('', [], [1e-6]) } } },
      { op: 'Add', inputs: ['var', 'eps'], outputs: ['ve'] },
      { op: 'Sqrt', inputs: ['ve'], outputs: ['sd'] },
      { op: 'Div', inputs: ['d', 'sd'], outputs: ['n'] },
      { op: 'Mul', inputs: ['n', 'gamma'], outputs: ['ng'] },
      { op: 'Add', inputs: ['ng', 'beta'], outputs: ['y'] },
    ],
  });
}

test('a decomposed LayerNorm over the last axis imports as one LayerNormalization and matches a float64 reference', async (t) => {
  const c = 24;
  const bytes = layerNormModel(c);
  const g = fromOnnx(bytes);
  t.deepEqual(g.nodes.map((n) => n.op), ['LayerNormalization']);
  const ln = g.nodes[0]!;
  t.true(ln.op === 'LayerNormalization' && ln.attrs.epsilon === Math.fround(1e-6) && ln.attrs.axis === -1);
  const x = tensor([2, 5, c], 3);
  const gamma = g.initializers.get(ln.inputs[1]!)!.data, beta = g.initializers.get(ln.inputs[2]!)!.data;
  const ref = new Float32Array(x.size);
  for (let row = 0; row < 10; row++) {
    let mean = 0, v = 0;
    for (let k = 0; k < c; k++) mean += x.data[row * c + k]! / c;
    for (let k = 0; k < c; k++) v += (x.data[row * c + k]! - mean) ** 2 / c;
    for (let k = 0; k < c; k++) ref[row * c + k] = ((x.data[row * c + k]! - mean) / Math.sqrt(v + Math.fround(1e-6))) * gamma[k]! + beta[k]!;
  }
  for (const backend of BACKENDS) {
    const model = await load(bytes, { backend });
    const y = (await model.run({ x }))['y']!;
    await model.dispose();
    t.true(relativeToMax(y.data, ref) <= 1e-6, backend);
  }
});

test('a LayerNorm-like chain that differs in any piece is left alone (and then refused as before)', (t) => {
  // Over axis 1, not the last; an exponent of 3; the mean read elsewhere (a graph output).
  for (const change of [{ axes: [1] }, { exponent: 3 }, { meanIsOutput: true }]) {
    const err = t.throws(() => fromOnnx(layerNormModel(8, change)), { instanceOf: OnnxImportError }, JSON.stringify(change));
    t.regex(err?.message ?? '', /Pow|Sqrt|ReduceMean/, JSON.stringify(change));
  }
});

test('MatMul over the last axis of a 4-D tensor is one GEMM of the leading dims, on native and JS, and exports for ONNX Runtime', async (t) => {
  const [k, n] = [12, 5];
  const r = rng(11);
  const w = randomF32(r, k * n), b = randomF32(r, n);
  const bytes = encodeRawModel({
    opset: 13,
    inputs: [{ name: 'x', dims: ['N', 3, 'W', k] }],
    outputs: [{ name: 'y' }],
    initializers: [floatTensor('w', [k, n], w), floatTensor('b', [n], b)],
    nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['m'] }, { op: 'Add', inputs: ['b', 'm'], outputs: ['y'] }],
  });
  t.deepEqual(fromOnnx(bytes).nodes.map((nd) => nd.op), ['Gemm']);
  for (const backend of BACKENDS) {
    const model = await load(bytes, { backend });
    for (const dims of [[1, 3, 2, k], [2, 3, 7, k]]) {
      const x = tensor(dims, dims[0]!);
      const rows = x.size / k;
      const ref = new Float32Array(rows * n);
      for (let i = 0; i < rows; i++) for (let j = 0; j < n; j++) {
        let s = b[j]!;
        for (let q = 0; q < k; q++) s += x.data[i * k + q]! * w[q * n + j]!;
        ref[i * n + j] = s;
      }
      const y = (await model.run({ x }))['y']!;
      t.deepEqual([...y.dims], [...dims.slice(0, 3), n]);
      t.true(relativeToMax(y.data, ref) <= 1e-6, `${backend} ${dims}`);
      if (backend === 'js') t.true(relativeToMax((await ortRun(model.graph.toOnnx(), { x }))['y']!, ref) <= 1e-6, `ORT on the exported graph at ${dims}`);
    }
    await model.dispose();
  }
});

test('a model with dynamic H/W and an unpadded stem (no valid 1x1 input) loads, and each input shape is checked when its plan is made', async (t) => {
  const r = rng(5);
  const bytes = encodeRawModel({
    opset: 13,
    inputs: [{ name: 'x', dims: ['N', 3, 'H', 'W'] }],
    outputs: [{ name: 'y' }],
    initializers: [floatTensor('w', [4, 3, 3, 3], randomF32(r, 108)), floatTensor('s', [4], randomF32(r, 4, 0.5, 1.5)), floatTensor('b', [4], randomF32(r, 4)),
      floatTensor('m', [4], randomF32(r, 4)), floatTensor('v', [4], randomF32(r, 4, 0.5, 1.5))],
    nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['c'], attrs: { kernel_shape: [3, 3] } }, { op: 'BatchNormalization', inputs: ['c', 's', 'b', 'm', 'v'], outputs: ['y'] }],
  });
  for (const backend of BACKENDS) {
    const model = await load(bytes, { backend });
    const x = tensor([2, 3, 8, 6], 9);
    const y = (await model.run({ x }))['y']!;
    t.deepEqual([...y.dims], [2, 4, 6, 4]);
    t.true(relativeToMax(y.data, (await ortRun(bytes, { x }))['y']!) <= 1e-6, backend);
    // An input too small for the stem is refused when its plan is made, naming the conv.
    await t.throwsAsync(model.run({ x: tensor([1, 3, 2, 2], 1) }), { message: /Conv.*output would be empty/ });
    await model.dispose();
  }
});

test('an integer shape value mixed with a float activation is refused naming the node', (t) => {
  const bytes = encodeRawModel({
    opset: 13,
    inputs: [{ name: 'x', dims: [2, 3] }],
    outputs: [{ name: 'y' }],
    nodes: [{ op: 'Shape', inputs: ['x'], outputs: ['s'] }, { op: 'Add', inputs: ['s', 'x'], outputs: ['z'], name: 'mixed' }, { op: 'Reshape', inputs: ['x', 'z'], outputs: ['y'] }],
  });
  const err = t.throws(() => fromOnnx(bytes), { instanceOf: OnnxImportError });
  t.regex(err?.message ?? '', /node "mixed" \(Add\): reads "x", which is not an integer constant or shape value/);
});

test('a shape read off a value that is renamed to a graph output (through an Identity) still folds', async (t) => {
  const bytes = encodeRawModel({
    opset: 13,
    inputs: [{ name: 'x', dims: ['N', 2, 3] }],
    outputs: [{ name: 'r_out' }, { name: 'y' }],
    initializers: [int64Tensor('minus1', [1], [-1]), int64Tensor('zero', [1], [0])],
    nodes: [
      { op: 'Relu', inputs: ['x'], outputs: ['r'] },
      { op: 'Identity', inputs: ['r'], outputs: ['r_out'] },
      { op: 'Shape', inputs: ['r'], outputs: ['s'] },
      { op: 'Gather', inputs: ['s', 'zero'], outputs: ['n'], attrs: { axis: 0 } },
      { op: 'Concat', inputs: ['n', 'minus1'], outputs: ['shape'], attrs: { axis: 0 } },
      { op: 'Reshape', inputs: ['r', 'shape'], outputs: ['y'] },
    ],
  });
  const model = await load(bytes, { backend: 'js' });
  const x = tensor([3, 2, 3], 4);
  const out = await model.run({ x });
  t.deepEqual([...out['y']!.dims], [3, 6]);
  t.deepEqual([...out['y']!.data], [...x.data].map((v) => Math.max(v, 0)));
  await model.dispose();
});

test('a constant Reshape [0, -1] of an input with dynamic H/W is checked and computed per input shape', async (t) => {
  const bytes = encodeRawModel({
    opset: 13,
    inputs: [{ name: 'x', dims: ['N', 2, 'H', 'W'] }],
    outputs: [{ name: 'y' }],
    initializers: [int64Tensor('shape', [2], [0, -1])],
    nodes: [{ op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] }],
  });
  for (const backend of BACKENDS) {
    const model = await load(bytes, { backend });
    for (const dims of [[1, 2, 3, 4], [2, 2, 5, 1]]) {
      const x = tensor(dims, 2);
      const y = (await model.run({ x }))['y']!;
      t.deepEqual([...y.dims], [dims[0]!, 2 * dims[2]! * dims[3]!], backend);
      t.deepEqual([...y.data], [...x.data]);
    }
    await model.dispose();
  }
});

test('a float ConstantOfShape fills its constant, and a huge or negative shape is refused, not allocated', async (t) => {
  const model = (dims: number[]) => encodeRawModel({
    opset: 13,
    inputs: [{ name: 'x', dims: [2, 3] }],
    outputs: [{ name: 'y' }],
    initializers: [int64Tensor('shape', [dims.length], dims)],
    nodes: [
      { op: 'ConstantOfShape', inputs: ['shape'], outputs: ['k'], name: 'fill', attrs: { value: { tensor: floatTensor('', [1], [0.25]) } } },
      { op: 'Add', inputs: ['x', 'k'], outputs: ['y'] },
    ],
  });
  const m = await load(model([1, 3]), { backend: 'js' });
  const x = tensor([2, 3], 1);
  t.deepEqual([...(await m.run({ x }))['y']!.data], [...x.data].map((v) => Math.fround(v + 0.25)));
  await m.dispose();
  for (const dims of [[100000, 100000], [-2, 3]]) {
    const err = t.throws(() => fromOnnx(model(dims)), { instanceOf: OnnxImportError });
    t.regex(err?.message ?? '', /node "fill" \(ConstantOfShape\): shape \[.*\] is invalid or has more than 16777216 elements/);
  }
});
