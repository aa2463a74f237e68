// Whole models on the native backend, small enough for every architecture's
// CI job (the arm64 one runs this under qemu, where ONNX Runtime's arm64 build
// crashes, so it is not used here): PyTorch's committed reference models
// (models/*.onnx) against PyTorch's own outputs, and small ResNets (basic and
// bottleneck blocks, so 1×1, 3×3 and 7×7 convolutions, strided and not)
// against the pure-TypeScript kernels (which model-resnet checks against ONNX
// Runtime), at batch 1 and 2, with each ISA path forced in turn.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load, resnet, type ResNetDepth } from '../src/index.js';
import { parseNpy } from '../src/npy.js';
import { seededTensor } from '../src/validate.js';
import { registerNativePresence, variants } from './helpers/backends.js';
import { relativeToMax } from './helpers/ort.js';

const MODELS = join(import.meta.dirname, '..', 'models');
const TOL = 1e-4; // max|a−e| ≤ 1e-4·max|e|, the model tests' bound

interface Entry { name: string; file: string; input: string; output: string; inputName: string; outputName: string }
const manifest = JSON.parse(readFileSync(join(MODELS, 'reference.json'), 'utf8')) as Entry[];
const read = (file: string) => new Uint8Array(readFileSync(join(MODELS, file)));

registerNativePresence(test);

// RESNODE_TEST_ISAS narrows the ISA paths, as in the kernel tests.
for (const v of variants().filter((x) => x.backend === 'native')) {
  for (const e of manifest) {
    test.serial(`${v.label}: reference model ${e.name} matches PyTorch`, async (t) => {
      v.activate();
      try {
        const model = await load(read(e.file), { backend: 'native', threads: 2 });
        const x = parseNpy(read(e.input));
        const expected = parseNpy(read(e.output));
        const out = (await model.run({ [e.inputName]: x }))[e.outputName]!;
        t.deepEqual([...out.dims], [...expected.dims]);
        const err = relativeToMax(out.data, expected.data);
        t.true(err < TOL, `max err ${err}·max|e|`);
        await model.dispose();
      } finally {
        v.restore();
      }
    });
  }

  for (const depth of [18, 50] as ResNetDepth[]) {
    test.serial(`${v.label}: resnet${depth} (width 16, 64×64) matches the JS kernels at batch 1 and 2`, async (t) => {
      v.activate();
      try {
        const bytes = resnet({ depth, width: 16, inputSize: 64, numClasses: 10, seed: depth }).toOnnx();
        const model = await load(bytes, { backend: 'native', threads: 2 });
        const reference = await load(bytes, { backend: 'js' });
        for (const batch of [1, 2]) {
          const x = seededTensor([batch, 3, 64, 64], batch);
          const expected = (await reference.run({ input: x })).output!.data;
          const out = (await model.run({ input: x })).output!;
          t.deepEqual([...out.dims], [batch, 10]);
          const err = relativeToMax(out.data, expected);
          t.true(err < TOL, `batch ${batch}: max err ${err}·max|e|`);
        }
        await model.dispose();
        await reference.dispose();
      } finally {
        v.restore();
      }
    });
  }
}
