// What a new user meets in their first hour: the CLI's --version, exit codes and
// single `run` help text, export and demo saying their weights are random, bench
// writing only where --out says (a temporary folder by default) with progress
// on stderr off a terminal; run() taking any object of ORT's Tensor shape; topK
// naming ImageNet classes; every error class exported; resnet({ depth: 20 })
// pointing at the CIFAR variant.
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import * as resnode from '../src/index.js';
import { imagenetLabels, load, resnet, Tensor, topK } from '../src/index.js';

const exec = promisify(execFile);
const root = join(import.meta.dirname, '..');
const tsx = pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href; // from any working folder
const cli = (cwd: string, ...args: string[]) =>
  exec(process.execPath, ['--import', tsx, join(root, 'src', 'cli.ts'), ...args], { cwd, maxBuffer: 1 << 24, timeout: 300_000 });
const failed = (p: Promise<unknown>) => p.then(() => ({ code: 0, stdout: '', stderr: '' }), (e: { code: number; stdout: string; stderr: string }) => e);

test('--version prints the package version; --help lists the exit codes', async (t) => {
  const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
  t.is((await cli(root, '--version')).stdout.trim(), version);
  const help = (await cli(root, '--help')).stdout;
  t.regex(help, /Exit codes:\n\s+0\s+success\n\s+1\s+the command ran and found a failure.*\n\s+2\s+the command could not run/);
});

test('run with neither images nor --input: exit 2 and the one run help text, which mentions images', async (t) => {
  const r = await failed(cli(root, 'run', 'model.onnx'));
  t.is(r.code, 2);
  t.regex(r.stderr, /give image paths to classify, or --input <tensor\.npy>/);
  t.regex(r.stderr, /Usage: resnode run \[options\] <model> \[images\.\.\.\]/);
  t.regex(r.stderr, /--top <k>/);
});

test('export says its weights are random; bench writes only to a temporary folder it names, progress on stderr', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'resnode-first-hour-'));
  try {
    const exp = await cli(dir, 'export', 'resnet18', '-o', 'r18.onnx', '--classes', '10');
    t.regex(exp.stdout, /its weights are random \(seed 0\), not trained/);

    await writeFile(join(dir, 'tiny.onnx'), resnet({ depth: 18, width: 8, inputSize: 32, numClasses: 10, seed: 1 }).toOnnx());
    const bench = await cli(dir, 'bench', 'tiny.onnx', '--backends', 'native', '--repeats', '2', '--warmup', '1', '--no-memory');
    t.deepEqual((await readdir(dir)).sort(), ['r18.onnx', 'tiny.onnx'], 'nothing written into the working folder');
    const wrote = /wrote (\S+)\.md and \S+\.svg/.exec(bench.stdout);
    t.truthy(wrote, bench.stdout);
    t.true(wrote![1]!.startsWith(join(tmpdir(), 'resnode-bench-')), wrote![1]);
    t.true(existsSync(`${wrote![1]}.md`) && existsSync(`${wrote![1]}.svg`));
    t.regex(bench.stderr, /bench .*\d+% \| /, 'progress on stderr although it is not a terminal');
    t.notRegex(bench.stdout, /\d+% \| /, 'stdout stays the report');
    await rm(join(wrote![1]!, '..'), { recursive: true, force: true });

    const out = join(dir, 'reports');
    const chosen = await cli(dir, 'bench', 'tiny.onnx', '--backends', 'native', '--repeats', '1', '--warmup', '1', '--no-memory', '--out', out);
    t.regex(chosen.stdout, new RegExp(`wrote ${out}/`));
    t.is((await readdir(out)).length, 2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('run() takes an ort.Tensor and a plain { type, data, dims }, and says what it takes otherwise', async (t) => {
  const model = await load(resnet({ depth: 18, width: 8, inputSize: 32, numClasses: 10, seed: 5 }).toOnnx(), { backend: 'native' });
  const data = Float32Array.from({ length: 3 * 32 * 32 }, (_, i) => Math.sin(i));
  const ours = (await model.run({ input: new Tensor('float32', data, [1, 3, 32, 32]) })).output!;
  const viaOrt = (await model.run({ input: new ort.Tensor('float32', data, [1, 3, 32, 32]) })).output!;
  const viaPlain = model.runSync({ input: { type: 'float32', data, dims: [1, 3, 32, 32] } }).output!;
  t.deepEqual(Array.from(viaOrt.data), Array.from(ours.data));
  t.deepEqual(Array.from(viaPlain.data), Array.from(ours.data));
  await t.throwsAsync(model.run({ input: { data, dims: [1, 3, 32, 32] } as never }), {
    instanceOf: TypeError,
    message: /run: expected a Tensor \(or an object of ONNX Runtime's Tensor shape: \{ type: 'float32', data: Float32Array, dims \}\) for feeds\["input"\]/,
  });
  await t.throwsAsync(model.run({ input: { type: 'int32', data, dims: [1, 3, 32, 32] } as never }), { instanceOf: TypeError, message: /feeds\["input"\]\.type/ });
  await t.throwsAsync(model.run({ input: { type: 'float32', data, dims: [1, 3, 32, 31] } }), { instanceOf: RangeError, message: /feeds\["input"\] has 3072 elements but its dims \[1, 3, 32, 31\] need 2976/ });
  await model.dispose();
});

test('topK names ImageNet classes for 1000-class logits, as classify does', (t) => {
  const logits = new Float32Array(1000);
  logits[281] = 9;
  logits[1] = 5;
  const [top] = topK(new Tensor('float32', logits, [1, 1000]), 2);
  t.deepEqual(top!.map((p) => [p.index, p.label]), [[281, imagenetLabels()[281]], [1, imagenetLabels()[1]]]);
  t.is(top![0]!.label, 'tabby');
});

test('every error class resnode throws is exported; resnet({ depth: 20 }) suggests the CIFAR variant', (t) => {
  for (const name of ['ModelError', 'BackendUnavailableError', 'MissingDependencyError', 'GraphError', 'OnnxImportError', 'MemoryLimitError', 'ImageDecodeError', 'WorkerError', 'QueueFullError', 'AbortedError']) {
    const cls = (resnode as Record<string, unknown>)[name] as (new (m: string) => Error) | undefined;
    t.is(typeof cls, 'function', name);
    t.true(new cls!('x') instanceof Error, name);
  }
  t.throws(() => resnet({ depth: 20 as never }), { instanceOf: RangeError, message: /variant: 'cifar'/ });
});
