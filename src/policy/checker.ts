// Per-guest front of the policy: decides, audits, reports denials, and keeps the pin table that
// lets host-name rules apply to the addresses a lookup of that name returned.
import { normalizeAddress, normalizeName } from './address.ts';
import type { Policy } from './policy.ts';
import type { AuditEvent, AuditSink, Decision, PolicyChecker, Request } from './types.ts';

export interface CheckerOptions {
  guest: string;
  audit?: AuditSink;
  /** Called for every denial (the network core counts them). */
  onDeny?: (req: Request, d: Decision) => void;
  /** Clock in ms, injectable for tests. */
  now?: () => number;
}

const NO_NAMES: readonly string[] = [];
/** Drops of one kind are written at most once per this many ms (the first at once). */
export const DROP_SUMMARY_MS = 1000;

/** Drops of one kind (direction, transport, reason) not yet written, and when that kind last was. */
interface DropTally {
  reason: string;
  last: number;
  count: number;
  req: Request;
  timer: NodeJS.Timeout | undefined;
}
/** Sweep the whole pin table every this many pins, so names never connected to do not pile up. */
const SWEEP_EVERY = 256;

export class Checker implements PolicyChecker {
  readonly policy: Policy;
  readonly guest: string;
  readonly #audit: AuditSink | undefined;
  readonly #onDeny: ((req: Request, d: Decision) => void) | undefined;
  readonly #now: () => number;
  /** address → (name → expiry ms). */
  readonly #pins = new Map<string, Map<string, number>>();
  #pinsSinceSweep = 0;
  readonly #drops = new Map<string, DropTally>();

  constructor(policy: Policy, opts: CheckerOptions) {
    this.policy = policy;
    this.guest = opts.guest;
    this.#audit = opts.audit;
    this.#onDeny = opts.onDeny;
    this.#now = opts.now ?? Date.now;
  }

  check(req: Request): Decision {
    const d = this.policy.decide(req, this.#namesFor);
    if (this.#audit !== undefined) this.#record(req, d.allow ? 'allow' : 'deny', d.rule, d.name);
    if (!d.allow) this.#onDeny?.(req, d);
    return d;
  }

  /** The first drop of a kind is written at once; later ones within DROP_SUMMARY_MS are counted and
   *  written as one line (with the last one's address) when that second is over. */
  dropped(req: Request, reason: string): void {
    if (this.#audit === undefined) return;
    const key = `${req.direction}/${req.transport ?? ''}/${reason}`;
    const now = this.#now();
    const tally = this.#drops.get(key);
    if (tally === undefined || (tally.timer === undefined && now - tally.last >= DROP_SUMMARY_MS)) {
      this.#drops.set(key, { reason, last: now, count: 0, req, timer: undefined });
      this.#record(req, 'drop', reason, undefined, 1);
      return;
    }
    tally.count++;
    tally.req = req;
    if (tally.timer === undefined) {
      tally.timer = setTimeout(() => this.#writeDrops(tally), Math.max(0, tally.last + DROP_SUMMARY_MS - now));
      tally.timer.unref();
    }
  }

  flush(): void {
    for (const tally of this.#drops.values()) {
      clearTimeout(tally.timer);
      this.#writeDrops(tally);
    }
  }

  #writeDrops(tally: DropTally): void {
    tally.timer = undefined;
    if (tally.count === 0) return;
    this.#record(tally.req, 'drop', tally.reason, undefined, tally.count);
    tally.last = this.#now();
    tally.count = 0;
  }

  #record(req: Request, decision: AuditEvent['decision'], rule: string, pinned: string | undefined, count?: number): void {
    // Absent fields are left out rather than set to undefined, so events compare and print cleanly.
    const event: AuditEvent = { time: new Date(this.#now()).toISOString(), guest: this.guest, op: req.direction } as AuditEvent;
    if (req.transport !== undefined) event.transport = req.transport;
    if (req.address !== undefined) event.address = normalizeAddress(req.address) ?? req.address;
    if (req.port !== undefined) event.port = req.port;
    const name = req.name !== undefined ? normalizeName(req.name) : pinned;
    if (name !== undefined) event.name = name;
    event.decision = decision;
    event.rule = rule;
    if (count !== undefined) event.count = count;
    this.#audit!.record(event);
  }

  pin(name: string, addresses: readonly string[], ttlMs: number): void {
    const n = normalizeName(name);
    const expiry = this.#now() + ttlMs;
    for (const a of addresses) {
      const address = normalizeAddress(a);
      if (address === null) continue;
      let names = this.#pins.get(address);
      if (names === undefined) this.#pins.set(address, (names = new Map()));
      // A later answer replaces the expiry, even if shorter: the newest TTL is the truth.
      names.set(n, expiry);
    }
    if (++this.#pinsSinceSweep >= SWEEP_EVERY) this.#sweep();
  }

  /** Unexpired names pinned for a normalised address; expired ones are pruned on the way. */
  readonly #namesFor = (address: string): readonly string[] => {
    const names = this.#pins.get(address);
    if (names === undefined) return NO_NAMES;
    const now = this.#now();
    let out: string[] | undefined;
    for (const [name, expiry] of names) {
      if (expiry <= now) names.delete(name);
      else (out ??= []).push(name);
    }
    if (names.size === 0) this.#pins.delete(address);
    return out ?? NO_NAMES;
  };

  #sweep(): void {
    this.#pinsSinceSweep = 0;
    const now = this.#now();
    for (const [address, names] of this.#pins) {
      for (const [name, expiry] of names) if (expiry <= now) names.delete(name);
      if (names.size === 0) this.#pins.delete(address);
    }
  }
}
