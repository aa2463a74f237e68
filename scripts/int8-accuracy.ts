// npm run int8-accuracy [-- --epochs 3 --train-size 3000 --test-size 1000]
//
// What int8 costs with real, trained weights: trains a CIFAR-style ResNet-20
// with train() on the synthetic shapes data (as scripts/bf16-accuracy.ts
// does), quantizes it with `resnode quantize` (256 training images as the
// calibration batch, per-channel weights), and reports the float32 and int8
// test accuracies, their drop, and how resnode's int8 logits compare with
// onnxruntime-node's run of the same QDQ file. Writes
// bench/results/int8-accuracy.{md,json}; exits 1 if the drop is 1 point or more.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import { resnet } from '../src/graph/resnet.js';
import { info } from '../src/info.js';
import { load } from '../src/model.js';
import { toNpy } from '../src/npy.js';
import { Tensor } from '../src/tensor.js';
import { syntheticShapes, type Dataset } from '../src/train/dataset.js';
import { train } from '../src/train/train.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  const v = i < 0 ? fallback : Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`int8-accuracy: ${name} expects a positive integer`);
  return v;
};
const epochs = arg('--epochs', 3), trainSize = arg('--train-size', 3000), testSize = arg('--test-size', 1000);
const seed = 0;
const data = syntheticShapes({ train: trainSize, test: testSize, seed });
const t0 = performance.now();
const trained = await train(resnet({ depth: 20, variant: 'cifar', seed }), data, {
  epochs, lr: 0.02, batch: 32, warmup: 0.1, lrDecayAt: [0.5, 0.75], seed, progress: process.stderr.isTTY, label: 'ResNet-20',
});
const trainSeconds = Math.round((performance.now() - t0) / 1000);

const dir = await mkdtemp(join(tmpdir(), 'resnode-int8-accuracy-'));
const per = data.train.x.length / data.train.count;
const calibCount = Math.min(256, data.train.count);
await writeFile(join(dir, 'float.onnx'), trained.graph.toOnnx());
await writeFile(join(dir, 'calib.npy'), toNpy(new Tensor('float32', data.train.x.slice(0, calibCount * per), [calibCount, ...data.train.dims])));
const cli = join(import.meta.dirname, '..', 'src', 'cli.ts');
await promisify(execFile)(process.execPath, ['--import', 'tsx', cli, 'quantize', join(dir, 'float.onnx'), '-o', join(dir, 'int8.onnx'), '--calibrate', join(dir, 'calib.npy'), '--per-channel', '--no-progress'], { timeout: 600_000 });
const int8Bytes = new Uint8Array(await readFile(join(dir, 'int8.onnx')));

/** Logits of every test image, 100 at a time, from resnode (float or int8 file) or ORT (the int8 file). */
async function logits(source: 'float' | 'int8' | 'ort-int8', d: Dataset): Promise<Float32Array> {
  const model = source === 'float' ? await load(trained.graph, { threads: 2 }) : source === 'int8' ? await load(int8Bytes, { threads: 2 }) : null;
  const session = source === 'ort-int8' ? await ort.InferenceSession.create(int8Bytes, { intraOpNumThreads: 2 }) : null;
  const k = d.classes.length, out = new Float32Array(d.count * k);
  for (let s = 0; s < d.count; s += 100) {
    const n = Math.min(100, d.count - s);
    const x = d.x.slice(s * per, (s + n) * per);
    const y = model
      ? (await model.run({ [model.inputs[0]!.name]: new Tensor('float32', x, [n, ...d.dims]) }))[model.outputs[0]!.name]!.data
      : (await session!.run({ [session!.inputNames[0]!]: new ort.Tensor('float32', x, [n, ...d.dims]) }))[session!.outputNames[0]!]!.data as Float32Array;
    out.set(y, s * k);
  }
  await model?.dispose();
  await session?.release();
  return out;
}

const t = data.test, k = t.classes.length;
const argmax = (a: Float32Array, i: number) => { let b = 0; for (let j = 1; j < k; j++) if (a[i * k + j]! > a[i * k + b]!) b = j; return b; };
const [fp, q, o] = [await logits('float', t), await logits('int8', t), await logits('ort-int8', t)];
let rightFp = 0, rightQ = 0, rightOrt = 0, same = 0;
for (let i = 0; i < t.count; i++) {
  if (argmax(fp, i) === t.labels[i]) rightFp++;
  if (argmax(q, i) === t.labels[i]) rightQ++;
  if (argmax(o, i) === t.labels[i]) rightOrt++;
}
for (let i = 0; i < q.length; i++) if (q[i] === o[i]) same++;
const pct = (n: number) => (100 * n) / t.count;
const result = {
  model: 'ResNet-20 (CIFAR-style), trained with train() on syntheticShapes, quantized by `resnode quantize --per-channel`', epochs, trainSize, testSize, trainSeconds,
  float32Accuracy: pct(rightFp), int8Accuracy: pct(rightQ), ortInt8Accuracy: pct(rightOrt), dropPoints: pct(rightFp) - pct(rightQ),
  logitsIdenticalToOrt: (100 * same) / q.length, cpu: info().isa, date: new Date().toISOString(),
};
const md = `# int8 accuracy with trained weights

${result.model}: ${epochs} epochs on ${trainSize} images (${trainSeconds} s), calibrated on ${calibCount} training images, evaluated on the ${testSize} test images (native, 2 threads).

| | float32 | int8 (resnode) | int8 (onnxruntime-node, same file) |
|---|---|---|---|
| test accuracy | ${result.float32Accuracy.toFixed(1)}% | ${result.int8Accuracy.toFixed(1)}% | ${result.ortInt8Accuracy.toFixed(1)}% |

- accuracy drop float32 → int8: **${result.dropPoints.toFixed(2)} points** (target < 1)
- int8 logits identical to ORT's: **${result.logitsIdenticalToOrt.toFixed(2)}%** of ${q.length} (target ≥ 99.9%)

Written by \`npm run int8-accuracy\` (scripts/int8-accuracy.ts) on ${result.date}.
`;
const out = join(import.meta.dirname, '..', 'bench', 'results');
await mkdir(out, { recursive: true });
await writeFile(join(out, 'int8-accuracy.md'), md);
await writeFile(join(out, 'int8-accuracy.json'), JSON.stringify(result, null, 2) + '\n');
await rm(dir, { recursive: true, force: true });
console.log(md);
process.exitCode = result.dropPoints < 1 ? 0 : 1;
