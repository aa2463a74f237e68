// The per-input-shape plans of a Model, as an LRU whose host arenas count
// against one budget (maxMemoryBytes) together with the weights: a server fed
// every batch size from 1 to 40 holds as many plans as fit, not 40. An evicted
// plan frees its arenas and its backend executor (native plan handle, device
// arena); a plan with a run in flight is never evicted.
import { formatBytes, MemoryLimitError } from '../limits.js';

export interface CachedPlan {
  /** Bytes of one host arena of this plan. */
  readonly arenaBytes: number;
  /** Arenas allocated now (idle and in use). */
  arenas: number;
  /** Arenas lent to runs now. */
  inUse: number;
}

export class PlanCache<P extends CachedPlan> {
  private readonly plans = new Map<string, P>();
  private arenaTotal = 0;

  constructor(
    /** The budget (Infinity: none). */
    private readonly limitBytes: number,
    /** What counts against it besides the arenas (the weights, and their packed copy). */
    private readonly fixedBytes: number,
    /** Frees an evicted plan's arenas and executor. */
    private readonly free: (plan: P) => void,
  ) {}

  /** Weights plus every arena of every cached plan. */
  get totalBytes(): number {
    return this.fixedBytes + this.arenaTotal;
  }

  get size(): number {
    return this.plans.size;
  }

  /** The plan for `key`, now the most recently used; undefined when not cached. */
  get(key: string): P | undefined {
    const p = this.plans.get(key);
    if (p) {
      this.plans.delete(key);
      this.plans.set(key, p);
    }
    return p;
  }

  add(key: string, plan: P): void {
    this.plans.set(key, plan);
  }

  /**
   * Accounts one more arena of `plan`, evicting idle plans (least recently
   * used first) until it fits; throws MemoryLimitError naming the figures when
   * even that is not enough (the other arenas are all in use by runs in flight).
   */
  takeArena(where: string, plan: P): void {
    for (const [key, other] of this.plans) {
      if (this.totalBytes + plan.arenaBytes <= this.limitBytes) break;
      if (other === plan || other.inUse > 0) continue;
      this.plans.delete(key);
      this.arenaTotal -= other.arenaBytes * other.arenas;
      other.arenas = 0;
      this.free(other);
    }
    if (!(this.totalBytes + plan.arenaBytes <= this.limitBytes)) {
      throw new MemoryLimitError(
        `${where}: another activation arena (${formatBytes(plan.arenaBytes)}) would take the model past maxMemoryBytes = ${formatBytes(this.limitBytes)} (${this.limitBytes} bytes): `
        + `weights and their packed copy ${formatBytes(this.fixedBytes)}, arenas of runs in flight ${formatBytes(this.arenaTotal)}; wait for runs to finish or raise options.maxMemoryBytes`,
        this.totalBytes + plan.arenaBytes, this.limitBytes,
      );
    }
    plan.arenas++;
    this.arenaTotal += plan.arenaBytes;
  }

  /** Drops every plan (Model.dispose), freeing each. */
  clear(): void {
    for (const p of this.plans.values()) this.free(p);
    this.plans.clear();
    this.arenaTotal = 0;
  }
}
