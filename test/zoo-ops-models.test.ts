// The failures of issue 18's table that part A's ops fix, on models generated
// now with Debian's PyTorch (models/export_zoo_ops.py, 16–96 px): SE blocks,
// RegNetY-400MF and EfficientNet-B0 (Sigmoid, broadcast Mul, SiLU), MobileNetV2
// (Clip(0, 6)), SqueezeNet 1.1 (Concat), an NHWC-input ResNet-18 (Transpose), a
// ResNet-18 ending in Softmax (opsets 13 and 11), a ResNet-18 with dynamic
// batch, height and width run at three shapes, and a float16 ResNet-18 fed and
// answering Tensor('float16', Uint16Array). Each must match PyTorch within
// 1e-5·max|ref| on both backends (float16: within one float16 ulp plus that bound).
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { load, parseNpy, Tensor } from '../src/index.js';
import { float32ToFloat16, halfToFloat } from '../src/onnx/half.js';
import { relativeToMax } from './helpers/ort.js';
import { PYTHON, pytorchMissing } from './helpers/pytorch.js';

const MODELS = join(import.meta.dirname, '..', 'models');
const TOL = 1e-5;

const missing = pytorchMissing;

interface Entry { name: string; file: string; inputName: string; outputName: string; float16: boolean; runs: { input: string; output: string }[] }

/** float16 ulp at |e| (the spacing of float16 values there; 2^-24 below the normal range). */
const ulp16 = (e: number): number => 2 ** (Math.max(Math.floor(Math.log2(Math.abs(e) || 2 ** -24)), -14) - 10);

if (missing) {
  test.skip(`zoo models vs PyTorch: ${missing} (apt-get install python3-torch python3-torchvision python3-onnx)`, () => {});
} else {
  const dir = mkdtempSync(join(tmpdir(), 'resnode-zoo-ops-'));
  const exported = promisify(execFile)(PYTHON, [join(MODELS, 'export_zoo_ops.py'), '--out', dir], { timeout: 600_000 })
    .then(() => JSON.parse(readFileSync(join(dir, 'zoo_ops.json'), 'utf8')) as Entry[]);
  test.after.always(() => rmSync(dir, { recursive: true, force: true }));

  const NAMES = ['se_block', 'efficientnet_b0', 'regnet_y_400mf', 'mobilenet_v2', 'squeezenet1_1', 'resnet18_nhwc', 'resnet18_softmax', 'resnet18_softmax_opset11', 'resnet18_dynamic', 'resnet18_fp16'];
  for (const name of NAMES) {
    test.serial(`${name} loads, runs and matches PyTorch on native and js`, async (t) => {
      const e = (await exported).find((x) => x.name === name);
      if (!e) return t.fail(`${name} was not exported`);
      for (const backend of ['native', 'js'] as const) {
        const model = await load(join(dir, e.file), { backend, threads: 2 });
        t.is(model.inputs[0]!.type, e.float16 ? 'float16' : 'float32');
        for (const r of e.runs) {
          const x = parseNpy(new Uint8Array(readFileSync(join(dir, r.input))));
          const ref = parseNpy(new Uint8Array(readFileSync(join(dir, r.output))));
          if (!e.float16) {
            const y = (await model.run({ [e.inputName]: x }))[e.outputName]!;
            t.deepEqual([...y.dims], [...ref.dims]);
            const err = relativeToMax(y.data, ref.data);
            t.log(`${name} ${backend} ${x.dims.join('×')}: max|err|/max|ref| = ${err.toExponential(2)}`);
            t.true(err <= TOL, `${name} ${backend} ${x.dims.join('×')}: ${err} > ${TOL}`);
            continue;
          }
          const bits = new Uint16Array(x.data.length);
          float32ToFloat16(x.data, bits); // exact: the input is float16 values
          const y = (await model.run({ [e.inputName]: new Tensor('float16', bits, x.dims) }))[e.outputName]! as unknown as Tensor<'float16'>;
          t.is(y.type, 'float16');
          t.true(y.data instanceof Uint16Array);
          // Both sides round a float32 result once: they may differ by the float32 bound
          // (1e-5·max|ref|) plus one float16 ulp (half an ulp each way).
          const max = ref.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
          let worst = 0;
          ref.data.forEach((v, i) => { worst = Math.max(worst, Math.abs(halfToFloat(y.data[i]!) - v) / (ulp16(v) + TOL * max)); });
          t.log(`${name} ${backend}: worst |err| / (float16 ulp + 1e-5·max|ref|) = ${worst.toFixed(2)}`);
          t.true(worst <= 1, `${name} ${backend}: an output is ${worst} times the float16 rounding bound from PyTorch's`);
          const f32 = await t.throwsAsync(model.run({ [e.inputName]: x }));
          t.regex(f32!.message, /float16 Tensor/);
        }
        await model.dispose();
      }
    });
  }
}
