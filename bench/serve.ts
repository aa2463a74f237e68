// Load test for `resnode serve` over loopback (127.0.0.1 only). With --attack, replays the
// hostile-traffic classes instead (bench/serve-attack.ts).
//
//   npm run bench:serve [-- --duration 12 --max-requests 400 --modes off,on --concurrency 1,16,64
//                          --threads N --out bench/results/serve.md --append]
//
// Exports a seeded ResNet-18 (224×224, 1000 classes) with our resnet(), starts the server
// in a child process (so the event-loop delay measured there is the server's alone), and
// drives POST /v1/classify with a JPEG from closed-loop clients at concurrency 1, 16 and
// 64, with dynamic batching off (max batch 1) and on (max batch 8, 5 ms window). Each
// scenario stops issuing requests after --duration seconds or --max-requests requests,
// whichever comes first, then waits for the ones in flight. Writes a markdown table.
import { fork, type ChildProcess } from 'node:child_process';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { resnet } from '../src/graph/resnet.js';
import { info } from '../src/info.js';
import { serve } from '../src/serve/server.js';

interface Mode {
  name: string;
  maxBatch: number;
  batchWindowMs: number;
}

const MODES: Mode[] = [
  { name: 'off', maxBatch: 1, batchWindowMs: 0 },
  { name: 'on (≤8, 5 ms)', maxBatch: 8, batchWindowMs: 5 },
];
const CONCURRENCY = [1, 16, 64];

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

type Msg = { cmd: 'eld'; reset: boolean } | { cmd: 'stop' };

// ---- the server (child process) ----------------------------------------------------
async function child(): Promise<void> {
  const mode = JSON.parse(arg('mode', '{}')) as Mode;
  const srv = await serve(resnet({ depth: 18, seed: 0 }).toOnnx(), {
    host: '127.0.0.1',
    port: 0,
    maxBatch: mode.maxBatch,
    batchWindowMs: mode.batchWindowMs,
    queue: 1024,
    timeoutMs: 120_000,
    threads: arg('threads', '') === '' ? undefined : Number(arg('threads', '')),
  });
  process.on('message', (m: Msg) => {
    if (m.cmd === 'eld') process.send!({ eld: srv.eventLoopDelay(m.reset) });
    else void srv.close().then(() => process.exit(0));
  });
  process.send!({ url: srv.url, isa: info().isa ?? 'none' });
}

// ---- the load generator (parent) ---------------------------------------------------
function waitFor<T>(proc: ChildProcess, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const on = (m: Record<string, unknown>) => {
      if (key in m) {
        proc.off('message', on);
        proc.off('exit', exit);
        resolve(m[key] as T);
      }
    };
    const exit = (code: number | null) => reject(new Error(`the server process exited (${code})`));
    proc.on('message', on);
    proc.once('exit', exit);
  });
}

function ask<T>(proc: ChildProcess, msg: Msg, key: string): Promise<T> {
  const reply = waitFor<T>(proc, key);
  proc.send(msg);
  return reply;
}

function request(agent: http.Agent, url: URL, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'image/jpeg', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const pct = (sorted: number[], p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);

async function batchStats(url: string): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const sum = Number(/^resnode_batch_size_sum (\S+)$/m.exec(text)?.[1] ?? 0);
  const count = Number(/^resnode_batch_size_count (\S+)$/m.exec(text)?.[1] ?? 0);
  return { sum, count };
}

interface Row {
  mode: string;
  concurrency: number;
  requests: number;
  errors: number;
  errorKinds: string[];
  seconds: number;
  throughput: number;
  p50: number;
  p99: number;
  meanBatch: number;
  eldP99: number;
  eldMax: number;
}

async function scenario(proc: ChildProcess, base: string, mode: Mode, c: number, body: Buffer, durationS: number, maxRequests: number): Promise<Row> {
  const url = new URL('/v1/classify', base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: c });
  // Warm-up: one round at this concurrency (plans and buffers for the batch sizes it brings).
  await Promise.all(Array.from({ length: c }, () => request(agent, url, body)));
  const before = await batchStats(base);
  await ask(proc, { cmd: 'eld', reset: true }, 'eld');
  const latencies: number[] = [];
  let errors = 0;
  const errorKinds = new Set<string>();
  let issued = 0;
  const start = performance.now();
  const stopAt = start + durationS * 1000;
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (performance.now() < stopAt && issued < maxRequests) {
        issued++;
        const t0 = performance.now();
        const status = await request(agent, url, body).catch((e: Error) => e.message);
        if (status === 200) latencies.push(performance.now() - t0);
        else {
          errors++;
          if (errorKinds.size < 5) errorKinds.add(String(status));
        }
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const eld = await ask<{ p50: number; p99: number; max: number }>(proc, { cmd: 'eld', reset: false }, 'eld');
  const after = await batchStats(base);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    mode: mode.name,
    concurrency: c,
    requests: latencies.length,
    errors,
    errorKinds: [...errorKinds],
    seconds,
    throughput: latencies.length / seconds,
    p50: pct(latencies, 50),
    p99: pct(latencies, 99),
    meanBatch: (after.sum - before.sum) / Math.max(1, after.count - before.count),
    eldP99: eld.p99,
    eldMax: eld.max,
  };
}

async function main(): Promise<void> {
  const durationS = Number(arg('duration', '12'));
  const maxRequests = Number(arg('max-requests', '400'));
  const out = arg('out', 'bench/results/serve.md');
  const began = performance.now();
  const loadBefore = loadavg()[0]!;
  const threads = arg('threads', '');
  // A 640×480 JPEG with some structure (decode + resize + crop are part of each request).
  const w = 640;
  const h = 480;
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.set([(x * 255) / w, (y * 255) / h, ((x ^ y) & 255)], (y * w + x) * 3);
  const body = await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();

  const modes = MODES.filter((m) => arg('modes', 'off,on').split(',').includes(m.name.split(' ')[0]!));
  const levels = arg('concurrency', CONCURRENCY.join(',')).split(',').map(Number);
  const rows: Row[] = [];
  let isa = 'n/a';
  for (const mode of modes) {
    const proc = fork(fileURLToPath(import.meta.url), ['--child', '--mode', JSON.stringify(mode), ...(arg('threads', '') ? ['--threads', arg('threads', '')] : [])], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [...process.execArgv, ...(process.env.RESNODE_BENCH_SERVER_ARGS ?? '').split(' ').filter(Boolean)] });
    const ready = waitFor<string>(proc, 'isa');
    const base = await waitFor<string>(proc, 'url');
    isa = await ready;
    for (const c of levels) {
      const row = await scenario(proc, base, mode, c, body, durationS, maxRequests);
      rows.push(row);
      console.log(
        `batching ${row.mode.padEnd(14)} c=${String(c).padStart(2)}  ${row.throughput.toFixed(2)} req/s  p50 ${row.p50.toFixed(0)} ms  p99 ${row.p99.toFixed(0)} ms  mean batch ${row.meanBatch.toFixed(1)}  loop p99 ${row.eldP99.toFixed(1)} ms  (${row.requests} ok, ${row.errors} errors, ${row.seconds.toFixed(1)} s)${row.errors ? ` errors: ${row.errorKinds.join('; ')}` : ''}`,
      );
    }
    proc.send({ cmd: 'stop' });
    await new Promise((r) => proc.once('exit', r));
  }

  const i = info();
  const table = [
    '| dynamic batching | concurrency | requests | throughput (req/s) | p50 latency (ms) | p99 latency (ms) | mean batch | event-loop delay p99 (ms) | event-loop delay max (ms) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) =>
      `| ${r.mode} | ${r.concurrency} | ${r.requests}${r.errors ? ` (+${r.errors} errors)` : ''} | ${r.throughput.toFixed(2)} | ${r.p50.toFixed(0)} | ${r.p99.toFixed(0)} | ${r.meanBatch.toFixed(1)} | ${r.eldP99.toFixed(1)} | ${r.eldMax.toFixed(1)} |`,
    ),
  ].join('\n');
  const worstEld = Math.max(...rows.map((r) => r.eldP99));
  const at = (mode: string, c: number) => rows.find((r) => r.mode.startsWith(mode) && r.concurrency === c);
  const off64 = at('off', 64);
  const on64 = at('on', 64);
  const effect =
    off64 && on64
      ? `At concurrency 64, dynamic batching (mean batch ${on64.meanBatch.toFixed(1)}) changed throughput by ${(100 * (on64.throughput / off64.throughput - 1)).toFixed(0)}% (${off64.throughput.toFixed(2)} → ${on64.throughput.toFixed(2)} req/s) and p99 latency from ${off64.p99.toFixed(0)} to ${on64.p99.toFixed(0)} ms.`
      : '';
  const header = `# resnode serve: load test

\`npm run bench:serve\` (bench/serve.ts); \`npm run bench:serve -- --threads 1 --append\` adds a section with one kernel thread.

- Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores; Node ${process.version}; native ISA ${isa} (in the server process).
- Model: ResNet-18 from \`resnet({ depth: 18, seed: 0 })\` (224×224, 1000 classes), served in the main thread (\`--workers 0\`).
- Requests: \`POST /v1/classify\` with a ${w}×${h} JPEG (${(body.length / 1024).toFixed(0)} KiB); decoding, resizing to 256, the 224 crop and normalising are part of each request.
- Load: closed-loop clients over loopback (127.0.0.1, keep-alive), one warm-up round per row, then ${durationS} s or ${maxRequests} requests per row, whichever comes first. Latency is measured by the client.
- Dynamic batching: off is \`--max-batch 1\`; on is \`--max-batch 8 --batch-window-ms 5\`.
- Event-loop delay: \`perf_hooks.monitorEventLoopDelay\` in the server process only (the load generator runs in another process), 1 ms resolution, so each figure includes up to 1 ms of sampling interval. Target: p99 < 20 ms.
`;
  const section = `
## ${threads ? `${threads} kernel thread${threads === '1' ? '' : 's'} (\`--threads ${threads}\`)` : `default kernel threads (${i.threads}, one per core)`}, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC

Other load on the machine (1-minute load average): ${loadBefore.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end. Run time ${((performance.now() - began) / 1000).toFixed(0)} s.

${table}

Worst event-loop delay p99: ${worstEld.toFixed(1)} ms (target < 20 ms: ${worstEld < 20 ? 'met' : 'NOT met'}). ${effect}
`;
  await mkdir(dirname(out), { recursive: true });
  if (process.argv.includes('--append')) await appendFile(out, section);
  else await writeFile(out, header + section);
  console.log(`\nwrote ${out}`);
}

if (process.argv.includes('--attack')) await import('./serve-attack.js'); // the attack replay (issue 17)
else if (process.argv.includes('--child')) await child();
else await main();
