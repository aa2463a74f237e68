// The CLI's --mode bf16: `resnode run` and `resnode bench` run the bf16 kernels
// where the CPU has AVX512_BF16, and exit non-zero naming the missing feature
// where RESNODE_ISA caps it off.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { info } from '../src/info.js';
import { MODES } from '../src/modes.js';
import { parseNpy, toNpy } from '../src/npy.js';
import { seededTensor } from '../src/validate.js';
import { relativeToMax } from './helpers/ort.js';

const exec = promisify(execFile);
const cli = (env: NodeJS.ProcessEnv, ...args: string[]) =>
  exec(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { maxBuffer: 1 << 24, env: { ...process.env, ...env } });
const bf16Test = info().bf16 ? test : test.skip;

async function exported(t: import('ava').ExecutionContext) {
  const dir = await mkdtemp(join(tmpdir(), 'resnode-cli-bf16-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const onnx = join(dir, 'r18.onnx');
  await cli({}, 'export', 'resnet18', '-o', onnx, '--classes', '10');
  await writeFile(join(dir, 'x.npy'), toNpy(seededTensor([1, 3, 224, 224], 5)));
  return { dir, onnx, x: join(dir, 'x.npy') };
}

bf16Test('resnode run --mode bf16 gives the exact output within the bf16 bound (and not bit for bit)', async (t) => {
  const { dir, onnx, x } = await exported(t);
  await cli({}, 'run', onnx, '--input', x, '--output', join(dir, 'exact.npy'));
  await cli({}, 'run', onnx, '--input', x, '--output', join(dir, 'bf16.npy'), '--mode', 'bf16');
  const exact = parseNpy(new Uint8Array(await readFile(join(dir, 'exact.npy')))).data;
  const bf16 = parseNpy(new Uint8Array(await readFile(join(dir, 'bf16.npy')))).data;
  const rel = relativeToMax(bf16, exact);
  t.true(rel > 0 && rel < MODES.bf16.relToMax, `bf16 vs exact: ${rel}`);
});

test('resnode run --mode bf16 under RESNODE_ISA=avx512 exits 2, naming AVX512_BF16', async (t) => {
  const { onnx, x } = await exported(t);
  const err = await t.throwsAsync(cli({ RESNODE_ISA: 'avx512' }, 'run', onnx, '--input', x, '--mode', 'bf16'));
  t.is((err as unknown as { code: number }).code, 2);
  t.regex((err as unknown as { stderr: string }).stderr, /resnode: load: mode 'bf16' is not available: .*AVX512_BF16/);
});

bf16Test('resnode bench --mode exact,bf16 races both modes and labels the bf16 row', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'resnode-cli-bench-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const json = join(dir, 'r.json');
  await cli({}, 'bench', 'resnet18', '--backends', 'native', '--mode', 'exact,bf16', '--repeats', '1', '--warmup', '1', '--no-memory', '--out', dir, '--json', json);
  const report = JSON.parse(await readFile(json, 'utf8')) as { results: { label: string; latency: { median: number } }[] };
  t.deepEqual(report.results.map((r) => r.label), ['native', 'native (bf16)']);
  t.true(report.results.every((r) => r.latency.median > 0));
});

test('resnode info reports bf16: false with the reason under RESNODE_ISA=avx2, and info --json the flag', async (t) => {
  const text = await cli({ RESNODE_ISA: 'avx2' }, 'info');
  t.regex(text.stdout, /bf16: +unavailable \(RESNODE_ISA caps the ISA below AVX512_BF16/);
  const json = JSON.parse((await cli({ RESNODE_ISA: 'avx2' }, 'info', '--json')).stdout) as { bf16: boolean };
  t.false(json.bf16);
  t.is((JSON.parse((await cli({}, 'info', '--json')).stdout) as { bf16: boolean }).bf16, info().bf16);
});
