#!/usr/bin/env node
// Builds the CPU addon from source with node-gyp (binding.gyp) into
// build/Release/resnode.node, which the loader prefers to the shipped prebuilds.
//   --force     rebuild even if build/Release/resnode.node exists
//   --debug     a debug build
//   --optional  a failed build warns and exits 0 (the `prepare` step: a git
//               dependency's install must not fail for want of a compiler)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findNodeGyp, localHeadersArgs } from './node-gyp.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const force = process.argv.includes('--force');
const debug = process.argv.includes('--debug');
const optional = process.argv.includes('--optional');
const built = join(root, 'build', 'Release', 'resnode.node');
if (!force && existsSync(built) && process.env.RESNODE_REBUILD !== '1') {
  console.error(`resnode: addon already built at ${built}`);
  process.exit(0);
}

/** Stops the build; under --optional the install goes on without the addon. */
function fail(message, status = 1) {
  console.error(message);
  if (optional) console.error("resnode: continuing without the native addon; the pure-JS kernels work ({ backend: 'js' }) and info().nativeProblem says why.");
  process.exit(optional ? 0 : status);
}

const gyp = findNodeGyp();
if (!gyp) fail('resnode: cannot find node-gyp. Install it (npm i -g node-gyp) and run `npx resnode build-native`.');
const args = [gyp, 'rebuild', '-j', 'max'];
if (debug) args.push('--debug');
args.push(...localHeadersArgs());
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env: process.env });
if (r.status !== 0) fail('resnode: building the native addon failed; see the compiler output above. You need g++ (>= 10) and python3.', r.status ?? 1);
