// The machine's fp32 FMA peak, measured now (same run as the benchmark) by the
// addon's register-only FMA loop on the active ISA.
import { nativeAvailable, nativeBinding } from '../native.js';

export function measurePeakGflops(threads: number): number {
  if (!nativeAvailable()) return NaN;
  const b = nativeBinding() as unknown as { measurePeak?: (threads: number) => number };
  return b.measurePeak ? b.measurePeak(threads) : NaN;
}
