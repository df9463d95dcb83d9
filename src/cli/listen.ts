import { UsageError } from './args.ts';
import type { SocketAddress } from '../net/types.ts';
import { isIP } from 'node:net';

/** Parses a listen address `HOST:PORT` / `[IPv6]:PORT` (host an IP literal or `localhost`). */
export function parseListenAddress(text: string, flag = '--listen'): SocketAddress {
  const m = /^(?:\[([^\]]+)\]|([^:\[\]]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new UsageError(`invalid address "${text}" for ${flag}: expected HOST:PORT or [IPv6]:PORT, port 0-65535`);
  let address = m[1] ?? m[2]!;
  if (address === 'localhost') address = '127.0.0.1';
  const family = isIP(address);
  if (family === 0 || (m[1] !== undefined && family !== 6)) {
    throw new UsageError(`invalid host "${address}" in ${flag} ${text}: expected an IPv4 address, [IPv6] or localhost`);
  }
  return { address, port, family: family as 4 | 6 };
}

export function formatAddress(a: SocketAddress): string {
  return a.family === 6 ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** systemd socket activation: the listening fds passed to this process (from fd 3), if LISTEN_PID is ours. */
export function inheritedListenFds(env: NodeJS.ProcessEnv = process.env): number[] {
  const pid = env.LISTEN_PID;
  const n = Number(env.LISTEN_FDS ?? '0');
  if (pid !== undefined && Number(pid) !== process.pid) return [];
  if (!Number.isInteger(n) || n <= 0) return [];
  return Array.from({ length: n }, (_, i) => 3 + i);
}
