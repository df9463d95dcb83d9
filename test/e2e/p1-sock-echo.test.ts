// p1 socket guests serving real TCP clients through `wasinet run --listen`: the poll()-driven echo
// server with many concurrent clients, blocking recv/send and read/write echo, IPv6, several
// listeners.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { buildGuest } from '../support/guests.ts';
import { startServer } from '../support/cli.ts';
import { connect, echoCheck, end, pattern, Reader, write } from '../support/net.ts';

let echoPoll: string;
let echoBlocking: string;
let echoRw: string;

before(async () => {
  [echoPoll, echoBlocking, echoRw] = await Promise.all([
    buildGuest('c/echo-poll.c'), buildGuest('c/echo-blocking.c'), buildGuest('c/echo-rw.c'),
  ]);
});

describe('echo-poll (poll()-driven, non-blocking accept)', () => {
  it('serves 60 concurrent clients with random payloads up to 300 KiB, every byte checked', { timeout: 90_000 }, async () => {
    const CLIENTS = 60;
    const { proc, listeners } = await startServer(echoPoll, { args: [String(CLIENTS)] });
    try {
      const port = listeners[0]!.port;
      assert.equal(listeners[0]!.host, '127.0.0.1');
      assert.ok(port > 0, 'an ephemeral port was chosen');
      // Phase 1: every client connects and gets a 1-byte echo, so all are open at once.
      const readers = await Promise.all(Array.from({ length: CLIENTS }, async () => new Reader(await connect(port))));
      await Promise.all(readers.map(async (r, i) => echoCheck(r, Buffer.from([i]))));
      // Phase 2: payloads of various sizes (some > 64 KiB, the guest's buffer), in various chunkings.
      const sizes = [1, 2, 100, 1000, 4096, 65535, 65536, 65537, 100_000, 300_000];
      await Promise.all(readers.map(async (r, i) => {
        const size = sizes[i % sizes.length]!;
        const payload = pattern(size, i + 1);
        await echoCheck(r, payload, { chunk: i % 3 === 0 ? size : 1 + (i * 7919) % 20_000 });
        // A second, smaller exchange on the same connection.
        await echoCheck(r, pattern(333 + i, 1000 + i));
        await end(r.sock);
        const rest = await r.readToEnd();
        assert.equal(rest.length, 0, 'nothing after the echo');
      }));
      const res = await proc.exit(20_000);
      assert.equal(res.code, 0, res.stderr);
      const m = res.stdout.match(/served (\d+) connections, (\d+) bytes, max concurrent (\d+)/);
      assert.ok(m, `summary line in stdout: ${res.stdout}`);
      assert.equal(Number(m[1]), CLIENTS);
      const expectedBytes = readers.reduce((a, _r, i) => a + 1 + sizes[i % sizes.length]! + 333 + i, 0);
      assert.equal(Number(m[2]), expectedBytes);
      assert.equal(Number(m[3]), CLIENTS, 'all clients were connected at the same time');
    } finally {
      await proc.stop();
    }
  });

  it('echoes a 4 MiB stream written faster than it is read back (back-pressure, partial writes)', { timeout: 60_000 }, async () => {
    const { proc, listeners } = await startServer(echoPoll, { args: ['1'] });
    try {
      const sock = await connect(listeners[0]!.port);
      const r = new Reader(sock);
      const payload = pattern(4 << 20, 99);
      // Write everything before reading anything: the guest must stop reading while its send
      // queue is full and resume on POLLOUT, without losing or reordering bytes.
      sock.pause();
      const writing = write(sock, payload);
      await new Promise((res) => setTimeout(res, 300));
      sock.resume();
      const got = await r.read(payload.length, 40_000);
      await writing;
      assert.ok(got.equals(payload), 'echo equals the payload');
      await end(sock);
      const res = await proc.exit(10_000);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, new RegExp(`served 1 connections, ${payload.length} bytes`));
    } finally {
      await proc.stop();
    }
  });

  it('serves an IPv6 [::1] listener', { timeout: 30_000 }, async () => {
    const { proc, listeners } = await startServer(echoPoll, { listen: ['[::1]:0'], args: ['2'] });
    try {
      const l = listeners[0]!;
      assert.equal(l.host, '::1');
      assert.equal(l.family, 6);
      assert.equal(l.fd, 3);
      for (let i = 0; i < 2; i++) {
        const r = new Reader(await connect(l.port, { host: '::1' }));
        await echoCheck(r, pattern(70_000, 7 + i));
        await end(r.sock);
        await r.readToEnd();
      }
      const res = await proc.exit(10_000);
      assert.equal(res.code, 0, res.stderr);
    } finally {
      await proc.stop();
    }
  });

  it('serves two listeners (IPv4 and IPv6) at fds 3 and 4 with LISTEN_FDS=2', { timeout: 30_000 }, async () => {
    const { proc, listeners } = await startServer(echoPoll, { listen: ['127.0.0.1:0', '[::1]:0'], args: ['2'] });
    try {
      assert.deepEqual(listeners.map((l) => [l.host, l.fd]), [['127.0.0.1', 3], ['::1', 4]]);
      const a = new Reader(await connect(listeners[0]!.port));
      const b = new Reader(await connect(listeners[1]!.port, { host: '::1' }));
      await Promise.all([echoCheck(a, pattern(5000, 1)), echoCheck(b, pattern(5000, 2))]);
      await Promise.all([end(a.sock), end(b.sock)]);
      const res = await proc.exit(10_000);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /echo-poll: 2 listener\(s\) from fd 3/);
    } finally {
      await proc.stop();
    }
  });
});

for (const [name, getGuest] of [['echo-blocking (recv/send)', () => echoBlocking], ['echo-rw (read/write)', () => echoRw]] as const) {
  describe(name, () => {
    it('serves sequential connections, blocking in accept and recv between them', { timeout: 60_000 }, async () => {
      const { proc, listeners } = await startServer(getGuest(), { args: ['3'] });
      try {
        const port = listeners[0]!.port;
        // 1: many small ping-pongs (each recv blocks until the next byte comes).
        const r1 = new Reader(await connect(port));
        for (let i = 0; i < 200; i++) await echoCheck(r1, Buffer.from([i & 0xff]));
        await end(r1.sock);
        assert.equal((await r1.readToEnd()).length, 0);
        // 2: a big payload (> the guest's 64 KiB buffer) after a pause: the guest sat in recv.
        const r2 = new Reader(await connect(port));
        await new Promise((res) => setTimeout(res, 200));
        const big = pattern(1_000_000, 5);
        await echoCheck(r2, big, { chunk: 70_000 });
        await end(r2.sock);
        assert.equal((await r2.readToEnd()).length, 0);
        // 3: connected while the guest is still busy with nothing (queued in accept).
        const r3 = new Reader(await connect(port));
        await echoCheck(r3, Buffer.from('last one\n'));
        await end(r3.sock);
        await r3.readToEnd();
        const res = await proc.exit(10_000);
        assert.equal(res.code, 0, res.stderr);
        assert.match(res.stdout, /connection 1 done, 200 bytes/);
        assert.match(res.stdout, /connection 2 done, 1000000 bytes/);
        assert.match(res.stdout, /connection 3 done, 9 bytes/);
      } finally {
        await proc.stop();
      }
    });

    it('queues a second client while serving the first (one at a time)', { timeout: 30_000 }, async () => {
      const { proc, listeners } = await startServer(getGuest(), { args: ['2'] });
      try {
        const port = listeners[0]!.port;
        const a = new Reader(await connect(port));
        await echoCheck(a, Buffer.from('first'));
        const b = new Reader(await connect(port));
        await write(b.sock, 'second');
        // The guest is still inside the first connection: b gets nothing yet.
        await new Promise((res) => setTimeout(res, 300));
        assert.equal(b.length, 0, 'second client not served while the first is open');
        await end(a.sock);
        await a.readToEnd();
        assert.equal((await b.read(6)).toString(), 'second');
        await end(b.sock);
        await b.readToEnd();
        const res = await proc.exit(10_000);
        assert.equal(res.code, 0, res.stderr);
      } finally {
        await proc.stop();
      }
    });
  });
}
