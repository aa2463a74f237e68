// load(path) reads only regular files no larger than maxMemoryBytes, and decides so
// before reading (issue 17): /dev/zero read until memory ran out, a FIFO hung the process
// so that it could not exit. In a child process with a deadline, so a regression fails
// this test instead of hanging or exhausting the test runner.
import test from 'ava';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { resnet } from '../src/graph/resnet.js';

const exec = promisify(execFile);

test('load() refuses a FIFO, /dev/zero, a directory and a file over maxMemoryBytes, at once; a regular file loads', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'resnode-source-'));
  const fifo = join(dir, 'pipe.onnx');
  execFileSync('mkfifo', [fifo]);
  const sparse = join(dir, 'huge.onnx');
  await writeFile(sparse, '');
  await truncate(sparse, 2 ** 30); // 1 GiB of holes: nothing to read if the size is checked first
  const good = join(dir, 'small.onnx');
  await writeFile(good, resnet({ depth: 18, inputSize: 32, numClasses: 4, seed: 2 }).toOnnx());
  const script = `
import { load } from './src/model.ts';
const cases = ${JSON.stringify([[fifo, {}], ['/dev/zero', {}], [dir, {}], [sparse, { maxMemoryBytes: 64 * 2 ** 20 }], [good, { threads: 1 }]])};
for (const [path, options] of cases) {
  const start = performance.now();
  const result = await load(path, options).then((m) => 'loaded ' + m.inputs[0].dims.join('x'), (e) => e.name + ': ' + e.message);
  console.log(JSON.stringify({ path, result, ms: Math.round(performance.now() - start) }));
}
`;
  const { stdout } = await exec(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 30_000 });
  const rows = stdout.trim().split('\n').map((l) => JSON.parse(l) as { path: string; result: string; ms: number });
  t.is(rows.length, 5, 'the process finished every case and exited');
  const [p, zero, d, big, ok] = rows as [typeof rows[0], typeof rows[0], typeof rows[0], typeof rows[0], typeof rows[0]];
  t.regex(p.result, /^TypeError: load: expected a regular ONNX file for source but ".*pipe\.onnx" is a FIFO$/);
  t.regex(zero.result, /^TypeError: load: .*"\/dev\/zero" is a device$/);
  t.regex(d.result, /^TypeError: load: .* is a directory$/);
  t.regex(big.result, /^MemoryLimitError: load: ".*huge\.onnx" is 1\.0 GiB \(1073741824 bytes\), more than maxMemoryBytes = 64\.0 MiB/);
  for (const r of [p, zero, d, big]) t.true(r.ms < 1000, `${r.path}: ${r.ms} ms`);
  t.is(ok.result, 'loaded -1x3x32x32');
});
