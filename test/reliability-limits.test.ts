// Resource limits: load(…, { maxMemoryBytes }) rejects a model whose weights +
// planned activations exceed the limit before packing or allocating, and run()
// checks the plan for the actual batch.
import test from 'ava';
import { totalmem } from 'node:os';
import { load, resnet, ModelError } from '../src/index.js';
import { defaultMaxMemoryBytes, MemoryLimitError, checkMemory, inputDimsAt, weightBytes } from '../src/limits.js';
import { optimize } from '../src/graph/passes.js';
import { encodeRawModel, floatTensor } from '../src/onnx/builder.js';
import { seededTensor } from '../src/validate.js';

const MiB = 2 ** 20;

test('the default limit is min(8 GiB, half the machine memory)', (t) => {
  t.is(defaultMaxMemoryBytes(), Math.min(8 * 2 ** 30, Math.floor(totalmem() / 2)));
});

test('a model over the limit is rejected at load with the figures in the message', async (t) => {
  const g = resnet({ depth: 18, seed: 1, inputSize: 224, numClasses: 1000 });
  const e = await t.throwsAsync(load(g, { backend: 'js', maxMemoryBytes: 32 * MiB }), { instanceOf: MemoryLimitError });
  t.true(e instanceof ModelError);
  t.regex(e!.message, /^load: the model needs about [\d.]+ MiB \(weights 44\.\d MiB ×2 for the packed copy, activations [\d.]+ MiB for input "input" \[1, 3, 224, 224\]\), more than maxMemoryBytes = 32\.0 MiB \(33554432 bytes\)/);
  t.is(e!.limitBytes, 32 * MiB);
  t.true(e!.requiredBytes > 2 * 44 * MiB);
  // The same model fits under the default limit.
  await t.notThrowsAsync(async () => (await load(g, { backend: 'js' })).dispose());
});

test('the estimate is weights ×2 + the liveness plan of the declared input (batch 1 when dynamic)', (t) => {
  const g = optimize(resnet({ depth: 18, seed: 1, inputSize: 64, numClasses: 10 }));
  const est = checkMemory('t', g, inputDimsAt(g, 1), Infinity);
  t.is(est.weightBytes, weightBytes(g));
  t.is(est.totalBytes, 2 * est.weightBytes + est.activationBytes);
  t.is(est.activationBytes, 4 * est.plan.totalFloats);
  t.is(checkMemory('t', g, inputDimsAt(g, 8), Infinity).activationBytes, 8 * est.activationBytes);
});

test('an absurd declared input is rejected before anything is allocated (4 EiB of activations)', async (t) => {
  const bytes = encodeRawModel({ inputs: [{ name: 'x', dims: [1, 2 ** 20, 2 ** 20, 2 ** 20] }], outputs: [{ name: 'y' }], nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }] });
  const rss = process.memoryUsage().rss;
  const e = await t.throwsAsync(load(bytes, { backend: 'js' }), { instanceOf: MemoryLimitError });
  t.regex(e!.message, /needs about 4\.0 EiB/);
  t.true(process.memoryUsage().rss - rss < 64 * MiB);
});

test('run() checks the plan for the actual batch against the limit; smaller batches still run', async (t) => {
  const g = resnet({ depth: 18, seed: 2, inputSize: 32, numClasses: 10, width: 8 });
  const need1 = checkMemory('t', optimize(g), inputDimsAt(g, 1), Infinity).totalBytes;
  const need64 = checkMemory('t', optimize(g), inputDimsAt(g, 64), Infinity).totalBytes;
  const m = await load(g, { backend: 'js', maxMemoryBytes: (need1 + need64) / 2 });
  const e = await t.throwsAsync(m.run({ input: seededTensor([64, 3, 32, 32], 1) }), { instanceOf: MemoryLimitError });
  t.regex(e!.message, /^run: the model needs about .* for input "input" \[64, 3, 32, 32\]\), more than maxMemoryBytes/);
  t.throws(() => m.runSync({ input: seededTensor([64, 3, 32, 32], 1) }), { instanceOf: MemoryLimitError });
  const r = await m.run({ input: seededTensor([2, 3, 32, 32], 1) });
  t.deepEqual([...r.output!.dims], [2, 10]);
  await m.dispose();
});

test('maxMemoryBytes is validated', async (t) => {
  const g = resnet({ depth: 18, seed: 2, inputSize: 32, numClasses: 10, width: 8 });
  for (const bad of [0, -1, NaN, '1GB']) await t.throwsAsync(load(g, { backend: 'js', maxMemoryBytes: bad as number }), { instanceOf: TypeError, message: /options\.maxMemoryBytes/ });
  await t.notThrowsAsync(async () => (await load(g, { backend: 'js', maxMemoryBytes: Infinity })).dispose());
});

test('a 1 MB file whose 2-D BatchNormalization would expand to a 13 GiB dense weight is rejected before optimize() allocates it', async (t) => {
  const c = 60000;
  const ones = new Array(c).fill(1);

  const bytes = encodeRawModel({
    inputs: [{ name: 'x', dims: [1, 1] }], outputs: [{ name: 'y' }],
    nodes: [{ op: 'Gemm', inputs: ['x', 'w'], outputs: ['g'], attrs: { transB: 1 } }, { op: 'BatchNormalization', inputs: ['g', 's', 'b', 'm', 'v'], outputs: ['y'] }],
    initializers: [floatTensor('w', [c, 1], ones), ...['s', 'b', 'm', 'v'].map((n) => floatTensor(n, [c], ones))],
  });
  const rss = process.memoryUsage().rss;
  const e = await t.throwsAsync(load(bytes, { backend: 'js', maxMemoryBytes: 256 * MiB }), { instanceOf: MemoryLimitError });
  t.regex(e!.message, /optimising the model needs about 13\.4 GiB .*BatchNormalization on 2-D inputs/);
  t.true(process.memoryUsage().rss - rss < 128 * MiB);
});
