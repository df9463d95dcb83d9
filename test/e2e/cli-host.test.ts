// The CLI's contract with its host: systemd socket activation (--inherit-listen-fds), a JSON policy
// file, and the refusal of a Node.js too old for JSPI.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildGuest } from '../support/guests.ts';
import { CLI_PATH, runToExit, startRun, startServer } from '../support/cli.ts';
import { connect, echoCheck, end, pattern, Reader } from '../support/net.ts';

let echoBlocking: string;
before(async () => {
  echoBlocking = await buildGuest('c/echo-blocking.c');
});

// Plays systemd: binds a listening socket, puts it at fd 3, sets LISTEN_FDS/LISTEN_PID for its own
// pid, and execs the command (which keeps the pid).
const SYSTEMD = `
import os, socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
os.dup2(s.fileno(), 3); os.set_inheritable(3, True)
os.environ["LISTEN_FDS"] = "1"; os.environ["LISTEN_PID"] = str(os.getpid())
os.execvp(sys.argv[1], sys.argv[1:])
`;

describe('--inherit-listen-fds', () => {
  it('serves on the socket systemd passed in, as the guest\'s fd 3', { timeout: 30_000 }, async () => {
    const proc = startRun(['--inherit-listen-fds', echoBlocking, '1'], { wrapper: ['python3', '-c', SYSTEMD] });
    const [l] = await proc.listening(1);
    assert.equal(l!.fd, 3);
    const sock = await connect(l!.port);
    await echoCheck(new Reader(sock), pattern(100_000, 7));
    await end(sock);
    const res = await proc.exit(15_000);
    assert.equal(res.code, 0, res.stderr);
  });

  it('ignores LISTEN_FDS meant for another process', { timeout: 20_000 }, async () => {
    const res = await runToExit(['--inherit-listen-fds', echoBlocking, '1'], { env: { LISTEN_FDS: '1', LISTEN_PID: '1' } });
    assert.doesNotMatch(res.stderr, /listening on/);
    assert.notEqual(res.code, 0, 'with no listener the guest fails to accept');
  });
});

describe('--policy FILE', () => {
  it('a bad rule in the file exits 2 naming the file, key and token', { timeout: 20_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wasinet-policy-file-'));
    const file = path.join(dir, 'policy.json');
    fs.writeFileSync(file, JSON.stringify({ 'allow-accept': ['127.0.0.1', '10.0.0.0/33'] }));
    const res = await runToExit(['--policy', file, echoBlocking]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /policy\.json/);
    assert.match(res.stderr, /allow-accept\[1\]/);
    assert.match(res.stderr, /10\.0\.0\.0\/33/);
  });

  it('deny-net from the file refuses a peer an --allow-accept flag would allow', { timeout: 30_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wasinet-policy-file-'));
    const file = path.join(dir, 'policy.json');
    const audit = path.join(dir, 'audit.jsonl');
    fs.writeFileSync(file, JSON.stringify({ 'deny-net': ['127.0.0.2'] }));
    const { proc, listeners } = await startServer(echoBlocking, {
      flags: ['--policy', file, '--allow-accept=127.0.0.0/8', '--audit-log', audit], args: ['1'],
    });
    const denied = await connect(listeners[0]!.port, { localAddress: '127.0.0.2' });
    const gone = await new Reader(denied).waitGone(10_000);
    assert.equal(gone.bytes, 0);
    denied.destroy();
    const ok = await connect(listeners[0]!.port, { localAddress: '127.0.0.1' });
    await echoCheck(new Reader(ok), pattern(1000, 1));
    await end(ok);
    assert.equal((await proc.exit(15_000)).code, 0);
    const lines = fs.readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => [l.address, l.decision, l.rule]), [
      ['127.0.0.2', 'deny', `${file} deny-net[0]`],
      ['127.0.0.1', 'allow', '--allow-accept=127.0.0.0/8'],
    ]);
  });
});

describe('Node.js version', () => {
  const systemNode = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => fs.existsSync(p));
  const version = systemNode ? spawnSync(systemNode, ['--version'], { encoding: 'utf8' }).stdout.trim() : '';
  const old = /^v(\d+)/.exec(version) && Number(/^v(\d+)/.exec(version)![1]) < 24;
  it('an older Node gets a one-line message naming the version it needs', { skip: old ? false : `no Node < 24 on this machine (${version || 'none'})` }, () => {
    const res = spawnSync(systemNode!, [CLI_PATH, 'run', echoBlocking], { encoding: 'utf8' });
    assert.equal(res.status, 1);
    assert.equal(res.stderr.trim().split('\n').length, 1);
    assert.match(res.stderr, /needs Node\.js >= 24/);
    assert.match(res.stderr, new RegExp(version.replace(/\./g, '\\.')));
  });
});
