// `resnode serve` over loopback: every route and status code (200, 400, 404, 405, 413,
// 503, 504), dynamic batching, metrics, graceful shutdown (close() and SIGTERM), workers.
import test from 'ava';
import sharp from 'sharp';
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classify } from '../src/classify.js';
import { resnet } from '../src/graph/resnet.js';
import { load } from '../src/model.js';
import { parseNpy, toNpy } from '../src/npy.js';
import { serve, type InferenceServer, type ServeOptions } from '../src/serve/server.js';
import { seededTensor } from '../src/validate.js';

const bytes = resnet({ depth: 18, inputSize: 64, numClasses: 10, seed: 1 }).toOnnx();
const reference = load(bytes, { threads: 1 });
const image = sharp({ create: { width: 120, height: 90, channels: 3, background: { r: 200, g: 60, b: 20 } } }).jpeg().toBuffer();

async function withServer(options: ServeOptions, body: (s: InferenceServer) => Promise<void>): Promise<void> {
  const s = await serve(bytes, { threads: 1, ...options });
  try {
    await body(s);
  } finally {
    await s.close();
  }
}

const post = (s: InferenceServer, path: string, body: Uint8Array | string, type = 'application/octet-stream') =>
  fetch(`${s.url}${path}`, { method: 'POST', body, headers: { 'content-type': type } });

async function queueDepth(s: InferenceServer): Promise<number> {
  return ((await (await fetch(`${s.url}/healthz`)).json()) as { queue: number }).queue;
}

async function until(cond: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return a.length === b.length ? m : Infinity;
}

test.serial('200: healthz, classify, infer (.npy and JSON), metrics', async (t) => {
  const model = await reference;
  await withServer({}, async (s) => {
    t.regex(s.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const h = await fetch(`${s.url}/healthz`);
    t.is(h.status, 200);
    t.is(((await h.json()) as { status: string }).status, 'ok');

    const img = await image;
    const c = await post(s, '/v1/classify', img, 'image/jpeg');
    t.is(c.status, 200);
    const { predictions } = (await c.json()) as { predictions: { index: number; label: string; probability: number }[] };
    const expected = (await classify(model, img, { top: 5 }))[0]!;
    t.deepEqual(predictions.map((p) => p.index), expected.map((p) => p.index));
    t.true(maxDiff(predictions.map((p) => p.probability), expected.map((p) => p.probability)) < 1e-5);
    t.is(predictions[0]!.label, `class ${predictions[0]!.index}`);
    const c3 = (await (await post(s, '/v1/classify?top=3', img)).json()) as { predictions: unknown[] };
    t.is(c3.predictions.length, 3);

    const x = seededTensor([2, 3, 64, 64], 7);
    const want = (await model.run({ input: x })).output!;
    const n = await post(s, '/v1/infer', toNpy(x));
    t.is(n.status, 200);
    t.is(n.headers.get('content-type'), 'application/x-npy');
    const y = parseNpy(new Uint8Array(await n.arrayBuffer()));
    t.deepEqual([...y.dims], [2, 10]);
    t.true(maxDiff(y.data, want.data) < 1e-4);

    const j = await post(s, '/v1/infer', JSON.stringify({ dims: [2, 3, 64, 64], data: Array.from(x.data) }), 'application/json');
    t.is(j.status, 200);
    const jy = (await j.json()) as { name: string; dims: number[]; data: number[] };
    t.is(jy.name, 'output');
    t.deepEqual(jy.dims, [2, 10]);
    t.true(maxDiff(jy.data, want.data) < 1e-4);

    const m = await fetch(`${s.url}/metrics`);
    t.is(m.status, 200);
    t.regex(m.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
    const text = await m.text();
    t.regex(text, /resnode_http_requests_total\{route="\/v1\/classify",status="200"\} 2/);
    t.regex(text, /resnode_http_requests_total\{route="\/v1\/infer",status="200"\} 2/);
    t.regex(text, /resnode_http_request_duration_seconds_bucket\{route="\/v1\/infer",le="\+Inf"\} 2/);
    t.regex(text, /resnode_batch_size_bucket\{le="2"\} \d+/);
    t.regex(text, /resnode_queue_depth 0/);
    t.regex(text, /resnode_event_loop_delay_seconds\{quantile="0.99"\} [\d.e-]+/);
  });
});

test.serial('dynamic batching: concurrent requests share runs and get their own rows back', async (t) => {
  const model = await reference;
  await withServer({ maxBatch: 4, batchWindowMs: 2000 }, async (s) => {
    const xs = Array.from({ length: 8 }, (_, i) => seededTensor([1, 3, 64, 64], 100 + i));
    const start = Date.now();
    const ys = await Promise.all(xs.map(async (x) => parseNpy(new Uint8Array(await (await post(s, '/v1/infer', toNpy(x))).arrayBuffer()))));
    t.true(Date.now() - start < 2000, 'full batches leave without waiting for the window');
    for (const [i, x] of xs.entries()) t.true(maxDiff(ys[i]!.data, (await model.run({ input: x })).output!.data) < 1e-4);
    const text = await (await fetch(`${s.url}/metrics`)).text();
    t.regex(text, /resnode_batch_size_count 2\n/);
    t.regex(text, /resnode_batch_size_sum 8\n/);
  });
});

test.serial('400: undecodable image, wrong tensor shape, bad JSON, empty body, bad ?top', async (t) => {
  await withServer({}, async (s) => {
    const bad = await post(s, '/v1/classify', 'this is not a picture', 'image/jpeg');
    t.is(bad.status, 400);
    t.regex(((await bad.json()) as { error: string }).error, /cannot decode/);

    const shape = await post(s, '/v1/infer', toNpy(seededTensor([1, 3, 32, 32], 1)));
    t.is(shape.status, 400);
    t.is(((await shape.json()) as { error: string }).error, 'input "input" expects dims [N, 3, 64, 64] but received [1, 3, 32, 32]');

    const count = await post(s, '/v1/infer', JSON.stringify({ dims: [1, 3, 64, 64], data: [1, 2, 3] }), 'application/json');
    t.is(count.status, 400);
    t.regex(((await count.json()) as { error: string }).error, /"data" has 3 numbers/);
    t.is((await post(s, '/v1/infer', '{"dims": [1, 3', 'application/json')).status, 400);
    t.is((await post(s, '/v1/infer', 'raw bytes')).status, 400);
    t.is((await post(s, '/v1/infer', new Uint8Array(0))).status, 400);
    t.is((await post(s, '/v1/classify?top=0', await image)).status, 400);
  });
});

test.serial('404 unknown route, 405 wrong method, 413 body too large', async (t) => {
  await withServer({ maxBodyBytes: 4096 }, async (s) => {
    const nf = await fetch(`${s.url}/v2/nothing`);
    t.is(nf.status, 404);
    t.regex(((await nf.json()) as { error: string }).error, /no route for GET \/v2\/nothing/);
    const wrong = await fetch(`${s.url}/v1/classify`);
    t.is(wrong.status, 405);
    t.is(wrong.headers.get('allow'), 'POST');
    await wrong.arrayBuffer();

    const big = await post(s, '/v1/infer', new Uint8Array(64 * 1024));
    t.is(big.status, 413);
    t.regex(((await big.json()) as { error: string }).error, /limit is 4096/);
    // A chunked body (no Content-Length) is cut off as it streams in.
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < 8; i++) c.enqueue(new Uint8Array(1024));
        c.close();
      },
    });
    const chunked = await fetch(`${s.url}/v1/classify`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    t.is(chunked.status, 413);
    await chunked.arrayBuffer();
    // The connection still serves.
    t.is((await fetch(`${s.url}/healthz`)).status, 200);
  });
});

test.serial('503 + Retry-After when the queue is full', async (t) => {
  await withServer({ queue: 1, batchWindowMs: 1500 }, async (s) => {
    const img = await image;
    const first = post(s, '/v1/classify', img);
    await until(async () => (await queueDepth(s)) === 1);
    const second = await post(s, '/v1/classify', img);
    t.is(second.status, 503);
    t.is(second.headers.get('retry-after'), '1');
    t.regex(((await second.json()) as { error: string }).error, /queue is full/);
    t.is((await first).status, 200);
    t.regex(await (await fetch(`${s.url}/metrics`)).text(), /resnode_http_requests_total\{route="\/v1\/classify",status="503"\} 1/);
  });
});

test.serial('504 past the request timeout; the request leaves the queue', async (t) => {
  await withServer({ timeoutMs: 150, batchWindowMs: 5000 }, async (s) => {
    const start = Date.now();
    const r = await post(s, '/v1/infer', toNpy(seededTensor([1, 3, 64, 64], 2)));
    t.is(r.status, 504);
    t.regex(((await r.json()) as { error: string }).error, /longer than 150 ms/);
    t.true(Date.now() - start < 2000);
    t.is(await queueDepth(s), 0);
  });
});

test.serial('graceful close(): requests in flight finish, new connections are refused', async (t) => {
  const s = await serve(bytes, { threads: 1, batchWindowMs: 3000 });
  const inflight = post(s, '/v1/infer', toNpy(seededTensor([1, 3, 64, 64], 3)));
  await until(async () => (await queueDepth(s)) === 1);
  const closing = s.close();
  const r = await inflight;
  t.is(r.status, 200);
  t.is(r.headers.get('connection'), 'close');
  await closing;
  await t.throwsAsync(fetch(`${s.url}/healthz`));
});

test.serial('`resnode serve` exits 0 on SIGTERM after finishing the request in flight', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'resnode-serve-'));
  const onnx = join(dir, 'm.onnx');
  await writeFile(onnx, bytes);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', onnx, '--port', '0', '--batch-window-ms', '3000', '--threads', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', () => reject(new Error(`serve exited early:\n${out}`)));
  });
  const s = { url } as InferenceServer;
  const inflight = post(s, '/v1/classify', await image);
  await until(async () => (await queueDepth(s)) === 1);
  child.kill('SIGTERM');
  const r = await inflight;
  t.is(r.status, 200);
  t.is(((await r.json()) as { predictions: unknown[] }).predictions.length, 5);
  t.is(await exited, 0);
  t.regex(out, /SIGTERM: finishing requests in flight[\s\S]*stopped/);
});

test.serial('--workers 2: the server spreads batches over worker threads', async (t) => {
  const model = await reference;
  await withServer({ workers: 2, maxBatch: 2, batchWindowMs: 20 }, async (s) => {
    const xs = Array.from({ length: 6 }, (_, i) => seededTensor([1, 3, 64, 64], 200 + i));
    const rs = await Promise.all(xs.map((x) => post(s, '/v1/infer', toNpy(x))));
    for (const [i, r] of rs.entries()) {
      t.is(r.status, 200);
      t.true(maxDiff(parseNpy(new Uint8Array(await r.arrayBuffer())).data, (await model.run({ input: xs[i]! })).output!.data) < 1e-4);
    }
    const c = await post(s, '/v1/classify', await image);
    t.is(c.status, 200);
  });
});
