// Why a C++ kernel harness test cannot run here (undefined where it can): the harnesses
// compile the kernel sources with g++ and x86-64 ISA flags.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');

export const cxxHarnessUnavailable: string | undefined = (() => {
  try {
    execFileSync('g++', ['--version'], { stdio: 'ignore' });
    return process.arch === 'x64' ? undefined : 'the harness is x86-64 only';
  } catch {
    return 'g++ is missing';
  }
})();

/**
 * Compiles `sources` (each with its binding.gyp ISA flags) and the harness `main` into `dir`, two
 * compiles at a time (a shared 2-core machine), and returns the executable's path.
 */
export async function buildCxxHarness(root: string, dir: string, sources: readonly (readonly [string, readonly string[]])[], main: string): Promise<string> {
  const cxx = ['-std=c++17', '-O1', '-pthread']; // -O1: the build is most of a harness test's time
  const objects: string[] = [];
  for (let i = 0; i < sources.length; i += 2) {
    await Promise.all(sources.slice(i, i + 2).map(([src, isa], j) => {
      const obj = join(dir, `${i + j}.o`);
      objects.push(obj);
      return run('g++', [...cxx, ...isa, '-c', join(root, src), '-o', obj], { timeout: 120_000 });
    }));
  }
  const exe = join(dir, 'harness');
  await run('g++', [...cxx, `-I${join(root, 'native/cpu')}`, join(root, main), ...objects, '-o', exe], { timeout: 120_000 });
  return exe;
}

/** Builds the harness in a temporary folder (buildCxxHarness), runs it with `args`, and returns its stdout. */
export async function runCxxHarness(sources: readonly (readonly [string, readonly string[]])[], main: string, args: readonly string[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'resnode-harness-'));
  try {
    const exe = await buildCxxHarness(ROOT, dir, sources, main);
    return (await run(exe, [...args], { timeout: 60_000 })).stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The CPU's own word on its features (Linux's /proc/cpuinfo; '' elsewhere), independent of the detection under test. */
export const cpuFlags = (): string => (existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '');
