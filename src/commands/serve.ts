// `resnode serve <model>`: the HTTP inference server (src/serve/server.ts) with graceful SIGTERM.
import { Command, InvalidArgumentError } from 'commander';
import { serve } from '../serve/server.js';
import type { Mode } from '../modes.js';
import { BACKEND_HELP, backendName, MODE_HELP, modeName } from './args.js';

const int = (min: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer ≥ ${min}`);
  return n;
};
const num = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a non-negative number');
  return n;
};

interface ServeFlags {
  port: number;
  host: string;
  maxBatch: number;
  batchWindowMs: number;
  queue: number;
  workers: number;
  timeoutMs: number;
  maxBodyBytes: number;
  maxInflightBytes: number;
  maxPixels: number;
  decodeConcurrency?: number;
  maxConnections: number;
  headersTimeoutMs: number;
  requestTimeoutMs?: number;
  modelName?: string;
  mode: Mode;
  top: number;
  labels?: string;
  backend: 'native' | 'js' | 'cuda';
  threads?: number;
}

export function register(program: Command): void {
  program
    .command('serve <model>')
    .description('serve a model over HTTP: POST /v1/classify, POST /v1/infer, GET /healthz, GET /metrics, and the KServe v2 routes under /v2')
    .option('-p, --port <n>', 'port (0 picks a free one)', int(0), 8080)
    .option('--host <addr>', 'address to bind', '127.0.0.1')
    .option('--max-batch <n>', 'most rows per model run and per request (413 past it; 1 turns dynamic batching off)', int(1), 8)
    .option('--batch-window-ms <ms>', 'how long a request waits for others to batch with', num, 5)
    .option('--queue <n>', 'most rows waiting; beyond it, 503', int(1), 256)
    .option('--workers <n>', 'worker threads, each with a copy of the model (0: main thread)', int(0), 0)
    .option('--timeout-ms <ms>', 'per-request deadline; then 504 and the connection is closed', int(1), 30_000)
    .option('--max-body-bytes <n>', 'largest request body; beyond it, 413', int(1), 16 * 2 ** 20)
    .option('--max-inflight-bytes <n>', 'bytes of request bodies held at once, all requests together; beyond it, 503', int(1), 256 * 2 ** 20)
    .option('--max-pixels <n>', 'largest image (width × height) /v1/classify decodes; beyond it, 400', int(1), 40_000_000)
    .option('--decode-concurrency <n>', 'images decoded at once, round-robin across clients (default: min(4, cores))', int(1))
    .option('--max-connections <n>', 'open connections; more are closed on arrival', int(1), 1024)
    .option('--headers-timeout-ms <ms>', 'time a client has to send its request headers', int(1), 10_000)
    .option('--request-timeout-ms <ms>', "Node's deadline for a whole request, behind --timeout-ms (default: timeout + 5000)", int(1))
    .option('--model-name <name>', 'the model name on the /v2 routes (default: the file name without .onnx)')
    .option('--mode <mode>', MODE_HELP, modeName, 'exact')
    .option('--top <k>', 'default top-k for /v1/classify', int(1), 5)
    .option('--labels <spec>', "'imagenet' or a labels file (one per line); default ImageNet's for 1000 classes")
    .option('--backend <name>', BACKEND_HELP, backendName, 'native')
    .option('--threads <n>', 'native threads (per worker with --workers)', int(1))
    .action(async (path: string, o: ServeFlags) => {
      const srv = await serve(path, {
        port: o.port,
        host: o.host,
        maxBatch: o.maxBatch,
        batchWindowMs: o.batchWindowMs,
        queue: o.queue,
        workers: o.workers,
        timeoutMs: o.timeoutMs,
        maxBodyBytes: o.maxBodyBytes,
        maxInflightBytes: o.maxInflightBytes,
        maxPixels: o.maxPixels,
        decodeConcurrency: o.decodeConcurrency,
        maxConnections: o.maxConnections,
        headersTimeoutMs: o.headersTimeoutMs,
        requestTimeoutMs: o.requestTimeoutMs,
        modelName: o.modelName,
        mode: o.mode,
        top: o.top,
        labels: o.labels,
        backend: o.backend,
        threads: o.threads,
      });
      const where = o.workers > 0 ? `${o.workers} workers` : 'main thread';
      console.log(`resnode serve: listening on ${srv.url} (${where}, mode ${o.mode}, model "${srv.modelName}", max batch ${o.maxBatch}, window ${o.batchWindowMs} ms, queue ${o.queue})`);
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        console.log(`resnode serve: ${signal}: finishing requests in flight`);
        srv.close().then(
          () => {
            console.log('resnode serve: stopped');
            process.exit(0);
          },
          (err: Error) => {
            console.error(`resnode serve: ${err.message}`);
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
}
