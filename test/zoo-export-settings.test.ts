// Export settings (issue 18): tiny ShuffleNetV2 and ConvNeXt models (torchvision's own classes
// at a few channels, 32x32) exported now by models/export_zoo.py --tiny at opsets 11 and 17,
// with the default settings and with dynamic batch/height/width axes. ShuffleNet's channel
// shuffle writes a shape subgraph (Shape → Gather → … → Reshape; chunk as Slice), folded per
// input shape; ConvNeXt's LayerNorm is decomposed at opset 11 and one node at 17. Each must
// match PyTorch within 1e-5·max|ref| on native and JS, the dynamic exports at their traced
// shape and at a second one (batch 2, 40x40).
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { load, parseNpy } from '../src/index.js';
import { ortRun, relativeToMax } from './helpers/ort.js';
import { PYTHON, pytorchMissing } from './helpers/pytorch.js';

const TOL = 1e-5;

interface Check { input: string; output: string; inputShape: number[] }
interface Entry { name: string; setting: string; file: string; opset: number; dynamic: boolean; ops: string[]; checks: Check[]; exportError?: string }

if (pytorchMissing) {
  test.skip(`export settings vs PyTorch: ${pytorchMissing}`, () => {});
} else {
  const dir = mkdtempSync(join(tmpdir(), 'resnode-zoo-settings-'));
  const exported = promisify(execFile)(PYTHON, [join(import.meta.dirname, '..', 'models', 'export_zoo.py'), '--tiny', '--opsets', '11,17', '--dynamic', '--out', dir], { timeout: 300_000 })
    .then(() => JSON.parse(readFileSync(join(dir, 'zoo.json'), 'utf8')) as Entry[]);
  test.after.always(() => rmSync(dir, { recursive: true, force: true }));
  const read = (f: string) => new Uint8Array(readFileSync(join(dir, f)));

  test.serial('export_zoo.py --tiny writes each model at opsets 11 and 17, static and dynamic, in the forms the importer must fold', async (t) => {
    const entries = await exported;
    t.deepEqual(entries.filter((e) => e.exportError).map((e) => e.name), []);
    t.is(entries.length, 8);
    const ops = (name: string, opset: number, dynamic: boolean) => entries.find((e) => e.name === name && e.opset === opset && e.dynamic === dynamic)!.ops;
    // What makes these exports hard: the shape subgraphs, and LayerNorm decomposed before opset 17.
    for (const opset of [11, 17]) t.true(['Shape', 'Gather', 'Unsqueeze', 'Concat', 'Reshape'].every((op) => ops('shufflenet_tiny', opset, true).includes(op)), `opset ${opset}`);
    t.true(['ReduceMean', 'Pow', 'Sqrt', 'Erf', 'MatMul'].every((op) => ops('convnext_tiny_blocks', 11, false).includes(op)));
    t.true(ops('convnext_tiny_blocks', 17, false).includes('LayerNormalization'));
  });

  for (const name of ['shufflenet_tiny', 'convnext_tiny_blocks']) {
    test.serial(`${name} at opsets 11 and 17, static and dynamic N/H/W, matches PyTorch on native and JS`, async (t) => {
      for (const e of (await exported).filter((m) => m.name === name)) {
        const bytes = read(e.file);
        for (const backend of ['native', 'js'] as const) {
          const model = await load(bytes, { backend, threads: 2 });
          try {
            // The decomposed LayerNorm imports as LayerNormalization nodes, and no shape op is left.
            if (name === 'convnext_tiny_blocks') t.true(model.graph.nodes.filter((n) => n.op === 'LayerNormalization').length >= 4, e.setting);
            t.is(e.checks.length, e.dynamic ? 2 : 1);
            for (const c of e.checks) {
              const x = parseNpy(read(c.input));
              const expected = parseNpy(read(c.output));
              const y = (await model.run({ input: x }))['output']!;
              t.deepEqual([...y.dims], [...expected.dims], `${e.setting} ${c.inputShape.join('x')}`);
              const err = relativeToMax(y.data, expected.data);
              t.log(`${name} ${e.setting} ${c.inputShape.join('x')} ${backend}: ${err.toExponential(2)}`);
              t.true(err <= TOL, `${name} ${e.setting} ${c.inputShape.join('x')} ${backend}: ${err} > ${TOL}`);
              if (backend === 'native') t.true(relativeToMax(y.data, (await ortRun(bytes, { input: x }))['output']!) <= TOL, `${e.setting} vs ONNX Runtime`);
            }
          } finally {
            await model.dispose();
          }
        }
      }
    });
  }
}
