// `mode` on WorkerPool, serve() and `resnode serve --mode` (issue 16), and the pool's
// messages naming a worker by its index (issue 17). A mode passed through gives the same
// bits as load() with that mode in this thread; where this machine's 'fast' kernels differ
// from 'exact' (Winograd on AVX-512), the result must also differ from exact's.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from '../src/model.js';
import { parseNpy, toNpy } from '../src/npy.js';
import type { InferenceServer } from '../src/serve/server.js';
import { seededTensor } from '../src/validate.js';
import { WorkerError, WorkerPool } from '../src/workers/pool.js';
import { modelBytes, post, withServer } from './helpers/serve.js';

const x = seededTensor([2, 3, 64, 64], 31);
const outputs = (async () => {
  const [exact, fast] = await Promise.all([load(modelBytes, { threads: 1 }), load(modelBytes, { threads: 1, mode: 'fast' })]);
  return { exact: (await exact.run({ input: x })).output!.data, fast: (await fast.run({ input: x })).output!.data };
})();

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

async function checkFast(t: import('ava').ExecutionContext, got: Float32Array): Promise<void> {
  const { exact, fast } = await outputs;
  t.true(same(got, fast), "the result is 'fast' mode's, bit for bit");
  if (!same(exact, fast)) t.false(same(got, exact), "and not 'exact' mode's");
  else t.log("this machine's fast kernels give exact's bits; only equality with load(fast) is checked");
}

test.serial('WorkerPool.create({ mode }) loads every worker in that mode; a bad mode names the option', async (t) => {
  const pool = await WorkerPool.create(modelBytes, { size: 1, threads: 1, mode: 'fast' });
  try {
    t.is(pool.mode, 'fast');
    await checkFast(t, (await pool.run({ input: x })).output!.data);
  } finally {
    await pool.close();
  }
  const exact = await WorkerPool.create(modelBytes, { size: 1, threads: 1 });
  try {
    t.is(exact.mode, 'exact');
    t.true(same((await exact.run({ input: x })).output!.data, (await outputs).exact));
  } finally {
    await exact.close();
  }
  await t.throwsAsync(WorkerPool.create(modelBytes, { size: 1, mode: 'turbo' as 'fast' }), { instanceOf: TypeError, message: /WorkerPool\.create: expected one of 'exact', 'fast', 'bf16' for options\.mode but received "turbo"/ });
});

test.serial("serve({ mode: 'fast' }) runs the fast kernels, in the main thread and in workers", async (t) => {
  for (const workers of [0, 1]) {
    await withServer({ mode: 'fast', workers }, async (s) => {
      const r = await post(s, '/v1/infer', toNpy(x));
      t.is(r.status, 200);
      await checkFast(t, parseNpy(new Uint8Array(await r.arrayBuffer())).data);
    });
  }
  await t.throwsAsync(withServer({ mode: 'quick' as 'fast' }, async () => {}), { message: /serve: expected one of 'exact', 'fast', 'bf16' for options.mode but received "quick"/ });
});

test.serial('`resnode serve --mode fast` serves the fast kernels; a bad --mode is refused', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'resnode-serve-mode-'));
  const onnx = join(dir, 'm.onnx');
  await writeFile(onnx, modelBytes);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', onnx, '--port', '0', '--threads', '1', '--mode', 'fast'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', () => reject(new Error(`serve exited early:\n${out}`)));
  });
  t.regex(out, /mode fast, model "m"/);
  const r = await post({ url } as InferenceServer, '/v1/infer', toNpy(x));
  t.is(r.status, 200);
  await checkFast(t, parseNpy(new Uint8Array(await r.arrayBuffer())).data);
  const meta = (await (await fetch(`${url}/v2/models/m`)).json()) as { name: string };
  t.is(meta.name, 'm');
  child.kill('SIGTERM');
  t.is(await exited, 0);

  const bad = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', onnx, '--mode', 'turbo'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  bad.stderr.on('data', (d: Buffer) => (err += d.toString()));
  t.not(await new Promise<number | null>((r) => bad.on('exit', (code) => r(code))), 0);
  t.regex(err, /--mode.*expected one of 'exact', 'fast', 'bf16'/);
});

test.serial('a run lost with its worker names the worker by its pool index', async (t) => {
  const pool = await WorkerPool.create(modelBytes, { size: 2, threads: 1, respawn: false });
  try {
    const big = seededTensor([16, 3, 64, 64], 1);
    const first = pool.run({ input: big }); // the least-busy worker is the first
    const second = pool.run({ input: big }); // then the second
    await pool.workers[1]!.terminate();
    const err = await t.throwsAsync(second, { instanceOf: WorkerError });
    t.regex(err!.message, /^worker 1 exited/);
    await first;
  } finally {
    await pool.close();
  }
});
