// npx tsx bench/contention.ts [--model resnet50] [--threads 2] [--runs 6] [--rounds 4] [--out bench/results]
//
// A busy neighbour: how much slower does one run get while another process
// keeps one core busy? Ours (native, exact) and ONNX Runtime (graph
// optimisation 'all', its default threading: spinning on) each live in their
// own child process, so neither's threads disturb the other's runs; the
// parent asks them for runs in turn, alternating which goes first, with the
// busy process (a spinning child pinned to core 0 with taskset where there is
// one) started and stopped between phases, quiet and busy alternating too. A
// short pause between contenders lets a spinning pool go idle. Each side's
// slowdown is its median busy latency over its median quiet latency.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { load } from '../src/model.js';
import { resnet, type ResNetDepth } from '../src/graph/resnet.js';
import { loadOrt } from '../src/optional-deps.js';
import { Tensor } from '../src/tensor.js';
import { parseModelBenchArgs, type ModelBenchOptions } from './model-bench-args.js';

type Side = 'native' | 'ort';
type Options = ModelBenchOptions;

function parseArgs(argv: string[]): Options & { child?: Side } {
  let child: Side | undefined;
  const o = parseModelBenchArgs('bench/contention', argv, { model: 'resnet50', threads: 2, runs: 6, rounds: 4 }, (flag, value) => {
    if (flag !== '--child') return false;
    const side = value();
    if (side !== 'native' && side !== 'ort') throw new RangeError(`bench/contention: --child expects native or ort but received ${side}`);
    child = side;
    return true;
  });
  return { ...o, child };
}

/** A contender child: loads the model, then answers each {runs} message with that many run latencies (ms). */
async function child(side: Side, o: Options): Promise<void> {
  const bytes = resnet({ depth: Number(o.model.slice(6)) as ResNetDepth, seed: 0 }).toOnnx();
  const data = new Float32Array(3 * 224 * 224).map((_, i) => Math.sin(i));
  let runOnce: () => Promise<unknown>;
  if (side === 'native') {
    const model = await load(bytes, { backend: 'native', threads: o.threads });
    const feeds = { [model.inputs[0]!.name]: new Tensor('float32', data, [1, 3, 224, 224]) };
    runOnce = () => model.run(feeds);
  } else {
    const ort = await loadOrt('bench/contention');
    const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: o.threads, interOpNumThreads: 1 });
    const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', data, [1, 3, 224, 224]) };
    runOnce = () => session.run(feeds);
  }
  for (let i = 0; i < 2; i++) await runOnce();
  process.on('message', async (m: { runs: number }) => {
    const ms: number[] = [];
    for (let i = 0; i < m.runs; i++) {
      const t0 = performance.now();
      await runOnce();
      ms.push(performance.now() - t0);
    }
    process.send!(ms);
  });
  process.send!('ready');
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

function ask(c: ChildProcess, msg: unknown): Promise<number[]> {
  return new Promise((resolve) => { c.once('message', (m) => resolve(m as number[])); c.send(msg as object); });
}

/** A process that keeps one core busy (pinned to core 0 where taskset exists). */
function busyNeighbour(): ChildProcess {
  const spin = ['-e', 'for(;;){}'];
  const hasTaskset = spawn('taskset', ['--version']).pid !== undefined;
  return hasTaskset ? spawn('taskset', ['-c', '0', process.execPath, ...spin], { stdio: 'ignore' }) : spawn(process.execPath, spin, { stdio: 'ignore' });
}

async function parent(o: Options): Promise<void> {
  const sides: Side[] = ['native', 'ort'];
  const children = new Map<Side, ChildProcess>();
  for (const side of sides) {
    const c = fork('bench/contention.ts', ['--child', side, '--model', o.model, '--threads', String(o.threads)], { execArgv: ['--import', 'tsx'] });
    await new Promise((r) => c.once('message', r));
    children.set(side, c);
  }
  const lat: Record<Side, { quiet: number[]; busy: number[] }> = { native: { quiet: [], busy: [] }, ort: { quiet: [], busy: [] } };
  for (let round = 0; round < o.rounds; round++) {
    for (const phase of round % 2 ? (['busy', 'quiet'] as const) : (['quiet', 'busy'] as const)) {
      const neighbour = phase === 'busy' ? busyNeighbour() : undefined;
      await sleep(200);
      for (const side of round % 2 ? [...sides].reverse() : sides) {
        lat[side][phase].push(...(await ask(children.get(side)!, { runs: o.runs })));
        await sleep(200);  // let a spinning pool go idle before the other side runs
      }
      neighbour?.kill();
      process.stderr.write(`round ${round + 1}/${o.rounds} ${phase} done\n`);
    }
  }
  for (const c of children.values()) c.kill();
  const row = (side: Side, label: string) => {
    const q = median(lat[side].quiet), b = median(lat[side].busy);
    return { text: `| ${label} | ${q.toFixed(1)} | ${b.toFixed(1)} | ${(b / q).toFixed(2)}× |`, slowdown: b / q };
  };
  const ours = row('native', 'resnode native (exact)'), theirs = row('ort', 'onnxruntime-node (default threading)');
  const md = [
    `# One busy core beside the run: ${o.model}, batch 1, ${o.threads} threads`,
    '',
    `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, shared with other jobs (noisy: read the ratios).`,
    `Method: \`npx tsx bench/contention.ts --model ${o.model} --threads ${o.threads} --runs ${o.runs} --rounds ${o.rounds}\`. Each contender in its own child process; ${o.rounds} rounds, quiet and busy phases alternating, the contenders alternating within a phase with 200 ms pauses; ${o.runs} back-to-back runs per contender per phase; the busy neighbour is a spinning process pinned to core 0. Medians over all runs of a phase.`,
    '',
    '| contender | quiet (ms) | one core busy (ms) | slowdown |',
    '|---|---|---|---|',
    ours.text,
    theirs.text,
    '',
    `Target (issue 22): ≤ 1.6× our quiet latency, and less than ORT's slowdown in the same run. Measured: ${ours.slowdown.toFixed(2)}× against ORT's ${theirs.slowdown.toFixed(2)}×.`,
    '',
  ].join('\n');
  console.log(md);
  if (o.out) writeFileSync(join(o.out, `contention-${o.model}.md`), md);
}

const o = parseArgs(process.argv.slice(2));
if (o.child) await child(o.child, o);
else await parent(o);
