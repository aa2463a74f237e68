// Quantized (QDQ) ONNX models, generated now with the onnx Python package
// (models/make_qdq.py, independent of resnode), run on every backend and
// compared with onnxruntime-node running the same file through its int8 path:
// identical on ≥ 99.9% of output elements, never more than one quantization
// step apart. Malformed quantization parameters end in one OnnxImportError.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from '../src/index.js';
import { OnnxImportError, fromOnnx } from '../src/onnx/import.js';
import { ortRun } from './helpers/ort.js';
import { floatBytes as floats, init, mutate, type ModelObj } from './helpers/onnx-mutate.js';
import { agreement } from './helpers/quant-agreement.js';
import { outputStep, pythonMissing, randomInput } from './helpers/qdq.js';

const PYTHON = '/usr/bin/python3';
const MODELS = join(import.meta.dirname, '..', 'models');
const backends = ['native', 'js'] as const;

const missing = pythonMissing(PYTHON);

const made = new Map<string, Uint8Array>();
/** models/make_qdq.py's model for these flags (made once per run). */
function makeQdq(dir: string, flags: string[]): Uint8Array {
  const key = flags.join(' ');
  if (!made.has(key)) {
    const file = join(dir, `model${made.size}.onnx`);
    execFileSync(PYTHON, [join(MODELS, 'make_qdq.py'), '--out', file, ...flags], { timeout: 120_000 });
    made.set(key, new Uint8Array(readFileSync(file)));
  }
  return made.get(key)!;
}




if (missing) {
  test.skip(`QDQ models vs ONNX Runtime: ${missing}`, () => {});
} else {
  const dir = mkdtempSync(join(tmpdir(), 'resnode-qdq-'));
  test.after.always(() => rmSync(dir, { recursive: true, force: true }));
  const variants = [
    { name: 'per-channel int8 weights, uint8 activations', flags: [] },
    { name: 'per-tensor int8 weights, int8 activations', flags: ['--per-tensor', '--int8-activations', '--seed', '3'] },
  ];

  for (const v of variants) {
    test.serial(`a QDQ residual network (${v.name}) agrees with ONNX Runtime's int8 run on every backend`, async (t) => {
      const bytes = makeQdq(dir, v.flags);
      const graph = fromOnnx(bytes);
      t.true(graph.nodes.some((n) => n.op === 'QuantizeDequantize'), 'activations stay quantized');
      for (const seed of [1, 2]) {
        const x = randomInput(8, seed);
        const theirs = await ortRun(bytes, { x });
        for (const backend of backends) {
          const model = await load(bytes, { backend, threads: 2 });
          const ours = await model.run({ x });
          await model.dispose();
          for (const out of ['y', 'features']) {
            const a = agreement(ours[out]!.data, theirs[out]!, outputStep(graph, out));
            t.log(`${backend} seed ${seed} ${out}: ${(a.identical * 100).toFixed(3)}% identical, max ${a.maxSteps.toFixed(3)} steps apart`);
            t.true(a.identical >= 0.999, `${backend} ${out}: only ${a.identical} identical`);
            t.true(a.maxSteps <= 1 + 1e-4, `${backend} ${out}: ${a.maxSteps} steps apart`);
          }
        }
      }
    });
  }

  test.serial('an imported QDQ model exports back to QuantizeLinear/DequantizeLinear that ONNX Runtime runs to the same values', async (t) => {
    const bytes = makeQdq(dir, []);
    const x = randomInput(4, 7);
    const original = await ortRun(bytes, { x });
    const exported = fromOnnx(bytes).toOnnx();
    const back = await ortRun(exported, { x });
    const step = outputStep(fromOnnx(bytes), 'features');
    const a = agreement(back.features!, original.features!, step);
    t.true(a.identical >= 0.999 && a.maxSteps <= 1 + 1e-4, JSON.stringify(a));
    t.true(fromOnnx(exported).nodes.some((n) => n.op === 'QuantizeDequantize'));
  });

  // Malformed quantization parameters: each is one OnnxImportError naming the tensor.
  const cases: { what: string; edit: (m: ModelObj) => void; message: RegExp }[] = [
    { what: 'a zero activation scale', edit: (m) => { init(m, 'a2.dq.scale').rawData = floats([0]); }, message: /scale "a2\.dq\.scale" must be positive and finite, but element 0 is 0/ },
    { what: 'a negative per-channel weight scale', edit: (m) => { const t = init(m, 'conv1.ws'); const f = new Float32Array(new Uint8Array(t.rawData as Uint8Array).buffer); f[3] = -0.5; t.rawData = new Uint8Array(f.buffer); }, message: /scale "conv1\.ws" must be positive and finite, but element 3 is -0\.5/ },
    { what: 'a zero point out of the uint8 range', edit: (m) => { const t = init(m, 'a1.dq.zp'); delete t.rawData; t.int32Data = [300]; }, message: /zero point "a1\.dq\.zp" element 0 is 300, outside the uint8 range \[0, 255\]/ },
    { what: 'per-channel scales of the wrong length', edit: (m) => { for (const n of ['conv2.ws', 'conv2.wz']) { const t = init(m, n); t.dims = [15]; t.rawData = (t.rawData as Uint8Array).slice(0, n.endsWith('ws') ? 60 : 15); } }, message: /scale "conv2\.ws" has 15 elements but axis 0 of \[16, 16, 3, 3\] has 16 \(per-channel lengths must match\)/ },
    { what: 'a zero point whose length differs from its scale', edit: (m) => { const t = init(m, 'conv2.wz'); t.dims = [4]; t.rawData = (t.rawData as Uint8Array).slice(0, 4); }, message: /zero point "conv2\.wz" has 4 elements but scale "conv2\.ws" has 16/ },
    {
      what: 'a scale that is not an initializer',
      edit: (m) => {
        m.graph.initializer = m.graph.initializer.filter((i) => i.name !== 'a4.dq.scale');
        m.graph.input.push({ name: 'a4.dq.scale', type: { tensorType: { elemType: 1, shape: { dim: [] } } } });
      },
      message: /scale "a4\.dq\.scale" must be a constant float initializer/,
    },
  ];
  for (const c of cases) {
    test(`QDQ import: ${c.what} is one OnnxImportError naming it`, (t) => {
      const bytes = mutate(makeQdq(dir, []), c.edit);
      const err = t.throws(() => fromOnnx(bytes), { instanceOf: OnnxImportError });
      t.regex(err!.message, c.message);
    });
  }
}
