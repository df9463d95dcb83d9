// The wasi:sockets host objects in-process (no component): the values jco hands them and expects
// back (addresses, enums, errors thrown as strings), network-error-code, name lookup answers and
// failures, the socket pollable across states, and what dropping handles closes.
import { describe, it, after, mock } from 'node:test';
import assert from 'node:assert/strict';
import dns from 'node:dns';
import net from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { FakeChecker } from '../support/fake-checker.ts';
import { NetError, NetworkCore } from '../../src/net/index.ts';
import { IoError } from '../../src/wasi/p2/io/error.ts';
import { P2Context } from '../../src/wasi/p2/context.ts';
import { socketsHost } from '../../src/wasi/p2/sockets/host.ts';
import { fromIpSocketAddress, toIpAddress, toIpSocketAddress, type IpSocketAddress } from '../../src/wasi/p2/sockets/common.ts';
import { Network, networkErrorCode } from '../../src/wasi/p2/sockets/network.ts';
import type { TcpSocket } from '../../src/wasi/p2/sockets/tcp.ts';
import type { UdpSocket } from '../../src/wasi/p2/sockets/udp.ts';
import type { ResolveAddressStream } from '../../src/wasi/p2/sockets/lookup.ts';
import type { InputStream, OutputStream } from '../../src/wasi/p2/io/streams.ts';

const cores: NetworkCore[] = [];
after(() => { for (const c of cores) c.close(); });

interface Host {
  core: NetworkCore;
  network: Network;
  createTcpSocket(f: string): TcpSocket;
  createUdpSocket(f: string): UdpSocket;
  resolveAddresses(n: Network, name: string): ResolveAddressStream;
}

function makeHost(checker = new FakeChecker(), limits?: { maxSockets?: number }): Host {
  const core = new NetworkCore({ guest: 'test', checker, limits });
  cores.push(core);
  const ctx = new P2Context({ args: [], env: {}, preopens: [], network: core } as unknown as ConstructorParameters<typeof P2Context>[0]);
  const h = socketsHost(ctx) as Record<string, Record<string, (...a: never[]) => unknown>>;
  const network = h['wasi:sockets/instance-network']!.instanceNetwork!() as Network;
  return {
    core,
    network,
    createTcpSocket: h['wasi:sockets/tcp-create-socket']!.createTcpSocket as unknown as Host['createTcpSocket'],
    createUdpSocket: h['wasi:sockets/udp-create-socket']!.createUdpSocket as unknown as Host['createUdpSocket'],
    resolveAddresses: h['wasi:sockets/ip-name-lookup']!.resolveAddresses as unknown as Host['resolveAddresses'],
  };
}

/** What a host function threw, as the guest would see it (jco lowers a thrown string as err). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return 'ok';
}

async function settle(): Promise<void> {
  await sleep(20);
}

const v4 = (a: string, port: number): IpSocketAddress => ({ tag: 'ipv4', val: { port, address: a.split('.').map(Number) as [number, number, number, number] } });

/** A node:net server on 127.0.0.1 (any port) handing each connection to `onConnection`. */
async function localServer(onConnection: (c: net.Socket) => void): Promise<net.Server> {
  const server = net.createServer((c) => { c.on('error', () => {}); onConnection(c); });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

/** A 0.2 TCP socket of a new host, connected to `server`: its streams. */
async function connectTo(server: net.Server): Promise<[InputStream, OutputStream]> {
  const h = makeHost();
  const s = h.createTcpSocket('ipv4');
  s.startConnect(h.network, v4('127.0.0.1', (server.address() as net.AddressInfo).port));
  await s.subscribe().block();
  return s.finishConnect();
}

describe('addresses as jco represents them', () => {
  it('ip-socket-address <-> SocketAddress, IPv6 groups and scope ids; ip-address never IPv4-mapped', () => {
    assert.deepEqual(fromIpSocketAddress(v4('10.1.2.3', 80)), { address: '10.1.2.3', port: 80, family: 4 });
    const six: IpSocketAddress = { tag: 'ipv6', val: { port: 443, flowInfo: 0, address: [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], scopeId: 0 } };
    assert.deepEqual(fromIpSocketAddress(six), { address: '2001:db8::1', port: 443, family: 6 });
    assert.deepEqual(toIpSocketAddress({ address: '2001:db8::1', port: 443, family: 6 }), six);
    const scoped: IpSocketAddress = { tag: 'ipv6', val: { port: 1, flowInfo: 0, address: [0xfe80, 0, 0, 0, 0, 0, 0, 1], scopeId: 2 } };
    assert.equal(fromIpSocketAddress(scoped).address, 'fe80::1%2');
    assert.deepEqual(toIpAddress('::ffff:10.0.0.1', true), { tag: 'ipv4', val: [10, 0, 0, 1] });
    assert.deepEqual(toIpAddress('::1', true), { tag: 'ipv6', val: [0, 0, 0, 0, 0, 0, 0, 1] });
  });
});

describe('network-error-code', () => {
  it('the error-code of a socket stream error; none for other errors', () => {
    assert.equal(networkErrorCode(new IoError('x', { socketCode: 'connection-reset' })), 'connection-reset');
    assert.equal(networkErrorCode(new IoError('x', { netCode: 'ECONNREFUSED' })), 'connection-refused');
    assert.equal(networkErrorCode(new IoError('x', { netCode: 'EPIPE' })), 'connection-reset');
    assert.equal(networkErrorCode(new IoError('a file error')), undefined);
    assert.equal(networkErrorCode({}), undefined);
  });

  it('blocking calls answer at once when they need not wait, with a promise only when they must', async () => {
    const server = await localServer((c) => c.pipe(c));
    try {
      const [input, output] = await connectTo(server);
      const pending = input.blockingRead(10n); // nothing sent yet: must wait
      assert.ok(pending instanceof Promise);
      assert.equal(output.subscribe().block(), undefined, 'a ready pollable does not block');
      assert.equal(output.blockingWriteAndFlush(Buffer.from('ping')), undefined, 'room to write: no promise');
      assert.equal(Buffer.from(await pending).toString(), 'ping');
      output.blockingWriteAndFlush(Buffer.from('pong'));
      await input.subscribe().block();
      const now = input.blockingRead(10n); // data queued: at once
      assert.ok(!(now instanceof Promise));
      assert.equal(Buffer.from(now).toString(), 'pong');
    } finally {
      server.close();
    }
  });

  it('a reset read from a TCP input stream carries connection-reset', async () => {
    const server = await localServer((c) => setTimeout(() => c.resetAndDestroy(), 50));
    try {
      const [input] = await connectTo(server);
      await input.subscribe().block();
      const e = thrown(() => input.read(10n)) as { tag: string; val: IoError };
      assert.equal(e.tag, 'last-operation-failed');
      assert.equal(networkErrorCode(e.val), 'connection-reset');
    } finally {
      server.close();
    }
  });
});

describe('tcp-socket', () => {
  it('errors are thrown as error-code strings; bad families and the socket limit', () => {
    const h = makeHost(new FakeChecker(), { maxSockets: 1 });
    assert.equal(thrown(() => h.createTcpSocket('ipv5')), 'invalid-argument');
    const s = h.createTcpSocket('ipv4');
    assert.equal(s.addressFamily(), 'ipv4');
    assert.equal(thrown(() => s.startBind({} as Network, v4('127.0.0.1', 0))), 'invalid-argument', 'not a network');
    assert.equal(thrown(() => s.finishBind()), 'not-in-progress');
    s.startBind(h.network, v4('127.0.0.1', 0)); // takes the one slot
    assert.equal(thrown(() => h.createTcpSocket('ipv4')), 'new-socket-limit');
    s[Symbol.dispose]();
  });

  it('subscribe(): ready when idle, not while binding or connecting, then ready; listening follows accept', async () => {
    const h = makeHost();
    const l = h.createTcpSocket('ipv4');
    const p = l.subscribe();
    assert.equal(p.ready(), true, 'unbound: nothing to wait for');
    l.startBind(h.network, v4('127.0.0.1', 0));
    assert.equal(p.ready(), false, 'bind in progress');
    await p.block();
    l.finishBind();
    l.startListen();
    l.finishListen();
    assert.equal(p.ready(), false, 'listening, nobody queued');
    const port = toIpSocketAddress(fromIpSocketAddress(l.localAddress())).val.port;
    const c = h.createTcpSocket('ipv4');
    c.startConnect(h.network, v4('127.0.0.1', port));
    const cp = c.subscribe();
    assert.equal(cp.ready(), false);
    await Promise.all([cp.block(), p.block()]);
    const [cin, cout] = c.finishConnect();
    const [a, ain, aout] = l.accept();
    assert.equal(a.isListening(), false);
    assert.deepEqual(a.remoteAddress(), c.localAddress());
    for (const r of [cin, cout, ain, aout, c, a, l]) r[Symbol.dispose]();
    await settle();
    assert.equal(h.core.openSockets, 0);
  });

  it('the connection closes once the socket and both streams are dropped, in any order', async () => {
    let peerEnded = false;
    const server = net.createServer({ allowHalfOpen: true }, (s) => { s.on('end', () => { peerEnded = true; }); s.resume(); });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const h = makeHost();
    const s = h.createTcpSocket('ipv4');
    s.startConnect(h.network, v4('127.0.0.1', (server.address() as net.AddressInfo).port));
    await s.subscribe().block();
    const [input, output]: [InputStream, OutputStream] = s.finishConnect();
    s[Symbol.dispose]();
    input[Symbol.dispose]();
    await settle();
    assert.equal(peerEnded, false, 'the output stream still holds it');
    assert.equal(h.core.openSockets, 1);
    output.write(new Uint8Array([1, 2, 3]));
    output[Symbol.dispose]();
    await settle();
    assert.equal(peerEnded, true);
    assert.equal(h.core.openSockets, 0);
    server.close();
  });

  it('finish-connect maps the OS verdict: remote-unreachable, timeout, connection-reset (no packet leaves the host)', async () => {
    for (const [code, expected] of [['EHOSTUNREACH', 'remote-unreachable'], ['ENETUNREACH', 'remote-unreachable'], ['ETIMEDOUT', 'timeout'], ['ECONNRESET', 'connection-reset'], ['ECONNABORTED', 'connection-aborted']] as const) {
      const h = makeHost();
      // the core as the OS would answer: the policy and the limit pass, the connect fails
      h.core.startConnectTcp = () => Promise.reject(new NetError(code));
      const s = h.createTcpSocket('ipv4');
      s.startConnect(h.network, v4('192.0.2.1', 80));
      assert.equal(thrown(() => s.finishConnect()), 'would-block');
      await s.subscribe().block();
      assert.equal(thrown(() => s.finishConnect()), expected, code);
      assert.equal(thrown(() => s.startConnect(h.network, v4('192.0.2.1', 80))), 'invalid-state', 'closed after a failed connect');
    }
  });

  it('a socket dropped while connecting closes the connection it gets', async () => {
    const server = net.createServer((s) => s.on('error', () => {}));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const h = makeHost();
    const s = h.createTcpSocket('ipv4');
    s.startConnect(h.network, v4('127.0.0.1', (server.address() as net.AddressInfo).port));
    s[Symbol.dispose]();
    await settle();
    assert.equal(h.core.openSockets, 0);
    server.close();
  });
});

describe('ip-name-lookup', () => {
  it('answers in order, IPv4-mapped ones as IPv4; IDNA names; resolver failures as error-codes', async () => {
    const h = makeHost();
    const names: string[] = [];
    let answer: () => Promise<unknown> = async () => [{ address: '::ffff:10.0.0.1', family: 6 }, { address: '2001:db8::5', family: 6 }];
    const m = mock.method(dns.promises, 'lookup', async (name: string) => { names.push(name); return answer(); });
    try {
      const st = h.resolveAddresses(h.network, 'bücher.example');
      assert.equal(names[0], 'xn--bcher-kva.example');
      assert.equal(thrown(() => st.resolveNextAddress()), 'would-block');
      await st.subscribe().block();
      assert.deepEqual(st.resolveNextAddress(), { tag: 'ipv4', val: [10, 0, 0, 1] });
      assert.deepEqual(st.resolveNextAddress(), { tag: 'ipv6', val: [0x2001, 0xdb8, 0, 0, 0, 0, 0, 5] });
      assert.equal(st.resolveNextAddress(), undefined);
      for (const [c, expected] of [['ENOTFOUND', 'name-unresolvable'], ['EAI_AGAIN', 'temporary-resolver-failure'], ['EAI_FAIL', 'permanent-resolver-failure']]) {
        answer = async () => { throw Object.assign(new Error(c), { code: c }); };
        const f = h.resolveAddresses(h.network, 'x.example');
        await f.subscribe().block();
        assert.equal(thrown(() => f.resolveNextAddress()), expected);
        assert.equal(thrown(() => f.resolveNextAddress()), expected, 'and again');
      }
    } finally {
      m.mock.restore();
    }
    assert.equal(thrown(() => h.resolveAddresses(h.network, '')), 'invalid-argument');
    assert.equal(thrown(() => h.resolveAddresses(h.network, 'a b')), 'invalid-argument');
    assert.equal(thrown(() => h.resolveAddresses({} as Network, 'x.example')), 'invalid-argument');
  });

  it('access-denied at once when the policy says no', () => {
    const h = makeHost(new FakeChecker((r) => r.direction === 'lookup'));
    assert.equal(thrown(() => h.resolveAddresses(h.network, 'example.com')), 'access-denied');
  });
});

describe('udp-socket', () => {
  it('send needs a check-send permit (else it traps); the permit is used up by each send', async () => {
    const h = makeHost();
    const u = h.createUdpSocket('ipv4');
    u.startBind(h.network, v4('0.0.0.0', 0));
    await u.subscribe().block();
    u.finishBind();
    const [, out] = u.stream(undefined);
    const d = { data: new Uint8Array([1]), remoteAddress: v4('127.0.0.1', 9) };
    assert.throws(() => out.send([d]), WebAssembly.RuntimeError);
    assert.equal(out.checkSend() > 0n, true);
    assert.equal(out.send([d]), 1n);
    assert.throws(() => out.send([d]), WebAssembly.RuntimeError, 'one permit, one send');
    assert.equal(out.send([]), 0n, 'an empty list needs no permit');
    u[Symbol.dispose]();
    assert.equal(thrown(() => out.checkSend()), 'invalid-state', 'the socket is gone');
  });
});
