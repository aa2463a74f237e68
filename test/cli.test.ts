// The CLI end to end: export, run (.npy in and out), validate (exit codes), info.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseNpy, toNpy } from '../src/npy.js';
import { seededTensor } from '../src/validate.js';
import { ortRun, relativeToMax } from './helpers/ort.js';

const exec = promisify(execFile);
const cli = (...args: string[]) => exec(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { maxBuffer: 1 << 24 });

test('export → run → validate round trip', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'resnode-cli-'));
  const onnx = join(dir, 'r18.onnx');
  const exp = await cli('export', 'resnet18', '-o', onnx, '--classes', '10');
  t.regex(exp.stdout, /wrote .*r18\.onnx/);

  const x = seededTensor([1, 3, 224, 224], 5);
  await writeFile(join(dir, 'x.npy'), toNpy(x));
  await cli('run', onnx, '--input', join(dir, 'x.npy'), '--output', join(dir, 'y.npy'));
  const y = parseNpy(new Uint8Array(await readFile(join(dir, 'y.npy'))));
  t.deepEqual([...y.dims], [1, 10]);
  const expected = (await ortRun(new Uint8Array(await readFile(onnx)), { input: x })).output!;
  t.true(relativeToMax(y.data, expected) < 1e-4);

  const ok = await cli('validate', onnx, '--input', join(dir, 'x.npy'), '--reference', join(dir, 'y.npy'), '--json');
  const report = JSON.parse(ok.stdout);
  t.true(report.ok);
  t.is(report.outputs.length, 2);

  // A reference that disagrees makes validate exit 1 and say MISMATCH.
  const wrong = seededTensor([1, 10], 9);
  await writeFile(join(dir, 'wrong.npy'), toNpy(wrong));
  const err = await t.throwsAsync(cli('validate', onnx, '--input', join(dir, 'x.npy'), '--reference', join(dir, 'wrong.npy')));
  t.is((err as unknown as { code: number }).code, 1);
  t.regex((err as unknown as { stdout: string }).stdout, /MISMATCH/);
});

test('info --json reports the ISA and CUDA availability', async (t) => {
  const { stdout } = await cli('info', '--json');
  const i = JSON.parse(stdout);
  t.true(['avx512f', 'avx2', 'scalar'].includes(i.isa));
  t.is(typeof i.cuda.available, 'boolean');
});

test('bad arguments exit non-zero with a message', async (t) => {
  const err = await t.throwsAsync(cli('run', 'does-not-exist.onnx', '--input', 'nope.npy'));
  t.not((err as unknown as { code: number }).code, 0);
  t.regex((err as unknown as { stderr: string }).stderr, /resnode: .*does-not-exist\.onnx/);
});
