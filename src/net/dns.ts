// Name resolution. getaddrinfo (dns.lookup) rather than a DNS client, so that /etc/hosts and the
// system's resolver configuration apply exactly as for a native program (`localhost` works).
// Answers are pinned with the checker so that a grant naming a host covers the addresses the guest
// was actually given, for a while.
import dns from 'node:dns';
import { isIP } from 'node:net';
import type { GuestContext } from './context.ts';
import { normalizeIp } from './address.ts';
import { NetError } from './types.ts';

/** getaddrinfo reports no TTLs: pins last this long. */
export const DEFAULT_DNS_TTL_MS = 60_000;

const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'EAI_NONAME', 'EAI_NODATA', 'EAI_ADDRFAMILY', 'ENOENT']);

/** Lower-case, one trailing dot dropped: the form the policy matches names in. */
export function normalizeName(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

export async function resolveName(ctx: GuestContext, name: string, family: 0 | 4 | 6 = 0, ttlMs = DEFAULT_DNS_TTL_MS): Promise<string[]> {
  return startResolve(ctx, name, family, ttlMs);
}

/** resolveName's checks (validation, policy) happen before it returns, and throw synchronously;
 *  the promise is the resolver's answer. */
export function startResolve(ctx: GuestContext, name: string, family: 0 | 4 | 6 = 0, ttlMs = DEFAULT_DNS_TTL_MS): Promise<string[]> {
  ctx.ensureOpen();
  if (typeof name !== 'string') throw new NetError('EINVAL', 'name must be a string');
  if (family !== 0 && family !== 4 && family !== 6) throw new NetError('EINVAL', `bad address family ${family}`);
  let host = normalizeName(name);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);

  // An IP literal needs no resolver and no lookup grant: it names itself. Whatever the guest does
  // with it (connect, send) is judged then.
  const literal = normalizeIp(host, false);
  if (literal !== null) {
    if (family !== 0 && isIP(literal) !== family) return Promise.reject(new NetError('ENOENT', `${host} is not an IPv${family} address`));
    return Promise.resolve([literal]);
  }
  if (host.length === 0 || host.length > 253 || !/^[\x21-\x7e]+$/.test(host) || host.includes('..')) {
    throw new NetError('EINVAL', `invalid host name: ${JSON.stringify(name)}`);
  }

  ctx.require({ direction: 'lookup', name: host });
  return resolveHost(ctx, host, family, ttlMs);
}

async function resolveHost(ctx: GuestContext, host: string, family: 0 | 4 | 6, ttlMs: number): Promise<string[]> {
  let answers: dns.LookupAddress[];
  try {
    answers = await dns.promises.lookup(host, { all: true, family, order: 'verbatim' });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && NOT_FOUND.has(code)) throw new NetError('ENOENT', `${host}: no such name`);
    throw new NetError('EIO', `${host}: lookup failed (${String(code ?? err)})`, { temporary: code === 'EAI_AGAIN' || code === 'ETIMEOUT' });
  }
  const addresses: string[] = [];
  for (const a of answers) {
    const ip = normalizeIp(a.address, false);
    if (ip !== null && !addresses.includes(ip)) addresses.push(ip);
  }
  if (addresses.length === 0) throw new NetError('ENOENT', `${host}: no addresses`);
  // the policy matches addresses in folded form (IPv4-mapped → IPv4)
  const pinned = [...new Set(addresses.map((a) => normalizeIp(a) ?? a))];
  try {
    ctx.checker.pin(host, pinned, ttlMs);
  } catch (err) {
    throw new NetError('EIO', `${host}: could not pin answers (${err instanceof Error ? err.message : String(err)})`);
  }
  return addresses;
}
