// Where no addon fits this platform (no build/Release and no prebuilt binary),
// info() says why and how to get one, the native backend throws that same
// explanation, and the JS backend works. node-gyp-build's RESNODE_PREBUILD
// points the loader at an empty package folder to stand for such a platform.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const root = join(import.meta.dirname, '..');

const SCRIPT = `import { info, ops, Tensor, BackendUnavailableError } from '${join(root, 'src', 'index.ts')}';
const i = info();
const x = new Tensor('float32', new Float32Array(4).fill(1), [1, 1, 2, 2]);
const w = new Tensor('float32', new Float32Array([2]), [1, 1, 1, 1]);
const js = await ops.conv2d(x, w, { backend: 'js' });
let native;
try { await ops.conv2d(x, w, { backend: 'native' }); native = 'ran'; }
catch (e) { native = { unavailable: e instanceof BackendUnavailableError, message: e.message }; }
console.log(JSON.stringify({ i, js: Array.from(js.data), native }));
`;

test('no addon for this platform: info() says why, native throws the same, JS works', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'resnode-loader-'));
  try {
    const empty = join(dir, 'empty-package');
    await mkdir(empty);
    await writeFile(join(dir, 'probe.mts'), SCRIPT);
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', join(dir, 'probe.mts')], { cwd: root, env: { ...process.env, RESNODE_PREBUILD: empty, RESNODE_ADDON: '' } });
    const r = JSON.parse(stdout);
    t.false(r.i.native);
    t.is(r.i.addon, null);
    t.regex(r.i.nativeProblem, new RegExp(`no native addon for ${process.platform}-${process.arch}`));
    t.regex(r.i.nativeProblem, /npx resnode build-native/);
    t.regex(r.i.nativeProblem, /backend: 'js'/);
    t.deepEqual(r.js, [2, 2, 2, 2]);
    t.true(r.native.unavailable);
    t.is(r.native.message, r.i.nativeProblem);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
