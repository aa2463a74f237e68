// resnode train-compare: trains plain-20, plain-56, ResNet-20 and ResNet-56
// (CIFAR-style, option-B shortcuts) on the synthetic shapes data set with the
// same budget, and writes training-error curves (SVG), a Markdown table of the
// final train/test error, and the raw curves (JSON).
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { InvalidArgumentError, type Command } from 'commander';
import { resnet } from '../graph/resnet.js';
import { CIFAR_DEPTHS, type CifarResNetDepth } from '../graph/cifar.js';
import { syntheticShapes } from '../train/dataset.js';
import { train, type TrainPoint } from '../train/train.js';
import { lineChartSvg, PALETTE, type Series } from '../train/svg.js';
import { formatTable } from '../table.js';

const posInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};
const posNum = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a non-negative number');
  return n;
};
const depthList = (v: string): CifarResNetDepth[] => {
  const d = v.split(',').map((s) => Number(s.trim()));
  if (d.some((x) => !CIFAR_DEPTHS.includes(x as CifarResNetDepth))) throw new InvalidArgumentError(`expected depths among ${CIFAR_DEPTHS.join(', ')}`);
  return d as CifarResNetDepth[];
};

export interface CompareOptions {
  depths: CifarResNetDepth[];
  variants: ('plain' | 'residual')[];
  epochs: number;
  trainSize: number;
  testSize: number;
  batch: number;
  lr: number;
  warmup: number;
  momentum: number;
  weightDecay: number;
  seed: number;
  backend: 'native' | 'js' | 'auto';
  out: string;
  progress?: boolean;
}

/** The serialisable part of a TrainResult. */
export interface RunSummary {
  history: TrainPoint[];
  testErrorByEpoch: number[];
  finalTrainError: number;
  finalTestError: number | null;
  finalTrainLoss: number;
  seconds: number;
  backend: string;
}
export interface CompareRun { name: string; depth: number; plain: boolean; result: RunSummary }

export async function trainCompare(o: CompareOptions): Promise<CompareRun[]> {
  const data = syntheticShapes({ train: o.trainSize, test: o.testSize, seed: o.seed });
  const multi = o.progress === false ? null : new cliProgress.MultiBar({ hideCursor: true, clearOnComplete: false, stream: process.stderr, noTTYOutput: true, notTTYSchedule: 30000 }, cliProgress.Presets.shades_classic);
  const runs: CompareRun[] = [];
  try {
    for (const plain of [true, false]) for (const depth of o.depths) {
      if (!o.variants.includes(plain ? 'plain' : 'residual')) continue;
      const name = `${plain ? 'plain' : 'ResNet'}-${depth}`;
      const g = resnet({ depth, variant: 'cifar', plain, seed: o.seed });
      const result = await train(g, data, {
        epochs: o.epochs, lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay, batch: o.batch, seed: o.seed,
        backend: o.backend, progress: multi ?? false, label: name, lrDecayAt: [0.5, 0.75], warmup: o.warmup, evalTrainCount: Math.min(o.trainSize, 2000),
      });
      const { history, testErrorByEpoch, finalTrainError, finalTestError, finalTrainLoss, seconds, backend } = result;
      runs.push({ name, depth, plain, result: { history, testErrorByEpoch, finalTrainError, finalTestError, finalTrainLoss, seconds, backend } });
    }
  } finally {
    multi?.stop();
  }
  return runs;
}

/**
 * Runs each network in its own child process (same options, one network each),
 * all at once, and gathers their results: on a shared machine this gets the
 * runs a fair share of the cores. The numbers are those of sequential runs.
 */
export async function trainCompareParallel(o: CompareOptions, argv: string[]): Promise<CompareRun[]> {
  const dir = await mkdtemp(join(tmpdir(), 'resnode-train-'));
  const jobs: Promise<CompareRun[]>[] = [];
  for (const variant of o.variants) for (const depth of o.depths) {
    const file = join(dir, `${variant}-${depth}.json`);
    const args = [...process.execArgv, process.argv[1]!, ...argv, '--depths', String(depth), '--variants', variant, '--raw-out', file, '--out', dir];
    // Bars of several processes would garble a terminal; in logs they print a line every 30 s.
    if (process.stderr.isTTY) args.push('--no-progress');
    jobs.push(new Promise((resolve, reject) => {
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
      child.on('error', reject);
      child.on('exit', (code) => {
        if (code !== 0) { reject(new Error(`train-compare child for ${variant}-${depth} exited with ${code}`)); return; }
        readFile(file, 'utf8').then((t) => resolve(JSON.parse(t) as CompareRun[]), reject);
      });
    }));
  }
  try {
    const all = (await Promise.all(jobs)).flat();
    return [...all.filter((r) => r.plain), ...all.filter((r) => !r.plain)];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function compareSvg(runs: CompareRun[], caption: string): string {
  // One colour per depth, the same in both panels.
  const depths = [...new Set(runs.map((r) => r.depth))].sort((a, b) => a - b);
  const colour = (r: CompareRun): string => PALETTE[[1, 0, 2, 3, 4][depths.indexOf(r.depth)]!]!;
  const series = (plain: boolean): Series[] => runs.filter((r) => r.plain === plain).map((r) => ({
    label: r.name, x: r.result.history.map((h) => h.epoch), y: r.result.history.map((h) => 100 * h.trainError), color: colour(r), dash: r.depth === Math.min(...runs.map((q) => q.depth)),
  }));
  const yMax = 100 * Math.max(...runs.flatMap((r) => r.result.history.map((h) => h.trainError)));
  return lineChartSvg([
    { title: 'Plain networks', xLabel: 'epoch', yLabel: 'training error (%)', series: series(true), yMin: 0, yMax },
    { title: 'Residual networks', xLabel: 'epoch', yLabel: 'training error (%)', series: series(false), yMin: 0, yMax },
  ], { caption });
}

export function compareTable(runs: CompareRun[], o: CompareOptions): string {
  const rows = runs.map((r) => [r.name, (100 * r.result.finalTrainError).toFixed(1), r.result.finalTestError === null ? '-' : (100 * r.result.finalTestError).toFixed(1), r.result.finalTrainLoss.toFixed(3), `${r.result.seconds.toFixed(0)} s`]);
  const header = ['network', 'train error %', 'test error %', 'train loss', 'time'];
  const md = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
  return [
    '# Plain vs residual training on synthetic shapes',
    '',
    `Generated by \`resnode train-compare --epochs ${o.epochs} --train-size ${o.trainSize} --test-size ${o.testSize} --batch ${o.batch} --lr ${o.lr} --warmup ${o.warmup} --seed ${o.seed}\` (backend: ${runs[0]?.result.backend ?? '-'}).`,
    `SGD, momentum ${o.momentum}, weight decay ${o.weightDecay}, lr ramped from lr/10 over the first ${100 * o.warmup}% of the steps, ÷10 at 50% and 75%; BN in training mode; CIFAR-style nets with option-B (projection) shortcuts.`,
    'Final errors are measured in inference mode (running BN statistics); train error on the first ' + `${Math.min(o.trainSize, 2000)} training images.`,
    '',
    md,
    '',
  ].join('\n');
}

export function register(program: Command): void {
  program
    .command('train-compare')
    .description('train plain-20/56 and ResNet-20/56 on the synthetic shapes data with one budget; write curves (SVG) and a table')
    .option('--depths <list>', 'depths among 20,32,44,56,110', depthList, [20, 56] as CifarResNetDepth[])
    .option('--variants <list>', 'plain,residual', (v: string) => {
      const d = v.split(',').map((x) => x.trim());
      if (d.some((x) => x !== 'plain' && x !== 'residual')) throw new InvalidArgumentError("expected 'plain' and/or 'residual'");
      return d as ('plain' | 'residual')[];
    }, ['plain', 'residual'] as ('plain' | 'residual')[])
    .option('--parallel', 'train each network in its own child process, all at once')
    .option('--raw-out <file>', 'also write the runs as JSON to this file')
    .option('--epochs <n>', 'epochs', posInt, 3)
    .option('--train-size <n>', 'training images', posInt, 4000)
    .option('--test-size <n>', 'test images', posInt, 1000)
    .option('--batch <n>', 'batch size', posInt, 64)
    .option('--lr <x>', 'learning rate', posNum, 0.1)
    .option('--warmup <fraction>', 'fraction of the steps over which lr ramps up from lr/10', posNum, 0.1)
    .option('--momentum <x>', 'momentum', posNum, 0.9)
    .option('--weight-decay <x>', 'L2 weight decay', posNum, 1e-4)
    .option('--seed <n>', 'seed (weights, data, shuffling)', (v) => Number(v), 0)
    .option('--backend <name>', "'native', 'js' or 'auto'", 'auto')
    .option('--out <dir>', 'output folder', 'docs')
    .option('--no-progress', 'no progress bars')
    .option('--json', 'print the results as JSON')
    .action(async (o: CompareOptions & { json?: boolean; parallel?: boolean; rawOut?: string }) => {
      // Options the children inherit: everything but the ones the parent sets per child.
      const passOn = ['epochs', 'trainSize', 'testSize', 'batch', 'lr', 'warmup', 'momentum', 'weightDecay', 'seed', 'backend']
        .flatMap((k) => [`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String((o as unknown as Record<string, unknown>)[k])]);
      const runs = o.parallel && o.depths.length * o.variants.length > 1 ? await trainCompareParallel(o, ['train-compare', ...passOn]) : await trainCompare(o);
      if (o.rawOut) { await writeFile(o.rawOut, JSON.stringify(runs)); return; }
      await mkdir(o.out, { recursive: true });
      await writeFile(join(o.out, 'train-compare.svg'), compareSvg(runs, `synthetic shapes, ${o.trainSize} train images, ${o.epochs} epochs, batch ${o.batch}, lr ${o.lr} (warm-up ${100 * o.warmup}%, ÷10 at 50%, 75%); dashed: shallower net`));
      await writeFile(join(o.out, 'train-compare.md'), compareTable(runs, o));
      const raw = runs.map((r) => ({ name: r.name, history: r.result.history, testErrorByEpoch: r.result.testErrorByEpoch, finalTrainError: r.result.finalTrainError, finalTestError: r.result.finalTestError, seconds: r.result.seconds, backend: r.result.backend }));
      await writeFile(join(o.out, 'train-compare.json'), JSON.stringify(raw, null, 1));
      if (o.json) console.log(JSON.stringify(raw));
      else console.log(formatTable(['network', 'train err %', 'test err %', 'time s'], runs.map((r) => [r.name, (100 * r.result.finalTrainError).toFixed(1), r.result.finalTestError === null ? '-' : (100 * r.result.finalTestError).toFixed(1), r.result.seconds.toFixed(0)])));
    });
}
