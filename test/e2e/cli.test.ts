// The `wasinet run` command line: exit statuses, traps, usage errors, fd layout of --dir and
// --listen, guest environment and arguments, socket limits.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildGuest } from '../support/guests.ts';
import { runToExit, startCli, startRun, startServer } from '../support/cli.ts';
import { connect, echoCheck, end, pattern, Reader, write } from '../support/net.ts';

let probe: string;
let trap: string;
let serveFile: string;
let echoPoll: string;
let tmp: string;

before(async () => {
  [probe, trap, serveFile, echoPoll] = await Promise.all([
    buildGuest('c/probe.c'), buildGuest('c/trap.c'), buildGuest('c/serve-file.c'), buildGuest('c/echo-poll.c'),
  ]);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wasinet-cli-'));
});
after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('exit status', () => {
  it('is the guest\'s exit code', { timeout: 30_000 }, async () => {
    for (const code of [0, 1, 7, 42]) {
      const res = await runToExit([probe, 'exit', String(code)]);
      assert.equal(res.code, code, res.stderr);
    }
  });

  it('a trap prints the trap on stderr and exits 134', { timeout: 30_000 }, async () => {
    const res = await runToExit([trap]);
    assert.equal(res.code, 134, res.stderr);
    assert.match(res.stderr, /unreachable/i, 'the trap is named');
    assert.match(res.stdout, /trap: starting/, 'output before the trap is not lost');
    assert.doesNotMatch(res.stdout, /not reached/);
  });

  it('a trap with a client connected exits 134 and closes the client\'s connection', { timeout: 30_000 }, async () => {
    const { proc, listeners } = await startServer(trap, { args: ['accept'] });
    try {
      const sock = await connect(listeners[0]!.port);
      const r = new Reader(sock);
      await write(sock, 'hi\n');
      const res = await proc.exit(15_000);
      assert.equal(res.code, 134, res.stderr);
      assert.match(res.stdout, /trap: got 3 bytes/);
      const gone = await r.waitGone(10_000);
      assert.ok(gone.ended || gone.error, 'connection closed when the guest died');
      assert.equal(gone.bytes, 0);
      sock.destroy();
    } finally {
      await proc.stop();
    }
  });
});

describe('usage errors exit 2 and quote the offending token', () => {
  const cases: [string, () => string[], string][] = [
    ['an unknown flag', () => ['run', '--no-such-flag', probe], '--no-such-flag'],
    ['an unknown command', () => ['frobnicate', probe], 'frobnicate'],
    ['a port out of range in --listen', () => ['run', '--listen', '127.0.0.1:99999', probe], '127.0.0.1:99999'],
    ['a host name in --listen', () => ['run', '--listen', 'example.com:80', probe], 'example.com'],
    ['a CIDR prefix out of range', () => ['run', '--allow-net=10.0.0.0/33', probe], '10.0.0.0/33'],
    ['a port out of range in a rule', () => ['run', '--allow-accept=127.0.0.1:70000', probe], '70000'],
    ['an unterminated IPv6 bracket', () => ['run', '--allow-listen=[::1', probe], '[::1'],
    ['a bad rule in a list', () => ['run', '--deny-net=10.0.0.1,not a host!', probe], 'not a host!'],
    ['a non-number for --max-sockets', () => ['run', '--max-sockets', 'lots', probe], 'lots'],
    ['a flag that took the module as its value', () => ['run', '--max-sockets', probe], '.wasm" for --max-sockets'],
    ['serve: a flag that took the component as its value', () => ['serve', '--request-timeout', probe], '.wasm" for --request-timeout'],
    ['--env without "="', () => ['run', '--env', 'NOVALUE', probe], 'NOVALUE'],
    ['a missing policy file', () => ['run', '--policy', path.join(tmp, 'nope.json'), probe], 'nope.json'],
    ['invalid JSON in a policy file', () => ['run', '--policy', writeTmp('bad.json', '{"allow-net": ['), probe], 'bad.json'],
    ['a bad rule in a policy file', () => ['run', '--policy', writeTmp('rule.json', '{"allow-accept": ["10.0.0.0/40"]}'), probe], '10.0.0.0/40'],
    ['an unknown key in a policy file', () => ['run', '--policy', writeTmp('key.json', '{"allow-everything": true}'), probe], 'allow-everything'],
  ];
  for (const [what, args, token] of cases) {
    it(what, { timeout: 20_000 }, async () => {
      const p = startCli(args());
      const res = await p.exit(15_000);
      assert.equal(res.code, 2, `exit status for ${args().join(' ')}\n${res.stderr}`);
      assert.ok(res.stderr.includes(token), `stderr quotes ${JSON.stringify(token)}: ${res.stderr}`);
      assert.doesNotMatch(res.stderr, /^\s+at /m, 'no stack trace for a usage error');
      assert.equal(res.stdout, '', 'the guest did not run');
    });
  }

  it('a missing module', { timeout: 20_000 }, async () => {
    const res = await startCli(['run', '--listen', '127.0.0.1:0']).exit(15_000);
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /module/);
  });
});

function writeTmp(name: string, text: string): string {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, text);
  return p;
}

describe('guest environment', () => {
  it('passes --env and arguments (after the module) through', { timeout: 20_000 }, async () => {
    const env = await runToExit(['--env', 'FOO=bar baz', '--env', 'EMPTY=', probe, 'env', 'FOO', 'EMPTY', 'NOPE']);
    assert.equal(env.code, 0, env.stderr);
    assert.equal(env.stdout, 'FOO=bar baz\nEMPTY=\nNOPE unset\n');
    const args = await runToExit([probe, 'args', 'a b', '--listen', '-x', '']);
    assert.equal(args.code, 0, args.stderr);
    assert.equal(args.stdout, '[a b]\n[--listen]\n[-x]\n[]\n', 'flags after the module belong to the guest');
  });

  it('without --listen there are no LISTEN_FDS and no fd 3', { timeout: 20_000 }, async () => {
    const res = await runToExit([probe, 'listeners']);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, 'LISTEN_FDS=unset LISTEN_FDS_FIRST_FD=unset\n');
  });

  it('lays out fds: stdio, then --dir preopens, then --listen sockets, in order', { timeout: 20_000 }, async () => {
    const a = fs.mkdtempSync(path.join(tmp, 'a-'));
    const b = fs.mkdtempSync(path.join(tmp, 'b-'));
    const proc = startRun(['--listen', '127.0.0.1:0', '--dir', `${a}::/a`, '--listen', '[::1]:0', '--dir', `${b}::/b`, probe, 'listeners']);
    const ls = await proc.listening(2);
    assert.deepEqual(ls.map((l) => [l.host, l.fd]), [['127.0.0.1', 5], ['::1', 6]]);
    const res = await proc.exit(15_000);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, [
      'LISTEN_FDS=2 LISTEN_FDS_FIRST_FD=5',
      'fd 3: directory', 'fd 4: directory', 'fd 5: socket_stream', 'fd 6: socket_stream', '',
    ].join('\n'));
  });
});

describe('--dir and --listen together', () => {
  it('a guest serves a file from its preopened dir (fd 3) on its listener (fd 4)', { timeout: 30_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'www-'));
    const content = Buffer.concat([Buffer.from('hello from the preopen\n'), pattern(200_000, 3)]);
    fs.writeFileSync(path.join(dir, 'index.txt'), content);
    const { proc, listeners } = await startServer(serveFile, {
      flags: ['--dir', `${dir}::/data`], args: ['/data/index.txt', '2'],
    });
    try {
      assert.equal(listeners[0]!.fd, 4);
      for (let i = 0; i < 2; i++) {
        const r = new Reader(await connect(listeners[0]!.port));
        const got = await r.readToEnd(15_000);
        assert.ok(got.equals(content), `client ${i} got the file (${got.length} of ${content.length} bytes)`);
        r.sock.destroy();
      }
      const res = await proc.exit(15_000);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /^serve-file: preopen fd 3 = \/data; listeners 1 from fd 4$/m);
    } finally {
      await proc.stop();
    }
  });
});

describe('limits', () => {
  it('--max-buffer 4096 still echoes 2 MiB exactly (back-pressure through small buffers)', { timeout: 60_000 }, async () => {
    const { proc, listeners } = await startServer(echoPoll, { flags: ['--max-buffer', '4096'], args: ['1'] });
    try {
      const r = new Reader(await connect(listeners[0]!.port));
      await echoCheck(r, pattern(2 << 20, 11), { chunk: 100_000, timeoutMs: 40_000 });
      await end(r.sock);
      await r.readToEnd();
      const res = await proc.exit(15_000);
      assert.equal(res.code, 0, res.stderr);
    } finally {
      await proc.stop();
    }
  });

  it('--max-sockets 2 (listener + 1 connection) holds a second client until the first closes', { timeout: 30_000 }, async () => {
    const { proc, listeners } = await startServer(echoPoll, { flags: ['--max-sockets', '2'], args: ['2'] });
    try {
      const port = listeners[0]!.port;
      const a = new Reader(await connect(port));
      await echoCheck(a, Buffer.from('first'));
      const b = new Reader(await connect(port));
      await write(b.sock, 'second');
      await new Promise((res) => setTimeout(res, 400));
      assert.equal(b.length, 0, 'the second connection waits at the socket limit');
      assert.equal(b.ended || b.closed, false, 'and is not dropped');
      await end(a.sock);
      await a.readToEnd();
      assert.equal((await b.read(6)).toString(), 'second');
      await end(b.sock);
      await b.readToEnd();
      const res = await proc.exit(15_000);
      assert.equal(res.code, 0, res.stderr);
    } finally {
      await proc.stop();
    }
  });
});
