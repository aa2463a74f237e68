// `npm pack` into a folder, one at a time across test processes: packing
// rewrites package.json (prepack strips `prepare`, postpack restores it) and
// refreshes prebuilds/, so two packs at once would race.
import { execFile } from 'node:child_process';
import { mkdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const lock = join(root, '.scratch', 'npm-pack.lock');

async function acquire(timeoutMs: number): Promise<void> {
  await mkdir(join(root, '.scratch'), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(lock);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (Date.now() > deadline) throw new Error(`npm pack: ${lock} held for over ${timeoutMs / 1000} s (remove it if no test is running)`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** The path of the tarball `npm pack` wrote into dir. */
export async function packInto(dir: string): Promise<string> {
  await acquire(600_000);
  try {
    const { stdout } = await exec('npm', ['pack', '--pack-destination', dir], { cwd: root, maxBuffer: 1 << 26 });
    return join(dir, stdout.trim().split('\n').pop()!);
  } finally {
    await rmdir(lock);
  }
}
