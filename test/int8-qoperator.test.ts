// Quantized models in the QOperator form (QLinearConv, QLinearMatMul and ONNX
// Runtime's com.microsoft QLinear* ops), generated now with the onnx Python
// package (models/make_qoperator.py, independent of resnode): each op per
// tensor and per channel, int8 and uint8, with pads, strides and groups, and a
// whole QOperator ResNet-ish net (and, in the QDQ form, the pools, Concat,
// Transpose, Reshape and Flatten ORT's quantizer wraps in Q/DQ pairs), run on every backend and compared with
// onnxruntime-node on the same file: identical on ≥ 99.9% of output elements,
// never more than one quantization step apart. The planner's integer pass
// must see them as it sees QDQ files; export writes them back as QDQ.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load, Tensor } from '../src/index.js';
import { OnnxImportError, fromOnnx } from '../src/onnx/import.js';
import { integerConvs } from '../src/graph/integer-convs.js';
import { ortRun, relativeToMax } from './helpers/ort.js';
import { agreement } from './helpers/quant-agreement.js';
import { PYTHON, pytorchMissing } from './helpers/pytorch.js';
import { floatBytes, init, mutate, type ModelObj } from './helpers/onnx-mutate.js';
import { rng } from './helpers/rng.js';

const MODELS = join(import.meta.dirname, '..', 'models');
const backends = ['native', 'js'] as const;
const missing = pytorchMissing;

interface Case { file: string; inputs: Record<string, number[]>; steps: Record<string, number> }

function feedsFor(c: Case, batch: number, seed: number): Record<string, Tensor> {
  const rand = rng(seed);
  return Object.fromEntries(Object.entries(c.inputs).map(([name, dims]) => {
    const shape = [batch, ...dims];
    const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (rand() * 2 - 1) * 2.5); // past the calibrated range too
    return [name, new Tensor('float32', data, shape)];
  }));
}

/**
 * The models the planner's integer pass turns into integer-exact steps (Conv/Gemm/GlobalAveragePool between
 * quantized values); the others (adds, a channels-last pool between transposes ...) run dequantized in float32.
 */
const INTEGER_STEPS = /^(conv|matmul|gemm_(u8|s8)|gap_(u8|s8)|resnet)/;

if (missing) {
  test.skip(`QOperator models vs ONNX Runtime: ${missing}`, () => {});
} else {
  const dir = mkdtempSync(join(tmpdir(), 'resnode-qop-'));
  test.after.always(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync(PYTHON, [join(MODELS, 'make_qoperator.py'), '--outdir', dir], { timeout: 120_000 });
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, Case>;

  for (const [name, c] of Object.entries(manifest)) {
    test.serial(`QOperator ${name} agrees with ONNX Runtime on every backend`, async (t) => {
      const bytes = new Uint8Array(readFileSync(c.file));
      const graph = fromOnnx(bytes);
      if (name.includes('integer')) t.true(graph.nodes.some((n) => n.op === 'Requantize'), 'the integers a − a_zero_point are one integer-exact step');
      else t.true(graph.nodes.some((n) => n.op === 'QuantizeDequantize'), 'activations stay quantized');
      if (INTEGER_STEPS.test(name)) {
        t.true(integerConvs(graph).nodes.some((n) => n.op === 'Requantize'), 'the planner turns it into integer-exact steps, as it does a QDQ file');
      }
      const feeds = feedsFor(c, name.startsWith('resnet') ? 4 : 8, 1);
      const theirs = await ortRun(bytes, feeds);
      for (const backend of backends) {
        const model = await load(bytes, { backend, threads: 2 });
        const ours = await model.run(feeds);
        await model.dispose();
        for (const [out, step] of Object.entries(c.steps)) {
          if (name.startsWith('gemm_float')) {
            // QGemm without y_scale: a float output (the int32 sum times a_scale·b_scale), not quantized.
            const rel = relativeToMax(ours[out]!.data, theirs[out]!);
            t.true(rel <= 1e-5, `${backend} ${out}: ${rel} relative to max`);
            continue;
          }
          const a = agreement(ours[out]!.data, theirs[out]!, step);
          t.log(`${backend} ${out}: ${(a.identical * 100).toFixed(3)}% identical, max ${a.maxSteps.toFixed(3)} steps apart`);
          t.true(a.identical >= 0.999, `${backend} ${out}: only ${a.identical} identical`);
          t.true(a.maxSteps <= 1 + 1e-4, `${backend} ${out}: ${a.maxSteps} steps apart`);
        }
      }
    });
  }

  for (const name of ['resnet_u8', 'resnet_s8', 'matmulinteger_u8', 'convinteger_u8', 'conv_rescaled_input_u8_pc']) {
    test.serial(`an imported QOperator ${name} exports as QDQ that ONNX Runtime runs to the same values`, async (t) => {
      const c = manifest[name]!;
      const bytes = new Uint8Array(readFileSync(c.file));
      const feeds = feedsFor(c, 4, 7);
      const original = await ortRun(bytes, feeds);
      const exported = fromOnnx(bytes).toOnnx();
      const back = await ortRun(exported, feeds);
      for (const [out, step] of Object.entries(c.steps)) {
        const a = agreement(back[out]!, original[out]!, step);
        if (name.includes('integer')) {
          // Exported as float convolutions on the integers w − w_zero_point, which ORT optimises in float32
          // (it folds the Mul by the scales into a Conv's weights): equal up to float rounding, not bit for bit.
          t.true(a.maxSteps <= 0.05, `${out}: ${JSON.stringify(a)}`);
        } else t.true(a.identical >= 0.999 && a.maxSteps <= 1 + 1e-4, `${out}: ${JSON.stringify(a)}`);
      }
      const again = fromOnnx(exported);
      if (name.startsWith('resnet')) t.true(again.nodes.some((n) => n.op === 'Conv' && n.attrs.weightQuant !== undefined), 'the export is QDQ, with int8 weights');
      else t.true(again.nodes.some((n) => n.op === 'Requantize'), 'a Q/DQ pair of two scales imports back as one Requantize step');
    });
  }

  // Malformed QOperator nodes: each is one OnnxImportError naming the node (and the tensor).
  // conv_u8_pc: QuantizeLinear_0 (x: s1, z2) → QLinearConv_1 (w: wq4, ws5, wz6; y: s7, z8; bias bq10) → DequantizeLinear_2.
  const conv = /node "QLinearConv_1" \(QLinearConv/;
  const node = (m: ModelObj, op: string): ModelObj['graph']['node'][number] => m.graph.node.find((n) => n.opType === op)!;
  const errorCases: { what: string; model: string; edit: (m: ModelObj) => void; message: RegExp }[] = [
    {
      what: 'a zero input scale', model: 'conv_u8_pc',
      edit: (m) => { m.graph.initializer.push({ name: 'zero', dims: [], dataType: 1, rawData: floatBytes([0]) }); node(m, 'QLinearConv').input[1] = 'zero'; },
      message: /node "QLinearConv_1" \(QLinearConv, dequantizing x\): scale "zero" must be positive and finite, but element 0 is 0/,
    },
    {
      what: 'a negative per-channel weight scale', model: 'conv_u8_pc',
      edit: (m) => { const t = init(m, 'ws5'); const f = new Float32Array(new Uint8Array(t.rawData as Uint8Array).buffer); f[3] = -0.5; t.rawData = new Uint8Array(f.buffer); },
      message: /node "QLinearConv_1" \(QLinearConv, dequantizing w\): scale "ws5" must be positive and finite, but element 3 is -0\.5/,
    },
    { what: 'an output zero point out of the uint8 range', model: 'conv_u8_pc', edit: (m) => { const t = init(m, 'z8'); delete t.rawData; t.int32Data = [300]; }, message: /node "QLinearConv_1" \(QLinearConv, quantizing its output\): zero point "z8" element 0 is 300, outside the uint8 range \[0, 255\]/ },
    { what: 'a weight zero point of the wrong type', model: 'conv_u8_pc', edit: (m) => { init(m, 'wz6').dataType = 2; }, message: /node "QLinearConv_1" \(QLinearConv, dequantizing w\): input "wq4" is int8 but its zero point is uint8/ },
    { what: 'an input zero point of the wrong type', model: 'conv_u8_pc', edit: (m) => { node(m, 'QLinearConv').input[2] = 's1'; }, message: /node "QLinearConv_1" \(QLinearConv, dequantizing x\): zero point "s1" must be a constant integer initializer/ },
    {
      what: 'per-channel weight scales of the wrong length', model: 'conv_u8_pc',
      edit: (m) => { for (const n of ['ws5', 'wz6']) { const t = init(m, n); t.dims = [15]; t.rawData = (t.rawData as Uint8Array).slice(0, n === 'ws5' ? 60 : 15); } },
      message: /node "QLinearConv_1" \(QLinearConv, dequantizing w\): scale "ws5" has 15 elements but axis 0 of \[16, 8, 3, 3\] has 16 \(per-channel lengths must match\)/,
    },
    {
      what: 'an output scale that is not an initializer', model: 'conv_u8_pc',
      edit: (m) => {
        m.graph.initializer = m.graph.initializer.filter((i) => i.name !== 's7');
        m.graph.input.push({ name: 's7', type: { tensorType: { elemType: 1, shape: { dim: [] } } } });
      },
      message: /node "QLinearConv_1" \(QLinearConv, quantizing its output\): scale "s7" must be a constant float initializer/,
    },
    { what: 'a missing weight zero point', model: 'conv_u8_pc', edit: (m) => { node(m, 'QLinearConv').input[5] = ''; }, message: /node "QLinearConv_1" \(QLinearConv\): input 5 \(w_zero_point\) is missing/ },
    { what: 'a QLinearMatMul without its inputs', model: 'matmul_u8_pc', edit: (m) => { node(m, 'QLinearMatMul').input = ['xq3']; }, message: /node "QLinearMatMul_1" \(QLinearMatMul\): input 1 \(a_scale\), .*input 7 \(y_zero_point\) are missing/ },
    { what: 'a QGemm with alpha 2', model: 'gemm_u8_pc', edit: (m) => { node(m, 'QGemm').attribute!.push({ name: 'alpha', type: 1, f: 2 }); }, message: /node "QGemm_1" \(QGemm\): alpha 2 is not supported/ },
    { what: 'a QLinearConcat with a broken input triple', model: 'concat_u8', edit: (m) => { node(m, 'QLinearConcat').input.pop(); }, message: /node "QLinearConcat_2" \(QLinearConcat\): expects Y_scale, Y_zero_point and then \(X, X_scale, X_zero_point\) triples, got 7 inputs/ },
    // matmulinteger_u8: QuantizeLinear_0 (x: s1, z2) → MatMulInteger_1 (wq4, wz5) → Cast_2 → Mul_3.
    { what: 'a MatMulInteger whose A zero point differs from its QuantizeLinear\'s', model: 'matmulinteger_u8', edit: (m) => { node(m, 'MatMulInteger').input[2] = ''; }, message: /node "MatMulInteger_1" \(MatMulInteger, taking the integers of its input\): zero point \(absent: 0\) must be one constant equal to the zero point \d+ of the QuantizeLinear that wrote "xq3"/ },
    {
      what: 'a MatMulInteger whose B is not an initializer', model: 'matmulinteger_u8',
      edit: (m) => { m.graph.initializer = m.graph.initializer.filter((i) => i.name !== 'wq4'); m.graph.input.push({ name: 'wq4', type: { tensorType: { elemType: 2, shape: { dim: [{ dimValue: 32 }, { dimValue: 12 }] } } } }); },
      message: /node "MatMulInteger_1" \(MatMulInteger\): input 1 "wq4" must be a constant INT8 or UINT8 initializer/,
    },
    { what: 'a MatMulInteger with per-column zero points of the wrong length', model: 'matmulinteger_u8', edit: (m) => { const t = init(m, 'wz5'); t.dims = [5]; t.rawData = (t.rawData as Uint8Array).slice(0, 5); }, message: /node "MatMulInteger_1" \(MatMulInteger\): zero point "wz5" has 5 elements but axis 1 of \[32, 12\] has 12/ },
    { what: 'a Cast of an integer output to INT64', model: 'matmulinteger_u8', edit: (m) => { node(m, 'Cast').attribute = [{ name: 'to', type: 2, i: 7 }]; }, message: /node "Cast_2" \(Cast\): only a Cast of a MatMulInteger\/ConvInteger output to FLOAT is supported, not to INT64/ },
  ];
  for (const c of errorCases) {
    test(`QOperator import: ${c.what} is one OnnxImportError naming the node`, (t) => {
      const bytes = mutate(new Uint8Array(readFileSync(manifest[c.model]!.file)), c.edit);
      const err = t.throws(() => fromOnnx(bytes), { instanceOf: OnnxImportError });
      t.regex(err!.message, c.message);
      if (c.model === 'conv_u8_pc') t.regex(err!.message, conv);
    });
  }
}
