// npx tsx bench/concurrency.ts [--model resnet50] [--threads 2] [--runs 8] [--rounds 3]
//                              [--addon label=path.node ...] [--out bench/results]
//
// Concurrent run()s on one model against a serial loop: total images/s of
// 2 and 4 run()s in flight at once (each stream awaits its own runs) over the
// same number of runs done one after another. Each addon (default: this
// build; --addon label=path compares builds, e.g. the old one-owner pool)
// runs in its own child process, the children alternating round by round so
// that neither disturbs the other and both see the same machine noise; inside
// a child the three schedules run in turn, their order rotating by round.
// Ratios are medians over rounds of each round's concurrent / serial rate.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { load } from '../src/model.js';
import { resnet, type ResNetDepth } from '../src/graph/resnet.js';
import { Tensor } from '../src/tensor.js';
import { parseModelBenchArgs, type ModelBenchOptions } from './model-bench-args.js';

interface Options extends ModelBenchOptions { round: number; addons: [string, string | undefined][] }

function parseArgs(argv: string[]): Options & { child: boolean } {
  let child = false, round = 0;
  const addons: [string, string | undefined][] = [];
  const o = parseModelBenchArgs('bench/concurrency', argv, { model: 'resnet50', threads: 2, runs: 8, rounds: 3 }, (flag, value) => {
    if (flag === '--child') child = true;
    else if (flag === '--round') round = Number(value());
    else if (flag === '--addon') {
      const arg = value();
      const [label, path] = arg.split('=');
      if (!label || !path) throw new RangeError(`bench/concurrency: --addon expects label=path.node but received ${arg}`);
      addons.push([label, path]);
    } else return false;
    return true;
  });
  if (addons.length === 0) addons.push(['this build', undefined]);
  return { ...o, round, addons, child };
}

const SCHEDULES = [1, 2, 4] as const;  // run()s in flight; 1 is the serial loop

/** One child round: images/s of each schedule, in alternation. */
async function child(o: Options): Promise<void> {
  const model = await load(resnet({ depth: Number(o.model.slice(6)) as ResNetDepth, seed: 0 }), { backend: 'native', threads: o.threads });
  const name = model.inputs[0]!.name;
  const x = new Tensor('float32', new Float32Array(3 * 224 * 224).map((_, i) => Math.sin(i)), [1, 3, 224, 224]);
  for (let i = 0; i < 2; i++) await model.run({ [name]: x });
  const rate: Record<number, number> = {};
  const order = SCHEDULES.map((_, i) => SCHEDULES[(i + o.round) % SCHEDULES.length]!);
  for (const inFlight of order) {
    const start = performance.now();
    await Promise.all(Array.from({ length: inFlight }, async (_, s) => {
      for (let r = s; r < o.runs; r += inFlight) await model.run({ [name]: x });
    }));
    rate[inFlight] = o.runs / ((performance.now() - start) / 1000);
  }
  await model.dispose();
  process.stdout.write(JSON.stringify(rate));
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

function parent(o: Options): void {
  const rates = new Map<string, Record<number, number>[]>(o.addons.map(([l]) => [l, []]));
  for (let round = 0; round < o.rounds; round++) {
    for (const [label, path] of round % 2 ? [...o.addons].reverse() : o.addons) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/concurrency.ts', '--child', '--model', o.model,
        '--threads', String(o.threads), '--runs', String(o.runs), '--round', String(round)], { env: { ...process.env, ...(path ? { RESNODE_ADDON: path } : {}) }, encoding: 'utf8' });
      rates.get(label)!.push(JSON.parse(out) as Record<number, number>);
      process.stderr.write(`round ${round + 1}/${o.rounds} ${label}: ${out}\n`);
    }
  }
  const lines = [
    `# Concurrent run()s on one model: ${o.model}, batch 1, ${o.threads} threads`,
    '',
    `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, shared with other jobs (noisy: read the ratios, not the absolute rates).`,
    `Method: \`npx tsx bench/concurrency.ts --model ${o.model} --threads ${o.threads} --runs ${o.runs} --rounds ${o.rounds}\`. Each build in its own child process, the children alternating round by round; in a child, ${o.runs} runs as a serial loop, as 2 and as 4 run()s in flight (each stream awaiting its own runs), in an order rotating by round. Figures are medians over ${o.rounds} rounds; the ratio is each round's concurrent rate over the same round's serial rate.`,
    '',
    '| build | serial loop (img/s) | 2 in flight (img/s) | ratio | 4 in flight (img/s) | ratio |',
    '|---|---|---|---|---|---|',
  ];
  for (const [label, rs] of rates) {
    const r = (k: number) => median(rs.map((x) => x[k]!));
    const ratio = (k: number) => median(rs.map((x) => x[k]! / x[1]!));
    lines.push(`| ${label} | ${r(1).toFixed(2)} | ${r(2).toFixed(2)} | ${ratio(2).toFixed(2)}× | ${r(4).toFixed(2)} | ${ratio(4).toFixed(2)}× |`);
  }
  lines.push('', 'Target (issue 22): 2 and 4 concurrent run()s give total images/s ≥ 0.95× the serial loop\'s.', '');
  const md = lines.join('\n');
  console.log(md);
  if (o.out) writeFileSync(join(o.out, `concurrency-${o.model}.md`), md);
}

const o = parseArgs(process.argv.slice(2));
if (o.child) await child(o);
else parent(o);
