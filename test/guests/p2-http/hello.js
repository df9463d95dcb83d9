// The smallest useful handler: "hello from PATH". Serves any number of requests per instance.
// GET /trap throws, which traps the component (wasinet answers 500 and discards the instance).
import { Fields, OutgoingBody, OutgoingResponse, ResponseOutparam } from 'wasi:http/types@0.2.10';

const encoder = new TextEncoder();

export const incomingHandler = {
  handle(request, responseOut) {
    const path = request.pathWithQuery() ?? '/';
    if (path === '/trap') throw new Error('trap requested');
    const response = new OutgoingResponse(Fields.fromList([['content-type', encoder.encode('text/plain')]]));
    const body = response.body();
    ResponseOutparam.set(responseOut, { tag: 'ok', val: response });
    const stream = body.write();
    stream.blockingWriteAndFlush(encoder.encode(`hello from ${path}\n`));
    stream[Symbol.dispose]();
    OutgoingBody.finish(body, undefined);
  },
};
