// Our runtime (native and JS) on models exported by PyTorch, against PyTorch's
// own outputs: the small committed models, and torchvision ResNet-18 and
// ResNeXt-50 32x4d generated at test time by models/export_reference.py.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { info, load, parseNpy, Tensor } from '../src/index.js';
import { MODES as MODE_ERROR_BOUNDS, MODE_NAMES } from '../src/modes.js';
import { ortRun, relativeToMax } from './helpers/ort.js';
import { PYTHON, pytorchMissing } from './helpers/pytorch.js';

const MODELS = join(import.meta.dirname, '..', 'models');
const TOL = 1e-4; // max|a−e| ≤ 1e-4·max|e|

interface Entry { name: string; file: string; input: string; output: string; inputName: string; outputName: string }
const read = (dir: string, f: string) => new Uint8Array(readFileSync(join(dir, f)));

async function check(t: import('ava').ExecutionContext, dir: string, e: Entry, backend: 'native' | 'js') {
  const bytes = read(dir, e.file);
  const x = parseNpy(read(dir, e.input));
  const expected = parseNpy(read(dir, e.output));
  const model = await load(bytes, { backend, threads: 2 });
  const y = (await model.run({ [e.inputName]: x }))[e.outputName]!;
  await model.dispose();
  t.deepEqual([...y.dims], [...expected.dims]);
  const err = relativeToMax(y.data, expected.data);
  t.log(`${e.name} ${backend}: max|err| / max|e| vs PyTorch = ${err.toExponential(2)}`);
  t.true(err <= TOL, `${e.name} ${backend}: ${err} > ${TOL}`);
  // And against ONNX Runtime on the same input.
  const ort = (await ortRun(bytes, { [e.inputName]: x }))[e.outputName]!;
  t.true(relativeToMax(y.data, ort) <= TOL);
  return y;
}

const committed = JSON.parse(readFileSync(join(MODELS, 'reference.json'), 'utf8')) as Entry[];
for (const e of committed) {
  for (const backend of ['native', 'js'] as const) {
    test(`committed ${e.name} (${backend}) matches PyTorch's output`, (t) => check(t, MODELS, e, backend).then(() => undefined));
  }
}

test('the mission\'s 1×1 example: 1×192×28×28 through 32 filters of 1×1×192 gives 1×32×28×28', async (t) => {
  const e = committed.find((c) => c.name === 'conv1x1')!;
  const y = await check(t, MODELS, e, 'native');
  t.deepEqual([...y.dims], [1, 32, 28, 28]);
});

const torchMissing = pytorchMissing;

if (torchMissing) {
  test.skip(`torchvision ResNet-18, ResNet-50 and ResNeXt-50 vs PyTorch: ${torchMissing} (apt-get install python3-torch python3-torchvision python3-onnx)`, () => {});
} else {
  test('torchvision ResNet-18, ResNet-50 and ResNeXt-50 32x4d (grouped conv), generated now, match PyTorch on both backends and within each mode\'s bound', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'resnode-large-'));
    try {
      await promisify(execFile)(PYTHON, [join(MODELS, 'export_reference.py'), '--large', '--out', dir], { timeout: 600_000 });
      const large = JSON.parse(readFileSync(join(dir, 'large.json'), 'utf8')) as Entry[];
      t.deepEqual(large.map((e) => e.name), ['resnet18', 'resnet50', 'resnext50_32x4d']);
      for (const e of large) for (const backend of ['native', 'js'] as const) await check(t, dir, e, backend);
      // Each mode's stated error bound, against PyTorch, on ResNet-18 and ResNet-50.
      for (const e of large.filter((m) => m.name !== 'resnext50_32x4d')) {
        const x = parseNpy(read(dir, e.input));
        const expected = parseNpy(read(dir, e.output)).data;
        // bf16 where this CPU runs it (AVX512_BF16); test/mode-bf16.test.ts covers its refusal elsewhere.
        for (const mode of MODE_NAMES.filter((m) => m !== 'bf16' || info().bf16)) {
          const model = await load(read(dir, e.file), { backend: 'native', threads: 2, mode });
          const err = relativeToMax((await model.run({ input: x })).output!.data, expected);
          await model.dispose();
          t.log(`${e.name} ${mode}: max|err| / max|e| vs PyTorch = ${err.toExponential(2)} (bound ${MODE_ERROR_BOUNDS[mode].relToMax})`);
          t.true(err <= MODE_ERROR_BOUNDS[mode].relToMax, `${e.name} ${mode}: ${err} > ${MODE_ERROR_BOUNDS[mode].relToMax}`);
        }
      }
      // Batch 3 through the dynamic batch dimension, against ONNX Runtime.
      const bytes = read(dir, large[0]!.file);
      const x = new Tensor('float32', new Float32Array(3 * 3 * 224 * 224).map((_, i) => Math.sin(i)), [3, 3, 224, 224]);
      const model = await load(bytes, { backend: 'native', threads: 2 });
      const y = (await model.run({ input: x })).output!;
      t.true(relativeToMax(y.data, (await ortRun(bytes, { input: x })).output!) <= TOL);
      await model.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
