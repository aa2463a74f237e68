// The int8 conv step's layout kernels (native/cpu/qgemm/qu8_layout.h: float32 NCHW -> u8 NHWC
// QuantizeLinear and u8 NHWC -> float32 NCHW DequantizeLinear, scalar and AVX-512) against an
// independent loop, byte for byte, on random channel counts, pixel ranges, scales, zero points,
// rounding ties, clamps and NaN: the C++ harness native/cpu/tests/qu8_layout_test.cc, built here.
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cxxHarnessUnavailable } from './helpers/cxx-harness.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
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
  const dir = mkdtempSync(join(tmpdir(), 'resnode-qu8-layout-'));
  try {
    const cxx = ['-std=c++17', '-O1', '-pthread'];
    const objects = SOURCES.map((_, i) => join(dir, `${i}.o`));
    for (let i = 0; i < SOURCES.length; i += 2) {
      await Promise.all(SOURCES.slice(i, i + 2).map(([src, isa], j) => run('g++', [...cxx, ...isa, '-c', join(ROOT, src), '-o', objects[i + j]!], { timeout: 120_000 })));
    }
    const exe = join(dir, 'qu8_layout_test');
    await run('g++', [...cxx, join(ROOT, 'native/cpu/tests/qu8_layout_test.cc'), ...objects, '-o', exe], { timeout: 120_000 });
    const { stdout } = await run(exe, ['300', '5'], { timeout: 60_000 });
    t.log(stdout.trim());
    t.notRegex(stdout, /FAIL/);
    t.is(stdout.match(/^ok: /gm)?.length, 3);
    const flags = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
    if (/\bavx512f\b/.test(flags)) t.regex(stdout, /checked on scalar avx512f/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
