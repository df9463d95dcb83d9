// UDP through the network core, loopback only.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PolicyChecker, Request } from '../../src/policy/types.ts';
import { FakeChecker } from '../support/fake-checker.ts';
import { NetError, NetworkCore, type Datagram, type Limits, type UdpSocket } from '../../src/net/index.ts';


const cores: NetworkCore[] = [];
function makeCore(checker: PolicyChecker = new FakeChecker(), limits?: Partial<Limits>): NetworkCore {
  const core = new NetworkCore({ guest: 'test', checker, limits });
  cores.push(core);
  return core;
}
after(() => { for (const c of cores) c.close(); });

async function receiveOne(s: UdpSocket, timeoutMs = 5000): Promise<Datagram> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = s.receive();
    if (d) return d;
    if (Date.now() > deadline) throw new Error('no datagram');
    await Promise.race([s.waitReadable(), sleep(500, undefined, { ref: false })]);
  }
}

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await sleep(5);
  }
}

function expectNetError(f: () => unknown, code: string): void {
  assert.throws(f, (e: unknown) => e instanceof NetError && e.code === code);
}

async function nativeSocket(type: 'udp4' | 'udp6', address: string): Promise<dgram.Socket> {
  const s = dgram.createSocket(type);
  s.bind(0, address);
  await once(s, 'listening');
  return s;
}

async function ipv6Works(): Promise<boolean> {
  try {
    (await nativeSocket('udp6', '::1')).close();
    return true;
  } catch {
    return false;
  }
}

for (const [family, host, type] of [[4, '127.0.0.1', 'udp4'], [6, '::1', 'udp6']] as const) {
  describe(`udp over ${host}`, () => {
    it('sends and receives, judged per datagram, with accounting', async (t) => {
      if (family === 6 && !(await ipv6Works())) return t.skip('no IPv6');
      const checker = new FakeChecker();
      const core = makeCore(checker);
      const a = await core.bindUdp({ address: host, port: 0, family });
      assert.deepEqual(checker.requests, [{ direction: 'bind', transport: 'udp', address: host, port: 0 }]);
      assert.ok(a.localAddress.port > 0);
      assert.equal(a.localAddress.family, family);
      const b = await core.bindUdp({ address: host, port: 0, family });
      assert.equal(a.receive(), null);
      assert.equal(a.readable.ready, false);

      await b.send(new Uint8Array([1, 2, 3]), a.localAddress);
      const d = await receiveOne(a);
      assert.deepEqual([...d.data], [1, 2, 3]);
      assert.deepEqual(d.remote, { address: host, port: b.localAddress.port, family });
      const recv = checker.requests.filter((r) => r.direction === 'receive');
      assert.deepEqual(recv, [{ direction: 'receive', transport: 'udp', address: host, port: b.localAddress.port }]);
      const sends = checker.requests.filter((r) => r.direction === 'send');
      assert.deepEqual(sends, [{ direction: 'send', transport: 'udp', address: host, port: a.localAddress.port }]);

      // and back, to a native socket
      const n = await nativeSocket(type, host);
      const got = once(n, 'message');
      await a.send(new Uint8Array([9, 8]), { address: host, port: (n.address()).port, family });
      const [msg, rinfo] = await got;
      assert.deepEqual([...msg as Buffer], [9, 8]);
      assert.equal((rinfo as dgram.RemoteInfo).port, a.localAddress.port);
      n.close();
      assert.equal(core.accounting.datagramsOut, 2);
      assert.equal(core.accounting.datagramsIn, 1);
      assert.equal(core.accounting.bytesOut, 5);
      assert.equal(core.accounting.bytesIn, 3);
      a.close();
      b.close();
      assert.equal(core.openSockets, 0);
    });

    it('drops datagrams from peers denied `receive`, keeps allowed ones', async (t) => {
      if (family === 6 && !(await ipv6Works())) return t.skip('no IPv6');
      const bad = await nativeSocket(type, host);
      const good = await nativeSocket(type, host);
      const badPort = bad.address().port;
      const checker = new FakeChecker((r) => r.direction === 'receive' && r.port === badPort);
      const core = makeCore(checker);
      const s = await core.bindUdp({ address: host, port: 0, family });
      bad.send(Buffer.from('bad'), s.localAddress.port, host);
      await until(() => core.accounting.connectionsRefused === 1);
      good.send(Buffer.from('good'), s.localAddress.port, host);
      const d = await receiveOne(s);
      assert.equal(Buffer.from(d.data).toString(), 'good');
      assert.equal(s.receive(), null);
      assert.equal(core.accounting.datagramsIn, 1);
      bad.close();
      good.close();
      s.close();
    });
  });
}

describe('udp policy and limits', () => {
  it('denied send: EACCES thrown before anything is sent', async () => {
    const n = await nativeSocket('udp4', '127.0.0.1');
    let arrived = 0;
    n.on('message', () => arrived++);
    const checker = new FakeChecker((r) => r.direction === 'send');
    const core = makeCore(checker);
    const s = await core.bindUdp({ address: '0.0.0.0', port: 0, family: 4 });
    assert.equal(checker.requests.length, 0, 'an ephemeral client bind is not asked');
    expectNetError(() => s.send(new Uint8Array([1]), { address: '127.0.0.1', port: n.address().port, family: 4 }), 'EACCES');
    assert.equal(core.accounting.connectionsRefused, 1);
    assert.equal(core.accounting.datagramsOut, 0);
    await sleep(50);
    assert.equal(arrived, 0);
    n.close();
    s.close();
  });

  it('denied bind: EACCES, no socket', async () => {
    const core = makeCore(new FakeChecker((r) => r.direction === 'bind'));
    await assert.rejects(core.bindUdp({ address: '127.0.0.1', port: 0, family: 4 }), (e: unknown) => e instanceof NetError && e.code === 'EACCES');
    assert.equal(core.openSockets, 0);
  });

  it('connect fixes the destination and filters arrivals to the peer', async () => {
    const core = makeCore();
    const s = await core.bindUdp({ address: '127.0.0.1', port: 0, family: 4 });
    const peer = await nativeSocket('udp4', '127.0.0.1');
    const other = await nativeSocket('udp4', '127.0.0.1');
    expectNetError(() => s.send(new Uint8Array([1])), 'ENOTCONN');
    s.connect({ address: '127.0.0.1', port: peer.address().port, family: 4 });
    const got = once(peer, 'message');
    await s.send(new Uint8Array([42]));
    assert.deepEqual([...(await got)[0] as Buffer], [42]);
    other.send(Buffer.from('x'), s.localAddress.port, '127.0.0.1');
    peer.send(Buffer.from('y'), s.localAddress.port, '127.0.0.1');
    const d = await receiveOne(s);
    assert.equal(Buffer.from(d.data).toString(), 'y');
    await sleep(20);
    assert.equal(s.receive(), null, 'the stranger was filtered');
    s.disconnect();
    other.send(Buffer.from('z'), s.localAddress.port, '127.0.0.1');
    assert.equal(Buffer.from((await receiveOne(s)).data).toString(), 'z');
    peer.close();
    other.close();
    s.close();
  });

  it('drops (counts and reports) datagrams beyond maxBufferedBytes', async () => {
    const checker = new FakeChecker();
    const core = makeCore(checker, { maxBufferedBytes: 100 });
    const s = await core.bindUdp({ address: '127.0.0.1', port: 0, family: 4 });
    const n = await nativeSocket('udp4', '127.0.0.1');
    for (let i = 0; i < 3; i++) n.send(Buffer.alloc(60, i), s.localAddress.port, '127.0.0.1');
    await until(() => core.accounting.datagramsIn + core.accounting.datagramsDropped === 3);
    assert.equal(core.accounting.datagramsIn, 1);
    assert.equal(core.accounting.datagramsDropped, 2);
    assert.deepEqual(checker.drops.map((x) => [x.req.direction, x.req.transport, x.req.address, x.req.port, x.reason]),
      Array(2).fill(['receive', 'udp', '127.0.0.1', n.address().port, 'receive queue full (100 bytes)']));
    const d = s.receive();
    assert.ok(d);
    assert.equal(d.data[0], 0);
    assert.equal(s.receive(), null);
    // room again after receive()
    n.send(Buffer.alloc(60, 7), s.localAddress.port, '127.0.0.1');
    assert.equal((await receiveOne(s)).data[0], 7);
    n.close();
    s.close();
  });

  it('an IPv6 socket sends to an IPv4 peer (mapped) and the policy sees IPv4', async (t) => {
    if (!(await ipv6Works())) return t.skip('no IPv6');
    const checker = new FakeChecker();
    const core = makeCore(checker);
    let s: UdpSocket;
    try {
      s = await core.bindUdp({ address: '::', port: 0, family: 6 });
    } catch {
      return t.skip('no dual-stack UDP');
    }
    const n = await nativeSocket('udp4', '127.0.0.1');
    const got = once(n, 'message');
    await s.send(new Uint8Array([5]), { address: '127.0.0.1', port: n.address().port, family: 4 });
    assert.deepEqual([...(await got)[0] as Buffer], [5]);
    assert.equal(checker.requests.at(-1)!.address, '127.0.0.1');
    n.send(Buffer.from([6]), s.localAddress.port, '127.0.0.1');
    const d = await receiveOne(s);
    assert.equal(checker.requests.at(-1)!.address, '127.0.0.1', 'receive judged as IPv4');
    assert.equal(d.remote.address, '::ffff:127.0.0.1');
    n.close();
    s.close();
  });
});
