// How a layer's work is cut into tasks (native/cpu/work_split.cc): more chunks
// than threads where the extra traffic is small (the large ResNet planes, and
// batches), a task per thread where every extra chunk re-packs a large B, and
// always whole panels that tile the layer. native/cpu/tests/split_test.cc is
// compiled with the one source file and run.
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const hasCompiler = spawnSync('g++', ['--version']).status === 0;

(hasCompiler ? test : test.skip)('work split: over-decomposed where cheap, a task per thread where not, whole panels', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'resnode-split-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, 'split_test');
  execFileSync('g++', ['-std=c++17', '-O2', '-Inative/cpu', 'native/cpu/work_split.cc', 'native/cpu/tests/split_test.cc', '-o', bin]);
  const run = spawnSync(bin, { encoding: 'utf8', timeout: 60_000 });
  t.log(run.stdout.trim());
  t.is(run.status, 0, run.stdout + run.stderr);
  t.regex(run.stdout, /ok: 56x56 1x1 64->256, b1: >= 4 tasks per thread/);
  t.regex(run.stdout, /ok: random shapes: the chunks tile the panels/);
  t.notRegex(run.stdout, /FAIL/);
});
