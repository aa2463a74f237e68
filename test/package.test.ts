// The published package works for a consumer: `npm pack`, install the tarball
// into a fresh project (whose allowScripts entry for resnode is now moot: the
// package has no install script and ships prebuilt addons), then import
// { ops, Tensor, info } with types and a working addon.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packInto } from './helpers/pack.js';

const exec = promisify(execFile);
const root = join(import.meta.dirname, '..');

test('a separate project can install the npm pack tarball and use it, with types', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'resnode-consumer-'));
  try {
    const tarball = await packInto(dir);
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true, allowScripts: { resnode: true } }, null, 2),
    );
    await writeFile(join(dir, '.npmrc'), 'onnxruntime-node-install=skip\n');
    await exec('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, 'typescript@5', '@types/node@20'], { cwd: dir, maxBuffer: 1 << 26, timeout: 600_000 });
    await writeFile(
      join(dir, 'main.ts'),
      [
        "import { ops, Tensor, info } from 'resnode';",
        "const x: Tensor = new Tensor('float32', new Float32Array(1 * 192 * 28 * 28).fill(1), [1, 192, 28, 28]);",
        "const w = new Tensor('float32', new Float32Array(32 * 192).fill(0.5), [32, 192, 1, 1]);",
        'const y = await ops.conv2d(x, w);',
        'const i = info();',
        'console.log(JSON.stringify({ dims: y.dims, first: y.data[0], isa: i.isa, native: i.native }));',
      ].join('\n'),
    );
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, outDir: 'out', types: ['node'] }, files: ['main.ts'] }));
    await exec(join(dir, 'node_modules', '.bin', 'tsc'), ['-p', dir], { cwd: dir });
    const run = await exec(process.execPath, [join(dir, 'out', 'main.js')], { cwd: dir });
    const result = JSON.parse(run.stdout);
    t.deepEqual(result.dims, [1, 32, 28, 28]);
    t.is(result.first, 96); // 192 inputs × 1 × 0.5
    t.true(result.native, 'the addon was built by the install script and loads');
    t.true(['avx512f', 'avx2', 'scalar'].includes(result.isa));
    const bin = await exec(join(dir, 'node_modules', '.bin', 'resnode'), ['info', '--json'], { cwd: dir });
    t.is(JSON.parse(bin.stdout).isa, result.isa);
    t.truthy(await readFile(join(dir, 'node_modules', 'resnode', 'dist', 'index.d.ts'), 'utf8'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
