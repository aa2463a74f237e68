// The native thread pool on its own: native/cpu/tests/threadpool_test.cc is
// compiled with the pool's one source file and run. Its checks include the
// sharing one: two parallel_for callers at once both get pool workers (the
// pool used to have one owner, and the second caller ran its tasks alone).
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const hasCompiler = spawnSync('g++', ['--version']).status === 0;

(hasCompiler ? test : test.skip)('thread pool: tasks once each, errors, nesting, concurrent callers share workers, more callers than slots', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'resnode-pool-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, 'threadpool_test');
  execFileSync('g++', ['-std=c++17', '-O2', '-pthread', '-Inative/cpu', 'native/cpu/threadpool.cc',
    'native/cpu/tests/threadpool_test.cc', '-o', bin]);
  const run = spawnSync(bin, { encoding: 'utf8', timeout: 60_000 });
  t.log(run.stdout.trim());
  t.is(run.status, 0, run.stdout + run.stderr);
  t.regex(run.stdout, /ok: two concurrent callers both get pool workers/);
  t.notRegex(run.stdout, /FAIL/);
});
