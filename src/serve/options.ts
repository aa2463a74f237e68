// serve()'s options, checked, with their defaults in one place (the CLI states the same).
import { availableParallelism } from 'node:os';
import { invalid, isPositiveInt, plainObject } from '../is.js';
import type { PreprocessOptions } from '../preprocess.js';
import { MODE_NAMES, type Mode } from '../modes.js';

export interface ServeOptions {
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** Address to bind. Default 127.0.0.1. */
  host?: string;
  /** Most rows per batch, and per request (413 past it); 1 turns dynamic batching off. Default 8. */
  maxBatch?: number;
  /** How long the first request of a batch waits for others, in ms. Default 5. */
  batchWindowMs?: number;
  /** Most rows waiting for a batch; beyond it, 503. Default 256. */
  queue?: number;
  /** Worker threads, each with its own copy of the model; 0 (default) runs in the main thread. */
  workers?: number;
  /** Per-request deadline in ms (body, preprocessing, queue and run); then 504 and the socket is closed. Default 30000. */
  timeoutMs?: number;
  /** Largest request body in bytes; beyond it, 413. Default 16 MiB. */
  maxBodyBytes?: number;
  /** Bytes of request bodies held at once, over all requests; beyond it, 503. Default 256 MiB. */
  maxInflightBytes?: number;
  /** Largest image (width × height) /v1/classify decodes; larger ones are a 400 before decoding. Default 40 megapixels. */
  maxPixels?: number;
  /** Images decoded at the same time (taken round-robin across clients). Default min(4, cores). */
  decodeConcurrency?: number;
  /** Open connections; more are closed on arrival. Default 1024. */
  maxConnections?: number;
  /** Time for a client to send the request headers, in ms (slow-header clients are cut). Default min(10000, requestTimeoutMs). */
  headersTimeoutMs?: number;
  /** Node's own deadline for receiving a whole request, in ms; a backstop behind timeoutMs. Default timeoutMs + 5000. */
  requestTimeoutMs?: number;
  /** Default top-k for /v1/classify (a request may pass ?top=k). Default 5. */
  top?: number;
  /** Class names, 'imagenet', or a labels file path; default ImageNet's for 1000-class models. */
  labels?: readonly string[] | string;
  backend?: 'native' | 'js' | 'cuda';
  /** A mode of src/modes.ts ('exact' by default, 'fast', 'bf16'), passed to load(). */
  mode?: Mode;
  /** Native threads (in the main thread, or per worker). */
  threads?: number;
  /** The model's name on the /v2 routes. Default: the file name without .onnx, or "model". */
  modelName?: string;
  /** Image preprocessing; the crop defaults to the model's input size. */
  preprocess?: PreprocessOptions;
  /** How long close() waits for requests in flight before cutting connections. Default timeoutMs + 5000. */
  shutdownTimeoutMs?: number;
}

export type Resolved = Required<Omit<ServeOptions, 'labels' | 'backend' | 'threads' | 'preprocess' | 'modelName' | 'mode'>> &
  Pick<ServeOptions, 'labels' | 'backend' | 'threads' | 'preprocess'> & { modelName: string | undefined; mode: Mode | undefined };

const nonNeg = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const positive = (v: unknown) => nonNeg(v) && (v as number) > 0;
const nonNegInt = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export function resolveOptions(options: unknown): Resolved {
  const o = plainObject('serve', 'options', options) as ServeOptions;
  const option = <T>(v: unknown, fallback: T, check: (v: unknown) => boolean, name: string, expected: string): T => {
    if (v === undefined) return fallback;
    if (!check(v)) throw invalid('serve', `options.${name}`, expected, v);
    return v as T;
  };
  const timeoutMs = option(o.timeoutMs, 30_000, positive, 'timeoutMs', 'a positive number');
  const requestTimeoutMs = option(o.requestTimeoutMs, Math.ceil(timeoutMs) + 5000, isPositiveInt, 'requestTimeoutMs', 'a positive integer');
  const r: Resolved = {
    port: option(o.port, 0, (v) => nonNegInt(v) && (v as number) < 65536, 'port', 'a port number (0–65535)'),
    host: option(o.host, '127.0.0.1', (v) => typeof v === 'string' && v !== '', 'host', 'a host name or address'),
    maxBatch: option(o.maxBatch, 8, isPositiveInt, 'maxBatch', 'a positive integer'),
    batchWindowMs: option(o.batchWindowMs, 5, nonNeg, 'batchWindowMs', 'a non-negative number'),
    queue: option(o.queue, 256, isPositiveInt, 'queue', 'a positive integer'),
    workers: option(o.workers, 0, nonNegInt, 'workers', 'a non-negative integer'),
    timeoutMs,
    maxBodyBytes: option(o.maxBodyBytes, 16 * 2 ** 20, isPositiveInt, 'maxBodyBytes', 'a positive integer'),
    maxInflightBytes: option(o.maxInflightBytes, 256 * 2 ** 20, isPositiveInt, 'maxInflightBytes', 'a positive integer'),
    maxPixels: option(o.maxPixels, 40_000_000, isPositiveInt, 'maxPixels', 'a positive integer'),
    decodeConcurrency: option(o.decodeConcurrency, Math.min(4, availableParallelism()), isPositiveInt, 'decodeConcurrency', 'a positive integer'),
    maxConnections: option(o.maxConnections, 1024, isPositiveInt, 'maxConnections', 'a positive integer'),
    headersTimeoutMs: option(o.headersTimeoutMs, Math.min(10_000, requestTimeoutMs), isPositiveInt, 'headersTimeoutMs', 'a positive integer'),
    requestTimeoutMs,
    top: option(o.top, 5, isPositiveInt, 'top', 'a positive integer'),
    labels: o.labels,
    backend: o.backend,
    mode: option<Mode | undefined>(o.mode, undefined, (v) => (MODE_NAMES as readonly unknown[]).includes(v), 'mode', `one of ${MODE_NAMES.map((m) => `'${m}'`).join(', ')}`),
    threads: o.threads,
    modelName: option(o.modelName, undefined, (v) => typeof v === 'string' && /^[A-Za-z0-9_.-]{1,128}$/.test(v), 'modelName', 'a name of letters, digits, "_", "." or "-"'),
    preprocess: o.preprocess,
    shutdownTimeoutMs: option(o.shutdownTimeoutMs, timeoutMs + 5000, nonNeg, 'shutdownTimeoutMs', 'a non-negative number'),
  };
  // A body the budget could never hold would be refused forever.
  if (r.maxInflightBytes < r.maxBodyBytes) throw invalid('serve', 'options.maxInflightBytes', `at least options.maxBodyBytes (${r.maxBodyBytes})`, r.maxInflightBytes);
  if (r.headersTimeoutMs > r.requestTimeoutMs) throw invalid('serve', 'options.headersTimeoutMs', `at most options.requestTimeoutMs (${r.requestTimeoutMs})`, r.headersTimeoutMs);
  return r;
}
