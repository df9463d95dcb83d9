// An HTTP proxy for tests, on the raw wasi:http API: GET /?url=U[&method=M][&size=N][&trailer=1]
// [&connect-timeout=MS][&first-byte-timeout=MS][&between-bytes-timeout=MS] sends one request to U
// (a body of N bytes, byte i = i % 251, with a request trailer if asked) and answers with JSON:
// { status, headers, bytes, sum, text, trailers, readError } or { error } (a wasi:http error-code)
// with 502. `sum` is the sum of the response body's bytes modulo 1e9+7.
import { handle } from 'wasi:http/outgoing-handler@0.2.10';
import {
  Fields, IncomingBody, OutgoingBody, OutgoingRequest, OutgoingResponse, RequestOptions, ResponseOutparam, httpErrorCode,
} from 'wasi:http/types@0.2.10';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function isClosed(e) {
  return e?.payload?.tag === 'closed';
}

function block(resource) {
  const p = resource.subscribe();
  p.block();
  p[Symbol.dispose]();
}

function respond(responseOut, status, value) {
  const response = new OutgoingResponse(Fields.fromList([['content-type', encoder.encode('application/json')]]));
  response.setStatusCode(status);
  const body = response.body();
  ResponseOutparam.set(responseOut, { tag: 'ok', val: response });
  const out = body.write();
  const bytes = encoder.encode(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)));
  for (let off = 0; off < bytes.length; off += 4096) out.blockingWriteAndFlush(bytes.subarray(off, off + 4096));
  out[Symbol.dispose]();
  OutgoingBody.finish(body, undefined);
}

/** The wasi:http error code behind a stream error, or what the stream error is. */
function streamErrorCode(e) {
  if (e?.payload?.tag === 'last-operation-failed') return httpErrorCode(e.payload.val)?.tag ?? 'last-operation-failed';
  return e?.payload?.tag ?? String(e);
}

const METHODS = ['get', 'head', 'post', 'put', 'delete', 'connect', 'options', 'trace', 'patch'];

function sendBody(body, size, trailer) {
  const out = body.write();
  let sent = 0;
  try {
    const chunk = new Uint8Array(65536);
    while (sent < size) {
      const n = Math.min(Number(out.checkWrite()), size - sent, chunk.length);
      if (n === 0) {
        block(out);
        continue;
      }
      for (let i = 0; i < n; i++) chunk[i] = (sent + i) % 251;
      out.write(chunk.subarray(0, n));
      sent += n;
    }
    out.blockingFlush();
  } catch (e) {
    out[Symbol.dispose]();
    return `body write failed after ${sent} bytes: ${streamErrorCode(e)}`;
  }
  out[Symbol.dispose]();
  try {
    OutgoingBody.finish(body, trailer ? Fields.fromList([['x-request-trailer', encoder.encode('from-guest')]]) : undefined);
  } catch (e) {
    return `finish failed: ${JSON.stringify(e?.payload ?? String(e))}`;
  }
  return undefined;
}

export const incomingHandler = {
  handle(request, responseOut) {
    const q = new URLSearchParams((request.pathWithQuery() ?? '').split('?')[1] ?? '');
    const target = new URL(q.get('url'));
    const req = new OutgoingRequest(Fields.fromList([['x-from-guest', encoder.encode('1')]]));
    const method = (q.get('method') ?? 'GET').toLowerCase();
    req.setMethod(METHODS.includes(method) ? { tag: method } : { tag: 'other', val: q.get('method') });
    req.setScheme({ tag: target.protocol === 'https:' ? 'HTTPS' : 'HTTP' });
    req.setAuthority(target.host);
    req.setPathWithQuery(target.pathname + target.search);
    const size = Number(q.get('size') ?? '0');
    const trailer = q.get('trailer') === '1';
    const body = size > 0 || trailer ? req.body() : undefined;
    const options = new RequestOptions();
    const ms = (name) => (q.has(name) ? BigInt(q.get(name)) * 1000000n : undefined);
    options.setConnectTimeout(ms('connect-timeout'));
    options.setFirstByteTimeout(ms('first-byte-timeout'));
    options.setBetweenBytesTimeout(ms('between-bytes-timeout'));

    let future;
    try {
      future = handle(req, options);
    } catch (e) {
      respond(responseOut, 502, { error: e?.payload ?? String(e), stage: 'handle' });
      return;
    }
    const bodyError = body ? sendBody(body, size, trailer) : undefined;
    block(future);
    const result = future.get();
    if (result.tag !== 'ok' || result.val.tag !== 'ok') {
      respond(responseOut, 502, { error: result.val?.val ?? 'future failed', bodyError });
      return;
    }
    const response = result.val.val;
    const headers = {};
    for (const [name, value] of response.headers().entries()) headers[name] = decoder.decode(value);
    const inBody = response.consume();
    const input = inBody.stream();
    let bytes = 0;
    let sum = 0;
    let text = '';
    let readError;
    for (;;) {
      let chunk;
      try {
        chunk = input.blockingRead(65536n);
      } catch (e) {
        if (!isClosed(e)) readError = streamErrorCode(e);
        break;
      }
      bytes += chunk.length;
      for (let i = 0; i < chunk.length; i++) sum = (sum + chunk[i]) % 1000000007;
      if (text.length < 1024) text += decoder.decode(chunk.subarray(0, 1024));
    }
    input[Symbol.dispose]();
    const futureTrailers = IncomingBody.finish(inBody);
    block(futureTrailers);
    const got = futureTrailers.get();
    const trailers = {};
    let trailerError;
    if (got?.tag === 'ok' && got.val.tag === 'ok' && got.val.val) {
      for (const [name, value] of got.val.val.entries()) trailers[name] = decoder.decode(value);
    } else if (got?.tag === 'ok' && got.val.tag === 'err') {
      trailerError = got.val.val;
    }
    respond(responseOut, 200, { status: response.status(), headers, bytes, sum, text: text.slice(0, 1024), trailers, trailerError, readError, bodyError });
  },
};
