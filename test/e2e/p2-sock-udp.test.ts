// wasi:sockets UDP through `wasinet run`: a C echo server component answering a native client, a C
// client checking every datagram against a native echo peer, the UDP error codes and options, the
// check-send trap; and a JS (componentize-qjs) client that resolves `localhost` with
// ip-name-lookup first, with and without the grants that allow the lookup and the datagrams.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { runToExit, startRun } from '../support/cli.ts';
import { buildSockC, buildSockJs } from '../guests/p2-sock/build.ts';

let probe: string;
let jsClient: string;
let tmp: string;

before(async () => {
  [probe, jsClient] = await Promise.all([buildSockC('udp-probe'), buildSockJs('udp-client')]);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wasinet-p2sock-udp-'));
});
after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** A native UDP echo peer on 127.0.0.1. */
async function udpEcho(): Promise<{ port: number; received: number; close(): void }> {
  const s = dgram.createSocket('udp4');
  const state = { port: 0, received: 0, close: () => s.close() };
  s.on('message', (m, r) => {
    state.received++;
    s.send(m, r.port, r.address);
  });
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  state.port = s.address().port;
  return state;
}

function lines(stdout: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of stdout.split('\n')) {
    const i = l.indexOf('=');
    if (i > 0) m.set(l.slice(0, i), l.slice(i + 1));
  }
  return m;
}

function readAudit(file: string): Record<string, unknown>[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('C UDP components', () => {
  it('an echo server bound by the guest answers 100 datagrams from a native client, byte for byte', { timeout: 60_000 }, async () => {
    const N = 100;
    const proc = startRun(['--allow-listen=127.0.0.1', '--allow-net=127.0.0.1', probe, 'echo', '127.0.0.1', '0', String(N)], { timeoutMs: 40_000 });
    try {
      const m = await proc.waitForStdout(/bound 127\.0\.0\.1:(\d+)/);
      const port = Number(m[1]);
      const c = dgram.createSocket('udp4');
      c.bind(0, '127.0.0.1');
      await once(c, 'listening');
      let bytes = 0;
      try {
        for (let i = 0; i < N; i++) {
          const data = Buffer.alloc((i * 613) % 8000 + (i === N - 1 ? 60_000 : 0));
          for (let k = 0; k < data.length; k++) data[k] = (k * 5 + i) & 255;
          const back = once(c, 'message', { signal: AbortSignal.timeout(5000) }) as Promise<[Buffer, dgram.RemoteInfo]>;
          c.send(data, port, '127.0.0.1');
          const [msg, rinfo] = await back;
          assert.ok(msg.equals(data), `datagram ${i} echoed unchanged`);
          assert.equal(rinfo.port, port);
          bytes += data.length;
        }
      } finally {
        c.close();
      }
      const res = await proc.exit(15_000);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, new RegExp(`^echoed ${N} datagrams, ${bytes} bytes$`, 'm'));
    } finally {
      await proc.stop();
    }
  });

  it('a client from an ephemeral port (no bind grant needed): 200 datagrams up to 65000 bytes, each echo checked; the audit sums them up', { timeout: 60_000 }, async () => {
    const echo = await udpEcho();
    const audit = path.join(tmp, 'client.jsonl');
    try {
      const res = await runToExit([`--allow-net=127.0.0.1:${echo.port}`, '--verbose', '--audit-log', audit, probe, 'client', '127.0.0.1', String(echo.port), '200'], { timeoutMs: 40_000 });
      assert.equal(res.code, 0, res.stdout + res.stderr);
      const m = res.stdout.match(/^ok 200 datagrams, (\d+) bytes$/m);
      assert.ok(m, res.stdout);
      assert.equal(echo.received, 200);
      const acct = JSON.parse(res.stderr.match(/wasinet: (\{.*"datagramsOut".*\})/)![1]!) as Record<string, number>;
      assert.equal(acct.datagramsOut, 200);
      assert.equal(acct.datagramsIn, 200);
      assert.equal(acct.bytesOut, Number(m[1]));
      // every datagram was judged, but the log has a line a second per kind, each with its count
      const log = readAudit(audit);
      for (const op of ['send', 'receive']) {
        const mine = log.filter((l) => l.op === op && l.transport === 'udp' && l.port === echo.port);
        assert.ok(mine.length >= 1 && mine.length < 20, `${mine.length} ${op} lines for 200 datagrams`);
        assert.ok(mine.every((l) => l.decision === 'allow' && l.rule === `--allow-net=127.0.0.1:${echo.port}`));
        assert.equal(mine.reduce((n, l) => n + (l.count as number), 0), 200, `the ${op} counts add up to every datagram`);
      }
    } finally {
      echo.close();
    }
  });

  it('error codes: invalid-state, invalid-argument, datagram-too-large, access-denied (audited), concurrency-conflict; options', { timeout: 40_000 }, async () => {
    const echo = await udpEcho();
    const audit = path.join(tmp, 'udp.jsonl');
    try {
      const res = await runToExit([
        `--allow-net=127.0.0.1:${echo.port}`, '--allow-listen=127.0.0.1', '--audit-log', audit, probe, 'errors', '127.0.0.1', String(echo.port),
      ], { timeoutMs: 30_000 });
      assert.equal(res.code, 0, res.stdout + res.stderr);
      const got = lines(res.stdout);
      const expected: Record<string, string> = {
        'stream-unbound': 'invalid-state',
        'local-address-unbound': 'invalid-state',
        'finish-bind-before-start': 'not-in-progress',
        'start-bind-ipv6-address': 'invalid-argument',
        'start-bind': 'ok',
        'start-bind-in-progress': 'concurrency-conflict',
        'finish-bind-at-once': 'would-block',
        'finish-bind': 'ok',
        'start-bind-bound': 'invalid-state',
        'local-address': 'ok',
        'bound-port-nonzero': 'yes',
        'remote-address-not-connected': 'invalid-state',
        'stream': 'ok',
        'check-send': 'ok',
        'permit-positive': 'yes',
        'send-no-remote-unconnected': 'invalid-argument',
        'send-to-unspecified': 'invalid-argument',
        'send-to-port-0': 'invalid-argument',
        'send-to-ipv6-on-ipv4': 'invalid-argument',
        'send-too-large': 'datagram-too-large',
        'send-denied': 'access-denied',
        'send-batch': 'ok',
        'send-batch-count': '1',
        'echo-of-batch': '4 bytes from port peer',
        'stream-connected': 'ok',
        'remote-address-connected': 'ok',
        'remote-is-peer': 'yes',
        'send-other-remote-connected': 'invalid-argument',
        'send-connected-no-remote': 'ok',
        'echo-connected': '3',
        'send-connected-same-remote': 'ok',
        'echo-connected-same-remote': '2',
        'stream-unconnect': 'ok',
        'remote-address-after-unconnect': 'invalid-state',
        'unicast-hop-limit': '64',
        'set-unicast-hop-limit-0': 'invalid-argument',
        'set-unicast-hop-limit': 'ok',
        'unicast-hop-limit-after': '7',
        'set-receive-buffer-size-0': 'invalid-argument',
        'set-receive-buffer-size': 'ok',
        'receive-buffer-size-at-least-asked': 'yes',
      };
      const actual: Record<string, string | undefined> = {};
      for (const k of Object.keys(expected)) actual[k] = got.get(k);
      assert.deepEqual(actual, expected);
      const denied = readAudit(audit).filter((l) => l.decision === 'deny');
      assert.deepEqual(denied.map((l) => [l.op, l.transport, l.address, l.port]), [
        ['send', 'udp', '127.0.0.1', echo.port === 65535 ? 65534 : echo.port + 1],
        ['send', 'udp', '127.0.0.1', echo.port === 65535 ? 65534 : echo.port + 1],
      ]);
    } finally {
      echo.close();
    }
  });

  it('send without a check-send permit traps', { timeout: 30_000 }, async () => {
    const res = await runToExit([probe, 'trap'], { timeoutMs: 20_000 });
    assert.equal(res.code, 134);
    assert.match(res.stdout, /sending without check-send/);
    assert.doesNotMatch(res.stdout, /not trapped/);
    assert.match(res.stderr, /guest trapped: RuntimeError: wasi:sockets\/udp send of 1 datagrams, check-send permitted none/);
  });
});

describe('JS UDP client with ip-name-lookup (componentize-qjs)', () => {
  it('--allow-net=localhost:PORT: resolves localhost, and the datagrams to the pinned answer are allowed', { timeout: 60_000 }, async () => {
    const echo = await udpEcho();
    try {
      const res = await runToExit([
        `--allow-net=localhost:${echo.port}`, '--env', 'TARGET_NAME=localhost', '--env', `TARGET_PORT=${echo.port}`, '--env', 'COUNT=30', jsClient,
      ], { timeoutMs: 40_000 });
      assert.equal(res.code, 0, res.stdout + res.stderr);
      assert.match(res.stdout, /^address ipv4 127\.0\.0\.1$/m);
      assert.match(res.stdout, new RegExp(`^remote 127\\.0\\.0\\.1:${echo.port}$`, 'm'));
      assert.match(res.stdout, /^ok 30 datagrams, \d+ bytes$/m);
      assert.equal(echo.received, 30);
    } finally {
      echo.close();
    }
  });

  it('no grant: the lookup is access-denied', { timeout: 30_000 }, async () => {
    const res = await runToExit(['--env', 'TARGET_NAME=localhost', '--env', 'TARGET_PORT=9', jsClient], { timeoutMs: 20_000 });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^lookup: access-denied$/m);
  });

  it('--allow-lookup alone: resolved, but the first send is access-denied', { timeout: 30_000 }, async () => {
    const echo = await udpEcho();
    try {
      const res = await runToExit([
        '--allow-lookup=localhost', '--env', 'TARGET_NAME=localhost', '--env', `TARGET_PORT=${echo.port}`, jsClient,
      ], { timeoutMs: 20_000 });
      assert.equal(res.code, 1);
      assert.match(res.stdout, /^address ipv4 127\.0\.0\.1$/m);
      assert.match(res.stdout, /^failed: "access-denied"/m);
      assert.equal(echo.received, 0);
    } finally {
      echo.close();
    }
  });
});
