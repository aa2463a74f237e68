// The int8 conv plan step (qconv): where the native backend runs a quantized model, each
// DequantizeLinear → Conv → QuantizeLinear is one step on the qu8s8 GEMM kernels (VNNI, AVX2,
// scalar). Each qconv output must be bit-identical to the JS backend's, which still runs the
// same conv as three steps (to integers, a float32 conv on integer values, requantize) — an
// independent computation of the same integers — on every ISA the CPU runs, and the whole
// native run must agree with ONNX Runtime's int8 run (≥ 99.9% identical, ≤ 1 step apart).
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from '../src/index.js';
import { fromOnnx } from '../src/onnx/import.js';
import { nativeVariants, rawAddon } from './helpers/backends.js';
import { ortRun } from './helpers/ort.js';
import { agreement } from './helpers/quant-agreement.js';
import { outputStep, pythonMissing, randomInput } from './helpers/qdq.js';

const PYTHON = '/usr/bin/python3';
const MODELS = join(import.meta.dirname, '..', 'models');
const missing = rawAddon() ? pythonMissing(PYTHON) : 'the native addon is missing';



if (missing) {
  test.skip(`qconv steps: ${missing}`, () => {});
} else {
  const dir = mkdtempSync(join(tmpdir(), 'resnode-qconv-'));
  test.after.always(() => rmSync(dir, { recursive: true, force: true }));
  const variants = [
    { name: 'per-channel int8 weights, uint8 activations', flags: [] },
    { name: 'per-tensor int8 weights, int8 activations', flags: ['--per-tensor', '--int8-activations', '--seed', '3'] },
  ];
  variants.forEach((v, k) => {
    test.serial(`qconv steps (${v.name}) give the JS backend's three-step integers bit for bit, and ORT's outputs, on every ISA`, async (t) => {
      const file = join(dir, `model${k}.onnx`);
      execFileSync(PYTHON, [join(MODELS, 'make_qdq.py'), '--out', file, ...v.flags], { timeout: 120_000 });
      const bytes = new Uint8Array(readFileSync(file));
      const x = randomInput(3, 7 + k);
      const js = await load(bytes, { backend: 'js', threads: 1 });
      const want = await js.run({ x }, { fetchIntermediates: true });
      const theirs = await ortRun(bytes, { x });
      const graph = fromOnnx(bytes);
      t.false(js.profile({ x }).some((l) => /^qu8s8_i?gemm_/.test(l.kernel ?? '')), 'the JS backend keeps the three-step form');
      await js.dispose();
      for (const nv of nativeVariants()) {
        nv.activate();
        try {
          const model = await load(bytes, { backend: 'native', threads: 2 });
          const prof = model.profile({ x });
          const qconvs = prof.filter((l) => l.op === 'Conv' && /^qu8s8_i?gemm_/.test(l.kernel ?? ''));
          t.true(qconvs.length >= 2, `${nv.label}: the convs run on the int8 kernels (${prof.map((l) => `${l.op}:${l.kernel ?? '-'}`).join(' ')})`);
          t.false(prof.some((l) => l.op === 'Requantize' && l.name.endsWith('/to_integers') && qconvs.some((q) => l.name.startsWith(q.name))), `${nv.label}: no separate to-integers step`);
          // Every qconv output, one step at a time (the native qconv kernel; the other steps through the TS kernels as
          // fetchIntermediates runs them), bit for bit the JS backend's three-step integers.
          const inter = await model.run({ x }, { fetchIntermediates: true });
          for (const q of qconvs) {
            const a = want[q.output]!.data, b = inter[q.output]!.data;
            let same = 0;
            for (let i = 0; i < a.length; i++) if (Object.is(a[i], b[i])) same++;
            t.is(same, a.length, `${nv.label} ${q.output}: ${same}/${a.length} bit-identical`);
          }
          // The whole native plan against ONNX Runtime's int8 run, as test/int8-qdq.test.ts asserts.
          const got = await model.run({ x });
          for (const out of ['y', 'features']) {
            const a = agreement(got[out]!.data as Float32Array, theirs[out]!, outputStep(graph, out));
            t.true(a.identical >= 0.999 && a.maxSteps <= 1 + 1e-4, `${nv.label} ${out} vs ONNX Runtime: ${JSON.stringify(a)}`);
          }
          await model.dispose();
        } finally {
          nv.restore();
        }
      }
    });
  });

  test('packQConv2d refuses weights that are no int8 integers and bad quantization, naming the argument', (t) => {
    const b = rawAddon()!;
    const q = { xScale: 0.1, xZeroPoint: 0, xQmin: 0, xQmax: 255, yScale: 0.2, yZeroPoint: 3, yQmin: 0, yQmax: 255 };
    const w = new Float32Array(2 * 3 * 3 * 3).fill(1);
    const m = new Float32Array([0.5, 0.25]);
    t.truthy(b.packQConv2d(w, null, m, 2, 3, 3, 3, q));
    w[5] = 128;
    t.throws(() => b.packQConv2d(w, null, m, 2, 3, 3, 3, q), { instanceOf: RangeError, message: /packQConv2d: expected an integer in \[-128, 127\] for weight\[5\]/ });
    w[5] = 0.5;
    t.throws(() => b.packQConv2d(w, null, m, 2, 3, 3, 3, q), { instanceOf: RangeError, message: /weight\[5\]/ });
    w[5] = 1;
    t.throws(() => b.packQConv2d(w, null, new Float32Array(1), 2, 3, 3, 3, q), { instanceOf: RangeError, message: /packQConv2d: .*multipliers/ });
    t.throws(() => b.packQConv2d(w, null, m, 2, 3, 3, 3, { ...q, xScale: 0 }), { instanceOf: RangeError, message: /packQConv2d: .*q\.xScale/ });
    t.throws(() => b.packQConv2d(w, null, m, 2, 3, 3, 3, { ...q, yZeroPoint: 300 }), { instanceOf: RangeError, message: /packQConv2d: .*yZeroPoint/ });
    t.throws(() => b.packQConv2d(w, new Float32Array([1.5, 0]), m, 2, 3, 3, 3, q), { instanceOf: RangeError, message: /packQConv2d: .*bias\[0\]/ });
  });
}
