// `resnode build-native`: builds the addon from source inside the installed
// package (build/Release/resnode.node, which the loader prefers to the shipped
// prebuilds), for platforms with no prebuilt binary or to use a local compiler.
import type { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT_FAILED } from './exit-codes.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function register(program: Command): void {
  program
    .command('build-native')
    .description('build the native addon from source (needs g++ >= 10 and python3); prebuilt: linux-x64, linux-arm64')
    .option('--debug', 'a debug build')
    .action((o: { debug?: boolean }) => {
      const args = [join(root, 'scripts', 'build-native.mjs'), '--force', ...(o.debug ? ['--debug'] : [])];
      const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
      if (r.status !== 0) process.exitCode = EXIT_FAILED;
      else console.log('resnode: built; `resnode info` shows the addon in use');
    });
}
