// The accept policy on preopened listeners: denied peers are closed before the guest sees them,
// allowed ones are served, and every decision lands in the --audit-log.
// Peers are told apart by source address: clients bind to 127.0.0.1 or 127.0.0.2 (both loopback
// on Linux).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildGuest } from '../support/guests.ts';
import { startServer } from '../support/cli.ts';
import { connect, echoCheck, end, pattern, Reader, write } from '../support/net.ts';

interface AuditLine {
  time: string;
  guest: string;
  op: string;
  transport?: string;
  address?: string;
  port?: number;
  decision: 'allow' | 'deny';
  rule: string;
}

let echoPoll: string;
let tmp: string;

before(async () => {
  echoPoll = await buildGuest('c/echo-poll.c');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wasinet-policy-'));
});
after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function readAudit(file: string): AuditLine[] {
  const text = fs.readFileSync(file, 'utf8');
  return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as AuditLine);
}

/** Connects from `localAddress`, sends a byte and expects the connection to be closed without any
 *  data coming back. Returns the client's local port. */
async function expectRefused(port: number, localAddress: string): Promise<number> {
  let sock;
  try {
    sock = await connect(port, { localAddress });
  } catch (e) {
    // The kernel accepted the handshake, so connect normally succeeds; a reset this early is fine too.
    assert.match(String((e as NodeJS.ErrnoException).code), /ECONNRESET|ECONNREFUSED/);
    return -1;
  }
  const localPort = sock.localPort!;
  const r = new Reader(sock);
  await write(sock, 'x').catch(() => undefined);
  const gone = await r.waitGone(10_000);
  assert.equal(gone.bytes, 0, 'a denied peer gets no data');
  assert.ok(gone.ended || gone.error || r.closed, 'the denied connection was closed');
  sock.destroy();
  return localPort;
}

async function expectServed(port: number, localAddress: string, seed: number): Promise<number> {
  const sock = await connect(port, { localAddress });
  const r = new Reader(sock);
  await echoCheck(r, pattern(10_000 + seed, seed));
  const localPort = sock.localPort!;
  await end(sock);
  await r.readToEnd();
  return localPort;
}

describe('--allow-accept on a --listen socket', () => {
  it('refuses a peer outside the rule and keeps serving allowed ones; the audit log says why', { timeout: 60_000 }, async () => {
    const audit = path.join(tmp, 'accept.jsonl');
    const { proc, listeners } = await startServer(echoPoll, {
      flags: ['--allow-accept=127.0.0.1', '--audit-log', audit],
      args: ['3'], // the guest exits after 3 connections: only the allowed ones reach it
    });
    try {
      const port = listeners[0]!.port;
      const served1 = await expectServed(port, '127.0.0.1', 1);
      const denied1 = await expectRefused(port, '127.0.0.2');
      const served2 = await expectServed(port, '127.0.0.1', 2);
      const denied2 = await expectRefused(port, '127.0.0.2');
      const served3 = await expectServed(port, '127.0.0.1', 3);
      const res = await proc.exit(15_000);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /served 3 connections/, 'the denied peers never reached the guest');

      const lines = readAudit(audit);
      const accepts = lines.filter((l) => l.op === 'accept');
      const allowed = accepts.filter((l) => l.decision === 'allow');
      const denied = accepts.filter((l) => l.decision === 'deny');
      assert.equal(allowed.length, 3, JSON.stringify(lines, null, 1));
      assert.equal(denied.length, 2, JSON.stringify(lines, null, 1));
      for (const l of allowed) {
        assert.equal(l.address, '127.0.0.1');
        assert.equal(l.rule, '--allow-accept=127.0.0.1');
        assert.ok(!Number.isNaN(Date.parse(l.time)), `time is a date: ${l.time}`);
        assert.equal(typeof l.guest, 'string');
      }
      assert.deepEqual(allowed.map((l) => l.port), [served1, served2, served3], 'ports are the peers\' ports');
      for (const l of denied) {
        assert.equal(l.address, '127.0.0.2');
        assert.equal(l.rule, 'default deny');
      }
      const deniedPorts = [denied1, denied2].filter((p) => p > 0);
      assert.deepEqual(denied.map((l) => l.port).filter((p) => deniedPorts.includes(p!)), deniedPorts);
    } finally {
      await proc.stop();
    }
  });

  it('--deny-net wins over a wider --allow-accept, and names itself in the audit log', { timeout: 60_000 }, async () => {
    const audit = path.join(tmp, 'deny.jsonl');
    const { proc, listeners } = await startServer(echoPoll, {
      flags: ['--allow-accept=127.0.0.0/8', '--deny-net=127.0.0.2', '--audit-log', audit],
      args: ['1'],
    });
    try {
      const port = listeners[0]!.port;
      await expectRefused(port, '127.0.0.2');
      await expectServed(port, '127.0.0.1', 4);
      const res = await proc.exit(15_000);
      assert.equal(res.code, 0, res.stderr);
      const accepts = readAudit(audit).filter((l) => l.op === 'accept');
      assert.deepEqual(accepts.map((l) => [l.address, l.decision, l.rule]), [
        ['127.0.0.2', 'deny', '--deny-net=127.0.0.2'],
        ['127.0.0.1', 'allow', '--allow-accept=127.0.0.0/8'],
      ]);
    } finally {
      await proc.stop();
    }
  });

  it('without --allow-accept, --listen accepts any peer', { timeout: 30_000 }, async () => {
    const audit = path.join(tmp, 'any.jsonl');
    const { proc, listeners } = await startServer(echoPoll, { flags: ['--audit-log', audit], args: ['2'] });
    try {
      const port = listeners[0]!.port;
      await expectServed(port, '127.0.0.1', 5);
      await expectServed(port, '127.0.0.2', 6);
      const res = await proc.exit(15_000);
      assert.equal(res.code, 0, res.stderr);
      const accepts = readAudit(audit).filter((l) => l.op === 'accept');
      assert.deepEqual(accepts.map((l) => [l.address, l.decision]), [['127.0.0.1', 'allow'], ['127.0.0.2', 'allow']]);
    } finally {
      await proc.stop();
    }
  });

  it('an IPv6 listener with --allow-accept=[::1] serves ::1', { timeout: 30_000 }, async () => {
    const audit = path.join(tmp, 'v6.jsonl');
    const { proc, listeners } = await startServer(echoPoll, {
      listen: ['[::1]:0'], flags: ['--allow-accept=[::1]', '--audit-log', audit], args: ['1'],
    });
    try {
      const sock = await connect(listeners[0]!.port, { host: '::1' });
      const r = new Reader(sock);
      await echoCheck(r, pattern(1000, 9));
      await end(sock);
      await r.readToEnd();
      const res = await proc.exit(15_000);
      assert.equal(res.code, 0, res.stderr);
      const accepts = readAudit(audit).filter((l) => l.op === 'accept');
      assert.deepEqual(accepts.map((l) => [l.address, l.decision, l.rule]), [['::1', 'allow', '--allow-accept=[::1]']]);
    } finally {
      await proc.stop();
    }
  });
});
