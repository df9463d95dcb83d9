// Audit sinks: one AuditEvent per policy decision.
import { closeSync, openSync, writeSync } from 'node:fs';
import type { AuditEvent, AuditSink } from './types.ts';

/** Appends one JSON line per event. Writes are synchronous so that an event is on disk (in the
 *  OS's hands) before the operation it judges proceeds: nothing is lost if the process exits or
 *  crashes right after. */
export class FileAuditLog implements AuditSink {
  readonly path: string;
  #fd: number | undefined;

  constructor(path: string) {
    this.path = path;
    this.#fd = openSync(path, 'a');
  }

  record(event: AuditEvent): void {
    if (this.#fd === undefined) throw new Error(`audit log ${this.path} is closed`);
    writeSync(this.#fd, JSON.stringify(event) + '\n');
  }

  close(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/** Keeps events in memory, for tests and embedders. */
export class MemoryAuditLog implements AuditSink {
  readonly events: AuditEvent[] = [];

  record(event: AuditEvent): void {
    this.events.push(event);
  }
}
