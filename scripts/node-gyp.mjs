// Finds node-gyp and the Node headers for the build scripts (build-native.mjs,
// prebuild.mjs). Uses the headers that ship beside the running node binary
// when they exist, so a build needs no network.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

/** node-gyp's entry script: a local install, npm's own copy, or the one beside node. */
export function findNodeGyp() {
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

/** `--nodedir=…` when the running node has its headers beside it, else nothing. */
export function localHeadersArgs() {
  const localHeaders = join(dirname(process.execPath), '..');
  return existsSync(join(localHeaders, 'include', 'node', 'common.gypi')) ? [`--nodedir=${localHeaders}`] : [];
}
