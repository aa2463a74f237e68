// --mode on the CLI: `run` and `validate` load in the mode asked for (and say
// so), validate takes the mode's tolerance, and a mode the backend cannot
// honour is a clear error, not a silent exact run.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { resnet } from '../src/graph/resnet.js';
import { MODES } from '../src/modes.js';
import { toNpy } from '../src/npy.js';
import { seededTensor } from '../src/validate.js';

const exec = promisify(execFile);
const cli = (...args: string[]) => exec(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { maxBuffer: 1 << 24 });

async function fixture(): Promise<{ onnx: string; x: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'resnode-cli-mode-'));
  const onnx = join(dir, 'r18.onnx');
  await writeFile(onnx, resnet({ depth: 18, numClasses: 10, seed: 3, inputSize: 64 }).toOnnx());
  const x = join(dir, 'x.npy');
  await writeFile(x, toNpy(seededTensor([1, 3, 64, 64], 4)));
  return { onnx, x };
}

test('run --mode fast and validate --mode fast', async (t) => {
  const { onnx, x } = await fixture();
  const run = JSON.parse((await cli('run', onnx, '--input', x, '--mode', 'fast', '--threads', '2', '--json')).stdout);
  t.is(run.mode, 'fast');
  t.deepEqual(run.outputs.output.dims, [1, 10]);
  const report = JSON.parse((await cli('validate', onnx, '--input', x, '--mode', 'fast', '--threads', '2', '--json')).stdout);
  t.is(report.mode, 'fast');
  t.is(report.rtol, MODES.fast.validate.rtol);
  t.true(report.ok);
  const exact = JSON.parse((await cli('validate', onnx, '--input', x, '--threads', '2', '--json')).stdout);
  t.is(exact.mode, 'exact');
  t.is(exact.rtol, MODES.exact.validate.rtol);
});

test('--mode is checked: an unknown mode, and a mode the backend cannot honour', async (t) => {
  const { onnx, x } = await fixture();
  const bad = await t.throwsAsync(cli('run', onnx, '--input', x, '--mode', 'turbo'));
  t.regex((bad as unknown as { stderr: string }).stderr, /--mode.*expected one of 'exact', 'fast'/s);
  const js = await t.throwsAsync(cli('validate', onnx, '--input', x, '--backend', 'js', '--mode', 'fast'));
  t.regex((js as unknown as { stderr: string }).stderr, /validate: mode 'fast' is not available on backend 'js'/);
  const run = await t.throwsAsync(cli('run', onnx, '--input', x, '--backend', 'js', '--mode', 'fast'));
  t.regex((run as unknown as { stderr: string }).stderr, /load: mode 'fast' is not available on backend 'js'/);
});
