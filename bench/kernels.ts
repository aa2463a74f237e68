// npm run bench:kernels [-- --threads N] [--repeats R] [--js-repeats R] [--isa avx512f,bf16,avx2] [--no-js] [--json]
//
// GFLOP/s of every distinct conv shape of ResNet-50 (batch 1, 224×224) for the
// native backend on each ISA this CPU has (N threads, default 2) and for the
// pure-JS kernels (one thread), with the % of the machine's FMA peak measured
// in the same run and the native ÷ JS ratio. Samples are interleaved (every
// shape and variant once per round). The figures are the best sample, as the
// peak is the best of its readings (on a shared machine the least disturbed
// sample is the closest to the kernel's own speed); a column gives the
// median of the best native ISA too, to show how disturbed the run was.
// Where mode 'bf16' runs (AVX512_BF16), a native/bf16 column gives the bf16
// kernels' rate against the bf16 peak (a register-only vdpbf16ps loop, 2 FLOPs
// per bf16 multiply-add), read between rounds like the FMA peak.
// Each conv carries a bias and a fused ReLU; FLOPs count 2 per multiply-add.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { jsBackend } from '../src/backend/js.js';
import { createNativeBackend } from '../src/backend/native.js';
import type { ConvParams, KernelBackend, PackedWeights } from '../src/backend/types.js';
import type { NativeBinding, NativeIsa } from '../src/native-binding.js';
import { nativeBinding } from '../src/native.js';

// ---------------------------------------------------------------- options

function parseArgs(argv: string[]) {
  const o = { threads: 2, repeats: 15, jsRepeats: 0, isas: null as string[] | null, js: true, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const num = (name: string) => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`bench:kernels: ${name} expects a positive integer but received ${argv[i]}`);
      return v;
    };
    if (a === '--threads') o.threads = num(a);
    else if (a === '--repeats') o.repeats = num(a);
    else if (a === '--js-repeats') o.jsRepeats = num(a);
    else if (a === '--isa') o.isas = (argv[++i] ?? '').split(',');
    else if (a === '--no-js') o.js = false;
    else if (a === '--json') o.json = true;
    else if (a === '--help' || a === '-h') {
      console.log('usage: npm run bench:kernels -- [--threads N] [--repeats R] [--js-repeats R] [--isa avx512f,bf16,avx2,scalar] [--no-js] [--json]');
      process.exit(0);
    } else throw new RangeError(`bench:kernels: unknown argument ${a}`);
  }
  return o;
}

// ---------------------------------------------------------------- shapes

interface Shape {
  name: string;
  cIn: number;
  h: number;
  cOut: number;
  k: number;
  stride: number;
  pad: number;
  /** How many convs of ResNet-50 have this shape. */
  count: number;
}

// ResNet-50 v1.5 (torchvision: the stride sits on the 3×3), batch 1, 224×224.
// Stages of [blocks, width, input size]; the first block of each stage has the
// projection shortcut, and its 1×1 expand shares the projection's shape in stage 1.
function resnet50Shapes(): Shape[] {
  const list: Shape[] = [];
  const add = (cIn: number, h: number, cOut: number, k: number, stride: number, count: number) => {
    const pad = (k - 1) >> 1;
    const name = `${k}×${k}${stride > 1 ? '/2' : ''} ${cIn}→${cOut} @${h}`;
    const found = list.find((s) => s.name === name);
    if (found) found.count += count;
    else list.push({ name, cIn, h, cOut, k, stride, pad, count });
  };
  add(3, 224, 64, 7, 2, 1);
  const stages: [number, number, number][] = [[3, 64, 56], [4, 128, 56], [6, 256, 28], [3, 512, 14]];
  let cIn = 64;
  stages.forEach(([blocks, width, size], s) => {
    const stride = s === 0 ? 1 : 2;
    const out = size / stride;
    // first block
    add(cIn, size, width, 1, 1, 1);
    add(width, size, width, 3, stride, 1);
    add(width, out, width * 4, 1, 1, 1);
    add(cIn, size, width * 4, 1, stride, 1); // projection
    cIn = width * 4;
    // the rest
    add(cIn, out, width, 1, 1, blocks - 1);
    add(width, out, width, 3, 1, blocks - 1);
    add(width, out, cIn, 1, 1, blocks - 1);
  });
  return list;
}

const outSize = (s: Shape) => Math.floor((s.h + 2 * s.pad - s.k) / s.stride) + 1;
const flopsOf = (s: Shape) => 2 * s.cOut * outSize(s) ** 2 * s.cIn * s.k * s.k;

// ---------------------------------------------------------------- FMA peak

// A register-resident FMA loop (16 independent chains per thread), compiled
// with the system C compiler so that the peak does not depend on the addon.
const PEAK_C = String.raw`
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static long iters; static int isa; static volatile float sink;
#define REP16(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
#define REP12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
__attribute__((target("avx512f"))) static void f512(void) {
#define D(i) __m512 a##i = _mm512_set1_ps(1.0f + i);
#define F(i) a##i = _mm512_fmadd_ps(a##i, x, y);
#define S(i) s = _mm512_add_ps(s, a##i);
  REP16(D) const __m512 x = _mm512_set1_ps(0.9999999f), y = _mm512_set1_ps(1e-7f);
  for (long n = 0; n < iters; n++) { REP16(F) __asm__ volatile("" ::: "memory"); }
  __m512 s = _mm512_setzero_ps(); REP16(S) sink = _mm512_reduce_add_ps(s);
#undef D
#undef F
#undef S
}
__attribute__((target("avx2,fma"))) static void f256(void) {
#define D(i) __m256 a##i = _mm256_set1_ps(1.0f + i);
#define F(i) a##i = _mm256_fmadd_ps(a##i, x, y);
#define S(i) s = _mm256_add_ps(s, a##i);
  REP12(D) const __m256 x = _mm256_set1_ps(0.9999999f), y = _mm256_set1_ps(1e-7f);
  for (long n = 0; n < iters; n++) { REP12(F) __asm__ volatile("" ::: "memory"); }
  __m256 s = _mm256_setzero_ps(); REP12(S) float t[8]; _mm256_storeu_ps(t, s); sink = t[0];
#undef D
#undef F
#undef S
}
static void* run(void* p) { (void)p; if (isa == 512) f512(); else f256(); return 0; }
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
int main(int argc, char** argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  __builtin_cpu_init();
  isa = __builtin_cpu_supports("avx512f") ? 512 : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 256 : 0;
  if (!isa) { printf("none 0\n"); return 0; }
  const double flopsPerIter = isa == 512 ? 16 * 16 * 2 : 12 * 8 * 2;
  double best = 0; pthread_t th[256]; if (threads > 256) threads = 256;
  iters = 2000000; run(0); /* warm up the clock and the wide units */
  iters = 20000000;
  for (int r = 0; r < 5; r++) {
    double t0 = now();
    for (int i = 1; i < threads; i++) pthread_create(&th[i], 0, run, 0);
    run(0);
    for (int i = 1; i < threads; i++) pthread_join(th[i], 0);
    double g = flopsPerIter * iters * threads / (now() - t0) / 1e9;
    if (g > best) best = g;
  }
  printf("%s %.2f\n", isa == 512 ? "avx512f" : "avx2", best);
  return 0;
}
`;

/** Measures the FMA peak with `threads` threads, in GFLOP/s; called between rounds, the best reading wins. */
interface PeakProbe {
  how: string;
  measure(): number;
  dispose(): void;
}

function addonProbe(b: NativeBinding | null, threads: number): PeakProbe | null {
  const any = b as unknown as Record<string, unknown> | null;
  for (const name of ['measurePeak', 'peakGflops', 'fmaPeak', 'measureFmaPeak']) {
    const f = any?.[name];
    if (typeof f !== 'function') continue;
    const measure = () => {
      const v = (f as (t: number) => number | { gflops: number })(threads);
      return typeof v === 'number' ? v : (v?.gflops ?? 0);
    };
    if (measure() > 0) return { how: `addon ${name}(${threads})`, measure, dispose() {} };
  }
  return null;
}

function compiledProbe(threads: number): PeakProbe | null {
  const dir = mkdtempSync(join(tmpdir(), 'resnode-peak-'));
  const dispose = () => rmSync(dir, { recursive: true, force: true });
  try {
    const src = join(dir, 'peak.c');
    const exe = join(dir, 'peak');
    writeFileSync(src, PEAK_C);
    const cc = process.env.CC ?? 'cc';
    execFileSync(cc, ['-O2', '-pthread', src, '-o', exe], { stdio: 'pipe' });
    const run = () => execFileSync(exe, [String(threads)], { encoding: 'utf8' }).trim().split(/\s+/);
    const [isa, g] = run();
    if (!(Number(g) > 0)) throw new Error('no FMA path');
    return { how: `${isa} FMA loop compiled with ${cc}, ${threads} thread(s), best of the readings between rounds`, measure: () => Number(run()[1]), dispose };
  } catch {
    dispose();
    return null;
  }
}

// ---------------------------------------------------------------- timing

interface Variant {
  label: string;
  backend: KernelBackend;
  isa?: NativeIsa;
  /** 'bf16': packed for the bf16 kernels, measured against the bf16 peak. */
  mode?: 'bf16';
  threads: number;
  repeats: (s: Shape) => number;
}

interface Prepared {
  shape: Shape;
  x: Float32Array;
  y: Float32Array;
  params: ConvParams;
  packed: Map<string, PackedWeights>;
  inner: Map<string, number>;
  samples: Map<string, number[]>;
}

function best(a: number[]): number {
  return Math.min(...a);
}

function median(a: number[]): number {
  const s = [...a].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function random(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}

function main(): void {
  const opt = parseArgs(process.argv.slice(2));
  const shapes = resnet50Shapes();
  let binding: NativeBinding | null = null;
  let nativeError = '';
  try {
    binding = nativeBinding();
    if (typeof binding.info !== 'function' || typeof binding.setIsa !== 'function') throw new Error('the addon exports no info()/setIsa()');
  } catch (err) {
    nativeError = (err as Error).message.split('\n')[0]!;
    binding = null;
  }
  const variants: Variant[] = [];
  if (binding) {
    const native = createNativeBackend();
    const order: NativeIsa[] = ['scalar', 'avx2', 'avx512f'];
    const detected = binding.info().detectedIsa;
    const isas = order.slice(0, order.indexOf(detected) + 1).reverse().filter((i) => !opt.isas || opt.isas.includes(i));
    if (binding.info().bf16 && (!opt.isas || opt.isas.includes('bf16'))) {
      variants.push({ label: 'native/bf16', backend: native, isa: 'avx512f', mode: 'bf16', threads: opt.threads, repeats: () => opt.repeats });
    }
    for (const isa of isas) {
      // The scalar path is slow: fewer samples on it.
      variants.push({ label: `native/${isa}`, backend: native, isa, threads: opt.threads, repeats: () => (isa === 'scalar' ? Math.min(3, opt.repeats) : opt.repeats) });
    }
  }
  if (opt.js) {
    variants.push({ label: 'js', backend: jsBackend, threads: 1, repeats: (s) => opt.jsRepeats || (flopsOf(s) > 150e6 ? 2 : 3) });
  }
  if (variants.length === 0) throw new Error('bench:kernels: nothing to run');

  const probe = addonProbe(binding, opt.threads) ?? compiledProbe(opt.threads);
  let peakReading = probe ? probe.measure() : 0;
  const bf16V = variants.find((v) => v.mode === 'bf16');
  const measureBf16Peak = () => (bf16V ? binding!.measurePeak(opt.threads, 'bf16') : 0);
  let bf16PeakReading = measureBf16Peak();

  // Prepare data and pack weights once per (shape, variant).
  const prepared: Prepared[] = shapes.map((shape, i) => {
    const o = outSize(shape);
    const w = random(shape.cOut * shape.cIn * shape.k * shape.k, 2 * i + 1).map((v) => v * 0.05);
    const bias = random(shape.cOut, 2 * i + 2);
    const packed = new Map<string, PackedWeights>();
    for (const v of variants) {
      if (v.isa) binding!.setIsa(v.isa);
      packed.set(v.label, v.backend.packConv2d(w, bias, shape.cOut, shape.cIn, shape.k, shape.k, 1, v.mode));
    }
    return {
      shape,
      x: random(shape.cIn * shape.h * shape.h, 7 * i + 3),
      y: new Float32Array(shape.cOut * o * o),
      params: {
        inputDims: [1, shape.cIn, shape.h, shape.h], cOut: shape.cOut, kh: shape.k, kw: shape.k, groups: 1,
        strides: [shape.stride, shape.stride], pads: [shape.pad, shape.pad, shape.pad, shape.pad], dilations: [1, 1],
        outDims: [o, o], relu: true, threads: 1,
      },
      packed,
      inner: new Map(),
      samples: new Map(variants.map((v) => [v.label, []])),
    };
  });

  const runOnce = (p: Prepared, v: Variant, inner: number): number => {
    if (v.isa) binding!.setIsa(v.isa);
    const params = { ...p.params, threads: v.threads };
    const packed = p.packed.get(v.label)!;
    const t0 = performance.now();
    for (let i = 0; i < inner; i++) v.backend.conv2dSync(packed, p.x, null, p.y, params);
    return (performance.now() - t0) / inner;
  };

  // Warm-up (JIT, pools, page faults), and calls per sample so that each native sample lasts ≥ 20 ms.
  const rounds = Math.max(...variants.flatMap((v) => shapes.map((s) => v.repeats(s))));
  const total = prepared.length * variants.length * (rounds + 1);
  const bar = new cliProgress.SingleBar(
    { format: 'bench:kernels [{bar}] {value}/{total} {task}', stream: process.stderr, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  const showBar = process.stderr.isTTY && !opt.json;
  if (showBar) bar.start(total, 0, { task: 'warm-up' });
  for (const p of prepared) {
    for (const v of variants) {
      const ms = runOnce(p, v, 1);
      p.inner.set(v.label, v.backend.name === 'js' ? 1 : Math.max(1, Math.min(200, Math.ceil(20 / Math.max(ms, 1e-3)))));
      if (showBar) bar.increment(1, { task: `warm-up ${p.shape.name}` });
    }
  }
  // Interleaved rounds: every shape, every variant, once per round.
  for (let r = 0; r < rounds; r++) {
    for (const p of prepared) {
      for (const v of variants) {
        if (r < v.repeats(p.shape)) p.samples.get(v.label)!.push(runOnce(p, v, p.inner.get(v.label)!));
        if (showBar) bar.increment(1, { task: `round ${r + 1}/${rounds} ${p.shape.name}` });
      }
    }
    // The machine may be shared: read the peak again after every round and keep
    // the best. The addon's probe runs the active ISA's loop: the best one, not
    // the last variant's.
    if (binding) binding.setIsa('auto');
    if (probe) peakReading = Math.max(peakReading, probe.measure());
    bf16PeakReading = Math.max(bf16PeakReading, measureBf16Peak());
  }
  probe?.dispose();
  if (showBar) bar.stop();
  if (binding) binding.setIsa('auto');

  // Results.
  const ms = (p: Prepared, v: Variant) => best(p.samples.get(v.label)!);
  const msMedian = (p: Prepared, v: Variant) => median(p.samples.get(v.label)!);
  const gf = (p: Prepared, v: Variant) => flopsOf(p.shape) / (ms(p, v) * 1e-3) / 1e9;
  const gfMedian = (p: Prepared, v: Variant) => flopsOf(p.shape) / (msMedian(p, v) * 1e-3) / 1e9;
  // The best native fp32 ISA: the baseline of the median and ÷js columns.
  const bestNative = variants.find((v) => v.isa && !v.mode);
  const peakOf = (v: Variant) => (v.mode === 'bf16' ? bf16PeakReading : peakG);
  const jsV = variants.find((v) => v.backend.name === 'js');
  const observedBest = Math.max(...prepared.flatMap((p) => variants.filter((v) => v.isa && !v.mode).map((v) => gf(p, v))), 0);
  const peakG = peakReading > 0 ? peakReading : observedBest;
  const peakHow = peakReading > 0 ? probe!.how : `no peak probe available: % is relative to the best observed native GFLOP/s (${observedBest.toFixed(1)}), so it overstates`;

  const rows = prepared.map((p) => ({
    shape: p.shape.name,
    count: p.shape.count,
    mflop: flopsOf(p.shape) / 1e6,
    results: Object.fromEntries(variants.map((v) => [v.label, {
      ms: ms(p, v), gflops: gf(p, v), pctPeak: v.isa ? (100 * gf(p, v)) / peakOf(v) : null,
      medianMs: msMedian(p, v), medianGflops: gfMedian(p, v), samples: p.samples.get(v.label)!.length,
    }])),
    nativeOverJs: bestNative && jsV ? ms(p, jsV) / ms(p, bestNative) : null,
  }));
  // The whole network's convs: count-weighted time.
  const totalFlop = prepared.reduce((a, p) => a + p.shape.count * flopsOf(p.shape), 0);
  const totals = Object.fromEntries(variants.map((v) => {
    const t = prepared.reduce((a, p) => a + p.shape.count * ms(p, v), 0);
    const tm = prepared.reduce((a, p) => a + p.shape.count * msMedian(p, v), 0);
    return [v.label, { ms: t, gflops: totalFlop / (t * 1e-3) / 1e9, pctPeak: v.isa ? (100 * totalFlop) / (t * 1e-3) / 1e9 / peakOf(v) : null, medianMs: tm, medianGflops: totalFlop / (tm * 1e-3) / 1e9 }];
  }));
  const meta = {
    cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism(), threads: opt.threads,
    peakGflops: peakG, peakMethod: peakHow, bf16PeakGflops: bf16V ? bf16PeakReading : undefined, nativeIsa: binding?.info().detectedIsa ?? null, nativeError: nativeError || undefined,
    totalGflop: totalFlop / 1e9,
  };

  if (opt.json) {
    console.log(JSON.stringify({ meta, rows, totals }, null, 2));
    return;
  }
  console.log(`ResNet-50 conv shapes, batch 1, bias + ReLU fused; native: ${opt.threads} thread(s), JS: 1 thread; the best of ${opt.repeats} interleaved samples (JS: of ${opt.jsRepeats || '2-3'}), and the median of the best native ISA's`);
  console.log(`CPU: ${meta.cpu} (${meta.cores} cores)`);
  console.log(`FMA peak: ${peakG.toFixed(1)} GFLOP/s (${peakHow})`);
  if (bf16V) console.log(`bf16 peak: ${bf16PeakReading.toFixed(1)} GFLOP/s (addon measurePeak(${opt.threads}, 'bf16'): a vdpbf16ps loop, 2 FLOPs per bf16 multiply-add; native/bf16's % is of this peak)`);
  if (!binding) console.log(`native: not measured (${nativeError})`);
  const head = ['shape', '×', 'MFLOP', ...variants.map((v) => (v.isa ? `${v.label} GF/s (%peak)` : `${v.label} GF/s`)),
    ...(bestNative ? [`${bestNative.label} median`] : []), ...(bestNative && jsV ? [`${bestNative.label}÷js`] : [])];
  const fmt = (r: { gflops: number; pctPeak: number | null }) => (r.pctPeak === null ? r.gflops.toFixed(2) : `${r.gflops.toFixed(1)} (${r.pctPeak.toFixed(0)}%)`);
  const fmtMedian = (r: { medianGflops: number }) => `${r.medianGflops.toFixed(1)} (${((100 * r.medianGflops) / peakG).toFixed(0)}%)`;
  const body = rows.map((r) => [r.shape, String(r.count), r.mflop.toFixed(0), ...variants.map((v) => fmt(r.results[v.label]!)),
    ...(bestNative ? [fmtMedian(r.results[bestNative.label]!)] : []), ...(r.nativeOverJs === null ? [] : [`${r.nativeOverJs.toFixed(0)}×`])]);
  const tot = ['all convs (count-weighted)', String(shapes.reduce((a, s) => a + s.count, 0)), (totalFlop / 1e6).toFixed(0), ...variants.map((v) => fmt(totals[v.label]!)),
    ...(bestNative ? [fmtMedian(totals[bestNative.label]!)] : []),
    ...(bestNative && jsV ? [`${(totals[jsV.label]!.ms / totals[bestNative.label]!.ms).toFixed(0)}×`] : [])];
  const table = [head, ...body, tot];
  const widths = head.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  const line = (row: string[]) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  body.forEach((row) => console.log(line(row)));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  console.log(line(tot));
}

main();
