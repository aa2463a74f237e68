// `resnode serve`: an HTTP inference server on node:http with dynamic batching.
//
//   POST /v1/classify   image body (JPEG, PNG, WebP, …) → { predictions: [{ index, label, probability, logit }] }
//   POST /v1/infer      .npy body → .npy; JSON { dims, data } → JSON { name, dims, data }
//   GET  /healthz       200 { status: "ok" }; 503 while draining or with no live worker
//   GET  /metrics       Prometheus text
//   /v2/…               KServe's Open Inference Protocol (src/serve/v2.ts)
//
// Errors: 400 bad request target, image or tensor; 404 unknown route; 405 wrong method;
// 413 body too large or more rows than maxBatch; 503 queue full, body budget spent or
// draining (Retry-After); 504 past the request's timeout (and the connection is closed).
// Hostile traffic: every request runs inside the error handling; parsers are linear;
// bodies held at once are capped; work is taken round-robin across client addresses;
// connections, header time and request time are bounded (defaults in options.ts).
// The server holds no state between requests, so any number of copies can sit behind a
// load balancer.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { defaultLabels, topK } from '../classify.js';
import { ModelError } from '../errors.js';
import { Graph } from '../graph/graph.js';
import { isPositiveInt } from '../is.js';
import { loadLabels } from '../labels.js';
import type { Model, ValueMetadata } from '../model.js';
import { parseNpy, toNpy } from '../npy.js';
import { ImageDecodeError, inputSizeOf, preprocess, type PreprocessOptions } from '../preprocess.js';
import type { Tensor } from '../tensor.js';
import { WorkerError, type WorkerPool } from '../workers/pool.js';
import { AbortedError, Batcher, QueueFullError } from './batcher.js';
import { startEngine } from './engine.js';
import { FairGate } from './fair.js';
import { ByteBudget, HttpError, readBody, requestUrl, sendJson } from './http.js';
import { CONTENT_TYPE, Counter, Gauge, Histogram, Registry } from './metrics.js';
import { resolveOptions, type ServeOptions } from './options.js';
import { parseDimsDataTensor } from './tensor-json.js';
import { handleV2 } from './v2.js';

export type { ServeOptions } from './options.js';

export interface InferenceServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly http: Server;
  readonly metrics: Registry;
  /** The model's name on the /v2 routes. */
  readonly modelName: string;
  /** The worker pool, with options.workers > 0. */
  readonly pool: WorkerPool | undefined;
  /** Event-loop delay seen by the server since start (or the last reset), in ms. */
  eventLoopDelay(reset?: boolean): { p50: number; p99: number; max: number };
  /** Graceful stop: health checks answer 503, requests in flight finish, then the listener closes and the model is freed. */
  close(): Promise<void>;
}

type Route = '/v1/classify' | '/v1/infer' | '/healthz' | '/metrics';
const ROUTES: Record<Route, string> = { '/v1/classify': 'POST', '/v1/infer': 'POST', '/healthz': 'GET', '/metrics': 'GET' };
const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
const SERVER_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function dimsText(dims: readonly number[]): string {
  return `[${dims.map((d) => (d < 0 ? 'N' : d)).join(', ')}]`;
}

/** Checks a request tensor against the model input (400) and the rows a request may carry (413). */
function checkInput(meta: ValueMetadata, dims: readonly number[], rowLimit: number): void {
  const ok = dims.length === meta.dims.length && dims.every((d, i) => (meta.dims[i]! < 0 ? d >= 1 : d === meta.dims[i]));
  if (!ok) throw new HttpError(400, `input "${meta.name}" expects dims ${dimsText(meta.dims)} but received [${dims.join(', ')}]`);
  if (dims[0]! > rowLimit) throw new HttpError(413, `the request has ${dims[0]} rows; the limit is ${rowLimit} per request (--max-batch)`);
}

function defaultModelName(source: unknown): string {
  if (typeof source !== 'string') return 'model';
  const name = basename(source).replace(/\.onnx$/i, '').replace(/[^A-Za-z0-9_.-]/g, '_');
  return name === '' ? 'model' : name.slice(0, 128);
}

export async function serve(source: string | Uint8Array | Graph | Model, options: ServeOptions = {}): Promise<InferenceServer> {
  const o = resolveOptions(options);
  const engine = await startEngine(source, { workers: o.workers, backend: o.backend, threads: o.threads, mode: o.mode });
  const input = engine.inputs[0]!;
  const output = engine.outputs[0]!;
  const fixedBatch = input.dims[0]! > 0 ? input.dims[0]! : 0;
  const maxBatch = fixedBatch > 0 ? 1 : o.maxBatch; // a fixed batch size cannot be concatenated
  const rowLimit = fixedBatch > 0 ? fixedBatch : o.maxBatch;
  const numClasses = output.dims[output.dims.length - 1]!;
  const labels = typeof o.labels === 'string' ? await loadLabels(o.labels) : o.labels ?? defaultLabels(numClasses);
  const [cropH, cropW] = inputSizeOf(input.dims);
  const pre: PreprocessOptions = { size: [cropH, cropW], maxPixels: o.maxPixels, ...o.preprocess };
  const modelName = o.modelName ?? defaultModelName(source);

  // Metrics.
  const registry = new Registry();
  const requests = registry.register(new Counter('resnode_http_requests_total', 'HTTP requests by route and the status the client received ("aborted": none).'));
  const latency = registry.register(
    new Histogram('resnode_http_request_duration_seconds', 'Time from request to response, by route.', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]),
  );
  const batchSize = registry.register(new Histogram('resnode_batch_size', 'Rows per model run.', [1, 2, 4, 8, 16, 32, 64, 128]));
  const batchRequests = registry.register(new Histogram('resnode_batch_requests', 'Requests gathered into one model run.', [1, 2, 4, 8, 16, 32, 64, 128]));
  const queueDepth = registry.register(new Gauge('resnode_queue_depth', 'Requests waiting for a batch.'));
  const queueRows = registry.register(new Gauge('resnode_queue_rows', 'Rows waiting for a batch.'));
  const batchesInFlight = registry.register(new Gauge('resnode_batches_in_flight', 'Model runs in progress.'));
  const requestsInFlight = registry.register(new Gauge('resnode_requests_in_flight', 'HTTP requests being handled.'));
  const bodyBytes = registry.register(new Gauge('resnode_body_bytes_in_flight', 'Bytes of request bodies held in memory.'));
  const liveWorkers = registry.register(new Gauge('resnode_live_workers', 'Workers able to run (1 in the main thread).'));
  const loopDelay = registry.register(new Gauge('resnode_event_loop_delay_seconds', 'Event-loop delay since start, by quantile.'));

  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();
  const eldMs = (q: number) => (eld.count > 0 ? eld.percentile(q) / 1e6 : 0);
  loopDelay.set(() => eldMs(50) / 1000, { quantile: '0.5' });
  loopDelay.set(() => eldMs(99) / 1000, { quantile: '0.99' });
  loopDelay.set(() => (eld.count > 0 ? eld.max / 1e9 : 0), { quantile: '1' });

  const batcher = new Batcher((x) => engine.run(x), {
    maxBatch,
    windowMs: o.batchWindowMs,
    queueLimit: o.queue,
    concurrency: engine.concurrency,
    onBatch: (rows, n) => {
      batchSize.observe(rows);
      batchRequests.observe(n);
    },
  });
  const budget = new ByteBudget(o.maxInflightBytes);
  const decodeGate = new FairGate(o.decodeConcurrency);
  queueDepth.set(() => batcher.depth);
  queueRows.set(() => batcher.rows);
  batchesInFlight.set(() => batcher.inFlight);
  bodyBytes.set(() => budget.inUse);
  liveWorkers.set(() => engine.live());
  let active = 0;
  /** Requests other than health checks and metrics: the drain waits for these. */
  let working = 0;
  const responses = new Set<ServerResponse>();
  requestsInFlight.set(() => active);

  let closing = false;
  const idleWaiters: (() => void)[] = [];
  const ready = () => !closing && engine.live() > 0;

  /** The key fairness is computed over: the client's address. */
  const clientOf = (req: IncomingMessage) => req.socket.remoteAddress ?? '';

  async function handle(route: Route | 'v2', req: IncomingMessage, res: ServerResponse, url: URL, signal: AbortSignal, hold: (release: () => void) => void): Promise<void> {
    const client = clientOf(req);
    const body = async () => {
      // A full queue refuses before the body is read: a flood of requests that would be refused costs no parsing.
      if (batcher.refuses(client)) throw new QueueFullError(`the queue is full (${batcher.rows} of ${o.queue} rows waiting)`);
      const { body: b, release } = await readBody(req, o.maxBodyBytes, budget, signal);
      hold(release);
      return b;
    };
    const infer = async (x: Tensor) => {
      checkInput(input, x.dims, rowLimit);
      return batcher.submit(x, signal, client);
    };
    if (route === 'v2') {
      return handleV2(
        { modelName, serverVersion: SERVER_VERSION, inputs: engine.inputs, outputs: engine.outputs, ready, readBody: body, infer },
        req,
        res,
        url.pathname,
      );
    }
    if (route === '/healthz') {
      const why = closing ? 'shutting down' : engine.live() === 0 ? 'no live worker' : 'ok';
      sendJson(res, why === 'ok' ? 200 : 503, { status: why, queue: batcher.depth });
      return;
    }
    if (route === '/metrics') {
      const text = registry.render();
      res.writeHead(200, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    const bytes = await body();
    if (signal.aborted) return;
    if (bytes.length === 0) throw new HttpError(400, 'the request body is empty');

    if (route === '/v1/classify') {
      const topText = url.searchParams.get('top');
      const top = topText === null ? o.top : Number(topText);
      if (!isPositiveInt(top)) throw new HttpError(400, `expected ?top= to be a positive integer but received ${JSON.stringify(topText)}`);
      const release = await decodeGate.acquire(client, signal);
      let x: Tensor;
      try {
        x = await preprocess(bytes, pre);
      } finally {
        release();
      }
      if (signal.aborted) return;
      const out = (await batcher.submit(x, signal, client))[output.name]!;
      const predictions = topK(out, top, labels)[0]!;
      if (!res.headersSent) sendJson(res, 200, { predictions });
      return;
    }

    // /v1/infer
    const type = String(req.headers['content-type'] ?? '');
    const isNpy = NPY_MAGIC.every((b, i) => bytes[i] === b);
    const isJson = !isNpy && (type.includes('json') || bytes[0] === 0x7b /* { */);
    let x: Tensor;
    if (isNpy) {
      try {
        x = parseNpy(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), 'the request body');
      } catch (err) {
        throw new HttpError(400, (err as Error).message);
      }
    } else if (isJson) x = parseDimsDataTensor(bytes);
    else throw new HttpError(400, 'expected a .npy body or JSON { "dims": [...], "data": [...] }');
    const y = (await infer(x))[output.name]!;
    if (res.headersSent) return;
    if (isJson) sendJson(res, 200, { name: output.name, dims: y.dims, data: Array.from(y.data) });
    else {
      const npy = toNpy(y);
      res.writeHead(200, { 'content-type': 'application/x-npy', 'content-length': npy.byteLength });
      res.end(npy);
    }
  }

  function fail(res: ServerResponse, err: unknown): void {
    if (res.headersSent || res.destroyed) return;
    if (err instanceof HttpError) sendJson(res, err.status, { error: err.message }, err.headers);
    else if (err instanceof ImageDecodeError) sendJson(res, 400, { error: err.message.replace(/^preprocess: /, '') });
    else if (err instanceof QueueFullError) sendJson(res, 503, { error: err.message }, { 'retry-after': '1' });
    else if (err instanceof WorkerError) sendJson(res, 503, { error: err.message }, { 'retry-after': '1' });
    else if (err instanceof AbortedError) return; // the 504 (or the client's disconnect) has answered
    else if (err instanceof ModelError || err instanceof RangeError || err instanceof TypeError) sendJson(res, 400, { error: err.message });
    else sendJson(res, 500, { error: (err as Error)?.message ?? String(err) });
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const start = performance.now();
    let label = 'other';
    let counted = false;
    active++;
    responses.add(res);
    const releases: (() => void)[] = [];
    const ac = new AbortController();
    const timer = setTimeout(() => {
      if (!res.headersSent) {
        // Close the connection after the 504: its body may still be arriving (or stalled), and holding the socket would hold the upload.
        sendJson(res, 504, { error: `the request took longer than ${o.timeoutMs} ms` }, { connection: 'close' });
        if (!req.complete) res.once('finish', () => req.socket.destroy());
      }
      ac.abort(new AbortedError(`timed out after ${o.timeoutMs} ms`));
    }, o.timeoutMs);
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      responses.delete(res);
      for (const r of releases.splice(0)) r();
      if (!res.writableFinished) ac.abort(new AbortedError('the client went away'));
      // Label by what the client received: a response cut off before its headers is "aborted", not the default 200.
      requests.inc({ route: label, status: res.headersSent && res.writableFinished ? String(res.statusCode) : 'aborted' });
      latency.observe((performance.now() - start) / 1000, { route: label });
      if (counted && --working === 0) for (const f of idleWaiters.splice(0)) f();
      --active;
    };
    res.on('finish', done);
    res.on('close', done);
    // An answer sent before the body is in (413, 503, …): an honest client finishes sending within
    // a second; a stalled one would hold the socket until requestTimeout.
    res.once('finish', () => {
      if (!req.complete) setTimeout(() => req.complete || req.socket.destroy(), 1000).unref();
    });

    const url = requestUrl(req); // throws HttpError 400: caught by the caller
    const route: Route | 'v2' | null = Object.hasOwn(ROUTES, url.pathname) ? (url.pathname as Route) : url.pathname === '/v2' || url.pathname.startsWith('/v2/') ? 'v2' : null;
    label = route === 'v2' ? v2Label(url.pathname) : route ?? 'other';
    const health = route === '/healthz' || route === '/metrics' || label === '/v2/health';
    if (!health) {
      counted = true;
      working++;
    }
    if (closing) {
      res.setHeader('connection', 'close');
      if (!health) {
        // Answer once the body is in (dropped unread, bounded by the request timer): a reply
        // that closes the connection mid-upload would reach the client as a reset, not a 503.
        req.resume();
        req.once('end', () => fail(res, new HttpError(503, 'the server is shutting down', { 'retry-after': '1' })));
        return;
      }
    }
    if (!route) throw new HttpError(404, `no route for ${req.method} ${url.pathname}; try POST /v1/classify, POST /v1/infer, GET /healthz, GET /metrics or the /v2 routes`);
    if (route !== 'v2' && req.method !== ROUTES[route] && !(req.method === 'HEAD' && ROUTES[route] === 'GET')) {
      throw new HttpError(405, `${url.pathname} takes ${ROUTES[route]}, not ${req.method}`, { allow: ROUTES[route] });
    }
    // After an early 413 or 503, Node reads and drops the rest of the body (for up to a second, above), so the client still gets the answer.
    // A body read that resolves after the request ended gives its bytes back at once.
    handle(route, req, res, url, ac.signal, (r) => (finished ? r() : releases.push(r))).catch((err) => fail(res, err));
  }

  // Nothing a client sends may end the process: the whole handler runs inside the error handling.
  const http = createServer({ connectionsCheckingInterval: 1000 }, (req, res) => {
    try {
      onRequest(req, res);
    } catch (err) {
      fail(res, err);
    }
  });
  // Idle keep-alive connections stay open longer than a typical load balancer's idle timeout
  // (60 s), so the balancer, not this server, closes them: no reset races on reuse.
  http.keepAliveTimeout = 65_000;
  http.headersTimeout = o.headersTimeoutMs;
  http.requestTimeout = o.requestTimeoutMs; // a backstop: our own per-request timer answers 504 first
  http.maxConnections = o.maxConnections;

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(o.port, o.host, () => {
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
      // The listener stays open, answering health checks with 503, until the last request is done.
      http.closeIdleConnections();
      batcher.flush();
      if (working > 0) {
        let cut: NodeJS.Timeout | undefined;
        await Promise.race([new Promise<void>((r) => idleWaiters.push(r)), new Promise<void>((r) => (cut = setTimeout(r, o.shutdownTimeoutMs)))]);
        clearTimeout(cut);
      }
      const stopped = new Promise<void>((r) => http.close(() => r()));
      http.closeAllConnections();
      await stopped;
      await batcher.drain();
      eld.disable();
      await engine.dispose();
    })());

  return {
    url: `http://${shownHost}:${addr.port}`,
    host: addr.address,
    port: addr.port,
    http,
    metrics: registry,
    modelName,
    pool: engine.pool,
    eventLoopDelay(reset = false) {
      const r = { p50: eldMs(50), p99: eldMs(99), max: eld.count > 0 ? eld.max / 1e6 : 0 };
      if (reset) eld.reset();
      return r;
    },
    close,
  };
}

/** A bounded set of metric labels for /v2 paths (model names come from the client). */
function v2Label(path: string): string {
  if (path.startsWith('/v2/health/')) return '/v2/health';
  if (path.endsWith('/infer')) return '/v2/infer';
  if (path.startsWith('/v2/models/')) return '/v2/models';
  return '/v2';
}
