// A whole model on the CUDA backend: on a GPU it must match the CPU (FP32 within
// 1e-5·max|e|, TF32 within 1e-3·max|e|); without one, load() says why not.
import test from 'ava';
import { BackendUnavailableError, info, load, resnet } from '../src/index.js';
import { seededTensor } from '../src/validate.js';
import { relativeToMax } from './helpers/ort.js';

const cuda = info().cuda;

if (!cuda.available) {
  test('cuda backend: without a usable GPU, load() and ops throw a clear error', async (t) => {
    const err = await t.throwsAsync(load(resnet({ depth: 18, inputSize: 32, numClasses: 10 }), { backend: 'cuda' }), { instanceOf: BackendUnavailableError });
    t.regex(err!.message, cuda.compiled ? /^load: CUDA is not available: / : /^load: this build of resnode has no CUDA support; build it with `npm run build:cuda`/);
    t.log(`SKIP (no GPU): ${err!.message}`);
  });
} else {
  test.serial('cuda backend: ResNet-50 on the device matches the CPU (FP32 exact, TF32 fast)', async (t) => {
    const graph = resnet({ depth: 50, seed: 5 });
    const x = seededTensor([2, 3, 224, 224], 9);
    const cpu = await load(graph, { backend: 'native' });
    const expected = (await cpu.run({ input: x })).output!.data;
    for (const [mode, tol] of [['exact', 1e-5], ['fast', 1e-3]] as const) {
      const gpu = await load(graph, { backend: 'cuda', mode });
      const got = (await gpu.run({ input: x })).output!.data;
      const err = relativeToMax(got, expected);
      t.log(`${mode}: max|err| / max|e| = ${err.toExponential(2)}`);
      t.true(err <= tol, `${mode}: ${err} > ${tol}`);
      const concurrent = await Promise.all([0, 1, 2].map(() => gpu.run({ input: x })));
      for (const r of concurrent) t.deepEqual(r.output!.data, got);
      await gpu.dispose();
    }
    await cpu.dispose();
  });
}
