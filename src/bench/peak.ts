// The machine's fp32 FMA peak, measured now (same run as the benchmark) by the
// addon's register-only FMA loop on the active ISA.
import { nativeAvailable, nativeBinding } from '../native.js';

// kind 'bf16': the vdpbf16ps peak (NaN where mode 'bf16' cannot run); 'vnni': the
// vpdpbusd peak in GOP/s (NaN without AVX512_VNNI).
export function measurePeakGflops(threads: number, kind: 'fp32' | 'bf16' | 'vnni' = 'fp32'): number {
  if (!nativeAvailable()) return NaN;
  const b = nativeBinding();
  if ((kind === 'bf16' && !b.info().bf16) || (kind === 'vnni' && !b.info().vnni)) return NaN;
  return b.measurePeak(threads, kind);
}
