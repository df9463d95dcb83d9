// wasi:io/error: the `error` resource streams hand out with `last-operation-failed`. It may carry
// the network error code that `wasi:sockets/network.network-error-code` reports, or the
// filesystem error code that `wasi:filesystem/types.filesystem-error-code` reports.
import type { NetErrorCode } from '../../../net/types.ts';

export class IoError {
  readonly message: string;
  /** Set for errors of sockets (a wasi:sockets error-code name, e.g. 'connection-reset'). */
  readonly socketCode: string | undefined;
  /** The network core's code, when the error came from there. */
  readonly netCode: NetErrorCode | undefined;
  /** Set for errors of file streams (a wasi:filesystem error-code name, e.g. 'no-entry'). */
  readonly fsCode: string | undefined;

  constructor(message: string, opts: { socketCode?: string; netCode?: NetErrorCode; fsCode?: string } = {}) {
    this.message = message;
    this.socketCode = opts.socketCode;
    this.netCode = opts.netCode;
    this.fsCode = opts.fsCode;
  }

  toDebugString(): string {
    return this.message;
  }

  [Symbol.dispose](): void {}
}

/** `stream-error`, as jco lowers it: thrown (a non-Error value) from a host function returning a result. */
export type StreamError = { tag: 'closed' } | { tag: 'last-operation-failed'; val: IoError };

export const CLOSED: StreamError = Object.freeze({ tag: 'closed' });

export function failed(message: string, opts?: ConstructorParameters<typeof IoError>[1]): StreamError {
  return { tag: 'last-operation-failed', val: new IoError(message, opts) };
}
