// What one WASI 0.2 component instance owns, and the shape of the host's interface modules.
import type { Network } from '../../net/types.ts';
import type { Preopen } from '../p1/context.ts';

export interface P2Options {
  args: readonly string[];
  env: Readonly<Record<string, string>>;
  preopens: readonly Preopen[];
  network: Network;
  /** Host fds for stdin, stdout, stderr (default 0, 1, 2). */
  stdio?: readonly [number, number, number];
}

export class P2Context {
  readonly options: P2Options;
  readonly net: Network;
  readonly #cleanups: (() => void | Promise<void>)[] = [];
  #closed = false;

  constructor(options: P2Options) {
    this.options = options;
    this.net = options.network;
  }

  /** Registers something to release when the instance is done: files the guest left open, output
   *  still queued for stdout, ... Run by close(), last registered first. */
  defer(cleanup: () => void | Promise<void>): void {
    if (this.#closed) throw new Error('P2Context already closed');
    this.#cleanups.push(cleanup);
  }

  /** Runs every cleanup once (errors are swallowed: the guest is gone, and each must run). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of this.#cleanups.reverse()) {
      try {
        await c();
      } catch { /* best effort */ }
    }
    this.#cleanups.length = 0;
  }
}

/** One interface's host implementation, as jco expects it: functions and resource classes, keyed by
 *  their JS names (`subscribeDuration`, `TcpSocket`). */
export type InterfaceImpl = Record<string, unknown>;

/** A host module: implementations of one or more interfaces, keyed by unversioned interface name
 *  (`wasi:io/poll`). Every function and class of each interface must be there, used or not. */
export type HostModule = (ctx: P2Context) => Record<string, InterfaceImpl>;
