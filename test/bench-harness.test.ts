// The benchmark harness (src/bench/contender-process.ts): each contender runs
// in a child process of its own, the children take turns (never two timed at
// once), the order rotates by round, ORT gets its default session options,
// and a child that cannot load fails the bench with an error instead of a hang.
import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resnet } from '../src/graph/resnet.js';
import { PAUSE_MS, race, startContender } from '../src/bench/contender-process.js';
import { method } from '../src/bench/report.js';
import type { BenchReport } from '../src/bench/run.js';

async function tinyModel(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'resnode-harness-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'tiny.onnx');
  await writeFile(path, resnet({ depth: 18, width: 8, inputSize: 32, numClasses: 10, seed: 1 }).toOnnx());
  return path;
}

test('contenders run in separate child processes, one at a time, the order rotating by round', async (t) => {
  const modelPath = await tinyModel(t);
  const spec = { mode: 'exact' as const, modelPath, batch: 2, threads: 2, warmupRuns: 1 };
  const native = await startContender({ ...spec, kind: 'native' });
  const ort = await startContender({ ...spec, kind: 'ort' });
  t.teardown(() => { native.close(); ort.close(); });
  t.not(native.pid, process.pid);
  t.not(ort.pid, process.pid);
  t.not(native.pid, ort.pid);
  t.is(native.label, 'native');
  t.is(ort.label, 'onnxruntime-node');
  // Round 1 starts with ORT (the order rotates) but skips its turn.
  const { ms, turns } = await race([native, ort], { rounds: 3, runs: (c, r) => (c === ort && r === 1 ? 0 : 2 + r) });
  t.deepEqual(turns.map((x) => x.c.label), ['native', 'onnxruntime-node', 'native', 'native', 'onnxruntime-node']);
  t.deepEqual(turns.map((x) => x.times.ms.length), [2, 2, 3, 4, 4]);
  t.is(ms.get(native)!.length, 9);
  t.is(ms.get(ort)!.length, 6);
  t.true([...ms.values()].flat().every((x) => x > 0));
  // Wall-clock intervals from the children's own clocks: each turn ends before
  // the next begins, at least most of the pause later.
  for (let i = 1; i < turns.length; i++) {
    t.true(turns[i]!.times.start - turns[i - 1]!.times.end >= 0.8 * PAUSE_MS, `turn ${i} began ${turns[i]!.times.start - turns[i - 1]!.times.end} ms after turn ${i - 1} ended`);
    t.true(turns[i]!.times.end >= turns[i]!.times.start);
  }
});

test('ORT in its child gets graph optimisation all and its default threading (no allow_spinning override)', async (t) => {
  const modelPath = await tinyModel(t);
  const ort = await startContender({ kind: 'ort', mode: 'exact', modelPath, batch: 1, threads: 2, warmupRuns: 0 });
  t.teardown(() => ort.close());
  t.deepEqual(ort.ortOptions, { graphOptimizationLevel: 'all', intraOpNumThreads: 2 });
  const report = { harness: { rounds: 4, roundRuns: 3, warmupRounds: 1, pauseMs: PAUSE_MS, ortOptions: ort.ortOptions } } as BenchReport;
  t.regex(method(report), /own child process.*4 timed rounds.*3 back-to-back timed runs.*default threading.*"intraOpNumThreads":2/);
  t.notRegex(method(report), /allow_spinning/);
});

test('a contender whose child cannot load rejects with the reason, and leaves no child behind', async (t) => {
  const err = await t.throwsAsync(startContender({ kind: 'native', mode: 'exact', modelPath: join(tmpdir(), 'no-such-model.onnx'), batch: 1, threads: 1, warmupRuns: 0 }));
  t.regex(err!.message, /bench: the native \(exact\) child exited \(1\) before it answered/);
});
