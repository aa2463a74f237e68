// Memory stability (short form of `npm run soak`): RSS after warm-up grows
// < 5% over many runs of ResNet-18; load → run → dispose cycles leak no native buffers.
import test from 'ava';
import { soak } from '../scripts/soak.js';
import { nativeAvailable } from '../src/native.js';
import { nativeStats } from '../src/info.js';

const backend = nativeAvailable() ? 'native' : 'js';
const pct = (g: number) => `${(g * 100).toFixed(2)}%`;

test.serial(`${backend}: 300 runs of ResNet-18 (64×64) after 100 warm-up runs grow RSS by < 5%`, async (t) => {
  const r = await soak({ runs: 300, warmup: 100, size: backend === 'native' ? 64 : 32, width: backend === 'native' ? 64 : 16, backend, cycles: 0 });
  t.log(`${r.model}: RSS ${(r.rssAfterWarmup / 2 ** 20).toFixed(1)} → ${(r.rssEnd / 2 ** 20).toFixed(1)} MiB (${pct(r.growth)}), ${r.msPerRun.toFixed(1)} ms/run`);
  t.true(r.growth < 0.05, `RSS grew ${pct(r.growth)}`);
});

// Load → run → dispose cycles churn the allocator and the V8 heap, so RSS wanders
// by several percent either way between runs of this test (−12% … +8% seen). The
// leak check is therefore the native counters, which must return exactly to their
// baseline; RSS only has to stay within 25%, which a leak of the packed weights
// (about 11 MB a cycle here, 40 cycles) would break many times over.
test.serial(`${backend}: 40 load → run → dispose cycles leak no native buffers, and RSS stays level`, async (t) => {
  const before = nativeStats();
  const r = await soak({ runs: 10, warmup: 2, size: 32, width: 32, backend, cycles: 40, cycleWarmup: 10 });
  t.log(`load/dispose: RSS ${(r.cyclesRssStart / 2 ** 20).toFixed(1)} → ${(r.cyclesRssEnd / 2 ** 20).toFixed(1)} MiB (${pct(r.cyclesGrowth)})`);
  const after = nativeStats();
  if (before && after) {
    t.is(after.packedHandles, before.packedHandles, 'packed handles return to the baseline');
    t.is(after.packedBytes, before.packedBytes, 'packed bytes return to the baseline');
    t.is(after.asyncInFlight, 0);
  }
  t.true(r.cyclesGrowth < 0.25, `RSS grew ${pct(r.cyclesGrowth)}`);
});
