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

  constructor(options: P2Options) {
    this.options = options;
    this.net = options.network;
  }
}

/** One interface's host implementation, as jco expects it: functions and resource classes, keyed by
 *  their JS names (`subscribeDuration`, `TcpSocket`). */
export type InterfaceImpl = Record<string, unknown>;

/** A host module: implementations of one or more interfaces, keyed by unversioned interface name
 *  (`wasi:io/poll`). Every function and class of each interface must be there, used or not. */
export type HostModule = (ctx: P2Context) => Record<string, InterfaceImpl>;
