// Per-guest state every socket shares: the policy checker, the limits, the accounting and the
// socket-slot count. Kept apart from core.ts so tcp.ts/udp.ts depend on it without a cycle.
import type { PolicyChecker, Request } from '../policy/types.ts';
import { SendBlocks } from './send-blocks.ts';
import { NetError, type Accounting, type Limits } from './types.ts';

export interface Closable {
  close(): void;
}

export class GuestContext {
  readonly guest: string;
  readonly checker: PolicyChecker;
  readonly limits: Readonly<Limits>;
  readonly accounting: Accounting = {
    connectionsOpened: 0, connectionsRefused: 0, bytesIn: 0, bytesOut: 0, datagramsIn: 0, datagramsOut: 0,
    datagramsDropped: 0,
  };
  /** Buffers for the copies of what the guest sends (shared by its connections). */
  readonly sendBlocks = new SendBlocks();
  /** Sockets holding a slot (plus in-flight connects), for limits.maxSockets. */
  #slots = 0;
  /** Everything close() must reach: listeners, connections (also not-yet-accepted ones), UDP sockets. */
  readonly #live = new Set<Closable>();
  #closed = false;

  constructor(guest: string, checker: PolicyChecker, limits: Limits) {
    this.guest = guest;
    this.checker = checker;
    this.limits = Object.freeze({ ...limits });
  }

  get closed(): boolean {
    return this.#closed;
  }

  get openSockets(): number {
    return this.#slots;
  }

  /** Asks the policy (which audits). Every denial counts as refused. A checker that throws denies:
   *  a broken policy must fail closed. */
  allows(req: Request): boolean {
    let allow = false;
    try {
      allow = this.checker.check(req).allow === true;
    } catch {
      allow = false;
    }
    if (!allow) this.accounting.connectionsRefused++;
    return allow;
  }

  /** Reports something allowed that the host had no room for (audited, summed up by the checker). */
  dropped(req: Request, reason: string): void {
    try {
      this.checker.dropped(req, reason);
    } catch { /* an audit sink failing must not take the socket down */ }
  }

  /** allows(), throwing EACCES on denial. */
  require(req: Request): void {
    if (!this.allows(req)) {
      const where = req.name ?? (req.address !== undefined ? `${req.address}:${req.port ?? ''}` : '');
      throw new NetError('EACCES', `${req.direction}${req.transport ? `/${req.transport}` : ''} ${where} denied by policy`);
    }
  }

  ensureOpen(): void {
    if (this.#closed) throw new NetError('EIO', 'network closed');
  }

  /** Takes a socket slot, EMFILE at the limit. The caller must release() it exactly once. */
  acquire(): void {
    if (this.#slots >= this.limits.maxSockets) throw new NetError('EMFILE', `socket limit ${this.limits.maxSockets} reached`);
    this.#slots++;
  }

  release(): void {
    this.#slots--;
  }

  track(s: Closable): void {
    this.#live.add(s);
  }

  untrack(s: Closable): void {
    this.#live.delete(s);
  }

  closeAll(): void {
    this.#closed = true;
    try { this.checker.flush(); } catch { /* as in dropped() */ }
    for (const s of [...this.#live]) {
      try { s.close(); } catch { /* closing the rest matters more */ }
    }
    this.#live.clear();
  }
}
