// The benchmark harness: every contender (one of our backends in one mode, or
// ONNX Runtime with its default threading) lives in its own child process
// (contender-child.ts), loaded once and kept warm, so that no contender's
// threads (ORT's spinning pool, ours) run while another is timed. race() asks
// the children for runs in turn, round by round, the order rotating each round,
// with a pause after each contender's turn long enough for a spinning pool to
// go idle. `resnode bench`, `bench --contention` and scripts/zoo.ts all time
// through it.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Mode } from '../modes.js';
import type { ContenderKind } from './contenders.js';

/** Pause after each contender's turn: ORT's pool spins for a while after a run. */
export const PAUSE_MS = 200;

export interface ContenderSpec {
  kind: ContenderKind;
  /** Ignored for 'ort'. */
  mode: Mode;
  modelPath: string;
  /** The input's first dim (and any dynamic dim). */
  batch: number;
  threads: number;
  /** Untimed runs right after loading. */
  warmupRuns: number;
}

/** The child's first message. */
export interface ChildReady { ready: true; pid: number; label: string; loadMs: number; ortOptions?: object }
/** The child's answer to { runs }: each run's latency, and when (epoch ms) the runs began and ended. */
export interface ChildTimes { ms: number[]; start: number; end: number }

export interface ContenderProcess {
  spec: ContenderSpec;
  label: string;
  pid: number;
  loadMs: number;
  /** The session options the child gave ORT (ORT only). */
  ortOptions?: object;
  /** `runs` back-to-back runs in the child. */
  time(runs: number): Promise<ChildTimes>;
  close(): void;
}

const childScript = fileURLToPath(import.meta.url).replace(/contender-process\.(ts|js)$/, (_m, ext: string) => `contender-child.${ext}`);

function reply<T>(c: ChildProcess, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`bench: the ${what} child exited (${code}) before it answered`));
    c.once('exit', onExit);
    c.once('message', (m) => { c.off('exit', onExit); resolve(m as T); });
  });
}

/** Forks a child that loads the contender and warms it; resolves once it is ready. */
export async function startContender(spec: ContenderSpec): Promise<ContenderProcess> {
  const what = `${spec.kind} (${spec.mode})`;
  const c = fork(childScript, [JSON.stringify(spec)], { execArgv: process.execArgv });
  const ready = await reply<ChildReady>(c, what).catch((err: Error) => { c.kill(); throw err; });
  return {
    spec,
    label: ready.label,
    pid: ready.pid,
    loadMs: ready.loadMs,
    ortOptions: ready.ortOptions,
    time: (runs) => { const r = reply<ChildTimes>(c, what); c.send({ runs }); return r; },
    close: () => { if (c.connected) c.disconnect(); },
  };
}

export interface RaceOptions {
  rounds: number;
  /** Timed runs of contender `c` in round `round`; 0 skips its turn. */
  runs: (c: ContenderProcess, round: number) => number;
  /** Rotates the order: round r starts with contender (r + firstRound) % n. */
  firstRound?: number;
  onRound?: (round: number) => void;
}

/** Each contender's latencies (ms), and the turns in the order they ran. */
export async function race(contenders: ContenderProcess[], o: RaceOptions): Promise<{ ms: Map<ContenderProcess, number[]>; turns: { c: ContenderProcess; times: ChildTimes }[] }> {
  const ms = new Map<ContenderProcess, number[]>(contenders.map((c) => [c, []]));
  const turns: { c: ContenderProcess; times: ChildTimes }[] = [];
  const n = contenders.length;
  for (let round = 0; round < o.rounds; round++) {
    o.onRound?.(round);
    for (let i = 0; i < n; i++) {
      const c = contenders[(i + round + (o.firstRound ?? 0)) % n]!;
      const runs = o.runs(c, round);
      if (runs === 0) continue;
      const times = await c.time(runs);
      ms.get(c)!.push(...times.ms);
      turns.push({ c, times });
      await sleep(PAUSE_MS);
    }
  }
  return { ms, turns };
}
