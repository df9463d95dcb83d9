// `wasinet serve --tls-cert --tls-key`: HTTPS with HTTP/2 and HTTP/1.1 (ALPN) in front of real
// componentize-js handlers; what the guest sees (scheme, authority), streamed bodies and trailers
// over HTTP/2, graceful stop with sessions open, and the flag and certificate errors.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildHttpGuest } from '../guests/p2-http/build.ts';
import { startCli, type CliProcess } from '../support/cli.ts';
import { selfSigned } from '../support/tls.ts';

const SERVING = /^Serving HTTPS on https:\/\/127\.0\.0\.1:(\d+)\/$/;
const tls = selfSigned();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wasinet-serve-tls-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface H2Reply { status: number; headers: http2.IncomingHttpHeaders; body: Buffer; trailers: http2.IncomingHttpHeaders }

/** One HTTP/2 request on `session`; `body` is written in pieces, then `trailers` (if any). */
function h2Request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer[], trailers?: Record<string, string>): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: !body, waitForTrailers: !!trailers });
    let head: http2.IncomingHttpHeaders = {};
    let tail: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => { head = h; });
    stream.on('trailers', (t) => { tail = t; });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve({ status: Number(head[':status']), headers: head, body: Buffer.concat(chunks), trailers: tail }));
    stream.on('error', reject);
    stream.setTimeout(30_000, () => stream.close(http2.constants.NGHTTP2_CANCEL));
    if (trailers) stream.on('wantTrailers', () => stream.sendTrailers(trailers));
    if (body) {
      for (const b of body) stream.write(b);
      stream.end();
    }
  });
}

/** Request options for a client that offers only HTTP/1.1 by ALPN (as older clients do). */
const h1Options = (o: https.RequestOptions): https.RequestOptions => ({ ...o, ALPNProtocols: ['http/1.1'] } as https.RequestOptions);

describe('wasinet serve over TLS', { skip: !tls && 'openssl not available', timeout: 300_000 }, () => {
  let hello: string, echo: string;
  let certFile: string, keyFile: string;
  before(async () => {
    hello = await buildHttpGuest('hello');
    echo = await buildHttpGuest('echo');
    certFile = path.join(tmp, 'cert.pem');
    keyFile = path.join(tmp, 'key.pem');
    fs.writeFileSync(certFile, tls!.cert);
    fs.writeFileSync(keyFile, tls!.key);
  }, { timeout: 300_000 });

  async function startTls(wasm: string): Promise<{ proc: CliProcess; port: number }> {
    const proc = startCli(['serve', '--addr', '127.0.0.1:0', '--tls-cert', certFile, '--tls-key', keyFile, wasm], { timeoutMs: 60_000 });
    const m = await proc.waitForStderr(SERVING);
    return { proc, port: Number(m[1]) };
  }

  test('HTTP/2: answers, and streams a body both ways with trailers; the guest sees HTTPS and the authority', async () => {
    const { proc, port } = await startTls(echo);
    const session = http2.connect(`https://127.0.0.1:${port}`, { ca: tls!.cert });
    try {
      const body = Array.from({ length: 40 }, (_, i) => Buffer.alloc(65536, i));
      const r = await h2Request(session, { ':method': 'POST', ':path': '/up', 'content-type': 'application/x-test' }, body, { 'x-check': 'ok' });
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-request-method'], 'post');
      assert.equal(r.headers['x-request-scheme'], 'HTTPS');
      assert.equal(r.headers['x-request-authority'], `127.0.0.1:${port}`);
      assert.equal(r.body.length, 40 * 65536);
      assert.ok(r.body.equals(Buffer.concat(body)), 'echoed byte for byte');
      assert.equal(r.trailers['x-echo-bytes'], String(40 * 65536));
      assert.equal(r.trailers['x-echo-x-check'], 'ok');
      // many streams on the one session at once
      const many = await Promise.all(Array.from({ length: 50 }, (_, i) => h2Request(session, { ':method': 'POST', ':path': `/${i}` }, [Buffer.from(`n${i}`)])));
      many.forEach((x, i) => assert.equal(x.body.toString(), `n${i}`));
    } finally {
      session.close();
      await proc.stop();
    }
  });

  test('HTTP/1.1 over TLS for clients that do not offer h2; a trap over HTTP/2 fails only its stream', async () => {
    const { proc, port } = await startTls(hello);
    try {
      const reply = await new Promise<{ status: number; body: string; alpn: string | false | null }>((resolve, reject) => {
        const req = https.get(h1Options({ host: '127.0.0.1', port, path: '/one', ca: tls!.cert }), (res) => {
          const alpn = (res.socket as import('node:tls').TLSSocket).alpnProtocol;
          let b = '';
          res.setEncoding('utf8').on('data', (d: string) => { b += d; });
          res.on('end', () => resolve({ status: res.statusCode!, body: b, alpn }));
        });
        req.on('error', reject);
      });
      assert.deepEqual(reply, { status: 200, body: 'hello from /one\n', alpn: 'http/1.1' });
      const h2 = http2.connect(`https://127.0.0.1:${port}`, { ca: tls!.cert });
      const r = await h2Request(h2, { ':path': '/two' });
      assert.equal(r.body.toString(), 'hello from /two\n');
      // a trapping handler fails its own stream only: the session and the server go on
      const trap = await h2Request(h2, { ':path': '/trap' });
      assert.equal(trap.status, 500);
      assert.equal((await h2Request(h2, { ':path': '/three' })).body.toString(), 'hello from /three\n');
      h2.close();
    } finally {
      await proc.stop();
    }
  });

  test('SIGTERM with an HTTP/2 session and an HTTP/1.1 keep-alive connection open: exits 0 at once', async () => {
    const { proc, port } = await startTls(hello);
    const session = http2.connect(`https://127.0.0.1:${port}`, { ca: tls!.cert });
    const agent = new https.Agent({ keepAlive: true, ca: tls!.cert });
    try {
      assert.equal((await h2Request(session, { ':path': '/a' })).status, 200);
      await new Promise<void>((resolve, reject) => {
        https.get(h1Options({ host: '127.0.0.1', port, path: '/b', agent }), (res) => { res.resume(); res.on('end', resolve); }).on('error', reject);
      });
      const t0 = Date.now();
      proc.child.kill('SIGTERM');
      const res = await proc.exit(15_000);
      assert.equal(res.code, 0, res.stderr);
      assert.ok(Date.now() - t0 < 4_000, `stopped in ${Date.now() - t0} ms: idle connections must not hold it up`);
    } finally {
      session.destroy();
      agent.destroy();
    }
  });

  test('SIGTERM lets requests in flight on both protocols finish, whole, then exits 0', async () => {
    const { proc, port } = await startTls(echo);
    const session = http2.connect(`https://127.0.0.1:${port}`, { ca: tls!.cert });
    try {
      const body = Buffer.alloc(2 << 20, 0x62);
      // HTTP/2: half the body before the signal, the rest after
      const stream = session.request({ ':method': 'POST', ':path': '/h2' });
      const h2Body: Buffer[] = [];
      stream.on('data', (c: Buffer) => h2Body.push(c));
      const h2Done = new Promise<void>((resolve, reject) => { stream.on('end', resolve); stream.on('error', reject); });
      stream.write(body.subarray(0, 1 << 20));
      // HTTP/1.1 over TLS, likewise
      const h1Body: Buffer[] = [];
      let h1End!: () => void;
      const h1Done = new Promise<number>((resolve, reject) => {
        const req = https.request(h1Options({ host: '127.0.0.1', port, method: 'POST', path: '/h1', ca: tls!.cert, agent: false }), (res) => {
          res.on('data', (c: Buffer) => h1Body.push(c));
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('error', reject);
        req.write(body.subarray(0, 1 << 20));
        h1End = () => req.end(body.subarray(1 << 20));
      });
      await new Promise((r) => setTimeout(r, 300));
      proc.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      stream.end(body.subarray(1 << 20));
      h1End();
      await h2Done;
      assert.equal(await h1Done, 200);
      assert.equal(Buffer.concat(h2Body).length, body.length, 'the HTTP/2 response came out whole');
      assert.equal(Buffer.concat(h1Body).length, body.length, 'the HTTP/1.1 response came out whole');
      const res = await proc.exit(20_000);
      assert.equal(res.code, 0, res.stderr);
    } finally {
      session.destroy();
    }
  });

  test('flag and certificate errors', async () => {
    const noKey = await startCli(['serve', '--tls-cert', certFile, hello]).exit(20_000);
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /--tls-cert needs --tls-key/);
    const missing = await startCli(['serve', '--tls-cert', path.join(tmp, 'nope.pem'), '--tls-key', keyFile, hello]).exit(20_000);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read --tls-cert file ".*nope\.pem": ENOENT/);
    const garbage = path.join(tmp, 'garbage.pem');
    fs.writeFileSync(garbage, 'not a certificate\n');
    const bad = await startCli(['serve', '--tls-cert', garbage, '--tls-key', keyFile, hello]).exit(20_000);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /unusable TLS certificate or key/);
  });
});
