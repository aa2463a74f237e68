// `resnode bench`: races our backends against ONNX Runtime, each contender in
// its own child process (contender-process.ts), the processes taking turns
// round by round so machine noise hits every contender alike and no
// contender's threads run while another's are timed. ORT keeps its default
// threading (spinning on).
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import cliProgress from 'cli-progress';
import { resnet, type ResNetDepth } from '../graph/resnet.js';
import { fromOnnx } from '../onnx/import.js';
import { honours, type Mode } from '../modes.js';
import { seededTensor } from '../validate.js';
import { measurePeakGflops } from './peak.js';
import { graphFlops } from './flops.js';
import { summarize, type Summary } from './stats.js';
import { onnxRuntime, ours, type ContenderKind, type LayerTimes } from './contenders.js';
import { PAUSE_MS, race, startContender, type ContenderProcess } from './contender-process.js';
import { ortLayerTimes, ortTimeFor } from './ort-profile.js';
import { ModelProto, type ModelProtoLike } from '../onnx/proto.js';

const exec = promisify(execFile);
/** Profiled runs per side for --layers (ours and ORT's alternating). */
const LAYER_RUNS = 9;

export interface BenchOptions {
  /** A path to an .onnx file, or resnet18|34|50|101|152. */
  model: string;
  backends: ContenderKind[];
  batches: number[];
  threads: number;
  modes: Mode[];
  /** Timed rounds. */
  repeats: number;
  /** Back-to-back timed runs per contender per round. */
  roundRuns: number;
  /** Untimed rounds. */
  warmup: number;
  /** Timed runs for the JS backend (it is ~100× slower), one per round. */
  jsRepeats: number;
  layers: boolean;
  /** Measure load time and peak RSS in child processes. */
  memory: boolean;
  progress: boolean;
}

export interface ContenderResult {
  label: string;
  kind: ContenderKind;
  batch: number;
  latency: Summary;
  imagesPerSecond: number;
  gflops: number;
  percentOfPeak: number;
  /** Our latency ÷ ORT's (below 1 is faster); throughput ratio is its inverse. */
  latencyVsOrt?: number;
  loadMs?: number;
  peakRssMb?: number;
}

export interface LayerRow {
  name: string;
  op: string;
  /** Our micro-kernel for the layer, where the backend names one. */
  kernel?: string;
  oursMs: number;
  ortMs?: number;
}

export interface BenchReport {
  model: string;
  batches: number[];
  date: string;
  threads: number;
  isa: string;
  peakGflops: number;
  /** An int8 (QDQ) model's: the vpdpbusd peak in GOP/s, measured in the same run (NaN without AVX512_VNNI). */
  vnniPeakGops?: number;
  flopsPerImage: number;
  results: ContenderResult[];
  /** How the race was run (see contender-process.ts); absent in reports of the older in-process race. */
  harness?: { rounds: number; roundRuns: number; warmupRounds: number; pauseMs: number; ortOptions?: object };
  /** One per profiled contender of ours (each mode), label naming it. */
  layers?: { batch: number; label: string; rows: LayerRow[] }[];
}

export async function resolveModel(model: string): Promise<{ name: string; bytes: Uint8Array }> {
  const m = /^resnet(18|34|50|101|152)$/.exec(model);
  if (m) return { name: model, bytes: resnet({ depth: Number(m[1]) as ResNetDepth, seed: 0 }).toOnnx() };
  return { name: model.replace(/^.*\//, '').replace(/\.onnx$/, ''), bytes: new Uint8Array(await readFile(model)) };
}

async function probe(kind: ContenderKind, path: string, batch: number, threads: number, mode: string): Promise<{ loadMs: number; peakRssMb: number }> {
  const self = fileURLToPath(import.meta.url);
  const script = self.replace(/run\.(ts|js)$/, (_m, ext: string) => `probe.${ext}`);
  const { stdout } = await exec(process.execPath, [...process.execArgv, script, kind, path, String(batch), String(threads), mode], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

export async function runBench(o: BenchOptions, isa: string): Promise<BenchReport> {
  const { name, bytes } = await resolveModel(o.model);
  const graph = fromOnnx(bytes);
  const inputName = graph.inputs[0]!.name;
  const inputDims = graph.inputs[0]!.dims;
  let peakGflops = measurePeakGflops(o.threads);
  const vnniPeakGops = graph.nodes.some((n) => n.op === 'QuantizeDequantize') ? measurePeakGflops(o.threads, 'vnni') : undefined;
  const dir = await mkdtemp(join(tmpdir(), 'resnode-bench-'));
  const modelPath = join(dir, 'model.onnx');
  await writeFile(modelPath, bytes);
  const results: ContenderResult[] = [];
  let layers: BenchReport['layers'];
  let harness: BenchReport['harness'];
  // Closed in `finally` too, so that a failure leaves no child behind.
  const open: ContenderProcess[] = [];
  // On stderr, so stdout stays the report; without a terminal (a pipe, CI) a plain line every 5 s.
  const bar = o.progress
    ? new cliProgress.SingleBar({ format: 'bench {bar} {percentage}% | {stage}', hideCursor: true, stream: process.stderr, noTTYOutput: !process.stderr.isTTY, notTTYSchedule: 5000 }, cliProgress.Presets.shades_classic)
    : undefined;
  const perBatch = o.warmup + o.repeats + (o.memory ? 1 : 0);
  bar?.start(o.batches.length * perBatch, 0, { stage: 'loading' });
  try {
    for (const batch of o.batches) {
      const dims = inputDims.map((d, i) => (d < 0 || i === 0 ? batch : d));
      const x = seededTensor(dims, batch);
      const flops = graphFlops(graph, { [inputName]: dims });
      const contenders: ContenderProcess[] = [];
      for (const kind of o.backends) {
        // Each backend runs the modes it honours (src/modes.ts): the JS kernels exact only.
        const modes = kind === 'ort' ? (['exact'] as const) : o.modes.filter((m) => honours(m, kind));
        for (const mode of modes) {
          bar?.update({ stage: `batch ${batch}, loading ${kind} (${mode}) in a child process` });
          contenders.push(await startContender({ kind, mode, modelPath, batch, threads: o.threads, warmupRuns: kind === 'js' ? 0 : 1 }));
          open.push(contenders.at(-1)!);
        }
      }
      const warm = o.warmup, rounds = o.warmup + o.repeats;
      const { ms: all } = await race(contenders, {
        rounds,
        // The JS backend: one warm-up run and jsRepeats timed ones, one per round.
        runs: (c, r) => (c.spec.kind !== 'js' ? o.roundRuns : r === 0 || (r >= warm && r - warm < o.jsRepeats) ? 1 : 0),
        onRound: (r) => { if (r > 0) bar?.increment(); bar?.update({ stage: `batch ${batch}, ${r < warm ? 'warm-up' : 'round'} ${r + 1}` }); },
      });
      bar?.increment();
      // The warm-up rounds' runs come first in each contender's list.
      const warmRuns = (c: ContenderProcess) => Array.from({ length: warm }, (_, r) => (c.spec.kind !== 'js' ? o.roundRuns : r === 0 ? 1 : 0)).reduce((a, b) => a + b, 0);
      const times = new Map(contenders.map((c) => [c, all.get(c)!.slice(warmRuns(c))]));
      harness = { rounds: o.repeats, roundRuns: o.roundRuns, warmupRounds: o.warmup, pauseMs: PAUSE_MS, ortOptions: contenders.find((c) => c.spec.kind === 'ort')?.ortOptions };
      for (const c of contenders) c.close();
      const ortMedian = [...times].find(([c]) => c.spec.kind === 'ort')?.[1];
      const ortMs = ortMedian && ortMedian.length ? summarize(ortMedian).median : undefined;
      for (const c of contenders) {
        const latency = summarize(times.get(c)!);
        const gflops = flops / (latency.median / 1000) / 1e9;
        results.push({
          label: c.label, kind: c.spec.kind, batch, latency, imagesPerSecond: batch / (latency.median / 1000), gflops,
          percentOfPeak: (100 * gflops) / peakGflops, latencyVsOrt: ortMs ? latency.median / ortMs : undefined,
        });
      }
      if (o.layers && batch === o.batches[0]) {
        // In this process, ours and ORT's alternating (ORT's pool parked after each
        // run, so that it does not steal the cores from ours): every native mode;
        // the JS kernels are too slow to profile 9 times.
        const natives = [];
        for (const m of o.backends.includes('native') ? o.modes.filter((mode) => honours(mode, 'native')) : []) {
          natives.push(await ours(bytes, 'native', x, o.threads, m));
          await natives.at(-1)!.run();
        }
        const prefix = join(dir, 'ort-profile');
        const profiled = o.backends.includes('ort') ? await onnxRuntime(bytes, x, o.threads, { profilePrefix: prefix, spinning: false }) : undefined;
        // Profiled runs of ours and ORT's alternate (as the timed rounds do), and
        // each layer's figure is the median of its runs on both sides, so that a
        // disturbed moment of a shared machine lands on both or on neither.
        const runs: LayerTimes[][] = natives.map(() => []);
        for (let i = 0; i < LAYER_RUNS; i++) {
          for (const [k, c] of natives.entries()) {
            if (profiled) await profiled.run();
            runs[k]!.push(await c.layers!());
          }
        }
        let ortTimes = new Map<string, number>();
        if (profiled) {
          profiled.session.endProfiling();
          const file = (await readdir(dir)).find((f) => f.startsWith('ort-profile'));
          if (file) ortTimes = ortLayerTimes(JSON.parse(await readFile(join(dir, file), 'utf8')));
          await profiled.dispose();
        }
        const ortFor = ortTimeFor(ModelProto.decode(bytes) as unknown as ModelProtoLike, ortTimes);
        layers = natives.map((c, k) => {
          const mine = runs[k]!;
          const rows = mine[0]!.map((row, i) => ({ name: row.name, op: row.op, kernel: row.kernel, oursMs: summarize(mine.map((r) => r[i]!.ms)).median, ortMs: ortFor(row.output, row.name) }));
          return { batch, label: c.label, rows };
        });
        for (const c of natives) await c.dispose();
      }
      if (o.memory) {
        bar?.update({ stage: `batch ${batch}, load time and peak RSS (child processes)` });
        for (const r of results.filter((res) => res.batch === batch)) {
          const mode = /\((\w+)\)$/.exec(r.label)?.[1] ?? 'exact';
          const p = await probe(r.kind, modelPath, batch, o.threads, mode);
          r.loadMs = p.loadMs;
          r.peakRssMb = p.peakRssMb;
        }
        bar?.increment();
      }
    }
    // Measured again at the end: the higher figure, so a noisy start cannot flatter "% of peak".
    const peakAgain = measurePeakGflops(o.threads);
    if (peakAgain > peakGflops) {
      for (const r of results) r.percentOfPeak = (r.percentOfPeak * peakGflops) / peakAgain;
      peakGflops = peakAgain;
    }
  } finally {
    for (const c of open) c.close();
    bar?.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return { model: name, batches: o.batches, date: new Date().toISOString(), threads: o.threads, isa, peakGflops, ...(vnniPeakGops !== undefined ? { vnniPeakGops } : {}), flopsPerImage: graphFlops(graph, { [inputName]: inputDims.map((d) => (d < 0 ? 1 : d)) }), results, harness, layers };
}
