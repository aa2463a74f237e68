// npm run bf16-accuracy [-- --epochs 3 --train-size 3000 --test-size 1000]
//
// What bf16 costs with real, trained weights: trains a CIFAR-style ResNet-20
// with train() on the synthetic shapes data (the train-compare recipe), then
// runs the test split through load(graph) in mode 'exact' and in mode 'bf16'
// and reports both test accuracies, the drop, the top-1 agreement between the
// two and max|Δlogit|/max|logit|. Writes bench/results/bf16-accuracy.{md,json}.
// Exits 1 if the drop is 0.5 points or more, or where bf16 cannot run.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resnet } from '../src/graph/resnet.js';
import { info } from '../src/info.js';
import { load } from '../src/model.js';
import { Tensor } from '../src/tensor.js';
import { syntheticShapes, type Dataset } from '../src/train/dataset.js';
import { train } from '../src/train/train.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`bf16-accuracy: ${name} expects a positive integer but received ${process.argv[i + 1]}`);
  return v;
}

const epochs = option('--epochs', 3), trainSize = option('--train-size', 3000), testSize = option('--test-size', 1000);
const seed = 0;
if (!info().bf16) {
  console.error("bf16-accuracy: mode 'bf16' cannot run on this machine (info().bf16 is false)");
  process.exit(1);
}

const data = syntheticShapes({ train: trainSize, test: testSize, seed });
const t0 = performance.now();
const trained = await train(resnet({ depth: 20, variant: 'cifar', seed }), data, {
  epochs, lr: 0.02, batch: 32, warmup: 0.1, lrDecayAt: [0.5, 0.75], seed, progress: process.stderr.isTTY, label: 'ResNet-20',
});
const trainSeconds = (performance.now() - t0) / 1000;

/** Logits of every test image, batch by batch. */
async function logits(mode: 'exact' | 'bf16', d: Dataset): Promise<Float32Array> {
  const model = await load(trained.graph, { mode, threads: 2 });
  const per = d.x.length / d.count, classes = d.classes.length, batch = 100;
  const out = new Float32Array(d.count * classes);
  for (let s = 0; s < d.count; s += batch) {
    const n = Math.min(batch, d.count - s);
    const x = new Tensor('float32', d.x.slice(s * per, (s + n) * per), [n, ...d.dims]);
    const y = (await model.run({ [model.inputs[0]!.name]: x }))[model.outputs[0]!.name]!;
    out.set(y.data, s * classes);
  }
  await model.dispose();
  return out;
}

const argmax = (a: Float32Array, i: number, k: number) => {
  let best = 0;
  for (let j = 1; j < k; j++) if (a[i * k + j]! > a[i * k + best]!) best = j;
  return best;
};
const test = data.test, k = test.classes.length;
const exact = await logits('exact', test), bf16 = await logits('bf16', test);
let rightExact = 0, rightBf16 = 0, agree = 0, maxAbs = 0, maxErr = 0;
for (let i = 0; i < test.count; i++) {
  const a = argmax(exact, i, k), b = argmax(bf16, i, k);
  if (a === test.labels[i]) rightExact++;
  if (b === test.labels[i]) rightBf16++;
  if (a === b) agree++;
}
for (let i = 0; i < exact.length; i++) {
  maxAbs = Math.max(maxAbs, Math.abs(exact[i]!));
  maxErr = Math.max(maxErr, Math.abs(exact[i]! - bf16[i]!));
}
const pct = (n: number) => (100 * n) / test.count;
const result = {
  model: 'ResNet-20 (CIFAR-style), trained with train() on syntheticShapes', epochs, trainSize, testSize, trainSeconds: Math.round(trainSeconds),
  exactAccuracy: pct(rightExact), bf16Accuracy: pct(rightBf16), dropPoints: pct(rightExact) - pct(rightBf16),
  top1Agreement: pct(agree), relToMaxLogit: maxErr / maxAbs, cpu: info().isa, date: new Date().toISOString(),
};
const md = `# bf16 accuracy with trained weights

${result.model}: ${epochs} epochs on ${trainSize} images (lr 0.02, batch 32, warm-up 0.1, decay at 50% and 75%; ${result.trainSeconds} s), evaluated on the ${testSize} test images with \`load(graph, { mode })\` (native, 2 threads). The stem (3 input channels) and the FC stay float32 in mode 'bf16' (src/modes.ts).

| | exact | bf16 |
|---|---|---|
| test accuracy | ${result.exactAccuracy.toFixed(1)}% | ${result.bf16Accuracy.toFixed(1)}% |

- accuracy drop: **${result.dropPoints.toFixed(2)} points** (target < 0.5)
- top-1 agreement between exact and bf16: **${result.top1Agreement.toFixed(1)}%** of ${testSize} inputs
- max|logit(bf16) − logit(exact)| / max|logit(exact)|: ${result.relToMaxLogit.toExponential(2)}

Written by \`npm run bf16-accuracy\` (scripts/bf16-accuracy.ts) on ${result.date}.
`;
const dir = join(import.meta.dirname, '..', 'bench', 'results');
await mkdir(dir, { recursive: true });
await writeFile(join(dir, 'bf16-accuracy.md'), md);
await writeFile(join(dir, 'bf16-accuracy.json'), JSON.stringify(result, null, 2) + '\n');
console.log(md);
process.exitCode = result.dropPoints < 0.5 ? 0 : 1;
