// WASI 0.2 components using wasi:sockets TCP themselves, run through `wasinet run`: a C echo server
// (bind, listen, accept, poll-driven non-blocking streams) serving many real clients; a C client
// with many concurrent connections against a native echo server; JS (componentize-qjs) client and
// server talking to each other through two wasinet processes; the policy at bind/listen, accept and
// connect, with audit lines.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { runToExit, startRun, type CliProcess } from '../support/cli.ts';
import { connect, echoCheck, end, pattern, Reader } from '../support/net.ts';
import { buildSockC, buildSockJs } from '../guests/p2-sock/build.ts';

let echoServer: string;
let client: string;
let jsClient: string;
let jsServer: string;
let tmp: string;

before(async () => {
  [echoServer, client, jsClient, jsServer] = await Promise.all([
    buildSockC('tcp-echo-server'), buildSockC('tcp-client'), buildSockJs('tcp-client'), buildSockJs('tcp-server'),
  ]);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wasinet-p2sock-'));
});
after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** A native echo server (the peer for client guests). */
async function nativeEcho(host = '127.0.0.1'): Promise<{ port: number; connections: number; close(): void }> {
  const state = { port: 0, connections: 0, close: () => server.close() };
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    state.connections++;
    s.on('error', () => {});
    s.pipe(s);
  });
  server.listen(0, host);
  await once(server, 'listening');
  state.port = (server.address() as net.AddressInfo).port;
  return state;
}

/** Starts a server guest that prints "listening ADDR:PORT"; returns the process and the port. */
async function startGuestServer(args: readonly string[]): Promise<{ proc: CliProcess; port: number }> {
  const proc = startRun(args, { timeoutMs: 60_000 });
  const m = await proc.waitForStdout(/listening (?:\[[^\]]+\]|[\d.]+):(\d+)/);
  return { proc, port: Number(m[1]) };
}

function readAudit(file: string): Record<string, unknown>[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('C echo server component (bind/listen/accept through wasi:sockets)', () => {
  it('serves 40 concurrent clients, payloads up to 300 KiB, every byte checked', { timeout: 120_000 }, async () => {
    const CLIENTS = 40;
    const { proc, port } = await startGuestServer(['--allow-listen=127.0.0.1', echoServer, '127.0.0.1', '0', String(CLIENTS)]);
    try {
      assert.ok(port > 0, 'the guest reports the real ephemeral port from local-address');
      const readers = await Promise.all(Array.from({ length: CLIENTS }, async () => new Reader(await connect(port))));
      // all connected at once: each gets a first byte back
      await Promise.all(readers.map(async (r, i) => echoCheck(r, Buffer.from([i]))));
      const sizes = [1, 7, 100, 4096, 65535, 65536, 65537, 100_000, 300_000];
      await Promise.all(readers.map(async (r, i) => {
        const size = sizes[i % sizes.length]!;
        await echoCheck(r, pattern(size, i + 1), { chunk: i % 2 ? size : 1 + (i * 7919) % 20_000 });
        await echoCheck(r, pattern(333 + i, 1000 + i));
        await end(r.sock);
        assert.equal((await r.readToEnd()).length, 0, 'nothing after the echo');
      }));
      const res = await proc.exit(30_000);
      assert.equal(res.code, 0, res.stderr);
      const m = res.stdout.match(/served (\d+) connections, (\d+) bytes, max concurrent (\d+)/);
      assert.ok(m, res.stdout);
      assert.equal(Number(m[1]), CLIENTS);
      const expected = readers.reduce((a, _r, i) => a + 1 + sizes[i % sizes.length]! + 333 + i, 0);
      assert.equal(Number(m[2]), expected);
      assert.equal(Number(m[3]), CLIENTS, 'every client was connected at the same time');
    } finally {
      await proc.stop();
    }
  });

  it('echoes a 4 MiB stream written before anything is read back (back-pressure both ways)', { timeout: 60_000 }, async () => {
    const { proc, port } = await startGuestServer(['--allow-listen=127.0.0.1', echoServer, '127.0.0.1', '0', '1']);
    try {
      const sock = await connect(port);
      const r = new Reader(sock);
      const payload = pattern(4 << 20, 5);
      sock.pause();
      const writing = new Promise<void>((resolve, reject) => sock.write(payload, (e) => (e ? reject(e) : resolve())));
      await new Promise((res) => setTimeout(res, 300));
      sock.resume();
      const got = await r.read(payload.length, 40_000);
      await writing;
      assert.ok(got.equals(payload), 'the echo equals the payload');
      await end(sock);
      const res = await proc.exit(15_000);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, new RegExp(`served 1 connections, ${payload.length} bytes`));
    } finally {
      await proc.stop();
    }
  });

  it('listens on [::1] with an IPv6 socket', { timeout: 60_000 }, async (t) => {
    const probe = net.createServer();
    try {
      probe.listen(0, '::1');
      await once(probe, 'listening');
    } catch {
      t.skip('no IPv6 loopback');
      return;
    } finally {
      probe.close();
    }
    const { proc, port } = await startGuestServer(['--allow-listen=[::1]', echoServer, '::1', '0', '1']);
    try {
      assert.match(proc.stdout, /listening \[0:0:0:0:0:0:0:1\]:\d+/);
      const r = new Reader(await connect(port, { host: '::1' }));
      await echoCheck(r, pattern(50_000, 3));
      await end(r.sock);
      assert.equal((await proc.exit(15_000)).code, 0);
    } finally {
      await proc.stop();
    }
  });

  it('binds a fixed port when granted; without the grant: access-denied and an audit line', { timeout: 60_000 }, async () => {
    const free = net.createServer().listen(0, '127.0.0.1');
    await once(free, 'listening');
    const fixed = (free.address() as net.AddressInfo).port;
    free.close();
    await once(free, 'close');
    const audit = path.join(tmp, 'bind-denied.jsonl');
    const denied = await runToExit(['--audit-log', audit, echoServer, '127.0.0.1', String(fixed), '1'], { timeoutMs: 30_000 });
    assert.equal(denied.code, 1);
    assert.match(denied.stdout, /^bind: access-denied$/m);
    assert.deepEqual(readAudit(audit).map((l) => [l.op, l.transport, l.address, l.port, l.decision, l.rule]), [
      ['bind', 'tcp', '127.0.0.1', fixed, 'deny', 'default deny'],
    ]);

    const { proc, port } = await startGuestServer([`--allow-listen=127.0.0.1:${fixed}`, echoServer, '127.0.0.1', String(fixed), '1']);
    try {
      assert.equal(port, fixed);
      const r = new Reader(await connect(port));
      await echoCheck(r, Buffer.from('fixed port'));
      await end(r.sock);
      assert.equal((await proc.exit(15_000)).code, 0);
    } finally {
      await proc.stop();
    }
  });

  it('--allow-accept: a denied peer is cut off before the guest sees it (audited); an allowed one is served', { timeout: 60_000 }, async () => {
    const audit = path.join(tmp, 'accept.jsonl');
    const { proc, port } = await startGuestServer([
      '--allow-listen=127.0.0.1', '--allow-accept=127.0.0.1', '--audit-log', audit, echoServer, '127.0.0.1', '0', '1',
    ]);
    try {
      // 127.0.0.2 is loopback too, but not granted
      const bad = await connect(port, { localAddress: '127.0.0.2' }).catch(() => null);
      if (bad) {
        const rb = new Reader(bad);
        bad.write('x');
        const gone = await rb.waitGone(10_000);
        assert.equal(gone.bytes, 0, 'the denied peer gets nothing back');
        bad.destroy();
      }
      const good = new Reader(await connect(port, { localAddress: '127.0.0.1' }));
      await echoCheck(good, Buffer.from('allowed'));
      await end(good.sock);
      const res = await proc.exit(15_000);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /served 1 connections/);
      const lines = readAudit(audit);
      assert.deepEqual(lines.filter((l) => l.op === 'accept').map((l) => [l.address, l.decision]), [
        ['127.0.0.2', 'deny'], ['127.0.0.1', 'allow'],
      ]);
      assert.deepEqual(lines.filter((l) => l.op !== 'accept').map((l) => [l.op, l.decision]), [['bind', 'allow'], ['listen', 'allow']]);
    } finally {
      await proc.stop();
    }
  });
});

describe('C client component (start-connect/finish-connect through wasi:sockets)', () => {
  it('50 concurrent connections to a native echo server, 200 KB each, every byte checked', { timeout: 60_000 }, async () => {
    const echo = await nativeEcho();
    try {
      const res = await runToExit([`--allow-net=127.0.0.1:${echo.port}`, client, '127.0.0.1', String(echo.port), '50', '200000'], { timeoutMs: 50_000 });
      assert.equal(res.code, 0, res.stdout + res.stderr);
      assert.match(res.stdout, /^ok 50 connections, 200000 bytes each$/m);
      assert.match(res.stdout, new RegExp(`^conn0 local 127\\.0\\.0\\.1:\\d+ remote 127\\.0\\.0\\.1:${echo.port}$`, 'm'));
      assert.equal(echo.connections, 50);
    } finally {
      echo.close();
    }
  });

  it('a denied connect: access-denied at start-connect, nothing reaches the server, an audit line', { timeout: 30_000 }, async () => {
    const echo = await nativeEcho();
    const audit = path.join(tmp, 'connect.jsonl');
    try {
      // a grant for another port does not cover this one
      const res = await runToExit([`--allow-net=127.0.0.1:${echo.port === 65535 ? 1 : echo.port + 1}`, '--audit-log', audit, '--verbose',
        client, '127.0.0.1', String(echo.port), '1', '10'], { timeoutMs: 20_000 });
      assert.equal(res.code, 1);
      assert.match(res.stdout, /^start-connect 0: access-denied$/m);
      assert.equal(echo.connections, 0);
      assert.deepEqual(readAudit(audit).map((l) => [l.op, l.transport, l.address, l.port, l.decision, l.rule]), [
        ['connect', 'tcp', '127.0.0.1', echo.port, 'deny', 'default deny'],
      ]);
      assert.match(res.stderr, /"connectionsRefused":1/);
    } finally {
      echo.close();
    }
  });
});

describe('JS components (componentize-qjs) over wasi:sockets', () => {
  it('a JS client and a JS server in two wasinet processes, 4 connections', { timeout: 90_000 }, async () => {
    const { proc, port } = await startGuestServer([
      '--allow-listen=127.0.0.1', '--env', 'LISTEN_ADDR=127.0.0.1', '--env', 'LISTEN_PORT=0', '--env', 'CONNS=4', jsServer,
    ]);
    try {
      const res = await runToExit([
        `--allow-net=127.0.0.1:${port}`, '--env', 'TARGET_ADDR=127.0.0.1', '--env', `TARGET_PORT=${port}`, '--env', 'CONNS=4', jsClient,
      ], { timeoutMs: 60_000 });
      assert.equal(res.code, 0, res.stdout + res.stderr);
      const m = res.stdout.match(/^ok 4 connections, (\d+) bytes$/m);
      assert.ok(m, res.stdout);
      assert.match(res.stdout, new RegExp(`^remote 127\\.0\\.0\\.1:${port}$`, 'm'));
      const s = await proc.exit(20_000);
      assert.equal(s.code, 0, s.stderr);
      assert.match(s.stdout, new RegExp(`^served 4 connections, ${m[1]} bytes$`, 'm'));
    } finally {
      await proc.stop();
    }
  });

  it('the JS server against native clients, every byte checked', { timeout: 60_000 }, async () => {
    const { proc, port } = await startGuestServer([
      '--allow-listen=127.0.0.1', '--env', 'LISTEN_ADDR=127.0.0.1', '--env', 'CONNS=3', jsServer,
    ]);
    try {
      const readers = await Promise.all([0, 1, 2].map(async () => new Reader(await connect(port))));
      await Promise.all(readers.map(async (r, i) => {
        await echoCheck(r, pattern(20_000 * (i + 1), i));
        await end(r.sock);
        assert.equal((await r.readToEnd()).length, 0);
      }));
      const s = await proc.exit(20_000);
      assert.equal(s.code, 0, s.stderr);
      assert.match(s.stdout, /^served 3 connections, 120000 bytes$/m);
    } finally {
      await proc.stop();
    }
  });
});
