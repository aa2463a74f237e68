// ONNX files as exporters save them, generated now with Debian's PyTorch and onnx
// (models/export_formats.py): a torchvision ResNet-18 whose tensors are all external data.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { load, parseNpy } from '../src/index.js';
import { OnnxImportError } from '../src/onnx/import.js';
import { relativeToMax } from './helpers/ort.js';
import { PYTHON, pytorchMissing } from './helpers/pytorch.js';

const MODELS = join(import.meta.dirname, '..', 'models');
const TOL = 1e-5; // max|a−e| ≤ 1e-5·max|e|

const missing = pytorchMissing;

interface Entry { name: string; file: string; input: string; output: string; inputName: string; outputName: string }

if (missing) {
  test.skip(`exporters' file formats vs PyTorch: ${missing} (apt-get install python3-torch python3-torchvision python3-onnx)`, () => {});
} else {
  test('a torchvision ResNet-18 saved with external data loads from its path and matches PyTorch; as bytes it says why not', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'resnode-formats-'));
    try {
      await promisify(execFile)(PYTHON, [join(MODELS, 'export_formats.py'), '--out', dir], { timeout: 300_000 });
      const entries = JSON.parse(readFileSync(join(dir, 'formats.json'), 'utf8')) as Entry[];
      for (const e of entries) {
        const x = parseNpy(new Uint8Array(readFileSync(join(dir, e.input))));
        const expected = parseNpy(new Uint8Array(readFileSync(join(dir, e.output)))).data;
        for (const backend of ['native', 'js'] as const) {
          const model = await load(join(dir, e.file), { backend, threads: 2 });
          const err = relativeToMax((await model.run({ [e.inputName]: x }))[e.outputName]!.data, expected);
          await model.dispose();
          t.log(`${e.name} ${backend}: max|err| / max|e| vs PyTorch = ${err.toExponential(2)}`);
          t.true(err <= TOL, `${e.name} ${backend}: ${err} > ${TOL}`);
        }
        const err = await t.throwsAsync(load(new Uint8Array(readFileSync(join(dir, e.file)))), { instanceOf: OnnxImportError });
        t.regex(err!.message, /initializers \(.*\) use external data, which needs the model's path/);
        t.true(err!.message.split('\n').length <= 3, `one line per cause:\n${err!.message}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
