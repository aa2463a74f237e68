// The per-input-shape plan cache is an LRU whose arenas count against
// maxMemoryBytes together with the weights (not per shape): a model fed every
// batch size from 1 to 40 stays under its budget, evicts and frees the least
// recently used plans, and answers correctly after an eviction.
import test from 'ava';
import { optimize } from '../src/graph/passes.js';
import { resnet } from '../src/graph/resnet.js';
import { checkMemory, inputDimsAt } from '../src/limits.js';
import { load } from '../src/model.js';
import { nativeAvailable } from '../src/native.js';
import { seededTensor } from '../src/validate.js';

const backend = nativeAvailable() ? 'native' : 'js';
const graph = resnet({ depth: 18, seed: 7, inputSize: 32, numClasses: 10, width: 16 });
const need = (batch: number) => checkMemory('t', optimize(graph), inputDimsAt(graph, batch), Infinity);

test(`batch sizes 1..40 keep weights + every cached arena under maxMemoryBytes, and results stay right after eviction (${backend})`, async (t) => {
  const at40 = need(40);
  // Room for the weights and about three batch-40 arenas: far less than the 40 shapes' sum.
  const limit = 2 * at40.weightBytes + 3 * at40.activationBytes;
  let sum = 2 * at40.weightBytes;
  for (let b = 1; b <= 40; b++) sum += need(b).activationBytes;
  t.true(sum > 3 * limit, `the 40 arenas together (${sum}) must be far over the budget (${limit}) for the test to mean anything`);

  const model = await load(graph, { backend, threads: 2, maxMemoryBytes: limit });
  const first = new Map<number, Float32Array>();
  let peak = 0;
  for (let b = 1; b <= 40; b++) {
    first.set(b, (await model.run({ input: seededTensor([b, 3, 32, 32], b) })).output!.data);
    peak = Math.max(peak, model.memoryBytes);
    t.true(model.memoryBytes <= limit, `after batch ${b}: ${model.memoryBytes} > ${limit}`);
  }
  t.log(`peak ${peak} of ${limit} bytes; ${model.cachedPlans} plans cached at the end`);
  t.true(model.cachedPlans < 40 && model.cachedPlans >= 1, `${model.cachedPlans} plans cached`);
  // Batch 1's plan was evicted long ago: re-planned, it gives the same bits; so do the survivors.
  for (const b of [1, 2, 17, 39, 40]) {
    t.deepEqual(model.runSync({ input: seededTensor([b, 3, 32, 32], b) }).output!.data, first.get(b), `batch ${b} after eviction`);
  }
  // An independent model with no eviction agrees.
  const fresh = await load(graph, { backend, threads: 2 });
  for (const b of [1, 23, 40]) t.deepEqual((await fresh.run({ input: seededTensor([b, 3, 32, 32], b) })).output!.data, first.get(b));
  await fresh.dispose();
  await model.dispose();
  t.is(model.cachedPlans, 0);
});

test('the most recently used plan is kept: alternating two shapes under a budget for two never re-plans them', async (t) => {
  const x = seededTensor([8, 3, 32, 32], 1);
  const y = seededTensor([7, 3, 32, 32], 2);
  // The budget: what the two shapes' arenas take (measured), and a little more.
  const probe = await load(graph, { backend, threads: 2 });
  await probe.run({ input: x });
  const one = probe.memoryBytes;
  await probe.run({ input: y });
  const limit = probe.memoryBytes + (one - 2 * need(8).weightBytes) / 4;
  await probe.dispose();
  const model = await load(graph, { backend, threads: 2, maxMemoryBytes: limit });
  await model.run({ input: x });
  await model.run({ input: y });
  const bytes = model.memoryBytes;
  for (let i = 0; i < 5; i++) {
    await model.run({ input: x });
    await model.run({ input: y });
  }
  t.is(model.cachedPlans, 2);
  t.is(model.memoryBytes, bytes, 'no arena was freed and re-made');
  // A third shape evicts the least recently used one (batch 8), not the one just run.
  await model.run({ input: seededTensor([6, 3, 32, 32], 3) });
  t.true(model.memoryBytes <= limit);
  t.is(model.cachedPlans, 2);
  await model.dispose();
});
