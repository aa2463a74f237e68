// Why a C++ kernel harness test cannot run here (undefined where it can): the harnesses
// compile the kernel sources with g++ and x86-64 ISA flags.
import { execFileSync } from 'node:child_process';

export const cxxHarnessUnavailable: string | undefined = (() => {
  try {
    execFileSync('g++', ['--version'], { stdio: 'ignore' });
    return process.arch === 'x64' ? undefined : 'the harness is x86-64 only';
  } catch {
    return 'g++ is missing';
  }
})();
