// wasi:http/types and wasi:http/outgoing-handler for one component instance. The resource classes are
// shared by every instance (they hold no per-instance state); outgoing requests go out through the
// instance's network (its policy, limits and accounting) via the core's HTTP client.
import { httpClientFor, httpErrorOf } from '../../../net/http-client.ts';
import type { HostModule } from '../context.ts';
import {
  Fields, FutureIncomingResponse, FutureTrailers, httpErrorCode, IncomingBody, IncomingRequest, IncomingResponse,
  OutgoingBody, OutgoingRequest, OutgoingResponse, RequestOptions, ResponseOutparam,
} from './types.ts';

export const httpHost: HostModule = (ctx) => {
  const handle = (request: OutgoingRequest, options: RequestOptions | undefined): FutureIncomingResponse => {
    // throws an error-code (the result's err) for a request that cannot be sent at all
    const req = OutgoingRequest.take(request);
    try {
      const client = httpClientFor(ctx.net);
      return new FutureIncomingResponse(client.request({ ...req, ...RequestOptions.millis(options) }));
    } catch (e) {
      throw httpErrorOf(e).code;
    }
  };
  return {
    'wasi:http/types': {
      Fields, FutureIncomingResponse, FutureTrailers, IncomingBody, IncomingRequest, IncomingResponse,
      OutgoingBody, OutgoingRequest, OutgoingResponse, RequestOptions, ResponseOutparam,
      httpErrorCode,
    },
    'wasi:http/outgoing-handler': { handle },
  };
};
