// Round-robin across clients: each client (a key: its address) has its own FIFO lane,
// and work is taken one item per lane per round, starting from the lane after the one
// served first last time (so a lane that arrived since goes before that one again).
// A client sending one request at a time therefore waits behind at most one item of
// each other active client, however many the others queue.

export class FairQueue<T> {
  /** Lanes in ring order (Map keeps insertion order; an emptied lane is dropped). */
  private lanes = new Map<string, T[]>();
  /** The lane served first last time: the next round starts with the lane after it (which may have arrived since). */
  private after: string | undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  get laneCount(): number {
    return this.lanes.size;
  }

  push(key: string, item: T): void {
    let lane = this.lanes.get(key);
    if (!lane) this.lanes.set(key, (lane = []));
    lane.push(item);
    this.count++;
  }

  /** Removes one item wherever it is; false if it was not queued. */
  remove(item: T): boolean {
    for (const [key, lane] of this.lanes) {
      const i = lane.indexOf(item);
      if (i < 0) continue;
      lane.splice(i, 1);
      this.count--;
      if (lane.length === 0) this.dropLane(key);
      return true;
    }
    return false;
  }

  /** The items of one key, oldest first (a copy). */
  itemsOf(key: string): T[] {
    return [...(this.lanes.get(key) ?? [])];
  }

  /** Every lane's key and items (copies), in ring order. */
  entries(): [string, T[]][] {
    return [...this.lanes].map(([k, l]) => [k, [...l]]);
  }

  /** The head of each lane, starting with the lane whose turn it is. */
  heads(): T[] {
    return this.ring().map((k) => this.lanes.get(k)![0]!);
  }

  /** The item that would be served first. */
  peek(): T | undefined {
    return this.heads()[0];
  }

  /** Takes the next item in round-robin order. */
  shift(): T | undefined {
    return this.takeRounds(() => 'stop')[0];
  }

  /**
   * Takes items round by round: each round offers every lane's head, in ring order, to
   * `accept`, which answers 'take', 'skip' (leave this lane for this round) or 'stop'
   * (take it, then end). Rounds repeat while a round takes something. The first item
   * offered is always taken. The turn moves to the lane after the first one served.
   */
  takeRounds(accept: (item: T, taken: readonly T[]) => 'take' | 'skip' | 'stop'): T[] {
    const order = this.ring();
    if (order.length === 0) return [];
    const taken: T[] = [];
    let progress = true;
    while (progress) {
      progress = false;
      for (const key of order) {
        const lane = this.lanes.get(key);
        const head = lane?.[0];
        if (head === undefined) continue;
        const verdict = taken.length === 0 ? (accept(head, taken) === 'stop' ? 'stop' : 'take') : accept(head, taken);
        if (verdict === 'skip') continue;
        lane!.shift();
        this.count--;
        taken.push(head);
        progress = true;
        if (verdict === 'stop') {
          this.finishTake(order);
          return taken;
        }
      }
    }
    this.finishTake(order);
    return taken;
  }

  private finishTake(order: string[]): void {
    this.after = order[0];
    for (const key of order) if (this.lanes.get(key)?.length === 0) this.dropLane(key);
  }

  private dropLane(key: string): void {
    if (this.after === key) {
      // Keep the ring's place: start after the lane before the dropped one.
      const keys = [...this.lanes.keys()];
      const before = keys[(keys.indexOf(key) - 1 + keys.length) % keys.length];
      this.after = before === key ? undefined : before;
    }
    this.lanes.delete(key);
  }

  /** Lane keys starting from the one after the lane served first last time. */
  private ring(): string[] {
    const keys = [...this.lanes.keys()];
    const at = this.after === undefined ? 0 : (keys.indexOf(this.after) + 1) % keys.length;
    return [...keys.slice(at), ...keys.slice(0, at)];
  }
}

/**
 * At most `limit` holders at once; waiters are let in round-robin across clients.
 * Used for image decoding, where one client's many large images would otherwise take
 * every decoding thread.
 */
export class FairGate {
  private holders = 0;
  private waiting = new FairQueue<{ go: () => void }>();
  constructor(readonly limit: number) {}

  /** Resolves with a release function once the caller may go; rejects if the signal aborts first. */
  acquire(client: string, signal: AbortSignal): Promise<() => void> {
    return new Promise((resolve, reject) => {
      const release = () => {
        let once = true;
        return () => {
          if (!once) return;
          once = false;
          this.holders--;
          this.waiting.shift()?.go();
        };
      };
      if (this.holders < this.limit) {
        this.holders++;
        return resolve(release());
      }
      const onAbort = () => {
        this.waiting.remove(entry);
        reject(signal.reason);
      };
      const entry = {
        go: () => {
          signal.removeEventListener('abort', onAbort);
          this.holders++;
          resolve(release());
        },
      };
      if (signal.aborted) return reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(client, entry);
    });
  }
}
