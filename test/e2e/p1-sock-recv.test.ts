// recv() flags (MSG_PEEK, MSG_WAITALL), a non-blocking recv on an empty socket, and half-close
// with shutdown(SHUT_WR), driven in lock-step with test/guests/c/recv-flags.c.
import { it, before } from 'node:test';
import assert from 'node:assert/strict';
import { buildGuest } from '../support/guests.ts';
import { startServer } from '../support/cli.ts';
import { connect, end, pattern, Reader, write } from '../support/net.ts';

const EAGAIN = 6;
const EPIPE = 64;

let guest: string;
before(async () => {
  guest = await buildGuest('c/recv-flags.c');
});

it('MSG_PEEK, MSG_WAITALL, EAGAIN, shutdown(SHUT_WR) and reading after it', { timeout: 60_000 }, async () => {
  const { proc, listeners } = await startServer(guest);
  try {
    const sock = await connect(listeners[0]!.port);
    const r = new Reader(sock);
    await write(sock, 'hello');
    assert.equal(await r.readLine(), `peek=5:hello again=5:hello read=5:hello nb=${EAGAIN}`);

    // 100000 bytes in 10 slow chunks: a MSG_WAITALL recv must wait for all of them.
    const big = pattern(100_000, 42);
    for (let i = 0; i < 10; i++) {
      await write(sock, big.subarray(i * 10_000, (i + 1) * 10_000));
      await new Promise((res) => setTimeout(res, 30));
    }
    const sum = big.reduce((a, b) => (a + b) >>> 0, 0);
    assert.equal(await r.readLine(), `waitall=100000 sum=${sum}`);

    // The guest shut down its sending side: we see EOF, and can still send.
    const gone = await r.waitGone(10_000);
    assert.equal(gone.ended, true, 'EOF after the guest\'s shutdown(SHUT_WR)');
    assert.equal(gone.error, undefined);
    assert.equal(r.length, 0, 'nothing after the second line (the send after shutdown failed)');
    await write(sock, 'bye');
    await end(sock);
    const res = await proc.exit(15_000);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, new RegExp(`send-after-shutdown=-1 errno=${EPIPE} after-shutdown=bye eof`));
  } finally {
    await proc.stop();
  }
});
