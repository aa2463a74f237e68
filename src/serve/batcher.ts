// Dynamic batching: requests that arrive close together are concatenated along the
// batch dimension (dim 0) into one run, and each gets its own rows of the outputs back.
//
// Fairness: requests wait in one lane per client (FairQueue), and a batch is filled one
// request per client per round, so one client cannot push the others back by queueing
// many requests or big ones. Admission counts rows, not requests: a full queue sheds the
// newest work of the client holding the most rows when the arriving client holds less
// than its share, and otherwise rejects the arrival (QueueFullError).
//
// A batch leaves when it is full (maxBatch rows), or when the oldest waiting request has
// waited windowMs, and only while fewer than `concurrency` batches are running. An
// aborted request leaves the queue, or, if its batch is already running, has its rows dropped.
import { Tensor } from '../tensor.js';
import type { Results } from '../model.js';
import { FairQueue } from './fair.js';

export type BatchRunner = (x: Tensor) => Promise<Results>;

export interface BatcherOptions {
  /** Most rows in one batch. 1 turns batching off. */
  maxBatch: number;
  /** How long the oldest waiting request may wait for company, in ms. 0 sends at once. */
  windowMs: number;
  /** Most rows waiting (not yet running); more get QueueFullError. */
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
  client: string;
  /** The non-batch dims, joined, so only like-shaped requests are batched together. */
  shapeKey: string;
  arrived: number;
  resolve: (r: Results) => void;
  reject: (e: unknown) => void;
  settled: boolean;
  cleanup: () => void;
}

const sumRows = (jobs: readonly Job[]) => jobs.reduce((a, j) => a + j.rows, 0);

export class Batcher {
  private queue = new FairQueue<Job>();
  private rowsQueued = 0;
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];
  readonly options: BatcherOptions;

  constructor(private readonly runner: BatchRunner, options: BatcherOptions) {
    this.options = { ...options, maxBatch: Math.max(1, options.maxBatch), concurrency: Math.max(1, options.concurrency) };
  }

  /** Requests waiting to run. */
  get depth(): number {
    return this.queue.size;
  }

  /** Rows waiting to run. */
  get rows(): number {
    return this.rowsQueued;
  }

  /** Batches running now. */
  get inFlight(): number {
    return this.running;
  }

  /** Queues x ([rows, ...]) in `client`'s lane; resolves with this request's rows of every output. */
  submit(x: Tensor, signal?: AbortSignal, client = ''): Promise<Results> {
    if (signal?.aborted) return Promise.reject(new AbortedError('request aborted before it was queued'));
    const rows = x.dims[0]!;
    if (!this.admit(client, rows)) {
      return Promise.reject(new QueueFullError(`the queue is full (${this.rowsQueued} of ${this.options.queueLimit} rows waiting)`));
    }
    return new Promise<Results>((resolve, reject) => {
      const job: Job = {
        x,
        rows,
        client,
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
          this.unqueue(job);
          job.reject(signal.reason instanceof Error ? signal.reason : new AbortedError('request aborted'));
          this.notifyIdle();
        };
        signal.addEventListener('abort', onAbort, { once: true });
        job.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      this.queue.push(client, job);
      this.rowsQueued += rows;
      this.pump();
    });
  }

  /** Resolves when nothing is queued or running. */
  drain(): Promise<void> {
    if (this.queue.size === 0 && this.running === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Sends whatever is queued without waiting for the window (used while shutting down). */
  flush(): void {
    this.options.windowMs = 0;
    this.pump();
  }

  /**
   * Makes room for `rows` from `client`, or says no. Past the limit, a client holding less
   * than an equal share of the queue takes room from the client holding the most.
   */
  private admit(client: string, rows: number): boolean {
    const limit = this.options.queueLimit;
    if (this.rowsQueued + rows <= limit) return true;
    if (rows > limit) return false;
    const lanes = this.queue.entries();
    const share = limit / (lanes.length + (lanes.some(([k]) => k === client) ? 0 : 1));
    const mine = sumRows(this.queue.itemsOf(client));
    if (mine + rows > share) return false;
    while (this.rowsQueued + rows > limit) {
      let biggest: Job[] | undefined;
      for (const [k, jobs] of this.queue.entries()) if (k !== client && (!biggest || sumRows(jobs) > sumRows(biggest))) biggest = jobs;
      if (!biggest || sumRows(biggest) <= share) return false;
      const victim = biggest[biggest.length - 1]!;
      this.unqueue(victim);
      victim.reject(new QueueFullError(`the queue is full (${limit} rows) and this client holds more than its share; the request was shed`));
    }
    return true;
  }

  /**
   * Whether a request of one row from `client` would be refused now: lets the server say 503
   * before reading a body it would then drop.
   */
  refuses(client: string): boolean {
    const limit = this.options.queueLimit;
    if (this.rowsQueued < limit) return false;
    const lanes = this.queue.entries();
    const share = limit / (lanes.length + (lanes.some(([k]) => k === client) ? 0 : 1));
    if (sumRows(this.queue.itemsOf(client)) + 1 > share) return true;
    return !lanes.some(([k, jobs]) => k !== client && sumRows(jobs) > share);
  }

  private unqueue(job: Job): void {
    if (this.queue.remove(job)) this.rowsQueued -= job.rows;
  }

  private notifyIdle(): void {
    if (this.queue.size === 0 && this.running === 0) for (const f of this.idleWaiters.splice(0)) f();
  }

  private pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.running < this.options.concurrency && this.queue.size > 0) {
      const { maxBatch, windowMs } = this.options;
      const heads = this.queue.heads();
      const shapeKey = heads[0]!.shapeKey;
      let rows = 0;
      for (const [, jobs] of this.queue.entries()) for (const j of jobs) if (j.shapeKey === shapeKey) rows += j.rows;
      const waited = performance.now() - Math.min(...heads.map((j) => j.arrived));
      if (rows < maxBatch && waited < windowMs) {
        this.timer = setTimeout(() => this.pump(), Math.max(1, Math.ceil(windowMs - waited)));
        return;
      }
      this.dispatch(this.take(shapeKey));
    }
  }

  /** Takes like-shaped jobs one per client per round, up to maxBatch rows (always at least one). */
  private take(shapeKey: string): Job[] {
    const max = this.options.maxBatch;
    let rows = 0;
    const batch = this.queue.takeRounds((j, taken) => {
      if (taken.length > 0 && (j.shapeKey !== shapeKey || rows + j.rows > max)) return 'skip';
      rows += j.rows;
      return rows >= max ? 'stop' : 'take';
    });
    this.rowsQueued -= sumRows(batch);
    return batch;
  }

  private dispatch(batch: Job[]): void {
    this.running++;
    const rows = sumRows(batch);
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
