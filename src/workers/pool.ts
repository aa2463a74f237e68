// A pool of worker threads, each holding its own copy of a model. run() sends a batch to
// the least-busy live worker. A worker that dies (crash, terminate()) rejects only its
// own runs with WorkerError and is replaced; the process carries on.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Graph } from '../graph/graph.js';
import { invalid, oneOf, plainObject, positiveInt } from '../is.js';
import type { Feeds, Results, ValueMetadata } from '../model.js';
import { checkTensor, Tensor } from '../tensor.js';
import type { FromWorker, ToWorker, WireMeta, WireTensor, WorkerInit } from './protocol.js';
import { MODE_NAMES, type Mode } from '../modes.js';

export interface WorkerPoolOptions {
  /** Number of workers. Default 2. */
  size?: number;
  backend?: 'native' | 'js' | 'cuda';
  /** Native threads per worker. Default max(1, floor(cores / size)). */
  threads?: number;
  /** Start a new worker when one dies. Default true. */
  respawn?: boolean;
  /** Passed to each worker's load(): 'exact' (default) or 'fast' (see src/modes.ts). */
  mode?: Mode;
}

/** A run lost because its worker died or the pool was closed. */
export class WorkerError extends Error {
  override name = 'WorkerError';
}

interface Pending {
  resolve: (r: Results) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  /** The worker's place in the pool (0 … size-1); a replacement takes the dead one's index. */
  index: number;
  worker: Worker;
  pending: Map<number, Pending>;
  ready: boolean;
  dead: boolean;
}

/**
 * Starts a worker on worker.js once built; under tsx (tests, bench) worker.ts is loaded
 * through a small bootstrap that registers tsx inside the worker first (Node 20 does not
 * carry the parent's --import loader hooks into workers reliably).
 */
function startWorker(workerData: WorkerInit): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url), { workerData });
  const entry = new URL('./worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

const fromWire = (t: WireTensor) => new Tensor('float32', t.data, t.dims);
const meta = (v: WireMeta): ValueMetadata => Object.freeze({ name: v.name, type: 'float32' as const, dims: Object.freeze([...v.dims]) });

export class WorkerPool {
  readonly size: number;
  inputs: readonly ValueMetadata[] = [];
  outputs: readonly ValueMetadata[] = [];
  private slots: Slot[] = [];
  private nextId = 1;
  private closed = false;
  private readonly init: WorkerInit;
  private readonly respawn: boolean;
  /** Workers that have died since the pool started (crashes and terminate() calls). */
  deaths = 0;

  private constructor(init: WorkerInit, size: number, respawn: boolean) {
    this.init = init;
    this.size = size;
    this.respawn = respawn;
  }

  /** Starts `size` workers and waits until each has loaded the model. */
  static async create(source: string | Uint8Array | Graph, options: WorkerPoolOptions = {}): Promise<WorkerPool> {
    const where = 'WorkerPool.create';
    const o = plainObject(where, 'options', options);
    const size = o.size === undefined ? 2 : positiveInt(where, 'options.size', o.size);
    const backend = oneOf(where, 'options.backend', o.backend, ['native', 'js', 'cuda'] as const, 'native');
    const mode = oneOf(where, 'options.mode', o.mode, MODE_NAMES, 'exact');
    const threads = o.threads === undefined ? Math.max(1, Math.floor(availableParallelism() / size)) : positiveInt(where, 'options.threads', o.threads);
    let model: Uint8Array | string;
    if (source instanceof Graph) model = source.toOnnx();
    else if (source instanceof Uint8Array || typeof source === 'string') model = source;
    else throw invalid(where, 'source', 'a file path, ONNX bytes (Uint8Array) or a Graph', source);
    const pool = new WorkerPool({ model, backend, threads, mode }, size, o.respawn === undefined ? true : Boolean(o.respawn));
    try {
      await Promise.all(Array.from({ length: size }, (_, i) => pool.spawn(i)));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** Live workers (for tests and metrics). */
  get workers(): readonly Worker[] {
    return this.slots.filter((s) => !s.dead).map((s) => s.worker);
  }

  /** Workers that have loaded the model and are alive. */
  get live(): number {
    return this.slots.filter((s) => s.ready && !s.dead).length;
  }

  /** The mode every worker loaded its model with. */
  get mode(): Mode {
    return this.init.mode;
  }

  /** Runs currently sent to workers. */
  get inFlight(): number {
    return this.slots.reduce((a, s) => a + s.pending.size, 0);
  }

  private spawn(index: number): Promise<void> {
    const worker = startWorker(this.init);
    const slot: Slot = { index, worker, pending: new Map(), ready: false, dead: false };
    this.slots.push(slot);
    return new Promise<void>((resolve, reject) => {
      let started = false;
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          if (this.inputs.length === 0) {
            this.inputs = Object.freeze(m.inputs.map(meta));
            this.outputs = Object.freeze(m.outputs.map(meta));
          }
          slot.ready = true;
          started = true;
          resolve();
        } else if (m.type === 'result') {
          const p = slot.pending.get(m.id);
          slot.pending.delete(m.id);
          p?.resolve(Object.fromEntries(Object.entries(m.outputs).map(([k, t]) => [k, fromWire(t)])));
        } else if (m.type === 'error') {
          const err = new Error(m.message);
          err.name = m.name;
          if (m.id === null) {
            if (!started) reject(err);
            return;
          }
          const p = slot.pending.get(m.id);
          slot.pending.delete(m.id);
          p?.reject(err);
        }
      });
      let lastError: Error | undefined;
      worker.on('error', (err) => {
        lastError = err;
      });
      worker.on('exit', (code) => {
        slot.dead = true;
        this.slots = this.slots.filter((s) => s !== slot);
        const why = lastError ? `: ${lastError.message}` : this.closed ? ' (pool closed)' : ` with code ${code}`;
        for (const p of slot.pending.values()) p.reject(new WorkerError(`worker ${index} exited${why}`));
        slot.pending.clear();
        if (!started) {
          reject(lastError ?? new WorkerError(`worker ${index} exited with code ${code} before loading the model`));
          return;
        }
        this.deaths++;
        if (!this.closed && this.respawn) this.spawn(index).catch(() => {});
      });
    });
  }

  /** Runs the model in the least-busy worker. Feeds' buffers are copied, not transferred. */
  run(feeds: Feeds): Promise<Results> {
    return this.send(feeds, false);
  }

  /** As run(), but transfers the feeds' buffers to the worker (they are detached afterwards). */
  runTransfer(feeds: Feeds): Promise<Results> {
    return this.send(feeds, true);
  }

  private send(feeds: Feeds, transfer: boolean): Promise<Results> {
    if (this.closed) return Promise.reject(new WorkerError('the worker pool is closed'));
    const live = this.slots.filter((s) => s.ready && !s.dead);
    if (live.length === 0) return Promise.reject(new WorkerError('no live worker in the pool'));
    const slot = live.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.nextId++;
    const wire: Record<string, WireTensor> = {};
    const list: ArrayBuffer[] = [];
    for (const [k, t] of Object.entries(plainObject('WorkerPool.run', 'feeds', feeds))) {
      checkTensor('WorkerPool.run', `feeds["${k}"]`, t);
      const tensor = t as Tensor;
      const whole = tensor.data.byteOffset === 0 && tensor.data.byteLength === tensor.data.buffer.byteLength;
      const data = transfer && whole ? tensor.data : tensor.data.slice();
      wire[k] = { dims: [...tensor.dims], data };
      list.push(data.buffer as ArrayBuffer);
    }
    return new Promise<Results>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      const msg: ToWorker = { type: 'run', id, feeds: wire };
      slot.worker.postMessage(msg, list);
    });
  }

  /**
   * Stops the pool. By default it waits for runs in flight to finish, then terminates the
   * workers; with { force: true } it terminates them at once and runs in flight reject with WorkerError.
   */
  async close(options: { force?: boolean } = {}): Promise<void> {
    this.closed = true;
    if (!options.force) {
      await Promise.all(this.slots.flatMap((s) => [...s.pending.values()].map((p) => new Promise<void>((r) => {
        const { resolve, reject } = p;
        p.resolve = (v) => { resolve(v); r(); };
        p.reject = (e) => { reject(e); r(); };
      }))));
    }
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
