// An int8 (QDQ) model through the commands and the server: `resnode validate`
// passes against ORT, `resnode bench` races it with ORT, and serve() answers
// /v1/infer with what ORT's int8 run gives. The model is quantize()'s output.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseNpy, quantize, resnet, serve, Tensor, toNpy } from '../src/index.js';
import { ortRun } from './helpers/ort.js';
import { rng } from './helpers/rng.js';

const CLI = join(import.meta.dirname, '..', 'src', 'cli.ts');
const exec = promisify(execFile);
const cli = (...args: string[]) => exec(process.execPath, ['--import', 'tsx', CLI, ...args], { timeout: 300_000, maxBuffer: 1 << 24 });

function batch(n: number, seed: number): Tensor {
  const r = rng(seed);
  return new Tensor('float32', Float32Array.from({ length: n * 3 * 32 * 32 }, () => r() * 2 - 1), [n, 3, 32, 32]);
}

// A plain (no shortcut) CIFAR network: no residual Adds, so every layer runs integer-exact.
const int8 = quantize(resnet({ depth: 20, variant: 'cifar', plain: true, seed: 3, width: 8 }), { calibration: [batch(8, 1)], perChannel: true });

test.serial('resnode validate passes an int8 model against ORT, and bench races it with ORT', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'resnode-int8-cli-'));
  try {
    const file = join(dir, 'int8.onnx');
    writeFileSync(file, await int8);
    writeFileSync(join(dir, 'x.npy'), toNpy(batch(2, 5)));
    const v = await cli('validate', file, '--input', join(dir, 'x.npy'));
    t.regex(v.stdout, /PASS: backend native/);
    const b = await cli('bench', file, '--backends', 'native,ort', '--repeats', '2', '--warmup', '1', '--no-memory', '--threads', '2', '--out', dir, '--json', join(dir, 'bench.json'));
    t.regex(b.stdout, /native/);
    t.regex(b.stdout, /ort|ONNX Runtime/i);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.serial('serve() answers /v1/infer on an int8 model with ORT int8 run\'s values', async (t) => {
  const bytes = await int8;
  const s = await serve(bytes, { threads: 1 });
  try {
    const x = batch(2, 9);
    const r = await fetch(`${s.url}/v1/infer`, { method: 'POST', body: toNpy(x), headers: { 'content-type': 'application/octet-stream' } });
    t.is(r.status, 200);
    const y = parseNpy(new Uint8Array(await r.arrayBuffer()));
    t.deepEqual([...y.data], [...(await ortRun(bytes, { input: x })).output!]);
  } finally {
    await s.close();
  }
});
