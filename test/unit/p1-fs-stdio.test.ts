// Stdio must never block Node's event loop: a guest waiting on stdin, or on a full non-blocking
// stdout, is suspended while timers (and sockets) keep running. Uses FIFOs as the host's stdio.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { E, harness, tempDir } from './p1-fs-harness.ts';

const C = fs.constants;

describe('p1 stdio', () => {
  let tmp: string;
  const fds: number[] = [];
  const open = (p: string, flags: number) => { const fd = fs.openSync(p, flags); fds.push(fd); return fd; };
  const fifo = (name: string) => {
    const p = path.join(tmp, name);
    execFileSync('mkfifo', [p]);
    return p;
  };

  before(() => { tmp = tempDir('wasinet-stdio-'); });
  after(() => {
    for (const fd of fds) try { fs.closeSync(fd); } catch { /* closed */ }
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('fd_read on stdin suspends the guest without blocking the event loop', async () => {
    const stdin = open(fifo('in'), C.O_RDWR); // O_RDWR: opening does not wait for a writer
    const h = await harness({ stdio: [stdin, 1, 2] });
    const [iovs, n, [buf]] = h.iovecs(16);
    const nread = h.alloc(4);
    let done = false;
    const call = h.call('fd_read', 0, iovs, n, nread).then((rc) => { done = true; return rc; });
    let ticks = 0;
    for (let i = 0; i < 5; i++) { await sleep(10); ticks++; }
    assert.equal(ticks, 5, 'timers ran while the guest waited');
    assert.equal(done, false, 'still waiting for input');
    fs.writeSync(stdin, 'hello\n');
    assert.equal(await call, E.SUCCESS);
    assert.equal(h.u32(nread), 6);
    assert.equal(h.str(buf!, 6), 'hello\n');
  });

  it('fd_read with a bad iovec is EFAULT at once, without reading', async () => {
    const stdin = open(fifo('in2'), C.O_RDWR);
    const h = await harness({ stdio: [stdin, 1, 2] });
    assert.equal(await h.call('fd_read', 0, 0x7ffffff0, 1, h.alloc(4)), E.FAULT);
  });

  it('fd_write to a full non-blocking stdout completes once the reader drains it', async () => {
    const p = fifo('out');
    const reader = open(p, C.O_RDONLY | C.O_NONBLOCK);
    const writer = open(p, C.O_WRONLY | C.O_NONBLOCK);
    const h = await harness({ stdio: [0, writer, 2] });
    const data = randomBytes(100_000); // more than a pipe holds (64 KiB)
    const [iovs, n] = h.ciovecs(data.subarray(0, 30_000), data.subarray(30_000));
    const nwritten = h.alloc(4);
    let done = false;
    const call = h.call('fd_write', 1, iovs, n, nwritten).then((rc) => { done = true; return rc; });
    const got: Buffer[] = [];
    let total = 0;
    const chunk = Buffer.alloc(65536);
    await sleep(20);
    assert.equal(done, false, 'the guest waits for room in the pipe');
    while (total < data.length) {
      try {
        const k = fs.readSync(reader, chunk);
        got.push(Buffer.from(chunk.subarray(0, k)));
        total += k;
      } catch (e) {
        if ((e as { code?: string }).code !== 'EAGAIN') throw e;
        await sleep(2);
      }
    }
    assert.equal(await call, E.SUCCESS);
    assert.equal(h.u32(nwritten), data.length);
    assert.ok(Buffer.concat(got).equals(data), 'every byte arrived, in order');
  });

  it('fd_write to stdout reports EPIPE when nobody reads', async () => {
    const p = fifo('gone');
    const reader = open(p, C.O_RDONLY | C.O_NONBLOCK);
    const writer = open(p, C.O_WRONLY | C.O_NONBLOCK);
    fs.closeSync(reader);
    fds.splice(fds.indexOf(reader), 1);
    const h = await harness({ stdio: [0, writer, 2] });
    assert.equal((await h.write(1, 'x'))[0], 64 /* EPIPE */);
  });
});
