// Time limits for handler calls without a timer per request: one coarse periodic sweep (a quarter
// of the limit, between 10 ms and 1 s) over the calls in flight, which all share one limit and so
// expire in the order they started. A per-request setTimeout/clearTimeout pair cost more than the
// whole call of a small handler.

interface Entry {
  at: number;
  expire: () => void;
}

export class Deadlines {
  readonly #ms: number;
  readonly #entries = new Set<Entry>();
  readonly #timer: NodeJS.Timeout;

  constructor(limitMs: number) {
    this.#ms = limitMs;
    this.#timer = setInterval(() => this.#sweep(), Math.min(1000, Math.max(10, limitMs / 4)));
    this.#timer.unref();
  }

  /** Settles like `call`, or with `true` once the limit has passed first (`false` when the call
   *  returned in time). A call given up on may still fail later: that is not reported. */
  race(call: Promise<void>): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      const entry: Entry = { at: performance.now() + this.#ms, expire: () => resolve(true) };
      this.#entries.add(entry);
      call.then(
        () => { this.#entries.delete(entry); resolve(false); },
        (e: unknown) => { this.#entries.delete(entry); reject(e); },
      );
    });
  }

  #sweep(): void {
    const now = performance.now();
    for (const e of this.#entries) {
      if (e.at > now) break; // insertion order is deadline order
      this.#entries.delete(e);
      e.expire();
    }
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
