// `wasinet serve` with real wasi:http components (componentize-js and a hand-written WAT one):
// concurrency, traps, streamed bodies, trailers, instance-per-request detection, graceful stop.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { buildHttpGuest } from '../guests/p2-http/build.ts';
import { buildGuest } from '../support/guests.ts';
import { startCli, type CliProcess } from '../support/cli.ts';

const SERVING = /^Serving HTTP on http:\/\/([\d.]+|\[[^\]]+\]):(\d+)\/$/;

interface Served {
  proc: CliProcess;
  port: number;
}

async function startServe(wasm: string, flags: readonly string[] = []): Promise<Served> {
  const proc = startCli(['serve', '--addr', '127.0.0.1:0', ...flags, wasm], { timeoutMs: 60_000 });
  const m = await proc.waitForStderr(SERVING);
  return { proc, port: Number(m[2]) };
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  trailers: NodeJS.Dict<string>;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
after(() => agent.destroy());

/** One request; `body` chunks are written with backpressure, then `trailers`. */
function request(port: number, opts: {
  method?: string; path?: string; headers?: http.OutgoingHttpHeaders; body?: Iterable<Buffer>; trailers?: Record<string, string>;
} = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, agent, method: opts.method ?? 'GET', path: opts.path ?? '/', headers: opts.headers, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), trailers: res.trailers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    const it = (opts.body ?? [])[Symbol.iterator]();
    const pump = (): void => {
      for (;;) {
        const n = it.next();
        if (n.done) {
          if (opts.trailers) req.addTrailers(opts.trailers);
          req.end();
          return;
        }
        if (!req.write(n.value)) {
          req.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
}

/** `total` deterministic pseudo-random bytes in 64 KiB chunks. */
function* pattern(total: number, seed = 1): Generator<Buffer> {
  let x = seed;
  for (let off = 0; off < total; off += 65536) {
    const b = Buffer.allocUnsafe(Math.min(65536, total - off));
    for (let i = 0; i < b.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      b[i] = x >>> 24;
    }
    yield b;
  }
}

let hello: string, echo: string, fetchEvent: string, helloMin: string;
before(async () => {
  hello = await buildHttpGuest('hello');
  echo = await buildHttpGuest('echo');
  fetchEvent = await buildHttpGuest('fetch-event');
  helloMin = await buildHttpGuest('hello-min');
}, { timeout: 300_000 });

describe('wasinet serve', () => {
  test('prints where it serves first, then answers', async () => {
    const { proc, port } = await startServe(hello);
    try {
      assert.match(proc.stderr.split('\n')[0]!, SERVING);
      const r = await request(port, { path: '/abc?x=1' });
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'hello from /abc?x=1\n');
      assert.equal(r.headers['content-type'], 'text/plain');
      assert.equal(r.headers['content-length'], String(r.body.length));
    } finally {
      await proc.stop();
    }
  });

  test('answers 150 concurrent requests, each correctly', async () => {
    const { proc, port } = await startServe(hello, ['--max-concurrent', '4']);
    try {
      const replies = await Promise.all(Array.from({ length: 150 }, (_, i) => request(port, { path: `/r/${i}` })));
      replies.forEach((r, i) => {
        assert.equal(r.status, 200);
        assert.equal(r.body.toString(), `hello from /r/${i}\n`);
      });
    } finally {
      await proc.stop();
    }
  });

  test('a trapping request gets a 500, its instance is discarded, and the server keeps serving', async () => {
    const { proc, port } = await startServe(hello, ['--max-concurrent', '2', '--verbose']);
    try {
      const first = await request(port, { path: '/trap' });
      assert.equal(first.status, 500);
      const mixed = await Promise.all(Array.from({ length: 30 }, (_, i) => request(port, { path: i % 3 === 0 ? '/trap' : `/ok/${i}` })));
      mixed.forEach((r, i) => {
        if (i % 3 === 0) assert.equal(r.status, 500);
        else assert.equal(r.body.toString(), `hello from /ok/${i}\n`);
      });
      assert.equal((await request(port, { path: '/after' })).body.toString(), 'hello from /after\n');
      assert.match(proc.stderr, /the handler failed on GET \/trap/);
      // traps are not taken for a component that answers once per instance
      assert.doesNotMatch(proc.stderr, /one request per instance/);
    } finally {
      await proc.stop();
    }
  });

  test('streams a multi-megabyte body both ways, with trailers', async () => {
    const { proc, port } = await startServe(echo, ['--max-concurrent', '2']);
    try {
      const size = 12 * 1024 * 1024 + 123;
      const sent = Buffer.concat([...pattern(size, 7)]);
      const r = await request(port, {
        method: 'PUT', path: '/upload', headers: { 'content-type': 'application/x-test', trailer: 'x-checksum' },
        body: pattern(size, 7), trailers: { 'x-checksum': 'abc' },
      });
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'application/x-test');
      assert.equal(r.headers['x-request-method'], 'put');
      assert.equal(r.body.length, size);
      assert.ok(r.body.equals(sent), 'echoed bytes differ');
      assert.equal(r.trailers['x-echo-bytes'], String(size));
      assert.equal(r.trailers['x-echo-x-checksum'], 'abc');
      // two at once
      const [a, b] = await Promise.all([3, 5].map((seed) => request(port, { method: 'POST', body: pattern(3_000_000, seed) })));
      assert.ok(a!.body.equals(Buffer.concat([...pattern(3_000_000, 3)])));
      assert.ok(b!.body.equals(Buffer.concat([...pattern(3_000_000, 5)])));
    } finally {
      await proc.stop();
    }
  });

  test('--request-timeout: a handler still waiting gets a 504 (or its connection cut once the response began), its instance is dropped', async () => {
    const { proc, port } = await startServe(echo, ['--request-timeout', '0.5', '--max-concurrent', '1', '--verbose']);
    /** Sends `head` on a new connection; what came back when the server closed it or answered. */
    const raw = async (head: string): Promise<{ text: string; closed: boolean; ms: number }> => {
      const sock = net.connect(port, '127.0.0.1');
      let text = '';
      let closed = false;
      sock.setEncoding('latin1').on('data', (d: string) => { text += d; });
      sock.on('close', () => { closed = true; }).on('error', () => {});
      sock.write(head);
      const t0 = Date.now();
      while (!closed && !/\r\n\r\n[^\r]*\n$/.test(text) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
      const ms = Date.now() - t0;
      sock.destroy();
      return { text, closed, ms };
    };
    try {
      // a body that never comes: the echo handler waits in its first blocking-read, nothing sent yet
      const a = await raw('POST /stuck HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n');
      assert.match(a.text, /^HTTP\/1\.1 504 /);
      assert.match(a.text, /the handler did not finish in time/);
      assert.ok(a.ms >= 400 && a.ms < 5000, `answered after ${a.ms} ms`);
      // part of the body: the echo is under way (200, chunked) when time runs out; the connection is
      // cut without the last chunk, so the client cannot take it for a whole response
      const b = await raw('POST /half HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc');
      assert.match(b.text, /^HTTP\/1\.1 200 /);
      assert.ok(b.closed, 'connection closed');
      assert.doesNotMatch(b.text, /\r\n0\r\n\r\n$/);
      // the only instance was stuck each time: a new one serves the next request, body and all
      const r = await request(port, { method: 'POST', path: '/next', body: [Buffer.from('ping')] });
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'ping');
      assert.match(proc.stderr, /the handler of POST \/stuck did not finish within 0\.5 s/);
    } finally {
      await proc.stop();
    }
  });

  test('the library API: serve() from the package entry, answering, accounting, close()', async () => {
    const { serve, Policy } = await import('../../src/index.ts');
    const server = await serve(helloMin, { address: { address: '127.0.0.1', port: 0, family: 4 }, policy: new Policy([]), maxConcurrent: 2 });
    try {
      assert.ok(server.address.port > 0);
      const replies = await Promise.all(Array.from({ length: 20 }, () => request(server.address.port)));
      for (const r of replies) assert.equal(r.body.toString(), 'hello world\n');
      assert.equal(server.inFlight, 0);
    } finally {
      await server.close();
    }
    await assert.rejects(fetch(`http://127.0.0.1:${server.address.port}/`), 'closed means closed');
  });

  test('components that answer one request per instance (fetch-event style) are detected', async () => {
    const { proc, port } = await startServe(fetchEvent, ['--max-concurrent', '3']);
    try {
      for (let i = 0; i < 4; i++) {
        const r = await request(port, { path: `/seq${i}` });
        assert.equal(r.status, 200, `request ${i}: ${r.body}`);
        assert.equal(r.body.toString(), `hello from /seq${i}\n`);
      }
      const many = await Promise.all(Array.from({ length: 12 }, (_, i) => request(port, { path: `/c${i}` })));
      many.forEach((r, i) => assert.equal(r.body.toString(), `hello from /c${i}\n`));
      assert.match(proc.stderr, /serving one request per instance from now on/);
    } finally {
      await proc.stop();
    }
  });

  test('--instance-per-request', async () => {
    const { proc, port } = await startServe(hello, ['--instance-per-request', '--max-concurrent', '2']);
    try {
      const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => request(port, { path: `/p${i}` })));
      replies.forEach((r, i) => assert.equal(r.body.toString(), `hello from /p${i}\n`));
    } finally {
      await proc.stop();
    }
  });

  test('a hand-written WAT component', async () => {
    const { proc, port } = await startServe(helloMin);
    try {
      const replies = await Promise.all(Array.from({ length: 20 }, () => request(port, { path: '/x' })));
      for (const r of replies) {
        assert.equal(r.status, 200);
        assert.equal(r.body.toString(), 'hello world\n');
      }
    } finally {
      await proc.stop();
    }
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    test(`${signal}: stops accepting, finishes the requests in flight, exits 0`, async () => {
      const { proc, port } = await startServe(echo);
      const body = Buffer.alloc(200_000, 0x61);
      const got = new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/slow', agent: false }, (res) => {
          let text = '';
          res.setEncoding('latin1');
          res.on('data', (d: string) => { text += d; });
          res.on('end', () => resolve({ status: res.statusCode!, text }));
        });
        req.on('error', reject);
        req.write(body.subarray(0, 1000));
        // the rest after the signal
        (globalThis as { finishSlow?: () => void }).finishSlow = () => req.end(body.subarray(1000));
      });
      // an idle keep-alive connection must not hold the server up
      assert.equal((await request(port, { method: 'POST', body: [Buffer.from('idle')] })).body.toString(), 'idle');
      await new Promise((r) => setTimeout(r, 300));
      proc.kill(signal);
      await new Promise((r) => setTimeout(r, 300));
      // no longer accepting
      await assert.rejects(new Promise<void>((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(); });
        s.on('error', reject);
      }));
      (globalThis as { finishSlow?: () => void }).finishSlow!();
      const r = await got;
      assert.equal(r.status, 200);
      assert.equal(r.text.length, body.length);
      const exit = await proc.exit(20_000);
      assert.equal(exit.code, 0, exit.stderr);
    });
  }

  test('usage and load errors', async () => {
    const missing = await startCli(['serve']).exit();
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /missing component/);
    const badAddr = await startCli(['serve', '--addr', 'nowhere', hello]).exit();
    assert.equal(badAddr.code, 2);
    assert.match(badAddr.stderr, /invalid address "nowhere" for --addr/);
    const core = await startCli(['serve', '--addr', '127.0.0.1:0', await buildGuest('wat/sock-errno.wat')]).exit();
    assert.equal(core.code, 1);
    assert.match(core.stderr, /WASI 0\.2 components/);
    const help = await startCli(['serve', '--help']).exit();
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--max-concurrent/);
  });
});
