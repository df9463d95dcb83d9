// Node's requests and responses (node:http, or node:http2's compatibility API, which has the same
// shape) as wasi:http sees them: the request body as a BodyReader (paused past its limit), the
// response as a ResponseWriter (head sent lazily, so that a body written and finished at once goes
// out in one write with a content-length).
import { BodyReader, HttpError, type Field } from '../net/http-client.ts';
import { fieldsFromRaw, FORBIDDEN_FIELDS } from '../wasi/p2/http/fields.ts';
import { IncomingRequest, type RequestSource, type ResponseBody, type ResponseWriter } from '../wasi/p2/http/types.ts';
import type { FrontRequest, FrontResponse } from './front.ts';

/** The request as the guest's `incoming-request`; headers and body are read only if it asks. The
 *  authority is the Host header, or HTTP/2's `:authority`. */
export function incomingRequest(req: FrontRequest, scheme: 'HTTP' | 'HTTPS', maxBufferedBytes: number): IncomingRequest {
  const authority = req.headers.host ?? req.headers[':authority'];
  return new IncomingRequest(req.method ?? 'GET', req.url, SCHEMES[scheme], typeof authority === 'string' ? authority : undefined, new NodeRequestSource(req, maxBufferedBytes));
}

const SCHEMES = { HTTP: Object.freeze({ tag: 'HTTP' as const }), HTTPS: Object.freeze({ tag: 'HTTPS' as const }) };

class NodeRequestSource implements RequestSource {
  readonly #req: FrontRequest;
  readonly #max: number;

  constructor(req: FrontRequest, max: number) {
    this.#req = req;
    this.#max = max;
  }

  headers(): Field[] {
    return fieldsFromRaw(this.#req.rawHeaders, true);
  }

  body(): BodyReader {
    const req = this.#req;
    const reader = new BodyReader(this.#max);
    reader.onPause = () => req.pause();
    reader.onResume = () => req.resume();
    // the guest gave up on the body: let Node read and drop the rest
    reader.onAbort = () => req.resume();
    req.on('data', (chunk: Buffer) => reader.push(chunk));
    req.on('end', () => reader.end(req.rawTrailers.length > 0 ? fieldsFromRaw(req.rawTrailers, false) : undefined));
    req.on('close', () => {
      if (!req.complete) reader.fail(new HttpError({ tag: 'HTTP-request-body-size', val: undefined }, 'the client closed the connection before the end of the request body'));
    });
    req.on('error', (err) => reader.fail(new HttpError({ tag: 'connection-terminated' }, err.message)));
    return reader;
  }
}

const NO_BODY_STATUS = (s: number): boolean => s < 200 || s === 204 || s === 304;

/** Sends a guest's response on `res`. */
export class NodeResponseWriter implements ResponseWriter {
  readonly #res: FrontResponse;
  readonly #status: number;
  readonly #headers: readonly Field[];
  readonly #isHead: boolean;
  readonly #body: ResponseBody;
  #headSent = false;
  #ended = false;
  #draining = false;

  constructor(res: FrontResponse, isHead: boolean, status: number, headers: readonly Field[], body: ResponseBody) {
    this.#res = res;
    this.#status = status;
    this.#headers = headers;
    this.#isHead = isHead;
    this.#body = body;
  }

  /** The server saw the response's connection close (`res` 'close'). */
  closed(): void {
    if (!this.#ended || !this.#res.writableFinished) {
      this.#body.failed(new HttpError({ tag: 'connection-terminated' }, 'the client closed the connection'));
    }
  }

  #onDrain: (() => void) | null = null;

  get buffered(): number {
    return this.#res.writableLength;
  }

  #head(extra?: readonly [string, string]): void {
    if (this.#headSent) return;
    this.#headSent = true;
    const flat: string[] = [];
    for (const [name, value] of this.#headers) {
      if (FORBIDDEN_FIELDS.has(name)) continue;
      flat.push(name, Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1'));
    }
    if (extra) flat.push(extra[0], extra[1]);
    this.#res.writeHead(this.#status, flat);
  }

  write(chunk: Uint8Array): void {
    if (this.#ended || this.#res.destroyed) return;
    this.#head();
    // the body asks for more once Node has sent what it buffered
    if (!this.#res.write(chunk) && !this.#draining) {
      this.#draining = true;
      this.#res.once('drain', this.#onDrain ??= () => {
        this.#draining = false;
        this.#body.drained();
      });
    }
  }

  end(last: Uint8Array | null, trailers: readonly Field[] | undefined): void {
    if (this.#ended || this.#res.destroyed) return;
    this.#ended = true;
    const res = this.#res;
    if (!this.#headSent) {
      // everything at once: a content-length instead of chunked framing, unless trailers need it
      const hasLength = this.#headers.some(([n]) => n === 'content-length');
      const bodyless = this.#isHead || NO_BODY_STATUS(this.#status);
      this.#head(!hasLength && !bodyless && !trailers ? ['content-length', String(last?.length ?? 0)] : undefined);
    }
    if (trailers && trailers.length > 0) {
      // one field per name (as HTTP/2 needs): repeated names are joined into a list, as RFC 9110 allows
      const fields: Record<string, string> = {};
      for (const [name, value] of trailers) {
        const v = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1');
        fields[name] = name in fields ? `${fields[name]}, ${v}` : v;
      }
      res.addTrailers(fields);
    }
    if (last && last.length > 0) res.end(last);
    else res.end();
  }

  abort(): void {
    this.#ended = true;
    this.#res.destroy();
  }
}
