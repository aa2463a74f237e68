// Dynamic batching: requests that arrive close together are concatenated along the
// batch dimension (dim 0) into one run, and each gets its own rows of the outputs back.
//
// A batch leaves when it is full (maxBatch rows), or when its oldest request has waited
// windowMs, and only while fewer than `concurrency` batches are running. A full queue
// rejects at once (QueueFullError); an aborted request leaves the queue, or, if its batch
// is already running, has its rows dropped.
import { Tensor } from '../tensor.js';
import type { Results } from '../model.js';

export type BatchRunner = (x: Tensor) => Promise<Results>;

export interface BatcherOptions {
  /** Most rows in one batch. 1 turns batching off. */
  maxBatch: number;
  /** How long the oldest waiting request may wait for company, in ms. 0 sends at once. */
  windowMs: number;
  /** Most requests waiting (not yet running); more get QueueFullError. */
  queueLimit: number;
  /** Batches that may run at the same time (the number of workers). */
  concurrency: number;
  /** Called with the rows of each batch that starts. */
  onBatch?: (rows: number, requests: number) => void;
}

export class QueueFullError extends Error {
  override name = 'QueueFullError';
}

export class AbortedError extends Error {
  override name = 'AbortedError';
}

interface Job {
  x: Tensor;
  rows: number;
  /** The non-batch dims, joined, so only like-shaped requests are batched together. */
  shapeKey: string;
  arrived: number;
  resolve: (r: Results) => void;
  reject: (e: unknown) => void;
  settled: boolean;
  cleanup: () => void;
}

export class Batcher {
  private queue: Job[] = [];
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];
  readonly options: BatcherOptions;

  constructor(private readonly runner: BatchRunner, options: BatcherOptions) {
    this.options = { ...options, maxBatch: Math.max(1, options.maxBatch), concurrency: Math.max(1, options.concurrency) };
  }

  /** Requests waiting to run. */
  get depth(): number {
    return this.queue.length;
  }

  /** Batches running now. */
  get inFlight(): number {
    return this.running;
  }

  /** Queues x ([rows, ...]); resolves with this request's rows of every output. */
  submit(x: Tensor, signal?: AbortSignal): Promise<Results> {
    if (signal?.aborted) return Promise.reject(new AbortedError('request aborted before it was queued'));
    if (this.queue.length >= this.options.queueLimit) {
      return Promise.reject(new QueueFullError(`the queue is full (${this.options.queueLimit} requests waiting)`));
    }
    return new Promise<Results>((resolve, reject) => {
      const job: Job = {
        x,
        rows: x.dims[0]!,
        shapeKey: x.dims.slice(1).join('x'),
        arrived: performance.now(),
        settled: false,
        cleanup: () => {},
        resolve: (r) => {
          if (job.settled) return;
          job.settled = true;
          job.cleanup();
          resolve(r);
        },
        reject: (e) => {
          if (job.settled) return;
          job.settled = true;
          job.cleanup();
          reject(e);
        },
      };
      if (signal) {
        const onAbort = () => {
          const i = this.queue.indexOf(job);
          if (i >= 0) this.queue.splice(i, 1);
          job.reject(signal.reason instanceof Error ? signal.reason : new AbortedError('request aborted'));
          this.notifyIdle();
        };
        signal.addEventListener('abort', onAbort, { once: true });
        job.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      this.queue.push(job);
      this.pump();
    });
  }

  /** Resolves when nothing is queued or running. */
  drain(): Promise<void> {
    if (this.queue.length === 0 && this.running === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Sends whatever is queued without waiting for the window (used while shutting down). */
  flush(): void {
    this.options.windowMs = 0;
    this.pump();
  }

  private notifyIdle(): void {
    if (this.queue.length === 0 && this.running === 0) for (const f of this.idleWaiters.splice(0)) f();
  }

  private pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.running < this.options.concurrency && this.queue.length > 0) {
      const { maxBatch, windowMs } = this.options;
      const head = this.queue[0]!;
      let rows = 0;
      for (const j of this.queue) if (j.shapeKey === head.shapeKey) rows += j.rows;
      const waited = performance.now() - head.arrived;
      if (rows < maxBatch && waited < windowMs) {
        this.timer = setTimeout(() => this.pump(), Math.max(1, Math.ceil(windowMs - waited)));
        return;
      }
      this.dispatch(this.take(head.shapeKey));
    }
  }

  /** Takes like-shaped jobs in arrival order up to maxBatch rows (always at least one). */
  private take(shapeKey: string): Job[] {
    const batch: Job[] = [];
    let rows = 0;
    for (let i = 0; i < this.queue.length; ) {
      const j = this.queue[i]!;
      if (j.shapeKey === shapeKey && (batch.length === 0 || rows + j.rows <= this.options.maxBatch)) {
        batch.push(j);
        rows += j.rows;
        this.queue.splice(i, 1);
        if (rows >= this.options.maxBatch) break;
      } else i++;
    }
    return batch;
  }

  private dispatch(batch: Job[]): void {
    this.running++;
    const rows = batch.reduce((a, j) => a + j.rows, 0);
    this.options.onBatch?.(rows, batch.length);
    let x: Tensor;
    if (batch.length === 1) x = batch[0]!.x;
    else {
      const first = batch[0]!.x;
      const data = new Float32Array(rows * (first.size / first.dims[0]!));
      let offset = 0;
      for (const j of batch) {
        data.set(j.x.data, offset);
        offset += j.x.size;
      }
      x = new Tensor('float32', data, [rows, ...first.dims.slice(1)]);
    }
    this.runner(x)
      .then(
        (results) => {
          if (batch.length === 1) return batch[0]!.resolve(results);
          let row = 0;
          for (const j of batch) {
            const mine: Results = {};
            for (const [name, t] of Object.entries(results)) {
              const per = t.size / t.dims[0]!;
              mine[name] = new Tensor('float32', t.data.slice(row * per, (row + j.rows) * per), [j.rows, ...t.dims.slice(1)]);
            }
            row += j.rows;
            j.resolve(mine);
          }
        },
        (err) => {
          for (const j of batch) j.reject(err);
        },
      )
      .finally(() => {
        this.running--;
        this.pump();
        this.notifyIdle();
      });
  }
}
