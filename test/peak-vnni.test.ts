// The VNNI peak: a register-only vpdpbusd loop (native/cpu/peak__avx512vnni.cc)
// measured like the fp32 FMA peak, and its figure in `resnode bench`'s report
// of an int8 model, the yardstick for the int8 kernels' efficiency.
import test from 'ava';
import { measurePeakGflops } from '../src/bench/peak.js';
import { toMarkdown } from '../src/bench/report.js';
import type { BenchReport } from '../src/bench/run.js';
import { nativeAvailable, nativeBinding } from '../src/native.js';

(nativeAvailable() ? test : test.skip)('measurePeak(threads, \'vnni\') measures vpdpbusd where the CPU has it, and says why not elsewhere', (t) => {
  const b = nativeBinding();
  if (b.info().vnni) {
    const gops = b.measurePeak(1, 'vnni');
    t.log(`VNNI peak, 1 thread: ${gops.toFixed(1)} GOP/s; fp32 FMA peak: ${b.measurePeak(1, 'fp32').toFixed(1)} GFLOP/s`);
    // A rate, not a ratio: a loaded shared VM gives no stable bound against the FMA loop.
    t.true(Number.isFinite(gops) && gops > 1, String(gops));
    t.is(Number.isNaN(measurePeakGflops(1, 'vnni')), false);
  } else {
    t.throws(() => b.measurePeak(1, 'vnni'), { message: /measurePeak: the vnni peak is not available: this CPU lacks AVX512_VNNI/ });
    t.true(Number.isNaN(measurePeakGflops(1, 'vnni')));
  }
  t.throws(() => b.measurePeak(1, 'int4' as never), { instanceOf: TypeError, message: /measurePeak: expected 'fp32', 'bf16' or 'vnni' for kind/ });
});

test('the bench report gives the VNNI peak beside the FMA peak when it was measured', (t) => {
  const report: BenchReport = { model: 'm', batches: [1], date: 'd', threads: 2, isa: 'avx512f', peakGflops: 150, flopsPerImage: 1e9, results: [] };
  t.notRegex(toMarkdown(report), /VNNI/);
  t.regex(toMarkdown({ ...report, vnniPeakGops: 543.21 }), /measured FMA peak 150\.0 GFLOP\/s, VNNI \(vpdpbusd\) peak 543\.2 GOP\/s,/);
});
