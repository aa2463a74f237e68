// The f32 igemm micro-kernels (native/cpu/igemm: AVX-512, AVX2, scalar) and the NHWC conv on them
// (weights packed into panels, an indirection buffer of row pointers with a shared zero row for
// the padding, the fused bias + NHWC residual + clamp store) against a float64 loop on the NCHW
// tensors, on random shapes (kernels 1/3/7, rectangular and dilated ones, strides 1-2, asymmetric
// pads, channel counts that are no multiple of a tile, batch 1-2), 1 and 2 threads, the input
// moved after the indirection was built: the C++ harness native/cpu/tests/igemm_test.cc, built
// here from the few files it needs.
import test from 'ava';
import { cpuFlags, cxxHarnessUnavailable, runCxxHarness } from './helpers/cxx-harness.js';

const AVX512 = ['-mavx512f', '-mavx512bw', '-mavx512vl', '-mavx512dq'];
/** The harness's sources with binding.gyp's per-file ISA flags. */
const SOURCES: [string, string[]][] = [
  ['native/cpu/igemm/f32_conv2d_nhwc.cc', []],
  ['native/cpu/igemm/f32_igemm_4x8__scalar.cc', []],
  ['native/cpu/igemm/f32_igemm_6x16__avx2.cc', ['-mavx2', '-mfma']],
  ['native/cpu/igemm/f32_igemm_14x32__avx512f.cc', [...AVX512, '-mfma']],
  ['native/cpu/igemm/f32_igemm_7x32__avx512f.cc', [...AVX512, '-mfma']],
  ['native/cpu/peak__avx512bf16.cc', [...AVX512, '-mavx512bf16']],
  ['native/cpu/threadpool.cc', []],
  ['native/cpu/work_split.cc', []],
  ['native/cpu/scratch.cc', []],
  ['native/cpu/isa.cc', []],
];

(cxxHarnessUnavailable ? test.skip : test)('f32 igemm kernels and NHWC convolutions: every output matches the float64 loop, on every kernel this CPU runs', async (t) => {
  const stdout = await runCxxHarness(SOURCES, 'native/cpu/tests/igemm_test.cc', ['200', '11']);
  t.log(stdout.trim());
  t.regex(stdout, /^ok: 200 cases, \d+ outputs checked on f32_igemm_4x8__scalar/m);
  const flags = cpuFlags();
  if (/\bavx2\b/.test(flags)) t.regex(stdout, /f32_igemm_6x16__avx2/);
  if (/\bavx512f\b/.test(flags)) t.regex(stdout, /f32_igemm_14x32__avx512f/);
  // The half-rows kernel, which the indirection picks where 14-row tiles would leave many rows empty.
  if (/\bavx512f\b/.test(flags)) t.regex(stdout, /f32_igemm_7x32__avx512f \([1-9]\d* cases\)/);
});
