// wasi:cli called the way jco calls it: environment, exit, stdio over host fds, terminals.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { P2Context, type P2Options } from '../../src/wasi/p2/context.ts';
import { cliHost, TerminalInput, TerminalOutput } from '../../src/wasi/p2/cli/host.ts';
import { FdReadSource, FdSink } from '../../src/wasi/p2/cli/stdio.ts';
import { ProcExit } from '../../src/wasi/p1/errors.ts';
import type { InputStream, OutputStream } from '../../src/wasi/p2/io/streams.ts';
import { END } from '../../src/wasi/p2/io/streams.ts';
import { Pollable, poll } from '../../src/wasi/p2/io/poll.ts';
import type { Network } from '../../src/net/types.ts';

type Fn = (...a: unknown[]) => unknown;

function host(opts: Partial<P2Options> = {}): { ctx: P2Context; h: Record<string, Record<string, Fn>> } {
  const ctx = new P2Context({ args: ['prog', 'a b'], env: { A: '1', B: 'x=y' }, preopens: [], network: {} as Network, ...opts });
  return { ctx, h: cliHost(ctx) as Record<string, Record<string, Fn>> };
}

function exitCodeOf(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ProcExit, `expected ProcExit, got ${String(e)}`);
    return e.code;
  }
  assert.fail('did not exit');
}

describe('wasi:cli environment and exit', () => {
  it('gives the guest its args and only its environment', () => {
    const { h } = host();
    assert.deepEqual(h['wasi:cli/environment']!.getArguments!(), ['prog', 'a b']);
    assert.deepEqual(h['wasi:cli/environment']!.getEnvironment!(), [['A', '1'], ['B', 'x=y']]);
    assert.equal(h['wasi:cli/environment']!.initialCwd!(), undefined);
  });

  it('exit and exit-with-code unwind with the exit status', () => {
    const { h } = host();
    const exit = h['wasi:cli/exit']!;
    assert.equal(exitCodeOf(() => exit.exit!({ tag: 'ok' })), 0);
    assert.equal(exitCodeOf(() => exit.exit!({ tag: 'err' })), 1);
    assert.equal(exitCodeOf(() => exit.exitWithCode!(42)), 42);
    assert.equal(exitCodeOf(() => exit.exitWithCode!(255)), 255);
  });

  it('has every function and resource of the 0.2.12 interfaces', () => {
    const { h } = host();
    const expected: Record<string, string[]> = {
      'wasi:cli/environment': ['getEnvironment', 'getArguments', 'initialCwd'],
      'wasi:cli/exit': ['exit', 'exitWithCode'],
      'wasi:cli/stdin': ['getStdin'],
      'wasi:cli/stdout': ['getStdout'],
      'wasi:cli/stderr': ['getStderr'],
      'wasi:cli/terminal-input': ['TerminalInput'],
      'wasi:cli/terminal-output': ['TerminalOutput'],
      'wasi:cli/terminal-stdin': ['getTerminalStdin'],
      'wasi:cli/terminal-stdout': ['getTerminalStdout'],
      'wasi:cli/terminal-stderr': ['getTerminalStderr'],
    };
    for (const [iface, names] of Object.entries(expected)) {
      for (const n of names) assert.equal(typeof h[iface]?.[n], 'function', `${iface}#${n}`);
    }
  });
});

describe('wasi:cli stdio over host fds', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wasinet-p2-cli-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('reads stdin from the given fd to its end, and writes stdout and stderr to theirs', async () => {
    fs.writeFileSync(path.join(tmp, 'in'), 'input bytes');
    const inFd = fs.openSync(path.join(tmp, 'in'), 'r');
    const outFd = fs.openSync(path.join(tmp, 'out'), 'w');
    const errFd = fs.openSync(path.join(tmp, 'err'), 'w');
    try {
      const { ctx, h } = host({ stdio: [inFd, outFd, errFd] });
      const stdin = h['wasi:cli/stdin']!.getStdin!() as InputStream;
      const got = Buffer.from(await stdin.blockingRead(5n)).toString() + Buffer.from(await stdin.blockingRead(100n)).toString();
      assert.equal(got, 'input bytes');
      await assert.rejects(async () => stdin.blockingRead(1n), (e: unknown) => (e as { tag: string }).tag === 'closed');
      const out = h['wasi:cli/stdout']!.getStdout!() as OutputStream;
      // room to write: answered at once, not with a promise (the guest does not suspend)
      assert.equal(out.blockingWriteAndFlush(Buffer.from('to stdout')), undefined);
      const err = h['wasi:cli/stderr']!.getStderr!() as OutputStream;
      assert.ok(err.checkWrite() >= 4096n);
      err.write(Buffer.from('to stderr'));
      await ctx.close();
      assert.equal(fs.readFileSync(path.join(tmp, 'out'), 'utf8'), 'to stdout');
      assert.equal(fs.readFileSync(path.join(tmp, 'err'), 'utf8'), 'to stderr');
      // files are no terminals
      assert.equal(h['wasi:cli/terminal-stdin']!.getTerminalStdin!(), undefined);
      assert.equal(h['wasi:cli/terminal-stdout']!.getTerminalStdout!(), undefined);
      assert.equal(h['wasi:cli/terminal-stderr']!.getTerminalStderr!(), undefined);
    } finally {
      for (const fd of [inFd, outFd, errFd]) fs.closeSync(fd);
    }
  });

  it('terminal resources are the classes the interface objects export', () => {
    const { h } = host();
    assert.equal(h['wasi:cli/terminal-input']!.TerminalInput, TerminalInput);
    assert.equal(h['wasi:cli/terminal-output']!.TerminalOutput, TerminalOutput);
  });

  it('a stdin pipe with nothing in it does not block the event loop, and wakes its pollable', async () => {
    const fifo = path.join(tmp, 'fifo-in');
    execFileSync('mkfifo', [fifo]);
    const rd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const wr = fs.openSync(fifo, fs.constants.O_WRONLY);
    try {
      const src = new FdReadSource(rd);
      assert.equal(src.read(10), null, 'nothing there yet');
      const p = Pollable.of(src.readable);
      assert.equal(p.ready(), false);
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 5);
      setTimeout(() => fs.writeSync(wr, 'late'), 60);
      const t0 = performance.now();
      assert.deepEqual([...(await poll([p]))], [0]);
      clearInterval(ticker);
      assert.ok(performance.now() - t0 >= 50, 'waited for the data');
      assert.ok(ticks >= 5, `the event loop kept running (${ticks} ticks)`);
      assert.equal(Buffer.from(src.read(10) as Uint8Array).toString(), 'late');
      fs.closeSync(wr);
      const p2 = Pollable.of(src.readable);
      await p2.block();
      assert.equal(src.read(10), END);
    } finally {
      fs.closeSync(rd);
      try { fs.closeSync(wr); } catch { /* closed above */ }
    }
  });

  it('a full non-blocking stdout queues, reports no capacity past its limit, and keeps the order', async () => {
    const fifo = path.join(tmp, 'fifo-out');
    execFileSync('mkfifo', [fifo]);
    const rd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const wr = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    try {
      const sink = new FdSink(wr);
      const chunk = Buffer.alloc(256 * 1024);
      const chunks = 8;
      const total = chunks * chunk.length; // far more than a pipe (64 KiB) and the queue (1 MiB) hold
      const got: Buffer[] = [];
      const readSome = (): void => {
        const b = Buffer.alloc(65536);
        for (;;) {
          try {
            const n = fs.readSync(rd, b, 0, b.length, null);
            if (n <= 0) return;
            got.push(Buffer.from(b.subarray(0, n)));
          } catch {
            return; // EAGAIN: empty for now
          }
        }
      };
      let sawFull = false;
      for (let i = 0; i < chunks; i++) {
        chunk.fill(i);
        let off = 0;
        while (off < chunk.length) {
          const room = sink.capacity();
          if (room === 0) {
            sawFull = true;
            assert.equal(sink.writable.ready, false);
            await new Promise((r) => setTimeout(r, 2));
            readSome(); // let the queue move
            continue;
          }
          const n = Math.min(room, chunk.length - off);
          sink.write(chunk.subarray(off, off + n));
          off += n;
        }
      }
      const drained = sink.drained();
      while (got.reduce((n, b) => n + b.length, 0) < total) {
        readSome();
        await new Promise((r) => setTimeout(r, 2));
      }
      await drained;
      const all = Buffer.concat(got);
      assert.equal(all.length, total);
      for (let i = 0; i < chunks; i++) {
        assert.equal(all[i * chunk.length], i, `chunk ${i} in order`);
        assert.equal(all[(i + 1) * chunk.length - 1], i, `chunk ${i} complete`);
      }
      assert.ok(sawFull, 'the sink said it was full (capacity 0) while more than its limit was queued');
    } finally {
      fs.closeSync(rd);
      fs.closeSync(wr);
    }
  });
});
