import type { Network, TcpListener } from '../../net/types.ts';
import { GuestMemory } from './memory.ts';
import { FdTable } from './fds.ts';

/** A host directory the guest sees under `guest` (`--dir HOST::GUEST`). */
export interface Preopen {
  host: string;
  guest: string;
}

export interface P1Options {
  args: readonly string[];
  env: Readonly<Record<string, string>>;
  preopens: readonly Preopen[];
  /** Listening sockets the operator opened for the guest; they follow the preopened directories. */
  listeners: readonly TcpListener[];
  network: Network;
  /** Host fds used for the guest's stdin, stdout and stderr (default 0, 1, 2). */
  stdio?: readonly [number, number, number];
}

/** Everything one p1 guest instance owns: its memory, fd table and network. */
export class P1Context {
  readonly mem = new GuestMemory();
  readonly fds = new FdTable();
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly net: Network;
  readonly options: P1Options;

  constructor(options: P1Options) {
    this.options = options;
    this.args = options.args;
    this.env = Object.entries(options.env).map(([k, v]) => `${k}=${v}`);
    this.net = options.network;
  }
}

/** An import function: returns an errno (or a value), synchronously or, for suspending imports, as a Promise. */
export type ImportFn = (...args: any[]) => number | bigint | void | Promise<number>;

/** A part of the p1 binding: its import functions, and the names among them that may suspend the guest. */
export interface ImportGroup {
  functions: Record<string, ImportFn>;
  suspending?: readonly string[];
}
