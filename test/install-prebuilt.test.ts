// A user's install of the `npm pack` tarball, as on a machine with no
// compiler: into fresh projects, with --ignore-scripts and, separately, with
// --strict-allow-scripts (which fails if anything in the tree has an install
// script), a PATH that holds only node, and CC/CXX set to /bin/false. The
// shipped prebuilt addon must load and agree with the JS kernels, from both
// require() (.cjs) and import (.mjs), with types for both (.cts and .mts); and
// without onnxruntime-node installed, validate must say in one line what to
// install, while everything else works. Then installing onnxruntime-node
// makes validate work, loaded on first use.
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { arch, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { resnet } from '../src/graph/resnet.js';
import { packInto } from './helpers/pack.js';

const exec = promisify(execFile);
const root = join(import.meta.dirname, '..');
const npmCli = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

/** An environment with no compiler: PATH is one folder holding only `node`; CC/CXX fail. */
async function compilerFreeEnv(dir: string): Promise<NodeJS.ProcessEnv> {
  const bin = join(dir, 'bin');
  await mkdir(bin, { recursive: true });
  await symlink(process.execPath, join(bin, 'node'));
  const env: NodeJS.ProcessEnv = { HOME: process.env.HOME, PATH: bin, CC: '/bin/false', CXX: '/bin/false', LANG: 'C' };
  return env;
}

const scratchRoot = mkdtemp(join(tmpdir(), 'resnode-install-'));
const tarball = scratchRoot.then(packInto);
test.after.always(async () => rm(await scratchRoot, { recursive: true, force: true }));

async function du(path: string): Promise<number> {
  const s = await stat(path);
  if (!s.isDirectory()) return s.size;
  let total = 0;
  for (const e of await readdir(path)) total += await du(join(path, e));
  return total;
}

/** A fresh project with the tarball installed by `npm install <flags> <tarball>`; returns its folder, env and timing. */
async function installInto(name: string, flags: string[], type: 'module' | 'commonjs') {
  const dir = join(await scratchRoot, name);
  await mkdir(dir);
  const env = await compilerFreeEnv(dir);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, type }));
  const start = performance.now();
  await exec(process.execPath, [npmCli, 'install', '--no-audit', '--no-fund', '--prefer-offline', ...flags, await tarball], { cwd: dir, env, maxBuffer: 1 << 26, timeout: 300_000 });
  const seconds = (performance.now() - start) / 1000;
  const megabytes = (await du(join(dir, 'node_modules'))) / 1e6;
  return { dir, env, seconds, megabytes };
}

const node = (dir: string, env: NodeJS.ProcessEnv, file: string) => exec(process.execPath, [file], { cwd: dir, env, maxBuffer: 1 << 24 });

// The same checks through require() and import: native loaded from prebuilds/,
// a conv and a whole model agree with the JS kernels, validate names what to install.
const consumer = (load: string) => `${load}
const path = require('node:path');
const fs = require('node:fs');
(async () => {
  const i = r.info();
  const x = new r.Tensor('float32', Float32Array.from({ length: 2 * 8 * 9 * 9 }, (_, k) => Math.sin(k)), [2, 8, 9, 9]);
  const w = new r.Tensor('float32', Float32Array.from({ length: 16 * 8 * 3 * 3 }, (_, k) => Math.cos(k) / 9), [16, 8, 3, 3]);
  const yn = await r.ops.conv2d(x, w, { pads: 1, backend: 'native' });
  const yj = await r.ops.conv2d(x, w, { pads: 1, backend: 'js' });
  const bytes = new Uint8Array(fs.readFileSync('model.onnx'));
  const feeds = { input: new r.Tensor('float32', Float32Array.from({ length: 3 * 32 * 32 }, (_, k) => Math.sin(k / 7)), [1, 3, 32, 32]) };
  const mn = await r.load(bytes, { backend: 'native' });
  const mj = await r.load(bytes, { backend: 'js' });
  const on = (await mn.run(feeds)).output.data, oj = (await mj.run(feeds)).output.data;
  let validate;
  try { validate = { ok: (await r.validate(bytes, { backend: 'native' })).ok }; }
  catch (e) { validate = { error: e.name, message: e.message, isMissing: e instanceof r.MissingDependencyError }; }
  const diff = (a, b) => a.reduce((m, v, k) => Math.max(m, Math.abs(v - b[k])), 0);
  const max = (a) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  console.log(JSON.stringify({ native: i.native, isa: i.isa, addon: i.addon && path.relative(process.cwd(), i.addon), nativeProblem: i.nativeProblem,
    convErr: diff(yn.data, yj.data) / max(yj.data), modelErr: diff(on, oj) / max(oj), outDims: (await mn.run(feeds)).output.dims, validate }));
  await mn.dispose(); await mj.dispose();
})();
`;

const TYPES = `import { Tensor, info, load, MissingDependencyError, type Info } from 'resnode';
const t: Tensor = new Tensor('float32', new Float32Array(4), [1, 4]);
const i: Info = info();
const m: Promise<unknown> = load(new Uint8Array(0));
const e: Error = new MissingDependencyError('x');
export { t, i, m, e };
`;

function checkConsumer(t: import('ava').ExecutionContext, stdout: string, ortInstalled: boolean) {
  const r = JSON.parse(stdout);
  t.true(r.native, `native backend loads: ${r.nativeProblem}`);
  t.is(r.nativeProblem, null);
  t.is(r.addon, join('node_modules', 'resnode', 'prebuilds', `linux-${arch()}`, 'resnode.napi.glibc.node'), 'the shipped prebuilt addon, not a compiled one');
  t.true(arch() === 'arm64' ? r.isa === 'neon' : ['avx512f', 'avx2', 'scalar'].includes(r.isa));
  t.true(r.convErr < 1e-5, `conv native vs js ${r.convErr}`);
  t.true(r.modelErr < 1e-4, `model native vs js ${r.modelErr}`);
  t.deepEqual(r.outDims, [1, 10]);
  if (ortInstalled) t.deepEqual(r.validate, { ok: true });
  else {
    t.is(r.validate.error, 'MissingDependencyError');
    t.true(r.validate.isMissing);
    t.is(r.validate.message, 'validate needs the optional dependency onnxruntime-node: run `npm install onnxruntime-node`');
  }
}

test.serial('--ignore-scripts, no compiler, no onnxruntime-node: require() and import work with types; validate says what to install', async (t) => {
  const { dir, env, seconds, megabytes } = await installInto('ignore-scripts', ['--ignore-scripts'], 'commonjs');
  t.log(`install: ${seconds.toFixed(1)} s, node_modules ${megabytes.toFixed(1)} MB`);
  const which = await exec('/bin/sh', ['-c', 'command -v g++ gcc cc c++ make python3 || true'], { env });
  t.is(which.stdout.trim(), '', 'no compiler on PATH');
  const nm = join(dir, 'node_modules');
  t.false(existsSync(join(nm, 'onnxruntime-node')), 'onnxruntime-node is an optional peer, not installed');
  t.false(existsSync(join(nm, 'sharp')));
  t.false(existsSync(join(nm, 'resnode', 'build')), 'nothing was compiled');
  t.false(existsSync(join(nm, '@types')), '@types/* are not runtime dependencies');
  t.deepEqual((await readdir(join(nm, 'resnode', 'native', 'cpu'))).filter((f) => f === 'tests'), [], 'no native tests shipped');

  await writeFile(join(dir, 'model.onnx'), resnet({ depth: 18, width: 8, numClasses: 10, inputSize: 32, seed: 3 }).toOnnx());
  await writeFile(join(dir, 'main.cjs'), consumer("const r = require('resnode');"));
  await writeFile(join(dir, 'main.mjs'), consumer("import * as r from 'resnode';\nimport { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);"));
  checkConsumer(t, (await node(dir, env, 'main.cjs')).stdout, false);
  checkConsumer(t, (await node(dir, env, 'main.mjs')).stdout, false);

  // Types for both module systems, as each resolves them.
  await writeFile(join(dir, 'types.cts'), TYPES);
  await writeFile(join(dir, 'types.mts'), TYPES);
  const tsconfig = { compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'ES2022', strict: true, noEmit: true, types: ['node'], skipLibCheck: false, typeRoots: [join(root, 'node_modules', '@types')] }, files: ['types.cts', 'types.mts'] };
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  const typecheck = await exec(process.execPath, [tsc, '-p', dir], { cwd: dir, env }).catch((e) => e);
  t.is(typecheck.stdout ?? '', '', 'tsc accepts the .cts and .mts consumers');

  // The CLI: --version, and validate's one-line hint with exit code 2.
  const bin = join(nm, 'resnode', 'dist', 'cli.js');
  const version = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')).version;
  t.is((await exec(process.execPath, [bin, '--version'], { cwd: dir, env })).stdout.trim(), version);
  const v = await exec(process.execPath, [bin, 'validate', 'model.onnx'], { cwd: dir, env }).catch((e) => e);
  t.is(v.code, 2);
  t.is(v.stderr.trim(), 'resnode: validate needs the optional dependency onnxruntime-node: run `npm install onnxruntime-node`');

  // With onnxruntime-node added, validate loads it on first use and passes.
  const ortVersion = JSON.parse(await readFile(join(root, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')).version;
  await exec(process.execPath, [npmCli, 'install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', `onnxruntime-node@${ortVersion}`], { cwd: dir, env, maxBuffer: 1 << 26, timeout: 300_000 });
  checkConsumer(t, (await node(dir, env, 'main.cjs')).stdout, true);
});

test.serial('--strict-allow-scripts: nothing in the tree has an install script, and the prebuilt addon works', async (t) => {
  const { dir, env, seconds, megabytes } = await installInto('strict', ['--strict-allow-scripts'], 'module');
  t.log(`install: ${seconds.toFixed(1)} s, node_modules ${megabytes.toFixed(1)} MB`);
  await writeFile(join(dir, 'model.onnx'), resnet({ depth: 18, width: 8, numClasses: 10, inputSize: 32, seed: 4 }).toOnnx());
  await writeFile(join(dir, 'main.mjs'), consumer("import * as r from 'resnode';\nimport { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);"));
  checkConsumer(t, (await node(dir, env, 'main.mjs')).stdout, false);
});
