// The PyTorch-exported reference models (models/*.onnx, written by
// models/export_reference.py): import → (optimize) → export → ONNX Runtime
// must reproduce PyTorch's own output. The large torchvision models are
// generated at test time by test/model-reference.test.ts.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { fromOnnx, loadOnnxFile } from '../src/onnx/import.js';
import { optimize } from '../src/graph/passes.js';
import type { Graph } from '../src/graph/graph.js';
import { parseNpy } from '../src/npy.js';
import { relativeToMax } from './helpers/ort.js';

const MODELS = join(dirname(fileURLToPath(import.meta.url)), '..', 'models');
const TOL = 1e-4; // max|a−e| ≤ 1e-4·max|e|

interface Entry { name: string; file: string; input: string; output: string; inputName: string; outputName: string; dynamicBatch: boolean; ops: string[] }
const manifest = JSON.parse(readFileSync(join(MODELS, 'reference.json'), 'utf8')) as Entry[];

async function ortRun(bytes: Uint8Array, name: string, data: Float32Array, dims: readonly number[], out: string): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 2 });
  try {
    const r = await s.run({ [name]: new ort.Tensor('float32', data, [...dims]) });
    return r[out]!.data as Float32Array;
  } finally {
    await s.release();
  }
}

async function checkModel(t: import('ava').ExecutionContext, dir: string, e: Entry): Promise<Graph> {
  const bytes = new Uint8Array(readFileSync(join(dir, e.file)));
  const x = parseNpy(new Uint8Array(readFileSync(join(dir, e.input))));
  const y = parseNpy(new Uint8Array(readFileSync(join(dir, e.output))));
  const g = fromOnnx(bytes);
  t.deepEqual(g.inputs.map((v) => v.name), [e.inputName]);
  t.deepEqual(g.outputs.map((v) => v.name), [e.outputName]);
  t.is(g.inputs[0]!.dims[0], e.dynamicBatch ? -1 : x.dims[0]);
  const orig = await ortRun(bytes, e.inputName, x.data, x.dims, e.outputName);
  t.true(relativeToMax(orig, y.data) < TOL, `ORT on PyTorch's export vs PyTorch: ${relativeToMax(orig, y.data)}`);
  for (const [label, gg] of [['imported', g], ['optimized', optimize(g)]] as const) {
    const got = await ortRun(gg.toOnnx(), e.inputName, x.data, x.dims, e.outputName);
    const err = relativeToMax(got, y.data);
    t.true(err < TOL, `${e.name} ${label}: max err ${err}·max|e|`);
  }
  return g;
}

for (const e of manifest) {
  test(`reference model ${e.name} (${e.ops.join(', ')}) matches PyTorch after import/export`, async (t) => {
    const g = await checkModel(t, MODELS, e);
    if (e.name === 'bn_unfolded') {
      t.is(g.nodes.filter((n) => n.op === 'BatchNormalization').length, 3);
      t.is(optimize(g).nodes.filter((n) => n.op === 'BatchNormalization').length, 0);
    }
    if (e.name === 'conv1x1') {
      t.deepEqual(g.inputs[0]!.dims, [1, 192, 28, 28]);
      t.deepEqual(g.outputs[0]!.dims, [1, 32, 28, 28]);
    }
  });
}

test('loadOnnxFile reads a path', async (t) => {
  const g = await loadOnnxFile(join(MODELS, 'conv1x1.onnx'));
  t.is(g.nodes.length, 1);
});
