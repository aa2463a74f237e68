// The CNN zoo run (npm run test:zoo): exports every torchvision CNN classifier
// with models/export_zoo.py (seeded random weights, 224x224, Inception v3 at
// 299), then for each model runs the native and JS backends against PyTorch's
// output and times native against onnxruntime-node (batch 1, 2 threads, exact
// mode, each in its own child process, taking turns). One line per model; a model
// that does not load prints why. Each model is also run through `resnode validate`'s check
// (src/validate.ts: ours against ONNX Runtime on seeded inputs). Exits 1 if a model that loads
// misses 1e-5·max|ref| or fails validate.
//   npx tsx scripts/zoo.ts [--out bench/results/zoo.md] [--only a,b] [--small] [--runs 10] [--no-js] [--models DIR]
//                          [--opsets 11,13,17] [--batches 1,2] [--dynamic]
// --models DIR reuses the files of an earlier export_zoo.py --out DIR (exporting takes minutes).
// --opsets/--batches/--dynamic export every model once per setting (one row each); a dynamic
// export is also checked against PyTorch at a second input shape.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { load, parseNpy } from '../src/index.js';
import { race, startContender, type ContenderProcess } from '../src/bench/contender-process.js';
import { relativeToMax } from '../test/helpers/ort.js';
import { validate } from '../src/validate.js';

const PYTHON = '/usr/bin/python3';
const TOL = 1e-5;
const SIMD_SHARE = 0.01; // layers above 1% of the time must name a SIMD kernel

interface Check { input: string; output: string; inputShape: number[] }
interface Entry { name: string; family: string; setting?: string; file?: string; input?: string; output?: string; inputName?: string; outputName?: string; inputShape?: number[]; dynamic?: boolean; checks?: Check[]; exportError?: string }
interface Row { name: string; family: string; setting?: string; res: string; native?: number; js?: number; ratio?: number; scalar?: string; validate?: string; why?: string }

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

/**
 * Native ÷ ORT median latency, each in its own child process taking turns
 * (src/bench/contender-process.ts, the harness of `resnode bench`; ORT with its
 * default threading); and the slow layers that name no SIMD kernel.
 */
async function timing(bytes: Uint8Array, e: Entry, dir: string, runs: number): Promise<{ ratio: number; scalar: string }> {
  const spec = { mode: 'exact' as const, modelPath: join(dir, e.file!), batch: 1, threads: 2, warmupRuns: 1 };
  const contenders: ContenderProcess[] = [];
  try {
    for (const kind of ['native', 'ort'] as const) contenders.push(await startContender({ ...spec, kind }));
    const { ms } = await race(contenders, { rounds: Math.ceil(runs / 2), runs: () => 2 });
    const [ours, theirs] = contenders.map((c) => ms.get(c)!) as [number[], number[]];
    const x = parseNpy(new Uint8Array(readFileSync(join(dir, e.input!))));
    const model = await load(bytes, { backend: 'native', threads: 2, mode: 'exact' });
    let layers;
    try {
      layers = model.profile({ [e.inputName!]: x });
    } finally {
      await model.dispose();
    }
    const total = layers.reduce((s, l) => s + l.ms, 0);
    const scalar = layers
      .filter((l) => l.ms > SIMD_SHARE * total && (!l.kernel || /__scalar$/.test(l.kernel)))
      .map((l) => `${l.name} (${l.op}, ${l.kernel ?? 'no kernel'}, ${((100 * l.ms) / total).toFixed(0)}%)`);
    return { ratio: median(ours) / median(theirs), scalar: scalar.join('; ') };
  } finally {
    for (const c of contenders) c.close();
  }
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
    .option('--runs <n>', 'timed runs per contender', '10')
    .option('--no-js', 'skip the JS backend (it is slow on the 224x224 models)')
    .option('--models <dir>', 'use the models that export_zoo.py wrote to this folder instead of exporting now')
    .option('--opsets <list>', 'export each model at these opsets (export_zoo.py --opsets)', '13')
    .option('--batches <list>', 'and at these batch sizes', '1')
    .option('--dynamic', 'and also with dynamic batch/height/width axes', false)
    .parse()
    .opts<{ out?: string; only: string; small: boolean; runs: string; js: boolean; models?: string; opsets: string; batches: string; dynamic: boolean }>();
  const dir = o.models ?? mkdtempSync(join(tmpdir(), 'resnode-zoo-'));
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
        const t = await timing(bytes, e, dir, Number(o.runs));
        row.ratio = t.ratio;
        row.scalar = t.scalar;
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
    `Latency: native exact mode ÷ onnxruntime-node (ORT's default threading, spinning on), batch 1, 2 threads, median of ${runs} timed runs: each runtime in its own child process, taking turns of 2 back-to-back runs with a 200 ms pause after each turn (src/bench/contender-process.ts, the harness of \`resnode bench\`).`,
    'On a machine shared with other work the ratios move between runs; compare several runs before reading one number.',
    '',
    '| model | family | setting | input | error native | error JS | validate | native ÷ ORT | notes |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  const body = rows.map((r) => r.why
    ? `| ${r.name} | ${r.family} | ${r.setting ?? ''} | ${r.res} | – | – | – | – | does not run: ${r.why.replace(/\|/g, '\\|')} |`
    : `| ${r.name} | ${r.family} | ${r.setting ?? ''} | ${r.res} | ${fmt(r.native)} | ${fmt(r.js)} | ${r.validate ?? '–'} | ${r.ratio!.toFixed(2)} | ${r.scalar ? `scalar layers over 1%: ${r.scalar}` : ''} |`);
  return [...head, ...body, ''].join('\n');
}

await main();
