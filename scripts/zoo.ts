// The CNN zoo run (npm run test:zoo): exports every torchvision CNN classifier
// with models/export_zoo.py (seeded random weights, 224x224, Inception v3 at
// 299), then for each model runs the native and JS backends against PyTorch's
// output and times native against onnxruntime-node (batch 1, 2 threads, exact
// mode, each in its own child process, taking turns). One line per model; a model
// that does not load prints why. Each model is also run through `resnode validate`'s check
// (src/validate.ts: ours against ONNX Runtime on seeded inputs). Exits 1 if a model that loads
// misses 1e-5·max|ref| or fails validate.
//   npx tsx scripts/zoo.ts [--out bench/results/zoo.md] [--reports DIR] [--only a,b] [--small] [--runs 12] [--no-js] [--models DIR]
//                          [--opsets 11,13,17] [--batches 1,2] [--dynamic]
// --models DIR reuses the files of an earlier export_zoo.py --out DIR (exporting takes minutes).
// --opsets/--batches/--dynamic export every model once per setting (one row each); a dynamic
// export is also checked against PyTorch at a second input shape.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { load, parseNpy } from '../src/index.js';
import { relativeToMax } from '../test/helpers/ort.js';
import { validate } from '../src/validate.js';
import { runBench, type BenchReport } from '../src/bench/run.js';
import { byKernel, toMarkdown } from '../src/bench/report.js';
import { info } from '../src/info.js';

const PYTHON = '/usr/bin/python3';
const TOL = 1e-5;
const SIMD_SHARE = 0.01; // layers above 1% of the time must name a SIMD kernel
const ROUND_RUNS = 3; // `resnode bench`'s defaults: turns of 3 runs, after warm-up rounds
const WARMUP_ROUNDS = 3;
/** The speed target (scope 4): native ≤ 1.25× ORT's latency, the pre-activation ResNet-v2-50 ≤ 1.0×. */
const targetOf = (name: string): number => (name.startsWith('preact_') ? 1.0 : 1.25);

interface Check { input: string; output: string; inputShape: number[] }
interface Entry { name: string; family: string; setting?: string; file?: string; input?: string; output?: string; inputName?: string; outputName?: string; inputShape?: number[]; dynamic?: boolean; checks?: Check[]; exportError?: string }
interface Row { name: string; family: string; setting?: string; res: string; native?: number; js?: number; ratio?: number; scalar?: string; validate?: string; why?: string; report?: BenchReport }

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

/** The largest error against PyTorch over the entry's inputs (a dynamic export has two shapes). */
async function errorOf(bytes: Uint8Array, backend: 'native' | 'js', e: Entry, dir: string): Promise<number> {
  const model = await load(bytes, { backend, threads: 2 });
  try {
    let worst = 0;
    for (const c of e.checks ?? [{ input: e.input!, output: e.output!, inputShape: e.inputShape ?? [] }]) {
      const x = parseNpy(new Uint8Array(readFileSync(join(dir, c.input))));
      const ref = parseNpy(new Uint8Array(readFileSync(join(dir, c.output))));
      const y = (await model.run({ [e.inputName!]: x }))[e.outputName!]!;
      if (y.dims.join() !== ref.dims.join()) throw new Error(`output dims [${y.dims.join(', ')}] differ from PyTorch's [${ref.dims.join(', ')}] at input ${c.inputShape.join('x')}`);
      worst = Math.max(worst, relativeToMax(y.data, ref.data));
    }
    return worst;
  } finally {
    await model.dispose();
  }
}

/**
 * `resnode validate`'s check (native, exact mode, its default tolerance): on its seeded inputs,
 * or, where the model's height/width are dynamic (validate's seeded input would be 1x1), on the traced input.
 */
async function validateOf(bytes: Uint8Array, e: Entry, dir: string): Promise<string> {
  const inputs = e.dynamic ? { [e.inputName!]: parseNpy(new Uint8Array(readFileSync(join(dir, e.input!)))) } : undefined;
  const r = await validate(bytes, { backend: 'native', threads: 2, inputs });
  const worst = Math.max(...r.outputs.map((c) => c.relError));
  return `${r.ok ? 'pass' : 'FAIL'} (${worst.toExponential(1)})`;
}

/** What a model's bench run says: native ÷ ORT, its slow unnamed/scalar layers, and where a miss loses the time. */
interface Timing { ratio: number; scalar: string; report: BenchReport }

/**
 * One `resnode bench` run of the model (src/bench/run.ts, the same harness and defaults:
 * native exact and ORT with its default threading, each in its own child process taking
 * turns of 3 runs after warm-up rounds, then both profiled alternating), at batch 1,
 * 2 threads; and the slow layers that name no SIMD kernel.
 */
async function timing(e: Entry, dir: string, runs: number): Promise<Timing> {
  const report = await runBench(
    { model: join(dir, e.file!), backends: ['native', 'ort'], batches: [1], threads: 2, modes: ['exact'], repeats: Math.max(1, Math.ceil(runs / ROUND_RUNS)), roundRuns: ROUND_RUNS, warmup: WARMUP_ROUNDS, jsRepeats: 0, layers: true, memory: false, progress: false },
    info().isa ?? 'none',
  );
  const ratio = report.results.find((r) => r.kind === 'native')!.latencyVsOrt!;
  const rows = report.layers![0]!.rows;
  const total = rows.reduce((s, l) => s + l.oursMs, 0);
  const scalar = rows
    .filter((l) => l.oursMs > SIMD_SHARE * total && (!l.kernel || /__scalar$/.test(l.kernel)))
    .map((l) => `${l.name} (${l.op}, ${l.kernel ?? 'no kernel'}, ${((100 * l.oursMs) / total).toFixed(0)}%)`);
  return { ratio, scalar: scalar.join('; '), report };
}

/** The error's first lines (an OnnxImportError's heading and its first causes), on one line. */
function firstLines(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 3).join(' ').slice(0, 300);
}

async function main(): Promise<void> {
  const o = new Command()
    .option('--out <file>', 'write the table as markdown here')
    .option('--only <names>', 'comma-separated model names', '')
    .option('--small', 'one model per family at 64x64 (as npm test runs them)', false)
    .option('--runs <n>', 'timed runs per contender', '12')
    .option('--reports <dir>', 'write the full bench report (Markdown) of each model that misses its speed target here')
    .option('--no-js', 'skip the JS backend (it is slow on the 224x224 models)')
    .option('--models <dir>', 'use the models that export_zoo.py wrote to this folder instead of exporting now')
    .option('--opsets <list>', 'export each model at these opsets (export_zoo.py --opsets)', '13')
    .option('--batches <list>', 'and at these batch sizes', '1')
    .option('--dynamic', 'and also with dynamic batch/height/width axes', false)
    .parse()
    .opts<{ out?: string; reports?: string; only: string; small: boolean; runs: string; js: boolean; models?: string; opsets: string; batches: string; dynamic: boolean }>();
  const dir = o.models ?? mkdtempSync(join(tmpdir(), 'resnode-zoo-'));
  // The reports of this run's misses only: an earlier run's would name models that now meet their target.
  if (o.reports) rmSync(o.reports, { recursive: true, force: true });
  const rows: Row[] = [];
  let failed = false;
  try {
    if (!o.models) {
      const args = [join(import.meta.dirname, '..', 'models', 'export_zoo.py'), '--out', dir];
      if (o.small) args.push('--small');
      if (o.only) args.push('--only', o.only);
      args.push('--opsets', o.opsets, '--batches', o.batches);
      if (o.dynamic) args.push('--dynamic');
      execFileSync(PYTHON, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    }
    const only = o.only ? o.only.split(',') : undefined;
    const entries = (JSON.parse(readFileSync(join(dir, 'zoo.json'), 'utf8')) as Entry[]).filter((e) => !only || only.includes(e.name));
    for (const e of entries) {
      const row: Row = { name: e.name, family: e.family, setting: e.setting, res: e.inputShape ? `${e.inputShape[2]}` : '' };
      rows.push(row);
      try {
        if (e.exportError) throw new Error(`PyTorch export failed: ${e.exportError}`);
        const bytes = new Uint8Array(readFileSync(join(dir, e.file!)));
        row.native = await errorOf(bytes, 'native', e, dir);
        if (o.js) row.js = await errorOf(bytes, 'js', e, dir);
        row.validate = await validateOf(bytes, e, dir);
        if (!row.validate.startsWith('pass')) failed = true;
        const t = await timing(e, dir, Number(o.runs));
        row.ratio = t.ratio;
        row.scalar = t.scalar;
        if (t.ratio > targetOf(e.name)) {
          row.report = t.report;
          if (o.reports) {
            mkdirSync(o.reports, { recursive: true });
            writeFileSync(join(o.reports, `${e.name}${e.setting ? `-${e.setting.replace(/[^a-z0-9]+/gi, '-')}` : ''}.md`), toMarkdown(t.report));
          }
        }
        if (row.native > TOL || (row.js !== undefined && row.js > TOL)) failed = true;
      } catch (err) {
        row.why = firstLines(err);
      }
      console.log(line(row));
    }
  } finally {
    if (!o.models) rmSync(dir, { recursive: true, force: true });
  }
  if (o.out) writeFileSync(o.out, markdown(rows, o.small, Number(o.runs)));
  if (failed) {
    console.error(`zoo: a model that loads is farther than ${TOL}·max|ref| from PyTorch, or fails resnode validate`);
    process.exitCode = 1;
  }
}

const fmt = (v?: number) => (v === undefined ? '–' : v.toExponential(1));

const label = (r: Row): string => (r.setting ? `${r.name} (${r.setting})` : r.name);

function line(r: Row): string {
  if (r.why) return `${label(r).padEnd(20)} does not run: ${r.why}`;
  const scalar = r.scalar ? `  scalar layers over 1%: ${r.scalar}` : '';
  return `${label(r).padEnd(20)} err native ${fmt(r.native)}  js ${fmt(r.js)}  validate ${r.validate}  native/ORT ${r.ratio!.toFixed(2)}×${scalar}`;
}

function markdown(rows: Row[], small: boolean, runs: number): string {
  const head = [
    `# The CNN zoo: torchvision ${small ? 'at 64x64' : 'at 224x224 (Inception v3 at 299)'}, seeded random weights`,
    '',
    'Written by `npm run test:zoo` (scripts/zoo.ts). Error: max|ours − PyTorch| / max|PyTorch| (a dynamic export: the larger of its two input shapes).',
    'Validate: `resnode validate`\'s check (native, exact, ours against ONNX Runtime on seeded inputs; the traced input where H/W are dynamic), with its error relative to max|ORT|.',
    `Latency: native exact mode ÷ onnxruntime-node (ORT's default threading, spinning on), batch 1, 2 threads, one \`resnode bench\` run per model (src/bench/run.ts): each runtime in its own child process, ${WARMUP_ROUNDS} warm-up rounds, then the median of ${Math.max(1, Math.ceil(runs / ROUND_RUNS)) * ROUND_RUNS} timed runs taken in turns of ${ROUND_RUNS} back-to-back runs with a 200 ms pause after each turn. Target: ≤ 1.25 (pre-activation ResNet-v2-50 ≤ 1.0); each miss is listed under the table with the kernels that lose the time.`,
    'On a machine shared with other work the ratios move between runs; compare several runs before reading one number.',
    '',
    '| model | family | setting | input | error native | error JS | validate | native ÷ ORT | notes |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  const body = rows.map((r) => r.why
    ? `| ${r.name} | ${r.family} | ${r.setting ?? ''} | ${r.res} | – | – | – | – | does not run: ${r.why.replace(/\|/g, '\\|')} |`
    : `| ${r.name} | ${r.family} | ${r.setting ?? ''} | ${r.res} | ${fmt(r.native)} | ${fmt(r.js)} | ${r.validate ?? '–'} | ${r.ratio!.toFixed(2)} | ${r.scalar ? `scalar layers over 1%: ${r.scalar}` : ''} |`);
  return [...head, ...body, ...misses(rows), ''].join('\n');
}

/** For each model over its target: the bench's per-kernel comparison with ORT's profile, the groups that lose the most first. */
function misses(rows: Row[]): string[] {
  const out: string[] = [];
  for (const r of rows.filter((x) => x.report)) {
    const layers = r.report!.layers![0]!;
    const ours = layers.rows.reduce((a, l) => a + l.oursMs, 0);
    const ort = layers.rows.reduce((a, l) => a + (l.ortMs ?? 0), 0);
    const { table } = byKernel(layers.rows);
    out.push('', `### ${label(r)}: ${r.ratio!.toFixed(2)}× ORT (target ${targetOf(r.name).toFixed(2)})`, '',
      `Summed over layers (9 profiled runs each side, alternating): ours ${ours.toFixed(1)} ms, ORT's kernels ${ort.toFixed(1)} ms. The kernel groups that lose the most:`, '',
      '| our kernel | op | layers | ours ms | ORT ms | ours ÷ ORT | ours − ORT ms |', '|---|---|---|---|---|---|---|',
      ...table.slice(0, 6).map((t) => `| ${t.join(' | ')} |`));
  }
  return out.length ? ['', '## The misses: where the time goes', ...out] : [];
}

await main();
