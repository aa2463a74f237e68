// `resnode bench --contention --concurrency`: both reports are written (Markdown
// and SVG), their figures are consistent with each other (a slowdown is the
// busy median over the quiet one; rates are positive), and bad counts are refused.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { median } from '../src/bench/stats.js';

const exec = promisify(execFile);
const cli = (...args: string[]) => exec(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { maxBuffer: 1 << 24 });

test('median: the middle sample, or the mean of the two middle ones', (t) => {
  t.is(median([3, 1, 2]), 2);
  t.is(median([4, 1, 3, 2]), 2.5);
  t.is(median([7]), 7);
});

test('bench --contention --concurrency writes both reports with consistent figures', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'resnode-contention-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await cli('bench', 'resnet18', '--contention', '--concurrency', '--threads', '2', '--repeats', '2', '--rounds', '1', '--out', dir);
  const contention = await readFile(join(dir, 'contention-resnet18.md'), 'utf8');
  const rows = [...contention.matchAll(/^\| (resnode native \(exact\)|onnxruntime-node \(default threading\)) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+)× \|$/gm)];
  t.is(rows.length, 2, contention);
  for (const [, , quiet, busy, slowdown] of rows) {
    t.true(Number(quiet) > 0 && Number(busy) > 0);
    t.true(Math.abs(Number(busy) / Number(quiet) - Number(slowdown)) < 0.02, `${busy} / ${quiet} vs ${slowdown}`);
  }
  t.regex(contention, /each contender in its own child process/i);
  const concurrency = await readFile(join(dir, 'concurrency-resnet18-this-build.md'), 'utf8');
  const row = /^\| this build \| ([\d.]+) \| ([\d.]+) \| ([\d.]+)× \| ([\d.]+) \| ([\d.]+)× \|$/m.exec(concurrency);
  t.truthy(row, concurrency);
  const [serial, two, ratio2, four, ratio4] = row!.slice(1).map(Number) as [number, number, number, number, number];
  // One round: each ratio is that round's concurrent rate over its serial rate.
  t.true(serial > 0 && two > 0 && four > 0);
  t.true(Math.abs(two / serial - ratio2) < 0.02 && Math.abs(four / serial - ratio4) < 0.02, concurrency);
  for (const svg of ['contention-resnet18.svg', 'concurrency-resnet18-this-build.svg']) {
    const text = await readFile(join(dir, svg), 'utf8');
    t.regex(text, /^<svg [^>]*>.*<\/svg>\n$/s);
    t.regex(text, /target/);
  }
});

test('bench --rounds refuses a count that is not a positive integer', async (t) => {
  const err = await t.throwsAsync(cli('bench', 'resnet18', '--concurrency', '--rounds', '0'));
  t.regex(String((err as { stderr?: string }).stderr), /positive integers/);
});
