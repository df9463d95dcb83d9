// A pool of component instances for `wasinet serve`. A component instance runs one export call at a
// time (a call suspended in JSPI cannot be re-entered), so concurrency comes from several instances:
// up to `max`, created on demand, requests queueing beyond. In one-request-per-instance mode every
// instance is used once and discarded, and fresh ones are made ahead of time so a request rarely
// waits for an instantiation.

export interface PoolInstance {
  /** Requests this instance has served (started). */
  served: number;
  /** Releases what the instance holds (its files, its queued output). */
  close(): Promise<void>;
}

export interface PoolOptions<T extends PoolInstance> {
  max: number;
  create: () => Promise<T>;
  /** An instance could not be made (the error is passed on to whoever waited for it). */
  onCreateError?: (err: unknown) => void;
}

interface Waiter<T> {
  resolve: (inst: T) => void;
  reject: (err: unknown) => void;
}

export class InstancePool<T extends PoolInstance> {
  readonly #opts: PoolOptions<T>;
  readonly #idle: T[] = [];
  readonly #waiters: Waiter<T>[] = [];
  /** Instances that exist or are being made (idle, busy, creating). */
  #live = 0;
  #creating = 0;
  #oneShot = false;
  #closed = false;

  constructor(opts: PoolOptions<T>) {
    if (!Number.isInteger(opts.max) || opts.max < 1) throw new RangeError('pool size must be a positive integer');
    this.#opts = opts;
  }

  get oneShot(): boolean {
    return this.#oneShot;
  }

  /** Switches to one request per instance: idle instances that already served are dropped. */
  set oneShot(on: boolean) {
    if (this.#oneShot === on) return;
    this.#oneShot = on;
    if (on) {
      for (let i = this.#idle.length - 1; i >= 0; i--) {
        const inst = this.#idle[i]!;
        if (inst.served > 0) {
          this.#idle.splice(i, 1);
          this.#discard(inst);
        }
      }
      this.#prewarm();
    }
  }

  get size(): number {
    return this.#live;
  }

  get idle(): number {
    return this.#idle.length;
  }

  get queued(): number {
    return this.#waiters.length;
  }

  /** Adds an instance made elsewhere (the one made at startup to check the component). */
  add(inst: T): void {
    this.#live++;
    this.#release(inst);
  }

  /** An instance for one request: an idle one, a new one, or the next one released. */
  acquire(): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('server is shutting down'));
    const inst = this.#idle.pop();
    if (inst) {
      this.#prewarm();
      return Promise.resolve(inst);
    }
    const p = new Promise<T>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (this.#live < this.#opts.max) this.#create();
    return p;
  }

  /** Stops waiting: a queued request whose client went away. */
  cancel(p: Promise<T>): void {
    p.then((inst) => this.release(inst, true), () => undefined);
  }

  /** Returns an instance after a request. `healthy` false (it trapped, or may hold state of a failed
   *  request) discards it; in one-shot mode every used instance is discarded. */
  release(inst: T, healthy: boolean): void {
    if (!healthy || this.#closed || (this.#oneShot && inst.served > 0)) {
      this.#discard(inst);
      if (this.#waiters.length > 0 && this.#live < this.#opts.max) this.#create();
      else this.#prewarm();
      return;
    }
    this.#release(inst);
  }

  #release(inst: T): void {
    const w = this.#waiters.shift();
    if (w) w.resolve(inst);
    else this.#idle.push(inst);
  }

  #discard(inst: T): void {
    this.#live--;
    inst.close().catch(() => undefined);
  }

  /** In one-shot mode, keeps a few fresh instances ready. */
  #prewarm(): void {
    if (!this.#oneShot || this.#closed) return;
    const target = Math.min(this.#opts.max, 4);
    while (this.#idle.length + this.#creating < target && this.#live < this.#opts.max) this.#create();
  }

  #create(): void {
    this.#live++;
    this.#creating++;
    this.#opts.create().then(
      (inst) => {
        this.#creating--;
        if (this.#closed) {
          this.#discard(inst);
          return;
        }
        this.#release(inst);
      },
      (err: unknown) => {
        this.#creating--;
        this.#live--;
        this.#opts.onCreateError?.(err);
        // whoever waited longest gets the error; the others keep waiting for instances in the making
        if (this.#creating < this.#waiters.length) this.#waiters.shift()?.reject(err);
      },
    );
  }

  /** Drops idle instances and refuses new requests; busy instances are discarded as they come back. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w.reject(new Error('server is shutting down'));
    const idle = this.#idle.splice(0);
    this.#live -= idle.length;
    await Promise.all(idle.map((i) => i.close().catch(() => undefined)));
  }
}
