// The int8 conv step's layout kernels (native/cpu/qgemm/qu8_layout.h: float32 NCHW -> u8 NHWC
// QuantizeLinear and u8 NHWC -> float32 NCHW DequantizeLinear, scalar and AVX-512) against an
// independent loop, byte for byte, on random channel counts, pixel ranges, scales, zero points,
// rounding ties, clamps and NaN: the C++ harness native/cpu/tests/qu8_layout_test.cc, built here.
import test from 'ava';
import { cpuFlags, cxxHarnessUnavailable, runCxxHarness } from './helpers/cxx-harness.js';

const AVX512 = ['-mavx512f', '-mavx512bw', '-mavx512vl', '-mavx512dq'];
/** The harness's sources with binding.gyp's per-file ISA flags. */
const SOURCES: [string, string[]][] = [
  ['native/cpu/qgemm/qu8_vquantize_nchw_nhwc__scalar.cc', []],
  ['native/cpu/qgemm/qu8_vdequantize_nhwc_nchw__scalar.cc', []],
  ['native/cpu/qgemm/qu8_vquantize_nchw_nhwc__avx512f.cc', AVX512],
  ['native/cpu/qgemm/qu8_vdequantize_nhwc_nchw__avx512f.cc', AVX512],
  ['native/cpu/peak__avx512bf16.cc', [...AVX512, '-mavx512bf16']],
  ['native/cpu/isa.cc', []],
];

const compiler = cxxHarnessUnavailable;

(compiler ? test.skip : test)('int8 layout kernels: every u8 NHWC byte and every float32 NCHW value equals the reference loop, on every kernel this CPU runs', async (t) => {
  const stdout = await runCxxHarness(SOURCES, 'native/cpu/tests/qu8_layout_test.cc', ['300', '5']);
  t.log(stdout.trim());
  t.notRegex(stdout, /FAIL/);
  t.is(stdout.match(/^ok: /gm)?.length, 3);
  if (/\bavx512f\b/.test(cpuFlags())) t.regex(stdout, /checked on scalar avx512f/);
});
