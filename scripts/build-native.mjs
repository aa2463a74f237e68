#!/usr/bin/env node
// Builds the CPU addon with node-gyp from binding.gyp. Uses the Node headers
// that ship beside the running node binary when they exist, so the build needs
// no network; otherwise node-gyp falls back to its own header cache.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const force = process.argv.includes('--force');
const debug = process.argv.includes('--debug');
const built = join(root, 'build', 'Release', 'resnode.node');
if (!force && existsSync(built) && process.env.RESNODE_REBUILD !== '1') {
  console.log(`resnode: addon already built at ${built}`);
  process.exit(0);
}

function findNodeGyp() {
  const require = createRequire(import.meta.url);
  const candidates = [];
  try { candidates.push(require.resolve('node-gyp/bin/node-gyp.js')); } catch {}
  if (process.env.npm_execpath) {
    candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  }
  const npmDir = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm');
  candidates.push(join(npmDir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((c) => existsSync(c));
}

const gyp = findNodeGyp();
if (!gyp) {
  console.error('resnode: cannot find node-gyp. Install it (npm i -g node-gyp) and run `npm run build:native`.');
  process.exit(1);
}
const args = [gyp, 'rebuild', '-j', 'max'];
if (debug) args.push('--debug');
const localHeaders = join(dirname(process.execPath), '..');
if (existsSync(join(localHeaders, 'include', 'node', 'common.gypi'))) args.push(`--nodedir=${localHeaders}`);
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env: process.env });
if (r.status !== 0) {
  console.error('resnode: building the native addon failed; see the compiler output above. You need g++ (>= 10) and python3.');
  process.exit(r.status ?? 1);
}
