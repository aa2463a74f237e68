// npx tsx bench/concurrency.ts [--model resnet50] [--threads 2] [--runs 8] [--rounds 4]
//                              [--addon label=path.node ...] [--out bench/results]
//
// `resnode bench --concurrency` across builds: the same measurement
// (src/bench/concurrency.ts) for each addon given (--addon label=path, e.g.
// the old one-owner pool against this one; default: this build), each in its
// own child process, the children alternating round by round so that neither
// disturbs the other and both see the same machine noise.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { resolveModel } from '../src/bench/run.js';
import { CONCURRENCY_TABLE_HEAD, concurrencySvg, concurrencyTableRow, measureConcurrency, type Rates } from '../src/bench/concurrency.js';
import { parseModelBenchArgs } from './model-bench-args.js';

const argv = process.argv.slice(2);
let child = false, round = 0;
const addons: [string, string | undefined][] = [];
const o = parseModelBenchArgs('bench/concurrency', argv, { model: 'resnet50', threads: 2, runs: 8, rounds: 4 }, (flag, value) => {
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

if (child) {
  const { bytes } = await resolveModel(o.model);
  process.stdout.write(JSON.stringify((await measureConcurrency(bytes, o.threads, o.runs, round, 1))[0]));
} else {
  const rounds = new Map<string, Rates[]>(addons.map(([l]) => [l, []]));
  for (let r = 0; r < o.rounds; r++) {
    for (const [label, path] of r % 2 ? [...addons].reverse() : addons) {
      const out = execFileSync(process.execPath, [...process.execArgv, 'bench/concurrency.ts', '--child', '--model', o.model,
        '--threads', String(o.threads), '--runs', String(o.runs), '--round', String(r)], { env: { ...process.env, ...(path ? { RESNODE_ADDON: path } : {}) }, encoding: 'utf8' });
      rounds.get(label)!.push(JSON.parse(out) as Rates);
      process.stderr.write(`round ${r + 1}/${o.rounds} ${label}: ${out}\n`);
    }
  }
  const md = [
    `# Concurrent run()s on one model: ${o.model}, batch 1, ${o.threads} threads`,
    '',
    `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores.`,
    `Method: \`npx tsx bench/concurrency.ts --model ${o.model} --threads ${o.threads} --runs ${o.runs} --rounds ${o.rounds} ${addons.map(([l]) => `--addon '${l}=…'`).join(' ')}\`. Each build in its own child process, the children alternating round by round; in a child, ${o.runs} runs as a serial loop, as 2 and as 4 run()s in flight (each stream awaiting its own runs), in an order rotating by round. Rates are medians over ${o.rounds} rounds; each ratio is the median of the round's concurrent rate over the same round's serial rate.`,
    '',
    ...CONCURRENCY_TABLE_HEAD,
    ...[...rounds].map(([label, rs]) => concurrencyTableRow(label, rs)),
    '',
    'Target (issue 22): 2 and 4 concurrent run()s give total images/s ≥ 0.95× the serial loop\'s.',
    '',
  ].join('\n');
  console.log(md);
  if (o.out) {
    writeFileSync(join(o.out, `concurrency-${o.model}.md`), md);
    writeFileSync(join(o.out, `concurrency-${o.model}.svg`), concurrencySvg(`${o.model} b1, ${o.threads} threads: concurrent run()s / serial loop`, [...rounds].map(([label, rs]) => ({ label, rounds: rs }))));
  }
}
