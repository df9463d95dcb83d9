// Sums up audit events that can come by the thousand: UDP datagrams (each one is judged) and what the
// core drops for want of room. The first event of a kind is written at once; later ones within
// SUMMARY_MS of the last line are counted and written as one event, with `count` and the fields of
// the latest, when that interval is over (or at flush()). A flood thus costs a line a second per
// kind, and nothing goes unrecorded.
import type { AuditEvent, AuditSink } from './types.ts';

export const SUMMARY_MS = 1000;
/** Kinds tracked at most; past it (a flood from very many peers) new kinds are written as they come. */
const MAX_KINDS = 4096;

interface Tally {
  /** When the last line of this kind was written. */
  last: number;
  /** Events since then, not yet written. */
  count: number;
  latest: AuditEvent;
  timer: NodeJS.Timeout | undefined;
}

export class AuditSummary {
  readonly #sink: AuditSink;
  readonly #now: () => number;
  readonly #tallies = new Map<string, Tally>();

  constructor(sink: AuditSink, now: () => number) {
    this.#sink = sink;
    this.#now = now;
  }

  /** Records `event`, one of the kind `key`. */
  record(key: string, event: AuditEvent): void {
    const now = this.#now();
    const tally = this.#tallies.get(key);
    if (tally === undefined || (tally.timer === undefined && now - tally.last >= SUMMARY_MS)) {
      if (tally === undefined && this.#tallies.size >= MAX_KINDS) this.#prune(now);
      if (tally !== undefined || this.#tallies.size < MAX_KINDS) {
        this.#tallies.set(key, { last: now, count: 0, latest: event, timer: undefined });
      }
      this.#sink.record({ ...event, count: 1 });
      return;
    }
    tally.count++;
    tally.latest = event;
    if (tally.timer === undefined) {
      tally.timer = setTimeout(() => this.#write(tally), Math.max(0, tally.last + SUMMARY_MS - now));
      tally.timer.unref();
    }
  }

  /** Writes every count still held. */
  flush(): void {
    for (const tally of this.#tallies.values()) {
      clearTimeout(tally.timer);
      this.#write(tally);
    }
  }

  #write(tally: Tally): void {
    tally.timer = undefined;
    if (tally.count === 0) return;
    this.#sink.record({ ...tally.latest, count: tally.count });
    tally.last = this.#now();
    tally.count = 0;
  }

  /** Forgets kinds with nothing held and no line in the last interval. */
  #prune(now: number): void {
    for (const [key, tally] of this.#tallies) {
      if (tally.timer === undefined && now - tally.last >= SUMMARY_MS) this.#tallies.delete(key);
    }
  }
}
