// The wasi:http host objects and the core's HTTP client, driven directly (no guest): fields rules,
// request validation, timeouts, policy, body queues and the response writer protocol.
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import { NetworkCore } from '../../src/net/core.ts';
import { BodyReader, HttpClient, httpErrorOf, RequestBody, type OutboundResponse } from '../../src/net/http-client.ts';
import { NetError, type Network } from '../../src/net/types.ts';
import { Checker, MemoryAuditLog, policyFromObject } from '../../src/policy/index.ts';
import { Fields } from '../../src/wasi/p2/http/fields.ts';
import {
  FutureIncomingResponse, httpErrorCode, IncomingBody, OutgoingBody, OutgoingRequest, OutgoingResponse, RequestOptions, ResponseBody,
  type ResponseWriter,
} from '../../src/wasi/p2/http/types.ts';
import { httpHost } from '../../src/wasi/p2/http/host.ts';
import { P2Context } from '../../src/wasi/p2/context.ts';
import { selfSigned } from '../support/tls.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Runs `fn` and returns what it threw (jco lowers a thrown non-Error as the result's err). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  assert.fail('expected a throw');
}

describe('fields', () => {
  test('from-list checks names and values, and refuses forbidden names', () => {
    assert.deepEqual(thrown(() => Fields.fromList([['bad name', enc('x')]])), { tag: 'invalid-syntax' });
    assert.deepEqual(thrown(() => Fields.fromList([['x-ok', enc('a\r\nb')]])), { tag: 'invalid-syntax' });
    assert.deepEqual(thrown(() => Fields.fromList([['Host', enc('example.com')]])), { tag: 'forbidden' });
    assert.deepEqual(thrown(() => Fields.fromList([['transfer-encoding', enc('chunked')]])), { tag: 'forbidden' });
    const f = Fields.fromList([['X-A', enc('1')], ['x-a', enc('2')], ['x-b', enc('\tobs\x80text')]]);
    assert.deepEqual(f.get('x-A').map(dec), ['1', '2']);
    assert.deepEqual(f.entries().map(([k]) => k), ['x-a', 'x-a', 'x-b']);
  });

  test('get, has, set, delete, append, clone', () => {
    const f = new Fields();
    assert.equal(f.has('x'), false);
    assert.deepEqual(f.get('x'), []);
    f.append('x', enc('1'));
    f.append('y', enc('2'));
    f.append('x', enc('3'));
    f.set('x', [enc('4')]);
    assert.deepEqual(f.entries().map(([k, v]) => `${k}=${dec(v)}`), ['y=2', 'x=4']);
    f.delete('y');
    assert.equal(f.has('y'), false);
    const c = f.clone();
    c.append('z', enc('5'));
    assert.equal(f.has('z'), false);
    assert.deepEqual(thrown(() => f.set('connection', [enc('close')])), { tag: 'forbidden' });
    assert.deepEqual(thrown(() => f.append('x', enc('\x00'))), { tag: 'invalid-syntax' });
  });

  test('the headers of a request or response are immutable', () => {
    const req = new OutgoingRequest(Fields.fromList([['x-a', enc('1')]]));
    const h = req.headers();
    assert.deepEqual(thrown(() => h.append('x-b', enc('2'))), { tag: 'immutable' });
    assert.deepEqual(thrown(() => h.delete('x-a')), { tag: 'immutable' });
    assert.deepEqual(h.get('x-a').map(dec), ['1']);
    const copy = h.clone();
    copy.append('x-b', enc('2'));
    assert.equal(req.headers().has('x-b'), false);
    const res = new OutgoingResponse(new Fields());
    assert.deepEqual(thrown(() => res.headers().set('x', [])), { tag: 'immutable' });
  });
});

describe('outgoing-request', () => {
  test('validates method, path, scheme and authority', () => {
    const r = new OutgoingRequest(new Fields());
    assert.deepEqual(r.method(), { tag: 'get' });
    assert.equal(thrown(() => r.setMethod({ tag: 'other', val: 'NOT A TOKEN' })), undefined);
    r.setMethod({ tag: 'other', val: 'PROPFIND' });
    assert.equal(thrown(() => r.setPathWithQuery('no-slash')), undefined);
    assert.equal(thrown(() => r.setPathWithQuery('/a b')), undefined);
    r.setPathWithQuery('/a?b=c');
    assert.equal(thrown(() => r.setAuthority('user@host')), undefined);
    assert.equal(thrown(() => r.setAuthority('host/path')), undefined);
    r.setAuthority('[::1]:8080');
    r.setAuthority('example.com');
    assert.equal(thrown(() => r.setScheme({ tag: 'other', val: '1bad' })), undefined);
    r.setScheme({ tag: 'HTTP' });
    assert.equal(r.authority(), 'example.com');
    const sent = OutgoingRequest.take(r);
    assert.deepEqual({ method: sent.method, scheme: sent.scheme, path: sent.pathWithQuery }, { method: 'PROPFIND', scheme: 'http', path: '/a?b=c' });
  });

  test('a request without an authority cannot be sent; the default scheme is HTTPS', () => {
    const r = new OutgoingRequest(new Fields());
    assert.deepEqual(thrown(() => OutgoingRequest.take(r)), { tag: 'HTTP-request-URI-invalid' });
    const s = new OutgoingRequest(new Fields());
    s.setAuthority('example.com');
    assert.equal(OutgoingRequest.take(s).scheme, 'https');
  });

  test('body: once only; content-length must match what is written', () => {
    const r = new OutgoingRequest(Fields.fromList([['content-length', enc('5')]]));
    const body = r.body();
    assert.equal(thrown(() => r.body()), undefined);
    const out = body.write();
    assert.equal(thrown(() => body.write()), undefined);
    out.write(enc('abc'));
    const err = thrown(() => OutgoingBody.finish(body, undefined)) as { tag: string; val: bigint };
    assert.equal(err.tag, 'HTTP-request-body-size');
    assert.equal(err.val, 3n);

    const r2 = new OutgoingRequest(Fields.fromList([['content-length', enc('2')]]));
    const out2 = r2.body().write();
    const e2 = thrown(() => out2.write(enc('abc'))) as { tag: string; val: { message: string } };
    assert.equal(e2.tag, 'last-operation-failed');
    assert.deepEqual(httpErrorCode(e2.val as never), { tag: 'HTTP-request-body-size', val: 3n });
  });

  test('request-options: durations in ns become whole ms, at least 1', () => {
    const o = new RequestOptions();
    o.setConnectTimeout(1_500_000n);
    o.setFirstByteTimeout(0n);
    assert.equal(o.connectTimeout(), 1_500_000n);
    assert.deepEqual(RequestOptions.millis(o), { connectTimeoutMs: 2, firstByteTimeoutMs: 1, betweenBytesTimeoutMs: undefined });
    assert.deepEqual(RequestOptions.millis(undefined), {});
  });
});

describe('error codes', () => {
  test('network and undici failures map to wasi:http error codes', () => {
    assert.deepEqual(httpErrorOf(new NetError('EACCES')).code, { tag: 'destination-IP-prohibited' });
    assert.deepEqual(httpErrorOf(new NetError('ECONNREFUSED')).code, { tag: 'connection-refused' });
    assert.equal(httpErrorOf(new NetError('ENOENT')).code.tag, 'DNS-error');
    assert.deepEqual(httpErrorOf({ code: 'UND_ERR_HEADERS_TIMEOUT' }).code, { tag: 'connection-read-timeout' });
    assert.deepEqual(httpErrorOf({ code: 'UND_ERR_SOCKET' }, 'body').code, { tag: 'HTTP-response-incomplete' });
    assert.deepEqual(httpErrorOf({ code: 'HPE_INVALID_CONSTANT' }).code, { tag: 'HTTP-protocol-error' });
    assert.deepEqual(httpErrorOf({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }).code, { tag: 'TLS-certificate-error' });
    assert.equal(httpErrorOf(new Error('odd')).code.tag, 'internal-error');
  });
});

describe('bodies', () => {
  test('a body reader pauses its producer past the limit and resumes at half', () => {
    const r = new BodyReader(100);
    const log: string[] = [];
    r.onPause = () => log.push('pause');
    r.onResume = () => log.push('resume');
    r.push(new Uint8Array(60));
    r.push(new Uint8Array(60));
    assert.deepEqual(log, ['pause']);
    assert.equal(r.read(50)!.length, 50);
    assert.deepEqual(log, ['pause']);
    assert.equal(r.read(100)!.length, 10); // the rest of the first chunk: 60 still queued
    assert.deepEqual(log, ['pause']);
    assert.equal(r.read(100)!.length, 60);
    assert.deepEqual(log, ['pause', 'resume']);
    r.end([['x-t', enc('1')]]);
    assert.equal(r.read(100), null);
    assert.equal(r.done, true);
    assert.deepEqual(r.trailers?.map(([k]) => k), ['x-t']);
  });

  test('incoming-body: stream once; finish drains the rest for the trailers', () => {
    const r = new BodyReader(1 << 20);
    const body = new IncomingBody(r);
    const s = body.stream();
    assert.equal(thrown(() => body.stream()), undefined);
    r.push(enc('abc'));
    assert.equal(dec(s.read(2n)), 'ab');
    const future = IncomingBody.finish(body);
    assert.equal(future.get(), undefined);
    r.push(enc('more'));
    r.end([['x-t', enc('v')]]);
    const got = future.get() as { tag: 'ok'; val: { tag: 'ok'; val: Fields } };
    assert.deepEqual(got.val.val.get('x-t').map(dec), ['v']);
    assert.deepEqual(future.get(), { tag: 'err', val: undefined });
  });

  test('a response body written and finished at once is handed over whole; a streamed one in pieces', async () => {
    const calls: string[] = [];
    const writer: ResponseWriter = {
      buffered: 0,
      write: (c) => calls.push(`write ${dec(c)}`),
      end: (last, trailers) => calls.push(`end ${last ? dec(last) : '-'} ${trailers?.length ?? 0}`),
      abort: () => calls.push('abort'),
    };
    const whole = new ResponseBody();
    whole.attach(writer);
    whole.write(enc('a'));
    whole.write(enc('b'));
    whole.finish(undefined);
    assert.deepEqual(calls, ['end ab 0']);
    calls.length = 0;
    const streamed = new ResponseBody();
    streamed.write(enc('x'));
    streamed.attach(writer);
    await new Promise((r) => setImmediate(r));
    streamed.write(enc('y'));
    await new Promise((r) => setImmediate(r));
    streamed.finish([['x-t', enc('1')]]);
    assert.deepEqual(calls, ['write x', 'write y', 'end - 1']);
  });

  test('a request body: backpressure, trailers kept for the wire, failure reaches the writer', async () => {
    const b = new RequestBody(10);
    assert.equal(b.capacity(), 10);
    b.write(new Uint8Array(10));
    assert.equal(b.capacity(), 0);
    assert.equal(b.writable.ready, false);
    const it = b[Symbol.asyncIterator]();
    assert.equal((await it.next()).value!.length, 10);
    assert.equal(b.writable.ready, true);
    b.fail(httpErrorOf(new NetError('ECONNRESET')));
    assert.throws(() => b.capacity(), /ECONNRESET/);
  });
});

describe('the HTTP client over the network core', () => {
  let server: http.Server;
  let port: number;
  before(async () => {
    server = http.createServer((req, res) => {
      let n = 0;
      req.on('data', (d: Buffer) => { n += d.length; });
      req.on('end', () => {
        res.setHeader('trailer', 'x-n');
        res.write(`${req.method} ${req.url} ${n}`);
        res.addTrailers({ 'x-n': String(n), 'x-req-trailers': JSON.stringify(req.trailers) });
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  async function readAll(r: OutboundResponse): Promise<string> {
    let s = '';
    for (;;) {
      const c = r.body.read(1 << 20);
      if (c) { s += dec(c); continue; }
      if (r.body.done) return s;
      await r.body.readable.wait();
    }
  }

  test('judges, connects through the core and accounts; denials are audited and fail', async () => {
    const audit = new MemoryAuditLog();
    const network = new NetworkCore({ guest: 't', checker: new Checker(policyFromObject({ 'allow-net': [`127.0.0.1:${port}`] }), { guest: 't', audit }) });
    const client = new HttpClient(network);
    try {
      const body = new RequestBody();
      const p = client.request({ method: 'PUT', scheme: 'http', authority: `127.0.0.1:${port}`, pathWithQuery: '/x?y', headers: [], body });
      body.write(enc('12345'));
      body.finish([['x-req', enc('t')]]);
      const r = await p.response;
      assert.equal(r.status, 200);
      assert.equal(await readAll(r), 'PUT /x?y 5');
      assert.deepEqual(r.body.trailers?.map(([k, v]) => `${k}=${dec(v)}`), ['x-n=5', 'x-req-trailers={"x-req":"t"}']);
      assert.equal(network.accounting.connectionsOpened, 1);
      assert.ok(network.accounting.bytesOut > 5);

      const denied = client.request({ method: 'GET', scheme: 'http', authority: `127.0.0.9:${port}`, pathWithQuery: '/', headers: [], body: null });
      await assert.rejects(denied.response, (e: { code: unknown }) => {
        assert.deepEqual(e.code, { tag: 'destination-IP-prohibited' });
        return true;
      });
      assert.ok(audit.events.some((e) => e.op === 'connect' && e.address === '127.0.0.9' && e.decision === 'deny'));
      assert.equal(network.accounting.connectionsOpened, 1);
    } finally {
      await client.close();
      network.close();
    }
  });

  test('connect timeout covers the name lookup too', async () => {
    const hanging = {
      limits: { maxSockets: 8, maxBufferedBytes: 1 << 20 },
      lookup: () => new Promise<string[]>(() => {}),
    } as unknown as Network;
    const client = new HttpClient(hanging);
    const t0 = Date.now();
    const p = client.request({ method: 'GET', scheme: 'http', authority: 'slow.example', pathWithQuery: '/', headers: [], body: null, connectTimeoutMs: 200 });
    await assert.rejects(p.response, (e: { code: unknown }) => {
      assert.deepEqual(e.code, { tag: 'connection-timeout' });
      return true;
    });
    assert.ok(Date.now() - t0 < 2000);
    await client.close();
  });

  test('outgoing-handler.handle returns a future; its response streams through wasi:io', async () => {
    const network = new NetworkCore({ guest: 't', checker: new Checker(policyFromObject({ 'allow-net': ['127.0.0.1'] }), { guest: 't' }) });
    const ctx = new P2Context({ args: [], env: {}, preopens: [], network });
    const { handle } = httpHost(ctx)['wasi:http/outgoing-handler'] as { handle: (r: OutgoingRequest, o?: RequestOptions) => FutureIncomingResponse };
    try {
      const req = new OutgoingRequest(new Fields());
      req.setScheme({ tag: 'HTTP' });
      req.setAuthority(`127.0.0.1:${port}`);
      req.setPathWithQuery('/future');
      const future = handle(req, undefined);
      assert.equal(future.get(), undefined);
      await future.subscribe().block();
      const got = future.get() as { tag: 'ok'; val: { tag: 'ok'; val: import('../../src/wasi/p2/http/types.ts').IncomingResponse } };
      const res = got.val.val;
      assert.equal(res.status(), 200);
      const body = res.consume();
      const stream = body.stream();
      let text = '';
      for (;;) {
        let chunk: Uint8Array;
        try {
          chunk = await stream.blockingRead(1000n);
        } catch (e) {
          assert.deepEqual(e, { tag: 'closed' });
          break;
        }
        text += dec(chunk);
      }
      assert.equal(text, 'GET /future 0');
      assert.deepEqual(future.get(), { tag: 'err', val: undefined });
    } finally {
      await ctx.close();
      network.close();
    }
  });
});

describe('HTTPS through the network core', () => {
  const tls = selfSigned();
  let h2: http2.Http2SecureServer, h1: https.Server;
  let h2Port = 0, h1Port = 0;
  const versions: string[] = [];
  before(async () => {
    if (!tls) return;
    const handler = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void => {
      versions.push(req.httpVersion);
      let n = 0;
      req.on('data', (d: Buffer) => { n += d.length; });
      req.on('end', () => res.end(`${req.httpVersion} ${req.method} ${n}`));
    };
    h2 = http2.createSecureServer({ ...tls, allowHTTP1: true }, handler);
    h1 = https.createServer(tls, handler);
    await new Promise<void>((r) => h2.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => h1.listen(0, '127.0.0.1', r));
    h2Port = (h2.address() as { port: number }).port;
    h1Port = (h1.address() as { port: number }).port;
  });
  after(() => {
    h2?.close();
    h1?.closeAllConnections();
    h1?.close();
  });

  async function text(r: OutboundResponse): Promise<string> {
    let s = '';
    for (;;) {
      const c = r.body.read(1 << 20);
      if (c) { s += dec(c); continue; }
      if (r.body.done) return s;
      await r.body.readable.wait();
    }
  }

  test('TLS on top of the core connection: HTTP/2 where offered, HTTP/1.1 otherwise, certificates checked', { skip: !tls && 'openssl not available' }, async () => {
    const audit = new MemoryAuditLog();
    const network = new NetworkCore({ guest: 't', checker: new Checker(policyFromObject({ 'allow-net': ['localhost'] }), { guest: 't', audit }) });
    const client = new HttpClient(network, { tls: { ca: tls!.cert } });
    try {
      const body = new RequestBody();
      const p = client.request({ method: 'POST', scheme: 'https', authority: `localhost:${h2Port}`, pathWithQuery: '/', headers: [], body });
      body.write(new Uint8Array(100_000));
      body.finish(undefined);
      assert.equal(await text(await p.response), '2.0 POST 100000');
      const r1 = await client.request({ method: 'GET', scheme: 'https', authority: `localhost:${h1Port}`, pathWithQuery: '/', headers: [], body: null }).response;
      assert.equal(await text(r1), '1.1 GET 0');
      assert.ok(audit.events.some((e) => e.op === 'connect' && e.name === 'localhost' && e.port === h2Port && e.decision === 'allow'));
      assert.equal(network.accounting.connectionsOpened, 2);
    } finally {
      await client.close();
      network.close();
    }
    const untrusting = new NetworkCore({ guest: 't', checker: new Checker(policyFromObject({ 'allow-net': ['localhost'] }), { guest: 't' }) });
    const strict = new HttpClient(untrusting);
    try {
      await assert.rejects(strict.request({ method: 'GET', scheme: 'https', authority: `localhost:${h1Port}`, pathWithQuery: '/', headers: [], body: null }).response,
        (e: { code: unknown }) => {
          assert.deepEqual(e.code, { tag: 'TLS-certificate-error' });
          return true;
        });
    } finally {
      await strict.close();
      untrusting.close();
    }
  });
});
