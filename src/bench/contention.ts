// `resnode bench --contention`: how much slower one run gets while another
// process keeps one core busy, ours against ONNX Runtime. Each contender lives
// in its own child process (contender-process.ts, the harness `resnode bench`
// races with), so neither's threads disturb the other's runs, and ORT keeps
// its default threading (spinning on). The parent asks them for runs in turn,
// alternating which goes first; the busy
// neighbour (a spinning process, pinned to core 0 where taskset exists) is
// started and stopped between phases, quiet and busy phases alternating. A
// pause between contenders lets a spinning pool go idle. Each side's
// slowdown is its median busy latency over its median quiet latency.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { barsSvg } from './bars-svg.js';
import { PAUSE_MS, race, startContender, type ContenderProcess } from './contender-process.js';
import { resolveModel } from './run.js';
import { median } from './stats.js';

export interface ContentionOptions { model: string; threads: number; runs: number; rounds: number }
type Side = 'native' | 'ort';
const SIDES: Side[] = ['native', 'ort'];
const LABELS: Record<Side, string> = { native: 'resnode native (exact)', ort: 'onnxruntime-node (default threading)' };

export interface ContentionReport {
  options: ContentionOptions;
  model: string;
  cpu: string;
  rows: { label: string; quietMs: number; busyMs: number; slowdown: number }[];
}

/** A process that keeps one core busy (pinned to core 0 where taskset exists). */
function busyNeighbour(): ChildProcess {
  const spin = [process.execPath, '-e', 'for(;;){}'];
  const pinned = spawnSync('taskset', ['--version']).status === 0;
  return pinned ? spawn('taskset', ['-c', '0', ...spin], { stdio: 'ignore' }) : spawn(spin[0]!, spin.slice(1), { stdio: 'ignore' });
}

export async function runContention(o: ContentionOptions): Promise<ContentionReport> {
  const { name, bytes } = await resolveModel(o.model);
  const dir = await mkdtemp(join(tmpdir(), 'resnode-contention-'));
  const modelPath = join(dir, 'model.onnx');
  await writeFile(modelPath, bytes);
  const children: ContenderProcess[] = [];
  let neighbour: ChildProcess | undefined;
  try {
    for (const side of SIDES) children.push(await startContender({ kind: side, mode: 'exact', modelPath, batch: 1, threads: o.threads, warmupRuns: 2 }));
    const lat: Record<Side, { quiet: number[]; busy: number[] }> = { native: { quiet: [], busy: [] }, ort: { quiet: [], busy: [] } };
    for (let round = 0; round < o.rounds; round++) {
      for (const phase of round % 2 ? (['busy', 'quiet'] as const) : (['quiet', 'busy'] as const)) {
        neighbour = phase === 'busy' ? busyNeighbour() : undefined;
        await sleep(PAUSE_MS);
        const { ms } = await race(children, { rounds: 1, firstRound: round, runs: () => o.runs });
        for (const c of children) lat[c.spec.kind as Side][phase].push(...ms.get(c)!);
        neighbour?.kill();
        neighbour = undefined;
      }
    }
    return {
      options: o,
      model: name,
      cpu: `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores`,
      rows: SIDES.map((side) => {
        const quietMs = median(lat[side].quiet), busyMs = median(lat[side].busy);
        return { label: LABELS[side], quietMs, busyMs, slowdown: busyMs / quietMs };
      }),
    };
  } finally {
    neighbour?.kill();
    for (const c of children) c.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export function contentionMarkdown(r: ContentionReport): string {
  const o = r.options;
  const [ours, theirs] = r.rows;
  return [
    `# One busy core beside the run: ${r.model}, batch 1, ${o.threads} threads`,
    '',
    `Machine: ${r.cpu}.`,
    `Method: \`resnode bench ${o.model} --contention --threads ${o.threads} --repeats ${o.runs} --rounds ${o.rounds}\`. Each contender in its own child process (ORT at graph optimisation 'all' with its default threading, spinning on); ${o.rounds} rounds, quiet and busy phases alternating, the contenders alternating within a phase with ${PAUSE_MS} ms pauses; ${o.runs} back-to-back runs per contender per phase; the busy neighbour is a spinning process pinned to core 0. Medians over all runs of a phase.`,
    '',
    '| contender | quiet (ms) | one core busy (ms) | slowdown |',
    '|---|---|---|---|',
    ...r.rows.map((x) => `| ${x.label} | ${x.quietMs.toFixed(1)} | ${x.busyMs.toFixed(1)} | ${x.slowdown.toFixed(2)}× |`),
    '',
    `Target (issue 22): ≤ 1.6× our quiet latency, and less than ORT's slowdown in the same run. Measured: ${ours!.slowdown.toFixed(2)}× against ORT's ${theirs!.slowdown.toFixed(2)}×.`,
    '',
  ].join('\n');
}

export function contentionSvg(r: ContentionReport): string {
  return barsSvg(`${r.model} b1, ${r.options.threads} threads: slowdown with one core busy`, r.rows.map((x) => ({ label: x.label, value: x.slowdown })), '×', { value: 1.6, label: 'target 1.6×' });
}
