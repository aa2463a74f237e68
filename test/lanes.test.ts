// parallel_for_lanes (native/cpu/lanes.h: one contiguous lane of items per thread, walked front to
// back, stolen from the back once a thread is done with its own): native/cpu/tests/lanes_test.cc
// is built with the pool's one source file and run.
import test from 'ava';
import { cxxHarnessUnavailable, runCxxHarness } from './helpers/cxx-harness.js';

(cxxHarnessUnavailable ? test.skip : test)('lanes: every item once, each lane walked in order by its owner, a stalled lane finished by another thread', async (t) => {
  const stdout = await runCxxHarness([['native/cpu/threadpool.cc', []]], 'native/cpu/tests/lanes_test.cc', []);
  t.log(stdout.trim());
  t.regex(stdout, /ok: every item runs exactly once/);
  t.regex(stdout, /ok: each lane's owner runs its items front to back/);
  t.regex(stdout, /ok: a stalled lane's last items are run by another thread/);
  t.notRegex(stdout, /FAIL/);
});
