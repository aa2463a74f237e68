// The qu8s8 GEMM micro-kernels (native/cpu/qgemm: AVX512_VNNI, AVX2, scalar) and the NHWC u8
// convolution on them (im2col with zero-point padding, or the 1x1 GEMM in place) against
// independent integer loops, byte for byte, on random shapes, strides, pads and zero points: the
// C++ harness native/cpu/tests/qgemm_test.cc, built here from the few files it needs.
import test from 'ava';
import { cpuFlags, cxxHarnessUnavailable, runCxxHarness } from './helpers/cxx-harness.js';

const AVX512 = ['-mavx512f', '-mavx512bw', '-mavx512vl', '-mavx512dq'];
/** The harness's sources with binding.gyp's per-file ISA flags. */
const SOURCES: [string, string[]][] = [
  ['native/cpu/qgemm/qu8s8_pack.cc', []],
  ['native/cpu/qgemm/qu8_conv2d_nhwc.cc', []],
  ['native/cpu/qgemm/qu8s8_gemm_4x16c4__scalar.cc', []],
  ['native/cpu/qgemm/qu8s8_gemm_2x16c4__avx2.cc', ['-mavx2', '-mfma']],
  ['native/cpu/qgemm/qu8s8_gemm_12x32c4__avx512vnni.cc', [...AVX512, '-mavx512vnni']],
  ['native/cpu/qgemm/qu8s8_igemm_12x32c4__avx512vnni.cc', [...AVX512, '-mavx512vnni']],
  ['native/cpu/peak__avx512vnni.cc', [...AVX512, '-mavx512vnni']],
  ['native/cpu/peak__avx512bf16.cc', [...AVX512, '-mavx512bf16']],
  ['native/cpu/threadpool.cc', []],
  ['native/cpu/scratch.cc', []],
  ['native/cpu/isa.cc', []],
];

const compiler = cxxHarnessUnavailable;

(compiler ? test.skip : test)('qu8s8 GEMM kernels and NHWC u8 convolutions: every output byte equals the integer reference, on every kernel this CPU runs', async (t) => {
  const stdout = await runCxxHarness(SOURCES, 'native/cpu/tests/qgemm_test.cc', ['200', '11']);
  t.log(stdout.trim());
  t.regex(stdout, /^ok: 200 cases, \d+ outputs checked on qu8s8_gemm_4x16c4__scalar/m);
  const flags = cpuFlags();
  if (/\bavx2\b/.test(flags)) t.regex(stdout, /qu8s8_gemm_2x16c4__avx2/);
  if (/\bavx512_vnni\b/.test(flags)) t.regex(stdout, /qu8s8_gemm_12x32c4__avx512vnni/);
  // The indirect kernel reads conv rows in place (channels a multiple of 4, and GEMMs with k so).
  if (/\bavx512_vnni\b/.test(flags)) t.regex(stdout, /qu8s8_igemm_12x32c4__avx512vnni/);
});
