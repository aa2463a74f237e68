// `npm run bench:serve -- --attack`: replays the attack classes of issue 17 against a local
// server (127.0.0.1 only; aggressors connect from 127.0.0.2 so that fairness by client
// address can tell them from the victim, which connects from 127.0.0.1), each for a bounded
// count and time, and reports: the server process still alive after each, /healthz p99
// during each (a prober on its own keep-alive connection, every 50 ms), the server's peak
// RSS against its idle RSS and the configured body budget, and the victim's p50/p99 in
// each starvation scenario against the victim alone.
//
//   npm run bench:serve -- --attack [--seconds 6] [--out bench/results/serve.md]
import { fork, type ChildProcess } from 'node:child_process';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { connect, type Socket } from 'node:net';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { resnet } from '../src/graph/resnet.js';
import { toNpy } from '../src/npy.js';
import { serve, type ServeOptions } from '../src/serve/server.js';
import { seededTensor } from '../src/validate.js';

const INPUT = 128;
const SERVER: ServeOptions = {
  host: '127.0.0.1',
  port: 0,
  maxBatch: 8,
  batchWindowMs: 5,
  queue: 64,
  timeoutMs: 5000,
  maxBodyBytes: 16 * 2 ** 20,
  maxInflightBytes: 64 * 2 ** 20,
  maxConnections: 512,
  headersTimeoutMs: 2000,
};
const VICTIM = '127.0.0.1';
const AGGRESSOR = '127.0.0.2';
const PROBER = '127.0.0.3';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

// ---- the server (child process): reports its RSS peak on request ----------------------
async function child(): Promise<void> {
  const srv = await serve(resnet({ depth: 18, inputSize: INPUT, numClasses: 1000, seed: 0 }).toOnnx(), SERVER);
  let peak = process.memoryUsage().rss;
  setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20).unref();
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'rss') {
      process.send!({ rss: { now: process.memoryUsage().rss, peak, eld: srv.eventLoopDelay(true) } });
      peak = process.memoryUsage().rss;
    } else void srv.close().then(() => process.exit(0));
  });
  process.send!({ url: srv.url });
}

// ---- the aggressor (a child process of its own, so its event loop is not the prober's) --
type BodyKind = 'x1' | 'x8' | 'x27' | 'bomb' | 'jpeg';
async function bodies(): Promise<Record<BodyKind, Uint8Array>> {
  return {
    x1: toNpy(seededTensor([1, 3, INPUT, INPUT], 1)),
    x8: toNpy(seededTensor([8, 3, INPUT, INPUT], 2)),
    x27: toNpy(seededTensor([27, 3, INPUT, INPUT], 3)),
    jpeg: await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 120, g: 80, b: 40 } } }).jpeg().toBuffer(),
    bomb: await sharp({ create: { width: 6000, height: 6000, channels: 3, background: { r: 0, g: 0, b: 0 } } }).png({ compressionLevel: 9 }).toBuffer(),
  };
}

interface LoopJob {
  n: number;
  base: string;
  path: string;
  body: BodyKind;
  ms: number;
  type?: string;
}

async function aggressor(): Promise<void> {
  const b = await bodies();
  process.on('message', (job: LoopJob | { cmd: 'stop' }) => {
    if ('cmd' in job) process.exit(0);
    void loop(job.n, AGGRESSOR, job.base, job.path, () => b[job.body], performance.now() + job.ms, job.type).then((r) => process.send!({ loop: r.statuses }));
  });
  process.send!({ ready: true });
}

// ---- clients ---------------------------------------------------------------------------
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function send(agent: http.Agent, base: string, path: string, body: Uint8Array | null, type = 'application/octet-stream'): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.request(new URL(path, base), { method: body ? 'POST' : 'GET', agent, headers: body ? { 'content-type': type, 'content-length': body.length } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 }));
    });
    req.on('error', () => resolve({ status: 0, ms: performance.now() - t0 }));
    req.end(body ?? undefined);
  });
}

/** Probes /healthz every 50 ms on its own keep-alive connection until stopped. */
function prober(base: string) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1, localAddress: PROBER });
  const ms: number[] = [];
  let failures = 0;
  let running = true;
  const done = (async () => {
    while (running) {
      const r = await send(agent, base, '/healthz', null);
      if (r.status === 200) ms.push(r.ms);
      else failures++;
      await sleep(50);
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      agent.destroy();
      return { p99: pct(ms, 99), failures, count: ms.length + failures };
    },
  };
}

/** A loop of requests from one client until `until`; returns latencies of 200s and status counts. */
async function loop(n: number, localAddress: string, base: string, path: string, body: () => Uint8Array, until: number, type?: string) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: n, localAddress });
  const ms: number[] = [];
  const statuses: Record<string, number> = {};
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (performance.now() < until) {
        const r = await send(agent, base, path, body(), type);
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        if (r.status === 200) ms.push(r.ms);
      }
    }),
  );
  agent.destroy();
  return { ms, statuses };
}

/** Opens a raw socket from `localAddress`, writes `bytes`, keeps it open until closed by either side or `hold` ms. */
function rawSocket(port: number, bytes: Uint8Array | string, hold: number, localAddress = AGGRESSOR): Promise<{ text: string; closedByServer: boolean; ms: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const chunks: Buffer[] = [];
    let s: Socket | undefined;
    let byUs = false;
    const timer = setTimeout(() => {
      byUs = true;
      s?.destroy();
    }, hold);
    s = connect({ host: '127.0.0.1', port, localAddress }, () => s!.write(bytes));
    s.on('data', (c) => chunks.push(c));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closedByServer: !byUs, ms: performance.now() - t0 });
    });
  });
}
const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
const tally = (xs: number[]) => Object.entries(xs.reduce<Record<string, number>>((a, x) => ((a[x] = (a[x] ?? 0) + 1), a), {})).map(([k, v]) => `${k === '0' ? 'no answer' : k}×${v}`).join(', ');

function ask<T>(proc: ChildProcess, cmd: string, key: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: Record<string, unknown>) => {
      if (key in m) {
        proc.off('message', on);
        resolve(m[key] as T);
      }
    };
    proc.on('message', on);
    proc.send({ cmd });
  });
}

interface Result {
  name: string;
  what: string;
  outcome: string;
  alive: boolean;
  healthP99: number;
  healthFailures: string;
  peakMiB: number;
  /** The server's own event-loop delay p99 during the scenario, ms. */
  eldP99: number;
  victim?: { p50: number; p99: number; n: number; statuses: string };
}

async function main(): Promise<void> {
  const seconds = Number(arg('seconds', '6'));
  const out = arg('out', 'bench/results/serve.md');
  const began = performance.now();
  const load0 = loadavg()[0]!;
  const proc = fork(fileURLToPath(import.meta.url), ['--attack-child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: process.execArgv });
  let exited = false;
  proc.once('exit', () => (exited = true));
  const base = await new Promise<string>((r) => proc.on('message', (m: { url?: string }) => m.url && r(m.url)));
  const port = Number(new URL(base).port);
  const agg = fork(fileURLToPath(import.meta.url), ['--attack-aggressor'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: process.execArgv });
  await new Promise((r) => agg.on('message', (m: { ready?: boolean }) => m.ready && r(null)));
  const remote = (job: Omit<LoopJob, 'base'>) =>
    new Promise<Record<string, number>>((resolve) => {
      const on = (m: { loop?: Record<string, number> }) => {
        if (!m.loop) return;
        agg.off('message', on);
        resolve(m.loop);
      };
      agg.on('message', on);
      agg.send({ ...job, base });
    });
  const alive = async () => !exited && (await send(new http.Agent(), base, '/healthz', null)).status === 200;
  const idle = (await ask<{ now: number }>(proc, 'rss', 'rss')).now;
  const MiB = 2 ** 20;

  const { x1, jpeg, bomb } = await bodies();

  const results: Result[] = [];
  async function scenario(name: string, what: string, attack: () => Promise<string>, victim?: () => Promise<{ ms: number[]; statuses: Record<string, number> }>) {
    await ask(proc, 'rss', 'rss'); // resets the peak
    const p = prober(base);
    const [outcome, v] = await Promise.all([attack(), victim?.()]);
    const h = await p.stop();
    const rss = await ask<{ peak: number; eld: { p99: number } }>(proc, 'rss', 'rss');
    await sleep(200);
    const r: Result = {
      name,
      what,
      outcome,
      alive: await alive(),
      healthP99: h.p99,
      healthFailures: `${h.failures}/${h.count}`,
      peakMiB: (rss.peak - idle) / MiB,
      eldP99: rss.eld.p99,
      victim: v && { p50: pct(v.ms, 50), p99: pct(v.ms, 99), n: v.ms.length, statuses: Object.entries(v.statuses).map(([k, n]) => `${k === '0' ? 'no answer' : k}×${n}`).join(', ') },
    };
    results.push(r);
    console.log(`${name}: ${outcome}; alive ${r.alive}; /healthz p99 ${r.healthP99.toFixed(1)} ms (failed ${r.healthFailures}); server loop p99 ${r.eldP99.toFixed(1)} ms; peak RSS +${r.peakMiB.toFixed(0)} MiB${r.victim ? `; victim p50 ${r.victim.p50.toFixed(0)} ms p99 ${r.victim.p99.toFixed(0)} ms (${r.victim.statuses})` : ''}`);
  }
  const victimLoop = (path: string, body: Uint8Array, type?: string) => () => loop(1, VICTIM, base, path, () => body, performance.now() + seconds * 1000, type);

  await scenario('baseline', 'the victim alone: one /v1/infer batch-1 request at a time', async () => 'no attack', victimLoop('/v1/infer', x1));
  await scenario('baseline (classify)', 'the victim alone: one /v1/classify 640×480 JPEG at a time', async () => 'no attack', victimLoop('/v1/classify', jpeg, 'image/jpeg'));

  await scenario('malformed request lines', '`GET //[`, `GET //x:99999/healthz` and 200 generated request lines on raw sockets', async () => {
    const lines = ['GET //[ HTTP/1.1', 'GET //x:99999/healthz HTTP/1.1', 'GET http://[::1 HTTP/1.1', 'POST /v2/models/%zz/infer HTTP/1.1'];
    for (let i = 0; i < 200; i++) lines.push(`${['GET', 'POST', 'X'][i % 3]} /${String.fromCharCode(33 + (i % 90)).repeat(i % 7)}%${(i * 37).toString(16)} HTTP/1.1`);
    const codes: number[] = [];
    for (const l of lines) codes.push(statusOf((await rawSocket(port, `${l}\r\nHost: x\r\nConnection: close\r\n\r\n`, 1000)).text));
    return `answers: ${tally(codes)}`;
  });

  await scenario('quadratic .npy header', '10 × a 320 KB .npy whose header repeats `\'shape\': (` without `)`', async () => {
    const head = new TextEncoder().encode("{'descr': '<f4', " + "'shape': (".repeat(32_000));
    const body = new Uint8Array(12 + head.length);
    body.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]);
    new DataView(body.buffer).setUint32(8, head.length, true);
    body.set(head, 12);
    const agent = new http.Agent({ keepAlive: true, localAddress: AGGRESSOR });
    const rs = [];
    for (let i = 0; i < 10; i++) rs.push(await send(agent, base, '/v1/infer', body));
    agent.destroy();
    return `answers: ${tally(rs.map((r) => r.status))}, slowest ${Math.max(...rs.map((r) => r.ms)).toFixed(0)} ms`;
  });

  await scenario('deep JSON', '4 × a 16 MiB JSON body `{"dims": [[[[…]]]]}`', async () => {
    const depth = 8 * 2 ** 20 - 16;
    const body = new TextEncoder().encode(`{"dims": ${'['.repeat(depth)}${']'.repeat(depth)}}`);
    const agent = new http.Agent({ keepAlive: true, localAddress: AGGRESSOR });
    const rs = [];
    for (let i = 0; i < 4; i++) rs.push(await send(agent, base, '/v1/infer', body, 'application/json'));
    agent.destroy();
    return `answers: ${tally(rs.map((r) => r.status))}, slowest ${Math.max(...rs.map((r) => r.ms)).toFixed(0)} ms`;
  });

  await scenario('stalled uploads', `40 uploads declaring 16 MiB, sending 1 MiB, then stalling (body budget ${SERVER.maxInflightBytes! / MiB} MiB, timeout ${SERVER.timeoutMs} ms)`, async () => {
    const chunk = Buffer.alloc(2 ** 20, 1);
    const rs = await Promise.all(
      Array.from({ length: 40 }, () => rawSocket(port, Buffer.concat([Buffer.from(`POST /v1/infer HTTP/1.1\r\nHost: x\r\nContent-Length: ${16 * 2 ** 20}\r\n\r\n`), chunk]), SERVER.timeoutMs! + 3000)),
    );
    const closed = rs.filter((r) => r.closedByServer);
    return `answers: ${tally(rs.map((r) => statusOf(r.text)))}; ${closed.length}/40 sockets closed by the server, the last after ${Math.max(...closed.map((r) => r.ms)).toFixed(0)} ms`;
  });

  await scenario('slow headers + connection flood', `600 connections that send half a header line and stall (maxConnections ${SERVER.maxConnections}, headersTimeout ${SERVER.headersTimeoutMs} ms)`, async () => {
    const rs = await Promise.all(Array.from({ length: 600 }, () => rawSocket(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ', 8000)));
    const closed = rs.filter((r) => r.closedByServer);
    const cut = closed.filter((r) => r.ms > 500);
    return `${closed.length - cut.length} closed on arrival (over the connection cap), ${cut.length} cut after ${pct(cut.map((r) => r.ms), 50).toFixed(0)} ms (median), ${600 - closed.length} still open at 8 s`;
  });

  const until = () => performance.now() + seconds * 1000;
  const ms = seconds * 1000;
  const counts = (st: Record<string, number>) => Object.entries(st).map(([k, n]) => `${k === '0' ? 'no answer' : k}×${n}`).join(', ');
  await scenario('starvation: big batches', 'an aggressor with 4 connections looping batch-27 tensors for 0.5 s, then batch-8 (the most --max-batch allows), against the victim above', async () => {
    const big = await remote({ n: 4, path: '/v1/infer', body: 'x27', ms: 500 });
    const eight = await remote({ n: 4, path: '/v1/infer', body: 'x8', ms: ms - 500 });
    return `batch-27: ${counts(big)}; batch-8: ${counts(eight)}`;
  }, victimLoop('/v1/infer', x1));

  await scenario('starvation: PNG bombs', '16 connections looping a 6000×6000 PNG (36 MP, under the 40 MP --max-pixels) to /v1/classify, against the classify victim', async () => {
    const r = await remote({ n: 16, path: '/v1/classify', body: 'bomb', ms, type: 'image/png' });
    return `bombs: ${counts(r)} (PNG ${(bomb.length / 1024).toFixed(0)} KiB)`;
  }, victimLoop('/v1/classify', jpeg, 'image/jpeg'));

  await scenario('starvation: 400 connections', '400 aggressor connections, each looping batch-1 tensors one at a time (queue 64 rows), against the victim above', async () => {
    const r = await remote({ n: 400, path: '/v1/infer', body: 'x1', ms });
    return `aggressor: ${counts(r)}`;
  }, victimLoop('/v1/infer', x1));
  agg.send({ cmd: 'stop' });

  const survived = await alive();
  proc.send({ cmd: 'stop' });
  await new Promise((r) => (exited ? r(null) : proc.once('exit', r)));

  const fmt = (v: number, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : '–');
  const table = [
    '| scenario | attack | outcome | alive after | /healthz p99 (ms) | /healthz failed | server event-loop p99 (ms) | peak RSS over idle (MiB) | victim p50 / p99 (ms) | victim answers |',
    '|---|---|---|---|---:|---:|---:|---:|---:|---|',
    ...results.map((r) => `| ${r.name} | ${r.what} | ${r.outcome} | ${r.alive ? 'yes' : '**no**'} | ${fmt(r.healthP99, 1)} | ${r.healthFailures} | ${fmt(r.eldP99, 1)} | ${fmt(r.peakMiB)} | ${r.victim ? `${fmt(r.victim.p50)} / ${fmt(r.victim.p99)}` : ''} | ${r.victim?.statuses ?? ''} |`),
  ].join('\n');
  const peak = Math.max(...results.map((r) => r.peakMiB));
  const section = `
## Attack replay (\`npm run bench:serve -- --attack\`), ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC

The attack classes of issue 17, replayed over loopback against a server in its own process: ResNet-18 from \`resnet({ depth: 18, inputSize: ${INPUT} })\` (1000 classes), main thread, \`--max-batch 8 --batch-window-ms 5 --queue 64 --timeout-ms 5000 --max-inflight-bytes ${SERVER.maxInflightBytes! / MiB} MiB --max-connections ${SERVER.maxConnections} --headers-timeout-ms ${SERVER.headersTimeoutMs}\`, default \`--max-pixels\` (40 MP). Aggressors connect from 127.0.0.2, the victim from 127.0.0.1 (fairness is by client address), the /healthz prober from 127.0.0.3 on one keep-alive connection every 50 ms. Each starvation scenario runs ${seconds} s. ${cpus()[0]?.model ?? 'CPU'}, ${availableParallelism()} cores shared with other work (1-minute load average ${load0.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end); Node ${process.version}; run time ${((performance.now() - began) / 1000).toFixed(0)} s.

${table}

Server process alive at the end: ${survived ? 'yes' : '**no**'}. Idle RSS ${(idle / MiB).toFixed(0)} MiB; the largest peak over idle in any scenario was ${peak.toFixed(0)} MiB, against a body budget of ${SERVER.maxInflightBytes! / MiB} MiB (peaks include the decoded images and model activations, which the body budget does not count).
`;
  const existing = await readFile(out, 'utf8').catch(() => '');
  const marker = '\n## Attack replay';
  const kept = existing.includes(marker) ? existing.slice(0, existing.indexOf(marker)) : existing;
  if (process.argv.includes('--append')) await appendFile(out, section);
  else await writeFile(out, kept.trimEnd() + '\n' + section);
  console.log(`\nwrote ${out}`);
}

if (process.argv.includes('--attack-child')) await child();
else if (process.argv.includes('--attack-aggressor')) await aggressor();
else await main();
