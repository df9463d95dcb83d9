// Node reports socket and resolver failures as `err.code` strings; the core speaks NetErrorCode only,
// so every error leaving src/net goes through here.
import { NetError, type NetErrorCode } from './types.ts';

const CODES: Readonly<Record<string, NetErrorCode>> = {
  EACCES: 'EACCES',
  EPERM: 'EACCES',
  EAGAIN: 'EAGAIN',
  EWOULDBLOCK: 'EAGAIN',
  EADDRINUSE: 'EADDRINUSE',
  EADDRNOTAVAIL: 'EADDRNOTAVAIL',
  ECONNREFUSED: 'ECONNREFUSED',
  ECONNRESET: 'ECONNRESET',
  ECONNABORTED: 'ECONNABORTED',
  EHOSTUNREACH: 'EHOSTUNREACH',
  EHOSTDOWN: 'EHOSTUNREACH',
  ENETUNREACH: 'ENETUNREACH',
  ENETDOWN: 'ENETUNREACH',
  ETIMEDOUT: 'ETIMEDOUT',
  EPIPE: 'EPIPE',
  ENOTCONN: 'ENOTCONN',
  EMFILE: 'EMFILE',
  ENFILE: 'EMFILE',
  ENOBUFS: 'ENOBUFS',
  ENOMEM: 'ENOBUFS',
  EINVAL: 'EINVAL',
  EAFNOSUPPORT: 'EINVAL',
  EMSGSIZE: 'EINVAL', // no EMSGSIZE in the contract: the datagram is an invalid argument
  ENOENT: 'ENOENT',
  // resolver answers meaning "no such name / no address of that family"
  ENOTFOUND: 'ENOENT',
  ENODATA: 'ENOENT',
  EAI_NONAME: 'ENOENT',
  EAI_NODATA: 'ENOENT',
  EAI_ADDRFAMILY: 'ENOENT',
  // Node's own argument and stream-state errors
  ERR_SOCKET_BAD_PORT: 'EINVAL',
  ERR_INVALID_ADDRESS: 'EINVAL',
  ERR_INVALID_IP_ADDRESS: 'EINVAL',
  ERR_INVALID_ARG_VALUE: 'EINVAL',
  ERR_INVALID_ARG_TYPE: 'EINVAL',
  ERR_OUT_OF_RANGE: 'EINVAL',
  ERR_STREAM_DESTROYED: 'EPIPE',
  ERR_STREAM_WRITE_AFTER_END: 'EPIPE',
  ERR_SOCKET_CLOSED: 'EPIPE',
  ERR_SOCKET_DGRAM_NOT_RUNNING: 'EPIPE',
  ERR_SOCKET_CONNECTION_TIMEOUT: 'ETIMEDOUT',
};

/** The NetErrorCode for a Node error code string; `fallback` (EIO) for anything unknown. */
export function mapErrorCode(code: unknown, fallback: NetErrorCode = 'EIO'): NetErrorCode {
  return typeof code === 'string' && Object.hasOwn(CODES, code) ? CODES[code]! : fallback;
}

/** Wraps anything thrown or emitted by Node as a NetError (a NetError passes through unchanged). */
export function toNetError(err: unknown, fallback: NetErrorCode = 'EIO'): NetError {
  if (err instanceof NetError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return new NetError(mapErrorCode(code, fallback), message);
}
