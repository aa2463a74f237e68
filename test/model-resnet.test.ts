// ResNets built by the facade and exported agree with ONNX Runtime, on both backends.
import test from 'ava';
import { load, resnet, Tensor, type ResNetDepth } from '../src/index.js';
import { seededTensor } from '../src/validate.js';
import { ortRun, relativeToMax } from './helpers/ort.js';

const TOL = 1e-4; // × max|expected| on the logits, the bound

// Native runs the full 224×224 input. The JS kernels are ~100× slower, so they
// run the same networks on 112×112 inputs (same layers and weights, a quarter
// of the pixels) to keep the suite within its time budget.
const cases: { depth: ResNetDepth; plain: boolean }[] = [18, 34, 50, 101].flatMap((d) => [
  { depth: d as ResNetDepth, plain: false },
  { depth: d as ResNetDepth, plain: true },
]);

for (const { depth, plain } of cases) {
  for (const backend of ['native', 'js'] as const) {
    const size = backend === 'native' ? 224 : 112;
    test(`${plain ? 'plain' : 'resnet'}${depth} ${backend} ${size}×${size} matches ONNX Runtime at batch 1 and 3`, async (t) => {
      const graph = resnet({ depth, plain, seed: depth + (plain ? 1000 : 0), inputSize: size, numClasses: 100 });
      const bytes = graph.toOnnx();
      const model = await load(bytes, { backend, threads: 2 });
      for (const batch of [1, 3]) {
        const x = seededTensor([batch, 3, size, size], batch);
        const expected = (await ortRun(bytes, { input: x })).output!;
        const actual = (await model.run({ input: x })).output!;
        t.deepEqual([...actual.dims], [batch, 100]);
        const err = relativeToMax(actual.data, expected);
        t.log(`batch ${batch}: max|err| / max|e| = ${err.toExponential(2)}`);
        t.true(err <= TOL, `batch ${batch}: ${err} > ${TOL}`);
      }
      await model.dispose();
    });
  }
}

test('runSync and run agree bit for bit, and concurrent runs equal serial ones', async (t) => {
  const bytes = resnet({ depth: 18, seed: 7, inputSize: 64, numClasses: 10 }).toOnnx();
  const model = await load(bytes, { backend: 'native', threads: 2 });
  const xs = [1, 2, 3, 4].map((s) => seededTensor([1 + (s % 2), 3, 64, 64], s));
  const serial = xs.map((x) => model.runSync({ input: x }).output!.data);
  const concurrent = await Promise.all(xs.map((x) => model.run({ input: x })));
  concurrent.forEach((r, i) => t.deepEqual(r.output!.data, serial[i]));
  await model.dispose();
});

test('a wrong input shape or name gets a clear error, and the model stays usable', async (t) => {
  const model = await load(resnet({ depth: 18, seed: 1, inputSize: 64, numClasses: 10 }), { backend: 'native' });
  await t.throwsAsync(model.run({ input: Tensor.zeros([1, 3, 32, 32]) }), {
    instanceOf: RangeError,
    message: 'run: input "input" expects dims [N, 3, 64, 64] but received [1, 3, 32, 32]',
  });
  await t.throwsAsync(model.run({ image: Tensor.zeros([1, 3, 64, 64]) }), { instanceOf: RangeError, message: /unknown input "image"/ });
  await t.throwsAsync(model.run({}), { instanceOf: TypeError, message: /feeds\["input"\]/ });
  const ok = await model.run({ input: seededTensor([1, 3, 64, 64], 3) });
  t.deepEqual([...ok.output!.dims], [1, 10]);
  t.deepEqual(model.inputs, [{ name: 'input', type: 'float32', dims: [-1, 3, 64, 64] }]);
  await model.dispose();
  await t.throwsAsync(model.run({ input: seededTensor([1, 3, 64, 64], 3) }), { message: /disposed/ });
});
