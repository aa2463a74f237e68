// `resnode bench --concurrency`: total images/s of 2 and 4 run()s in flight
// on one model (each stream awaiting its own runs) against a serial loop of
// the same number of runs, on the native backend. The three schedules take
// turns within a round, their order rotating by round; each ratio is the
// median over rounds of that round's concurrent rate over its serial rate, so
// machine noise that comes and goes between rounds cancels.
import { cpus } from 'node:os';
import { load } from '../model.js';
import { fromOnnx } from '../onnx/import.js';
import { seededTensor } from '../validate.js';
import { barsSvg } from './bars-svg.js';
import { resolveModel } from './run.js';
import { median } from './stats.js';

export interface ConcurrencyOptions { model: string; threads: number; runs: number; rounds: number }
/** Runs in flight at once; 1 is the serial loop. */
export const SCHEDULES = [1, 2, 4] as const;
export type Rates = Record<(typeof SCHEDULES)[number], number>;

export interface ConcurrencyReport {
  options: ConcurrencyOptions;
  model: string;
  cpu: string;
  rounds: Rates[];
}

/** Images/s of each schedule for rounds `first`..`first + count - 1` on one loaded model. */
export async function measureConcurrency(bytes: Uint8Array, threads: number, runs: number, first: number, count: number): Promise<Rates[]> {
  const input = fromOnnx(bytes).inputs[0]!;
  const x = seededTensor(input.dims.map((d, i) => (d < 0 || i === 0 ? 1 : d)), 1);
  const model = await load(bytes, { backend: 'native', threads });
  try {
    const feeds = { [input.name]: x };
    for (let i = 0; i < 2; i++) await model.run(feeds);
    const out: Rates[] = [];
    for (let round = first; round < first + count; round++) {
      const rates = {} as Rates;
      for (let i = 0; i < SCHEDULES.length; i++) {
        const inFlight = SCHEDULES[(i + round) % SCHEDULES.length]!;
        const start = performance.now();
        await Promise.all(Array.from({ length: inFlight }, async (_, s) => {
          for (let r = s; r < runs; r += inFlight) await model.run(feeds);
        }));
        rates[inFlight] = runs / ((performance.now() - start) / 1000);
      }
      out.push(rates);
    }
    return out;
  } finally {
    await model.dispose();
  }
}

export async function runConcurrency(o: ConcurrencyOptions): Promise<ConcurrencyReport> {
  const { name, bytes } = await resolveModel(o.model);
  return { options: o, model: name, cpu: `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores`, rounds: await measureConcurrency(bytes, o.threads, o.runs, 0, o.rounds) };
}

/** Median rates and median per-round ratios to the serial loop. */
export function summarizeRates(rounds: Rates[]): { rate: Rates; ratio: Rates } {
  const rate = {} as Rates, ratio = {} as Rates;
  for (const k of SCHEDULES) {
    rate[k] = median(rounds.map((r) => r[k]));
    ratio[k] = median(rounds.map((r) => r[k] / r[1]));
  }
  return { rate, ratio };
}

export function concurrencyTableRow(label: string, rounds: Rates[]): string {
  const { rate, ratio } = summarizeRates(rounds);
  return `| ${label} | ${rate[1].toFixed(2)} | ${rate[2].toFixed(2)} | ${ratio[2].toFixed(2)}× | ${rate[4].toFixed(2)} | ${ratio[4].toFixed(2)}× |`;
}

export const CONCURRENCY_TABLE_HEAD = ['| build | serial loop (img/s) | 2 in flight (img/s) | ratio | 4 in flight (img/s) | ratio |', '|---|---|---|---|---|---|'];

export function concurrencyMarkdown(r: ConcurrencyReport): string {
  const o = r.options;
  return [
    `# Concurrent run()s on one model: ${r.model}, batch 1, ${o.threads} threads`,
    '',
    `Machine: ${r.cpu}.`,
    `Method: \`resnode bench ${o.model} --concurrency --threads ${o.threads} --repeats ${o.runs} --rounds ${o.rounds}\`. In one process, ${o.runs} runs as a serial loop, as 2 and as 4 run()s in flight (each stream awaiting its own runs), in an order rotating by round; rates are medians over ${o.rounds} rounds, each ratio the median of that round's concurrent rate over its serial rate.`,
    '',
    ...CONCURRENCY_TABLE_HEAD,
    concurrencyTableRow('this build', r.rounds),
    '',
    'Target (issue 22): 2 and 4 concurrent run()s give total images/s ≥ 0.95× the serial loop\'s.',
    '',
  ].join('\n');
}

export function concurrencySvg(title: string, rows: { label: string; rounds: Rates[] }[]): string {
  const bars = rows.flatMap(({ label, rounds }) => {
    const { ratio } = summarizeRates(rounds);
    return [{ label: `${label}: 2 in flight`, value: ratio[2] }, { label: `${label}: 4 in flight`, value: ratio[4] }];
  });
  return barsSvg(title, bars, '×', { value: 0.95, label: 'target 0.95× the serial loop' });
}
