// Exact errnos of the p1 socket calls, from hand-written WAT guests (test/guests/wat/sock-*.wat).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildGuest } from '../support/guests.ts';
import { runToExit, startRun, type ExitResult } from '../support/cli.ts';
import { connect, Reader, write } from '../support/net.ts';

// WASI p1 errnos and filetypes (typenames.witx).
const E = { SUCCESS: 0, AGAIN: 6, BADF: 8, FAULT: 21, NOTSOCK: 57 } as const;
const FILETYPE_SOCKET_STREAM = 6;
const FDFLAGS_NONBLOCK = 4;

describe('sock-errno.wat (--dir at fd 3, --listen at fd 4)', () => {
  let tmp: string;
  let result: ExitResult;
  let values: Map<string, number>;
  let clientGot: string;
  let clientEnded: boolean;

  before(async () => {
    const wasm = await buildGuest('wat/sock-errno.wat');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wasinet-errno-'));
    fs.writeFileSync(path.join(tmp, 'file.txt'), 'not a socket\n');
    const proc = startRun(['--dir', `${tmp}::/d`, '--listen', '127.0.0.1:0', wasm], { timeoutMs: 20_000 });
    try {
      const [l] = await proc.listening(1);
      assert.equal(l!.fd, 4, 'the listener follows the one preopened directory');
      // Connect only once the guest has done its non-blocking accept on the empty listener, and
      // send only once it has tried its non-blocking and faulting receives.
      await proc.waitForStdout(/^ready=0$/m, 15_000);
      const r = new Reader(await connect(l!.port));
      await proc.waitForStdout(/^waiting=0$/m, 15_000);
      await write(r.sock, 'ping');
      const gone = await r.waitGone(15_000);
      clientEnded = gone.ended;
      clientGot = (await r.readToEnd().catch(() => Buffer.alloc(0))).toString();
      result = await proc.exit(15_000);
    } finally {
      await proc.stop();
    }
    values = new Map();
    for (const line of result.stdout.split('\n')) {
      const m = line.match(/^(\w+)=(\d+)$/);
      if (m) values.set(m[1]!, Number(m[2]));
    }
  });

  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const expect = (name: string, want: number, what: string) => {
    it(`${name} = ${want} (${what})`, () => {
      assert.ok(values.has(name), `guest printed ${name} (stdout:\n${result.stdout}\nstderr:\n${result.stderr})`);
      assert.equal(values.get(name), want);
    });
  };

  it('runs to the end and exits 0', () => {
    assert.equal(result.code, 0, result.stderr);
    assert.equal(values.get('done'), 0);
  });
  expect('prestat_dir', E.SUCCESS, 'fd 3 is the preopened directory');
  expect('path_open', E.SUCCESS, 'a regular file opened in it');
  expect('accept_dir', E.NOTSOCK, 'sock_accept on a preopened directory');
  expect('accept_file', E.NOTSOCK, 'sock_accept on a regular file');
  expect('accept_badf', E.BADF, 'sock_accept on a bad fd');
  expect('shutdown_file', E.NOTSOCK, 'sock_shutdown on a regular file');
  expect('shutdown_dir', E.NOTSOCK, 'sock_shutdown on a directory');
  expect('recv_file', E.NOTSOCK, 'sock_recv on a regular file');
  expect('prestat_listener', E.BADF, 'fd_prestat_get on a listener (ends wasi-libc\'s preopen scan)');
  expect('fdstat_listener', E.SUCCESS, 'fd_fdstat_get on a listener');
  expect('listener_filetype', FILETYPE_SOCKET_STREAM, 'a listener is a socket_stream');
  expect('listener_set_nonblock', E.SUCCESS, 'fd_fdstat_set_flags(listener, nonblock)');
  expect('listener_fdflags', FDFLAGS_NONBLOCK, 'fd_fdstat_get shows it');
  expect('accept_nonblock', E.AGAIN, 'sock_accept on a non-blocking listener with nothing pending');
  expect('listener_set_blocking', E.SUCCESS, 'fd_fdstat_set_flags(listener, 0)');
  expect('accept', E.SUCCESS, 'blocking sock_accept returns when the client connects');
  expect('fdstat_conn', E.SUCCESS, 'fd_fdstat_get on an accepted connection');
  expect('conn_filetype', FILETYPE_SOCKET_STREAM, 'a connection is a socket_stream');
  expect('conn_fdflags', FDFLAGS_NONBLOCK, 'sock_accept\'s flags are the new socket\'s fdflags');
  expect('recv_nonblock', E.AGAIN, 'sock_recv on a non-blocking connection with nothing received');
  expect('conn_set_blocking', E.SUCCESS, 'fd_fdstat_set_flags(connection, 0)');
  expect('prestat_conn', E.BADF, 'fd_prestat_get on a connection');
  expect('recv_wild_iovs', E.FAULT, 'sock_recv with the iovec array out of memory (at once, not after waiting)');
  expect('recv_wild_buf', E.FAULT, 'sock_recv with an iovec buffer out of memory');
  expect('send_wild_iovs', E.FAULT, 'sock_send with the iovec array out of memory');
  expect('send_wild_buf', E.FAULT, 'sock_send with an iovec buffer out of memory');
  expect('waiting', 0, 'the faulting calls returned without waiting for data');
  expect('recv', E.SUCCESS, 'a blocking sock_recv gets the data sent after it started');
  expect('recv_len', 4, 'all of "ping"');
  expect('send', E.SUCCESS, 'sock_send');
  expect('send_len', 4, 'sock_send wrote all 4 bytes');
  expect('shutdown_conn', E.SUCCESS, 'sock_shutdown(wr) on a connection');
  expect('close_conn', E.SUCCESS, 'fd_close on a connection');
  expect('accept_closed', E.BADF, 'the closed connection fd is bad');

  it('the client got "ping" echoed, then EOF', () => {
    assert.equal(clientGot, 'ping');
    assert.equal(clientEnded, true, 'FIN from sock_shutdown(wr) / close');
  });
});

describe('sock-nodir.wat (no --dir: the listener is fd 3)', () => {
  it('fd 3 is a socket_stream without a prestat; accept on it made non-blocking = EAGAIN; fd 4 = EBADF', { timeout: 30_000 }, async () => {
    const wasm = await buildGuest('wat/sock-nodir.wat');
    const proc = startRun(['--listen', '127.0.0.1:0', wasm]);
    const [l] = await proc.listening(1);
    assert.equal(l!.fd, 3);
    const res = await proc.exit(15_000);
    const failures: Record<number, string> = {
      11: 'fd_prestat_get(3) != EBADF', 12: 'fd_fdstat_get(3) failed', 13: 'fd 3 filetype != socket_stream',
      14: 'fd_fdstat_set_flags(3, NONBLOCK) failed', 15: 'sock_accept on the non-blocking listener != EAGAIN',
      16: 'sock_accept(4) != EBADF',
    };
    assert.equal(res.code, 0, `${failures[res.code ?? -1] ?? `exit ${res.code}`}\n${res.stderr}`);
  });

  it('a guest exit code other than 0 comes out as the CLI exit status', { timeout: 30_000 }, async () => {
    // Without a listener fd 3 does not exist: fd_prestat_get(3) is still EBADF, fd_fdstat_get(3) fails: exit 12.
    const wasm = await buildGuest('wat/sock-nodir.wat');
    const res = await runToExit([wasm]);
    assert.equal(res.code, 12, res.stderr);
  });
});
