// The runner threads that async work runs on (native/cpu/runner.h): native/cpu/tests/runner_test.cc
// is built with runner.cc and run.
import test from 'ava';
import { cxxHarnessUnavailable, runCxxHarness } from './helpers/cxx-harness.js';

(cxxHarnessUnavailable ? test.skip : test)('runner: a serial stream reuses one warm thread, concurrent calls get one each, exceptions reach the caller', async (t) => {
  const stdout = await runCxxHarness([['native/cpu/runner.cc', []]], 'native/cpu/tests/runner_test.cc', []);
  t.log(stdout.trim());
  t.regex(stdout, /ok: a serial stream of 50 calls runs on one runner thread/);
  t.regex(stdout, /ok: four concurrent callers run on four runners/);
  t.regex(stdout, /ok: the most recently used runner is reused/);
  t.regex(stdout, /ok: what the function throws is rethrown/);
  t.notRegex(stdout, /FAIL/);
});
