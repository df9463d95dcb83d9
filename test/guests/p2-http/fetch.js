// fetch() (which componentize-js implements with wasi:http/outgoing-handler) from a handler:
// GET /?url=U[&method=M&body=B] answers with JSON { status, text } or { error } (status 502).
import { Fields, OutgoingBody, OutgoingResponse, ResponseOutparam } from 'wasi:http/types@0.2.10';

const encoder = new TextEncoder();

function respond(responseOut, status, value) {
  const response = new OutgoingResponse(Fields.fromList([['content-type', encoder.encode('application/json')]]));
  response.setStatusCode(status);
  const body = response.body();
  ResponseOutparam.set(responseOut, { tag: 'ok', val: response });
  const out = body.write();
  out.blockingWriteAndFlush(encoder.encode(JSON.stringify(value)));
  out[Symbol.dispose]();
  OutgoingBody.finish(body, undefined);
}

export const incomingHandler = {
  async handle(request, responseOut) {
    const q = new URLSearchParams((request.pathWithQuery() ?? '').split('?')[1] ?? '');
    try {
      const init = { method: q.get('method') ?? 'GET' };
      if (q.has('body')) init.body = q.get('body');
      const r = await fetch(q.get('url'), init);
      const text = await r.text();
      respond(responseOut, 200, { status: r.status, text });
    } catch (e) {
      respond(responseOut, 502, { error: String(e) });
    }
  },
};
