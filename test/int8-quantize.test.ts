// quantize() and `resnode quantize`: the QDQ model they write is a standard
// one that onnxruntime-node runs in int8 (int8 weight initializers behind
// DequantizeLinear), and resnode agrees with ORT's run of it, never more than
// one quantization step apart.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { load, quantize, resnet, Tensor, toNpy } from '../src/index.js';
import { fromOnnx } from '../src/onnx/import.js';
import { DataType, ModelProto } from '../src/onnx/proto.js';
import type { ModelProtoLike } from '../src/onnx/proto.js';
import { ortRun } from './helpers/ort.js';
import { agreement } from './helpers/quant-agreement.js';
import { rng } from './helpers/rng.js';

const CLI = join(import.meta.dirname, '..', 'src', 'cli.ts');

function batch(n: number, seed: number, size = 32): Tensor {
  const r = rng(seed);
  return new Tensor('float32', Float32Array.from({ length: n * 3 * size * size }, () => r() * 2 - 1), [n, 3, size, size]);
}


function outputStep(bytes: Uint8Array, name: string): number {
  const n = fromOnnx(bytes).nodes.find((m) => m.outputs[0] === name);
  if (n?.op !== 'QuantizeDequantize') throw new Error(`output ${name} is not quantized`);
  return n.attrs.scale;
}

for (const perChannel of [false, true]) {
  test.serial(`quantize() a CIFAR ResNet-20 (${perChannel ? 'per-channel' : 'per-tensor'}): ORT runs the QDQ file in int8 and resnode agrees with it`, async (t) => {
    const g = resnet({ depth: 20, variant: 'cifar', seed: 5 });
    const calls: number[] = [];
    const bytes = await quantize(g, { calibration: [batch(8, 1), batch(8, 2)], perChannel, onBatch: (done) => calls.push(done) });
    t.deepEqual(calls, [1, 2]);
    const m = ModelProto.toObject(ModelProto.decode(bytes), { defaults: false }) as ModelProtoLike;
    const int8Weights = (m.graph!.initializer ?? []).filter((i) => i.dataType === DataType.INT8 && (i.dims ?? []).length >= 2);
    t.is(int8Weights.length, 22, 'every conv and the fc store int8 weights'); // 19 convs + 2 shortcut convs + fc
    t.false((m.graph!.initializer ?? []).some((i) => i.dataType === DataType.FLOAT && (i.dims ?? []).length >= 2), 'no float weight left');
    const step = outputStep(bytes, 'output');
    for (const seed of [9, 10]) {
      const x = batch(16, seed);
      const theirs = (await ortRun(bytes, { input: x })).output!;
      for (const backend of ['native', 'js'] as const) {
        const model = await load(bytes, { backend, threads: 2 });
        const ours = (await model.run({ input: x })).output!.data;
        await model.dispose();
        const a = agreement(ours, theirs, step);
        t.log(`${backend} seed ${seed}: ${(a.identical * 100).toFixed(2)}% identical, max ${a.maxSteps.toFixed(2)} steps`);
        // Every Conv/Gemm/GlobalAveragePool runs integer-exact (src/graph/integer-convs.ts) and every
        // residual Add in ORT's QLinearAdd arithmetic (src/graph/integer-adds.ts): the target.
        t.true(a.identical >= 0.999, `${backend}: ${a.identical} identical`);
        t.true(a.maxSteps <= 1 + 1e-4, `${backend}: ${a.maxSteps} steps apart`);
      }
    }
  });
}

test('quantize() refuses bad options and quantized models with errors that name them', async (t) => {
  const g = resnet({ depth: 20, variant: 'cifar', seed: 5, width: 4 });
  await t.throwsAsync(quantize(g, { calibration: [] }), { instanceOf: TypeError, message: /quantize: expected a non-empty array of Tensor batches for options\.calibration/ });
  await t.throwsAsync(quantize(g, { calibration: [batch(2, 1)], method: 'mean' as never }), { message: /quantize.*options\.method/ });
  const q = await quantize(g, { calibration: [batch(2, 1)], method: 'percentile' });
  await t.throwsAsync(quantize(q, { calibration: [batch(2, 1)] }), { instanceOf: RangeError, message: /quantize: the model is already quantized/ });
});

test('`resnode quantize` writes a QDQ model from a .npy calibration batch, with a progress bar', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'resnode-quantize-'));
  try {
    const g = resnet({ depth: 20, variant: 'cifar', seed: 6, width: 8 });
    writeFileSync(join(dir, 'float.onnx'), g.toOnnx());
    writeFileSync(join(dir, 'calib.npy'), toNpy(batch(12, 3)));
    const r = await promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, 'quantize', join(dir, 'float.onnx'), '-o', join(dir, 'int8.onnx'), '--calibrate', join(dir, 'calib.npy'), '--per-channel', '--batch-size', '5'], { timeout: 120_000 });
    t.regex(r.stdout, /wrote .*int8\.onnx .*per-channel.*3 calibration batches/);
    t.regex(r.stderr, /calibrating .* 3\/3 batches/);
    const bytes = new Uint8Array(readFileSync(join(dir, 'int8.onnx')));
    const x = batch(4, 11);
    const theirs = (await ortRun(bytes, { input: x })).output!;
    const model = await load(bytes, { threads: 2 });
    const a = agreement((await model.run({ input: x })).output!.data, theirs, outputStep(bytes, 'output'));
    await model.dispose();
    t.true(a.identical >= 0.999 && a.maxSteps <= 1 + 1e-4, JSON.stringify(a));
    const bad = await t.throwsAsync(promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, 'quantize', join(dir, 'float.onnx'), '-o', join(dir, 'x.onnx'), '--calibrate', join(dir, 'int8.onnx')], { timeout: 60_000 }));
    t.truthy(bad);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('quantize() calibrates a ResNet-18 (unfused residual Adds whose memory-plan slots are larger than the sum they hold)', async (t) => {
  const g = resnet({ depth: 18, width: 8, inputSize: 64, numClasses: 10, seed: 4 });
  const bytes = await quantize(g, { calibration: [batch(2, 1, 64)] });
  const x = batch(2, 2, 64);
  const theirs = (await ortRun(bytes, { input: x })).output!;
  const model = await load(bytes, { threads: 2 });
  const a = agreement((await model.run({ input: x })).output!.data, theirs, outputStep(bytes, 'output'));
  await model.dispose();
  t.log(`${(a.identical * 100).toFixed(1)}% identical, max ${a.maxSteps.toFixed(2)} steps`);
  t.true(a.maxSteps <= 1 + 1e-4, JSON.stringify(a));
});
