// `resnode bench`: races our backends against ONNX Runtime in one process,
// interleaved round by round so machine noise hits every contender alike.
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
import { onnxRuntime, ours, type Contender, type ContenderKind, type LayerTimes } from './contenders.js';
import { ortLayerTimes, ortTimeFor } from './ort-profile.js';
import { ModelProto, type ModelProtoLike } from '../onnx/proto.js';

const exec = promisify(execFile);
const SETTLE_MS = 30;
/** Profiled runs per side for --layers (ours and ORT's alternating). */
const LAYER_RUNS = 9;

export interface BenchOptions {
  /** A path to an .onnx file, or resnet18|34|50|101|152. */
  model: string;
  backends: ContenderKind[];
  batches: number[];
  threads: number;
  modes: Mode[];
  repeats: number;
  warmup: number;
  /** Timed runs for the JS backend (it is ~100× slower). */
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
      const contenders: Contender[] = [];
      for (const kind of o.backends) {
        if (kind === 'ort') contenders.push(await onnxRuntime(bytes, x, o.threads));
        // Each backend runs the modes it honours (src/modes.ts): the JS kernels exact only.
        else for (const mode of o.modes.filter((m) => honours(m, kind))) contenders.push(await ours(bytes, kind, x, o.threads, mode));
      }
      const times = new Map<Contender, number[]>(contenders.map((c) => [c, []]));
      for (let r = 0; r < o.warmup + o.repeats; r++) {
        bar?.update({ stage: `batch ${batch}, ${r < o.warmup ? 'warm-up' : 'round'} ${r + 1}` });
        for (const c of contenders) {
          if (c.kind === 'js' && (r < o.warmup ? r > 0 : r - o.warmup >= o.jsRepeats)) continue;
          // Let the previous contender's spinning pool threads park first: ORT's and
          // ours both spin after a run, and would otherwise steal the cores.
          await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
          const start = performance.now();
          await c.run();
          if (r >= o.warmup) times.get(c)!.push(performance.now() - start);
        }
        bar?.increment();
      }
      const ortMedian = [...times].find(([c]) => c.kind === 'ort')?.[1];
      const ortMs = ortMedian && ortMedian.length ? summarize(ortMedian).median : undefined;
      for (const c of contenders) {
        const latency = summarize(times.get(c)!);
        const gflops = flops / (latency.median / 1000) / 1e9;
        results.push({
          label: c.label, kind: c.kind, batch, latency, imagesPerSecond: batch / (latency.median / 1000), gflops,
          percentOfPeak: (100 * gflops) / peakGflops, latencyVsOrt: ortMs ? latency.median / ortMs : undefined,
        });
      }
      if (o.layers && batch === o.batches[0]) {
        // Every native contender (one per mode); the JS kernels are too slow to profile 9 times.
        const natives = contenders.filter((c) => c.kind === 'native' && c.layers);
        const prefix = join(dir, 'ort-profile');
        const profiled = o.backends.includes('ort') ? await onnxRuntime(bytes, x, o.threads, prefix) : undefined;
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
          const rows = mine[0]!.map((row, i) => ({ name: row.name, op: row.op, kernel: row.kernel, oursMs: summarize(mine.map((r) => r[i]!.ms)).median, ortMs: ortFor(row.output) }));
          return { batch, label: c.label, rows };
        });
      }
      for (const c of contenders) await c.dispose();
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
    bar?.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return { model: name, batches: o.batches, date: new Date().toISOString(), threads: o.threads, isa, peakGflops, ...(vnniPeakGops !== undefined ? { vnniPeakGops } : {}), flopsPerImage: graphFlops(graph, { [inputName]: inputDims.map((d) => (d < 0 ? 1 : d)) }), results, layers };
}
