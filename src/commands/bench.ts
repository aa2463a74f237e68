// resnode bench <model.onnx | resnet18|34|50|101|152> --backends native,js,ort --batch 1,8 ...
import { InvalidArgumentError, type Command } from 'commander';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { info } from '../info.js';
import { runBench } from '../bench/run.js';
import { toMarkdown, toSvg, toText } from '../bench/report.js';
import { contentionMarkdown, contentionSvg, runContention } from '../bench/contention.js';
import { concurrencyMarkdown, concurrencySvg, runConcurrency } from '../bench/concurrency.js';
import { currentThreads } from '../threads.js';
import { MODE_NAMES, type Mode } from '../modes.js';
import { listOf } from './args.js';

const ints = (v: string): number[] => {
  const n = v.split(',').map(Number);
  if (n.some((x) => !Number.isSafeInteger(x) || x < 1)) throw new InvalidArgumentError('expected positive integers, e.g. 1,8');
  return n;
};
const int = (v: string): number => ints(v)[0]!;

export function register(program: Command): void {
  program
    .command('bench <model>')
    .description('race native, JS and ONNX Runtime on a model (a .onnx file or resnet18|34|50|101|152)')
    .option('--backends <list>', 'native,js,cuda,ort', listOf(['native', 'js', 'cuda', 'ort'] as const), ['native', 'js', 'ort'])
    .option('--batch <list>', 'batch sizes', ints, [1])
    .option('--threads <n>', 'threads for native and ORT', int)
    .option('--mode <list>', `${MODE_NAMES.join(',')}: each backend runs the modes it honours (src/modes.ts)`, listOf(MODE_NAMES), ['exact'])
    .option('--repeats <n>', 'timed rounds', int, 20)
    .option('--round-runs <n>', 'back-to-back timed runs of each contender per round (each contender in its own child process, taking turns)', int, 3)
    .option('--warmup <n>', 'warm-up rounds', int, 3)
    .option('--js-repeats <n>', 'timed runs of the (slow) JS backend', int, 2)
    .option('--layers', 'per-layer time table, ours against ORT\'s profiler')
    .option('--contention', 'instead of the race: batch 1 quiet and beside a busy core (a spinning child process), ours and ORT (default threading) each in its own child process; --repeats runs per phase')
    .option('--concurrency', 'instead of the race: total images/s of 2 and 4 run()s in flight against a serial loop (native); --repeats runs per schedule')
    .option('--rounds <n>', 'rounds for --contention and --concurrency', int, 4)
    .option('--no-memory', 'skip the child processes that measure load time and peak RSS')
    .option('--out <dir>', 'where the Markdown report and SVG chart go (default: a new temporary folder, named at the end)')
    .option('--json <file>', 'also write the raw report as JSON')
    .action(async (model: string, o: { backends: ('native' | 'js' | 'cuda' | 'ort')[]; batch: number[]; threads?: number; mode: Mode[]; repeats: number; roundRuns: number; warmup: number; jsRepeats: number; layers?: boolean; contention?: boolean; concurrency?: boolean; rounds: number; memory: boolean; out?: string; json?: string }) => {
      if (o.contention || o.concurrency) return sideBenches(model, o);
      const report = await runBench(
        { model, backends: o.backends, batches: o.batch, threads: o.threads ?? currentThreads(), modes: o.mode, repeats: o.repeats, roundRuns: o.roundRuns, warmup: o.warmup, jsRepeats: o.jsRepeats, layers: o.layers ?? false, memory: o.memory, progress: true },
        info().isa ?? 'none',
      );
      console.log(toText(report));
      const out = o.out ?? (await mkdtemp(join(tmpdir(), 'resnode-bench-')));
      await mkdir(out, { recursive: true });
      const base = join(out, `${report.model}-b${report.batches.join('-')}`);
      await writeFile(`${base}.md`, toMarkdown(report));
      await writeFile(`${base}.svg`, toSvg(report));
      if (o.json) await writeFile(o.json, JSON.stringify(report, null, 2));
      console.log(`\nwrote ${base}.md and ${base}.svg`);
    });
}

/** --contention and --concurrency: their reports (Markdown and SVG) instead of the race. */
async function sideBenches(model: string, o: { threads?: number; repeats: number; rounds: number; contention?: boolean; concurrency?: boolean; out?: string }): Promise<void> {
  const opts = { model, threads: o.threads ?? currentThreads(), runs: o.repeats, rounds: o.rounds };
  const out = o.out ?? (await mkdtemp(join(tmpdir(), 'resnode-bench-')));
  await mkdir(out, { recursive: true });
  const written: string[] = [];
  if (o.contention) {
    const r = await runContention(opts);
    const md = contentionMarkdown(r);
    console.log(md);
    const base = join(out, `contention-${r.model}`);
    await writeFile(`${base}.md`, md);
    await writeFile(`${base}.svg`, contentionSvg(r));
    written.push(base);
  }
  if (o.concurrency) {
    const r = await runConcurrency(opts);
    const md = concurrencyMarkdown(r);
    console.log(md);
    const base = join(out, `concurrency-${r.model}-this-build`);
    await writeFile(`${base}.md`, md);
    await writeFile(`${base}.svg`, concurrencySvg(`${r.model} b1, ${opts.threads} threads: concurrent run()s / serial loop`, [{ label: 'this build', rounds: r.rounds }]));
    written.push(base);
  }
  console.log(`\nwrote ${written.map((b) => `${b}.md and ${b}.svg`).join(', ')}`);
}
