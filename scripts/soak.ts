// Memory stability: many runs of ResNet-18 on one model, then many
// load+run+dispose cycles, watching RSS. Growth after warm-up must stay < 5%.
//
//   npm run soak                       2,000 runs at 64×64, native, then 20 + 60 load/run/dispose cycles
//   npm run soak -- --runs 5000 --size 224 --backend js --cycles 0 --json
//
// test/reliability-memory.test.ts runs a shorter version in `npm test`.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fileURLToPath } from 'node:url';
import { load, resnet } from '../src/index.js';
import { seededTensor } from '../src/validate.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

export interface SoakOptions {
  runs?: number;
  warmup?: number;
  size?: number;
  backend?: 'native' | 'js';
  threads?: number;
  /** load → run → dispose cycles after the runs (0 to skip). */
  cycles?: number;
  /** Unmeasured load → run → dispose cycles before those (default 20). */
  cycleWarmup?: number;
  width?: number;
  log?: (line: string) => void;
}

export interface SoakReport {
  model: string;
  runs: number;
  warmup: number;
  /** RSS (bytes) after warm-up, and the median of the last 10% of samples. */
  rssAfterWarmup: number;
  rssEnd: number;
  /** (rssEnd − rssAfterWarmup) / rssAfterWarmup */
  growth: number;
  rssPeak: number;
  msPerRun: number;
  cycles: number;
  cyclesRssStart: number;
  cyclesRssEnd: number;
  cyclesGrowth: number;
}

/** RSS after a full GC and a turn of the event loop (N-API finalizers of packed weights run there). */
async function rss(): Promise<number> {
  for (let i = 0; i < 2; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().rss;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function soak(o: SoakOptions = {}): Promise<SoakReport> {
  const runs = o.runs ?? 2000, warmup = o.warmup ?? Math.min(200, Math.ceil(runs / 10)), size = o.size ?? 64;
  const backend = o.backend ?? 'native', threads = o.threads ?? 2, cycles = o.cycles ?? 60, width = o.width ?? 64;
  const log = o.log ?? (() => {});
  const graph = resnet({ depth: 18, seed: 11, inputSize: size, numClasses: 1000, width });
  const model = await load(graph, { backend, threads });
  const inputs = [1, 2, 3, 4].map((s) => seededTensor([1, 3, size, size], s));
  for (let i = 0; i < warmup; i++) await model.run({ input: inputs[i % 4]! });
  const rssAfterWarmup = await rss();
  log(`warm-up: ${warmup} runs, RSS ${(rssAfterWarmup / 2 ** 20).toFixed(1)} MiB`);
  const samples: number[] = [];
  let peak = rssAfterWarmup;
  const t0 = performance.now();
  const every = Math.max(1, Math.floor(runs / 50));
  for (let i = 0; i < runs; i++) {
    // Mostly async runs; every 10th is synchronous, every 25th is a burst of 4 concurrent runs.
    if (i % 25 === 0) await Promise.all(inputs.map((x) => model.run({ input: x })));
    else if (i % 10 === 0) model.runSync({ input: inputs[i % 4]! });
    else await model.run({ input: inputs[i % 4]! });
    if ((i + 1) % every === 0) {
      const r = await rss();
      samples.push(r);
      peak = Math.max(peak, r);
      if ((i + 1) % (every * 10) === 0) log(`run ${i + 1}: RSS ${(r / 2 ** 20).toFixed(1)} MiB`);
    }
  }
  const msPerRun = (performance.now() - t0) / runs;
  const rssEnd = median(samples.slice(-Math.max(1, Math.floor(samples.length / 10))));
  await model.dispose();

  let cyclesRssStart = 0, cyclesRssEnd = 0;
  if (cycles > 0) {
    const bytes = resnet({ depth: 18, seed: 12, inputSize: 32, numClasses: 10, width }).toOnnx();
    const x = seededTensor([1, 3, 32, 32], 9);
    const cycle = async () => { const m = await load(bytes, { backend, threads }); await m.run({ input: x }); m.runSync({ input: x }); await m.dispose(); };
    // Warm-up cycles let malloc's arenas reach their working size; then compare the median RSS of the first and last 10 cycles.
    for (let i = 0; i < (o.cycleWarmup ?? 20); i++) await cycle();
    const all: number[] = [];
    for (let i = 0; i < cycles; i++) {
      await cycle();
      all.push(await rss());
      if ((i + 1) % 10 === 0) log(`cycle ${i + 1}: RSS ${(all.at(-1)! / 2 ** 20).toFixed(1)} MiB`);
    }
    const k = Math.min(10, Math.ceil(all.length / 3));
    cyclesRssStart = median(all.slice(0, k));
    cyclesRssEnd = median(all.slice(-k));
    log(`${cycles} load/run/dispose cycles: RSS ${(cyclesRssStart / 2 ** 20).toFixed(1)} → ${(cyclesRssEnd / 2 ** 20).toFixed(1)} MiB`);
  }
  return {
    model: `resnet18 width ${width} ${size}×${size} ${backend} threads ${threads}`, runs, warmup, rssAfterWarmup, rssEnd,
    growth: (rssEnd - rssAfterWarmup) / rssAfterWarmup, rssPeak: peak, msPerRun,
    cycles, cyclesRssStart, cyclesRssEnd, cyclesGrowth: cycles > 0 ? (cyclesRssEnd - cyclesRssStart) / cyclesRssStart : 0,
  };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const json = process.argv.includes('--json');
  const num = (n: string) => (arg(n) === undefined ? undefined : Number(arg(n)));
  soak({
    runs: num('runs'), warmup: num('warmup'), size: num('size'), threads: num('threads'), cycles: num('cycles'), width: num('width'),
    backend: arg('backend') as 'native' | 'js' | undefined, log: json ? undefined : (l) => console.log(l),
  }).then((r) => {
    const pct = (g: number) => `${(g * 100).toFixed(2)}%`;
    if (json) console.log(JSON.stringify(r));
    else {
      console.log(`${r.model}: ${r.runs} runs after ${r.warmup} warm-up, ${r.msPerRun.toFixed(1)} ms/run`);
      console.log(`RSS after warm-up ${(r.rssAfterWarmup / 2 ** 20).toFixed(1)} MiB, end ${(r.rssEnd / 2 ** 20).toFixed(1)} MiB, peak ${(r.rssPeak / 2 ** 20).toFixed(1)} MiB: growth ${pct(r.growth)}`);
      if (r.cycles) console.log(`${r.cycles} load/dispose cycles: growth ${pct(r.cyclesGrowth)}`);
    }
    const ok = r.growth < 0.05 && r.cyclesGrowth < 0.05;
    if (!ok) console.error('soak: FAIL: RSS grew by 5% or more');
    process.exit(ok ? 0 : 1);
  }).catch((e) => { console.error(e); process.exit(1); });
}
