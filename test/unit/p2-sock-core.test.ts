// The network-core additions WASI 0.2 sockets stand on: the `start` forms (validation, policy and
// the socket limit decided before they return), TCP bindings (bind before listen or connect, with
// the real ephemeral port), zero-copy take(), checkWrite(), per-connection buffer limits, keep-alive
// as Node applies it, UDP send readiness, TTL, buffer sizes and linger on close.
import { describe, it, after, mock } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import dns from 'node:dns';
import net from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PolicyChecker } from '../../src/policy/types.ts';
import { FakeChecker } from '../support/fake-checker.ts';
import { NetError, NetworkCore, type Limits, type TcpConnection } from '../../src/net/index.ts';

const cores: NetworkCore[] = [];
function makeCore(checker: PolicyChecker = new FakeChecker(), limits?: Partial<Limits>): NetworkCore {
  const core = new NetworkCore({ guest: 'test', checker, limits });
  cores.push(core);
  return core;
}
after(() => { for (const c of cores) c.close(); });

const code = (c: string) => (e: unknown) => e instanceof NetError && e.code === c;
const LOCAL = { address: '127.0.0.1', port: 0, family: 4 } as const;

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await sleep(5);
  }
}

async function nativeEcho(): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => { s.on('error', () => {}); s.pipe(s); });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as net.AddressInfo).port };
}

/** Reads n bytes with take(), waiting on readable. */
async function takeN(conn: TcpConnection, n: number): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  let got = 0;
  while (got < n) {
    const v = conn.take(n - got);
    if (v === null) { await conn.waitReadable(); continue; }
    if (v.length === 0) break;
    parts.push(v);
    got += v.length;
  }
  return Buffer.concat(parts);
}

describe('start forms: checks before returning', () => {
  it('startConnectTcp throws EINVAL, EACCES and EMFILE synchronously', () => {
    const core = makeCore(new FakeChecker((r) => r.port === 9), { maxSockets: 1 });
    assert.throws(() => core.startConnectTcp({ address: 'nope', port: 80, family: 4 }), code('EINVAL'));
    assert.throws(() => core.startConnectTcp({ address: '127.0.0.1', port: 9, family: 4 }), code('EACCES'));
    const p = core.startConnectTcp({ address: '127.0.0.1', port: 1, family: 4 }); // takes the one slot
    p.catch(() => {});
    assert.throws(() => core.startConnectTcp({ address: '127.0.0.1', port: 2, family: 4 }), code('EMFILE'));
  });

  it('startLookup: EACCES synchronously, an IP literal at once', async () => {
    const core = makeCore(new FakeChecker((r) => r.direction === 'lookup'));
    assert.throws(() => core.startLookup('example.test'), code('EACCES'));
    assert.throws(() => core.startLookup('a b'), code('EINVAL'));
    assert.deepEqual(await core.startLookup('::1'), ['::1']);
  });

  it('a resolver EAI_AGAIN is EIO marked temporary', async () => {
    const core = makeCore();
    const m = mock.method(dns.promises, 'lookup', async () => { throw Object.assign(new Error('again'), { code: 'EAI_AGAIN' }); });
    try {
      await assert.rejects(core.startLookup('flaky.test'), (e: unknown) => e instanceof NetError && e.code === 'EIO' && e.temporary);
    } finally {
      m.mock.restore();
    }
  });
});

describe('tcp bindings', () => {
  it('bind reports the real port, resets early peers, then listens and accepts (one slot throughout)', async () => {
    const checker = new FakeChecker();
    const core = makeCore(checker);
    const b = await core.startBindTcp(LOCAL);
    assert.equal(b.localAddress.address, '127.0.0.1');
    assert.ok(b.localAddress.port > 0);
    assert.equal(core.openSockets, 1);
    // bound, not listening: a peer is turned away without the guest seeing it
    const early = net.connect(b.localAddress.port, '127.0.0.1');
    const outcome = await new Promise<string>((resolve) => {
      early.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      early.on('close', () => resolve('closed'));
    });
    assert.match(outcome, /ECONNRESET|ECONNREFUSED|closed/);
    const l = b.listen({ backlog: 5 });
    assert.deepEqual(checker.requests.map((r) => [r.direction, r.port]), [['bind', 0], ['listen', 0]]);
    assert.equal(l.accept(), null, 'the early peer was not queued');
    const c = net.connect(b.localAddress.port, '127.0.0.1');
    c.on('error', () => {});
    await l.waitAcceptable();
    const conn = l.accept()!;
    assert.equal(conn.localAddress.port, b.localAddress.port);
    assert.equal(core.openSockets, 2);
    conn.close();
    l.close();
    c.destroy();
    assert.equal(core.openSockets, 0);
  });

  it('denied bind: EACCES at once, no slot; unspecified:0 is not asked; denied listen keeps the binding', async () => {
    const checker = new FakeChecker((r) => r.direction !== 'bind' || r.address !== '0.0.0.0');
    const core = makeCore(checker);
    assert.throws(() => core.startBindTcp(LOCAL), code('EACCES'));
    assert.equal(core.openSockets, 0);
    const b = await core.startBindTcp({ address: '0.0.0.0', port: 0, family: 4 });
    assert.deepEqual(checker.requests.map((r) => r.address), ['127.0.0.1'], 'only the first bind was asked');
    assert.throws(() => b.listen(), code('EACCES'));
    assert.throws(() => b.listen(), code('EACCES'), 'still bound, still judged');
    b.close();
    assert.equal(core.openSockets, 0);
  });

  it('connect from a binding: same local port, the slot passes on; a denied connect leaves it bound', async () => {
    const echo = await nativeEcho();
    const checker = new FakeChecker((r) => r.direction === 'connect' && r.port === 9);
    const core = makeCore(checker);
    const b = await core.startBindTcp(LOCAL);
    assert.throws(() => b.startConnect({ address: '127.0.0.1', port: 9, family: 4 }), code('EACCES'));
    assert.throws(() => b.startConnect({ address: '::1', port: 80, family: 6 }), code('EINVAL'), 'another family');
    const conn = await b.startConnect({ address: '127.0.0.1', port: echo.port, family: 4 });
    assert.equal(conn.localAddress.port, b.localAddress.port);
    assert.equal(core.openSockets, 1);
    assert.equal(core.accounting.connectionsOpened, 1);
    assert.throws(() => b.listen(), code('EINVAL'), 'a used binding');
    conn.write(new TextEncoder().encode('abc'));
    assert.equal((await takeN(conn, 3)).toString(), 'abc');
    conn.close();
    assert.equal(core.openSockets, 0);
    echo.server.close();
  });

  it('a failed connect from a binding gives the slot back', async () => {
    const s = net.createServer().listen(0, '127.0.0.1');
    await once(s, 'listening');
    const port = (s.address() as net.AddressInfo).port;
    s.close();
    await once(s, 'close');
    const core = makeCore();
    const b = await core.startBindTcp(LOCAL);
    await assert.rejects(b.startConnect({ address: '127.0.0.1', port, family: 4 }), code('ECONNREFUSED'));
    assert.equal(core.openSockets, 0);
  });

  it('EADDRINUSE and EADDRNOTAVAIL from the OS arrive through the promise', async () => {
    const core = makeCore();
    const b = await core.startBindTcp(LOCAL);
    await assert.rejects(core.startBindTcp({ ...LOCAL, port: b.localAddress.port }), code('EADDRINUSE'));
    await assert.rejects(core.startBindTcp({ address: '198.51.100.1', port: 0, family: 4 }), code('EADDRNOTAVAIL'));
    assert.equal(core.openSockets, 1);
    b.close();
  });
});

describe('tcp connection additions', () => {
  it('take() hands out the received chunks without copying, then an empty array at the end', async () => {
    const echo = await nativeEcho();
    const core = makeCore();
    const conn = await core.startConnectTcp({ address: '127.0.0.1', port: echo.port, family: 4 });
    assert.equal(conn.take(10), null, 'nothing yet');
    const data = Buffer.alloc(100_000, 7);
    let off = 0;
    while (off < data.length) {
      const n = conn.checkWrite();
      if (n === 0) { await conn.waitWritable(); continue; }
      off += conn.write(data.subarray(off, off + n));
    }
    conn.shutdown('write');
    assert.throws(() => conn.checkWrite(), code('EPIPE'));
    const back = await takeN(conn, data.length);
    assert.ok(back.equals(data));
    await conn.waitReadable();
    assert.equal(conn.take(10)!.length, 0, 'end of stream');
    conn.close();
    echo.server.close();
  });

  it('buffer limits: clamped, reported, and the send limit never below the high-water mark', async () => {
    const echo = await nativeEcho();
    const core = makeCore(new FakeChecker(), { maxBufferedBytes: 200_000 });
    const conn = await core.startConnectTcp({ address: '127.0.0.1', port: echo.port, family: 4 });
    assert.deepEqual(conn.bufferLimits, { receive: 200_000, send: 200_000 });
    assert.deepEqual(conn.setBufferLimits({ receive: 10, send: 10 }), { receive: 1024, send: new net.Socket().writableHighWaterMark });
    assert.deepEqual(conn.setBufferLimits({ receive: 1e9 }), { receive: 200_000, send: new net.Socket().writableHighWaterMark });
    conn.close();
    echo.server.close();
  });

  it('keep-alive goes to Node as asked (idle time in ms)', async () => {
    const echo = await nativeEcho();
    const core = makeCore();
    const conn = await core.startConnectTcp({ address: '127.0.0.1', port: echo.port, family: 4 });
    const spy = mock.method(net.Socket.prototype, 'setKeepAlive');
    try {
      conn.setKeepAlive(true, 2000);
      conn.setKeepAlive(false);
      assert.deepEqual(spy.mock.calls.map((c) => c.arguments), [[true, 2000], [false, undefined]]);
    } finally {
      spy.mock.restore();
    }
    conn.close();
    echo.server.close();
  });
});

describe('udp additions', () => {
  it('send readiness, TTL, buffer sizes, and datagrams sent just before close still go out', async () => {
    const peer = dgram.createSocket('udp4');
    peer.bind(0, '127.0.0.1');
    await once(peer, 'listening');
    const got: Buffer[] = [];
    peer.on('message', (m) => got.push(m));
    const core = makeCore();
    const u = await core.startBindUdp({ address: '0.0.0.0', port: 0, family: 4 });
    assert.equal(u.writable.ready, true);
    u.setTtl(5);
    assert.throws(() => u.setTtl(0), code('EINVAL'));
    const asked = 100_000;
    assert.ok(u.setBufferSize('receive', asked) >= asked, 'the kernel reports at least what was asked');
    assert.equal(u.bufferSize('receive'), u.setBufferSize('receive', asked));
    const to = { address: '127.0.0.1', port: peer.address().port, family: 4 } as const;
    void u.send(new Uint8Array([1]), to);
    assert.ok(u.sendQueueBytes > 0, 'handed over a tick later');
    void u.send(new Uint8Array([2, 2]), to);
    u.close(); // both are still delivered
    await until(() => got.length === 2);
    assert.deepEqual(got.map((b) => b.length), [1, 2]);
    assert.equal(core.openSockets, 0);
    peer.close();
  });

  it('an IPv6-only socket refuses IPv4-mapped destinations at the kernel', async (t) => {
    const core = makeCore();
    let u;
    try {
      u = await core.startBindUdp({ address: '::1', port: 0, family: 6 }, { ipv6Only: true });
    } catch {
      t.skip('no IPv6 loopback');
      return;
    }
    await assert.rejects(u.send(new Uint8Array([1]), { address: '127.0.0.1', port: 9, family: 4 }));
    u.close();
  });
});
