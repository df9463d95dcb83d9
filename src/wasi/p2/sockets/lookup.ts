// wasi:sockets/ip-name-lookup over the network core's lookup: the policy (lookup grant, and the
// answers pinned for host-name grants) exactly as for every other ABI.
import { domainToASCII } from 'node:url';
import { NetError } from '../../../net/types.ts';
import { normalizeIp } from '../../../net/address.ts';
import { Pollable } from '../io/poll.ts';
import { Readiness } from '../../../net/pollable.ts';
import { errorCode, Settled, toIpAddress, type ErrorCode, type IpAddress } from './common.ts';
import { checkNetwork, type SocketsContext } from './network.ts';

function resolverError(e: unknown): ErrorCode {
  if (e instanceof NetError && e.code === 'EIO') return e.temporary ? 'temporary-resolver-failure' : 'permanent-resolver-failure';
  return errorCode(e);
}

export class ResolveAddressStream {
  readonly #op: Settled<string[]>;
  readonly #ready: Readiness;
  #next = 0;

  constructor(p: Promise<string[]>) {
    this.#ready = new Readiness(() => this.#op.done);
    this.#op = new Settled(p, () => this.#ready.notify());
  }

  resolveNextAddress(): IpAddress | undefined {
    const op = this.#op;
    if (!op.done) throw 'would-block';
    if (!op.ok) throw resolverError(op.error);
    const list = op.value!;
    if (this.#next >= list.length) return undefined;
    // never an IPv4-mapped IPv6 address
    return toIpAddress(list[this.#next++]!, true);
  }

  subscribe(): Pollable {
    return Pollable.of(this.#ready);
  }

  [Symbol.dispose](): void {}
}

/** The name as the resolver gets it: an IP literal as is, a domain name in ASCII (IDNA). */
function asciiName(name: string): string {
  if (typeof name !== 'string' || name.length === 0) throw 'invalid-argument';
  const bare = name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
  if (normalizeIp(bare, false) !== null) return bare;
  const ascii = domainToASCII(name);
  if (!ascii) throw 'invalid-argument';
  return ascii;
}

export function resolveAddresses(sockets: SocketsContext, network: unknown, name: string): ResolveAddressStream {
  checkNetwork(network, sockets);
  const host = asciiName(name);
  let p: Promise<string[]>;
  try {
    p = sockets.net.startLookup(host, 0);
  } catch (e) {
    throw resolverError(e);
  }
  return new ResolveAddressStream(p);
}
