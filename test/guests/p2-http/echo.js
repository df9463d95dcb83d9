// Streams the request body back as the response body, chunk by chunk (never holding it whole), then
// answers with trailers: x-echo-bytes (the byte count) and the request's trailers prefixed x-echo-.
import { Fields, IncomingBody, OutgoingBody, OutgoingResponse, ResponseOutparam } from 'wasi:http/types@0.2.10';

const encoder = new TextEncoder();

function isClosed(e) {
  return e?.payload?.tag === 'closed';
}

function writeAll(out, bytes) {
  let off = 0;
  while (off < bytes.length) {
    const n = Math.min(Number(out.checkWrite()), bytes.length - off);
    if (n === 0) {
      const p = out.subscribe();
      p.block();
      p[Symbol.dispose]();
      continue;
    }
    out.write(bytes.subarray(off, off + n));
    off += n;
  }
}

export const incomingHandler = {
  handle(request, responseOut) {
    const method = request.method();
    const contentType = request.headers().get('content-type')[0] ?? encoder.encode('application/octet-stream');
    const response = new OutgoingResponse(Fields.fromList([
      ['content-type', contentType],
      ['x-request-method', encoder.encode(method.tag === 'other' ? method.val : method.tag)],
      ['x-request-scheme', encoder.encode(request.scheme()?.tag ?? 'none')],
      ['x-request-authority', encoder.encode(request.authority() ?? 'none')],
    ]));
    const outBody = response.body();
    ResponseOutparam.set(responseOut, { tag: 'ok', val: response });
    const out = outBody.write();
    const inBody = request.consume();
    const input = inBody.stream();
    let total = 0;
    for (;;) {
      let chunk;
      try {
        chunk = input.blockingRead(65536n);
      } catch (e) {
        if (isClosed(e)) break;
        throw e;
      }
      total += chunk.length;
      writeAll(out, chunk);
    }
    input[Symbol.dispose]();
    const future = IncomingBody.finish(inBody);
    const ready = future.subscribe();
    ready.block();
    ready[Symbol.dispose]();
    const got = future.get();
    const trailers = [['x-echo-bytes', encoder.encode(String(total))]];
    if (got?.tag === 'ok' && got.val.tag === 'ok' && got.val.val) {
      for (const [name, value] of got.val.val.entries()) trailers.push([`x-echo-${name}`, value]);
    }
    out.blockingFlush();
    out[Symbol.dispose]();
    OutgoingBody.finish(outBody, Fields.fromList(trailers));
  },
};
