// The native addon in worker_threads: several workers load models at once, results
// match the main thread, and terminating a worker (idle or mid-run) never takes the
// process down.
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { resnet } from '../src/graph/resnet.js';
import { load } from '../src/model.js';
import { nativeAvailable } from '../src/native.js';
import { seededTensor } from '../src/validate.js';
import { WorkerError, WorkerPool } from '../src/workers/pool.js';

const exec = promisify(execFile);
const graph = resnet({ depth: 18, inputSize: 64, numClasses: 10, seed: 1 });
const bytes = graph.toOnnx();
const x = seededTensor([2, 3, 64, 64], 11);

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return a.length === b.length ? m : Infinity;
}

const native = nativeAvailable() ? test.serial : test.serial.skip;

native('three workers load the native model at once (the main thread has it too); results match; an idle worker can be terminated and is replaced', async (t) => {
  const main = await load(bytes, { threads: 1 });
  const want = (await main.run({ input: x })).output!;
  const pool = await WorkerPool.create(graph, { size: 3, threads: 1 });
  try {
    t.is(pool.workers.length, 3);
    t.deepEqual(pool.inputs.map((i) => [...i.dims]), [[-1, 3, 64, 64]]);
    const runs = await Promise.all(Array.from({ length: 9 }, () => pool.run({ input: x })));
    for (const r of runs) t.true(maxDiff(r.output!.data, want.data) < 1e-5);
    // run() copies the feeds; runTransfer() hands the buffer over.
    t.is(x.data.length, 2 * 3 * 64 * 64);
    const copy = seededTensor([2, 3, 64, 64], 11);
    await pool.runTransfer({ input: copy });
    t.is(copy.data.byteLength, 0);

    await pool.workers[0]!.terminate();
    await new Promise((r) => setTimeout(r, 50));
    t.is(pool.deaths, 1);
    t.true(maxDiff((await pool.run({ input: x })).output!.data, want.data) < 1e-5);
    const end = Date.now() + 30_000; // the replacement comes up in the background
    while (pool.workers.length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    t.is(pool.workers.length, 3);
  } finally {
    await pool.close();
    await main.dispose();
  }
  await t.throwsAsync(pool.run({ input: x }), { instanceOf: WorkerError, message: /closed/ });
});

test.serial('a worker whose model fails to load rejects create(), and the process carries on', async (t) => {
  await t.throwsAsync(WorkerPool.create(new Uint8Array([1, 2, 3, 4]), { size: 1, backend: 'js' }));
  const pool = await WorkerPool.create(bytes, { size: 1, backend: 'js' });
  t.is((await pool.run({ input: seededTensor([1, 3, 64, 64], 1) })).output!.dims[1], 10);
  await pool.close();
});

// In a child process, so that an addon that aborts on teardown fails this test instead of the test runner.
const midRun = `
import { resnet } from './src/graph/resnet.ts';
import { WorkerPool } from './src/workers/pool.ts';
import { seededTensor } from './src/validate.ts';
const bytes = resnet({ depth: 18, inputSize: 64, numClasses: 10, seed: 1 }).toOnnx();
const pool = await WorkerPool.create(bytes, { size: 2, threads: 1, respawn: false });
const x = seededTensor([8, 3, 64, 64], 1);
// terminate() while a native run is on the libuv pool
const running = pool.run({ input: x });
await new Promise((r) => setTimeout(r, 30));
await pool.workers[0].terminate();
console.log('run:', await running.then(() => 'finished', (e) => e.name));
// close({ force }) with runs in flight on every worker
const more = [pool.run({ input: x }), pool.run({ input: x })];
await new Promise((r) => setTimeout(r, 30));
await pool.close({ force: true });
console.log('forced:', (await Promise.allSettled(more)).map((s) => s.status === 'rejected' ? s.reason.name : 'finished').join(','));
console.log('survived');
`;

native('terminating workers mid-run never crashes the process', async (t) => {
  const r = await exec(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', midRun], { timeout: 60_000 }).catch((e: { code: unknown; signal: unknown; stdout: string; stderr: string }) => e);
  const failure = r as { code?: unknown; signal?: unknown; stderr: string; stdout: string };
  t.log(failure.stdout.trim());
  if (failure.code || failure.signal) t.log(failure.stderr.trim().split('\n').slice(-5).join('\n'));
  t.falsy(failure.signal, `the process was killed by ${String(failure.signal)}`);
  t.regex(r.stdout, /run: (WorkerError|finished)/);
  t.regex(r.stdout, /forced: (WorkerError|finished),(WorkerError|finished)/);
  t.regex(r.stdout, /survived/);
});
