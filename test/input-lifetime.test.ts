// Inputs the addon cannot lose (issue 17, item 3): an async run copies its
// inputs before it leaves the event loop, so a caller that detaches an input's
// buffer (transfer to a clone or a worker) or mutates it mid-run neither
// crashes the process nor changes the result. Each case runs in a child
// process, so a SIGSEGV is a failed test rather than a dead test runner.
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { nativeAvailable } from '../src/native.js';

const exec = promisify(execFile);
const backends = nativeAvailable() ? (['native', 'js'] as const) : (['js'] as const);

async function child(what: string, backend: string): Promise<{ runs: number; mismatches: number }> {
  const r = await exec(process.execPath, ['--expose-gc', '--import', 'tsx', 'test/helpers/input-lifetime-child.ts', what, backend], { timeout: 240_000 })
    .catch((e: { code?: number; signal?: string; stderr?: string }) => {
      throw new Error(`the child ${e.signal ? `died of ${e.signal}` : `exited ${e.code}`}: ${e.stderr?.slice(-400)}`);
    });
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

for (const backend of backends) {
  test(`${backend}: model.run with its input buffer transferred mid-run, 100 times: alive and equal to serial runs`, async (t) => {
    const r = await child('model', backend);
    t.is(r.runs, 100);
    t.is(r.mismatches, 0);
  });

  // The JS kernels compute before the call returns: only the native ones can lose an op's input mid-run.
  if (backend !== 'native') continue;
  test(`${backend}: ops.conv2d with input and residual transferred mid-run, 100 times: alive and equal to serial runs`, async (t) => {
    const r = await child('conv', backend);
    t.is(r.runs, 100);
    t.is(r.mismatches, 0);
  });

  test(`${backend}: mutating the input and residual during an async ops.conv2d does not change its result`, async (t) => {
    const r = await child('mutate', backend);
    t.is(r.runs, 100);
    t.is(r.mismatches, 0);
  });
}
