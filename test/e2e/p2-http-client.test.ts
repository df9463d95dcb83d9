// wasi:http outgoing-handler from real guests under `wasinet serve`: a componentize-js proxy on the
// raw wasi:http API (client.js) and one using fetch(), against a local node:http upstream. Covers
// streamed bodies both ways, trailers both ways, timeouts, and the policy (denials with their
// error code and audit lines, host-name grants).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildHttpGuest } from '../guests/p2-http/build.ts';
import { startCli, type CliProcess } from '../support/cli.ts';

const SERVING = /^Serving HTTP on http:\/\/[\d.]+:(\d+)\/$/;

/** Sum of bytes modulo 1e9+7, as the guest computes it. */
function sumOf(bufs: Iterable<Uint8Array>): number {
  let sum = 0;
  for (const b of bufs) for (let i = 0; i < b.length; i++) sum = (sum + b[i]!) % 1000000007;
  return sum;
}

/** The guest's request body: byte i is i % 251. */
function guestPattern(size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = i % 251;
  return b;
}

interface UpstreamRequest {
  method: string;
  url: string;
  bytes: number;
  sum: number;
  trailers: NodeJS.Dict<string>;
  headers: http.IncomingHttpHeaders;
}

let upstream: http.Server;
let upPort: number;
const seen: UpstreamRequest[] = [];
const stalled = new Set<http.ServerResponse>();

before(async () => {
  upstream = http.createServer((req, res) => {
    let bytes = 0;
    let sum = 0;
    req.on('data', (d: Buffer) => {
      bytes += d.length;
      sum = (sum + sumOf([d])) % 1000000007;
    });
    req.on('end', () => {
      const u = new URL(req.url!, 'http://upstream');
      seen.push({ method: req.method!, url: req.url!, bytes, sum, trailers: req.trailers, headers: req.headers });
      switch (u.pathname) {
        case '/hello':
          res.writeHead(200, { 'content-type': 'text/plain', 'x-up': 'yes', trailer: 'x-up-trailer' });
          res.write('hello ');
          res.addTrailers({ 'x-up-trailer': 'done' });
          res.end(`${req.method} ${req.url} from ${req.headers['x-from-guest'] ?? '?'}`);
          return;
        case '/upload':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ bytes, sum, trailers: req.trailers, method: req.method }));
          return;
        case '/download': {
          const size = Number(u.searchParams.get('size'));
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          let off = 0;
          const step = (): void => {
            while (off < size) {
              const n = Math.min(65536, size - off);
              const chunk = Buffer.allocUnsafe(n);
              for (let i = 0; i < n; i++) chunk[i] = (off + i) % 251;
              off += n;
              if (!res.write(chunk)) {
                res.once('drain', step);
                return;
              }
            }
            res.end();
          };
          step();
          return;
        }
        case '/slow-head':
          setTimeout(() => res.end('late'), Number(u.searchParams.get('ms') ?? 3000)).unref();
          return;
        case '/slow-body':
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('first part, then nothing');
          stalled.add(res);
          return;
        default:
          res.writeHead(404);
          res.end();
      }
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upPort = (upstream.address() as { port: number }).port;
});

after(() => {
  for (const r of stalled) r.destroy();
  upstream.closeAllConnections();
  upstream.close();
});

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wasinet-http-client-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Proxy {
  proc: CliProcess;
  port: number;
  audit: string;
}

async function startProxy(guest: 'client' | 'fetch', policy: readonly string[]): Promise<Proxy> {
  const audit = path.join(tmp, `audit-${Math.random().toString(36).slice(2)}.jsonl`);
  const wasm = await buildHttpGuest(guest);
  const proc = startCli(['serve', '--addr', '127.0.0.1:0', '--audit-log', audit, ...policy, wasm], { timeoutMs: 60_000 });
  const m = await proc.waitForStderr(SERVING);
  return { proc, port: Number(m[1]), audit };
}

/** Asks the proxy guest to make one request; returns its JSON report and HTTP status. */
async function via(proxy: Proxy, params: Record<string, string>): Promise<{ status: number; json: Record<string, any> }> {
  const r = await fetch(`http://127.0.0.1:${proxy.port}/?${new URLSearchParams(params)}`, { signal: AbortSignal.timeout(30_000) });
  return { status: r.status, json: (await r.json()) as Record<string, any> };
}

function auditLines(proxy: Proxy): Record<string, unknown>[] {
  return fs.readFileSync(proxy.audit, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

const up = (p: string): string => `http://127.0.0.1:${upPort}${p}`;

describe('wasi:http outgoing-handler (raw API guest)', () => {
  let proxy: Proxy;
  before(async () => {
    proxy = await startProxy('client', ['--allow-net=127.0.0.1']);
  }, { timeout: 300_000 });
  after(() => proxy?.proc.stop());

  test('GET: status, headers, body and response trailers reach the guest', async () => {
    const { status, json } = await via(proxy, { url: up('/hello?a=1') });
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(json.status, 200);
    assert.equal(json.headers['x-up'], 'yes');
    assert.equal(json.headers['content-type'], 'text/plain');
    // hop-by-hop fields are the host's business
    assert.equal(json.headers['transfer-encoding'], undefined);
    assert.equal(json.headers.connection, undefined);
    assert.equal(json.text, 'hello GET /hello?a=1 from 1');
    assert.deepEqual(json.trailers, { 'x-up-trailer': 'done' });
  });

  test('streamed POST of several MB, with a request trailer', async () => {
    const size = 6 * 1024 * 1024 + 17;
    const { status, json } = await via(proxy, { url: up('/upload'), method: 'POST', size: String(size), trailer: '1' });
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(json.bodyError, undefined);
    const got = JSON.parse(json.text) as { bytes: number; sum: number; trailers: Record<string, string>; method: string };
    assert.equal(got.method, 'POST');
    assert.equal(got.bytes, size);
    assert.equal(got.sum, sumOf([guestPattern(size)]));
    assert.deepEqual(got.trailers, { 'x-request-trailer': 'from-guest' });
  });

  test('streamed download of several MB', async () => {
    const size = 9 * 1024 * 1024 + 5;
    const { json } = await via(proxy, { url: up(`/download?size=${size}`) });
    assert.equal(json.readError, undefined);
    assert.equal(json.bytes, size);
    assert.equal(json.sum, sumOf([guestPattern(size)]));
  });

  test('a destination the policy denies: destination-IP-prohibited, an audit line, no connection', async () => {
    const before = seen.length;
    const { status, json } = await via(proxy, { url: `http://127.0.0.2:${upPort}/hello` });
    assert.equal(status, 502);
    assert.deepEqual(json.error, { tag: 'destination-IP-prohibited' });
    const line = auditLines(proxy).find((l) => l.op === 'connect' && l.address === '127.0.0.2');
    assert.ok(line, 'no audit line for the denied connect');
    assert.equal(line.decision, 'deny');
    assert.equal(line.rule, 'default deny');
    assert.equal(line.port, upPort);
    assert.equal(seen.length, before);
  });

  test('a host name without a grant is not even looked up', async () => {
    const { status, json } = await via(proxy, { url: `http://localhost:${upPort}/hello` });
    assert.equal(status, 502);
    assert.deepEqual(json.error, { tag: 'destination-IP-prohibited' });
    const line = auditLines(proxy).find((l) => l.op === 'lookup' && l.name === 'localhost');
    assert.equal(line?.decision, 'deny');
  });

  test('first-byte timeout', async () => {
    const t0 = Date.now();
    const { status, json } = await via(proxy, { url: up('/slow-head?ms=5000'), 'first-byte-timeout': '300' });
    assert.equal(status, 502);
    assert.deepEqual(json.error, { tag: 'connection-read-timeout' });
    assert.ok(Date.now() - t0 < 4000, `took ${Date.now() - t0} ms`);
  });

  test('between-bytes timeout', async () => {
    const { status, json } = await via(proxy, { url: up('/slow-body'), 'between-bytes-timeout': '300' });
    assert.equal(status, 200);
    assert.equal(json.status, 200);
    assert.equal(json.text, 'first part, then nothing');
    assert.equal(json.readError, 'connection-read-timeout');
  });

  test('connection refused', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    const { json } = await via(proxy, { url: `http://127.0.0.1:${port}/` });
    assert.deepEqual(json.error, { tag: 'connection-refused' });
  });

  test('many requests at once share the pool', async () => {
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => via(proxy, { url: up(`/hello?i=${i}`) })));
    results.forEach(({ json }, i) => assert.equal(json.text, `hello GET /hello?i=${i} from 1`));
  });
});

describe('wasi:http outgoing-handler: host-name grants', () => {
  test('a grant naming the host allows its lookup and the addresses it returned', async () => {
    const proxy = await startProxy('client', [`--allow-net=localhost:${upPort}`]);
    try {
      const { status, json } = await via(proxy, { url: `http://localhost:${upPort}/hello` });
      assert.equal(status, 200, JSON.stringify(json));
      assert.equal(json.text, 'hello GET /hello from 1');
      const lines = auditLines(proxy);
      assert.ok(lines.some((l) => l.op === 'lookup' && l.name === 'localhost' && l.decision === 'allow'));
      assert.ok(lines.some((l) => l.op === 'connect' && l.name === 'localhost' && l.decision === 'allow'));
      // the same address by IP is not covered by the name's grant on another port
      const other = await via(proxy, { url: `http://127.0.0.1:${upPort + 1 > 65535 ? 1 : upPort + 1}/` });
      assert.deepEqual(other.json.error, { tag: 'destination-IP-prohibited' });
    } finally {
      await proxy.proc.stop();
    }
  });
});

describe('fetch() in a componentize-js handler', () => {
  test('GET and POST through outgoing-handler; a denied host fails the fetch', async () => {
    const proxy = await startProxy('fetch', ['--allow-net=127.0.0.1']);
    try {
      const get = await via(proxy, { url: up('/hello') });
      assert.equal(get.status, 200, JSON.stringify(get.json));
      assert.deepEqual(get.json, { status: 200, text: 'hello GET /hello from ?' });
      const post = await via(proxy, { url: up('/upload'), method: 'POST', body: 'twelve bytes' });
      assert.equal(JSON.parse(post.json.text).bytes, 12);
      const denied = await via(proxy, { url: `http://127.0.0.3:${upPort}/hello` });
      assert.equal(denied.status, 502);
      assert.ok(auditLines(proxy).some((l) => l.op === 'connect' && l.address === '127.0.0.3' && l.decision === 'deny'));
    } finally {
      await proxy.proc.stop();
    }
  });
});
