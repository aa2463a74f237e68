// `resnode serve`: an HTTP inference server on node:http with dynamic batching.
//
//   POST /v1/classify   image body (JPEG, PNG, WebP, …) → { predictions: [{ index, label, probability, logit }] }
//   POST /v1/infer      .npy body → .npy; JSON { dims, data } → JSON { name, dims, data }
//   GET  /healthz       200 { status: "ok" } (503 while shutting down)
//   GET  /metrics       Prometheus text
//
// Errors: 400 bad image/tensor, 404 unknown route, 405 wrong method, 413 body too large,
// 503 queue full (Retry-After), 504 past the request's timeout. The server holds no
// state between requests, so any number of copies can sit behind a load balancer.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { defaultLabels, topK } from '../classify.js';
import { ModelError } from '../errors.js';
import { Graph } from '../graph/graph.js';
import { describe, invalid, isPositiveInt, plainObject } from '../is.js';
import { loadLabels } from '../labels.js';
import { load, Model, type Results, type ValueMetadata } from '../model.js';
import { parseNpy, toNpy } from '../npy.js';
import { ImageDecodeError, inputSizeOf, preprocess, type PreprocessOptions } from '../preprocess.js';
import { Tensor } from '../tensor.js';
import { WorkerError, WorkerPool } from '../workers/pool.js';
import { AbortedError, Batcher, QueueFullError } from './batcher.js';
import { HttpError, readBody, sendJson } from './http.js';
import { CONTENT_TYPE, Counter, Gauge, Histogram, Registry } from './metrics.js';

export interface ServeOptions {
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** Address to bind. Default 127.0.0.1. */
  host?: string;
  /** Most rows per batch; 1 turns dynamic batching off. Default 8. */
  maxBatch?: number;
  /** How long the first request of a batch waits for others, in ms. Default 5. */
  batchWindowMs?: number;
  /** Most requests waiting for a batch; beyond it, 503. Default 256. */
  queue?: number;
  /** Worker threads, each with its own copy of the model; 0 (default) runs in the main thread. */
  workers?: number;
  /** Per-request deadline in ms (body, preprocessing, queue and run); then 504. Default 30000. */
  timeoutMs?: number;
  /** Largest request body in bytes; beyond it, 413. Default 16 MiB. */
  maxBodyBytes?: number;
  /** Default top-k for /v1/classify (a request may pass ?top=k). Default 5. */
  top?: number;
  /** Class names, 'imagenet', or a labels file path; default ImageNet's for 1000-class models. */
  labels?: readonly string[] | string;
  backend?: 'native' | 'js' | 'cuda';
  /** Native threads (in the main thread, or per worker). */
  threads?: number;
  /** Image preprocessing; the crop defaults to the model's input size. */
  preprocess?: PreprocessOptions;
  /** How long close() waits for requests in flight before cutting connections. Default timeoutMs + 5000. */
  shutdownTimeoutMs?: number;
}

export interface InferenceServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly http: Server;
  readonly metrics: Registry;
  /** Event-loop delay seen by the server since start (or the last reset), in ms. */
  eventLoopDelay(reset?: boolean): { p50: number; p99: number; max: number };
  /** Graceful stop: refuse new connections, finish requests in flight, free the model. */
  close(): Promise<void>;
}

type Route = '/v1/classify' | '/v1/infer' | '/healthz' | '/metrics';
const ROUTES: Record<Route, string> = { '/v1/classify': 'POST', '/v1/infer': 'POST', '/healthz': 'GET', '/metrics': 'GET' };
const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

function option<T>(v: unknown, fallback: T, check: (v: unknown) => boolean, name: string, expected: string): T {
  if (v === undefined) return fallback;
  if (!check(v)) throw invalid('serve', `options.${name}`, expected, v);
  return v as T;
}
const nonNeg = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const nonNegInt = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function dimsText(dims: readonly number[]): string {
  return `[${dims.map((d) => (d < 0 ? 'N' : d)).join(', ')}]`;
}

/** Checks a request tensor against the model input; throws HttpError 400. */
function checkShape(meta: ValueMetadata, dims: readonly number[]): void {
  const ok = dims.length === meta.dims.length && dims.every((d, i) => (meta.dims[i]! < 0 ? d >= 1 : d === meta.dims[i]));
  if (!ok) throw new HttpError(400, `input "${meta.name}" expects dims ${dimsText(meta.dims)} but received ${describe(dims)}`);
}

function parseJsonTensor(body: Buffer): Tensor {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `the body is not valid JSON: ${(err as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new HttpError(400, 'expected a JSON object { "dims": [...], "data": [...] }');
  const { dims, data } = v as { dims?: unknown; data?: unknown };
  if (!Array.isArray(dims) || !dims.every(isPositiveInt)) throw new HttpError(400, `expected "dims" to be an array of positive integers but received ${describe(dims)}`);
  if (!Array.isArray(data)) throw new HttpError(400, `expected "data" to be an array of numbers but received ${describe(data)}`);
  const count = (dims as number[]).reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new HttpError(400, `"data" has ${data.length} numbers but dims ${describe(dims)} need ${count}`);
  const f = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const x = data[i];
    if (typeof x !== 'number') throw new HttpError(400, `"data[${i}]" is ${describe(x)}, not a number`);
    f[i] = x;
  }
  return new Tensor('float32', f, dims as number[]);
}

export async function serve(source: string | Uint8Array | Graph | Model, options: ServeOptions = {}): Promise<InferenceServer> {
  const o = plainObject('serve', 'options', options) as ServeOptions;
  const port = option(o.port, 0, (v) => nonNegInt(v) && (v as number) < 65536, 'port', 'a port number (0–65535)');
  const host = option(o.host, '127.0.0.1', (v) => typeof v === 'string' && v !== '', 'host', 'a host name or address');
  let maxBatch = option(o.maxBatch, 8, isPositiveInt, 'maxBatch', 'a positive integer');
  const windowMs = option(o.batchWindowMs, 5, nonNeg, 'batchWindowMs', 'a non-negative number');
  const queueLimit = option(o.queue, 256, isPositiveInt, 'queue', 'a positive integer');
  const workers = option(o.workers, 0, nonNegInt, 'workers', 'a non-negative integer');
  const timeoutMs = option(o.timeoutMs, 30_000, (v) => nonNeg(v) && (v as number) > 0, 'timeoutMs', 'a positive number');
  const maxBody = option(o.maxBodyBytes, 16 * 2 ** 20, isPositiveInt, 'maxBodyBytes', 'a positive integer');
  const defaultTop = option(o.top, 5, isPositiveInt, 'top', 'a positive integer');
  const shutdownMs = option(o.shutdownTimeoutMs, timeoutMs + 5000, nonNeg, 'shutdownTimeoutMs', 'a non-negative number');

  // The engine: the model in this thread, or a pool of workers each holding a copy.
  let inputs: readonly ValueMetadata[];
  let outputs: readonly ValueMetadata[];
  let runBatch: (x: Tensor) => Promise<Results>;
  let dispose: () => Promise<void>;
  let concurrency = 1;
  if (workers > 0) {
    if (source instanceof Model) throw invalid('serve', 'source', 'a file path, ONNX bytes or a Graph when options.workers > 0', source);
    const pool = await WorkerPool.create(source, { size: workers, backend: o.backend, threads: o.threads });
    inputs = pool.inputs;
    outputs = pool.outputs;
    const name = inputs[0]!.name;
    runBatch = (x) => pool.runTransfer({ [name]: x });
    dispose = () => pool.close();
    concurrency = workers;
  } else {
    const model = source instanceof Model ? source : await load(source, { backend: o.backend, threads: o.threads });
    inputs = model.inputs;
    outputs = model.outputs;
    const name = inputs[0]!.name;
    runBatch = (x) => model.run({ [name]: x });
    dispose = source instanceof Model ? async () => {} : () => model.dispose();
  }
  const input = inputs[0]!;
  const output = outputs[0]!;
  if (input.dims[0]! > 0) maxBatch = 1; // a fixed batch size cannot be concatenated
  const numClasses = output.dims[output.dims.length - 1]!;
  const labels = typeof o.labels === 'string' ? await loadLabels(o.labels) : o.labels ?? defaultLabels(numClasses);
  const [cropH, cropW] = inputSizeOf(input.dims);
  const pre: PreprocessOptions = { size: [cropH, cropW], ...o.preprocess };

  // Metrics.
  const registry = new Registry();
  const requests = registry.register(new Counter('resnode_http_requests_total', 'HTTP requests by route and status code.'));
  const latency = registry.register(
    new Histogram('resnode_http_request_duration_seconds', 'Time from request to response, by route.', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]),
  );
  const batchSize = registry.register(new Histogram('resnode_batch_size', 'Rows per model run.', [1, 2, 4, 8, 16, 32, 64, 128]));
  const batchRequests = registry.register(new Histogram('resnode_batch_requests', 'Requests gathered into one model run.', [1, 2, 4, 8, 16, 32, 64, 128]));
  const queueDepth = registry.register(new Gauge('resnode_queue_depth', 'Requests waiting for a batch.'));
  const batchesInFlight = registry.register(new Gauge('resnode_batches_in_flight', 'Model runs in progress.'));
  const requestsInFlight = registry.register(new Gauge('resnode_requests_in_flight', 'HTTP requests being handled.'));
  const loopDelay = registry.register(new Gauge('resnode_event_loop_delay_seconds', 'Event-loop delay since start, by quantile.'));

  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();
  const eldMs = (q: number) => (eld.count > 0 ? eld.percentile(q) / 1e6 : 0);
  loopDelay.set(() => eldMs(50) / 1000, { quantile: '0.5' });
  loopDelay.set(() => eldMs(99) / 1000, { quantile: '0.99' });
  loopDelay.set(() => (eld.count > 0 ? eld.max / 1e9 : 0), { quantile: '1' });

  const batcher = new Batcher(runBatch, {
    maxBatch,
    windowMs,
    queueLimit,
    concurrency,
    onBatch: (rows, n) => {
      batchSize.observe(rows);
      batchRequests.observe(n);
    },
  });
  queueDepth.set(() => batcher.depth);
  batchesInFlight.set(() => batcher.inFlight);
  let active = 0;
  const responses = new Set<ServerResponse>();
  requestsInFlight.set(() => active);

  let closing = false;
  const idleWaiters: (() => void)[] = [];

  async function handle(route: Route, req: IncomingMessage, res: ServerResponse, url: URL, signal: AbortSignal): Promise<void> {
    if (route === '/healthz') {
      sendJson(res, closing ? 503 : 200, { status: closing ? 'shutting down' : 'ok', queue: batcher.depth });
      return;
    }
    if (route === '/metrics') {
      const text = registry.render();
      res.writeHead(200, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    const body = await readBody(req, maxBody);
    if (signal.aborted) return;
    if (body.length === 0) throw new HttpError(400, 'the request body is empty');

    if (route === '/v1/classify') {
      const topText = url.searchParams.get('top');
      const top = topText === null ? defaultTop : Number(topText);
      if (!isPositiveInt(top)) throw new HttpError(400, `expected ?top= to be a positive integer but received ${JSON.stringify(topText)}`);
      const x = await preprocess(body, pre);
      if (signal.aborted) return;
      const out = (await batcher.submit(x, signal))[output.name]!;
      const predictions = topK(out, top, labels)[0]!;
      if (!res.headersSent) sendJson(res, 200, { predictions });
      return;
    }

    // /v1/infer
    const type = String(req.headers['content-type'] ?? '');
    const isNpy = NPY_MAGIC.every((b, i) => body[i] === b);
    const isJson = !isNpy && (type.includes('json') || body[0] === 0x7b /* { */);
    let x: Tensor;
    if (isNpy) {
      try {
        x = parseNpy(new Uint8Array(body.buffer, body.byteOffset, body.byteLength), 'the request body');
      } catch (err) {
        throw new HttpError(400, (err as Error).message);
      }
    } else if (isJson) x = parseJsonTensor(body);
    else throw new HttpError(400, 'expected a .npy body or JSON { "dims": [...], "data": [...] }');
    checkShape(input, x.dims);
    const y = (await batcher.submit(x, signal))[output.name]!;
    if (res.headersSent) return;
    if (isJson) sendJson(res, 200, { name: output.name, dims: y.dims, data: Array.from(y.data) });
    else {
      const bytes = toNpy(y);
      res.writeHead(200, { 'content-type': 'application/x-npy', 'content-length': bytes.byteLength });
      res.end(bytes);
    }
  }

  function fail(res: ServerResponse, err: unknown): void {
    if (res.headersSent) return;
    if (err instanceof HttpError) sendJson(res, err.status, { error: err.message }, err.headers);
    else if (err instanceof ImageDecodeError) sendJson(res, 400, { error: err.message.replace(/^preprocess: /, '') });
    else if (err instanceof QueueFullError) sendJson(res, 503, { error: err.message }, { 'retry-after': '1' });
    else if (err instanceof WorkerError) sendJson(res, 503, { error: err.message }, { 'retry-after': '1' });
    else if (err instanceof ModelError || err instanceof RangeError || err instanceof TypeError) sendJson(res, 400, { error: err.message });
    else sendJson(res, 500, { error: (err as Error)?.message ?? String(err) });
  }

  const http = createServer((req, res) => {
    const start = performance.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = (Object.hasOwn(ROUTES, url.pathname) ? url.pathname : null) as Route | null;
    const label = route ?? 'other';
    active++;
    responses.add(res);
    if (closing) res.setHeader('connection', 'close');
    const ac = new AbortController();
    const timer = setTimeout(() => {
      if (!res.headersSent) sendJson(res, 504, { error: `the request took longer than ${timeoutMs} ms` });
      ac.abort(new AbortedError(`timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      responses.delete(res);
      if (!res.writableFinished) ac.abort(new AbortedError('the client went away'));
      requests.inc({ route: label, status: String(res.statusCode) });
      latency.observe((performance.now() - start) / 1000, { route: label });
      if (--active === 0) for (const f of idleWaiters.splice(0)) f();
    };
    res.on('finish', done);
    res.on('close', done);

    if (!route) return sendJson(res, 404, { error: `no route for ${req.method} ${url.pathname}; try POST /v1/classify, POST /v1/infer, GET /healthz or GET /metrics` });
    if (req.method !== ROUTES[route] && !(req.method === 'HEAD' && ROUTES[route] === 'GET')) {
      return sendJson(res, 405, { error: `${url.pathname} takes ${ROUTES[route]}, not ${req.method}` }, { allow: ROUTES[route] });
    }
    // After a 413, Node reads and drops the rest of the body, so the client still gets the answer.
    handle(route, req, res, url, ac.signal).catch((err) => fail(res, err));
  });
  // Idle keep-alive connections stay open longer than a typical load balancer's idle timeout
  // (60 s), so the balancer, not this server, closes them: no reset races on reuse.
  http.keepAliveTimeout = 65_000;
  http.headersTimeout = 66_000;
  http.requestTimeout = 0; // our own per-request timer answers 504

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const addr = http.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      closing = true;
      // Responses still to come close their connection, so keep-alive clients move on.
      for (const res of responses) if (!res.headersSent) res.setHeader('connection', 'close');
      const stopped = new Promise<void>((r) => http.close(() => r()));
      http.closeIdleConnections();
      batcher.flush();
      if (active > 0) {
        let cut: NodeJS.Timeout | undefined;
        await Promise.race([new Promise<void>((r) => idleWaiters.push(r)), new Promise<void>((r) => (cut = setTimeout(r, shutdownMs)))]);
        clearTimeout(cut);
      }
      http.closeAllConnections();
      await stopped;
      await batcher.drain();
      eld.disable();
      await dispose();
    })());

  return {
    url: `http://${shownHost}:${addr.port}`,
    host: addr.address,
    port: addr.port,
    http,
    metrics: registry,
    eventLoopDelay(reset = false) {
      const r = { p50: eldMs(50), p99: eldMs(99), max: eld.count > 0 ? eld.max / 1e6 : 0 };
      if (reset) eld.reset();
      return r;
    },
    close,
  };
}
